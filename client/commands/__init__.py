"""The ``mutualog`` commands, a module for each group of them; the group
itself and :func:`client.cli.main` are in :mod:`client.cli`."""

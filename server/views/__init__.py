"""The application's blueprints, one per area and audience: ``tiles`` (the
C2SP read path and snapshots), ``api``, ``pool_api`` and ``bundle_api``
(JSON under ``/api/v1``), ``public`` (the pool's public pages), ``signin``
(the home page, registering, signing in and out), ``member`` (a member's
pages and forms), ``juror`` (a juror's panels, votes and receipts) and
``operator`` (the operator's pages under ``/operator``).  What the pages
show is built by :mod:`server.presenters`."""

__all__: list[str] = []

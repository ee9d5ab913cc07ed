"""The application's blueprints, one per area: ``tiles`` (the C2SP read path
and snapshots), ``api`` (JSON under ``/api/v1``), ``web`` (the members' pages
and forms) and ``operator`` (the operator's pages under ``/operator``)."""

__all__: list[str] = []

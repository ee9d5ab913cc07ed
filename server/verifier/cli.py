"""``mutualog-server verifier build DIR``: write the verifier page (a
command of the ``verifier`` group of :mod:`server.verifier_cli`).

It writes ``DIR/verifier.html``, the bytes ``/verifier`` serves
(:func:`server.verifier.build.page_bytes`), and prints their SHA-256, so
that anyone can rebuild the page from a checkout and compare the hash with
the one the log publishes.  It reads no settings and no database.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import click

from server.verifier.build import page_bytes

__all__ = ["PAGE_NAME", "build"]

PAGE_NAME = "verifier.html"


@click.command("build")
@click.argument("directory", type=click.Path(path_type=Path))
def build(directory: Path) -> None:
    """Write DIRECTORY/verifier.html and print its SHA-256."""
    if not directory.is_dir():
        raise click.UsageError(f"{directory}: not an existing directory")
    data = page_bytes()
    target = directory / PAGE_NAME
    # Written whole under another name, then renamed: never a half page.
    fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{PAGE_NAME}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    click.echo(f"{hashlib.sha256(data).hexdigest()}  {target}")

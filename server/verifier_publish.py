"""Publishing the verifier page's hash: what ``mutualog-server verifier
publish`` and the demo's set-up do.

The page is this release's build (:func:`server.verifier.build.page_bytes`,
the same bytes ``/verifier`` serves); its SHA-256 goes into the log as a
``verifier.published`` entry unless it is already the hash in force, so
publishing is idempotent and a deploy script may run it every time.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from server.pool_service import PoolService, PoolUnavailableError
from server.verifier.build import page_bytes
from verifiable.pool.verifier_page import PagePublication

__all__ = ["PageStatus", "build_name", "page_status", "publish_page"]

_NOT_TOKEN = re.compile(r"[^a-z0-9_.-]+")


def build_name() -> str:
    """The release that builds the page, as a log token: ``mutualog-0.1.0``
    (a local version's ``+`` and other characters a token refuses become
    ``-``; at most 32 characters)."""
    try:
        release = version("mutualog")
    except PackageNotFoundError:
        release = "unknown"
    return _NOT_TOKEN.sub("-", f"mutualog-{release}".lower())[:32]


def publish_page(service: PoolService, page: bytes | None = None) -> tuple[PagePublication, bool]:
    """Publish ``page`` (default: the page this release serves); returns the
    publication in force and whether this call appended it."""
    appended = service.publish_verifier(page_bytes() if page is None else page, build_name())
    latest = service.verifier_page()
    assert latest is not None  # just published, or already the one in force
    return latest, appended is not None


@dataclass(frozen=True)
class PageStatus:
    """The page this server serves beside the hash the log publishes, for
    the public log page and the operator."""

    published: PagePublication | None
    served: str
    """The SHA-256 of the page this server serves, in hex."""

    @property
    def matches(self) -> bool:
        """Whether the served page is the published one."""
        return self.published is not None and self.published.sha256.hex() == self.served


def page_status(service: PoolService) -> PageStatus | None:
    """The served page and the hash in force; ``None`` while the pool's
    state cannot be read (the page then shows no verdict on the page)."""
    try:
        published = service.verifier_page()
    except PoolUnavailableError:
        return None
    return PageStatus(published, hashlib.sha256(page_bytes()).hexdigest())

"""The pool's own course: its genesis rulebook, changes to the rules,
closing a period, and the operator's logged overrides.

The rule changes arrive as values, not text: reading what an operator
typed is the form's and the command's (:mod:`server.rule_text`).  What is
checked here is what needs the pool's state: the change applied over the
latest rulebook, its time after every change already scheduled.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, datetime

from server.pool.concerned import concerned_members, guard
from server.pool.core import PoolCore, checked, whole_seconds
from server.pool.errors import PoolInputError, PoolRefusedError
from verifiable.errors import MalformedError
from verifiable.log.bodies import OperatorOverride, PeriodClosed, PoolRules, VerifierPublished
from verifiable.log.fields import ShapeValue, format_time, read_shape
from verifiable.log.texts import OVERRIDE_REASON, OVERRIDE_TARGET, RULES_REASON
from verifiable.pool.rules import Rules

__all__ = ["Governance"]


class Governance:
    """The rulebook's, the calendar's and the operator's entries over ``core``."""

    def __init__(self, core: PoolCore) -> None:
        self._core = core

    def start(self, rules: Mapping[str, object], reason: str = "The pool's rulebook.") -> int:
        """Append the genesis ``pool.rules`` entry to an empty log."""
        core = self._core
        with core.lock:
            state = core.state()
            if state.size:
                raise PoolRefusedError(
                    "the pool has already started: its log is not empty", "pool.started"
                )
            at = core.now(state)
            shape = read_shape(dict(rules), "rules")
            return core.one(PoolRules(effective=at, rules=shape, reason=reason), at)

    def close_period(self, period: date | None = None) -> PeriodClosed:
        """Close the oldest period due; if ``period`` is given, only if that
        is the one (so a form sent twice does not close the next as well)."""
        core = self._core
        with core.lock:
            state = core.state()
            at = core.now(state)
            body = state.expected_period_close(at)
            closed = period is not None and any(c.period == period for c in state.closed_periods)
            if body is None:
                done = f"period {period} is already closed; " if closed else ""
                raise PoolRefusedError(
                    f"{done}no period is due to close yet",
                    "period.closed_none_due" if closed else "period.none_due",
                    **({"period": period} if closed else {}),
                )
            if period is not None and body.period != period:
                raise PoolRefusedError(
                    f"period {period.isoformat()} "
                    + ("is already closed" if closed else "is not the next period due")
                    + f"; the next period due is {body.period.isoformat()}",
                    "period.already_closed" if closed else "period.not_next",
                    period=period,
                    next=body.period,
                )
            core.one(body, at)
            return body

    def change_rules(
        self, rules: Mapping[str, object], effective: datetime, reason: str
    ) -> PoolRules:
        """Append a change to the rulebook, in force from ``effective``."""
        core = self._core
        with core.lock:
            state = core.state()
            at = core.now(state)
            if effective.utcoffset() is None:
                raise PoolInputError("the effective time needs a time zone", "rules.no_zone")
            effective = whole_seconds(effective)
            if effective <= at:
                raise PoolInputError(
                    f"a rule change takes effect in the future: {format_time(effective)} is "
                    f"not after {format_time(at)}",
                    "rules.not_future",
                    effective=effective,
                    now=at,
                )
            latest = state.rulebook.latest
            if latest is not None and effective <= latest.effective:
                raise PoolRefusedError(
                    f"a rule change takes effect after every change already scheduled: "
                    f"{format_time(effective)} is not after {format_time(latest.effective)}",
                    "rules.not_after_latest",
                    effective=effective,
                    latest=latest.effective,
                )
            if not rules:
                raise PoolInputError("the rule change changes no rule", "rules.no_change")
            try:
                shape = read_shape(dict(rules), "rules")
                Rules.from_json(shape, "rules", latest.rules if latest is not None else None)
            except MalformedError as e:
                raise PoolInputError(str(e), "input.malformed", detail=str(e)) from e
            body = PoolRules(effective=effective, rules=shape, reason=reason)
            checked(body, "rule change")
            guard(core, reason, RULES_REASON, ())
            core.one(body, at)
            return body

    def override(
        self,
        action: str,
        target: str,
        reason: str,
        details: Mapping[str, ShapeValue] | None = None,
    ) -> int:
        """Append a manual intervention with its reason; the same override
        (action, target and reason) is logged once."""
        core = self._core
        with core.lock:
            state = core.state()
            for earlier in state.overrides:
                if (earlier.action, earlier.target, earlier.reason) == (action, target, reason):
                    raise PoolRefusedError(
                        f"this override is already in the log (entry {earlier.seq}); give "
                        "another reason to log another",
                        "override.repeated",
                        seq=earlier.seq,
                    )
            at = core.now(state)
            rules = state.rules_at(at)
            if rules is not None and action not in rules.overrides_allowed:
                allowed = ", ".join(rules.overrides_allowed) or "none"
                raise PoolRefusedError(
                    f"the rules do not allow the override {action!r} (allowed: {allowed})",
                    "override.not_allowed",
                    action=action,
                    allowed=allowed,
                )
            body = OperatorOverride(
                action=action, target=target, reason=reason, details=dict(details or {})
            )
            checked(body, "override")
            concerned = concerned_members(core, state, target=target)
            guard(core, target, OVERRIDE_TARGET, concerned)
            guard(core, reason, OVERRIDE_REASON, concerned)
            return core.one(body, at)

    def publish_verifier(self, page: bytes, build: str) -> VerifierPublished | None:
        """Publish the SHA-256 of the verifier page ``page`` (built by the
        release ``build``), unless it is already the hash in force: then
        append nothing and return ``None``, so publishing is idempotent."""
        core = self._core
        with core.lock:
            state = core.state()
            digest = hashlib.sha256(page).digest()
            latest = state.pages.latest
            if latest is not None and latest.sha256 == digest:
                return None
            body = checked(
                VerifierPublished(sha256=digest, size=len(page), build=build), "verifier"
            )
            core.one(body, core.now(state))
            return body

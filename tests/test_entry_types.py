"""Every entry type is handled where it must be, or listed with the reason it
needs no handling there.

The entry types are the keys of :data:`verifiable.log.bodies.BODY_TYPES`.
Four places must know each of them (docs/architecture.md, "Add an entry
type"):

- the rulebook: ``PoolState``'s apply dispatch, which refuses a type it has
  no handler for;
- the log index, which remembers what the pool service and the bundle
  builder look up;
- the claim check behind ``verify-claim``;
- the honest-history simulator, the rulebook's independent oracle.

A place *handles* a type when its code names it: the type string (as the
dispatch tables key it) or its body class (as ``isinstance`` chains and the
simulator's constructors do).  The names are read from the code with
:mod:`ast`, so the check follows the code as it is restructured; an import
alone does not count.  A type a place does not name must be in
:data:`NOT_NEEDED` for that place, with the reason.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

from verifiable.log.bodies import BODY_TYPES

ROOT = Path(__file__).resolve().parent.parent

# Each place, and the modules whose code is that place's handling.
PLACES: dict[str, tuple[str, ...]] = {
    "rulebook": ("verifiable/pool/state.py",),
    "log index": ("verifiable/pool/log_index.py",),
    "claim check": ("verifiable/pool/claim_check.py",),
    "simulator": ("verifiable/testonly/simulate.py",),
}

# For each place, the types it leaves alone on purpose, and why.
NOT_NEEDED: dict[str, dict[str, str]] = {
    "rulebook": {},
    "log index": {
        "data.erased": "changes no public figure (docs/rules.md, 'Erasures'): the "
        "claims, members, pools and periods the index serves stay as they were",
        "verifier.published": "the rulebook's state keeps the publications "
        "(PoolState.pages), which is where the server and audit read the hash in force",
    },
    "claim check": {
        "pool.rules": "read once, into the Rulebook the caller passes in "
        "(check_claim_history's `book`), not walked as a step of the claim",
        "period.closed": "a claim's history ends at its payout; the period's "
        "figures are verify-deduction's (verifiable/pool/deduction.py)",
        "operator.override": "not in a claim bundle (docs/api.md, 'Verification "
        "bundles'); a withdrawal is checked by the rules in a full audit "
        "(override.target)",
        "data.erased": "changes nothing a claim's history is checked against: "
        "the entries and commitments stay in the log",
        "verifier.published": "no step of any claim: the page's hash is checked by "
        "audit against the page served (client/verifier_page.py)",
    },
    "simulator": {
        "data.erased": "an honest history has no erasure requests to answer; "
        "the pool service appends erasures and its tests cover them "
        "(tests/server/test_pool_service.py)",
        "verifier.published": "the hash is of the server's built page "
        "(server/verifier/build.py), which an in-memory history has none of; the "
        "server's verifier publish appends it (tests/server/test_verifier_publish.py)",
    },
}


def named_types(paths: Iterable[Path], types: dict[str, str]) -> set[str]:
    """The entry types the code of ``paths`` names: a string constant that is
    a type, or a name or attribute that is a body class (``types`` maps class
    names to types).  Imports are not names in use, so they do not count."""
    found: set[str] = set()
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value in types.values():
                    found.add(node.value)
            elif isinstance(node, ast.Name) and node.id in types:
                found.add(types[node.id])
            elif isinstance(node, ast.Attribute) and node.attr in types:
                found.add(types[node.attr])
    return found


def problems(
    place: str,
    modules: tuple[str, ...],
    handled: set[str],
    not_needed: dict[str, str],
    all_types: Iterable[str],
) -> list[str]:
    """What is wrong with one place, each as a sentence naming type and place."""
    where = f"the {place} ({', '.join(modules)})"
    out = []
    for type_ in sorted(all_types):
        if type_ in handled and type_ in not_needed:
            out.append(
                f"{type_!r} is handled by {where} but still listed in "
                f"NOT_NEEDED[{place!r}]: remove it from that list"
            )
        elif type_ not in handled and not not_needed.get(type_, "").strip():
            out.append(
                f"entry type {type_!r} is not handled by {where}: handle it there, or "
                f"list it in NOT_NEEDED[{place!r}] in tests/test_entry_types.py with "
                "the reason it needs no handling (docs/architecture.md, 'Add an entry type')"
            )
    out += [
        f"NOT_NEEDED[{place!r}] lists {type_!r}, which is no entry type (BODY_TYPES)"
        for type_ in sorted(set(not_needed) - set(all_types))
    ]
    return out


def _class_types() -> dict[str, str]:
    return {cls.__name__: type_ for type_, cls in BODY_TYPES.items()}


@pytest.mark.parametrize("place", sorted(PLACES))
def test_every_entry_type_is_handled_or_excused(place: str) -> None:
    modules = PLACES[place]
    paths = [ROOT / m for m in modules]
    missing = [m for m, p in zip(modules, paths, strict=True) if not p.is_file()]
    assert not missing, (
        f"the {place}'s code was at {', '.join(missing)}, which no longer exists: "
        "point PLACES in tests/test_entry_types.py at where it lives now"
    )
    handled = named_types(paths, _class_types())
    found = problems(place, modules, handled, NOT_NEEDED[place], BODY_TYPES)
    assert not found, "\n".join(found)


def test_every_place_has_a_list() -> None:
    assert set(NOT_NEEDED) == set(PLACES)


def test_the_check_catches_a_type_left_out(tmp_path: Path) -> None:
    """The checker must see a type nobody handles, and accept one excused or
    named through its class, its string or an attribute."""
    code = tmp_path / "place.py"
    code.write_text(
        "from verifiable.log.bodies import ClaimPaid, MemberLeft\n"
        "HANDLERS = {'member.joined': None}\n"
        "def f(body):\n"
        "    return isinstance(body, ClaimPaid) or bodies.MemberLeft\n"
    )
    types = {"MemberJoined": "member.joined", "ClaimPaid": "claim.paid"}
    types |= {"MemberLeft": "member.left", "DataErased": "data.erased", "PoolRules": "pool.rules"}
    handled = named_types([code], types)
    assert handled == {"member.joined", "claim.paid", "member.left"}
    found = problems("test place", ("place.py",), handled, {"pool.rules": "why"}, types.values())
    assert len(found) == 1
    assert "entry type 'data.erased' is not handled by the test place (place.py)" in found[0]
    stale = problems("p", ("x.py",), handled, {"claim.paid": "why", "no.such": "x"}, ["claim.paid"])
    assert "still listed" in stale[0] and "no entry type" in stale[1]
    # An import alone does not count as handling.
    imported = tmp_path / "imported.py"
    imported.write_text("from verifiable.log.bodies import DataErased\n")
    assert named_types([imported], types) == set()
    # A reason must say something.
    assert problems("p", ("x.py",), set(), {"data.erased": " "}, ["data.erased"])

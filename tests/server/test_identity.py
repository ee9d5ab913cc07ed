"""Real identities and one membership per person.

ID numbers checked per GB 11643-1999 and mobile numbers per the mainland
plan (server/private/identity.py); the age band derived from the birth
date, at joining and at the date of a claim's diagnosis, on both sides of
every band's boundary birthday; the same ID number refused while its
member is active, free again once they leave or are erased; the key of the
keyed hash made once, mode 0600, in the instance folder.  The race of
several joins on several server processes is tests/server/test_one_membership.py.
"""

from __future__ import annotations

import io
import re
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from server.auth import accounts_service
from server.keys import load_signer
from server.models import MemberDetailsRow, MemberIdentityRow
from server.pool_app import current_pool
from server.pool_service import PoolInputError, PoolService, PoolUnavailableError
from server.private.errors import AlreadyMemberError, InvalidInputError
from server.private.evidence import Upload
from server.private.identity import (
    age_band_on,
    age_on,
    check_character,
    china_date,
    make_id_number,
    parse_id_number,
    parse_mobile,
)
from server.private.identity_key import (
    IDENTITY_KEY_FILE,
    IdentityKeyError,
    identity_hash,
    identity_key,
)
from server.private.members import MemberDetails
from tests.clock import FixedClock
from tests.server.pool_helpers import (
    PASSWORD,
    PDF,
    RULES,
    csrf,
    make_pool_app,
    row_counts,
    sign_in,
    text_of,
)
from tests.server.redaction_files import redact_all
from verifiable.log.bodies import AgeBand, ClaimFiled, LeaveReason
from verifiable.log.entry import parse_entry

if TYPE_CHECKING:
    from werkzeug.test import TestResponse

TODAY = date(2026, 1, 1)
_HIDDEN = re.compile(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"')
VALID = "11010519491231002X"  # the standard's worked example


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _full_width(text: str) -> str:
    """``text`` as a Chinese input method types it: full-width digits and letters."""
    return text.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})


def _valid(born: date, serial: int = 123) -> str:
    return make_id_number("110105", born, serial)


# --- ID numbers ---------------------------------------------------------------------

_WRONG_CHECK = VALID[:17] + "1"
# id: (text, code)
BAD_ID_NUMBERS = {
    "empty": ("", "id_number.length"),
    "17-characters": (VALID[:17], "id_number.length"),
    "19-characters": (VALID + "1", "id_number.length"),
    "15-digit-old-format": ("110105491231002", "id_number.length"),
    "bad-check-digit": (_WRONG_CHECK, "id_number.check"),
    "check-digit-swapped": (_valid(date(1990, 3, 7))[:17] + "X", "id_number.check"),
    "digits-transposed": ("11010519491321002X", "id_number.birth_date"),
    "one-digit-changed": ("11010519491231003X", "id_number.check"),
    "letters": ("11010519491231ABCX", "id_number.chars"),
    "x-in-the-middle": ("1101051949X231002X", "id_number.chars"),
    "canary": ("CANARYID7731", "id_number.length"),
    "markup": ("<b>110105194912</b>", "id_number.length"),
    "region-zero": ("0" + _valid(date(1990, 1, 1))[1:17] + "0", "id_number.region"),
    "feb-31": ("110105" + "19990231" + "0010", "id_number.birth_date"),
    "feb-29-common-year": ("110105" + "19990229" + "0010", "id_number.birth_date"),
    "month-13": ("110105" + "19901301" + "0010", "id_number.birth_date"),
    "day-zero": ("110105" + "19900100" + "0010", "id_number.birth_date"),
    "future-date": (_valid(TODAY + timedelta(days=1)), "id_number.birth_range"),
    "before-1900": (_valid(date(1899, 12, 31)), "id_number.birth_range"),
    "year-2999": (_valid(date(2999, 1, 1)), "id_number.birth_range"),
}


@pytest.mark.parametrize(("text", "code"), list(BAD_ID_NUMBERS.values()), ids=list(BAD_ID_NUMBERS))
def test_bad_id_numbers_are_refused_by_name(text: str, code: str) -> None:
    with pytest.raises(InvalidInputError, match="ID number") as caught:
        parse_id_number(text, TODAY)
    assert (caught.value.field, caught.value.code) == ("id_number", code)


@pytest.mark.parametrize(
    "text",
    [
        VALID,
        VALID.lower(),
        "110105 19491231 002X",
        "110105-19491231-002x",
        _full_width(VALID),  # read through NFKC
        " 11010519491231002X\n",
    ],
    ids=["plain", "lower-x", "spaces", "dashes", "full-width", "padded"],
)
def test_valid_id_numbers_are_read_in_their_normal_form(text: str) -> None:
    checked = parse_id_number(text, TODAY)
    assert checked.text == VALID
    assert checked.born == date(1949, 12, 31)


def test_the_check_character_is_iso_7064_mod_11_2() -> None:
    assert check_character("11010519491231002") == "X"
    assert check_character("44052418800101001") == "4"
    born_today = _valid(TODAY)
    assert parse_id_number(born_today, TODAY).born == TODAY
    for serial in range(1000):
        number = _valid(date(1985, 5, 17), serial)
        assert parse_id_number(number, TODAY).text == number


# --- mobile numbers -----------------------------------------------------------------

BAD_PHONES = {
    "empty": "",
    "prefix-12x": "12012345678",
    "prefix-10x": "10012345678",
    "prefix-11x": "11812345678",
    "ten-digits": "1381234567",
    "twelve-digits": "138123456789",
    "letters": "138abcd5678",
    "landline": "010 6512 3456",
    "wrong-country": "+1 138 1234 5678",
    "plus-86-short": "+86 138 1234 567",
    "words": "call me",
    "markup": "<script>13812345678</script>",
    "two-plus": "++8613812345678",
}


@pytest.mark.parametrize("text", list(BAD_PHONES.values()), ids=list(BAD_PHONES))
def test_bad_mobile_numbers_are_refused(text: str) -> None:
    with pytest.raises(InvalidInputError, match="a mobile number is 11 digits") as caught:
        parse_mobile(text)
    assert (caught.value.field, caught.value.code) == ("phone", "phone.mobile")


@pytest.mark.parametrize(
    "text",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "(138) 1234 5678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "008613812345678",
        _full_width("13812345678"),
    ],
)
def test_mobile_numbers_are_read_as_their_eleven_digits(text: str) -> None:
    assert parse_mobile(text) == "13812345678"


def test_every_mobile_prefix_from_13_to_19_is_accepted() -> None:
    for second in range(3, 10):
        assert parse_mobile(f"1{second}000000000") == f"1{second}000000000"


# --- the age band -------------------------------------------------------------------

# id: (age in years on the day the band begins, the band from then, the band before)
BOUNDARIES = {
    "18": (18, AgeBand.FROM_18_TO_39, AgeBand.UNDER_18),
    "40": (40, AgeBand.FROM_40_TO_59, AgeBand.FROM_18_TO_39),
    "60": (60, None, AgeBand.FROM_40_TO_59),
}


@pytest.mark.parametrize(("years", "band", "before"), BOUNDARIES.values(), ids=list(BOUNDARIES))
def test_the_band_changes_on_the_birthday(
    years: int, band: AgeBand | None, before: AgeBand
) -> None:
    for day in (TODAY, date(2028, 3, 1), date(2027, 3, 1), date(2026, 12, 31)):
        born = _years_before(day, years)
        assert age_band_on(born, day) is band
        assert age_band_on(born + timedelta(days=1), day) is before
        assert age_band_on(born, day - timedelta(days=1)) is before


def test_the_youngest_member_is_thirty_days_old() -> None:
    assert age_band_on(TODAY - timedelta(days=30), TODAY) is AgeBand.UNDER_18
    assert age_band_on(TODAY - timedelta(days=29), TODAY) is None
    assert age_band_on(TODAY, TODAY) is None


def test_a_leap_day_birthday_counts_on_the_first_of_march() -> None:
    born = date(2008, 2, 29)
    assert age_on(born, date(2026, 2, 28)) == 17
    assert age_on(born, date(2026, 3, 1)) == 18
    assert age_band_on(born, date(2026, 3, 1)) is AgeBand.FROM_18_TO_39


def test_the_day_is_chinas() -> None:
    # 20:00 UTC on 31 December is already 1 January in China.
    assert china_date(datetime(2025, 12, 31, 20, 0, tzinfo=UTC)) == date(2026, 1, 1)
    assert china_date(datetime(2025, 12, 31, 15, 59, tzinfo=UTC)) == date(2025, 12, 31)


# --- the key of the keyed hash ------------------------------------------------------


def test_the_key_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    key = identity_key(tmp_path)
    path = tmp_path / IDENTITY_KEY_FILE
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert identity_key(tmp_path) == key
    assert sorted(p.name for p in tmp_path.iterdir()) == [IDENTITY_KEY_FILE]
    assert identity_hash(key, VALID) != identity_hash(bytes(32), VALID)
    assert VALID.encode() not in identity_hash(key, VALID)


def test_processes_racing_to_make_the_key_all_get_the_one_that_won(tmp_path: Path) -> None:
    for attempt in range(5):
        folder = tmp_path / str(attempt)
        folder.mkdir()
        with ThreadPoolExecutor(8) as threads:
            keys = set(threads.map(identity_key, [folder] * 8))
        assert len(keys) == 1
        assert [p.name for p in folder.iterdir()] == [IDENTITY_KEY_FILE]


@pytest.mark.parametrize("content", [b"", b"not hex\n", b"00" * 31 + b"\n", b"\xff" * 64], ids=str)
def test_a_damaged_key_is_refused_without_showing_it(tmp_path: Path, content: bytes) -> None:
    (tmp_path / IDENTITY_KEY_FILE).write_bytes(content)
    with pytest.raises(IdentityKeyError, match="is not 32 bytes in hex") as caught:
        identity_key(tmp_path)
    assert "not hex" not in str(caught.value)


def test_a_key_that_cannot_be_made_is_a_named_error(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "instance"
    not_a_folder.write_bytes(b"a file where the instance folder should be")
    with pytest.raises(IdentityKeyError, match="cannot create identity key"):
        identity_key(not_a_folder)


# --- joining through the pool -------------------------------------------------------


@pytest.fixture
def pool_app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    app = make_pool_app(engine, tmp_path, clock)
    with app.app_context():
        current_pool().start(RULES)
        yield app
    app.extensions["mutualog"].engine.dispose()


def _account(name: str, clock: FixedClock) -> int:
    return accounts_service().register(name, PASSWORD, clock()).id


def _details(number: str, clock: FixedClock, name: str = "Zhang Wei") -> MemberDetails:
    return MemberDetails.parse(name, number, "13812345678", china_date(clock()))


def _join(pool: PoolService, clock: FixedClock, label: str, born: date) -> str:
    return pool.join(_account(label, clock), _details(_valid(born), clock))


def test_the_band_at_joining_is_the_birth_dates_on_both_sides_of_every_boundary(
    pool_app: Flask, clock: FixedClock, tmp_path: Path
) -> None:
    pool = current_pool()
    today = china_date(clock())
    cases = [
        ("days-30", today - timedelta(days=30), AgeBand.UNDER_18),
        ("almost-18", _years_before(today, 18) + timedelta(days=1), AgeBand.UNDER_18),
        ("just-18", _years_before(today, 18), AgeBand.FROM_18_TO_39),
        ("almost-40", _years_before(today, 40) + timedelta(days=1), AgeBand.FROM_18_TO_39),
        ("just-40", _years_before(today, 40), AgeBand.FROM_40_TO_59),
        ("almost-60", _years_before(today, 60) + timedelta(days=1), AgeBand.FROM_40_TO_59),
    ]
    for label, born, band in cases:
        member = _join(pool, clock, label, born)
        view = pool.state().member(member)
        assert view is not None and view.band is band, label
    assert (tmp_path / "instance" / IDENTITY_KEY_FILE).exists()
    before = row_counts(pool.engine)
    for label, born in (
        ("days-29", today - timedelta(days=29)),
        ("just-60", _years_before(today, 60)),
        ("old", date(1930, 1, 1)),
    ):
        with pytest.raises(PoolInputError, match="from 30 days to 59 years") as caught:
            _join(pool, clock, label, born)
        assert caught.value.code == "join.age"
    assert {k: v for k, v in row_counts(pool.engine).items() if k != "accounts"} == {
        k: v for k, v in before.items() if k != "accounts"
    }


def test_the_band_at_joining_is_taken_on_chinas_calendar_day(
    pool_app: Flask, clock: FixedClock
) -> None:
    # 20:00 UTC on the day before an 18th birthday is the birthday in China.
    birthday = date(2026, 3, 5)
    clock.now = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)
    pool = current_pool()
    member = _join(pool, clock, "china", _years_before(birthday, 18))
    view = pool.state().member(member)
    assert view is not None and view.band is AgeBand.FROM_18_TO_39


def _filed(pool: PoolService, claim: str) -> ClaimFiled:
    store = pool.store
    for seq in range(store.size() - 1, -1, -1):
        (data,) = store.entries(seq, seq + 1)
        body = parse_entry(data, seq=seq).body
        if isinstance(body, ClaimFiled) and body.claim == claim:
            return body
    raise AssertionError(f"no claim.filed for {claim}")


def _claim(pool: PoolService, member: str, diagnosed: date, fen: int = 100_000) -> str:
    return pool.file_claim(member, "cancer", fen, diagnosed, [Upload(PDF, "application/pdf")])


# id: (age at the boundary, band before, band from the birthday on)
DIAGNOSIS = {
    "18": (18, AgeBand.UNDER_18, AgeBand.FROM_18_TO_39),
    "40": (40, AgeBand.FROM_18_TO_39, AgeBand.FROM_40_TO_59),
}


@pytest.mark.parametrize(("years", "before", "after"), DIAGNOSIS.values(), ids=list(DIAGNOSIS))
def test_a_claim_takes_the_band_of_the_day_of_diagnosis(
    pool_app: Flask, clock: FixedClock, years: int, before: AgeBand, after: AgeBand
) -> None:
    """Joined 20 days before a boundary birthday: a diagnosis the day before
    keeps the joining band; one on the birthday names the next band, and the
    claim's cap is that band's."""
    pool = current_pool()
    birthday = china_date(clock()) + timedelta(days=20)
    born = _years_before(birthday, years)
    member = _join(pool, clock, f"turns-{years}", born)
    view = pool.state().member(member)
    assert view is not None and view.band is before
    clock.advance(days=30)
    asked = 20_000_000  # between the 40-59 cap and the others
    early = _claim(pool, member, birthday - timedelta(days=1), asked)
    on_the_day = _claim(pool, member, birthday, asked)
    assert _filed(pool, early).age_band is None
    assert _filed(pool, on_the_day).age_band is after
    for claim, band in ((early, before), (on_the_day, after)):
        filed = pool.state().claim(claim)
        assert filed is not None and filed.band is band
        redact_all(pool, claim)
        notice = pool.publish_notice(claim, "A member asks for aid for cancer.")
        assert notice.age_band is band
        assert notice.amount == min(asked, filed.rules.cap(band) or 0)
    # The log carries the band only: no birth date, no ID number.
    data = pool.store.entries(0, pool.store.size())
    number = _valid(born)
    assert not any(number.encode() in d or born.isoformat().encode() in d for d in data)


def test_a_claim_diagnosed_at_sixty_is_refused_and_the_day_before_is_not(
    pool_app: Flask, clock: FixedClock
) -> None:
    pool = current_pool()
    birthday = china_date(clock()) + timedelta(days=20)
    member = _join(pool, clock, "turns-60", _years_before(birthday, 60))
    clock.advance(days=30)
    before = row_counts(pool.engine)
    with pytest.raises(PoolInputError, match="on the date of diagnosis the member was 60") as e:
        _claim(pool, member, birthday)
    assert e.value.code == "claim.age"
    assert row_counts(pool.engine) == before
    kept = _claim(pool, member, birthday - timedelta(days=1))
    assert _filed(pool, kept).age_band is None
    filed = pool.state().claim(kept)
    assert filed is not None and filed.band is AgeBand.FROM_40_TO_59


def test_a_claim_diagnosed_before_joining_keeps_the_joining_band(
    pool_app: Flask, clock: FixedClock
) -> None:
    # Joined on the 18th birthday; diagnosed the day before, at 17.
    pool = current_pool()
    today = china_date(clock())
    member = _join(pool, clock, "eighteen", _years_before(today, 18))
    early = _claim(pool, member, today - timedelta(days=1))
    assert _filed(pool, early).age_band is None
    claim = pool.state().claim(early)
    assert claim is not None and claim.band is AgeBand.FROM_18_TO_39


# --- one membership per person ------------------------------------------------------


def _hashes(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(MemberIdentityRow.member_id)))


def test_the_same_id_number_is_refused_while_its_member_is_active(
    pool_app: Flask, clock: FixedClock
) -> None:
    pool = current_pool()
    number = _valid(date(1990, 3, 7))
    first = pool.join(_account("first", clock), _details(number, clock))
    assert _hashes(pool.engine) == [first]
    before = row_counts(pool.engine)
    size = pool.store.size()
    second = _account("second", clock)
    for written in (number, number.lower(), f"{number[:6]} {number[6:14]} {number[14:]}"):
        with pytest.raises(AlreadyMemberError, match="one person holds one membership") as e:
            pool.join(second, _details(written, clock, name="Someone Else"))
        assert e.value.code == "identity.taken"
    assert pool.store.size() == size
    after = row_counts(pool.engine)
    assert {k: v for k, v in after.items() if k != "accounts"} == {
        k: v for k, v in before.items() if k != "accounts"
    }
    # The hash, not the number, is what the table holds.
    with pool.engine.connect() as conn:
        (stored,) = conn.scalars(select(MemberIdentityRow.id_hash))
    assert number.encode() not in stored and len(stored) == 32


def test_a_member_who_left_may_join_again_with_a_new_waiting_period(
    pool_app: Flask, clock: FixedClock
) -> None:
    pool = current_pool()
    number = _valid(date(1990, 3, 7))
    first = pool.join(_account("first", clock), _details(number, clock))
    clock.advance(days=30)
    pool.leave(first, LeaveReason.VOLUNTARY)
    assert _hashes(pool.engine) == []
    again = pool.join(_account("again", clock), _details(number, clock))
    assert again != first and _hashes(pool.engine) == [again]
    view = pool.state().member(again)
    assert view is not None and view.joined == clock().replace(microsecond=0)
    claim = _claim(pool, again, china_date(clock()))
    filed = pool.state().claim(claim)
    assert filed is not None and filed.waiting  # the waiting period starts again


def test_a_row_left_by_a_crash_after_leaving_is_released_by_the_next_join(
    pool_app: Flask, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = current_pool()
    number = _valid(date(1990, 3, 7))
    first = pool.join(_account("first", clock), _details(number, clock))
    # The process dies between the member.left append and the release.
    monkeypatch.setattr("server.pool.members.release_identity", lambda engine, member: False)
    pool.leave(first)
    assert _hashes(pool.engine) == [first]
    # The log says the holder left: the next join with the number releases it.
    again = pool.join(_account("again", clock), _details(number, clock))
    assert _hashes(pool.engine) == [again]
    with pytest.raises(AlreadyMemberError):
        pool.join(_account("third", clock), _details(number, clock))


def test_erasing_a_member_removes_the_keyed_hash(pool_app: Flask, clock: FixedClock) -> None:
    pool = current_pool()
    number = _valid(date(1990, 3, 7))
    first = pool.join(_account("first", clock), _details(number, clock))
    pool.leave(first)
    other = pool.join(_account("other", clock), _details(_valid(date(1991, 1, 1)), clock))
    pool.erase_member(other, "The member asked for it.", None)
    assert _hashes(pool.engine) == []
    with pool.engine.connect() as conn:
        assert conn.scalars(select(MemberDetailsRow.member_id)).all() == [first]


def test_a_pool_without_an_identity_key_takes_no_members(
    pool_app: Flask, clock: FixedClock, engine: Engine, tmp_path: Path
) -> None:
    signer = load_signer(tmp_path / "instance" / "log.key")
    bare = PoolService(engine, signer, clock)
    before = row_counts(engine)
    with pytest.raises(PoolUnavailableError, match="no identity key"):
        bare.join(_account("bare", clock), _details(_valid(date(1990, 1, 1)), clock))
    assert row_counts(engine)["entries"] == before["entries"]


# --- the join page ------------------------------------------------------------------


@pytest.fixture
def web_app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    """A started pool, served to test clients (no application context held
    open between their requests, as a real server holds none)."""
    app = make_pool_app(engine, tmp_path, clock)
    with app.app_context():
        current_pool().start(RULES)
    yield app
    app.extensions["mutualog"].engine.dispose()


ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}

# id: (the ID number's text, the field's message in English, in Chinese)
PAGE_REFUSALS = {
    "taken": (
        _valid(date(1990, 3, 7)),
        "one person holds one membership",
        "每人只能持有一个会员资格",
    ),
    "check": (_WRONG_CHECK, "does not match the others", "校验码与前面的数字不符"),
    "feb-31": ("11010519990231001X", "19990231 is no real date", "不是一个真实的日期"),
    "short": (VALID[:17], "has 18 characters, not 17", "您填写的有 17 位"),
    "too-old": (_valid(date(1950, 6, 1)), "from 30 days to 59 years", "出生满 30 天至 59 周岁"),
}


def _join_form(client: FlaskClient, number: str, headers: dict[str, str]) -> TestResponse:
    fields = {"csrf_token": csrf(client, "/join"), "name": "Li Hua", "phone": "13912345678"}
    return client.post("/join", data={**fields, "id_number": number}, headers=headers)


def test_the_join_page_refuses_in_the_members_language_and_stores_nothing(
    web_app: Flask, clock: FixedClock
) -> None:
    with web_app.app_context():
        for name in ("first", "second", "third"):
            _account(name, clock)
        engine = current_pool().engine
    first = sign_in(web_app, "first")
    joined = _join_form(first, _valid(date(1990, 3, 7)), {})
    assert joined.status_code == 302, text_of(joined)
    assert "in the age band 18 to 39" in text_of(first.get("/dashboard"))
    second = sign_in(web_app, "second")
    for number, english, chinese in PAGE_REFUSALS.values():
        for headers, message, other in (({}, english, chinese), (ZH, chinese, english)):
            before = row_counts(engine)
            response = _join_form(second, number, headers)
            shown = text_of(response)
            assert response.status_code == 400, shown
            assert message in shown and other not in shown, shown
            assert row_counts(engine) == before
    third = sign_in(web_app, "third")
    assert _join_form(third, _valid(date(1980, 1, 1)), ZH).status_code == 302
    assert "您的年龄段是 40\u201359 岁" in text_of(third.get("/dashboard", headers=ZH))


def test_the_claim_form_checks_the_cap_of_the_band_at_diagnosis(
    web_app: Flask, clock: FixedClock
) -> None:
    """Joined at 39, diagnosed at 40: the page refuses an amount over the
    40-59 cap, and a diagnosis at 60 on the date field."""
    birthday = china_date(clock()) + timedelta(days=20)
    with web_app.app_context():
        _account("forty", clock)
        _account("sixty", clock)
        engine = current_pool().engine
    forty, sixty = sign_in(web_app, "forty"), sign_in(web_app, "sixty")
    for client, years in ((forty, 40), (sixty, 60)):
        joined = _join_form(client, _valid(_years_before(birthday, years), years), {})
        assert joined.status_code == 302, text_of(joined)
    clock.advance(days=30)
    # The page names the cap of the band today, not of the band at joining.
    shown = text_of(forty.get("/claims/new"))
    assert "up to ¥100,000.00 for your age band today (40 to 59)" in shown, shown
    for client, amount, message in (
        (forty, "200000", "at most ¥100,000.00 for your age band (40 to 59)"),
        (sixty, "1000", "on the date of diagnosis the member was 60 years old"),
    ):
        page = client.get("/claims/new").get_data(as_text=True)
        data = {
            **dict(_HIDDEN.findall(page)),
            "category": "cancer",
            "amount": amount,
            "diagnosed": birthday.isoformat(),
            "medical_consent": "y",
            "evidence": (io.BytesIO(PDF), "report.pdf", "application/pdf"),
        }
        before = row_counts(engine)
        response = client.post("/claims/new", data=data, content_type="multipart/form-data")
        assert response.status_code == 400, text_of(response)
        assert message in text_of(response)
        assert row_counts(engine) == before

"""The private-data guard's detector (:mod:`server.private_guard`): ID
numbers by GB 11643-1999 (check character and birth date), mobile numbers,
the identifiers of the members concerned in any spelling, and the
boundaries that keep the log's hex ids and ordinary numbers clear."""

# ruff: noqa: RUF001 -- full-width digits and punctuation are what is tested

from __future__ import annotations

import pytest

from server.demo import DemoIdentities
from server.private.identity import check_character
from server.private_guard import (
    Found,
    IdentifierKind,
    PrivateIdentity,
    find_private,
    id_number_valid,
    old_id_number_valid,
)
from verifiable.log.bodies import AgeBand

ID = IdentifierKind.ID_NUMBER
PHONE = IdentifierKind.PHONE
NAME = IdentifierKind.NAME
MEMBER_ID = IdentifierKind.MEMBER_ID_NUMBER
MEMBER_PHONE = IdentifierKind.MEMBER_PHONE


def valid_id(first17: str) -> str:
    return first17 + check_character(first17)


#: 11010519491231002X: the standard's own example, ending in X.
ID_X = "11010519491231002X"
ID_DIGIT = valid_id("31010419890620121")
WITNESS = PrivateIdentity("何霞明", "CANARYID7731", "+86 139 0000 1234")
LATIN = PrivateIdentity("Wang Fang", "ID-member-0007", "+86 1380000")


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


#: A first-generation number (GB 11643-1989): Beijing's Xicheng, born 31 December 1949.
OLD_ID = "110105491231002"


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        (OLD_ID, True),
        ("440305000228123", True),  # Shenzhen, 28 February 1900
        ("440305000229123", False),  # 29 February 1900: 1900 was no leap year
        ("990105491231002", False),  # 99: no province
        ("710105491231002", False),  # Taiwan never issued these
        ("110105491331002", False),  # month 13
        ("110105490229002", False),  # 29 February 1949
        ("11010549123100", False),  # 14 digits
    ],
)
def test_first_generation_numbers(number: str, valid: bool) -> None:
    assert old_id_number_valid(number) is valid
    assert (find_private(f"number {number} here") is not None) is valid


def test_the_check_character_of_the_standard() -> None:
    assert check_character("11010519491231002") == "X"
    assert id_number_valid(ID_X.lower())
    assert id_number_valid(ID_DIGIT)


@pytest.mark.parametrize(
    "number",
    [
        "110105194912310021",  # the check character should be X
        ID_DIGIT[:-1] + str((int(ID_DIGIT[-1]) + 1) % 10),  # another check digit
        valid_id("11010519990231001"),  # 31 February 1999: no such day
        valid_id("11010519991301001"),  # month 13
        valid_id("11010517991231001"),  # born 1799
        valid_id("11010519990000001"),  # month 0, day 0
        "1101051949123100",  # 16 characters
    ],
    ids=["check-x", "check-digit", "feb-31", "month-13", "year-1799", "zeros", "short"],
)
def test_not_an_id_number(number: str) -> None:
    assert not id_number_valid(number.lower())
    assert find_private(f"number {number} here") is None


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (f"ID {ID_X}", Found(3, ID)),
        (f"ID {ID_X.lower()}", Found(3, ID)),
        (f"身份证{ID_DIGIT}", Found(3, ID)),
        (f"身份证：{full_width(ID_X)}。", Found(4, ID)),
        ("身份证 110105 19491231 002X", Found(4, ID)),
        ("(110105)1949-1231-002x", Found(1, ID)),
        ("电话13912345678", Found(2, PHONE)),
        ("call +86 139 1234 5678 now", Found(9, PHONE)),
        ("+86-139-1234-5678", Found(4, PHONE)),
        ("0086 13912345678", Found(5, PHONE)),
        ("tel: (139) 1234.5678", Found(6, PHONE)),
        ("１３９１２３４５６７８", Found(0, PHONE)),
        ("139\u200b1234\u200b5678", Found(0, PHONE)),
        ("手机号码１３９－１２３４－５６７８", Found(4, PHONE)),
        ("a 19912345678 b", Found(2, PHONE)),
        (f"旧身份证{OLD_ID}", Found(4, ID)),
        ("old card 110105 491231 002.", Found(9, ID)),
    ],
)
def test_shapes_found_wherever_they_stand_alone(text: str, found: Found) -> None:
    assert find_private(text) == found


@pytest.mark.parametrize(
    "text",
    [
        "claim 0123456789abcdef0123456789abcdef",
        "claim 13912345678139123456781391234567",  # 32 digits: a hex id of digits only
        "root " + "1" + ID_DIGIT + "abcdef" + "0" * 39,  # 64 hex
        f"x{ID_DIGIT}",  # glued to a letter: part of a word, not a number alone
        "abc13912345678",
        "13912345678abc",
        "a1391234567",  # ten digits after a letter
        "12345678901",  # 1, then 2: no mobile number starts so
        "139123456789",  # twelve digits
        "Diagnosed 2026-03-14, filed 2026-03-20; aid ¥300,000.00 of ¥13,800,000.",
        "postcode 100010, entry 4512, 5000000 fen, 40-59",
        "seqs 12, 13, 14 and 15; period 2026-04-01",
        "A member aged 18-39 asks for aid for cancer.",
        "十八至三十九岁会员申请重大疾病互助金，金额 ¥300,000。",
    ],
)
def test_clean_texts(text: str) -> None:
    assert find_private(text, [WITNESS, LATIN]) is None


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("会员何霞明申请", Found(2, NAME)),
        ("会员何 霞 明申请", Found(2, NAME)),
        ("会员何-霞-明", Found(2, NAME)),
        ("何霞明1990年", Found(0, NAME)),
        ("id CANARYID7731 seen", Found(3, MEMBER_ID)),
        ("canary-id 7731", Found(0, MEMBER_ID)),
        ("phone 139 0000 1234", Found(6, PHONE)),  # a mobile number: the shape first
        ("Wang Fang objected", Found(0, NAME)),
        ("wangfang objected", Found(0, NAME)),
        ("W a n g  F a n g", Found(0, NAME)),
        ("Ｗａｎｇ　Ｆａｎｇ", Found(0, NAME)),
        ("ID member 0007", Found(0, MEMBER_ID)),
        ("tel +86 138 0000", Found(8, MEMBER_PHONE)),
        ("tel 1380000.", Found(4, MEMBER_PHONE)),
    ],
)
def test_the_members_concerned(text: str, found: Found) -> None:
    assert find_private(text, [WITNESS, LATIN]) == found
    if found.kind not in (ID, PHONE):
        assert find_private(text) is None  # nobody concerned: nothing to find


@pytest.mark.parametrize(
    "text",
    [
        "Wang Fangs",  # a longer word
        "swang fang",
        "also li weighed",
        "ID member 00071",  # another number
        "tel 13800001",
        "何霞",  # part of the name
    ],
)
def test_a_member_is_found_only_standing_alone(text: str) -> None:
    assert find_private(text, [WITNESS, LATIN]) is None


def test_the_first_found_is_reported() -> None:
    text = f"何霞明, 13912345678, {ID_X}"
    assert find_private(text, [WITNESS]) == Found(0, NAME)
    assert find_private(text) == Found(5, PHONE)


def test_short_values_of_the_store_are_not_looked_for() -> None:
    tiny = PrivateIdentity("明", "12", "+86 1")
    assert find_private("明 12 1 +86 1", [tiny]) is None


def test_a_demo_member() -> None:
    details = DemoIdentities(7).details("ab" * 16, AgeBand.FROM_40_TO_59)
    who = PrivateIdentity(details.name, details.id_number, details.phone)
    assert find_private(f"会员{details.name}", [who]) == Found(2, NAME)
    assert find_private(f"身份证{details.id_number}") == Found(3, ID)
    assert find_private(f"手机{details.phone}") == Found(2, PHONE)
    spaced = " ".join(details.phone[i : i + 4] for i in range(0, 11, 4))
    assert find_private(f"手机 {spaced}") == Found(3, PHONE)

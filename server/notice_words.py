"""A notice's structured facts in words, in the page's language: the
hospital's grade, the province or region, the months of membership
(translation area ``notices``).

Registered as Jinja filters by :func:`server.i18n.init_app`
(``hospital_grade``, ``place``, ``notice_facts``); the operator's notice
form takes its list of provinces from :func:`province_choices`.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from server import i18n
from verifiable.log.notice_facts import NoticeFacts

__all__ = ["FILTERS", "fact_rows", "hospital_grade", "place", "province_choices"]

_GRADES: Mapping[str, object] = {
    "tertiary-a": _l("tertiary hospital, grade A"),
    "tertiary": _l("tertiary hospital"),
    "secondary": _l("secondary hospital"),
    "primary": _l("primary hospital"),
    "unrated": _l("hospital not graded"),
}

_REGIONS: Mapping[str, object] = {
    "north": _l("North China"),
    "northeast": _l("Northeast China"),
    "east": _l("East China"),
    "central": _l("Central China"),
    "south": _l("South China"),
    "southwest": _l("Southwest China"),
    "northwest": _l("Northwest China"),
}

_PROVINCES: Mapping[str, object] = {
    "11": _l("Beijing"),
    "12": _l("Tianjin"),
    "13": _l("Hebei"),
    "14": _l("Shanxi"),
    "15": _l("Inner Mongolia"),
    "21": _l("Liaoning"),
    "22": _l("Jilin"),
    "23": _l("Heilongjiang"),
    "31": _l("Shanghai"),
    "32": _l("Jiangsu"),
    "33": _l("Zhejiang"),
    "34": _l("Anhui"),
    "35": _l("Fujian"),
    "36": _l("Jiangxi"),
    "37": _l("Shandong"),
    "41": _l("Henan"),
    "42": _l("Hubei"),
    "43": _l("Hunan"),
    "44": _l("Guangdong"),
    "45": _l("Guangxi"),
    "46": _l("Hainan"),
    "50": _l("Chongqing"),
    "51": _l("Sichuan"),
    "52": _l("Guizhou"),
    "53": _l("Yunnan"),
    "54": _l("Tibet"),
    "61": _l("Shaanxi"),
    "62": _l("Gansu"),
    "63": _l("Qinghai"),
    "64": _l("Ningxia"),
    "65": _l("Xinjiang"),
}


def hospital_grade(code: object) -> str:
    """A hospital grade in words, or withheld."""
    if code is None:
        return str(_l("not published: too few claims would share it"))
    key = str(code)
    return str(_GRADES.get(key, key))


def place(code: object) -> str:
    """A notice's place in words: a province, a region, or withheld."""
    if code is None:
        return str(_l("not published: too few claims would share it"))
    key = str(code)
    return str(_PROVINCES.get(key) or _REGIONS.get(key) or key)


def province_choices() -> list[tuple[str, str]]:
    """Every province's code and name, for the operator's list."""
    return [(code, f"{name} ({code})") for code, name in _PROVINCES.items()]


def fact_rows(facts: NoticeFacts) -> list[tuple[str, str, str]]:
    """The facts as rows of (id, label, value), in the page's language."""
    months = ngettext(
        "%(num)d month before the diagnosis",
        "%(num)d months before the diagnosis",
        facts.months_member,
    )
    waiting = _l("waiting period met") if facts.waiting_met else _l("inside the waiting period")
    return [
        ("diagnosed-month", str(_l("Diagnosed in")), i18n.month(facts.diagnosed_month)),
        ("membership", str(_l("Member for")), f"{months} · {waiting}"),
        ("hospital", str(_l("Hospital")), hospital_grade(facts.hospital_grade)),
        ("place", str(_l("Where")), place(facts.place)),
        ("requested", str(_l("Amount requested")), i18n.yuan(facts.requested)),
        ("capped", str(_l("Within the plan's cap")), i18n.yuan(facts.capped)),
    ]


FILTERS = {"hospital_grade": hospital_grade, "place": place, "notice_facts": fact_rows}

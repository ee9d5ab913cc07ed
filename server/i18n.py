"""Two languages for the pages: Simplified Chinese and English (Flask-Babel).

* **Which language**: the ``lang`` cookie set by the switch in every page's
  header (``/lang/<code>``, :mod:`server.views.signin`), else the browser's
  ``Accept-Language`` (any ``zh`` tag → ``zh_CN``, any ``en`` tag → ``en``),
  else ``MUTUALOG_DEFAULT_LOCALE`` (``zh_CN`` unless set: the members are
  Chinese; the tests pin ``en``).  A response whose words depended on that
  choice says ``Vary: Accept-Language, Cookie`` so no cache serves one
  language to the other.
* **Catalogs**: one per area, ``server/translations/<area>/zh_CN/LC_MESSAGES``
  (``core``, ``public``, ``member``, ``juror_operator``, ``refusals``), merged;
  the source strings are English, so English needs no catalog.  The
  compiled ``.mo`` files are committed and ship in the package.
* **Formatting** (Python functions and Jinja filters of the same names):
  :func:`yuan` for integer fen, :func:`number` with separators,
  :func:`date`, :func:`datetime`, :func:`month` in the pool's time zone
  (``MUTUALOG_TIMEZONE``, default ``Asia/Shanghai``; the log keeps UTC), and
  words for the log's codes (:func:`category`, :func:`stage`,
  :func:`outcome`, :func:`choice`, :func:`age_band`, :func:`leave_reason`),
  which show the code itself for a value they do not know.

See docs/i18n.md for how to mark strings and update the catalogs.
"""

from __future__ import annotations

import datetime as _dt
import functools
import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_skeleton, format_time, get_datetime_format
from babel.numbers import format_decimal, parse_pattern
from babel.support import NullTranslations, Translations
from flask import Flask, Response, current_app, g, has_app_context, has_request_context, request
from flask_babel import Babel, Domain, get_babel, get_locale
from flask_babel import lazy_gettext as _l

from server.config import ConfigError

__all__ = [
    "AREAS",
    "DEFAULT_LOCALE",
    "LANG_COOKIE",
    "LOCALES",
    "TIMEZONE",
    "TRANSLATIONS",
    "age_band",
    "category",
    "choice",
    "date",
    "datetime",
    "html_lang",
    "init_app",
    "leave_reason",
    "locale_code",
    "month",
    "number",
    "outcome",
    "pool_zone",
    "stage",
    "yuan",
]

DEFAULT_LOCALE = "MUTUALOG_DEFAULT_LOCALE"
TIMEZONE = "MUTUALOG_TIMEZONE"
LANG_COOKIE = "lang"

#: The locales a page can be in, the first the members' own.
LOCALES = ("zh_CN", "en")
#: ``<html lang>`` (BCP 47) for each locale.
_HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
#: One catalog per area of the pages, so that each is edited on its own.
AREAS = (
    "core",
    "public",
    "member",
    "juror_operator",
    "refusals",
    "accounts",
    "submissions",
    "limits",
    "witnesses",
    "panels",
    "identities",
    "privacy",
    "evidence",
    "notices",
    "verifier",
)
TRANSLATIONS = Path(__file__).parent / "translations"

_FALLBACK_LOCALE = "zh_CN"
_FALLBACK_ZONE = "Asia/Shanghai"
_USED = "_mutualog_locale_used"
_OPEN = "_mutualog_i18n"


def _setting(app: Flask, name: str, fallback: str) -> str:
    value = app.config.get(name) or os.environ.get(name) or fallback
    return str(value)


def _default_locale(app: Flask) -> str:
    value = _setting(app, DEFAULT_LOCALE, _FALLBACK_LOCALE)
    if value not in LOCALES:
        raise ConfigError(f"{DEFAULT_LOCALE}: expected one of {', '.join(LOCALES)}, got {value!r}")
    return value


def _zone_name(app: Flask) -> str:
    name = _setting(app, TIMEZONE, _FALLBACK_ZONE)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ConfigError(f"{TIMEZONE}: no time zone named {name!r}") from e
    return name


def _from_tag(tag: str) -> str | None:
    """The locale for one ``Accept-Language`` tag, or ``None``.  Every
    Chinese tag gets Simplified Chinese, the only Chinese the pages have."""
    primary = tag.strip().lower().replace("_", "-").split("-", 1)[0]
    return {"zh": "zh_CN", "en": "en"}.get(primary)


def _select_locale() -> str | None:
    if not has_request_context():
        return None  # Flask-Babel then uses the default.
    setattr(g, _USED, True)
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LOCALES:
        return chosen
    for tag, quality in request.accept_languages:
        locale = _from_tag(tag)
        if locale is not None and quality > 0:
            return locale
    return None


def _vary(response: Response) -> Response:
    if g.get(_USED):
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
    return response


def _open_context() -> None:
    # Flask-Babel 4 keeps its choice in ``g`` but treats an *empty* ``g`` as
    # "no context", and then answers in no language at all (English, the
    # source strings).  A flag in ``g`` makes every request a context.
    g.setdefault(_OPEN, True)


def locale_code() -> str:
    """The locale of this request (``zh_CN`` or ``en``); the default outside one."""
    if not has_app_context():
        return _FALLBACK_LOCALE
    _open_context()
    locale = get_locale()
    if locale is None:
        return str(current_app.config.get("BABEL_DEFAULT_LOCALE", _FALLBACK_LOCALE))
    # Babel names zh_CN "zh_Hans_CN"; the pages know two languages.
    return "zh_CN" if locale.language == "zh" else "en"


def html_lang() -> str:
    """The value for ``<html lang>``."""
    return _HTML_LANG.get(locale_code(), "en")


def pool_zone() -> ZoneInfo:
    """The pool's time zone, in which pages show times."""
    name = current_app.config.get(TIMEZONE) if has_app_context() else None
    return _zone(str(name or _FALLBACK_ZONE))


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@functools.cache
def _parsed(code: str) -> Locale:
    # Parsing a locale reads and merges Babel's data files: done on every
    # call, it was a large share of a page's time (a statement formats a
    # hundred sums).  A Locale is never changed by formatting, and there are
    # two, so one parsed Locale per code serves every request and thread.
    return Locale.parse(code)


def _locale() -> Locale:
    return _parsed(locale_code())


class _Catalogs(Domain):  # type: ignore[misc]
    """Flask-Babel's catalogs, merged from every area, found by our locale
    names: Babel calls ``zh_CN`` "zh_Hans_CN", a folder name that gettext
    would look for and not find."""

    def __init__(self) -> None:
        super().__init__()
        self._merged: dict[str, NullTranslations] = {}

    def get_translations(self) -> NullTranslations:
        if not has_app_context():
            return NullTranslations()
        code = locale_code()
        merged = self._merged.get(code)
        if merged is None:
            merged = Translations()
            for folder in get_babel().translation_directories:
                catalog = Translations.load(folder, [code])
                if isinstance(catalog, Translations):  # else no catalog for ``code``
                    merged.merge(catalog)
                    # merge() keeps the first catalog's plural rule only.
                    merged.plural = catalog.plural
            self._merged[code] = merged
        return merged


# --- numbers and money --------------------------------------------------------------


#: ``format_currency`` parses its pattern on every call; it is one pattern.
_YUAN = parse_pattern("¥#,##0.00")


def yuan(fen: int) -> str:
    """Integer ``fen`` as yuan, exactly: ``¥1,234.56``, ``-¥0.30`` (both
    locales write the yuan sign; English's "CN¥" would puzzle a member)."""
    amount = Decimal(fen).scaleb(-2)
    return str(_YUAN.apply(amount, _locale(), currency="CNY", currency_digits=False))


def number(n: int) -> str:
    """An integer with the locale's thousands separators: ``1,234,567``."""
    return format_decimal(n, locale=_locale())


# --- dates and times --------------------------------------------------------------


def _aware(value: _dt.datetime) -> _dt.datetime:
    # The log's times are UTC; a naive one here is one of them.
    return value if value.tzinfo else value.replace(tzinfo=_dt.UTC)


def _as_datetime(value: _dt.datetime | str) -> _dt.datetime:
    if isinstance(value, str):
        return _aware(_dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
    return _aware(value)


def _local(value: _dt.datetime | _dt.date | str) -> _dt.datetime | _dt.date:
    """A time in the pool's zone; a calendar date stays the date it is."""
    if isinstance(value, str) and "T" not in value:
        return _dt.date.fromisoformat(value)
    if isinstance(value, _dt.datetime | str):
        return _as_datetime(value).astimezone(pool_zone())
    return value


def date(value: _dt.datetime | _dt.date | str) -> str:
    """The day, in the pool's zone: ``Jan 2, 2026`` / ``2026年1月2日``."""
    return format_skeleton("yMMMd", _local(value), locale=_locale())


def datetime(value: _dt.datetime | str) -> str:
    """Day and minute in the pool's zone: ``Jan 2, 2026, 12:30 AM`` /
    ``2026年1月2日 00:30``."""
    local = _local(value)
    if not isinstance(local, _dt.datetime):
        return date(local)
    locale = _locale()
    pattern = str(get_datetime_format("medium", locale=locale)).replace("'", "")
    time_text = format_time(local, "short", locale=locale)
    return pattern.replace("{0}", time_text).replace("{1}", date(local))


def month(value: _dt.datetime | _dt.date | str) -> str:
    """A month: ``Mar 2026`` / ``2026年3月``; ``value`` may be ``YYYY-MM``."""
    if isinstance(value, str) and len(value) == 7:
        value = _dt.date.fromisoformat(value + "-01")
    return format_skeleton("yMMM", _local(value), locale=_locale())


# --- the log's codes in words -----------------------------------------------------------

_CATEGORIES: Mapping[str, object] = {
    "cancer": _l("cancer"),
    "heart_attack": _l("heart attack"),
    "stroke": _l("stroke"),
    "organ_transplant": _l("organ transplant"),
    "kidney_failure": _l("kidney failure"),
    "coronary_bypass": _l("coronary bypass surgery"),
    "other_serious": _l("other serious illness"),
}

_STAGES: Mapping[str, object] = {
    "filed": _l("filed"),
    "noticed": _l("on public notice"),
    "voting": _l("jurors voting"),
    "redraw": _l("waiting for a new panel"),
    "rejected": _l("rejected"),
    "appealed": _l("appealed"),
    "approved": _l("approved"),
    "paid": _l("paid"),
    "closed": _l("closed"),
}

_OUTCOMES: Mapping[str, object] = {
    "approved": _l("approved"),
    "rejected": _l("rejected"),
    "no_quorum": _l("too few votes"),
    "ineligible": _l("not eligible"),
}

_CHOICES: Mapping[str, object] = {
    "approve": _l("approve"),
    "reject": _l("reject"),
}

_AGE_BANDS: Mapping[str, object] = {
    "0-17": _l("under 18"),
    "18-39": _l("18 to 39"),
    "40-59": _l("40 to 59"),
}

_LEAVE_REASONS: Mapping[str, object] = {
    "voluntary": _l("left of their own choice"),
    "waiting_period": _l("left during the waiting period"),
    "age_limit": _l("reached the age limit"),
    "removed": _l("removed"),
}


def _word(words: Mapping[str, object], code: object) -> str:
    key = str(code)
    return str(words[key]) if key in words else key


def category(code: object) -> str:
    """An illness category in words (``other_serious`` → "other serious illness")."""
    return _word(_CATEGORIES, code)


def stage(code: object) -> str:
    """A claim's stage in words."""
    return _word(_STAGES, code)


def outcome(code: object) -> str:
    """A decision's outcome in words."""
    return _word(_OUTCOMES, code)


def choice(code: object) -> str:
    """A juror's vote in words."""
    return _word(_CHOICES, code)


def age_band(code: object) -> str:
    """An age band in words."""
    return _word(_AGE_BANDS, code)


def leave_reason(code: object) -> str:
    """Why a membership ended, in words."""
    return _word(_LEAVE_REASONS, code)


_FILTERS = {
    "yuan": yuan,
    "number": number,
    "date": date,
    "datetime": datetime,
    "month": month,
    "category": category,
    "stage": stage,
    "outcome": outcome,
    "choice": choice,
    "age_band": age_band,
    "leave_reason": leave_reason,
}


def _template_globals() -> dict[str, object]:
    return {"html_lang": html_lang(), "locale": locale_code(), "locales": LOCALES}


def init_app(app: Flask) -> None:
    """Wire Flask-Babel, the catalogs, the filters and ``Vary`` into ``app``."""
    directories = [str(TRANSLATIONS / area) for area in AREAS if (TRANSLATIONS / area).is_dir()]
    zone = _zone_name(app)
    app.config[TIMEZONE] = zone
    app.config["BABEL_DEFAULT_LOCALE"] = _default_locale(app)
    app.config["BABEL_DEFAULT_TIMEZONE"] = zone
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(directories)
    babel = Babel(app, locale_selector=_select_locale)
    # Flask-Babel keeps its domain in a cached property: this sets it.
    babel.domain_instance = _Catalogs()
    # First of all hooks, so that even a refusal by a later hook (a CSRF
    # failure) is answered in the visitor's language.
    app.before_request_funcs.setdefault(None, []).insert(0, _open_context)
    app.jinja_env.filters.update(_FILTERS)
    # A notice's facts in words: its own module and catalog (area notices).
    from server.notice_words import FILTERS as NOTICE_FILTERS

    app.jinja_env.filters.update(NOTICE_FILTERS)
    app.context_processor(_template_globals)
    app.after_request(_vary)

"""The language of the client's human output: GNU gettext, from the standard library.

The language comes from the environment as gettext reads it: the first of
``LANGUAGE`` (a colon-separated list), ``LC_ALL``, ``LC_MESSAGES`` and
``LANG`` that is set; ``LANG=zh_CN.UTF-8`` gives Simplified Chinese, and
``C``, ``POSIX``, English or a language without a catalog gives the English
source strings unchanged.  The compiled catalog
``client/locale/<lang>/LC_MESSAGES/mutualog.mo`` ships in the package, so
nothing has to be compiled after installing.

Nothing is built at import time: :func:`activate` loads the catalog for one
run of :func:`client.cli.main` and holds it in a context variable until the
run ends, so tests can run ``main`` in one process under several languages.
Outside a run, :func:`_` and the rest return the English source.

Only the human output is translated.  ``--json`` reports, check ids and
exit codes are an interface (docs/client.md, "Stable output") and never go
through this module.  A check's ``detail`` is English in the report; the
human output translates it here, by matching it against the templates in
:mod:`client.details` (:func:`detail`), because most details are written by
``verifiable/``, which stays free of any language.
"""

from __future__ import annotations

import gettext
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

__all__ = [
    "DOMAIN",
    "N_",
    "Language",
    "_",
    "activate",
    "check_label",
    "detail",
    "languages",
    "load",
    "ngettext",
    "pgettext",
]

DOMAIN = "mutualog"
CHECK_CONTEXT = "check"
"""The ``msgctxt`` of a check's label: a check id such as ``rules`` or
``stage`` is also an ordinary word, translated apart from its label."""

_ENV_ORDER = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_NESTING = 3
"""How deep a detail's parts are translated in turn (``{error}`` inside
``{label}: {error}``): enough for the details the checks write."""


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark, translate later"
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


def languages(environ: Mapping[str, str]) -> list[str]:
    """The languages asked for, in gettext's order of the variables."""
    for name in _ENV_ORDER:
        value = environ.get(name)
        if value:
            return [lang for lang in value.split(":") if lang]
    return []


def _locale_dir() -> Path:
    return Path(str(resources.files("client") / "locale"))


@dataclass
class Language:
    """One run's catalog, and the detail templates compiled against it."""

    translations: gettext.NullTranslations
    _patterns: list[tuple[re.Pattern[str], str]] | None = field(default=None, repr=False)

    @property
    def translated(self) -> bool:
        """Whether a catalog was found: without one the output stays as written."""
        return type(self.translations) is not gettext.NullTranslations

    def patterns(self) -> list[tuple[re.Pattern[str], str]]:
        """The detail templates that have a translation, most specific first."""
        if self._patterns is None:
            from client.details import TEMPLATES

            compiled = [
                (_template_pattern(t), t) for t in TEMPLATES if self.translations.gettext(t) != t
            ]
            compiled.sort(key=lambda p: -len(_PLACEHOLDER.sub("", p[1])))
            self._patterns = compiled
        return self._patterns


def _before_english(asked: list[str]) -> list[str]:
    """The languages asked for before English, the language of the source
    strings, which has no catalog: ``LANGUAGE=en:zh_CN`` means English, not
    "the first with a catalog"."""
    for n, lang in enumerate(asked):
        if lang in ("C", "POSIX") or lang.split("_")[0].split(".")[0] == "en":
            return asked[:n]
    return asked


def load(environ: Mapping[str, str] | None = None) -> Language:
    """The catalog for the language ``environ`` asks for (default: this process's)."""
    asked = _before_english(languages(os.environ if environ is None else environ))
    return Language(
        gettext.translation(DOMAIN, _locale_dir(), languages=asked or ["C"], fallback=True)
    )


_current: ContextVar[Language] = ContextVar("mutualog_language")


@contextmanager
def activate(language: Language) -> Iterator[Language]:
    """Make ``language`` the one :func:`_` and the rest use, until the block ends."""
    token = _current.set(language)
    try:
        yield language
    finally:
        _current.reset(token)


def _translations() -> gettext.NullTranslations:
    language = _current.get(None)
    return gettext.NullTranslations() if language is None else language.translations


def _(message: str) -> str:
    return _translations().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return _translations().pgettext(context, message)


def check_label(name: str) -> str:
    """A check's name for people, or its id where the language has no other."""
    return pgettext(CHECK_CONTEXT, name)


def _template_pattern(template: str) -> re.Pattern[str]:
    parts: list[str] = []
    seen: set[str] = set()
    at = 0
    for m in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[at : m.start()]))
        name = m.group(1)
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        at = m.end()
    parts.append(re.escape(template[at:]))
    return re.compile("".join(parts), re.DOTALL)


def detail(text: str) -> str:
    """``text``, an English detail, note or error, in the run's language.

    The first template (:mod:`client.details`) that the whole text matches
    gives the translation, its values translated in turn; a text that
    matches none is shown as written: a hash, a path or a message the
    catalog does not know yet is still shown rather than lost."""
    language = _current.get(None)
    if language is None or not language.translated:
        return text
    return _detail(language, text, _NESTING)


def _detail(language: Language, text: str, depth: int) -> str:
    exact = language.translations.gettext(text)
    if exact != text:
        return exact
    if depth == 0:
        return text
    for pattern, template in language.patterns():
        m = pattern.fullmatch(text)
        if m is None:
            continue
        values = {k: _detail(language, v, depth - 1) for k, v in m.groupdict().items()}
        return language.translations.gettext(template).format(**values)
    return text

"""sid's message catalogues: every text sid writes for a reader, in Dutch (``nl``) and English (``en``).

Every sentence, heading and label a report, the tables workbook (``workbook.*``), the
analysts' files (``analyst.*``) or the indicator base (``indicator_base.*``, always Dutch)
shows lives in one plain YAML file per language (``sid/messages/nl.yaml``, ``en.yaml``),
nested by page or file; code and templates name a text by
its dotted key (``catalogue("fieldwork.title")``) and never hold the text themselves. A
text may hold ``{name}`` fields, filled with :meth:`str.format` arguments. The two files
have the same keys and the same fields (tests/test_report_language.py), so a report renders in
either language without a missing text.

The language of a run is ``language:`` in the project file (sid.yaml, top level or per
wave; default ``nl``) or ``--lang`` of ``sid run``, ``sid tables``, ``sid report`` and
``sid trend`` (docs/project-file.md). Every key the code names exists in both files
(tests/test_output_language.py).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from sid.errors import SpecError

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
_FOLDER = Path(__file__).resolve().parent


def check_language(lang: str, where: str = "language") -> str:
    """``lang`` when sid has a catalogue for it, else a one-line SpecError naming ``where``."""
    if lang not in LANGUAGES:
        raise SpecError(f"{where}: no report language {lang!r}; use one of {', '.join(LANGUAGES)}")
    return lang


def _flatten(obj: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in obj.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = str(v)
    return out


def fields(text: str) -> set[str]:
    """The ``{name}`` fields of a catalogue text."""
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


class Catalogue:
    """The texts of one language: ``cat(key, **fields)`` -> the formatted text (str).

    A key the catalogue lacks is a KeyError naming it and the file: a bug in sid (the
    tests render every page in both languages), not a user error.
    """

    def __init__(self, lang: str, texts: Mapping[str, str]) -> None:
        self.lang = lang
        self.texts = dict(texts)

    def __call__(self, key: str, **values: Any) -> str:
        try:
            text = self.texts[key]
        except KeyError:
            raise KeyError(f"sid/messages/{self.lang}.yaml: no text {key!r}") from None
        return text.format(**values) if values else text

    def get(self, key: str, default: str | None = None, **values: Any) -> str | None:
        """The text of ``key`` when the catalogue has one, else ``default``."""
        return self(key, **values) if key in self.texts else default

    def has(self, key: str) -> bool:
        """Whether the catalogue has a text ``key``."""
        return key in self.texts

    def section(self, prefix: str) -> dict[str, str]:
        """Every text under ``prefix.`` as {rest of the key: text}, in the file's order."""
        p = prefix + "."
        return {k[len(p):]: v for k, v in self.texts.items() if k.startswith(p)}


@cache
def catalogue(lang: str = DEFAULT_LANGUAGE) -> Catalogue:
    """The catalogue of ``lang`` (one of :data:`LANGUAGES`), read once."""
    check_language(lang)
    path = _FOLDER / f"{lang}.yaml"
    return Catalogue(lang, _flatten(yaml.safe_load(path.read_text(encoding="utf-8")) or {}))

"""What a reader sees on a report page, and what must not be there (tests/test_report_language.py).

:func:`visible` parses a rendered page with html.parser and returns its visible text
(element text and ``title`` tooltips, SVG text included; no <style>), with the elements
that legitimately hold names kept apart: ``<code class="var">`` (a variable name of the
questionnaire, which an analyst needs to find it in the .sav), ``class="path"`` (a file of
the run folder or a spec), ``class="cmd"`` (a sid command), ``class="key"`` (a respondent
key), ``class="agency"`` (a disposition code as the fieldwork agency delivered it),
``class="hash"`` (SHA-256), ``class="ref"`` (a cited title, in its own language) and
``class="src"`` (R or SPSS syntax). :func:`problems` lists what a Dutch (or English) page
must not show: snake_case tokens, codes written as floats ("3.0") in code cells or before
an arrow, Python reprs of dicts and lists, and words of the other language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

KEPT_APART = ("var", "path", "cmd", "key", "agency", "hash", "ref", "src")
SNAKE = re.compile(r"\b[A-Za-z]+(?:_[A-Za-z0-9]+)+\b")
FLOAT_CODE = re.compile(r"\b\d+\.0\b")
FLOAT_ARROW = re.compile(r"\b\d+\.0\s*(?:->|→)")
REPR = re.compile(r"\{'|\['|'\]|':\s|\bTrue\b|\bFalse\b|\bNone\b|\bnan\b|\bNaN\b|<NA>")
#: English words that do not occur in Dutch prose (checked on the Dutch pages)
ENGLISH = ("the", "and", "with", "from", "within", "not", "weights", "weighted", "replicates",
           "partial", "counted", "loading", "differs", "pooled", "invariance", "scalar",
           "configural", "supported", "valid", "few", "among", "calibration", "trimming", "rescaling",
           "drawn", "steps", "redone", "held", "fixed", "propensity", "rounds", "unknown", "eligibility",
           "proportional", "reporting", "rows", "denominator", "given", "estimable", "none", "yes", "mean",
           "status complete", "break-offs", "design weights", "not computable", "too", "items of", "per replicate")
#: Dutch words that do not occur in English prose (checked on the English pages)
DUTCH = ("het", "van", "een", "niet", "en", "met", "voor", "gewicht", "gewichten", "respondenten", "ongewogen",
         "volledig", "gedeeltelijk", "afgebroken", "weging", "opschoning", "betrouwbaarheid", "groep", "totaal",
         "marge", "vlag", "schatting", "bron", "stap", "rapport", "veldwerk", "aandeel", "gemiddelde")


@dataclass
class Page:
    """The visible text of a page: ``text`` (every text node and tooltip, one per item),
    ``code_cells`` (cells of class "code": values of a variable), ``kept`` (class -> texts
    of the elements kept apart) and the number of <svg> charts."""

    text: list[str] = field(default_factory=list)
    code_cells: list[str] = field(default_factory=list)
    kept: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KEPT_APART})
    charts: int = 0


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.stack: list[tuple[str, set[str]]] = []
        self.skip = 0

    _VOID = {"br", "meta", "img", "hr", "input", "link", "path", "use", "rect", "circle", "line", "polyline"}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self.page.charts += 1
        if a.get("title"):
            self._add(a["title"], set((a.get("class") or "").split()))
        if tag in self._VOID:
            return
        self.stack.append((tag, set((a.get("class") or "").split())))
        if tag in ("style", "script"):
            self.skip += 1

    def handle_startendtag(self, tag, attrs):
        a = dict(attrs)
        if a.get("title"):
            self._add(a["title"], set((a.get("class") or "").split()))

    def handle_endtag(self, tag):
        while self.stack:
            t, _ = self.stack.pop()
            if t in ("style", "script"):
                self.skip -= 1
            if t == tag:
                break

    def handle_data(self, data):
        if self.skip or not data.strip():
            return
        classes = set().union(*(c for _, c in self.stack)) if self.stack else set()
        self._add(data, classes)

    def _add(self, text: str, classes: set[str]) -> None:
        text = " ".join(text.split())
        for k in KEPT_APART:
            if k in classes:
                self.page.kept[k].append(text)
                return
        if "code" in classes:
            self.page.code_cells.append(text)
        self.page.text.append(text)


def visible(html: str) -> Page:
    """The visible text of the page ``html``."""
    p = _Parser()
    p.feed(html)
    p.close()
    return p.page


def problems(page: Page, lang: str = "nl", allowed: set[str] = frozenset()) -> list[str]:
    """What the page shows that it must not: one line per finding (empty: none).

    ``allowed``: tokens allowed outside the kept-apart elements (e.g. the SHA-256 heading)."""
    out = []
    words = ENGLISH if lang == "nl" else DUTCH
    other = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)
    for text in page.text:
        for tok in SNAKE.findall(text):
            if tok not in allowed:
                out.append(f"snake_case {tok!r} in {text[:120]!r}")
        for m in FLOAT_ARROW.findall(text):
            out.append(f"float code {m!r} in {text[:120]!r}")
        for m in REPR.findall(text):
            out.append(f"Python repr {m!r} in {text[:120]!r}")
        for m in other.findall(text):
            if m.lower() not in allowed:
                out.append(f"{'English' if lang == 'nl' else 'Dutch'} word {m!r} in {text[:160]!r}")
    for text in page.code_cells:
        for m in FLOAT_CODE.findall(text):
            out.append(f"float code {m!r} in a code cell {text[:80]!r}")
    return out

"""Rendering of the HTML reports: a jinja2 environment over sid's templates and the project's.

sid's own templates are ``sid/report/templates/*.html.j2``, so a new project needs none; a
wave's ``templates`` folder (sid.yaml) overrides any of them by name. Every report extends
``base.html.j2`` (inline CSS, a provenance block and method notes). The environment uses ``StrictUndefined`` (a
template that names a value the report module did not gather raises instead of printing
an empty string) and autoescapes HTML, so labels from the spec cannot break the page.

Number formats (filters): a decimal point, as in the tables output (CSV), so a reader can
compare a report's figures with the tables; thousands are separated by a thin space.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from sid.errors import SpecError
from sid.messages import DEFAULT_LANGUAGE, catalogue

PathLike = str | os.PathLike[str]
TEMPLATE_SUFFIX = ".html.j2"
BASE_TEMPLATE = "base" + TEMPLATE_SUFFIX
#: sid's built-in report templates (a project's templates folder overrides them by name)
BUILTIN_TEMPLATES = Path(__file__).resolve().parent / "templates"


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _no_negative_zero(text: str) -> str:
    # -0.00 reads as a sign that is not there
    return text[1:] if text.startswith("-") and not text.strip("-0.\u2009") else text


def fmt_num(x: Any, digits: int = 1) -> str:
    """A number with ``digits`` decimals; "–" for a missing value."""
    if _missing(x):
        return "–"
    return _no_negative_zero(f"{float(x):,.{digits}f}".replace(",", "\u2009"))  # thin space between thousands


def fmt_int(x: Any) -> str:
    """A count as a whole number with thin-space thousands; "–" for a missing value."""
    if _missing(x):
        return "–"
    return f"{round(float(x)):,d}".replace(",", "\u2009")


def fmt_pct(x: Any, digits: int = 1) -> str:
    """A proportion (0-1) as a percentage number with ``digits`` decimals (no % sign)."""
    if _missing(x):
        return "–"
    return _no_negative_zero(f"{100.0 * float(x):.{digits}f}")


def fmt_p(p: Any) -> str:
    """A p value: three decimals, "<0.001" below that."""
    if _missing(p):
        return "–"
    return "<0.001" if float(p) < 0.001 else f"{float(p):.3f}"


def fmt_p_relation(p: Any) -> str:
    """A p value after "p": "= 0.023", "< 0.001"; "–" when missing."""
    if _missing(p):
        return "–"
    return "< 0.001" if float(p) < 0.001 else f"= {float(p):.3f}"


def fmt_sig(x: Any, digits: int = 3) -> str:
    """A number with ``digits`` significant figures (weights, ratios); "–" when missing."""
    if _missing(x):
        return "–"
    return f"{float(x):.{digits}g}"


def fmt_auto(x: Any) -> str:
    """A positive quantity such as a weight: whole above 100, one decimal above 10, else two."""
    if _missing(x):
        return "–"
    size = abs(float(x))
    return fmt_num(x, 0 if size >= 100 else 1 if size >= 10 else 2)


def fmt_as(x: Any, kind: str) -> str:
    """``x`` in the format named ``kind``: "int", "num1", "num2", "num3", "pct", "p", "sig" or "auto".

    A text cell (e.g. a stage's description of its method in a diagnostics table) is
    shown as written: the format applies to numbers only.
    """
    if isinstance(x, str):
        try:
            x = float(x)
        except ValueError:
            return x
    if kind == "auto":
        return fmt_auto(x)
    if kind.startswith("num"):
        return fmt_num(x, int(kind[3:] or 1))
    return {"int": fmt_int, "pct": fmt_pct, "p": fmt_p, "sig": fmt_sig}[kind](x)


FILTERS = {"num": fmt_num, "int": fmt_int, "pct": fmt_pct, "p": fmt_p, "p_rel": fmt_p_relation, "sig": fmt_sig,
           "fmt": fmt_as}


def template_folders(templates_dir: PathLike | None = None) -> list[Path]:
    """Where templates are looked up, first match wins: ``templates_dir`` (a project's),
    then sid's built-in templates."""
    folders = []
    if templates_dir is not None:
        folder = Path(templates_dir)
        if not folder.is_dir():
            raise SpecError(f"{folder}: report templates folder not found; fix the wave's "
                            "templates: in sid.yaml, or leave it out to use sid's own templates")
        folders.append(folder)
    return folders + [BUILTIN_TEMPLATES]


def template_files(templates_dir: PathLike | None = None) -> list[Path]:
    """The template file used for each template name (a project's override, else sid's)."""
    chosen: dict[str, Path] = {}
    for folder in template_folders(templates_dir):
        for p in sorted(folder.glob("*" + TEMPLATE_SUFFIX)):
            chosen.setdefault(p.name, p)
    return [chosen[n] for n in sorted(chosen)]


def environment(templates_dir: PathLike | None = None, lang: str = DEFAULT_LANGUAGE) -> jinja2.Environment:
    """The jinja2 environment of the reports (StrictUndefined, autoescape): the templates of
    ``templates_dir`` (a project's), and sid's built-in ones for every name it lacks.

    ``lang``: the language of the texts (sid.messages). Templates take every text from its
    catalogue with ``t("page.key", field=value)`` (the catalogue's markup is kept, the
    fields are escaped) and know the language as ``lang`` (``<html lang>``).
    """
    cat = catalogue(lang)

    def t(key: str, **values: Any) -> markupsafe.Markup:
        return markupsafe.Markup(cat(key)).format(**values) if values else markupsafe.Markup(cat(key))

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(f) for f in template_folders(templates_dir)]),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    env.globals.update(t=t, lang=lang)
    return env


def render(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> str:
    """Render the template ``name`` (e.g. "fieldwork.html.j2") with ``context``.

    A variable the template uses but ``context`` lacks, or a syntax error, in a project's
    template (an override) is a :class:`SpecError` naming the file and what the template
    may use; in one of sid's own templates it is a bug and raises jinja2's error.
    """
    try:
        template = env.get_template(name)
    except jinja2.TemplateNotFound as exc:
        raise SpecError(f"report template {name} not found in {env.loader.searchpath}; "  # type: ignore[union-attr]
                        "restore it in the project's templates folder, or remove the override") from exc
    except jinja2.TemplateSyntaxError as exc:
        if exc.filename is None or _builtin(exc.filename):
            raise
        raise SpecError(f"{exc.filename}:{exc.lineno}: template syntax error: {exc.message}; "
                        "fix the project's template, or remove it to use sid's own") from exc
    try:
        return template.render(**context)
    except jinja2.UndefinedError as exc:
        if template.filename is None or _builtin(template.filename):
            raise
        raise SpecError(f"{template.filename}: {exc.message}; this template may use "
                        f"{', '.join(sorted(context))} (and t, lang)") from exc


def _builtin(filename: str) -> bool:
    return Path(filename).resolve().is_relative_to(BUILTIN_TEMPLATES)

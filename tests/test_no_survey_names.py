"""No code names SID 2022's files or variables (issue 11): they come from the project file.

Every string literal in sid/**/*.py (tokenize's STRING tokens, docstrings left out:
docstrings and comments may mention SID as an example) is compared with the names SID 2022
gives its gross sample file and its key, group, stratum, breakdown and disposition
variables. sid/demo/ is left out: it writes the SID 2022 demo wave, so it names them.

The few literals allowed are in ALLOWED below (file relative to sid/, the literal), each
with its reason; a test checks every allowance is still needed.
"""

from __future__ import annotations

import ast
import functools
import io
import tokenize
from pathlib import Path

SID = Path(__file__).resolve().parents[1] / "sid"
NAMES = {"gross_sample.csv", "origin", "person_key", "sex", "age_band", "disposition", "stratum"}
EXCLUDED = ("demo",)  # sid/demo writes the SID 2022 demo wave
ALLOWED = {
    # the VLIM indicator base's own columns: an external schema, the same for every survey,
    # declared in this one place (the survey variables feeding them are linkage-spec data)
    ("linkage/schema.py", "origin"): "the base's origin-category column",
    ("linkage/schema.py", "sex"): "the base's breakdown column",
    ("linkage/schema.py", "age_band"): "the base's breakdown column",
    # keys of sid's own file formats that happen to be spelled like SID's variable
    ("project/load.py", "disposition"): "the role key `disposition` of sid.yaml (docs/project-file.md)",
    ("spec/weighting.py", "disposition"): "the key `sample.disposition` of a weighting spec",
}


def _docstrings(tree: ast.AST) -> set[tuple[int, int]]:
    """Start positions of the module, class and function docstrings."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                out.add((body[0].lineno, body[0].col_offset))
    return out


@functools.cache
def literals(path: Path) -> list[tuple[int, str]]:
    """(line, value) of every string literal of ``path`` but its docstrings."""
    src = path.read_text(encoding="utf-8")
    docs = _docstrings(ast.parse(src))
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type != tokenize.STRING or tok.start in docs:
            continue
        try:
            value = ast.literal_eval(tok.string)
        except ValueError:  # an f-string: its literal parts are not whole names
            continue
        if isinstance(value, str):
            out.append((tok.start[0], value))
    return out


def findings() -> list[str]:
    found = []
    for p in sorted(SID.rglob("*.py")):
        rel = p.relative_to(SID).as_posix()
        if rel.split("/")[0] in EXCLUDED:
            continue
        for line, value in literals(p):
            if value in NAMES and (rel, value) not in ALLOWED:
                found.append(f"sid/{rel}:{line}: {value!r}")
    return found


def test_no_code_outside_the_demo_names_sid_2022s_files_or_variables():
    assert findings() == []


def test_every_allowance_is_still_needed():
    used = {(p.relative_to(SID).as_posix(), v) for p in SID.rglob("*.py")
            for _, v in literals(p) if v in NAMES}
    assert set(ALLOWED) <= used, set(ALLOWED) - used


def test_the_scan_finds_a_literal_and_skips_docstrings(tmp_path):
    p = tmp_path / "m.py"
    p.write_text('"""Uses origin and "person_key" in a docstring."""\n\n'
                 'def f(df):\n    """The \'stratum\' column."""\n    return df["origin"], f"{df}stratum"\n',
                 encoding="utf-8")
    assert literals(p) == [(5, "origin")]

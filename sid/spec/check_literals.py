"""Lint of the literals an expression compares variables with (part of ``sid check``).

``has_partner == 3`` where has_partner's categories are 1 and 2 routes nobody; ``origin
== 1`` where origin is text fails at run time. Both are found here, before any data
exist, by walking the expression's tree for a variable compared with a literal
(``==, !=, <, ...``, ``in``, ``is_code``, ``count_equal``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from sid.spec import expr_nodes as N
from sid.spec.expr import SHOWN_SOURCE, Expression
from sid.spec.questionnaire import Questionnaire
from sid.spec.yamlfile import shown


def _walk(node: N.Node) -> Iterator[N.Node]:
    yield node
    for f in dataclasses.fields(node):  # type: ignore[arg-type]
        value = getattr(node, f.name)
        children = value if isinstance(value, list | tuple) else [value]
        for child in children:
            if isinstance(child, N.Node):
                yield from _walk(child)


def _pairs(root: N.Node) -> Iterator[tuple[str, str, tuple]]:
    """``(variable, operator, literals)`` for each variable compared with literals."""
    for node in _walk(root):
        if isinstance(node, N.Compare):
            if isinstance(node.left, N.Name) and isinstance(node.right, N.Const):
                yield node.left.name, node.op, (node.right.value,)
            elif isinstance(node.right, N.Name) and isinstance(node.left, N.Const):
                yield node.right.name, node.op, (node.left.value,)
        elif isinstance(node, N.In) and isinstance(node.operand, N.Name):
            yield node.operand.name, "in", tuple(node.values)
        elif isinstance(node, N.Call) and node.func == "is_code":
            yield node.args[0].name, "is_code", (node.args[1].value,)  # type: ignore[union-attr]
        elif isinstance(node, N.Call) and node.func == "count_equal":
            for a in node.args[1:]:
                if isinstance(a, N.Name):
                    yield a.name, "==", (node.args[0].value,)  # type: ignore[union-attr]


def _show(x: float | str) -> str:
    return repr(x) if isinstance(x, str) else (str(int(x)) if float(x).is_integer() else str(x))


def literal_problems(expr: Expression, q: Questionnaire) -> list[tuple[str, str]]:
    """``(severity, message)`` for each literal that cannot match the variable it is
    compared with: text against a number (error), a code that is neither a category nor
    a missing code, a missing code (missing in the valid view: use ``is_code``), a value
    outside the valid range, ``is_code`` with a non-missing code (warnings). Names the spec does not declare are left to the name checks."""
    out: list[tuple[str, str]] = []
    seen: set[tuple] = set()
    for name, op, literals in _pairs(expr.root):
        if name not in q:
            continue
        v = q.variable(name)
        for lit in literals:
            key = (name, op, lit)
            if key in seen:
                continue
            seen.add(key)
            if isinstance(lit, str) != v.is_text:
                kind = "text" if v.is_text else "numeric"
                out.append(("error", f"{shown(expr.source, limit=SHOWN_SOURCE)} compares {kind} variable {shown(name)} with "
                                     f"{_show(lit)}, which can never match"))
                continue
            if op == "is_code":
                if lit not in q.missing_codes_for(name):
                    out.append(("warning", f"{shown(expr.source, limit=SHOWN_SOURCE)}: {_show(lit)} is not a missing code "
                                           f"of {shown(name)}, so is_code() is never true"))
                continue
            if op not in ("==", "!=", "in"):
                continue
            if lit in q.missing_codes_for(name):
                out.append(("warning", f"{shown(expr.source, limit=SHOWN_SOURCE)}: {_show(lit)} is a missing code of "
                                       f"{shown(name)}, which expressions see as missing; use "
                                       f"is_code({name}, {_show(lit)})"))
            elif v.categories and lit not in v.categories:
                out.append(("warning", f"{shown(expr.source, limit=SHOWN_SOURCE)}: {_show(lit)} is not a category of "
                                       f"{shown(name)} ({', '.join(map(_show, v.categories))})"))
            elif (not v.categories and v.range is not None and not isinstance(lit, str)
                  and not v.range[0] <= lit <= v.range[1]):
                out.append(("warning", f"{shown(expr.source, limit=SHOWN_SOURCE)}: {_show(lit)} is outside the range of "
                                       f"{shown(name)} {list(v.range)}"))
    return out

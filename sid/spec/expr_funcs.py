"""The whitelisted functions of sid expressions (see :mod:`sid.spec.expr`).

Each is vectorised over numpy arrays. Arguments are checked at parse time
(:func:`check_call`: arity, literal arguments); types at evaluation.

* ``is_missing(x)``: 1 where x is system missing or a declared missing code, else 0.
* ``answered(x)``: 1 - is_missing(x).
* ``is_code(x, c)``: 1 where the *raw* value of variable x is the code c (reads the raw
  codes, so a missing code can be tested after it became missing in the valid view).
* ``if_else(cond, a, b)``: a where cond is true, b where false, missing where unknown.
* ``coalesce(a, b, ...)``: the first argument that is not missing.
* ``cut(x, [e0, e1, ..., ek])``: code i (1..k) for ``e(i-1) <= x < e(i)``; missing outside.
* ``abs, floor, ceil``; ``round(x[, digits])`` rounds half away from zero (as SPSS RND).
* ``min(a, b, ...)``, ``max(a, b, ...)``: element-wise; missing if any argument is.
* ``count_valid(a, ...)``, ``mean_valid(a, ...)``: count / mean of the non-missing
  arguments (mean missing when none is valid).
* ``count_equal(v, a, b, ...)``: how many of a, b, ... equal the literal v.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sid.spec.expr_nodes import (
    Const,
    Context,
    Name,
    Node,
    _same_kind,
    is_text,
    isna,
    numeric,
    truth,
)

Args = Sequence[Node | tuple]
Impl = Callable[[Context, Args], np.ndarray]


@dataclass(frozen=True)
class FuncSpec:
    min_args: int
    max_args: int | None  # None: any number
    impl: Impl
    list_args: frozenset[int] = frozenset()  # positions that take a [list] literal


def _values(ctx: Context, args: Args) -> list[np.ndarray]:
    return [a.eval(ctx) for a in args]  # type: ignore[union-attr]


def _is_missing(ctx: Context, args: Args) -> np.ndarray:
    return isna(args[0].eval(ctx)).astype(float)  # type: ignore[union-attr]


def _answered(ctx: Context, args: Args) -> np.ndarray:
    return (~isna(args[0].eval(ctx))).astype(float)  # type: ignore[union-attr]


def _is_code(ctx: Context, args: Args) -> np.ndarray:
    raw = ctx.column(args[0].name, raw=True)  # type: ignore[union-attr]
    code = args[1].eval(ctx)  # type: ignore[union-attr]
    if is_text(raw) != is_text(code):
        raise ctx.expr.error("is_code() compares text with a number")
    if is_text(raw):
        return (np.where(isna(raw), "", raw).astype(object) == code.item()).astype(float)
    return (raw == code).astype(float)


def _if_else(ctx: Context, args: Args) -> np.ndarray:
    cond, a, b = _values(ctx, args)
    t = truth(cond, ctx.expr)
    if _same_kind(a, b, ctx.expr, "if_else()"):
        out = np.where(t == 1.0, a.astype(object), b.astype(object))
        return np.where(np.isnan(t), None, out)
    return np.where(np.isnan(t), np.nan, np.where(t == 1.0, a, b))


def _coalesce(ctx: Context, args: Args) -> np.ndarray:
    vals = _values(ctx, args)
    out = vals[0]
    for v in vals[1:]:
        if _same_kind(out, v, ctx.expr, "coalesce()") and not is_text(out):
            out = out.astype(object)
        out = np.where(isna(out), v, out)
    return out


def _cut(ctx: Context, args: Args) -> np.ndarray:
    x = numeric(args[0].eval(ctx), ctx.expr, "cut()")  # type: ignore[union-attr]
    edges = np.asarray(args[1], dtype=float)
    idx = np.searchsorted(edges, x, side="right").astype(float)
    ok = (idx >= 1) & (idx <= len(edges) - 1) & ~np.isnan(x)
    return np.where(ok, idx, np.nan)


def _unary(fn: Callable[[np.ndarray], np.ndarray], name: str) -> Impl:
    def impl(ctx: Context, args: Args) -> np.ndarray:
        return fn(numeric(args[0].eval(ctx), ctx.expr, f"{name}()"))  # type: ignore[union-attr]

    return impl


def _round(ctx: Context, args: Args) -> np.ndarray:
    x = numeric(args[0].eval(ctx), ctx.expr, "round()")  # type: ignore[union-attr]
    digits = int(args[1].value) if len(args) > 1 else 0  # type: ignore[union-attr]
    f = 10.0**digits
    return np.sign(x) * np.floor(np.abs(x) * f + 0.5) / f


def _reduce(fn: Callable[..., np.ndarray], name: str) -> Impl:
    def impl(ctx: Context, args: Args) -> np.ndarray:
        vals = [numeric(v, ctx.expr, f"{name}()") for v in _values(ctx, args)]
        return fn.reduce(np.broadcast_arrays(*vals))  # NaN propagates: missing if any is

    return impl


def _count_valid(ctx: Context, args: Args) -> np.ndarray:
    return sum((~isna(v)).astype(float) for v in _values(ctx, args))  # type: ignore[return-value]


def _mean_valid(ctx: Context, args: Args) -> np.ndarray:
    vals = [numeric(v, ctx.expr, "mean_valid()") for v in _values(ctx, args)]
    total = sum(np.nan_to_num(v, nan=0.0) for v in vals)
    count = sum((~np.isnan(v)).astype(float) for v in vals)
    return np.where(count > 0, total / np.where(count > 0, count, 1.0), np.nan)


def _count_equal(ctx: Context, args: Args) -> np.ndarray:
    target = args[0].eval(ctx)  # type: ignore[union-attr]
    total = np.zeros((), dtype=float)
    for v in _values(ctx, args[1:]):
        _same_kind(v, target, ctx.expr, "count_equal()")
        if is_text(v) != is_text(target):
            continue  # a number missing everywhere: never equal
        total = total + ((v == target) & ~isna(v)).astype(float)
    return total


FUNCTIONS: dict[str, FuncSpec] = {
    "is_missing": FuncSpec(1, 1, _is_missing),
    "answered": FuncSpec(1, 1, _answered),
    "is_code": FuncSpec(2, 2, _is_code),
    "if_else": FuncSpec(3, 3, _if_else),
    "coalesce": FuncSpec(2, None, _coalesce),
    "cut": FuncSpec(2, 2, _cut, frozenset({1})),
    "abs": FuncSpec(1, 1, _unary(np.abs, "abs")),
    "floor": FuncSpec(1, 1, _unary(np.floor, "floor")),
    "ceil": FuncSpec(1, 1, _unary(np.ceil, "ceil")),
    "round": FuncSpec(1, 2, _round),
    "min": FuncSpec(2, None, _reduce(np.minimum, "min")),
    "max": FuncSpec(2, None, _reduce(np.maximum, "max")),
    "count_valid": FuncSpec(1, None, _count_valid),
    "mean_valid": FuncSpec(1, None, _mean_valid),
    "count_equal": FuncSpec(2, None, _count_equal),
}


def check_call(fname: str, args: Sequence[Node | tuple]) -> str | None:
    """What is wrong with a call's arguments (parse time), or None."""
    spec = FUNCTIONS[fname]
    n = len(args)
    if n < spec.min_args or (spec.max_args is not None and n > spec.max_args):
        if spec.max_args == spec.min_args:
            want = f"{spec.min_args}"
        elif spec.max_args is None:
            want = f"at least {spec.min_args}"
        else:
            want = f"{spec.min_args} to {spec.max_args}"
        return f"{fname}() takes {want} argument{'s' if want != '1' else ''}, got {n}"
    if fname == "is_code":
        if not isinstance(args[0], Name):
            return "is_code(x, c): x must be a variable name"
        if not isinstance(args[1], Const):
            return "is_code(x, c): c must be a literal code"
    if fname == "cut":
        edges = args[1]
        if any(isinstance(e, str) for e in edges) or len(edges) < 2:  # type: ignore[union-attr]
            return "cut(x, [edges]): edges must be at least two numbers"
        if any(b <= a for a, b in zip(edges[:-1], edges[1:], strict=True)):  # type: ignore[index]
            return "cut(x, [edges]): edges must increase strictly"
    if fname == "round" and n == 2:
        d = args[1]
        if not (isinstance(d, Const) and isinstance(d.value, float) and d.value.is_integer()
                and 0 <= d.value <= 12):
            return "round(x, digits): digits must be a whole number from 0 to 12"
    if fname == "count_equal" and not isinstance(args[0], Const):
        return "count_equal(v, a, ...): v must be a literal value"
    return None

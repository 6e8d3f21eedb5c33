"""The node tree of sid expressions and its column-wise evaluation (see :mod:`sid.spec.expr`).

Every value during evaluation is a numpy array (0-d for literals, broadcast on use):
float64 with NaN for missing (logicals are 1.0 / 0.0 / NaN), or object arrays holding
``str`` with ``None`` / NaN for missing (columns come in with None: :func:`to_array`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd


class Source(Protocol):
    """What evaluation needs of the expression it evaluates (a :class:`sid.spec.expr.Expression`):
    an error naming it."""

    def error(self, message: str) -> Exception: ...


@dataclass
class Context:
    """What one evaluation sees: valid-view columns, raw codes, the row count, the
    expression evaluated and the whitelisted functions by name (sid.spec.expr_funcs)."""

    env: Mapping[str, Any]
    n: int
    codes: Mapping[str, Any] | None
    expr: Source
    functions: Mapping[str, Any] = field(default_factory=dict)
    _cache: dict[tuple[str, bool], np.ndarray] = field(default_factory=dict)

    def column(self, name: str, *, raw: bool = False) -> np.ndarray:
        key = (name, raw)
        if key not in self._cache:
            source = self.codes if raw else self.env
            if source is None:
                raise self.expr.error(
                    "is_code() needs the raw codes of the data (evaluate with codes=...)"
                )
            if name not in source:
                raise self.expr.error(f"variable {name!r} is not in the data")
            arr = source[name]
            # An environment that hands out converted arrays (sid.spec.frame.FrameEnv,
            # which converts each column once) is not converted again at every evaluation.
            if not getattr(source, "arrays_ready", False):
                arr = to_array(arr)
            if arr.ndim != 1 or len(arr) != self.n:
                raise self.expr.error(f"variable {name!r} has {arr.shape} values, expected {self.n}")
            self._cache[key] = arr
        return self._cache[key]


def to_array(values: Any) -> np.ndarray:
    """A column as float64 (NaN missing) or, for text, an object array of ``str`` (None
    missing).

    Blank text is missing: SPSS has no missing state for strings and stores blanks.
    """
    if isinstance(values, pd.Series | pd.Index | pd.api.extensions.ExtensionArray):
        s = pd.Series(values, copy=False)
        if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
            return s.to_numpy(dtype=float, na_value=np.nan)
        if isinstance(s.dtype, pd.StringDtype):
            return text_array(s)
        values = s.to_numpy(dtype=object, na_value=None)
    arr = np.asarray(values)
    if arr.dtype.kind in "biuf":
        return arr.astype(float, copy=False)
    if arr.dtype.kind in "US":
        return text_array(arr.astype(object))
    if arr.dtype.kind == "O":
        kind = pd.api.types.infer_dtype(arr, skipna=True)
        if kind in ("integer", "floating", "mixed-integer-float", "boolean", "decimal", "empty"):
            return pd.to_numeric(pd.Series(arr, dtype=object), errors="coerce").to_numpy(
                dtype=float, na_value=np.nan
            )
        if kind == "string":
            return text_array(arr)
        if kind.startswith(("date", "time", "period")):
            raise TypeError("values of dates and times are not supported in expressions")
        return arr
    raise TypeError(f"values of type {arr.dtype} (dates, times) are not supported in expressions")


def text_array(values: np.ndarray | pd.Series) -> np.ndarray:
    """Text values (object array of ``str`` or a pandas string Series) as an object array
    with None for missing and for blank (empty or whitespace-only) text.

    Vectorised over the *distinct* values: ``pd.factorize`` (hashing; pyarrow's
    dictionary encoding for Arrow-backed strings) finds them, only they are stripped, and
    the rows are filled by one take. A 350,000-row column of a few dozen distinct values
    costs a few milliseconds instead of 350,000 ``str.strip`` calls.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct = np.asarray(uniques, dtype=object)
    blank = pd.Series(distinct, dtype=object).str.strip().eq("").to_numpy(dtype=bool, na_value=True)
    # one slot more, for the NA sentinel -1 (numpy's take reads it as the last slot)
    table = np.empty(len(distinct) + 1, dtype=object)
    table[:-1] = np.where(blank, None, distinct)
    table[-1] = None
    return table[codes]


def is_text(v: np.ndarray) -> bool:
    return v.dtype == object


def isna(v: np.ndarray) -> np.ndarray:
    """Boolean array: missing (NaN, None, pd.NA)."""
    if v.dtype == object:
        return np.asarray(pd.isna(v), dtype=bool)
    return np.isnan(v)


def as_column(v: np.ndarray, n: int) -> np.ndarray:
    """Broadcast a result to ``n`` rows (a fresh, writable array)."""
    v = np.asarray(v)
    return np.array(np.broadcast_to(v, (n,)), dtype=v.dtype, copy=True)


def numeric(v: np.ndarray, expr: Source, what: str) -> np.ndarray:
    if v.dtype == object:
        if not isna(v).all():
            raise expr.error(f"{what} needs numbers, got text")
        return np.full(v.shape, np.nan)
    return v


def truth(v: np.ndarray, expr: Source) -> np.ndarray:
    """Kleene truth value: 1.0 true, 0.0 false, NaN unknown (missing)."""
    v = np.asarray(v)
    v = numeric(v, expr, "a condition")
    return np.where(np.isnan(v), np.nan, (v != 0).astype(float))


def _same_kind(a: np.ndarray, b: np.ndarray, expr: Source, what: str) -> bool:
    """True when both are text; raises when text meets a number that is not missing."""
    ta, tb = is_text(a), is_text(b)
    if ta == tb:
        return ta
    num = b if ta else a
    if not np.isnan(num).all():
        raise expr.error(f"{what} compares text with a number")
    return True


class Node:
    def eval(self, ctx: Context) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Const(Node):
    value: float | str

    def eval(self, ctx: Context) -> np.ndarray:
        return np.asarray(self.value, dtype=object if isinstance(self.value, str) else float)


@dataclass(frozen=True)
class Name(Node):
    name: str

    def eval(self, ctx: Context) -> np.ndarray:
        return ctx.column(self.name)


_ARITH: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "+": np.add, "-": np.subtract, "*": np.multiply,
    "/": np.divide, "//": np.floor_divide, "%": np.mod,
}


@dataclass(frozen=True)
class BinOp(Node):
    op: str
    left: Node
    right: Node

    def eval(self, ctx: Context) -> np.ndarray:
        a = numeric(self.left.eval(ctx), ctx.expr, f"'{self.op}'")
        b = numeric(self.right.eval(ctx), ctx.expr, f"'{self.op}'")
        out = np.asarray(_ARITH[self.op](a, b), dtype=float)
        if self.op in ("/", "//", "%"):
            out = np.where(b == 0, np.nan, out)  # division by zero is missing, not inf
        return out


@dataclass(frozen=True)
class Neg(Node):
    operand: Node

    def eval(self, ctx: Context) -> np.ndarray:
        return -numeric(self.operand.eval(ctx), ctx.expr, "unary '-'")


@dataclass(frozen=True)
class Not(Node):
    operand: Node

    def eval(self, ctx: Context) -> np.ndarray:
        return 1.0 - truth(self.operand.eval(ctx), ctx.expr)


@dataclass(frozen=True)
class BoolOp(Node):
    kind: str  # "and" | "or"
    values: Sequence[Node]

    def eval(self, ctx: Context) -> np.ndarray:
        ts = [truth(v.eval(ctx), ctx.expr) for v in self.values]
        decisive = 0.0 if self.kind == "and" else 1.0
        hit = np.zeros((), dtype=bool)
        unknown = np.zeros((), dtype=bool)
        for t in ts:
            hit = hit | (t == decisive)
            unknown = unknown | np.isnan(t)
        return np.where(hit, decisive, np.where(unknown, np.nan, 1.0 - decisive))


_CMP: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


@dataclass(frozen=True)
class Compare(Node):
    op: str
    left: Node
    right: Node

    def eval(self, ctx: Context) -> np.ndarray:
        a, b = self.left.eval(ctx), self.right.eval(ctx)
        miss_a, miss_b = isna(a), isna(b)
        miss = miss_a | miss_b
        if _same_kind(a, b, ctx.expr, f"'{self.op}'"):
            if not (is_text(a) and is_text(b)):
                return np.where(miss, np.nan, np.nan)  # a number that is missing everywhere
            # Fill missing with "" so the element-wise comparison never sees None.
            a2 = np.where(miss_a, "", a).astype(object)
            b2 = np.where(miss_b, "", b).astype(object)
            try:
                res = np.asarray(_CMP[self.op](a2, b2), dtype=bool)
            except TypeError:
                raise ctx.expr.error(f"'{self.op}' cannot order these text values") from None
        else:
            res = np.asarray(_CMP[self.op](a, b), dtype=bool)
        return np.where(miss, np.nan, res.astype(float))


@dataclass(frozen=True)
class In(Node):
    operand: Node
    values: tuple
    negate: bool = False

    def eval(self, ctx: Context) -> np.ndarray:
        x = self.operand.eval(ctx)
        lits = np.asarray(self.values, dtype=object if isinstance(self.values[0], str) else float)
        _same_kind(x, lits, ctx.expr, "'in'")
        miss = isna(x)
        if is_text(x) and is_text(lits):
            res = np.isin(np.where(miss, "", x).astype(object), lits)
        elif is_text(x) or is_text(lits):
            res = np.zeros(x.shape, dtype=bool)  # all missing (checked above)
        else:
            res = np.isin(x, lits)
        if self.negate:
            res = ~res
        return np.where(miss, np.nan, res.astype(float))


@dataclass(frozen=True)
class Call(Node):
    """A whitelisted function; looked up by name so that a parsed spec pickles."""

    func: str
    args: Sequence[Node | tuple]

    def eval(self, ctx: Context) -> np.ndarray:
        return ctx.functions[self.func].impl(ctx, self.args)

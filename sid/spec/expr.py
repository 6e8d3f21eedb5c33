"""sid's small safe expression language (docs/questionnaire-spec.md, "Expressions").

An expression is parsed once with Python's :mod:`ast` (``mode="eval"``), every node is
checked against a whitelist, and the tree is translated into sid's own node classes
(:mod:`sid.spec.expr_nodes`), which evaluate column-wise over numpy arrays. Nothing is
ever passed to ``eval`` or ``compile``.

Language: numbers, ``'text'``, ``true/false`` (``True``/``False``), list literals (only
after ``in`` / ``not in`` and as ``cut`` edges); ``+ - * / // %``, unary ``-``,
comparisons (chains allowed), ``and or not``, ``in`` / ``not in``; the functions of
:data:`sid.spec.expr_funcs.FUNCTIONS`. ``**`` is not part of the language.

Missing values: three-valued logic (Kleene, as SQL's NULL and R's NA). A comparison with
a missing operand is *unknown*; ``not unknown`` is unknown; ``false and unknown`` is
false, ``true or unknown`` is true. Arithmetic with a missing operand is missing, and
division by zero is missing. A logical result is a float array of 1.0 (true), 0.0
(false) and NaN (unknown). Where a definite answer is needed:

* :meth:`Expression.holds` - true only where the expression is definitely true (routing
  ``relevant``: an item routed on a missing answer is not asked; reference groups);
* :meth:`Expression.violated` - true only where definitely false (``checks``: a check on
  a missing answer is not a violation).

So ``not (x == 1)`` is *not* true where ``x`` is missing; write
``is_missing(x) or x != 1`` to include the missing. ``if_else(cond, a, b)`` is missing
where ``cond`` is unknown, so a derived variable of a missing answer stays missing.

The environment passed to :meth:`Expression.evaluate` holds the *valid view* of each
variable (declared missing codes already NaN / None); ``codes`` optionally holds the raw
arrays, which only ``is_code(x, c)`` reads.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from sid.errors import ExpressionError
from sid.spec import expr_nodes as N
from sid.spec.expr_funcs import FUNCTIONS, check_call
from sid.spec.yamlfile import shown, suggest

MAX_LENGTH = 4000  # characters; a spec expression is one line of logic, not a program
MAX_DEPTH = 200  # nesting of the tree; deeper input is a mistake or an attack
SHOWN_SOURCE = 100  # characters of the expression echoed in an error (a column stays findable)

_BINOPS: dict[type, str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
}
_CMPOPS: dict[type, str] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
}
# Python constructs people might try, named in the error message.
_FORBIDDEN: dict[type, str] = {
    ast.Attribute: "attribute access (a.b)",
    ast.Subscript: "subscripts (a[i])",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.JoinedStr: "f-strings",
    ast.FormattedValue: "f-strings",
    ast.IfExp: "'a if c else b' (use if_else(c, a, b))",
    ast.Dict: "dict literals",
    ast.Set: "set literals",
    ast.Tuple: "tuples (use a [list])",
    ast.Starred: "starred arguments",
    ast.NamedExpr: "assignment (:=)",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "slices",
}


@dataclass(frozen=True)
class Expression:
    """A parsed expression: parse once with :func:`parse`, evaluate many times."""

    source: str
    names: frozenset[str]
    root: N.Node = field(repr=False, compare=False)
    where: str = field(default="", compare=False)

    def evaluate(
        self,
        env: Mapping[str, np.ndarray],
        n: int,
        *,
        codes: Mapping[str, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Value per row: a float array (NaN = missing; logicals 1/0/NaN) or an object
        array of text (None = missing), of length ``n``.

        ``env`` maps each variable to its valid view (declared missing codes as NaN);
        ``codes`` to its raw codes (needed only by ``is_code``).
        """
        ctx = N.Context(env=env, n=n, codes=codes, expr=self, functions=FUNCTIONS)
        try:
            with np.errstate(all="ignore"):
                return N.as_column(self.root.eval(ctx), n)
        except ExpressionError:
            raise
        except (TypeError, ValueError) as exc:
            raise self.error(f"cannot be evaluated ({exc})") from None

    def holds(self, env: Mapping[str, np.ndarray], n: int, *,
              codes: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        """Boolean array: True where the expression is definitely true (unknown -> False)."""
        v = N.truth(self.evaluate(env, n, codes=codes), self)
        return v == 1.0

    def violated(self, env: Mapping[str, np.ndarray], n: int, *,
                 codes: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        """Boolean array: True where the expression is definitely false (unknown -> False)."""
        v = N.truth(self.evaluate(env, n, codes=codes), self)
        return v == 0.0

    def error(self, what: str) -> ExpressionError:
        """ExpressionError ``<where>: <source>: <what>`` (to raise)."""
        return _error(self.where, self.source, what)

    def __str__(self) -> str:
        return self.source


def _error(where: str, source: str, what: str) -> ExpressionError:
    prefix = f"{where}: " if where else ""
    return ExpressionError(f"{prefix}{shown(source, limit=SHOWN_SOURCE)}: {what}")


def _float(value: int | float) -> float | None:
    """``value`` as a float, or None when it is too large for one (an int of > 308 digits)."""
    try:
        return float(value)
    except OverflowError:
        return None


def parse(source: str, *, where: str = "", known: Iterable[str] | None = None) -> Expression:
    """Parse ``source`` into an :class:`Expression`.

    ``where`` (e.g. ``"sid2022.yaml:41: variables[3].relevant"``) prefixes error messages.
    ``known``: when given, names outside it are rejected (unknown variable). Raises
    :class:`sid.errors.ExpressionError` for anything outside the language.
    """
    if not isinstance(source, str):
        raise _error(where, str(source), f"an expression must be text, got {type(source).__name__}")
    src = " ".join(source.split())  # YAML folded lines; messages stay on one line
    if not src:
        raise _error(where, source, "empty expression")
    if len(src) > MAX_LENGTH:
        raise _error(where, src, f"longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as exc:
        col = f" at column {exc.offset}" if exc.offset else ""
        raise _error(where, src, f"syntax error{col} ({exc.msg})") from None
    except (ValueError, RecursionError, MemoryError):
        raise _error(where, src, "cannot be parsed (null byte or nesting too deep)") from None
    builder = _Builder(src, where, None if known is None else frozenset(known))
    root = builder.build(tree.body, 0)
    return Expression(source=src, names=frozenset(builder.names), root=root, where=where)


def _digits(value: int) -> int:
    """Number of decimal digits of a large int (without str(), which refuses > 4300 digits)."""
    n = int(abs(value).bit_length() * 0.30103) + 1
    return n if abs(value) >= 10 ** (n - 1) else n - 1


class _Builder:
    """Whitelist walk of a Python ast into sid's node tree."""

    def __init__(self, src: str, where: str, known: frozenset[str] | None) -> None:
        self.src, self.where, self.known = src, where, known
        self.names: set[str] = set()

    def fail(self, what: str) -> ExpressionError:
        return _error(self.where, self.src, what)

    def build(self, node: ast.AST, depth: int) -> N.Node:
        if depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH} levels")
        d = depth + 1
        if isinstance(node, ast.Constant):
            return self.constant(node.value)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow):
                raise self.fail("'**' is not part of the language")
            op = _BINOPS.get(type(node.op))
            if op is None:
                raise self.fail(f"operator {type(node.op).__name__} is not part of the language")
            return N.BinOp(op, self.build(node.left, d), self.build(node.right, d))
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return N.Not(self.build(node.operand, d))
            if isinstance(node.op, ast.USub):
                inner = self.build(node.operand, d)
                if isinstance(inner, N.Const) and isinstance(inner.value, float):
                    return N.Const(-inner.value)  # a negative literal (a missing code: -1)
                return N.Neg(inner)
            if isinstance(node.op, ast.UAdd):
                return self.build(node.operand, d)
            raise self.fail("operator '~' is not part of the language")
        if isinstance(node, ast.BoolOp):
            kind = "and" if isinstance(node.op, ast.And) else "or"
            return N.BoolOp(kind, [self.build(v, d) for v in node.values])
        if isinstance(node, ast.Compare):
            return self.compare(node, d)
        if isinstance(node, ast.Call):
            return self.call(node, d)
        if isinstance(node, ast.List):
            raise self.fail("a [list] is only allowed after 'in' / 'not in' and as cut() edges")
        what = _FORBIDDEN.get(type(node), type(node).__name__)
        raise self.fail(f"{what} is not allowed in sid expressions")

    def constant(self, value: object) -> N.Node:
        if isinstance(value, bool):
            return N.Const(1.0 if value else 0.0)
        if isinstance(value, int | float):
            number = _float(value)
            if number is None:
                raise self.fail(f"a {_digits(value)}-digit number is too large (at most about 1e308)")
            if not np.isfinite(number):
                raise self.fail(f"number {value!r} is not finite")
            return N.Const(number)
        if isinstance(value, str):
            return N.Const(value)
        raise self.fail(f"literal {value!r} is not allowed (numbers, 'text', True, False only)")

    def name(self, ident: str) -> N.Node:
        if ident.startswith("__"):
            raise self.fail(f"name {ident!r} is not allowed")
        if ident in FUNCTIONS:
            raise self.fail(f"{ident} is a function; call it as {ident}(...)")
        if ident in ("true", "false"):
            return N.Const(1.0 if ident == "true" else 0.0)
        if self.known is not None and ident not in self.known:
            raise self.fail(f"unknown variable {ident!r}{suggest(ident, self.known)}")
        self.names.add(ident)
        return N.Name(ident)

    def literal_list(self, node: ast.AST, what: str) -> tuple:
        if not isinstance(node, ast.List):
            raise self.fail(f"{what} must be a [list] of literals")
        out = []
        for elt in node.elts:
            v = elt
            neg = False
            if isinstance(v, ast.UnaryOp) and isinstance(v.op, ast.USub):
                v, neg = v.operand, True
            if not isinstance(v, ast.Constant) or isinstance(v.value, bool) or not isinstance(
                v.value, int | float | str
            ) or (neg and isinstance(v.value, str)):
                raise self.fail(f"{what} must be a [list] of numbers or 'text' literals")
            if isinstance(v.value, str):
                out.append(v.value)
                continue
            number = _float(v.value)
            if number is None:
                raise self.fail(f"{what} holds a {_digits(v.value)}-digit number, too large "
                                "(at most about 1e308)")
            if not np.isfinite(number):
                raise self.fail(f"{what} holds a number that is not finite ({v.value!r})")
            out.append(-number if neg else number)
        if not out:
            raise self.fail(f"{what} is an empty list")
        if len({type(x) for x in out}) > 1:
            raise self.fail(f"{what} mixes numbers and text")
        return tuple(out)

    def compare(self, node: ast.Compare, d: int) -> N.Node:
        left = self.build(node.left, d)
        parts: list[N.Node] = []
        for op, right_ast in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn):
                values = self.literal_list(right_ast, "the right side of 'in'")
                parts.append(N.In(left, values, negate=isinstance(op, ast.NotIn)))
                if len(node.ops) > 1:
                    raise self.fail("'in' cannot be chained with other comparisons")
                return parts[0]
            sym = _CMPOPS.get(type(op))
            if sym is None:
                raise self.fail(f"'{'is' if isinstance(op, ast.Is | ast.IsNot) else type(op).__name__}'"
                                " is not part of the language (use == / !=, is_missing())")
            right = self.build(right_ast, d)
            parts.append(N.Compare(sym, left, right))
            left = right
        return parts[0] if len(parts) == 1 else N.BoolOp("and", parts)

    def call(self, node: ast.Call, d: int) -> N.Node:
        if not isinstance(node.func, ast.Name):
            raise self.fail("only the functions of the language can be called (no methods)")
        fname = node.func.id
        if fname not in FUNCTIONS:
            raise self.fail(f"function {fname!r} is not allowed{suggest(fname, FUNCTIONS)}; "
                            f"allowed: {', '.join(sorted(FUNCTIONS))}")
        if node.keywords:
            raise self.fail(f"{fname}() takes no keyword arguments")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(f"{fname}() takes no *arguments")
        spec = FUNCTIONS[fname]
        args: list[N.Node | tuple] = []
        for i, a in enumerate(node.args):
            if i in spec.list_args:
                args.append(self.literal_list(a, f"argument {i + 1} of {fname}()"))
            else:
                args.append(self.build(a, d))
        problem = check_call(fname, args)
        if problem:
            raise self.fail(problem)
        return N.Call(fname, args)

"""R model formulas for ``Design.glm``, through patsy.

R's formula syntax is patsy's, with three translations: a column whose name is not a
Python identifier (``sch.wide``) is quoted as ``Q("sch.wide")``, ``factor(x)`` becomes
``C(x)``, and ``^`` inside ``I(...)`` is a power (``**``). Columns are put in R's order
(intercept, then terms by degree in formula order) and named as R names them
(``(Intercept)``, ``stypeH``, ``sch.wideYes``, ``stypeH:ell``), so a coefficient table
reads like ``summary(svyglm(...))``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sid.errors import EstimationError

_TOKEN = re.compile(r"[A-Za-z_.][A-Za-z0-9_.]*")


def to_patsy(formula: str, columns) -> str:
    """The patsy spelling of R formula ``formula`` over the data's ``columns``."""
    names = {str(c) for c in columns}

    def quote(m: re.Match) -> str:
        tok = m.group(0)
        if tok in names and not tok.isidentifier():
            return f'Q("{tok}")'
        return tok

    out = _TOKEN.sub(quote, formula)
    out = re.sub(r"\bfactor\(", "C(", out)
    # ^ inside I(...) is arithmetic in R: a power
    parts, depth, inside = [], 0, []
    i = 0
    while i < len(out):
        if out.startswith("I(", i) and (i == 0 or not (out[i - 1].isalnum() or out[i - 1] in "._")):
            inside.append(depth)
            parts.append("I(")
            depth += 1
            i += 2
            continue
        ch = out[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if inside and inside[-1] == depth:
                inside.pop()
        parts.append("**" if ch == "^" and inside else ch)
        i += 1
    return "".join(parts)


def r_name(name: str) -> str:
    """R's name of a patsy column or term name."""
    name = re.sub(r'Q\("([^"]+)"\)', r"\1", name)
    name = re.sub(r"\[T\.(-?\d+)\.0\]", r"\1", name)  # a whole-number level of a float column: R prints 2
    name = re.sub(r"\[T\.([^\]]*)\]", r"\1", name)
    name = re.sub(r"\bC\(", "factor(", name)
    name = name.replace(" ** ", "^")
    return "(Intercept)" if name == "Intercept" else name


@dataclass(frozen=True)
class ModelFrame:
    """Model matrix ``X`` (rows x p) and response ``y`` of the rows ``rows`` (positions in
    the design's data), R's coefficient names, and per term (R name) its columns."""

    X: np.ndarray
    y: np.ndarray
    rows: np.ndarray
    names: list[str]
    terms: dict[str, np.ndarray]
    design_info: object
    order: np.ndarray


def model_frame(formula: str, data: pd.DataFrame, rows: np.ndarray) -> ModelFrame:
    """Build the model of ``formula`` on ``data`` at row positions ``rows``; rows with a
    missing value of a model variable are left out (R's ``na.omit``). A two-column
    response (a logical or two-level outcome) is its second column (R: the first level
    is failure)."""
    import patsy

    if "~" not in formula:
        raise EstimationError(f"glm: formula {formula!r} has no '~'; write it as 'outcome ~ terms'")
    sub = data.iloc[rows].reset_index(drop=True)
    try:
        y, X = patsy.dmatrices(to_patsy(formula, data.columns), sub, NA_action="drop", return_type="dataframe")
    except patsy.PatsyError as exc:
        first = str(exc).splitlines()[0]
        raise EstimationError(f"glm: formula {formula!r}: {first}") from None
    if y.shape[1] == 2:
        y = y.iloc[:, 1:]
    elif y.shape[1] != 1:
        raise EstimationError(f"glm: the outcome of {formula!r} has {y.shape[1]} categories; "
                              "model one of them (e.g. I(x == 'level')) or a numeric outcome")
    if len(X) == 0:
        raise EstimationError(f"glm: no row has every variable of {formula!r}")
    info = X.design_info
    # R's order: terms by degree (number of factors), stable in formula order
    term_list = list(info.term_slices.items())
    written = {t: i for i, t in enumerate(patsy.ModelDesc.from_formula(to_patsy(formula, data.columns)).rhs_termlist)}
    ranked = sorted(range(len(term_list)),
                    key=lambda j: (len(term_list[j][0].factors), written.get(term_list[j][0], j)))
    order = np.concatenate([np.arange(term_list[j][1].start, term_list[j][1].stop) for j in ranked])
    names = [r_name(c) for c in np.asarray(X.columns)[order]]
    terms, pos = {}, 0
    for j in ranked:
        term, sl = term_list[j]
        width = sl.stop - sl.start
        terms[r_name(term.name())] = np.arange(pos, pos + width)
        pos += width
    used = rows[X.index.to_numpy()]
    return ModelFrame(X.to_numpy(dtype=float)[:, order], y.to_numpy(dtype=float)[:, 0], used, names,
                      terms, info, order)


def new_matrix(frame: ModelFrame, newdata: pd.DataFrame) -> np.ndarray:
    """The model matrix of ``newdata`` (rows x p, R's column order) with the fitted
    model's coding (levels and contrasts of the fit); rows must have every variable."""
    import patsy

    try:
        (X,) = patsy.build_design_matrices([frame.design_info], newdata.reset_index(drop=True),
                                           NA_action="raise", return_type="dataframe")
    except patsy.PatsyError as exc:
        raise EstimationError(f"glm: new data: {str(exc).splitlines()[0]}") from None
    return X.to_numpy(dtype=float)[:, frame.order]

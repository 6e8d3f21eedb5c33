"""SPSS metadata as plain data: variable labels, value labels, user-missing codes, measures.

:class:`SpssMeta` is what :func:`sid.io.spss.read_spss` returns beside the data and what
:func:`sid.io.spss.write_spss` writes; its JSON form (:meth:`SpssMeta.to_json`) is the
``meta.json`` of every stage folder of a run (docs/run-folder.md).

User-missing codes stay *in the data* (as SPSS, and haven's ``user_na = TRUE`` do); the
metadata declares them. :meth:`SpssMeta.missing_mask` says where a value is a declared
missing code, :meth:`SpssMeta.valid_view` gives the copy estimators use (codes -> NaN).
System missing (an empty cell, NaN) is its own state and is never a declared code.

Building metadata by hand (e.g. for a synthetic wave)::

    import pandas as pd
    from sid.io.spss import SpssMeta, VariableMeta, write_spss

    df = pd.DataFrame({"q_sex": [1.0, 2.0, -1.0], "name": ["a", "b", "c"]})
    meta = SpssMeta(
        variables={
            "q_sex": VariableMeta(
                name="q_sex", label="Geslacht", type="numeric", format="F2.0",
                measure="nominal", value_labels={1.0: "Man", 2.0: "Vrouw", -1.0: "Weet niet"},
                missing_values=[-1.0], missing_ranges=[(-9.0, -2.0)],
            ),
            "name": VariableMeta(name="name", label="Naam", type="string", format="A8"),
        },
        file_label="Demo wave",
    )
    write_spss(df, meta, "demo.sav")          # or "demo.zsav" (compressed)
    meta.valid_view(df)["q_sex"].tolist()      # [1.0, 2.0, nan]

``SpssMeta.from_frame(df)`` gives default metadata (no labels, numeric/string from the
dtype) to start from.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from sid.errors import DataError, InputFileError

VarType = Literal["numeric", "string"]
Measure = Literal["nominal", "ordinal", "scale", "unknown"]
MEASURES = ("nominal", "ordinal", "scale", "unknown")
META_FORMAT = "sid.spss-meta/1"


@dataclass
class VariableMeta:
    """One variable's SPSS dictionary entry.

    ``value_labels`` keys are floats for numeric variables, strings for string variables.
    ``missing_values`` are the declared discrete user-missing codes; ``missing_ranges``
    the declared ranges ``(low, high)``, both inclusive (SPSS ``MISSING VALUES x (lo THRU hi)``).
    ``format`` is the SPSS print format (``F8.2``, ``A20``, ``EDATE10``...); ``width``
    the display width in characters (None: SPSS's default).
    """

    name: str
    label: str | None = None
    type: VarType = "numeric"
    format: str | None = None
    measure: Measure = "unknown"
    value_labels: dict[float | str, str] = field(default_factory=dict)
    missing_values: list[float | str] = field(default_factory=list)
    missing_ranges: list[tuple[float, float]] = field(default_factory=list)
    width: int | None = None

    def __post_init__(self) -> None:
        if self.type not in ("numeric", "string"):
            raise DataError(
                f"variable {self.name}: type {self.type!r} is not 'numeric' or 'string'"
            )
        if self.measure not in MEASURES:
            raise DataError(
                f"variable {self.name}: measure {self.measure!r} is not one of {', '.join(MEASURES)}"
            )
        if self.type == "string" and self.missing_ranges:
            raise DataError(f"variable {self.name}: a string variable cannot have missing ranges")
        self.missing_ranges = [(float(lo), float(hi)) for lo, hi in self.missing_ranges]
        self.width = None if self.width is None else int(self.width)
        for lo, hi in self.missing_ranges:
            if lo > hi:
                raise DataError(f"variable {self.name}: missing range ({lo}, {hi}) has low > high")
        conv = float if self.type == "numeric" else str
        self.value_labels = {conv(k): str(v) for k, v in self.value_labels.items()}
        self.missing_values = [conv(v) for v in self.missing_values]

    @property
    def has_missing(self) -> bool:
        """True when the variable declares user-missing values or ranges."""
        return bool(self.missing_values or self.missing_ranges)

    def is_missing_code(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """Boolean array: True where a value is a declared user-missing code."""
        s = pd.Series(values) if not isinstance(values, pd.Series) else values
        if not self.has_missing or len(s) == 0:
            return np.zeros(len(s), dtype=bool)
        if self.type == "string" or not pd.api.types.is_numeric_dtype(s.dtype):
            if self.type == "numeric":
                # dates, times: SPSS codes on them are rare and not comparable here
                return np.zeros(len(s), dtype=bool)
            return s.isin(self.missing_values).to_numpy(dtype=bool, na_value=False)
        x = s.to_numpy(dtype=float, na_value=np.nan)
        mask = np.isin(x, np.asarray(self.missing_values, dtype=float))
        for lo, hi in self.missing_ranges:
            mask |= (x >= lo) & (x <= hi)
        return mask


def _num_out(x: float) -> float | str:
    # JSON has no infinity; SPSS "LOWEST THRU" / "THRU HIGHEST" ranges can carry one.
    return x if math.isfinite(x) else ("inf" if x > 0 else "-inf")


def _num_in(x: float | str) -> float:
    return float(x)


@dataclass
class SpssMeta:
    """A wave's SPSS dictionary: variables (ordered as in the file) and file-level facts.

    ``sources`` lists the input files a raw wave came from, one dict per file:
    ``{"path": str, "sha256": hex str, "mode": str | None, "rows": int}``.
    """

    variables: dict[str, VariableMeta] = field(default_factory=dict)
    file_label: str | None = None
    encoding: str | None = None
    sources: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> VariableMeta:
        return self.variables[name]

    def __contains__(self, name: object) -> bool:
        return name in self.variables

    # -- construction -------------------------------------------------------------
    @classmethod
    def from_frame(cls, df: pd.DataFrame, **kwargs: Any) -> SpssMeta:
        """Default metadata for ``df``: one unlabelled variable per column."""
        return cls(
            variables={str(c): default_variable(str(c), df[c]) for c in df.columns}, **kwargs
        )

    def subset(self, columns: Iterable[str]) -> SpssMeta:
        """A copy restricted to ``columns`` (in that order)."""
        cols = list(columns)
        missing = [c for c in cols if c not in self.variables]
        if missing:
            raise DataError(f"variables not in the metadata: {', '.join(missing)}")
        return replace(
            self,
            variables={c: replace(self.variables[c]) for c in cols},
            sources=[dict(s) for s in self.sources],
            notes=list(self.notes),
        )

    # -- missing codes --------------------------------------------------------------
    def missing_mask(self, df: pd.DataFrame) -> pd.DataFrame:
        """Boolean frame like ``df``: True where a value is a declared user-missing code.

        System missing (NaN, empty) is False: it is not a code. Columns without metadata
        are all False.
        """
        out = {}
        for c in df.columns:
            var = self.variables.get(c)
            out[c] = var.is_missing_code(df[c]) if var is not None else np.zeros(len(df), bool)
        return pd.DataFrame(out, index=df.index, columns=df.columns)

    def valid_view(self, df: pd.DataFrame) -> pd.DataFrame:
        """Copy of ``df`` with declared user-missing codes set to missing (what estimators use).

        Columns without a declared code in the data keep their dtype untouched.
        """
        out = df.copy()
        for c in df.columns:
            var = self.variables.get(c)
            if var is None or not var.has_missing:
                continue
            m = var.is_missing_code(df[c])
            if m.any():
                out[c] = df[c].mask(m)
        return out

    # -- JSON -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (value labels as ``[value, label]`` pairs to keep key types)."""
        variables = []
        for v in self.variables.values():
            d = asdict(v)
            d["value_labels"] = [[k, lab] for k, lab in v.value_labels.items()]
            d["missing_ranges"] = [[_num_out(lo), _num_out(hi)] for lo, hi in v.missing_ranges]
            variables.append(d)
        return {
            "format": META_FORMAT,
            "file_label": self.file_label,
            "encoding": self.encoding,
            "notes": list(self.notes),
            "sources": [dict(s) for s in self.sources],
            "variables": variables,
        }

    def to_json(self) -> str:
        """JSON text of the metadata (UTF-8, stable key order, 1 variable per block)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, where: str = "metadata") -> SpssMeta:
        """Inverse of :meth:`to_dict`; ``where`` names the source in error messages."""
        if d.get("format") != META_FORMAT:
            raise InputFileError(
                f"{where}: not sid SPSS metadata (format {d.get('format')!r}, expected "
                f"{META_FORMAT!r}); re-create it with sid ingest"
            )
        try:
            variables = {}
            for v in d["variables"]:
                v = dict(v)
                v["value_labels"] = {k: lab for k, lab in v.get("value_labels", [])}
                v["missing_ranges"] = [
                    (_num_in(lo), _num_in(hi)) for lo, hi in v.get("missing_ranges", [])
                ]
                variables[v["name"]] = VariableMeta(**v)
            return cls(
                variables=variables,
                file_label=d.get("file_label"),
                encoding=d.get("encoding"),
                sources=list(d.get("sources", [])),
                notes=list(d.get("notes", [])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputFileError(
                f"{where}: malformed SPSS metadata ({exc}); re-create it with sid ingest"
            ) from exc

    @classmethod
    def from_json(cls, s: str, *, where: str = "metadata") -> SpssMeta:
        """Inverse of :meth:`to_json`."""
        try:
            d = json.loads(s)
        except json.JSONDecodeError as exc:
            raise InputFileError(
                f"{where}: not valid JSON ({exc}); re-create it with sid ingest"
            ) from exc
        return cls.from_dict(d, where=where)


def default_variable(name: str, s: pd.Series) -> VariableMeta:
    """Unlabelled metadata for a column: string for text, numeric (``scale``) otherwise."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return VariableMeta(name=name, type="numeric", measure="nominal")
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
        return VariableMeta(name=name, type="numeric", measure="scale")
    non_null = s.dropna()
    if len(non_null) and not all(isinstance(x, str) for x in non_null.iloc[:100]):
        # dates / times as Python objects: numeric in SPSS
        return VariableMeta(name=name, type="numeric", measure="scale")
    return VariableMeta(name=name, type="string", measure="nominal")

"""The analysts' SPSS file of a processed wave (docs/run-folder.md: ``DIR/report/<wave>.sav``).

:func:`write_wave_spss` joins, on the person key, one row per weighted respondent:

* the clean wave (``DIR/clean``): answers, register and derived variables with the
  dictionary the clean stage wrote (the spec's variable labels, value labels and declared
  user-missing codes; missing codes stay in the data as codes, as SPSS keeps them);
* the weight stage's columns (``DIR/weight/weights.parquet``): the final weight
  ``weight`` ("Eindgewicht"), ``design_weight``, ``prior_weight`` and any other column,
  and, unless left out, the replicate weights of ``DIR/weight/replicates.parquet``
  ("Replicaatgewicht 1", ...);
* the score stage's indices (``DIR/score/indices.parquet``, when present), labelled with
  the spec's index labels, and per index the reason a score is missing as a numeric code
  with value labels (``<index>_reason``).

The weight file's rows are the analysed respondents (as ``sid.open_wave`` and the tables
read them): a clean record without a final weight (e.g. a break-off the weighting left
out) is not in the file; the file's notes say how many were left out. A weighted key
without a clean record, a respondent without an index row, or replicate weights for other
respondents is a :class:`sid.errors.DataError` that counts them and names the first keys.

Weights are written as F12.6 (scale), indices as F8.2 (scale); values are the parquet
doubles, unrounded (SPSS stores every number as a double; the format is display only).

sid's own texts in the file (the labels of the weight columns, replicate weights and
reasons, the notes) are the message catalogue's (``analyst.sav.*``) in the run's language;
the questionnaire's labels are the spec's.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from sid.errors import DataError, RunFolderError
from sid.io.keys import isin
from sid.io.spss_meta import SpssMeta, VariableMeta, default_variable
from sid.messages import Catalogue, catalogue
from sid.project import Project, Wave, wave_questionnaire
from sid.spec.questionnaire import Questionnaire

PathLike = str | os.PathLike[str]

REPORT = "report"
WEIGHT_FILE = Path("weight") / "weights.parquet"
REPLICATES_FILE = Path("weight") / "replicates.parquet"
INDICES_FILE = Path("score") / "indices.parquet"
REASON_SUFFIX = "_reason"
WEIGHT_FORMAT, INDEX_FORMAT = "F12.6", "F8.2"

# The variable labels of the weight stage's columns (sid.weighting.stage writes person_key,
# stratum, design_weight, eligibility_factor, nonresponse_factor, prior_weight, weight,
# trimmed) are analyst.sav.weight_labels.<column> of the catalogue; a column not listed
# there is labelled with its name and source (analyst.sav.weight_other).


def _read(path: Path, stage: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise RunFolderError(f"{path}: unreadable ({' '.join(str(exc).split())}); re-run sid {stage}") from None


def _keys(frame: pd.DataFrame, key: str, path: Path, stage: str) -> pd.Index:
    """The key column as strings (a stage may write it as another type); checked unique."""
    if key not in frame.columns:
        raise RunFolderError(f"{path}: no key column {key!r}; re-run sid {stage}")
    # object dtype: pandas' hash table; isin on Arrow-backed strings loops in Python
    keys = pd.Index(frame[key].astype(str).to_numpy(dtype=object), dtype=object)
    dup = keys.duplicated()
    if dup.any():
        raise DataError(f"{path}: {int(dup.sum())} repeated key(s), first {keys[dup][0]!r}; "
                        f"one row per respondent: re-run sid {stage}")
    return keys


def _positions(want: pd.Index, have: pd.Index, path: Path, what: str) -> np.ndarray:
    """Row of ``have`` for each key of ``want``; DataError counting and naming the absent."""
    pos = have.get_indexer(want)
    absent = pos < 0
    if absent.any():
        first = ", ".join(repr(k) for k in want[absent][:3])
        raise DataError(f"{path}: {int(absent.sum())} of {len(want)} {what} have no row here "
                        f"(first: {first}); the stages were run on different waves, re-run them")
    return pos


def _scale(name: str, label: str, fmt: str) -> VariableMeta:
    return VariableMeta(name=name, label=label, type="numeric", format=fmt, measure="scale")


def _weight_meta(name: str, values: pd.Series, cat: Catalogue) -> VariableMeta:
    label = cat.get(f"analyst.sav.weight_labels.{name}") or cat("analyst.sav.weight_other", name=name)
    if pd.api.types.is_float_dtype(values.dtype):
        return _scale(name, label, WEIGHT_FORMAT)
    if pd.api.types.is_bool_dtype(values.dtype):  # a flag: written as 0/1 (sid.io.spss)
        return VariableMeta(name=name, label=label, type="numeric", format="F1.0",
                            measure="nominal",
                            value_labels={0.0: cat("analyst.sav.no"), 1.0: cat("analyst.sav.yes")})
    var = default_variable(name, values)
    var.label = label
    if var.type == "string":
        # SPSS string widths count bytes
        width = values.dropna().astype(str).str.encode("utf-8").str.len().max()
        var.format = f"A{max(int(width) if pd.notna(width) else 1, 1)}"
    return var


def _same_values(a: pd.Series, b: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(a.dtype) and pd.api.types.is_numeric_dtype(b.dtype):
        x, y = a.to_numpy(dtype=float, na_value=np.nan), b.to_numpy(dtype=float, na_value=np.nan)
        return bool(np.all((x == y) | (np.isnan(x) & np.isnan(y))))
    return bool((a.astype(str).to_numpy() == b.astype(str).to_numpy()).all())


def _reason_column(name: str, reasons: pd.Series, label: str, cat: Catalogue) -> tuple[np.ndarray, VariableMeta]:
    """Reason texts as codes 1..k (sorted texts) with value labels (the score stage's reasons
    in the catalogue's words, indices.reasons); scored rows system-missing."""
    from sid.report.indices import _REASONS

    text = reasons.astype(object).where(reasons.notna(), None).to_numpy()
    texts = sorted({str(t) for t in pd.unique(text) if t is not None})
    codes = pd.Index(texts).get_indexer(text).astype(float) + 1.0
    codes[pd.isna(text)] = np.nan
    width = len(str(max(len(texts), 1)))
    return codes, VariableMeta(
        name=name, label=cat("analyst.sav.reason", label=label), type="numeric", format=f"F{width}.0",
        measure="nominal", value_labels={float(i + 1): cat.get(f"indices.reasons.{_REASONS.get(t)}", t) or t
                                         for i, t in enumerate(texts)})


def _read_weights(out: Path, key: str, clean_keys: pd.Index) -> tuple[pd.DataFrame, pd.Index]:
    """weights.parquet, checked: unique keys, a final weight >= 0 everywhere, no key
    without a clean record."""
    wpath = out / WEIGHT_FILE
    if not wpath.is_file():
        raise RunFolderError(f"{wpath} not found; run sid weight on this run folder first")
    weights = _read(wpath, "weight")
    wkeys = _keys(weights, key, wpath, "weight")
    if "weight" not in weights.columns:
        raise RunFolderError(f"{wpath}: no final weight column 'weight'; re-run sid weight")
    final = pd.to_numeric(weights["weight"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(final) | (final < 0)
    if bad.any():
        raise DataError(f"{wpath}: {int(bad.sum())} missing or negative final weight(s), first for key "
                        f"{wkeys[bad][0]!r}; re-run sid weight")
    orphan = ~isin(wkeys, clean_keys)
    if orphan.any():
        first = ", ".join(repr(k) for k in wkeys[orphan][:3])
        raise DataError(f"{wpath}: {int(orphan.sum())} of {len(wkeys)} weighted key(s) have no clean "
                        f"record (first: {first}); re-run sid weight on this clean wave")
    return weights, wkeys


def _add_weights(data: dict, variables: dict, weights: pd.DataFrame, pos: np.ndarray, key: str,
                 where: Path, cat: Catalogue) -> None:
    """The weight file's columns (final, design, prior weight first) at rows ``pos``."""
    order = [c for c in ("weight", "design_weight", "prior_weight") if c in weights.columns]
    order += [c for c in weights.columns if c not in order and c != key]
    for c in order:
        col = weights[c].iloc[pos].reset_index(drop=True)
        if c in data:
            # a design column the clean wave holds too (e.g. stratum): one copy, if equal
            if not _same_values(data[c], col):
                raise DataError(f"{where}: column {c!r} differs from the clean wave's {c}; "
                                "re-run sid weight on this clean wave")
            continue
        data[c] = col
        variables[c] = _weight_meta(c, col, cat)


def _add_replicates(data: dict, variables: dict, path: Path, keys: pd.Index, n_weighted: int,
                    key: str, cat: Catalogue) -> int:
    """The replicate weight columns for ``keys``; returns how many."""
    import pyarrow.parquet as pq

    # the arrow table, column by column to doubles: no pandas frame of all the columns
    # beside them (100 replicates x 385,000 respondents: 150 MB as float32)
    try:
        rep = pq.ParquetFile(path).read()
    except (OSError, ValueError) as exc:
        raise RunFolderError(f"{path}: unreadable ({' '.join(str(exc).split())}); re-run sid weight") from None
    if key not in rep.column_names:
        raise RunFolderError(f"{path}: no key column {key!r}; re-run sid weight")
    pos = _positions(keys, _keys(rep.select([key]).to_pandas(), key, path, "weight"), path,
                     "weighted respondents")
    if rep.num_rows != n_weighted:
        raise DataError(f"{path}: {rep.num_rows} rows for {n_weighted} weighted respondents; re-run sid weight")
    cols = [c for c in rep.column_names if c != key]
    for i, c in enumerate(cols):
        if c in data:
            raise DataError(f"{path}: replicate column {c!r} is also a variable of the wave; re-run sid weight")
        data[c] = pd.Series(np.asarray(rep.column(c).to_numpy(), dtype=float)[pos])
        variables[c] = _scale(c, cat("analyst.sav.replicate", i=i + 1), WEIGHT_FORMAT)
    del rep
    return len(cols)


def _add_indices(data: dict, variables: dict, path: Path, keys: pd.Index, q: Questionnaire,
                 cat: Catalogue) -> None:
    """The spec's indices (labelled as the spec labels them) and their reason codes."""
    idx = _read(path, "score")
    pos = _positions(keys, _keys(idx, q.key, path, "score"), path, "weighted respondents")
    declared = {ix.name: ix for ix in q.indices}
    for c in idx.columns:
        if c == q.key or (c.endswith(REASON_SUFFIX) and c[: -len(REASON_SUFFIX)] in declared):
            continue
        if c not in declared:
            raise DataError(f"{path}: column {c!r} is not an index of {q.path or q.wave}; "
                            "re-run sid score with this spec")
        if c in data:
            raise DataError(f"{path}: index {c!r} is also a variable of the wave; rename one in the spec")
        label = declared[c].label
        data[c] = pd.Series(pd.to_numeric(idx[c]).to_numpy(dtype=float)[pos])
        variables[c] = _scale(c, label, INDEX_FORMAT)
        rname = c + REASON_SUFFIX
        if rname in idx.columns:
            data[rname], variables[rname] = _reason_column(rname, idx[rname].iloc[pos], label, cat)


def _replicate_notes(out: Path, cat: Catalogue) -> list[str]:
    """The .sav notes stating the replicate design (80-byte lines): R's svrepdesign call."""
    import json

    from sid.weighting.rsyntax import R_TYPES

    path = out / "weight" / "diagnostics.json"
    info = json.loads(path.read_text(encoding="utf-8")).get("replicates") if path.is_file() else None
    if not isinstance(info, dict) or "scale" not in info:
        return [cat("analyst.sav.notes.rep_not_recorded")]
    method = str(info.get("method", "other"))
    rs = info.get("rscales", 1.0)
    rs0 = rs[0] if isinstance(rs, list) and rs else rs
    n = "analyst.sav.notes."
    return [cat(n + "rep_method", method=method),
            cat(n + "rep_constants", scale=f"{float(info['scale']):.10g}", rscales=f"{float(rs0):g}",
                mse="TRUE" if info.get("mse", False) else "FALSE"),
            cat(n + "rep_r", type=R_TYPES.get(method, "other")), cat(n + "rep_r2")]


def wave_frame(out_dir: PathLike, q: Questionnaire, *, replicates: bool = True,
               cat: Catalogue | None = None) -> tuple[pd.DataFrame, SpssMeta]:
    """The analysts' file as data + dictionary (see the module doc); what
    :func:`write_wave_spss` writes. ``q``: the wave's questionnaire spec; ``cat``: the
    catalogue of sid's texts in the file (default Dutch)."""
    from sid.io.wave import read_wave
    from sid.spec.questionnaire import MODE_LABEL

    cat = cat or catalogue()
    out = Path(out_dir)
    clean, meta = read_wave(out / "clean")
    key = q.key
    clean_keys = _keys(clean, key, out / "clean" / "data.parquet", "clean")
    weights, wkeys = _read_weights(out, key, clean_keys)
    # rows: the weighted respondents, in the clean wave's order
    rows = np.flatnonzero(isin(clean_keys, wkeys))
    keys = clean_keys[rows]
    data = {c: clean[c].iloc[rows].reset_index(drop=True) for c in clean.columns}
    variables = {c: meta.variables[c] for c in clean.columns}
    mode = variables.get(q.mode_variable) if q.mode_variable else None
    if mode is not None and mode.label == MODE_LABEL:  # sid's default label, not the spec's
        variables[q.mode_variable] = replace(mode, label=cat("common.mode_variable"))
    _add_weights(data, variables, weights, wkeys.get_indexer(keys), key, out / WEIGHT_FILE, cat)
    n_rep = 0
    if replicates and (out / REPLICATES_FILE).is_file():
        n_rep = _add_replicates(data, variables, out / REPLICATES_FILE, keys, len(wkeys), key, cat)
    has_indices = (out / INDICES_FILE).is_file()
    if has_indices:
        _add_indices(data, variables, out / INDICES_FILE, keys, q, cat)

    # SPSS document lines hold 80 bytes: one short fact per note
    left_out = len(clean_keys) - len(rows)
    n = "analyst.sav.notes."
    notes = list(meta.notes) + [
        cat(n + "respondents", n=len(rows)),
        cat(n + "left_out", n=left_out),
        cat(n + "replicates", n=n_rep) if n_rep else
        (cat(n + "replicates_left_out") if not replicates else cat(n + "no_replicates")),
        cat(n + "indices") if has_indices else cat(n + "no_indices"),
    ] + (_replicate_notes(out, cat) if n_rep else [])
    frame = pd.DataFrame(data, copy=False)
    return frame, SpssMeta(variables=variables, file_label=meta.file_label or q.title,
                           encoding="utf-8", notes=notes)


def write_wave_spss(out_dir: PathLike, project_dir: PathLike | Project = ".", path: PathLike | None = None, *,
                    replicates: bool = True, wave: str | Wave | None = None) -> Path:
    """Write the analysts' labelled SPSS file of run folder ``out_dir``; return its path.

    ``project_dir``, ``wave``: the project and its wave (default: the run folder's), whose
    questionnaire spec labels the indices; ``path``: the .sav/.zsav to write (default
    ``out_dir/report/<wave>.sav``); ``replicates=False`` leaves the replicate weights out.
    The file appears only when complete (:func:`sid.io.spss.write_spss`).
    """
    from sid.io.spss import write_spss
    from sid.io.wave import META_FILE
    from sid.runfolder.context import resolve_wave

    out = Path(out_dir)
    meta_path = out / "clean" / META_FILE
    if not meta_path.is_file():
        raise RunFolderError(f"{meta_path} not found; run sid clean on this run folder first")
    q = wave_questionnaire(resolve_wave(project_dir, out, wave))
    df, meta = wave_frame(out, q, replicates=replicates)
    target = Path(path) if path is not None else out / REPORT / f"{q.wave}.sav"
    write_spss(df, meta, target)
    return target

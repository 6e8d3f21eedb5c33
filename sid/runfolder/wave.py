"""``sid.open_wave``: a processed wave of a run folder as data + metadata + survey design.

Reads (docs/run-folder.md)

* ``DIR/clean/data.parquet`` + ``meta.json``: the clean wave (with derived variables),
  turned into its valid view (declared missing codes -> NaN, ``SpssMeta.valid_view``);
* ``DIR/weight/weights.parquet``: the key, the final weight (``weight``) and the design
  columns (the stratum; ``psu``, ``fpc`` when present), as ``diagnostics.json`` names them. Its rows are the analysed
  respondents: clean records without a weight (e.g. dropped partial interviews) are left
  out; a weighted key without a clean record is an error;
* ``DIR/score/indices.parquet`` (when the score stage has run): the key + ``idx_*``;
* for ``variance="replicate"``: ``DIR/weight/replicates.parquet`` (key + replicate
  weight columns) and, in ``DIR/weight/diagnostics.json``, the replicate variance
  formula under ``"replicates"``: ``method`` (or ``type``), ``scale``, ``rscales`` (a
  number or one per column) and ``mse`` (R ``svrepdesign(scale=, rscales=, mse=)``).

``diagnostics.json`` names the key and the design columns under ``"design"`` (the weight
stage writes them): ``{"key": "person_key", "weight": "weight", "strata": "stratum",
"psu": null, "fpc": null}`` (SID's names). Without the entry the weight column is
``weight``, a ``psu`` column is used when present, and there are no strata; without a
``key`` there, give ``key=``. ``psu`` and ``fpc`` may be lists, one column per sampling
stage (``["psu_1", "psu_2"]``, ``["fpc_1", "fpc_2"]``: the weight stage's names for a
clustered design), as ``Design(psu=[...], fpc=[...])`` takes them, so the Taylor design
of a clustered wave sums influence values within its PSUs.

``diagnostics.json`` may describe the calibration under ``"calibration"``: ``{"prior":
<column of weights.parquet with the weights before calibration>, "margins": {"stratum:sex":
{"MAR:1": 5300.0, ...}, ...}, "method": "raking", "bounds": null}`` (margins in the form of
``Design.calibrate``). A Taylor design is then ``Design.calibrated``: influence values are
residualised on the calibration model (GREG linearisation), so its SEs account for the
calibration, and the final weights are checked against the margins.

A replicate design carries the weighting's own replicate weights, in which the weight
stage redid non-response adjustment and calibration, so its SEs account for both. A
Taylor design without a ``"calibration"`` entry uses the final weights and strata as if
they were design weights (the calibration is then not reflected in its SEs).

Example (a run folder after ``sid run --out out``)::

    import sid
    wave = sid.open_wave("out")                     # the weight stage's replicate design
    wave.mean("idx_language", by="origin")          # estimate, se, ci_low, ci_high, cv, n, ...
    wave.proportion("dutch_home", by=["origin", "generation"])
    wave.compare("idx_language", by="origin", reference="BEL")
    wave.table("dutch_home", by=["origin", "origin:generation"], compare_to={"origin": "BEL"})
    sid.open_wave("out", variance="taylor").design  # Taylor linearisation instead
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sid.errors import DataError, EstimationError, RunFolderError
from sid.estimation.design import Design
from sid.io.spss_meta import SpssMeta

PathLike = str | os.PathLike[str]
WEIGHTS_FILE, REPLICATES_FILE, DIAGNOSTICS_FILE = "weights.parquet", "replicates.parquet", "diagnostics.json"
INDICES_FILE = "indices.parquet"
VARIANCES = ("taylor", "replicate")


@dataclass
class Wave:
    """A processed wave: ``data`` (valid view, one row per weighted respondent), ``meta``
    (SPSS metadata of the clean wave), ``design`` (a sid Design), ``variance``, the run
    folder ``out_dir`` and the weight stage's ``diagnostics`` (diagnostics.json). Estimators delegate to the design (R's survey grammar)."""

    data: pd.DataFrame
    meta: SpssMeta
    design: Design
    variance: str
    out_dir: Path
    diagnostics: dict = field(default_factory=dict)

    def mean(self, variable: str, by=None, level: float = 0.95, labels: bool = False) -> pd.DataFrame:
        """Weighted mean of ``variable`` overall or by domains (``Design.mean``); ``labels``:
        add the labels of the variable and of the domains' codes (see :meth:`labelled`)."""
        return self._labelled(self.design.mean(variable, by=by, level=level), by, labels)

    def proportion(self, variable: str, by=None, ci: str = "logit", level: float = 0.95,
                   labels: bool = False) -> pd.DataFrame:
        """Share of each category of ``variable`` (``Design.proportion``); ``labels``: add
        ``category_label`` and the domains' labels."""
        return self._labelled(self.design.proportion(variable, by=by, ci=ci, level=level), by, labels)

    def total(self, variable: str, by=None, level: float = 0.95, labels: bool = False) -> pd.DataFrame:
        """Weighted total of ``variable`` (``Design.total``)."""
        return self._labelled(self.design.total(variable, by=by, level=level), by, labels)

    def quantile(self, variable: str, q=0.5, by=None, level: float = 0.95, labels: bool = False) -> pd.DataFrame:
        """Quantile(s) ``q`` of ``variable`` (``Design.quantile``)."""
        return self._labelled(self.design.quantile(variable, q, by=by, level=level), by, labels)

    def compare(self, variable: str, by, reference=None, level: float = 0.95) -> pd.DataFrame:
        """Domain means minus the ``reference`` domain's, with t-tests (``Design.compare``)."""
        return self.design.compare(variable, by, reference=reference, level=level)

    def chisq(self, row: str, col: str) -> pd.DataFrame:
        """Rao-Scott adjusted chi-square of ``row`` x ``col`` (``Design.chisq``)."""
        return self.design.chisq(row, col)

    def labelled(self, result: pd.DataFrame, by=None) -> pd.DataFrame:
        """``result`` of an estimator with labels from the clean wave's SPSS dictionary:
        ``variable_label``; ``category_label`` beside ``category``; ``<by>_label`` beside
        each domain column (codes without a label keep their code)."""
        from sid.tables.labels import Labels, code_key

        lab = Labels.from_meta(self.meta, self.data)
        out = result.copy()
        cols = list(out.columns)
        if "variable" in out.columns:
            out.insert(cols.index("variable") + 1, "variable_label", out["variable"].map(lab.label))
        for b in [c for c in ([by] if isinstance(by, str) else list(by or [])) if c in out.columns]:
            codes = out[b].map(code_key).astype(str)
            out.insert(list(out.columns).index(b) + 1, f"{b}_label", lab.value_labels(b, codes).to_numpy())
        if "category" in out.columns and "variable" in out.columns:
            labels = [lab.categories.get(v, {}).get(code_key(c), code_key(c))
                      for v, c in zip(out["variable"], out["category"], strict=True)]
            out.insert(list(out.columns).index("category") + 1, "category_label", labels)
        return out

    def _labelled(self, result: pd.DataFrame, by, labels: bool) -> pd.DataFrame:
        return self.labelled(result, by) if labels else result

    def __repr__(self) -> str:
        """A short description (not the data): the wave, its size, the design and what the
        weight stage did (diagnostics.json)."""
        from sid.runfolder.manifest import read_manifest

        try:
            name = read_manifest(self.out_dir).get("wave")
        except (OSError, ValueError):
            name = None
        d = self.diagnostics
        lines = [f"sid Wave {name or ''} in {self.out_dir}: {len(self.data):,} respondents x "
                 f"{self.data.shape[1]} variables; variance {self.variance!r}".replace("Wave  in", "Wave in")]
        design = d.get("design") if isinstance(d.get("design"), dict) else {}
        if design:
            lines.append("  weight stage: " + ", ".join(f"{k} {v!r}" for k, v in design.items() if v))
        cal = d.get("calibration")
        if isinstance(cal, dict) and isinstance(cal.get("margins"), dict):
            lines.append(f"  calibrated:   {cal.get('method', 'raking')} on {len(cal['margins'])} margins "
                         f"({', '.join(list(cal['margins'])[:4])}{', ...' if len(cal['margins']) > 4 else ''})")
        lines += ["  " + line for line in repr(self.design).splitlines()]
        lines.append("  use .data, .meta, .design; .mean(), .proportion(), .table() (labels=True for labels)")
        return "\n".join(lines)

    def table(self, variables: str | Sequence[str], by: str | Sequence[str] = (), *,
              compare_to: Mapping[str, str | int] | None = None, chisq: Sequence[str] = (),
              statistics: Sequence[str] | None = None, overall: bool = True, min_n: int = 30,
              max_cv: float = 0.3, level: float = 0.95, proportion_ci: str = "logit",
              labels=None, published: bool = False) -> pd.DataFrame:
        """One table in the tidy layout of ``sid tables`` (sid.tables.build.COLUMNS): labels,
        estimate, se, CI, cv, n, weighted n, deff, status; ``published=True`` blanks cells
        under ``min_n``. ``by``: domains, each a variable or a crossing "origin:generation";
        labels default to the clean wave's SPSS dictionary (sid.tables.labels)."""
        from sid.spec.yamlfile import Where
        from sid.tables.build import build_tables
        from sid.tables.disclosure import publish
        from sid.tables.labels import Labels
        from sid.tables.plan import Defaults, TablePlan, TableSpec, parse_domain

        names = (variables,) if isinstance(variables, str) else tuple(variables)
        domains = (by,) if isinstance(by, str) else tuple(by)
        spec = TableSpec(id="table", theme="", title="", variables=names,
                         by=tuple(parse_domain(d, Where("Wave.table", "by")) for d in domains),
                         compare_to=dict(compare_to or {}), chisq=tuple(chisq),
                         statistics=tuple(statistics) if statistics is not None else None, overall=overall)
        plan = TablePlan(wave=str(self.out_dir), tables=(spec,), defaults=Defaults(
            min_n=min_n, max_cv=max_cv, level=level, variance=self.variance, proportion_ci=proportion_ci))
        out = build_tables(self.design, plan, labels or Labels.from_meta(self.meta, self.data))
        return publish(out) if published else out


def _read_parquet(path: Path, stage: str) -> pd.DataFrame:
    if not path.is_file():
        raise RunFolderError(f"{path} not found; run `sid {stage}` on this run folder first")
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise RunFolderError(f"{path}: unreadable ({exc}); re-run `sid {stage}`") from exc


def _check_key(df: pd.DataFrame, key: str, path: Path) -> None:
    if key not in df.columns:
        raise RunFolderError(f"{path}: no key column {key!r}; the stage must write the respondent key")
    dup = df[key].duplicated()
    if dup.any():
        raise DataError(f"{path}: key {df[key][dup].iloc[0]!r} occurs more than once; re-run the stage")


def _align(keys: pd.Series, other: pd.DataFrame, key: str, path: Path) -> np.ndarray:
    """Row positions in ``other`` of each of ``keys``; DataError when one is absent."""
    theirs = other[key].to_numpy(dtype=object)
    mine = keys.to_numpy(dtype=object)
    if theirs.shape == mine.shape and bool((theirs == mine).all()):
        return np.arange(mine.shape[0])  # the files' rows in the same order (the usual case)
    # object dtype: pandas' hash table (Arrow-backed strings take a slower path)
    pos = pd.Index(theirs, dtype=object).get_indexer(mine)
    if (pos < 0).any():
        raise DataError(f"{path}: no row for respondent {keys.iloc[int(np.flatnonzero(pos < 0)[0])]!r} "
                        "of the weights; the stages were run on different waves, re-run them")
    return pos


def _diagnostics(weight_dir: Path) -> dict:
    path = weight_dir / DIAGNOSTICS_FILE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RunFolderError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno}); re-run `sid weight`") from None


def _present(df: pd.DataFrame, name, default: str | None):
    """The design column(s) named in the diagnostics (a name, or a list of names per
    stage), else the default when it exists."""
    if isinstance(name, list):
        for n in name:
            _present(df, n, None)
        return list(name) or None
    if name is not None:
        if name not in df.columns:
            raise RunFolderError(f"weights: design column {name!r} named in diagnostics.json is not in "
                                 f"{WEIGHTS_FILE}; re-run `sid weight`")
        return name
    return default if default is not None and default in df.columns else None


def _read_replicates(path: Path, keys: pd.Series, key: str) -> np.ndarray:
    """Replicate weights (n x R) in the order of ``keys``, read a block of columns at a
    time into one preallocated array (350,000 x 500 doubles is 1.4 GB: no second copy)."""
    import pyarrow.parquet as pq

    if not path.is_file():
        raise RunFolderError(f"{path} not found; run `sid weight` on this run folder first, or use --variance taylor")
    try:
        f = pq.ParquetFile(path)
        names = f.schema_arrow.names
        if key not in names:
            raise RunFolderError(f"{path}: no key column {key!r}; the stage must write the respondent key")
        rkeys = f.read(columns=[key]).column(0).to_pandas()
        _check_key(rkeys.to_frame(key), key, path)
        pos = _align(keys, rkeys.to_frame(key), key, path)
        pos = None if np.array_equal(pos, np.arange(keys.shape[0])) else pos  # no gather
        cols = [c for c in names if c != key]
        W = np.empty((keys.shape[0], len(cols)))
        for start in range(0, len(cols), 50):
            block = f.read(columns=cols[start:start + 50]).to_pandas().to_numpy(dtype=float)
            W[:, start:start + 50] = block if pos is None else block[pos]
    except (OSError, ValueError) as exc:
        raise RunFolderError(f"{path}: unreadable ({exc}); re-run `sid weight`") from exc
    if W.shape[1] < 2 or not np.isfinite(W).all() or (W < 0).any():
        raise DataError(f"{path}: replicate weights must be >= 2 finite, non-negative columns; re-run `sid weight`")
    return W


def _replicate_design(data: pd.DataFrame, weight: str, W: np.ndarray, diag: dict, where: Path) -> Design:
    """The design of the weight stage's replicate weights ``W`` (R ``svrepdesign(repweights=,
    type=, scale=, rscales=, mse=)``, ``Design.from_replicate_weights``); degrees of
    freedom = rank of the replicates - 1."""
    info = diag.get("replicates")
    if not isinstance(info, dict) or "scale" not in info or "rscales" not in info:
        raise RunFolderError(f"{where}: no 'replicates' entry with 'scale' and 'rscales'; the replicate "
                             "variance needs them: re-run `sid weight` or use --variance taylor")
    if np.size(info["rscales"]) not in (1, W.shape[1]):
        raise RunFolderError(f"{where}: replicates.rscales has {np.size(info['rscales'])} values for "
                             f"{W.shape[1]} replicate columns; re-run `sid weight`")
    kind = str(info.get("method", info.get("type", "other")))
    try:
        return Design.from_replicate_weights(data, weight, W, scale=info["scale"], rscales=info["rscales"],
                                             mse=bool(info.get("mse", False)), type=kind)
    except EstimationError as exc:
        raise RunFolderError(f"{where}: replicates: {exc}; re-run `sid weight`") from None


def _calibrated(data: pd.DataFrame, weights: pd.DataFrame, info, where: Path, **design) -> Design:
    """The Taylor design of calibrated final weights (``Design.calibrated``: GREG residuals
    of the calibration model, Deville & Särndal 1992, as R's ``calibrate``). ``info`` is
    the diagnostics' ``"calibration"`` entry: ``prior`` (column of the weights before
    calibration), ``margins`` (``{"stratum:sex": {"MAR:1": 5300.0, ...}, ...}``, the form
    of ``Design.calibrate``), ``method`` and ``bounds``. The final weights must meet the
    margins (checked by Design.calibrated)."""
    if not isinstance(info, dict) or "prior" not in info or not isinstance(info.get("margins"), dict):
        raise RunFolderError(f"{where}: 'calibration' needs 'prior' (the weight column before calibration) "
                             "and 'margins' (population totals); re-run `sid weight`")
    if info["prior"] not in weights.columns:
        raise RunFolderError(f"{where}: calibration prior weight {info['prior']!r} is not a column of "
                             f"{WEIGHTS_FILE}; re-run `sid weight`")
    bounds = info.get("bounds")
    return Design.calibrated(data, prior=info["prior"], margins=info["margins"],
                             method=str(info.get("method", "raking")),
                             bounds=tuple(bounds) if bounds is not None else None, **design)


def open_wave(out_dir: PathLike, variance: str = "replicate", key: str | None = None,
              lonely_psu: str = "fail") -> Wave:
    """Open the processed wave of run folder ``out_dir`` with a ``"replicate"`` or
    ``"taylor"`` design (see the module docstring for the files read). ``key``: the
    respondent key (default: the one ``diagnostics.json`` records). ``lonely_psu``: a
    stratum with one PSU in Taylor variance, as R's ``options(survey.lonely.psu)``."""
    from sid.io.wave import read_wave

    if variance not in VARIANCES:
        raise RunFolderError(f"open_wave: variance={variance!r} is not one of {', '.join(VARIANCES)}")
    out = Path(out_dir)
    df, meta = read_wave(out / "clean")
    weight_dir = out / "weight"
    wpath = weight_dir / WEIGHTS_FILE
    weights = _read_parquet(wpath, "weight")
    diag = _diagnostics(weight_dir)
    dpath = weight_dir / DIAGNOSTICS_FILE
    names = diag.get("design", {}) if isinstance(diag.get("design"), dict) else {}
    key = key or names.get("key")
    if not key:
        raise RunFolderError(f"{dpath}: no design.key (the respondent key) recorded; re-run "
                             "`sid weight`, or give open_wave(..., key=NAME)")
    _check_key(weights, key, wpath)
    _check_key(df, key, out / "clean" / "data.parquet")
    pos = _align(weights[key], df, key, out / "clean" / "data.parquet")
    data = meta.valid_view(df.iloc[pos].reset_index(drop=True))
    # The weight stage is authoritative for its columns (final weight, design columns).
    wcols = [c for c in weights.columns if c != key]
    data = data.drop(columns=[c for c in wcols if c in data.columns])
    data = pd.concat([data, weights[wcols].reset_index(drop=True)], axis=1)
    ipath = out / "score" / INDICES_FILE
    if ipath.is_file():
        idx = _read_parquet(ipath, "score")
        _check_key(idx, key, ipath)
        ipos = _align(weights[key], idx, key, ipath)
        icols = [c for c in idx.columns if c != key]
        data = data.drop(columns=[c for c in icols if c in data.columns])
        data = pd.concat([data, idx[icols].iloc[ipos].reset_index(drop=True)], axis=1)
    weight = _present(weights, names.get("weight"), "weight")
    if weight is None:
        raise RunFolderError(f"{wpath}: no final weight column 'weight'; re-run `sid weight`")
    cols = {"weight": weight, "strata": _present(weights, names.get("strata"), None),
            "psu": _present(weights, names.get("psu"), "psu"), "fpc": _present(weights, names.get("fpc"), None)}
    if variance == "replicate":
        W = _read_replicates(weight_dir / REPLICATES_FILE, weights[key], key)
        design = _replicate_design(data, weight, W, diag, dpath)
    elif "calibration" in diag:
        design = _calibrated(data, weights, diag["calibration"], dpath, lonely_psu=lonely_psu, **cols)
    else:
        design = Design(data, lonely_psu=lonely_psu, **cols)
    return Wave(data=data, meta=meta, design=design, variance=variance, out_dir=out, diagnostics=diag)

"""The link stage's input from a run folder (docs/run-folder.md): respondents with weights
and indices.

``RUN/clean/data.parquet`` (clean wave with register variables and derived variables;
missing codes kept as codes, which the linkage spec's questionnaire turns into missing),
``RUN/weight/weights.parquet`` (key + final weight) and, when present,
``RUN/score/indices.parquet`` (key + indices) are joined on the person key. The weight
file defines the analysis sample: a clean record without a final weight (e.g. a breakoff
the weighting left out) is not a respondent of the weighted wave and is not used; a
weight without a clean record is an error.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from sid.errors import RunFolderError

CLEAN_DATA = Path("clean") / "data.parquet"
WEIGHTS = Path("weight") / "weights.parquet"
INDICES = Path("score") / "indices.parquet"


def _read(path: Path, stage: str) -> pd.DataFrame:
    if not path.is_file():
        raise RunFolderError(f"{path}: not found; run sid {stage} on this run folder first "
                             "(or give sid link --respondents FILE.parquet)")
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise RunFolderError(f"{path}: cannot read ({' '.join(str(exc).split())}); re-run sid {stage}") from None


def _check_key(frame: pd.DataFrame, key: str, path: Path) -> None:
    if key not in frame.columns:
        raise RunFolderError(f"{path}: no key column {key!r}; the stages must carry the person key")
    dup = frame[key].duplicated()
    if dup.any():
        raise RunFolderError(f"{path}: key {frame.loc[dup, key].iloc[0]!r} appears twice; one row per respondent")


def respondents_from_run(run_dir: str | os.PathLike[str], *, key: str = "person_key",
                         weight: str = "weight") -> tuple[pd.DataFrame, list[Path]]:
    """Respondents of the weighted wave with their final ``weight`` and indices, and the
    files read."""
    run = Path(run_dir)
    files = [run / CLEAN_DATA, run / WEIGHTS]
    clean = _read(files[0], "clean")
    weights = _read(files[1], "weight")
    for frame, path in ((clean, files[0]), (weights, files[1])):
        _check_key(frame, key, path)
    if weight not in weights.columns:
        raise RunFolderError(f"{files[1]}: no final weight column {weight!r}; give --weight NAME")
    extra = [weight] + [c for c in weights.columns if c not in clean.columns and c not in (key, weight)]
    data = weights[[key, *extra]].merge(clean.drop(columns=[c for c in extra if c in clean.columns]),
                                        on=key, how="left", validate="one_to_one", indicator=True)
    orphan = data["_merge"] == "left_only"
    if orphan.any():
        raise RunFolderError(f"{files[1]}: key {data.loc[orphan, key].iloc[0]!r} has a weight but no clean "
                             f"record in {files[0]}; re-run the weight stage on this clean wave")
    data = data.drop(columns="_merge")
    if (run / INDICES).is_file():
        files.append(run / INDICES)
        idx = _read(files[-1], "score")
        _check_key(idx, key, files[-1])
        cols = [c for c in idx.columns if c != key and c not in data.columns]
        data = data.merge(idx[[key, *cols]], on=key, how="left", validate="one_to_one")
    return data, files

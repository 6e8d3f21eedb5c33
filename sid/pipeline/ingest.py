"""The ingest stage: SPSS fieldwork files -> the raw wave in DIR/raw, with its manifest entry."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from sid.io.spss import SpssMeta
from sid.io.wave import RAW, check_raw_target, ingest, write_raw_files
from sid.pipeline.manifest import StageRecord, begin_stage, stage_folder

PathLike = str | os.PathLike[str]


def run_ingest(
    out_dir: PathLike,
    files: Mapping[str, PathLike] | Sequence[PathLike],
    *,
    encoding: str | None = None,
    chunksize: int | None = None,
    mode_variable: str = "mode",
    spec: PathLike | None = None,
    key_file: PathLike | None = None,
) -> tuple[Path, pd.DataFrame, SpssMeta]:
    """Merge the mode files into DIR/raw (atomically) and record the stage in the manifest.

    ``files`` maps mode -> file, or lists files whose mode is the last ``_`` part of
    the name (``sid2022_web.sav`` -> web). ``spec``: the wave's questionnaire spec, whose
    ``identifier: pseudonymise`` variables are pseudonymised with the key of ``key_file``
    (default ``$SID_PSEUDONYM_KEY``); any other raw national register number is refused
    (:mod:`sid.io.identifiers`), and all of them without a spec. Nothing is written when
    a file is refused. Returns the raw folder, the data and metadata.
    """
    begin_stage(out_dir)
    paths = list(files.values()) if isinstance(files, Mapping) else list(files)
    q = None
    if spec is not None:
        from sid.spec.questionnaire import load_questionnaire

        q = load_questionnaire(spec)
    key = None
    if key_file is not None:
        from sid.linkage.pseudonym import load_key

        key = load_key(key_file)
    rec = StageRecord(
        stage="ingest",
        inputs=paths,
        specs=[spec] if spec is not None else [],
        params={"encoding": encoding, "mode_variable": mode_variable},
    )
    df, meta = ingest(files, mode_variable=mode_variable, encoding=encoding, chunksize=chunksize,
                      questionnaire=q, key=key)
    if q is not None:
        rec.params["pseudonymised"] = [c for c in q.identifiers() if c in df.columns]
    raw = Path(out_dir) / RAW
    check_raw_target(raw, meta)
    with stage_folder(out_dir, rec, folder=RAW) as st:
        write_raw_files(df, meta, st.path)
    return raw, df, meta

"""The ingest stage: SPSS fieldwork files -> the raw wave in DIR/raw, with its manifest entry.

:func:`run_ingest` takes the files as given (``sid ingest FILE...``); :func:`ingest_wave`
takes them from the project wave's ``data.fieldwork`` (file -> mode) in the data folder,
with the ``mode`` role as the mode variable, and records the wave in the run folder's
manifest, so the later stages run alone (``sid clean --out DIR``) know it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from sid.errors import InputFileError, SpecError
from sid.io.spss import SpssMeta
from sid.io.wave import RAW, check_raw_target, ingest, write_raw_files
from sid.project import PROJECT_FILE, Wave
from sid.runfolder.manifest import StageRecord, begin_stage, stage_folder

PathLike = str | os.PathLike[str]
MODE_VARIABLE = "mode"  # the mode variable of ``sid ingest FILE...`` outside a project


def run_ingest(
    out_dir: PathLike,
    files: Mapping[str | None, PathLike] | Sequence[PathLike],
    *,
    encoding: str | None = None,
    chunksize: int | None = None,
    mode_variable: str | None = MODE_VARIABLE,
    spec: PathLike | None = None,
    key_file: PathLike | None = None,
    wave: str | None = None,
) -> tuple[Path, pd.DataFrame, SpssMeta]:
    """Merge the mode files into DIR/raw (atomically) and record the stage in the manifest.

    ``files`` maps mode -> file, or lists files whose mode is the last ``_`` part of
    the name (``sid2022_web.sav`` -> web); ``{None: file}`` is one file holding the mode
    in ``mode_variable`` (sid.io.wave.ingest). ``spec``: the wave's questionnaire spec,
    whose ``identifier: pseudonymise`` variables are pseudonymised with the key of
    ``key_file`` (default ``$SID_PSEUDONYM_KEY``); any other raw national register number
    is refused (:mod:`sid.io.identifiers`), and all of them without a spec. Nothing is
    written when a file is refused. ``wave``: the project wave, recorded in the manifest.
    Returns the raw folder, the data and metadata.
    """
    begin_stage(out_dir)
    paths = list(files.values()) if isinstance(files, Mapping) else list(files)
    q = None
    if spec is not None:
        from sid.spec.questionnaire_parse import load_questionnaire

        q = load_questionnaire(spec)
    key = None
    if key_file is not None:
        from sid.io.pseudonym import load_key

        key = load_key(key_file)
    rec = StageRecord(
        stage="ingest",
        inputs=paths,
        specs=[spec] if spec is not None else [],
        params={"wave": wave, "encoding": encoding, "mode_variable": mode_variable},
    )
    df, meta = ingest(files, mode_variable=mode_variable, encoding=encoding, chunksize=chunksize,
                      questionnaire=q, key=key)
    if q is not None:
        rec.params["pseudonymised"] = [c for c in q.identifiers() if c in df.columns]
    raw = Path(out_dir) / RAW
    check_raw_target(raw, meta)
    with stage_folder(out_dir, rec, folder=RAW, wave=wave) as st:
        write_raw_files(df, meta, st.path)
    return raw, df, meta


def wave_files(wave: Wave, data_dir: Path) -> dict[str | None, Path]:
    """The wave's fieldwork files in ``data_dir``, mode -> path (sid.yaml ``data.fieldwork``)."""
    if any(f.mode is not None for f in wave.data.fieldwork) and wave.roles.mode is None:
        raise SpecError(f"{wave.project_dir / PROJECT_FILE}: wave {wave.name} gives its fieldwork "
                        "files a mode but names no mode variable; add roles: mode: NAME")
    files = {f.mode: data_dir / f.file for f in wave.data.fieldwork}
    for path in files.values():
        if not path.is_file():
            raise InputFileError(f"{path}: fieldwork file not found (data.fieldwork of wave {wave.name} "
                                 f"in {wave.project_dir / PROJECT_FILE}); give the data folder holding "
                                 "it (--data DIR) or fix the name")
    return files


def ingest_wave(out_dir: PathLike, wave: Wave, data_dir: Path, *, encoding: str | None = None,
                chunksize: int | None = None, key_file: PathLike | None = None,
                ) -> tuple[Path, pd.DataFrame, SpssMeta]:
    """Ingest the wave's fieldwork files from ``data_dir`` (see the module docstring); the
    wave's questionnaire names the variables to pseudonymise (``key_file``: the key, default
    ``$SID_PSEUDONYM_KEY``)."""
    return run_ingest(out_dir, wave_files(wave, data_dir), encoding=encoding, chunksize=chunksize,
                      mode_variable=wave.roles.mode, spec=wave.questionnaire, key_file=key_file,
                      wave=wave.name)

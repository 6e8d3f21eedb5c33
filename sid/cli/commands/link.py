"""``sid link --out RUN_DIR``: survey indicators for VLIM into the indicator base.

Reads the linkage spec (``--spec``, default the one ``PROJECT/linkage/*.yaml`` beside the
origin map), computes the survey indicators through sid's Design (SEs, CIs, disclosure),
writes ``RUN_DIR/link/survey_indicators.csv`` and ``RUN_DIR/link/load.json``, and
replaces the wave's rows in the indicator base (``--db``, default the spec's ``base``) in
one transaction, together with any register indicator sets named by ``--admin``.

Input: the run folder's processed wave, ``sid.open_wave(RUN_DIR, variance=--variance)``
(clean data, final weights, indices; the weight stage's replicate weights by default, or
calibration-aware Taylor SEs with ``--variance taylor``); or ``--respondents
FILE.parquet``: one row per respondent with the final weight (``--weight``, default
``weight``), the strata (``--strata``, default ``origin``), the origin group and
generation, the breakdown variables and every variable the indicators read (valid view or
raw codes: the questionnaire's missing codes are applied), estimated with Taylor SEs on
those columns. Input holding a raw national register number is refused.

``--register FILE.parquet`` (a pseudonymised register extract, keyed like the
respondents by ``--key``) adds the link: ``RUN_DIR/link/link_rates.csv`` (linked,
unlinked, duplicate keys per origin group) and ``RUN_DIR/link/respondents_linked.parquet``
(respondents with ``link_status`` and the register variables as ``reg_*``), to analyse
with ``sid.Design`` like any respondent file.

``--admin-only`` loads the ``--admin`` register sets alone (no respondents needed).
``--drop WAVE`` removes a wave's rows from the base instead (and computes nothing).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sid.errors import InputFileError

NAME = "link"
ORDER = 70
HELP = "compute the survey indicators for VLIM and load them into the indicator base"


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sid link``."""
    parser.add_argument("--out", required=True, metavar="RUN_DIR", help="the run folder")
    parser.add_argument("--project", default=".", metavar="DIR", help="survey project folder (default: here)")
    parser.add_argument("--spec", default=None, metavar="FILE", help="linkage spec (default: PROJECT/linkage/*.yaml)")
    parser.add_argument("--respondents", default=None, metavar="FILE.parquet",
                        help="respondents with final weights and the indicators' variables "
                             "(default: the run folder's wave, sid.open_wave)")
    parser.add_argument("--admin", action="append", default=[], metavar="DIR",
                        help="a register indicator set (folder with indicators.csv, values.csv) to load too")
    parser.add_argument("--db", default=None, metavar="FILE", help="indicator base (default: the spec's base)")
    parser.add_argument("--variance", choices=("replicate", "taylor"), default="replicate",
                        help="SEs of the run folder's wave: the weight stage's replicate weights "
                             "(default) or Taylor linearisation")
    parser.add_argument("--weight", default="weight", help="final weight column (default: weight)")
    parser.add_argument("--strata", default="origin", help="strata column (default: origin)")
    parser.add_argument("--psu", default=None, help="PSU column (default: none, each respondent its own PSU)")
    parser.add_argument("--register", default=None, metavar="FILE.parquet",
                        help="pseudonymised register extract: link respondents to it by --key, write "
                             "link/link_rates.csv and link/respondents_linked.parquet")
    parser.add_argument("--key", default="person_key", help="pseudonymous person key (default: person_key)")
    parser.add_argument("--admin-only", action="store_true",
                        help="load only the --admin register sets (no survey indicators)")
    parser.add_argument("--drop", default=None, metavar="WAVE", help="remove WAVE's rows from the base and stop")


def _read_parquet(path: str):
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"{p}: file not found")
    try:
        return pd.read_parquet(p)
    except (OSError, ValueError) as exc:
        raise InputFileError(f"{p}: cannot read as parquet ({' '.join(str(exc).split())})") from None


def _run_id(out: Path) -> str:
    from sid.pipeline.manifest import read_manifest, record_stage

    run_id = read_manifest(out).get("run_id")
    if not run_id:  # record_stage gives the run its id; record a started entry to get it
        run_id = record_stage(out, {"stage": "link", "status": "started"})["run_id"]
    return run_id


def _load_admin_only(args: argparse.Namespace, db: Path, categories: list[str]) -> int:
    from sid.errors import LinkageError
    from sid.linkage.base import Load, open_base, replace_waves
    from sid.linkage.register_load import read_register_set

    if not args.admin:
        raise LinkageError("sid link --admin-only: name the register sets with --admin DIR")
    sets = [read_register_set(a, origins=categories) for a in args.admin]
    con = open_base(db)
    try:
        counts = replace_waves(con, [Load(s.wave, "register", s.indicators, s.values, s.spec_hash,
                                          where=str(s.files[1])) for s in sets])
    finally:
        con.close()
    for wave, c in counts.items():
        print(f"sid link: {wave}: {c['inserted']} values loaded ({c['deleted']} replaced) into {db}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    """Compute, write the link folder, load the base (one transaction)."""
    from sid.io.atomic import atomic_dir
    from sid.linkage.base import Load, drop_wave, open_base, replace_waves
    from sid.linkage.indicators import survey_indicators
    from sid.linkage.pseudonym import refuse_raw_nrn
    from sid.linkage.register_load import read_register_set
    from sid.linkage.spec import find_spec, load_linkage_spec
    from sid.pipeline.manifest import StageRecord, record_stage

    spec_path = Path(args.spec) if args.spec else find_spec(args.project)
    spec = load_linkage_spec(spec_path, project=args.project)
    db = Path(args.db) if args.db else spec.base
    if args.drop:
        con = open_base(db)
        try:
            n = drop_wave(con, args.drop)
        finally:
            con.close()
        print(f"sid link: dropped wave {args.drop} ({n} values) from {db}", file=sys.stderr)
        return 0
    out = Path(args.out)
    categories = [c.code for c in spec.origin_map.categories]
    if args.admin_only:
        return _load_admin_only(args, db, categories)
    if args.respondents:
        respondents, inputs = _read_parquet(args.respondents), [Path(args.respondents)]
        source, params = respondents, {"weight": args.weight, "strata": args.strata, "psu": args.psu,
                                       "variance": "taylor"}
    else:
        from sid.pipeline.wave import open_wave

        wave = open_wave(out, variance=args.variance, key=args.key)
        respondents, source = wave.data, wave.design
        params = {"variance": wave.design.method}
        inputs = [out / "clean" / "data.parquet", out / "clean" / "meta.json", out / "weight" / "weights.parquet",
                  out / "weight" / "diagnostics.json", out / "weight" / "replicates.parquet",
                  out / "score" / "indices.parquet"]
    refuse_raw_nrn(respondents, str(args.respondents or out))
    sets = [read_register_set(a, origins=categories) for a in args.admin]
    linked = None
    if args.register:
        from sid.linkage.register_link import link_register

        register_df = _read_parquet(args.register)
        linked = link_register(respondents, register_df, key=args.key, origin=spec.origin_map.origin_variable,
                               where_survey=str(args.respondents), where_register=str(args.register))
    record = StageRecord("link", inputs=[*inputs, *([args.register] if args.register else []),
                                         *[f for s in sets for f in s.files]],
                         specs=list(spec.files), params={"db": str(db), **params})
    values = survey_indicators(source, spec, weight=args.weight, strata=args.strata, psu=args.psu)
    run_id = _run_id(out)
    loads = [Load(s.wave, "register", s.indicators, s.values, s.spec_hash, run_id, where=str(s.files[1]))
             for s in sets]
    loads.append(Load(spec.wave, "survey", spec.indicator_table(), values, spec.spec_hash, run_id,
                      where=str(spec_path)))
    with atomic_dir(out / "link") as tmp:
        csv = tmp / "survey_indicators.csv"
        values.to_csv(csv, index=False, lineterminator="\n", float_format="%.10g")
        written = [csv, tmp / "load.json"]
        if linked is not None:
            linked.rates.to_csv(tmp / "link_rates.csv", index=False, lineterminator="\n")
            linked.data.to_parquet(tmp / "respondents_linked.parquet", index=False)
            written += [tmp / "link_rates.csv", tmp / "respondents_linked.parquet"]
        con = open_base(db)
        try:
            counts = replace_waves(con, loads)
        finally:
            con.close()
        summary = {"db": str(db), "run_id": run_id, "spec_hash": spec.spec_hash, "loads": counts,
                   "suppressed": int(values["flags"].str.startswith("suppressed").sum())}
        (tmp / "load.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    record_stage(out, record.finish(out, [out / "link" / p.name for p in written]))
    if linked is not None:
        total = linked.rates.set_index(linked.rates.columns[0]).loc["all"]
        print(f"sid link: {int(total['linked'])} of {int(total['n'])} respondents linked to the register "
              f"({total['link_rate']:.1%}); per origin group in link/link_rates.csv", file=sys.stderr)
    for wave, c in counts.items():
        print(f"sid link: {wave}: {c['inserted']} values loaded ({c['deleted']} replaced) into {db}",
              file=sys.stderr)
    return 0

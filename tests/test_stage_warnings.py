"""Stage warnings (issue 16): what a stage wants the survey team to read is recorded in its
manifest entry (``warnings``), printed as ``sid: warning: <stage>: ...`` by ``sid run`` and
by the stage's own command, and listed in ``sid run``'s closing summary.

The demo wave gets one defect: a respondent whose interview is in the survey files has
their disposition edited to a refusal (the agency's final codes disagreeing with the data)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pyreadstat
import pytest

from sid.cli import main
from sid.demo import make_demo
from sid.pipeline.run import StageTiming, summary
from sid.scales.stage import score_warnings
from sid.weighting.stage import weight_warnings
from tests.projects import copy_project

ROOT = Path(__file__).resolve().parents[1]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def refuse_one_respondent(data: Path) -> str:
    """Edit the disposition of the first web respondent to REFUSAL (only that line of
    dispositions.csv changes); return their key."""
    web, _ = pyreadstat.read_sav(data / "sid2022_web.sav", usecols=["person_key"])
    key = str(web["person_key"].iloc[0])
    path = data / "dispositions.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    hits = [i for i, ln in enumerate(lines) if ln.startswith(f"{key},")]
    assert len(hits) == 1 and ",COMPLETE," in lines[hits[0]], lines[hits[0]] if hits else key
    lines[hits[0]] = lines[hits[0]].replace(",COMPLETE,", ",REFUSAL,")
    path.write_text("".join(lines), encoding="utf-8")
    return key


@pytest.fixture(scope="module")
def edited_run(tmp_path_factory):
    """``sid run`` on the demo wave (scale 0.1) with one refusal that has an interview:
    (project, original data, edited data, run folder, key, stderr lines, stdout, inputs
    before the run)."""
    base = tmp_path_factory.mktemp("warnings")
    proj = copy_project(base / "project")
    original, edited, out = base / "data", base / "edited", base / "run"
    make_demo(original, seed=11, scale=0.1)
    shutil.copytree(original, edited)
    key = refuse_one_respondent(edited)
    inputs = snapshot(edited)
    # capsys is function-scoped: the module's one run is captured by hand, with progress
    err, std = io.StringIO(), io.StringIO()
    quiet = os.environ.pop("SID_QUIET", None)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
            rc = main(["run", "--project", str(proj), "--data", str(edited), "--out", str(out)])
    finally:
        if quiet is not None:
            os.environ["SID_QUIET"] = quiet
    assert rc == 0, err.getvalue()[-2000:]
    return SimpleNamespace(project=proj, original=original, edited=edited, out=out, key=key,
                           err=err.getvalue().splitlines(), out_text=std.getvalue(), inputs=inputs)


def _refusal_message(key: str) -> str:
    return (f"survey data: 1 respondent(s) have a disposition that is no interview or break-off "
            f"(first: {key}; codes 2.11): correct their disposition or drop them from the survey files")


def test_sid_run_prints_the_fieldwork_warning_when_the_stage_ends(edited_run):
    msg = _refusal_message(edited_run.key)
    assert f"sid: warning: fieldwork: {msg}" in edited_run.err
    done = next(i for i, ln in enumerate(edited_run.err) if "fieldwork done in" in ln)
    warned = edited_run.err.index(f"sid: warning: fieldwork: {msg}")
    assert warned < done and "1 warning(s)" in edited_run.err[done]
    assert snapshot(edited_run.edited) == edited_run.inputs  # inputs byte-identical


def test_sid_run_lists_every_warning_in_its_closing_summary(edited_run):
    text = edited_run.out_text
    manifest = json.loads((edited_run.out / "manifest.json").read_text(encoding="utf-8"))
    recorded = [f"{stage}: {w}" for stage, e in manifest["stages"].items() for w in e["warnings"]]
    assert f"  fieldwork: {_refusal_message(edited_run.key)}" in text.splitlines()
    assert f"; {len(recorded)} warning(s)" in text.splitlines()[0]
    assert f"warnings ({len(recorded)};" in text
    for w in recorded:  # every recorded warning, in the summary and on stderr
        assert f"  {w}" in text.splitlines()
        assert f"sid: warning: {w}" in edited_run.err


def test_the_warning_is_recorded_in_the_fieldwork_entry_and_the_report(edited_run):
    entry = json.loads((edited_run.out / "manifest.json").read_text(encoding="utf-8"))["stages"]["fieldwork"]
    assert entry["warnings"] == [_refusal_message(edited_run.key)]
    page = (edited_run.out / "report" / "fieldwork.html").read_text(encoding="utf-8")
    assert edited_run.key in page


def test_sid_fieldwork_prints_the_warning_and_without_the_defect_none(edited_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(edited_run.out, run)
    args = ["fieldwork", "--out", str(run), "--project", str(edited_run.project)]
    assert main([*args, "--data", str(edited_run.edited)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert f"sid: warning: fieldwork: {_refusal_message(edited_run.key)}" in err
    assert main([*args, "--data", str(edited_run.original)]) == 0  # the demo as made: no defect
    err = capsys.readouterr().err.splitlines()
    assert not [ln for ln in err if ln.startswith("sid: warning:")]
    entry = json.loads((run / "manifest.json").read_text(encoding="utf-8"))["stages"]["fieldwork"]
    assert entry["warnings"] == []


def test_clean_warns_of_register_mismatches_with_their_counts(edited_run, tmp_path, capsys):
    flags = pd.read_parquet(edited_run.out / "clean" / "flags.parquet")
    counts = {c[len("mismatch_"):]: int(flags[c].sum()) for c in flags.columns if c.startswith("mismatch_")}
    assert any(counts.values()), "the demo plants register mismatches; update the test"
    entry = json.loads((edited_run.out / "manifest.json").read_text(encoding="utf-8"))["stages"]["clean"]
    for var, n in counts.items():
        said = [w for w in entry["warnings"] if f"answer {var} disagrees with the register" in w]
        assert said == ([f"{n} record(s) whose answer {var} disagrees with the register (flags.parquet "
                         f"mismatch_{var}); look at them, they are not changed"] if n else [])
    run = tmp_path / "run"
    shutil.copytree(edited_run.out, run)
    assert main(["clean", "--out", str(run), "--project", str(edited_run.project),
                 "--data", str(edited_run.edited)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert [ln for ln in err if ln.startswith("sid: warning:")] == [f"sid: warning: clean: {w}" for w in entry["warnings"]]


def test_weight_warnings_from_the_diagnostics():
    groups = pd.DataFrame({"group": ["BEL", "MAR", "all"], "n_nonpositive": [0, 3, 3]})
    diag = {"replicates": {"replicates": 80, "trimming_unsettled": [{"group": "MAR", "columns": [4, 7]},
                                                                    {"group": "TUR", "columns": [7]}]}}
    said = weight_warnings(SimpleNamespace(groups=groups, diagnostics=diag))
    assert said == [
        "group MAR: 3 final weight(s) <= 0; set calibration bounds or use raking (weighting spec)",
        "2 of 80 replicate columns keep weights outside a trimming bound after the last round "
        "(diagnostics.json replicates.trimming_unsettled); raise trimming.max_rounds or widen the bounds",
    ]
    assert weight_warnings(SimpleNamespace(groups=groups.assign(n_nonpositive=0), diagnostics={})) == []


def test_score_warnings_name_each_flagged_index_and_why():
    s = {"indices": {
        "idx_a": {"flagged": True, "low_reliability_groups": ["AFG"], "reliability_threshold": 0.6,
                  "loading_flags": [{}, {}], "invariance_level": "metric"},
        "idx_b": {"flagged": False, "invariance_level": "scalar"},
    }}
    assert score_warnings(s) == [
        "index idx_a flagged: reliability below 0.6 in AFG; 2 loading(s) differ between groups; scalar "
        "invariance not supported (level reached: metric), compare group means with care (score/summary.json)"]


def test_the_summary_without_warnings_has_no_warning_section():
    text = summary([StageTiming("ingest", 0.1, ["raw/data.parquet"])], "out")
    assert "warning" not in text
    text = summary([StageTiming("clean", 0.1, [], ["one"]), StageTiming("weight", 0.2, [], ["two"])], "out")
    assert text.splitlines()[0].endswith("; 2 warning(s)")
    assert text.splitlines()[-2:] == ["  clean: one", "  weight: two"]

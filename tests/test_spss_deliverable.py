"""The analysts' SPSS file (sid.report.spss_file) on the demo wave: read back with
pyreadstat (and R's haven when installed), its dictionary compared with the questionnaire
spec (sid2022.yaml) and its weights and indices with the stage files they came from.

The run folder is the real demo wave through the real ingest and clean stages; the
weight and score folders are synthetic files of the shape those stages write."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from sid.errors import DataError, RunFolderError
from sid.io.wave import read_wave
from sid.messages import catalogue
from sid.report.spss_file import write_wave_spss
from sid.spec.questionnaire_parse import load_questionnaire

PROJECT = Path(__file__).resolve().parents[1]
SPEC = PROJECT / "questionnaires" / "sid2022.yaml"
R = 12  # replicate columns
REASON = "too few valid items"  # the score stage's reasons (indices.parquet)
NO_WEIGHT = "no weight (not among the weighted respondents)"
NOTES = catalogue("nl").section("analyst.sav.notes")  # the .sav's notes: Dutch by default


def _stage_files(out: Path, seed: int = 5) -> None:
    """weight/weights.parquet, weight/replicates.parquet, score/indices.parquet for the
    clean wave of ``out``: every 9th clean record is left unweighted; replicates are
    stored in another row order than the weights."""
    df, _ = read_wave(out / "clean")
    q = load_questionnaire(SPEC)
    rng = np.random.default_rng(seed)
    keys = df["person_key"].astype(str).to_numpy(dtype=object)
    weighted = np.arange(len(keys)) % 9 != 4
    wk = keys[weighted]
    n = len(wk)
    dw = rng.uniform(20, 3000, n)
    w = dw * rng.uniform(0.6, 1.7, n)
    (out / "weight").mkdir()
    # the columns sid.weighting.stage writes, in its order
    pd.DataFrame({"person_key": wk, "stratum": df["stratum"][weighted].to_numpy(), "design_weight": dw,
                  "eligibility_factor": rng.uniform(1, 1.1, n), "nonresponse_factor": rng.uniform(1, 3, n),
                  "prior_weight": dw * rng.uniform(0.9, 1.2, n), "weight": w,
                  "trimmed": rng.random(n) < 0.05}).to_parquet(out / "weight" / "weights.parquet")
    order = rng.permutation(n)
    reps = {f"rep_{i:03d}": (w * rng.uniform(0, 2, n))[order].astype(np.float32) for i in range(1, R + 1)}
    pd.DataFrame({"person_key": wk[order], **reps}).to_parquet(out / "weight" / "replicates.parquet")
    ind = {"person_key": keys}
    for ix in q.indices:
        score = rng.uniform(0, 100, len(keys))
        reason = np.full(len(keys), None, dtype=object)
        few = rng.random(len(keys)) < 0.1
        score[few], reason[few] = np.nan, REASON
        score[~weighted], reason[~weighted] = np.nan, NO_WEIGHT
        ind[ix.name], ind[f"{ix.name}_reason"] = score, reason
    (out / "score").mkdir()
    pd.DataFrame(ind).to_parquet(out / "score" / "indices.parquet")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    from sid.clean.stage import run_clean
    from sid.demo import make_demo
    from sid.pipeline.ingest import run_ingest

    base = tmp_path_factory.mktemp("spss_deliverable")
    data, out = base / "data", base / "out"
    make_demo(data, scale=0.1)
    run_ingest(out, [data / "sid2022_web.sav", data / "sid2022_capi.sav"])
    run_clean(out, PROJECT, data)
    _stage_files(out)
    with_rep = write_wave_spss(out, PROJECT)
    without = write_wave_spss(out, PROJECT, base / "norep" / "sid2022.sav", replicates=False)
    return out, with_rep, without


@pytest.fixture(scope="module")
def read_back(demo_run):
    _, path, _ = demo_run
    return pyreadstat.read_sav(str(path), user_missing=True)


def _declared(ranges: list[dict]) -> tuple[set, set]:
    """pyreadstat's missing_ranges as (discrete values, (lo, hi) ranges)."""
    values = {float(r["lo"]) for r in ranges if r["lo"] == r["hi"]}
    spans = {(float(r["lo"]), float(r["hi"])) for r in ranges if r["lo"] != r["hi"]}
    return values, spans


def test_spss_file_is_written_where_the_run_folder_contract_says(demo_run):
    out, path, _ = demo_run
    assert path == out / "report" / "sid2022.sav"
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp file left


def test_spss_clean_variables_have_the_spec_labels_value_labels_and_missing_declarations(demo_run, read_back):
    out, _, _ = demo_run
    df, m = read_back
    spec = load_questionnaire(SPEC).to_spss_meta()
    clean, _ = read_wave(out / "clean")
    assert list(df.columns[: clean.shape[1]]) == list(clean.columns)
    checked = 0
    for name in clean.columns:
        v = spec.variables.get(name)
        assert v is not None, f"{name} is not a spec variable"
        assert m.column_names_to_labels[name] == v.label, name
        assert m.variable_value_labels.get(name, {}) == v.value_labels, name
        values, spans = _declared(m.missing_ranges.get(name, []))
        if v.type == "string":
            assert {str(x) for x in m.missing_ranges.get(name, [])} == {str(x) for x in v.missing_values}
        else:
            assert values == {float(x) for x in v.missing_values}, name
            assert spans == {(float(lo), float(hi)) for lo, hi in v.missing_ranges}, name
        checked += 1
    assert checked == len(clean.columns) > 50
    # ranges and discrete codes both occur in this spec: both kinds were compared
    assert any(spec.variables[c].missing_ranges for c in clean.columns)
    assert any(spec.variables[c].missing_values for c in clean.columns)


def test_spss_clean_answers_keep_their_missing_codes_as_values(demo_run, read_back):
    out, _, _ = demo_run
    df, _ = read_back
    clean, _ = read_wave(out / "clean")
    rows = clean.set_index("person_key").loc[df["person_key"]]
    for name in ("q_sex", "q_ndl_home", "q_belong_be", "q_trust_parl"):
        got, want = df[name].to_numpy(float), rows[name].to_numpy(float)
        np.testing.assert_array_equal(got, want)
    codes = df[["q_ndl_home", "q_belong_be", "q_trust_parl"]].to_numpy(float)
    assert (codes < 0).any()  # user-missing codes are in the data, not turned into sysmis
    assert (df["origin"].to_numpy() == rows["origin"].astype(str).to_numpy()).all()


def test_spss_rows_are_the_weighted_respondents_in_clean_order(demo_run, read_back):
    out, _, _ = demo_run
    df, m = read_back
    clean, _ = read_wave(out / "clean")
    weights = pd.read_parquet(out / "weight" / "weights.parquet")
    keys = clean["person_key"].astype(str)
    assert df["person_key"].tolist() == keys[keys.isin(weights["person_key"])].tolist()
    left_out = len(clean) - len(weights)
    assert left_out > 0
    assert NOTES["left_out"].format(n=left_out) in m.notes
    assert f"sid: {left_out} opgeschoonde record(s) zonder eindgewicht weggelaten" in m.notes


def test_spss_weights_and_replicates_equal_the_weight_stage_files(demo_run, read_back):
    out, _, _ = demo_run
    df, m = read_back
    w = pd.read_parquet(out / "weight" / "weights.parquet").set_index("person_key").loc[df["person_key"]]
    rep = pd.read_parquet(out / "weight" / "replicates.parquet").set_index("person_key").loc[df["person_key"]]
    labels = {"weight": "Eindgewicht", "design_weight": "Ontwerpgewicht", "prior_weight": "Gewicht vóór kalibratie",
              "eligibility_factor": "Aanpassingsfactor voor onbekende geschiktheid",
              "nonresponse_factor": "Non-responsaanpassingsfactor"}
    for name, label in labels.items():
        np.testing.assert_array_equal(df[name].to_numpy(), w[name].to_numpy())  # doubles, unrounded
        assert m.column_names_to_labels[name] == label
        assert m.original_variable_types[name] == "F12.6" and m.variable_measure[name] == "scale"
    np.testing.assert_array_equal(df["trimmed"].to_numpy(), w["trimmed"].to_numpy(float))
    assert m.variable_value_labels["trimmed"] == {0.0: "Nee", 1.0: "Ja"}
    # the weight file's stratum equals the clean wave's: one copy, with the spec's labels
    assert list(df.columns).count("stratum") == 1 and "stratum" in m.variable_value_labels
    rep_cols = [c for c in df.columns if c.startswith("rep_")]
    assert rep_cols == list(rep.columns) and len(rep_cols) == R
    np.testing.assert_array_equal(df[rep_cols].to_numpy(), rep.to_numpy(float))  # float32 exactly
    assert [m.column_names_to_labels[c] for c in rep_cols] == [f"Replicaatgewicht {i}" for i in range(1, R + 1)]


def test_spss_replicates_are_left_out_with_the_flag(demo_run, read_back):
    _, _, without = demo_run
    df_all, _ = read_back
    df, m = pyreadstat.read_sav(str(without), user_missing=True)
    assert not [c for c in df.columns if c.startswith("rep_")]
    assert list(df.columns) == [c for c in df_all.columns if not c.startswith("rep_")]
    np.testing.assert_array_equal(df["weight"].to_numpy(), df_all["weight"].to_numpy())
    assert NOTES["replicates_left_out"] in m.notes


def test_spss_indices_equal_the_score_file_with_the_spec_labels(demo_run, read_back):
    out, _, _ = demo_run
    df, m = read_back
    q = load_questionnaire(SPEC)
    idx = pd.read_parquet(out / "score" / "indices.parquet").set_index("person_key").loc[df["person_key"]]
    assert len(q.indices) == 5
    for ix in q.indices:
        np.testing.assert_array_equal(df[ix.name].to_numpy(), idx[ix.name].to_numpy(float))
        assert m.column_names_to_labels[ix.name] == ix.label
        assert m.original_variable_types[ix.name] == "F8.2" and m.variable_measure[ix.name] == "scale"
        # the reason is a labelled code; its label text is the score file's reason
        r = f"{ix.name}_reason"
        labels = m.variable_value_labels[r]
        decoded = [labels.get(c) if not np.isnan(c) else None for c in df[r].to_numpy(float)]
        # in the catalogue's words (indices.reasons), as the indices report names them
        words = {REASON: "te weinig geldige items"}
        assert decoded == [words.get(x, x) if isinstance(x, str) else None for x in idx[r]]
        values = set(labels.values())
        assert words[REASON] in values and REASON not in values and not {NO_WEIGHT, "geen gewicht (niet bij de gewogen respondenten)"} & values  # only weighted rows
        assert m.column_names_to_labels[r] == f"Reden ontbrekende score: {ix.label}"


def _copy_run(demo_run, tmp_path) -> Path:
    out, _, _ = demo_run
    run = tmp_path / "run"
    for sub in ("clean", "weight", "score"):
        shutil.copytree(out / sub, run / sub)
    return run


def test_spss_weight_key_without_clean_record_is_an_error_naming_count_and_key(demo_run, tmp_path):
    run = _copy_run(demo_run, tmp_path)
    wpath = run / "weight" / "weights.parquet"
    w = pd.read_parquet(wpath)
    w.loc[[3, 8], "person_key"] = ["ghost-1", "ghost-2"]
    w.to_parquet(wpath)
    with pytest.raises(DataError, match=r"2 of \d+ weighted key\(s\) have no clean record \(first: 'ghost-1', 'ghost-2'\)"):
        write_wave_spss(run, PROJECT)
    assert not (run / "report").exists()


def test_spss_weighted_respondent_without_index_row_is_an_error(demo_run, tmp_path):
    run = _copy_run(demo_run, tmp_path)
    ipath = run / "score" / "indices.parquet"
    idx = pd.read_parquet(ipath)
    w = pd.read_parquet(run / "weight" / "weights.parquet")
    gone = w["person_key"].iloc[:3].tolist()
    idx[~idx["person_key"].isin(gone)].to_parquet(ipath)
    with pytest.raises(DataError, match=rf"indices.parquet: 3 of {len(w)} weighted respondents have no row here \(first: '{gone[0]}'"):
        write_wave_spss(run, PROJECT)


def test_spss_weight_column_disagreeing_with_the_clean_wave_is_an_error(demo_run, tmp_path):
    run = _copy_run(demo_run, tmp_path)
    wpath = run / "weight" / "weights.parquet"
    w = pd.read_parquet(wpath)
    w.loc[0, "stratum"] = "XXX"
    w.to_parquet(wpath)
    with pytest.raises(DataError, match="column 'stratum' differs from the clean wave's stratum"):
        write_wave_spss(run, PROJECT)


def test_spss_repeated_weight_key_and_missing_weight_folder_are_errors(demo_run, tmp_path):
    run = _copy_run(demo_run, tmp_path)
    wpath = run / "weight" / "weights.parquet"
    w = pd.read_parquet(wpath)
    pd.concat([w, w.iloc[[0]]]).to_parquet(wpath)
    with pytest.raises(DataError, match="1 repeated key"):
        write_wave_spss(run, PROJECT)
    shutil.rmtree(run / "weight")
    with pytest.raises(RunFolderError, match="run sid weight"):
        write_wave_spss(run, PROJECT)


def _haven_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    res = subprocess.run(["Rscript", "-e", "library(haven)"], capture_output=True, timeout=60)
    return res.returncode == 0


@pytest.mark.skipif(not _haven_available(), reason="R with haven is not installed")
def test_spss_file_read_by_R_haven_has_the_spec_labels_and_missing_codes(demo_run, tmp_path):
    _, path, _ = demo_run
    spec = load_questionnaire(SPEC).to_spss_meta()
    names = ["q_sex", "q_ndl_home", "origin", "weight", "idx_language"]
    script = f"""
    d <- haven::read_sav("{path}", user_na = TRUE)
    one <- function(n) {{ x <- d[[n]]; r <- attr(x, "na_range"); list(
      label = attr(x, "label"), na_values = as.list(attr(x, "na_values")),
      na_range = if (is.null(r)) list() else as.list(r), n = length(x), sum = if (is.numeric(x)) sum(unclass(x), na.rm = TRUE) else NA)}}
    res <- lapply(c({", ".join(repr(n) for n in names)}), one)
    names(res) <- c({", ".join(repr(n) for n in names)})
    writeLines(jsonlite::toJSON(res, auto_unbox = TRUE, digits = NA), "{tmp_path / 'haven.json'}")
    """
    res = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, timeout=120)
    if "jsonlite" in res.stderr and res.returncode != 0:
        pytest.skip("R package jsonlite is not installed")
    assert res.returncode == 0, res.stderr
    got = json.loads((tmp_path / "haven.json").read_text())
    df, _ = pyreadstat.read_sav(str(path), user_missing=True)
    for n in ("q_sex", "q_ndl_home", "origin"):
        v = spec.variables[n]
        assert got[n]["label"] == v.label
        assert sorted(got[n]["na_values"]) == sorted(float(x) for x in v.missing_values)
        assert [tuple(got[n]["na_range"])] == [tuple(r) for r in v.missing_ranges] or (
            not got[n]["na_range"] and not v.missing_ranges)
    assert got["weight"]["label"] == "Eindgewicht"
    assert got["weight"]["sum"] == pytest.approx(df["weight"].sum(), rel=1e-12)
    assert got["idx_language"]["label"] == load_questionnaire(SPEC).index("idx_language").label


def test_spss_other_weight_columns_are_kept_with_their_source_in_the_label(demo_run, tmp_path):
    run = _copy_run(demo_run, tmp_path)
    wpath = run / "weight" / "weights.parquet"
    w = pd.read_parquet(wpath)
    w["psu"] = np.arange(len(w)) // 4 + 1
    w["cluster"] = pd.Series([f"é{i % 7}" for i in range(len(w))], dtype="str")
    w.to_parquet(wpath)
    path = write_wave_spss(run, PROJECT, replicates=False)
    df, m = pyreadstat.read_sav(str(path), user_missing=True)
    got = w.set_index("person_key").loc[df["person_key"]]
    np.testing.assert_array_equal(df["psu"].to_numpy(), got["psu"].to_numpy(float))
    assert df["cluster"].tolist() == got["cluster"].tolist()
    assert m.column_names_to_labels["psu"] == "Primaire steekproefeenheid"
    assert m.column_names_to_labels["cluster"] == "cluster (uit het gewichtenbestand)"
    assert m.original_variable_types["cluster"] == "A3"  # 'é' is two bytes in UTF-8


def test_spss_without_score_folder_and_replicate_file_says_so_in_the_notes(demo_run, tmp_path):
    run = _copy_run(demo_run, tmp_path)
    shutil.rmtree(run / "score")
    (run / "weight" / "replicates.parquet").unlink()
    df, m = pyreadstat.read_sav(str(write_wave_spss(run, PROJECT)), user_missing=True)
    assert not [c for c in df.columns if c.startswith(("idx_", "rep_"))]
    assert NOTES["no_indices"] in m.notes and NOTES["no_replicates"] in m.notes


@pytest.mark.parametrize("blank", ["first_rows", "all"])
def test_spss_date_and_text_items_missing_in_the_first_weighted_rows_are_written(demo_run, tmp_path, blank):
    """interview_date (a date item) and nat_father (a text item) missing in the first 150
    weighted rows, or in every row: the file is written (once an AttributeError from
    pyreadstat's type guess), the date stays a numeric date variable with the clean
    wave's format, the text a string; values read back equal the clean wave's."""
    from sid.io.spss import read_spss

    run = _copy_run(demo_run, tmp_path)
    dpath = run / "clean" / "data.parquet"
    clean = pd.read_parquet(dpath)
    rows = slice(None) if blank == "all" else slice(0, 170)  # 170 clean rows: > 150 weighted
    clean.loc[clean.index[rows], ["interview_date", "nat_father"]] = None
    clean.to_parquet(dpath)
    meta = json.loads((run / "clean" / "meta.json").read_text(encoding="utf-8"))
    date_format = next(v for v in meta["variables"] if v["name"] == "interview_date")["format"]
    path = write_wave_spss(run, PROJECT, replicates=False)
    df, m = read_spss(path)
    assert m["interview_date"].type == "numeric" and m["interview_date"].format == date_format
    assert m["nat_father"].type == "string"
    expected = clean.set_index("person_key").loc[df["person_key"]]
    assert df["interview_date"].isna().iloc[:150].all()
    assert (df["interview_date"].isna().to_numpy() == expected["interview_date"].isna().to_numpy()).all()
    have = df["interview_date"].notna().to_numpy()
    assert list(df["interview_date"][have]) == list(expected["interview_date"][have])
    assert (blank == "all") == (not have.any())
    assert df["nat_father"].tolist() == expected["nat_father"].fillna("").tolist()

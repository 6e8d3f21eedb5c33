"""sid link / sid pull end to end, the demo register indicators, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from sid.cli import main
from sid.demo.admin import admin_indicators, write_admin_demo
from sid.errors import LinkageError
from sid.linkage.base import open_base
from sid.linkage.pull import pull

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def run(tmp_path, base_target):
    from tests.test_linkage_indicators import respondents

    resp = tmp_path / "resp.parquet"
    respondents().to_parquet(resp)
    admin = write_admin_demo(tmp_path / "demo", seed=1)[0].parent
    db = base_target
    # a respondents file: its design strata are its origin groups (the SID strata)
    args = ["link", "--out", str(tmp_path / "run"), "--project", str(ROOT), "--strata", "origin",
            "--respondents", str(resp), "--db", str(db)]
    assert main([*args, "--admin", str(admin)]) == 0
    return tmp_path, args, db


def _counts(db):
    with open_base(db, read_only=True) as con:
        return dict(con.execute("SELECT wave, count(*) FROM indicator_values GROUP BY wave"))


def test_link_loads_survey_and_admin_and_reload_keeps_admin(run):
    tmp, args, db = run
    first = _counts(db)
    assert first["vlim-admin-demo"] == len(admin_indicators(1)) and first["sid2022"] > 0
    assert (tmp / "run" / "link" / "survey_indicators.csv").is_file()
    assert main(args) == 0  # the same wave again, without the admin set
    assert _counts(db) == first
    manifest = (tmp / "run" / "manifest.json").read_text()
    assert '"link"' in manifest and "survey_indicators.csv" in manifest


def test_pull_lays_survey_and_register_side_by_side(run, tmp_path):
    _, _, db = run
    table = pull(db, theme="werk")
    assert {"BEL value", "EU value", "NEU value", "EU ci_low", "NEU n"} <= set(table.columns)
    y2022 = table[(table["period"] == 2022) & (table["generation"] == "total") & (table["sex"] == "total")
                  & (table["age_band"] == "total")]
    assert y2022["source_type"].tolist() == ["register", "register", "survey"]
    survey = y2022[y2022["source_type"] == "survey"].iloc[0]
    assert "POL, ROU" in survey["notes"]
    assert pull(db, theme="werk", common_periods=True)["period"].unique().tolist() == [2022]
    out = tmp_path / "werk.xlsx"
    assert main(["pull", "--theme", "werk", "--db", str(db), "--out", str(out)]) == 0
    wb = openpyxl.load_workbook(out, read_only=True)
    assert wb.sheetnames == ["indicators", "definitions"]
    csv = tmp_path / "codes.csv"
    assert main(["pull", "--codes", "SID_TAAL_NL_THUIS", "--db", str(db), "--out", str(csv)]) == 0
    assert pd.read_csv(csv)["indicator_code"].unique().tolist() == ["SID_TAAL_NL_THUIS"]


def test_admin_only_load_replaces_the_register_set_alone(run):
    tmp, args, db = run
    before = _counts(db)
    admin = write_admin_demo(tmp / "demo", seed=2)[0].parent  # same set, other values
    assert main(["link", "--out", str(tmp / "run"), "--project", str(ROOT), "--db", str(db),
                 "--admin", str(admin), "--admin-only"]) == 0
    assert _counts(db) == before
    with open_base(db, read_only=True) as con:
        got = con.df("SELECT value FROM indicator_values WHERE wave = 'vlim-admin-demo' "
                     "ORDER BY indicator_code, origin, generation, period")["value"]
    want = admin_indicators(2).sort_values(["indicator_code", "origin", "generation", "period"])["value"]
    assert np.abs(got.to_numpy() - want.to_numpy()).max() < 1e-12


def test_admin_demo_is_deterministic_and_values_are_ratios():
    a, b = admin_indicators(7), admin_indicators(7)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(admin_indicators(8))
    assert (a["value"] - 100 * a["numerator"] / a["denominator"]).abs().max() < 1e-12
    assert set(a["period"]) == set(range(2019, 2024)) and set(a["origin"]) == {"BEL", "EU", "NEU"}
    assert set(a.loc[a["origin"] == "BEL", "generation"]) == {"total"}


def test_bad_inputs_give_one_line_and_leave_the_base(run, capsys):
    tmp, args, db = run
    before = _counts(db)
    bad = tmp / "bad.parquet"
    from tests.test_linkage_indicators import respondents

    df = respondents()
    df.loc[df.index[:3], "origin"] = "SYR"
    df.to_parquet(bad)
    capsys.readouterr()
    assert main([*args[:-4], "--respondents", str(bad), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "origin group 'SYR'" in err
    admin = write_admin_demo(tmp / "demo2", seed=1)[1]
    vals = pd.read_csv(admin)
    vals.loc[3, "origin"] = "MAGH"
    vals.to_csv(admin, index=False)
    assert main([*args, "--admin", str(admin.parent)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "row 5: origin category 'MAGH' has no mapping in the origin map" in err
    assert main(["pull", "--theme", "nope", "--db", str(db), "--out", str(tmp / "x.csv")]) == 2
    assert "theme 'nope' has no indicator" in capsys.readouterr().err
    assert _counts(db) == before


def test_link_with_register_writes_rates_and_refuses_raw_nrn(tmp_path, capsys, base_target):
    from sid.io.pseudonym import pseudonymise_column
    from tests.test_linkage_indicators import respondents
    from tests.test_linkage_pseudonym import make_nrn

    key = b"s" * 32
    df = respondents(700)
    df["rrn"] = [make_nrn(85, 7, 31, i) for i in range(len(df))]  # valid NRNs (1985-07-31, sequence i)
    raw = tmp_path / "raw.parquet"
    df.to_parquet(raw)
    args = ["link", "--out", str(tmp_path / "run"), "--project", str(ROOT), "--strata", "origin",
            "--db", str(base_target)]
    assert main([*args, "--respondents", str(raw)]) == 2
    assert "column 'rrn' holds 700 raw national register number(s)" in capsys.readouterr().err
    with pytest.raises(LinkageError, match="not an indicator base|not found"):
        open_base(base_target, read_only=True)  # nothing was created

    resp = pseudonymise_column(df, "rrn", key, out="person_key")
    register = pseudonymise_column(df[["rrn"]].iloc[:600].assign(employed=1), "rrn", key, out="person_key")  # 100 not in register
    resp.to_parquet(tmp_path / "resp.parquet")
    register.to_parquet(tmp_path / "reg.parquet")
    assert main([*args, "--respondents", str(tmp_path / "resp.parquet"), "--register", str(tmp_path / "reg.parquet")]) == 0
    rates = pd.read_csv(tmp_path / "run" / "link" / "link_rates.csv").set_index("origin")
    assert rates.loc["all", "n"] == 700 and rates.loc["all", "linked"] == 600 and rates.loc["all", "unlinked"] == 100
    linked = pd.read_parquet(tmp_path / "run" / "link" / "respondents_linked.parquet")
    assert linked["reg_employed"].notna().sum() == 600 and "rrn" not in linked.columns


def _run_folder(run_dir: Path, df: pd.DataFrame, n_rep: int = 20) -> np.ndarray:
    """A run folder as the clean, weight and score stages write it; returns the replicate
    weights (n x n_rep)."""
    import json

    from sid.io.spss_meta import SpssMeta

    idx = ["idx_inclusion", "idx_citizenship"]
    for stage in ("clean", "weight", "score"):
        (run_dir / stage).mkdir(parents=True, exist_ok=True)
    clean = pd.concat([df.drop(columns=["weight", *idx]),
                       pd.DataFrame({"person_key": ["breakoff"], "origin": ["BEL"]})])  # no weight: not used
    clean.to_parquet(run_dir / "clean" / "data.parquet")
    (run_dir / "clean" / "meta.json").write_text(SpssMeta.from_frame(clean).to_json(), encoding="utf-8")
    weights = df[["person_key", "weight"]].assign(stratum=df["origin"]).iloc[::-1]
    weights.to_parquet(run_dir / "weight" / "weights.parquet")
    rng = np.random.default_rng(5)
    W = df["weight"].to_numpy()[:, None] * rng.uniform(0.5, 1.5, (len(df), n_rep))
    reps = pd.DataFrame(W, columns=[f"rep{r}" for r in range(n_rep)]).assign(person_key=df["person_key"].to_numpy())
    reps.to_parquet(run_dir / "weight" / "replicates.parquet")
    diag = {"design": {"key": "person_key", "weight": "weight", "strata": "stratum"},
            "replicates": {"method": "bootstrap", "scale": 1 / (n_rep - 1), "rscales": 1, "mse": False}}
    (run_dir / "weight" / "diagnostics.json").write_text(json.dumps(diag), encoding="utf-8")
    df[["person_key", *idx]].to_parquet(run_dir / "score" / "indices.parquet")
    return W


def test_link_on_the_run_folder_uses_the_weight_stages_replicates_se_by_hand(tmp_path, capsys, base_target):
    from sid.linkage.indicators import survey_indicators
    from sid.linkage.spec import load_linkage_spec
    from tests.test_linkage_indicators import respondents

    df = respondents(1400)
    df["person_key"] = [f"k{i:05d}" for i in range(len(df))]
    run_dir = tmp_path / "run"
    args = ["link", "--out", str(run_dir), "--project", str(ROOT), "--db", str(base_target)]
    assert main(args) == 2
    assert "run folder not found" in capsys.readouterr().err and not run_dir.exists()  # checked before writing
    W = _run_folder(run_dir, df)
    assert main(args) == 0
    got = pd.read_csv(run_dir / "link" / "survey_indicators.csv", keep_default_na=False, na_values=[""])
    spec = load_linkage_spec(ROOT / "linkage" / "sid2022.yaml", project=ROOT)
    want = survey_indicators(df, spec, strata="origin")  # Taylor on the same weights: same point estimates
    key = ["indicator_code", "origin", "generation", "sex", "age_band"]
    merged = got.merge(want, on=key, suffixes=("", "_taylor"))
    assert len(merged) == len(want) == len(got)
    assert (merged["value"] - merged["value_taylor"]).abs().max() < 1e-8
    assert (merged["n"] == merged["n_taylor"]).all()
    # replicate SE of the pooled EU inclusion mean, by R's svrVar formula written out:
    # v = scale * sum_r (theta_r - mean(theta_r))^2 (mse = FALSE, rscales 1)
    d = ((df["region"] == 1) & (df["age"] >= 18) & df["origin"].isin(["POL", "ROU"])).to_numpy(float)
    y = df["idx_inclusion"].to_numpy()
    theta_r = (W * (d * y)[:, None]).sum(axis=0) / (W * d[:, None]).sum(axis=0)
    se = np.sqrt(((theta_r - theta_r.mean()) ** 2).sum() / (W.shape[1] - 1))
    row = got[(got["indicator_code"] == "SID_INCLUSIE_IDX") & (got["origin"] == "EU") & (got["generation"] == "total")
              & (got["sex"] == "total") & (got["age_band"] == "total")].iloc[0]
    assert row["se"] == pytest.approx(se, rel=1e-8)
    assert main([*args, "--variance", "taylor"]) == 0
    got_t = pd.read_csv(run_dir / "link" / "survey_indicators.csv", keep_default_na=False, na_values=[""])
    merged = got_t.merge(want, on=key, suffixes=("", "_taylor"))
    assert (merged["se"] - merged["se_taylor"]).abs().max() < 1e-8  # strata = origin either way

"""The codebook (sid.report.codebook) on a small hand-made file: every kind of row and its
counts checked against pandas, weighted and unweighted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sid.report.codebook import codebook_frame
from sid.spec.questionnaire_parse import load_questionnaire

ROOT = Path(__file__).resolve().parents[1]


def test_categories_missing_codes_undeclared_codes_and_scale_rows_are_pandas_counts():
    q = load_questionnaire(ROOT / "questionnaires" / "sid2022.yaml")
    cat = next(v for v in q.variables if v.categories and q.missing_codes_for(v.name) and v.type != "text")
    num = next(v for v in q.variables if v.type == "numeric" and not v.categories and v.measure == "scale")
    meta = q.to_spss_meta().subset([cat.name, num.name])
    codes = [float(c) for c in cat.categories]
    miss = float(q.missing_codes_for(cat.name)[0])
    rng = np.random.default_rng(3)
    n = 400
    x = rng.choice(codes[:-1] + [miss, 777.0], n)  # the last category unused; 777 undeclared
    x[rng.random(n) < 0.1] = np.nan
    y = rng.uniform(0, 50, n)
    y[:7] = np.nan
    w = rng.uniform(0.5, 3.0, n)
    df = pd.DataFrame({cat.name: x, num.name: y, "weight": w})
    book = codebook_frame(df, meta, q, "weight")
    rows = book[book.variable == cat.name].set_index(["row", "code"], drop=False)
    s = pd.Series(x)
    for c in codes:
        key = str(int(c))
        r = rows.loc[("categorie", key)]
        assert r.n == int((s == c).sum()) and r.n_w == pytest.approx(w[s == c].sum(), rel=1e-12)
        valid = s.notna() & (s != miss)
        assert r.pct_valid == pytest.approx((s == c).sum() / valid.sum())
        assert r.pct_valid_w == pytest.approx(w[s == c].sum() / w[valid].sum())
    assert rows.loc[("categorie", str(int(codes[-1])))].n == 0
    assert rows.loc[("niet gedeclareerd", "777")].n == int((s == 777).sum())
    m = rows.loc[("ontbrekend (code)", str(int(miss)))]
    assert m.n == int((s == miss).sum()) and m.value_label
    sysmis = book[(book.variable == cat.name) & (book.row == "systeemontbrekend")].iloc[0]
    assert sysmis.n == int(s.isna().sum()) and sysmis.pct == pytest.approx(s.isna().mean())
    assert book[book.variable == cat.name].n.sum() == n
    scale = book[(book.variable == num.name) & (book.row == "geldig")].iloc[0]
    ok = ~np.isnan(y)
    assert scale.n == ok.sum()
    assert scale["mean"] == pytest.approx(y[ok].mean()) and scale.mean_w == pytest.approx(np.average(y[ok], weights=w[ok]))
    assert scale["min"] == y[ok].min() and scale["max"] == y[ok].max()
    assert book.type.isin(["numeriek", "categorisch", "ordinaal", "tekst", "datum"]).all()

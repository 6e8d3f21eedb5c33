"""Design weights of a sample drawn with replacement (n_h may exceed N_h)."""

from __future__ import annotations

import numpy as np
import pytest

from sid.errors import WeightingError
from sid.weighting.design_weights import design_weights


def test_with_replacement_allows_more_draws_than_population_hand_computed():
    strata = np.array(["A"] * 6 + ["B"] * 2)
    dw = design_weights(strata, {"A": 3, "B": 10}, with_replacement=True)
    np.testing.assert_allclose(dw.weights, [0.5] * 6 + [5.0] * 2)
    assert np.isinf(dw.population).all()  # no finite population correction


def test_without_replacement_refuses_more_draws_than_population_and_says_how():
    with pytest.raises(WeightingError, match=r"'A'.*with_replacement"):
        design_weights(np.array(["A"] * 6), {"A": 3})

"""Property: S4Classifier on generated X and y succeeds correctly or fails by name."""

import copy
import warnings

import numpy as np
import pandas as pd
from contract_cases import CLASSIFIER, check_error, classifier_inputs
from hypothesis import HealthCheck, event, given, settings

from s4ts import S4Classifier

NAMES = ["X", "y", "series", "sample", "class", "label", "id", "time", "channel"]


def same(a, b) -> bool:
    if isinstance(a, pd.DataFrame):
        return a.equals(b)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, z) for x, z in zip(a, b))
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    return a == b or (pd.isna(a) and pd.isna(b))  # NaN labels equal themselves


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=classifier_inputs())
def test_fit_and_predict_proba_keep_the_data_contract(case):
    X, y = case
    X_before, y_before = copy.deepcopy(X), copy.deepcopy(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            proba = S4Classifier(**CLASSIFIER).fit(X, y).predict_proba(X)
        except Exception as err:  # noqa: BLE001 - the property is about which exceptions
            check_error(err, NAMES)
            event(f"refused: {type(err).__name__}")
            return
        finally:
            assert same(X, X_before) and same(y, y_before)
    assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    event("fitted and predicted")

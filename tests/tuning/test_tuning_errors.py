"""Clear errors for what a user can get wrong when tuning; the missing extra names itself."""

import subprocess
import sys

import optuna
import pytest
from tuning_data import classifier, forecaster, series_frame, two_class_signals

from s4ts.tuning import open_storage, tune


@pytest.mark.parametrize("url, message", [
    ("foo://host/db", "unknown database scheme 'foo'"),
    ("postgresql://nobody:secret@127.0.0.1:1/none", "cannot be opened"),
])
def test_bad_storage_url(url, message):
    with pytest.raises(ValueError, match=message) as err:
        tune(forecaster(), series_frame(), n_trials=1, storage=url, verbose=False)
    assert "secret" not in str(err.value)  # passwords stay out of messages


def test_storage_of_the_wrong_type():
    with pytest.raises(TypeError, match="storage=42"):
        open_storage(42)


@pytest.mark.parametrize("space, message", [
    ({"d_modell": [8, 16]}, "'d_modell' is not a parameter of S4Forecaster"),
    ({"horizon": [6, 12]}, "'horizon' describes the task"),
    ({"d_model": 8}, r"search_space\['d_model'\] = 8 must be an optuna distribution"),
    (lambda trial: {"n_layer": 2}, "search_space function: 'n_layer' is not a parameter"),
    (lambda trial: [2], "search_space function returned list"),
])
def test_bad_search_space(space, message):
    with pytest.raises((ValueError, TypeError), match=message):
        tune(forecaster(), series_frame(), n_trials=1, search_space=space, verbose=False)


def test_study_direction_must_match_the_metric(tmp_path):
    path = tmp_path / "study.db"
    optuna.create_study(storage=f"sqlite:///{path}", study_name="s", direction="maximize")
    with pytest.raises(ValueError, match="created to maximize its objective, but metric 'mase' is to minimize"):
        tune(forecaster(), series_frame(), n_trials=1, storage=path, study_name="s", verbose=False)


def test_a_study_resumes_only_with_its_own_metric(tmp_path):
    path = tmp_path / "study.db"
    tune(forecaster(max_epochs=1), series_frame(), n_trials=1, search_space={"d_model": [8]}, storage=path,
         study_name="s", refit=False, verbose=False)
    with pytest.raises(ValueError, match="tunes metric 'mase', not 'mae'"):
        tune(forecaster(), series_frame(), n_trials=2, metric="mae", storage=path, study_name="s", verbose=False)


@pytest.mark.parametrize("kwargs, message", [
    ({}, "give n_trials, timeout or both"),
    ({"n_trials": 0}, "n_trials=0 must be a positive integer"),
    ({"n_trials": 1, "timeout": -1}, "timeout=-1"),
    ({"n_trials": 1, "metric": "accuracy"}, "metric='accuracy' is not one for S4Forecaster"),
    ({"n_trials": 1, "cv": 0}, "cv=0 must be a positive integer"),
    ({"n_trials": 1, "cv": 30}, "too few for cv=30 validation origins"),
    ({"n_trials": 1, "metric": "crps", "search_space": {"d_model": [8]}}, "distribution is 'point'"),
])
def test_bad_study_settings(kwargs, message):
    est = forecaster(distribution="point") if kwargs.get("metric") == "crps" else forecaster()
    with pytest.raises(ValueError, match=message):
        tune(est, series_frame(), verbose=False, **kwargs)


def test_a_point_distribution_chosen_by_a_space_function_cannot_give_crps():
    with pytest.raises(ValueError, match="metric='crps' cannot score this trial"):
        tune(forecaster(max_epochs=1), series_frame(), n_trials=1, metric="crps",
             search_space=lambda trial: {"distribution": "point"}, verbose=False)


def test_classifier_needs_labels_and_a_share():
    X, y = two_class_signals()
    with pytest.raises(ValueError, match="needs the labels"):
        tune(classifier(), X, n_trials=1)
    with pytest.raises(ValueError, match=r"cv=3 must be the held-out share"):
        tune(classifier(), X, y, n_trials=1, cv=3)
    with pytest.raises(ValueError, match="class 'odd' has 1 series"):
        tune(classifier(), X[:5], ["a", "b", "a", "b", "odd"], n_trials=1)


def test_not_an_s4ts_estimator():
    from sklearn.linear_model import Ridge

    with pytest.raises(TypeError, match="S4Forecaster or an S4Classifier, got Ridge"):
        tune(Ridge(), series_frame(), n_trials=1)


def test_without_optuna_the_package_imports_and_tune_names_the_extra():
    code = (
        "import sys; sys.modules['optuna'] = None\n"
        "import s4ts, s4ts.tuning\n"
        "from s4ts.tuning import tune\n"
        "from s4ts import S4Forecaster\n"
        "try:\n"
        "    tune(S4Forecaster(), None, n_trials=1)\n"
        "except ImportError as err:\n"
        "    print(err)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 's4ts[tune]'" in out


def test_a_multi_process_estimator_is_refused_with_the_worker_route():
    with pytest.raises(ValueError, match=r"devices=2.*one process.*--worker"):
        tune(forecaster().set_params(devices=2, strategy="ddp_spawn"), series_frame(), n_trials=1, verbose=False)

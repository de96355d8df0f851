"""tune() end to end on each estimator, in memory: the refitted best, the trials, pruning, plots."""

import numpy as np
import optuna
import pandas as pd
import pytest
from tuning_data import (
    HORIZON,
    SMALL_SPACE,
    classifier,
    forecaster,
    series_frame,
    two_class_signals,
)

from s4ts import metrics
from s4ts.forecasting.evaluation import cross_validation_metrics
from s4ts.tuning import default_search_space, tune
from s4ts.tuning.spaces import current_params


def test_forecaster_study_refits_the_best_and_lists_every_trial(tmp_path):
    df = series_frame()
    given = df.copy()
    result = tune(forecaster(), df, n_trials=3, search_space=SMALL_SPACE, selection="best", verbose=False)
    pd.testing.assert_frame_equal(df, given)  # the user's frame is untouched
    trials = result.trials_
    assert len(trials) == 3 and set(trials["state"]) <= {"COMPLETE", "PRUNED"}
    complete = trials[trials["state"] == "COMPLETE"]
    assert result.best_value_ == pytest.approx(complete["value"].min())
    assert set(result.best_params_) == set(SMALL_SPACE)
    best = result.best_estimator_
    for name, value in result.best_params_.items():
        assert best.get_params()[name] == value
    assert len(best.predict()) == 2 * HORIZON  # refitted on all the data
    # every trial records the validation metrics beside its objective
    assert {"user_attrs_mae", "user_attrs_crps", "user_attrs_epochs"} <= set(trials.columns)
    result.plot_history(tmp_path / "history.png")
    result.plot_importances(tmp_path / "importances.png")
    assert (tmp_path / "history.png").stat().st_size > 1000
    assert (tmp_path / "importances.png").stat().st_size > 1000


def test_the_objective_is_the_rolling_origin_score_inside_the_data():
    df = series_frame()
    est = forecaster(max_epochs=1)
    scores = cross_validation_metrics(est, df, n_windows=2, step=6, season=24)
    forecasts = est.cross_validation(df, n_windows=2, step=6)
    first = forecasts.groupby("unique_id")["cutoff"].min()
    history = df[df["ds"] <= df["unique_id"].map(first)]
    expected = metrics.evaluate(forecasts, history, id_col="unique_id", target_col="y", pred_col="y_pred",
                                quantile_cols=est._quantile_cols, season=24)
    assert scores == pytest.approx(expected)
    # the last origin's window ends at the data's end: nothing after it is read
    assert forecasts["ds"].max() == df["ds"].max()


def test_tune_reports_the_cv_it_scored_on():
    df = series_frame(n_series=1, length=400)
    space = {"d_model": [8, 16]}
    assert tune(forecaster(max_epochs=1), df, n_trials=1, search_space=space, refit=False, verbose=False).cv == 3
    assert tune(forecaster(max_epochs=1), df, n_trials=1, search_space=space, cv=2, refit=False,
                verbose=False).cv == 2


def test_default_space_fits_the_data_and_names_real_parameters():
    est = forecaster()
    space = default_search_space(est, shortest=100)
    assert set(space) <= set(est.get_params())
    assert {"context_length", "d_model", "n_layers", "d_state", "norm", "linear", "dropout",
            "learning_rate", "weight_decay", "mode"} <= set(space)
    assert max(space["context_length"].choices) <= 50  # at most half the shortest fit series
    clf_space = default_search_space(classifier())
    assert set(clf_space) <= set(classifier().get_params()) and "context_length" not in clf_space


def test_default_space_study_runs(tmp_path):
    result = tune(forecaster(max_epochs=1), series_frame(), n_trials=2, random_state=1, verbose=False)
    assert set(result.best_params_) == set(default_search_space(forecaster(), shortest=124))


def test_a_hopeless_learning_rate_is_pruned_early():
    est = forecaster(max_epochs=6, early_stopping_patience=10, linear=False)

    def space(trial):  # three sound trials, then one whose steps diverge
        return {"learning_rate": 3e-3 if trial.number < 3 else 30.0}

    result = tune(est, series_frame(), n_trials=4, search_space=space, verbose=False)
    hopeless = result.study.trials[3]
    assert hopeless.state == optuna.trial.TrialState.PRUNED
    assert len(hopeless.intermediate_values) < 6  # stopped before its last epoch
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in result.study.trials[:3])
    assert len(result.study.trials[0].intermediate_values) == 6  # one report per epoch
    assert result.best_params_ == {"learning_rate": 3e-3}  # a function's parameters are refitted too


def test_classifier_study_on_a_stratified_split():
    X, y = two_class_signals()
    result = tune(classifier(), X, y, n_trials=2, search_space={"d_model": [8, 16]}, metric="balanced_accuracy",
                  verbose=False)
    assert result.study.direction == optuna.study.StudyDirection.MAXIMIZE
    assert 0.0 <= result.best_value_ <= 1.0
    assert set(result.best_estimator_.predict(X[:4])) <= {"slow", "fast"}
    assert {"user_attrs_accuracy", "user_attrs_log_loss"} <= set(result.trials_.columns)


def test_refit_false_keeps_only_the_study():
    result = tune(forecaster(max_epochs=1), series_frame(), n_trials=1, search_space={"d_model": [8]},
                  refit=False, verbose=False)
    assert result.best_estimator_ is None and result.best_params_ == {"d_model": 8}


def test_trials_in_threads():
    result = tune(forecaster(max_epochs=1), series_frame(), n_trials=4, n_jobs=2, search_space=SMALL_SPACE,
                  verbose=False)
    assert len(result.trials_) >= 4
    assert np.isfinite(result.best_value_)


def test_the_first_trial_is_the_estimator_as_given():
    est = forecaster(max_epochs=1, d_model=16, learning_rate=2e-3)  # context_length 36
    space = {"d_model": [8, 16], "learning_rate": optuna.distributions.FloatDistribution(1e-3, 1e-2, log=True),
             "context_length": [24, 36], "dropout": [0.2, 0.3]}  # its dropout (0.1) is not a choice
    result = tune(est, series_frame(), n_trials=2, search_space=space, refit=False, verbose=False)
    first = result.study.trials[0].params
    assert {k: first[k] for k in ("d_model", "learning_rate", "context_length")} == {
        "d_model": 16, "learning_rate": 2e-3, "context_length": 36}
    assert first["dropout"] in (0.2, 0.3)  # sampled: the estimator's value lies outside the space
    assert current_params(forecaster(context_length=None), {"context_length": [48]}) == {"context_length": 48}


def test_a_storage_opened_from_a_path_releases_its_connections(tmp_path, monkeypatch):
    from s4ts.tuning import study as study_module

    released = []
    real = study_module.release_connections
    monkeypatch.setattr(study_module, "release_connections", lambda s: (released.append(s), real(s)))
    result = tune(forecaster(max_epochs=1), series_frame(), n_trials=1, search_space=SMALL_SPACE,
                  storage=tmp_path / "study.db", refit=False, verbose=False)
    (storage,) = released
    assert storage.engine.pool.checkedin() == 0  # no pooled connection left open
    assert len(result.study.trials) == 1  # the study still reads its database (it reconnects)
    given = optuna.storages.InMemoryStorage()
    released.clear()
    tune(forecaster(max_epochs=1), series_frame(), n_trials=1, search_space=SMALL_SPACE, storage=given,
         refit=False, verbose=False)
    assert released == []  # a storage the caller opened is the caller's

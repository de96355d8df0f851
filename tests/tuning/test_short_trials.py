"""tune warns when its trials trained about one epoch while the refit may train many."""

import warnings

import optuna
import pytest
from tuning_data import classifier, forecaster

from s4ts.tuning.study import warn_short_trials


def study_with(epochs: list[int], params: dict | None = None) -> optuna.Study:
    study = optuna.create_study()
    for n in epochs:
        study.add_trial(optuna.trial.create_trial(
            value=1.0, params={}, distributions={}, user_attrs={"epochs": n, "params": params or {}},
        ))
    return study


def test_one_epoch_trials_are_named_with_the_budget_to_raise():
    with pytest.warns(UserWarning, match=r"median of 1 epoch.*max_epochs=3.*max_time=40"):
        warn_short_trials(study_with([1, 1, 2]), forecaster(max_epochs=3, max_time=40))


@pytest.mark.parametrize(("epochs", "estimator"), [
    ([3, 2, 3], forecaster(max_epochs=3)),  # trials trained as the refit will
    ([1, 1, 1], forecaster(max_epochs=1)),  # one epoch is all the estimator asks for
    ([1], forecaster(max_epochs=3)),  # one trial says nothing about the study
])
def test_no_warning_where_trials_train_as_the_refit_does(epochs, estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_short_trials(study_with(epochs), estimator)


def test_an_automatic_epoch_budget_counts_as_more_than_one():
    with pytest.warns(UserWarning, match=r"median of 1 epoch.*max_epochs=auto"):
        warn_short_trials(study_with([1, 1]), classifier(max_epochs="auto"))


def test_an_ensemble_counts_epochs_per_member():
    # three members of one epoch each report three epochs in all
    with pytest.warns(UserWarning, match="median of 1 epoch"):
        warn_short_trials(study_with([3, 3]), classifier(n_estimators=3, max_epochs=5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # a trial's own n_estimators (from the search space) is the one that counts
        warn_short_trials(study_with([3, 3], {"n_estimators": 1}), classifier(n_estimators=3, max_epochs=5))

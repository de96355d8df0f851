"""Which trial a study's result takes: the best, or the given estimator unless clearly beaten."""

import optuna
import pytest
from tuning_data import SMALL_SPACE, classifier, forecaster, series_frame, two_class_signals

from s4ts.tuning import tune
from s4ts.tuning.objective import PAIRED_SCORES
from s4ts.tuning.selection import paired_gain, select_trial

GIVEN = {"d_model": 16, "learning_rate": 1e-3}


def trial(number: int, params: dict, value: float, paired: list[float] | None):
    distributions = {name: optuna.distributions.CategoricalDistribution([v]) for name, v in params.items()}
    attrs = {"params": params} | ({PAIRED_SCORES: paired} if paired is not None else {})
    frozen = optuna.trial.create_trial(params=params, distributions=distributions, value=value, user_attrs=attrs)
    frozen.number = number
    return frozen


def test_a_trial_better_on_every_origin_replaces_the_given_parameters():
    given = trial(0, GIVEN, 1.0, [1.0, 1.1, 0.9, 1.0])
    best = trial(3, {"d_model": 8, "learning_rate": 3e-3}, 0.9, [0.9, 1.0, 0.8, 0.9])
    mean, se = paired_gain(best, given, minimize=True)
    assert mean == pytest.approx(0.1) and se == pytest.approx(0.0, abs=1e-12)
    assert select_trial([given, best], best, GIVEN, "one_se", minimize=True) is best


def test_a_lead_within_one_standard_error_keeps_the_given_parameters():
    given = trial(0, GIVEN, 1.0, [1.0, 1.0, 1.0, 1.0])
    # better on average by 0.05, but by 0.5 on one origin and worse on the others
    best = trial(5, {"d_model": 8, "learning_rate": 3e-3}, 0.95, [0.5, 1.1, 1.1, 1.1])
    mean, se = paired_gain(best, given, minimize=True)
    assert mean == pytest.approx(0.05) and se > mean
    assert select_trial([given, best], best, GIVEN, "one_se", minimize=True) is given
    assert select_trial([given, best], best, GIVEN, "best", minimize=True) is best


def test_scores_to_maximise_count_gains_upwards():
    given = trial(0, GIVEN, 0.7, [0.0, 1.0, 1.0, 0.0, 1.0])
    best = trial(1, {"d_model": 8, "learning_rate": 3e-3}, 1.0, [1.0, 1.0, 1.0, 1.0, 1.0])
    mean, _ = paired_gain(best, given, minimize=False)
    assert mean == pytest.approx(0.4)
    assert select_trial([given, best], best, GIVEN, "one_se", minimize=False) is best


def test_without_paired_scores_or_a_given_trial_the_best_is_taken():
    best = trial(2, {"d_model": 8, "learning_rate": 3e-3}, 0.9, None)
    given = trial(0, GIVEN, 1.0, None)  # e.g. balanced accuracy: no per-series scores
    assert paired_gain(best, given, minimize=True) is None
    assert select_trial([given, best], best, GIVEN, "one_se", minimize=True) is best
    assert select_trial([best], best, GIVEN, "one_se", minimize=True) is best  # the given trial was pruned
    assert select_trial([given, best], best, {}, "one_se", minimize=True) is best  # a space function: no given


def test_one_se_study_records_scores_per_origin_and_returns_a_complete_trial():
    df = series_frame()
    result = tune(forecaster(max_epochs=1), df, n_trials=3, search_space=SMALL_SPACE, cv=3,
                  selection="one_se", refit=False, verbose=False)
    complete = result.trials_[result.trials_["state"] == "COMPLETE"]
    assert all(len(scores) == 3 for scores in complete[f"user_attrs_{PAIRED_SCORES}"])
    # each trial's value is the mean of its origins' MASE (every origin scores every series)
    for value, scores in zip(complete["value"], complete[f"user_attrs_{PAIRED_SCORES}"]):
        assert value == pytest.approx(sum(scores) / 3)
    assert result.best_value_ in set(complete["value"])


@pytest.mark.parametrize("metric", ["accuracy", "log_loss"])
def test_classifier_trials_record_their_score_per_held_out_series(metric):
    X, y = two_class_signals()
    result = tune(classifier(max_epochs=1), X, y, n_trials=2, metric=metric, search_space={"d_model": [4, 8]},
                  selection="one_se", refit=False, verbose=False)
    for value, scores in zip(result.trials_["value"], result.trials_[f"user_attrs_{PAIRED_SCORES}"]):
        assert len(scores) == round(0.2 * len(y)) and value == pytest.approx(sum(scores) / len(scores), rel=1e-5)


def test_an_unknown_selection_is_refused_before_any_trial():
    with pytest.raises(ValueError, match=r"selection='first' must be one of \['best', 'one_se'\]"):
        tune(forecaster(), series_frame(), n_trials=1, selection="first", verbose=False)

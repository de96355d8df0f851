"""`s4ts tune`: a study on a CSV with its files, a worker joining it, usage errors."""

import json

import optuna
import pandas as pd
import pytest
from tuning_data import HORIZON, series_frame

from s4ts import S4Forecaster, cli

FAST = ["--max-epochs", "2", "--batches-per-epoch", "4", "--quiet"]


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "load.csv"
    series_frame().to_csv(path, index=False)
    return path


def test_tune_writes_parameters_trials_plots_and_the_model(csv_file, tmp_path, capsys):
    out = tmp_path / "tuned"
    assert cli.main(["tune", str(csv_file), "--horizon", str(HORIZON), "--n-trials", "3", "--out", str(out),
                     *FAST]) == 0
    summary = json.loads((out / "best_params.json").read_text())
    assert summary["metric"] == "mase" and summary["n_trials"] == 3
    assert {"context_length", "d_model", "learning_rate"} <= set(summary["best_params"])
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 3 and any(summary["best_value"] == pytest.approx(v) for v in trials["value"])
    assert (summary["cv"], summary["selection"]) == (3, "one_se")
    assert (out / "history.png").stat().st_size > 1000 and (out / "importances.png").stat().st_size > 1000
    model = S4Forecaster.load(out / "model")
    assert model.context_length == summary["best_params"]["context_length"]
    assert len(model.predict()) == 2 * HORIZON
    assert "best mase" in capsys.readouterr().out


def test_a_worker_joins_the_study_the_command_started(csv_file, tmp_path, capsys):
    storage = tmp_path / "study.db"
    common = ["--storage", str(storage), "--study-name", "load"]
    # A timeout far below one trial's time: the first process finishes one trial and refits.
    assert cli.main(["tune", str(csv_file), "--horizon", str(HORIZON), "--n-trials", "3", "--timeout", "0.01",
                     *common, *FAST]) == 0
    study = optuna.load_study(study_name="load", storage=f"sqlite:///{storage}")
    assert len(study.trials) == 1
    capsys.readouterr()
    assert cli.main(["tune", "--worker", *common, "--quiet"]) == 0  # data, horizon, budget: from the study
    assert "worker finished 2 trials of study 'load'" in capsys.readouterr().out
    study = optuna.load_study(study_name="load", storage=f"sqlite:///{storage}")
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 3  # the median pruner starts after three


@pytest.mark.parametrize("argv, message", [
    (["tune", "--worker", "--quiet"], "--worker joins a study in a database: give --storage URL and --study-name"),
    (["tune", "--quiet"], "give the data file and --horizon"),
    (["tune", "{csv}", "--horizon", "12", "--storage", "foo://x/y", "--n-trials", "1", "--quiet"],
     "unknown database scheme 'foo'"),
    (["tune", "{csv}", "--horizon", "12", "--metric", "accuracy"], "invalid choice: 'accuracy'"),
    (["tune", "{csv}", "--horizon", "12", "--max-epochs", "0", "--quiet"], "--max-epochs 0 must be a positive"),
    (["tune", "{csv}", "--horizon", "12", "--n-trials", "0", "--quiet"], "--n-trials 0 must be a positive"),
    (["tune", "{csv}", "--horizon", "12", "--cv", "40", "--quiet"], "too few for --cv 40 validation origins"),
    (["tune", "{csv}", "--horizon", "12", "--selection", "first"], "invalid choice: 'first'"),
    (["tune", "{csv}", "--horizon", "12", "--heartbeat", "0", "--quiet"], "--heartbeat 0 must be a positive"),
])
def test_usage_errors(argv, message, csv_file, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([a.replace("{csv}", str(csv_file)) for a in argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_worker_of_a_study_with_only_a_timeout_needs_a_budget(csv_file, tmp_path, capsys):
    common = ["--storage", str(tmp_path / "study.db"), "--study-name", "timed"]
    assert cli.main(["tune", str(csv_file), "--horizon", str(HORIZON), "--timeout", "0.01", *common, *FAST]) == 0
    with pytest.raises(SystemExit):
        cli.main(["tune", "--worker", *common, "--quiet"])
    assert "started with --timeout and no --n-trials" in capsys.readouterr().err
    assert cli.main(["tune", "--worker", "--n-trials", "2", *common, "--quiet"]) == 0
    assert "worker finished 1 trials" in capsys.readouterr().out


def test_a_worker_cannot_join_a_study_made_elsewhere(tmp_path, capsys):
    storage = tmp_path / "study.db"
    optuna.create_study(storage=f"sqlite:///{storage}", study_name="python").optimize(lambda t: 0.0, n_trials=1)
    with pytest.raises(SystemExit):
        cli.main(["tune", "--worker", "--storage", str(storage), "--study-name", "python", "--quiet"])
    assert "was not started by `s4ts tune`" in capsys.readouterr().err


def test_a_worker_waits_for_the_settings_of_a_study_created_a_moment_ago(tmp_path):
    """`s4ts tune` creates the study, then records its settings: a worker finding the study in
    between waits for them instead of refusing it (CI met that race)."""
    import argparse
    import threading

    from s4ts.tuning.command import study_record
    from s4ts.tuning.storage import STUDY_ATTR

    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(storage=url, study_name="racing")
    later = threading.Timer(1.5, study.set_user_attr, (STUDY_ATTR, {"cli": {"horizon": 12}}))
    later.start()
    args = argparse.Namespace(storage=url, study_name="racing", heartbeat=60)
    try:
        assert study_record(args, wait_s=30) == {"horizon": 12}
    finally:
        later.join()


"""Studies that outlive a process: SQLite resumed after an exit, two worker processes on one
PostgreSQL study, and a worker killed mid-trial whose trial is failed by heartbeat and retried."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
from tuning_data import forecaster, series_frame

from s4ts.tuning import open_storage, tune

HERE = Path(__file__).parent
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


def start_worker(**settings) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, str(HERE / "worker.py"), json.dumps(settings)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen, timeout: float = 240) -> None:
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output


def create_study(storage, name: str) -> optuna.Study:
    """The study made before its workers start, as `s4ts tune` does (no race to create it)."""
    return optuna.create_study(storage=storage, study_name=name, direction="minimize")


def test_sqlite_study_resumes_after_its_process_exits(tmp_path):
    path = tmp_path / "study.db"
    finish(start_worker(storage=str(path), study_name="resume", n_trials=2, seed=0))
    first = optuna.load_study(study_name="resume", storage=f"sqlite:///{path}").trials
    assert [t.state for t in first] == [optuna.trial.TrialState.COMPLETE] * 2

    result = tune(forecaster(max_epochs=2), series_frame(), n_trials=4, search_space={"d_model": [8, 16]},
                  storage=path, study_name="resume", random_state=1, refit=False, verbose=False)
    trials = result.study.trials
    assert len(trials) == 4  # two more, not four more
    assert [(t.number, t.value) for t in trials[:2]] == [(t.number, t.value) for t in first]
    # a finished study run again trains nothing
    again = tune(forecaster(max_epochs=2), series_frame(), n_trials=4, search_space={"d_model": [8, 16]},
                 storage=path, study_name="resume", refit=False, verbose=False)
    assert len(again.study.trials) == 4


def test_a_resumed_study_samples_new_parameters_with_the_same_seed(tmp_path):
    space = {"learning_rate": optuna.distributions.FloatDistribution(1e-3, 1e-2, log=True)}
    path = tmp_path / "study.db"
    for n_trials in (2, 4):
        result = tune(forecaster(max_epochs=1), series_frame(), n_trials=n_trials, search_space=space,
                      storage=path, study_name="reseeded", random_state=0, refit=False, verbose=False)
    rates = [t.params["learning_rate"] for t in result.study.trials]
    assert len(rates) == 4 and not set(rates[2:]) & set(rates[:2])


def test_workers_started_together_on_an_empty_database(postgres_url):
    # No study, no tables: both processes create them at once, and both get the one study.
    workers = [start_worker(storage=postgres_url, study_name="together", n_trials=3, seed=seed) for seed in (1, 2)]
    for worker in workers:
        finish(worker)
    trials = optuna.load_study(study_name="together", storage=open_storage(postgres_url)).trials
    assert 3 <= len([t for t in trials if t.state in FINISHED]) <= 4
    assert optuna.get_all_study_names(open_storage(postgres_url)) == ["together"]


def test_two_workers_share_one_postgresql_study(postgres_url):
    create_study(open_storage(postgres_url), "shared")
    workers = [start_worker(storage=postgres_url, study_name="shared", n_trials=6, seed=seed) for seed in (1, 2)]
    for worker in workers:
        finish(worker)
    trials = optuna.load_study(study_name="shared", storage=open_storage(postgres_url)).trials
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers)) and sorted(numbers) == list(range(len(numbers)))
    finished = [t for t in trials if t.state in FINISHED]
    # the study stops at six; the other worker may finish the trial it is in
    assert 6 <= len(finished) <= 7 and len(finished) == len(trials)
    assert {t.user_attrs["worker"] for t in trials} == {w.pid for w in workers}


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_a_killed_worker_trial_fails_by_heartbeat_and_is_retried(postgres_url):
    storage = open_storage(postgres_url, heartbeat_interval=1)  # grace period: 2 s
    study = create_study(storage, "killed")
    victim = start_worker(storage=postgres_url, study_name="killed", n_trials=4, seed=1, heartbeat=1,
                          stall_trial=2)

    def stalled_trial_trains():  # trial 2 exists and has reported an epoch
        trials = study.get_trials(deepcopy=False)
        return len(trials) > 2 and trials[2].intermediate_values

    try:
        _wait_for(stalled_trial_trains, 180, "the worker's third trial to train an epoch")
        completed = {t.number: t.value for t in study.get_trials(states=FINISHED)}
        assert set(completed) == {0, 1}
        victim.send_signal(signal.SIGKILL)
    finally:
        victim.kill()
        victim.wait()
    assert study.trials[2].state == optuna.trial.TrialState.RUNNING  # nothing marked it: it died
    time.sleep(3)  # past the grace period without a heartbeat

    finish(start_worker(storage=postgres_url, study_name="killed", n_trials=4, seed=2, heartbeat=1))
    trials = optuna.load_study(study_name="killed", storage=storage).trials
    assert trials[2].state == optuna.trial.TrialState.FAIL
    assert {t.number: t.value for t in trials if t.number in completed} == completed  # nothing lost
    finished = [t for t in trials if t.state in FINISHED]
    assert len(finished) == 4  # resumed to four, none counted twice
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == 2]
    assert len(retried) == 1 and retried[0].params == trials[2].params
    assert len({t.number for t in trials}) == len(trials)

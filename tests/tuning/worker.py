"""One tuning worker process of the storage tests: `python worker.py SETTINGS_JSON`.

SETTINGS_JSON holds storage (URL or path), study_name, n_trials, seed, heartbeat (seconds)
and optionally stall_trial: that trial number trains for thousands of epochs, so a test can
kill the process while it is mid-trial. Every trial records the worker's pid.
"""

import json
import os
import sys

from tuning_data import forecaster, series_frame

from s4ts.tuning import open_storage, tune


def main() -> None:
    settings = json.loads(sys.argv[1])
    stall = settings.get("stall_trial")

    def space(trial):
        trial.set_user_attr("worker", os.getpid())
        params = {"d_model": trial.suggest_categorical("d_model", [8, 16]),
                  "learning_rate": trial.suggest_float("learning_rate", 1e-3, 1e-2, log=True)}
        if trial.number == stall:
            params.update(max_epochs=100_000, early_stopping_patience=100_000)
        return params

    storage = open_storage(settings["storage"], heartbeat_interval=settings.get("heartbeat", 60))
    tune(forecaster(max_epochs=2), series_frame(), n_trials=settings["n_trials"], search_space=space,
         storage=storage, study_name=settings["study_name"], random_state=settings["seed"], refit=False,
         verbose=False)


if __name__ == "__main__":
    main()

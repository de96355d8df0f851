"""Tune S4Forecaster with Optuna under the Informer long-horizon protocol (ETTh1, target OT).

The protocol (Zhou et al., 2021): 12 months to train, 4 to validate, 4 to test, values
standardised with the training months' statistics, MSE over every stride-1 test window. Here
the study never reads the test months: each trial is fitted on the rows before K rolling
origins spread over the validation months and scored by its MSE there (`tune`'s `cv` and
`cv_step`). The best setting is refitted on train + validation and tested beside the
least-squares linear baseline (DLinear/NLinear's function class) of the same run.

The study lives in an SQLite file: run the command again with a larger --n-trials and it
continues where it stopped. `s4ts bench informer --tune N` is the benchmark's version of the
same choice, scoring every trial on all stride-1 validation windows instead.

    S4TS_DATA=../shared/data/ETT python examples/tune_informer.py --horizon 96 --n-trials 20 \\
        --out out/tune_informer
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from s4ts.bench.informer.baseline import evaluate
from s4ts.bench.informer.cells import fit_linear_baseline
from s4ts.bench.informer.forecaster import point_forecasts, scores
from s4ts.bench.informer.protocol import load_protocol
from s4ts.bench.informer.tuning import CONTEXT_CHOICES
from s4ts.forecasting import S4Forecaster
from s4ts.tuning import default_search_space, tune


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--horizon", type=int, default=96, help="steps (hours) to forecast")
    parser.add_argument("--n-trials", type=int, default=20, help="finished trials the study should hold")
    parser.add_argument("--origins", type=int, default=4, help="validation origins (K) in the validation months")
    parser.add_argument("--max-epochs", type=int, default=10, help="epochs of each trial and of the refit")
    parser.add_argument("--trial-max-time", type=float, default=120, help="seconds of training per trial")
    parser.add_argument("--contexts", type=int, nargs="+", default=list(CONTEXT_CHOICES),
                        help="context lengths to choose from, the baseline's too (default 96 192 336 720)")
    parser.add_argument("--data-dir", help="folder with ETTh1.csv (default: $S4TS_DATA)")
    parser.add_argument("--out", type=Path, default=Path("out/tune_informer"))
    args = parser.parse_args()

    data = load_protocol("ETTh1", "S", args.data_dir)  # standardised by the training months
    train_end, val_end, _ = data.ends
    history = data.frame(val_end)  # train + validation: everything the study may read
    # The data are already standardised; a point forecast is what MSE scores.
    estimator = S4Forecaster(horizon=args.horizon, context_length=args.contexts[0], scaler=None, distribution="point",
                             max_epochs=args.max_epochs, max_time=args.trial_max_time, random_state=0)
    space = default_search_space(estimator)
    space["context_length"] = args.contexts
    # K origins, the last one ending with the validation months, the first just after training.
    step = (val_end - train_end - args.horizon) // max(args.origins - 1, 1)

    args.out.mkdir(parents=True, exist_ok=True)
    result = tune(estimator, history, n_trials=args.n_trials, search_space=space, metric="mse",
                  cv=args.origins, cv_step=step, storage=args.out / "study.db",
                  study_name=f"etth1_s_h{args.horizon}")
    tuned = result.best_estimator_  # refitted on train + validation

    preds, truth = point_forecasts(tuned, data, "test")
    mse, mae = scores([preds], truth)
    linear = fit_linear_baseline(data, args.contexts, args.horizon)
    linear_mse, linear_mae = evaluate(linear.model, data.windows(linear.seq_len, args.horizon)[2])
    summary = {
        "horizon": args.horizon, "trials": len(result.trials_), "validation_mse": result.best_value_,
        "best_params": result.best_params_, "test_mse": mse, "test_mae": mae,
        "linear_test_mse": linear_mse, "linear_test_mae": linear_mae,
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    result.trials_.to_csv(args.out / "trials.csv", index=False)
    result.plot_history(args.out / "history.png")
    print(f"{len(result.trials_)} trials; chosen ({result.selection}) validation MSE {result.best_value_:.4f} "
          f"with {result.best_params_}")
    print(f"test MSE {mse:.4f} (MAE {mae:.4f}); linear baseline {linear_mse:.4f} ({linear_mae:.4f}); "
          f"files in {args.out}")


if __name__ == "__main__":
    main()

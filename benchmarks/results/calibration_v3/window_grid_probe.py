"""Probe of session 29 (before `calibrate_quantiles="recent"` was written): quantile widths
recalibrated at each validation window from the forecasts of the M origins before it on the
panel's own window grid (`spec.window_step` apart; a partly observed window counts its
observed steps), pooled over the series by window index. One default fit per dataset, seed
--seed, 2 torch threads; the split's windows scored as trained and recalibrated.

  S4TS_DATA=../shared/data/ETT .venv/bin/python benchmarks/results/calibration_v3/window_grid_probe.py \
      --M 4 8 16 --seed 0 --out window_grid_probe_seed0.json     (seed 1: --M 8 16)
"""
import argparse
import json
import time

import numpy as np
import pandas as pd

from s4ts.bench import panel
from s4ts.forecasting import S4Forecaster

ID, TIME, TARGET, PRED = panel.ID, panel.TIME, panel.TARGET, panel.PRED


def widths_from(rows, cols, levels):
    y = rows[TARGET].to_numpy(float)
    ok = np.isfinite(y)
    q = rows[cols].to_numpy(float)[ok]
    y = y[ok]
    med = q[:, levels.index(0.5)]
    out = []
    for j, lv in enumerate(levels):
        gap = q[:, j] - med
        use = np.abs(gap) > 1e-9
        if lv == 0.5 or use.sum() < 20:
            out.append(1.0)
            continue
        ratio = (y[use] - med[use]) / gap[use]
        share = lv if lv > 0.5 else 1 - lv
        out.append(float(np.clip(np.quantile(ratio, share), 0.2, 5)))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--datasets", nargs="+", default=list(panel.PANEL))
    p.add_argument("--M", type=int, nargs="+", default=[4, 8, 16])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--split", default="validation")
    p.add_argument("--out", default=None)
    a = p.parse_args()
    records = []
    for name in a.datasets:
        spec = panel.get_spec(name)
        frame = panel.split_for(spec, spec.loader(), a.split)
        t0 = time.perf_counter()
        model = S4Forecaster(horizon=spec.horizon, futr_exog=list(spec.futr_exog), random_state=a.seed)
        model.fit(panel.history_before(frame, spec))
        fit_s = time.perf_counter() - t0
        Mmax = max(a.M)
        # as many earlier origins as every series allows (up to Mmax)
        lengths = frame.groupby(ID).size().min()
        back = spec.horizon + spec.window_step * (spec.n_windows - 1)
        extra = int(min(Mmax, (lengths - back - 1 - spec.min_history) // spec.window_step))
        fc = model.historical_forecasts(frame, n_windows=spec.n_windows + extra, step=spec.window_step)
        levels_map = panel.quantile_columns(fc)
        levels, cols = list(levels_map), list(levels_map.values())
        fc["k"] = fc.groupby(ID)["cutoff"].rank(method="dense").astype(int) - 1
        cut_of = fc.groupby([ID, "k"])["cutoff"].first()
        first_eval = extra
        ev = fc[fc.k >= first_eval].copy()
        rec = {"dataset": name, "extra": extra, "fit_s": round(fit_s, 1),
               "trained": panel.score_backtest(ev.drop(columns="k"), frame, spec)}
        for M in a.M:
            m = min(M, extra)
            adj = []
            ws = []
            for k in range(first_eval, fc.k.max() + 1):
                win = fc[fc.k == k]
                cal = fc[(fc.k < k) & (fc.k >= k - m)]
                cut = cal[ID].map(cut_of.xs(k, level="k"))
                cal = cal[cal[TIME] <= cut]
                w = widths_from(cal, cols, levels) if len(cal) else [1.0] * len(levels)
                ws.append(w)
                win = win.copy()
                med = win[cols[levels.index(0.5)]].to_numpy()
                for j, c in enumerate(cols):
                    win[c] = med + w[j] * (win[c].to_numpy() - med)
                adj.append(win)
            adj = pd.concat(adj).drop(columns="k")
            rec[f"recent{M}"] = panel.score_backtest(adj, frame, spec)
            rec[f"widths{M}"] = np.round(np.mean(ws, axis=0), 3).tolist()
        records.append(rec)
        line = f"{name} (extra {extra}, fit {fit_s:.0f}s): trained cov {rec['trained']['coverage_80']:.3f} crps {rec['trained']['scaled_crps']:.4f}"
        for M in a.M:
            line += f" | M{M} cov {rec[f'recent{M}']['coverage_80']:.3f} crps {rec[f'recent{M}']['scaled_crps']:.4f} w {rec[f'widths{M}']}"
        print(line, flush=True)
    if a.out:
        with open(a.out, "w") as out:
            json.dump(records, out, indent=1, default=float)


if __name__ == "__main__":
    main()

"""Calibration v6: six ways to set the quantile widths of `calibrate_quantiles="recent"`,
scored on the same fit (JSON lines, one per dataset, appended to OUT).

    OMP_NUM_THREADS=1 S4TS_DATA=../shared/data/ETT .venv/bin/python \
        benchmarks/results/calibration_v6/variants.py SPLIT SEED OUT DATASET...

For each panel dataset, `S4Forecaster(horizon, futr_exog, random_state=SEED)` (its defaults)
is fit up to the first window of SPLIT ("validation" or "early_validation", never "test")
and forecasts the block with `historical_forecasts` once per variant, the variant replacing
the function that turns recent held-out windows into widths. The median never changes.

- per_level: each level's own width (the share of truths below it is its level; v5's rule);
- conformal: the same at split conformal's rank ceil((n + 1) * share) of n;
- central: one width for a level and its mirror (the share between them is the span);
- central_conformal: the same at the conformal rank;
- blend: geometric mean of per_level and central (the library's rule since v6, checked);
- blend_conformal: geometric mean of conformal and central_conformal.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from s4ts.bench import panel
from s4ts.forecasting import S4Forecaster, recalibration
from s4ts.nn.distributions import _WIDTH_BOUNDS, MIN_CALIBRATION_POINTS, quantile_widths


def _ratios(raw, y, levels):
    """Offsets of the observed truths from the median over each level's distance from it."""
    seen = np.isfinite(y)
    ordered, y = np.sort(raw[seen], axis=-1), y[seen]
    median = ordered[:, list(levels).index(0.5)]
    return y - median, ordered - median[:, None]


def _pick(ratio, share, conformal):
    if not conformal:
        return float(np.clip(np.quantile(ratio, share), *_WIDTH_BOUNDS))
    ratio = np.sort(ratio)
    return float(np.clip(ratio[min(len(ratio) - 1, int(np.ceil((len(ratio) + 1) * share)) - 1)], *_WIDTH_BOUNDS))


def own(conformal):
    def widths(raw, y, levels):
        if np.isfinite(y).sum() < MIN_CALIBRATION_POINTS or 0.5 not in levels:
            return None
        offset, gaps = _ratios(raw, y, levels)
        out = []
        for j, level in enumerate(levels):
            ok = np.abs(gaps[:, j]) > 1e-9
            if level == 0.5 or ok.sum() < MIN_CALIBRATION_POINTS:
                out.append(1.0)
                continue
            out.append(_pick(offset[ok] / gaps[ok, j], level if level > 0.5 else 1 - level, conformal))
        return out
    return widths


def central(conformal):
    def widths(raw, y, levels):
        if np.isfinite(y).sum() < MIN_CALIBRATION_POINTS or 0.5 not in levels:
            return None
        offset, gaps = _ratios(raw, y, levels)
        levels, out = list(levels), [1.0] * len(levels)
        for j, low in enumerate(levels):
            mirror = [k for k, level in enumerate(levels) if low < 0.5 and np.isclose(level, 1 - low)]
            if mirror:
                k = mirror[0]
                ok = (np.abs(gaps[:, j]) > 1e-9) & (np.abs(gaps[:, k]) > 1e-9)
                d = offset[ok]
                ratio = np.where(d < 0, d / gaps[ok, j], d / gaps[ok, k])
                out[j] = out[k] = _pick(ratio, 1 - 2 * low, conformal)
        return out
    return widths


def blend(first, second):
    def widths(raw, y, levels):
        a, b = first(raw, y, levels), second(raw, y, levels)
        return None if a is None else [float(np.sqrt(x * z)) for x, z in zip(a, b)]
    return widths


VARIANTS = {
    "per_level": own(False), "conformal": own(True), "central": central(False),
    "central_conformal": central(True), "blend": blend(own(False), central(False)),
    "blend_conformal": blend(own(True), central(True)),
}



def _check_library_rule() -> None:
    """The library's `quantile_widths` is `blend` (the variant v6 adopted)."""
    rng = np.random.default_rng(0)
    raw = np.sort(rng.normal(size=(300, 3)) + [-1.0, 0.0, 1.0], axis=1)
    y = rng.normal(0.3, 1.5, size=300)
    assert quantile_widths(raw, y, [0.1, 0.5, 0.9]) == VARIANTS["blend"](raw, y, [0.1, 0.5, 0.9])


def main(split: str, seed: int, out: str, names: list[str]) -> None:
    _check_library_rule()
    for name in names:
        spec = panel.get_spec(name)
        frame = panel.split_for(spec, spec.loader(), split)
        start = time.perf_counter()
        model = S4Forecaster(horizon=spec.horizon, futr_exog=list(spec.futr_exog), random_state=seed)
        model.fit(panel.history_before(frame, spec))
        record = {"dataset": name, "split": split, "seed": seed, "fit_s": time.perf_counter() - start}
        try:
            for variant, widths in VARIANTS.items():
                recalibration.quantile_widths = widths
                forecasts = model.historical_forecasts(frame, n_windows=spec.n_windows, step=spec.window_step)
                score = panel.score_backtest(forecasts, frame, spec)
                record[variant] = {k: score[k] for k in ("coverage_80", "scaled_crps", "mase")}
        finally:
            recalibration.quantile_widths = quantile_widths
        print(json.dumps(record), flush=True)
        with open(out, "a") as f:
            f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:])

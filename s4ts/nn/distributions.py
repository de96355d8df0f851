"""Probabilistic output heads: map a backbone's raw outputs to a loss and to forecasts.

A head has no parameters: the backbone's decoder emits `n_outputs` raw values per step, and
the head turns them into a training loss (torch) and, at prediction time, into point
forecasts, quantiles and samples (numpy, where exact Student-t quantiles and seeded sampling
are at hand).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from scipy import special
from torch import Tensor
from torch.nn import functional as F

__all__ = ["Head", "PointHead", "QuantileHead", "StudentTHead", "head_from_config", "make_head", "quantile_widths"]


def _masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of `values` (B, L) over True entries of `mask` (B, L); 0 when none is True."""
    mask = mask.to(values.dtype)
    return (values * mask).sum() / mask.sum().clamp_min(1.0)


# Bounds of a calibrated width factor, and the fewest observed points that set one.
_WIDTH_BOUNDS = (0.2, 5.0)
MIN_CALIBRATION_POINTS = 20


def quantile_widths(raw: np.ndarray, y: np.ndarray, levels: Sequence[float]) -> list[float] | None:
    """Each level's width (factor on its trained distance from the median) from forecasts raw
    (N, Q) of the sorted `levels` with truths y (N,) (NaN: unobserved): the geometric mean of
    the level's own width, such that the share of truths below its quantile is the level,
    and its band's, one factor for it and its mirror level 1 - level such that the share of
    truths between the two is the band's span (e.g. 80% for 0.1 and 0.9).

    The own widths follow the skew of the errors (a median that was too high or too low);
    the band's assume none; their mean keeps half of it (in log). A few held-out windows
    measure a skew that mostly does not last into the next ones: on the forecasting panel's
    validation blocks this cut the mean |80% coverage - 0.8| by a third and the scaled CRPS
    by 1.4% (benchmarks/results/calibration_v6). Empirical quantiles of the ratios (split
    conformal's conservative rank changed little there); widths bounded to 0.2-5. None with
    fewer than `MIN_CALIBRATION_POINTS` observed truths or no median level; a level with too
    few usable points keeps 1."""
    seen = np.isfinite(y)
    ordered, y = np.sort(raw[seen], axis=-1), y[seen]
    if len(y) < MIN_CALIBRATION_POINTS or 0.5 not in levels:
        return None
    levels = list(levels)
    median = ordered[:, levels.index(0.5)]
    offset, gaps = y - median, ordered - median[:, None]  # (N,), (N, Q): < 0 below the median
    widths = []
    for j, level in enumerate(levels):
        own = _own_width(offset, gaps[:, j], level) if level != 0.5 else None
        mirror = next((k for k, other in enumerate(levels) if np.isclose(other, 1 - level)), None)
        band = None if mirror is None or own is None else _band_width(offset, gaps[:, [j, mirror]], abs(1 - 2 * level))
        widths.append(1.0 if own is None else own if band is None else float(np.sqrt(own * band)))
    return widths


def _own_width(offset: np.ndarray, gap: np.ndarray, level: float) -> float | None:
    """The factor w on the distances `gap` (N,) of a level's quantile from the median such
    that a share `level` of the truths' `offset`s (N,) from the median lie below w * gap."""
    usable = np.abs(gap) > 1e-9
    if usable.sum() < MIN_CALIBRATION_POINTS:
        return None
    # offset < w * gap  <=>  ratio < w above the median, ratio > w below it.
    ratio = offset[usable] / gap[usable]
    share = level if level > 0.5 else 1 - level  # of ratios that must fall below w
    return float(np.clip(np.quantile(ratio, share), *_WIDTH_BOUNDS))


def _band_width(offset: np.ndarray, gaps: np.ndarray, span: float) -> float | None:
    """The one factor w on the distances `gaps` (N, 2) of a level and its mirror from the
    median such that a share `span` of the truths' `offset`s (N,) lie between the two."""
    usable = np.all(np.abs(gaps) > 1e-9, axis=1)
    if usable.sum() < MIN_CALIBRATION_POINTS:
        return None
    offset, below, above = offset[usable], gaps[usable].min(axis=1), gaps[usable].max(axis=1)
    ratio = np.where(offset < 0, offset / below, offset / above)  # inside the band <=> ratio < w
    return float(np.clip(np.quantile(ratio, span), *_WIDTH_BOUNDS))


class QuantileHead:
    """One output per quantile level, trained with the pinball (quantile) loss.

    `widths` (one per level, 1 = as trained) scale each quantile's distance from the median
    at prediction time; `calibrate` sets them from held-out windows."""

    def __init__(self, quantiles: Sequence[float], widths: Sequence[float] | None = None) -> None:
        levels = sorted({float(q) for q in quantiles})
        if not levels or not all(0.0 < q < 1.0 for q in levels):
            raise ValueError(f"quantiles={list(quantiles)} must be levels strictly between 0 and 1")
        self.quantiles = levels
        self.widths = [1.0] * len(levels) if widths is None else [float(w) for w in widths]
        if len(self.widths) != len(levels):
            raise ValueError(f"{len(self.widths)} widths for {len(levels)} quantile levels")

    def _ordered(self, raw: np.ndarray, widths: np.ndarray | None = None) -> np.ndarray:
        """Sorted outputs (..., Q) (sorting removes quantile crossing without changing
        well-ordered outputs), each level's distance from the median times its width:
        `widths` (..., Q) per forecast when given, else the head's."""
        ordered = np.sort(raw, axis=-1)
        widths = np.asarray(self.widths) if widths is None else widths
        if 0.5 not in self.quantiles or np.all(widths == 1.0):
            return ordered
        median = ordered[..., [self.quantiles.index(0.5)]]
        return np.sort(median + widths * (ordered - median), axis=-1)

    def calibrate(self, raw: np.ndarray, y: np.ndarray) -> int:
        """Set the widths (`quantile_widths`) from held-out forecasts raw (N, Q) of truths y
        (N,); returns the points used, 0 (widths unchanged) when too few."""
        widths = quantile_widths(raw, y, self.quantiles)
        if widths is None:
            return 0
        self.widths = widths
        return int(np.isfinite(y).sum())

    @property
    def n_outputs(self) -> int:
        return len(self.quantiles)

    def loss(
        self, raw: Tensor, y: Tensor, mask: Tensor, shift: Tensor | None = None, scale: Tensor | None = None
    ) -> Tensor:
        """Mean pinball loss of raw (B, L, Q), mapped by `* scale + shift` (B, 1) when given,
        against y (B, L) where mask (B, L) is True."""
        if scale is not None:
            raw = raw * scale[..., None] + shift[..., None]
        levels = torch.tensor(self.quantiles, dtype=raw.dtype, device=raw.device)  # (Q,)
        error = y.unsqueeze(-1) - raw  # (B, L, Q)
        pinball = torch.maximum(levels * error, (levels - 1) * error).mean(-1)  # (B, L)
        return _masked_mean(pinball, mask)

    def quantile(self, raw: np.ndarray, levels: Sequence[float], widths: np.ndarray | None = None) -> np.ndarray:
        """Quantiles (..., len(levels)) at levels this head was trained for; `widths` (..., Q),
        one per trained level and forecast, replace the head's (see `_ordered`)."""
        unknown = sorted(set(levels) - set(self.quantiles))
        if unknown:
            raise ValueError(f"quantile levels {unknown} were not trained; trained: {self.quantiles}")
        return self._ordered(raw, widths)[..., [self.quantiles.index(q) for q in levels]]

    def point(self, raw: np.ndarray) -> np.ndarray:
        """Median forecast (...,); the head always trains level 0.5 for it."""
        return self.quantile(raw, [0.5])[..., 0]

    def config(self) -> dict[str, Any]:
        return {"kind": "quantile", "quantiles": self.quantiles, "widths": self.widths}


class StudentTHead:
    """Student-t per step (location, scale, degrees of freedom > 2), trained by negative log-likelihood."""

    n_outputs = 3

    @staticmethod
    def _params(raw):
        """loc, scale > 0, df > 2 from raw (..., 3); df > 2 keeps the variance finite."""
        if isinstance(raw, Tensor):
            return raw[..., 0], F.softplus(raw[..., 1]) + 1e-4, 2.0 + F.softplus(raw[..., 2])
        softplus = np.logaddexp(0.0, raw[..., 1:])
        return raw[..., 0], softplus[..., 0] + 1e-4, 2.0 + softplus[..., 1]

    def loss(
        self, raw: Tensor, y: Tensor, mask: Tensor, shift: Tensor | None = None, scale: Tensor | None = None
    ) -> Tensor:
        """Mean negative log-likelihood of y (B, L) where mask (B, L) is True, under the
        Student-t of raw mapped by `* scale + shift` (B, 1) when given."""
        loc, t_scale, df = self._params(raw)
        if scale is not None:
            loc, t_scale = loc * scale + shift, t_scale * scale
        nll = -torch.distributions.StudentT(df, loc, t_scale).log_prob(y)  # (B, L)
        return _masked_mean(nll, mask)

    def quantile(self, raw: np.ndarray, levels: Sequence[float]) -> np.ndarray:
        """Exact quantiles (..., len(levels))."""
        loc, scale, df = self._params(np.asarray(raw, dtype=float))
        levels = np.asarray(levels, dtype=float)
        standard = special.stdtrit(df[..., None], levels)  # (..., Q)
        return loc[..., None] + scale[..., None] * standard

    def point(self, raw: np.ndarray) -> np.ndarray:
        """Location: the median (and mean) of the Student-t."""
        return np.asarray(raw, dtype=float)[..., 0]

    def sample(self, raw: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """n draws per step, (n, ...); steps are drawn independently given the history."""
        loc, scale, df = self._params(np.asarray(raw, dtype=float))
        return loc + scale * rng.standard_t(df, size=(n, *loc.shape))

    def config(self) -> dict[str, Any]:
        return {"kind": "student_t"}


class PointHead:
    """One output per step, the conditional mean, trained by squared error: no distribution, so
    no quantiles or samples (the point forecast of models scored by MSE)."""

    n_outputs = 1

    def loss(
        self, raw: Tensor, y: Tensor, mask: Tensor, shift: Tensor | None = None, scale: Tensor | None = None
    ) -> Tensor:
        """Mean squared error of raw (B, L, 1), mapped by `* scale + shift` (B, 1) when given,
        against y (B, L) where mask (B, L) is True."""
        mean = raw[..., 0]
        if scale is not None:
            mean = mean * scale + shift
        return _masked_mean((mean - y) ** 2, mask)

    def quantile(self, raw: np.ndarray, levels: Sequence[float]) -> np.ndarray:
        raise ValueError("distribution='point' forecasts a mean only: it has no quantiles")

    def point(self, raw: np.ndarray) -> np.ndarray:
        """The mean forecast (...,)."""
        return np.asarray(raw, dtype=float)[..., 0]

    def config(self) -> dict[str, Any]:
        return {"kind": "point"}


Head = QuantileHead | StudentTHead | PointHead


def make_head(distribution: str, quantiles: Sequence[float]) -> Head:
    """The head of a `distribution` ("quantile", "student_t" or "point"); the quantile head
    learns the median beside `quantiles`, for its point forecast."""
    if distribution == "student_t":
        return StudentTHead()
    if distribution == "point":
        return PointHead()
    if distribution == "quantile":
        return QuantileHead([*quantiles, 0.5])
    raise ValueError(f"unknown distribution {distribution!r}")


def head_from_config(config: dict[str, Any]) -> Head:
    """Rebuild a head from its `config()`."""
    if config["kind"] == "quantile":
        return QuantileHead(config["quantiles"], config.get("widths"))  # older files: none
    if config["kind"] in ("student_t", "point"):
        return make_head(config["kind"], ())
    raise ValueError(f"unknown head kind {config['kind']!r}")

"""s4ts's ForecastingModule fed GluonTS's batch fields, and the prediction network of the predictor.

GluonTS's instance splitter hands out `past_*` / `future_*` fields; `gluonts_window` lays them
out as the windows `ForecastNet` reads (channel 0 the target, 1 where it was observed, then
time features and future-known covariates, then past-only covariates, hidden over the
horizon). Each window is divided by the mean absolute value of its observed context (GluonTS's
mean scaling), so the pinball loss weighs series of different sizes alike; `ForecastNet` then
normalises the window by its own shift and scale as in S4Forecaster.
"""

from __future__ import annotations

import torch
from gluonts.core.component import validated
from torch import Tensor

from s4ts.forecasting.lightning_module import ForecastingModule
from s4ts.nn.distributions import QuantileHead
from s4ts.nn.forecast_net import ForecastNet, Timing

__all__ = ["S4LightningModule", "gluonts_window"]

# Training batches the least-squares start of the linear path reads.
LINEAR_FIT_BATCHES = 100


def gluonts_window(batch: dict[str, Tensor], horizon: int) -> tuple[dict[str, Tensor], Tensor]:
    """GluonTS fields -> (`WindowDataset`-style window dict, the windows' scale (B, 1)).

    Reads past_target, past_observed_values, past_is_pad (B, Lc); past_time_feat (B, Lc, F)
    and future_time_feat (B, H, F) when present; past_hist_feat (B, Lc, P) when present;
    future_target and future_observed_values (B, H) when training."""
    past = batch["past_target"].float()  # (B, Lc)
    real = batch["past_is_pad"] < 0.5  # (B, Lc)
    observed = (batch["past_observed_values"] > 0.5) & real  # (B, Lc)
    b = past.shape[0]
    weight = observed.float()
    scale = (past.abs() * weight).sum(1, keepdim=True) / weight.sum(1, keepdim=True).clamp_min(1.0)  # (B, 1)
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))  # all zero or unobserved: 1
    hidden = past.new_zeros(b, horizon)  # (B, H)
    parts = [
        torch.cat([past / scale * weight, hidden], 1)[..., None],  # (B, W, 1) target, 0 where unknown
        torch.cat([weight, hidden], 1)[..., None],  # (B, W, 1) observed
    ]
    if "past_time_feat" in batch:
        parts.append(torch.cat([batch["past_time_feat"], batch["future_time_feat"]], 1).float())  # (B, W, F)
    if "past_hist_feat" in batch:
        hist = batch["past_hist_feat"].float()  # (B, Lc, P)
        parts.append(torch.cat([hist, hist.new_zeros(b, horizon, hist.shape[2])], 1))
    window = {
        "x": torch.cat(parts, -1),  # (B, W, C)
        "valid": torch.cat([real, torch.ones_like(hidden, dtype=torch.bool)], 1),  # (B, W)
        "dt": torch.ones(b, past.shape[1] + horizon, device=past.device),  # (B, W) one rate
        "regular": torch.ones(b, dtype=torch.bool, device=past.device),
    }
    if "future_target" in batch:
        window["y"] = batch["future_target"].float() / scale  # (B, H)
        window["loss_mask"] = batch["future_observed_values"] > 0.5  # (B, H)
    return window, scale


class S4LightningModule(ForecastingModule):
    """`ForecastingModule` (s4ts's loss and optimizer) around a `ForecastNet` with a quantile
    head, reading GluonTS batches; its `forward` is the predictor's network and returns the
    quantiles (B, H, Q) in the data's units, sorted by level."""

    @validated()
    def __init__(
        self,
        model_kwargs: dict,
        quantiles: list,
        lr: float = 3e-3,
        weight_decay: float = 0.01,
    ) -> None:
        head = QuantileHead(quantiles)
        super().__init__(ForecastNet(n_outputs=head.n_outputs, **model_kwargs), head, lr, weight_decay)
        # Saved with the weights: a predictor trained further from a checkpoint keeps its
        # least-squares start instead of refitting it.
        self.register_buffer("linear_ready", torch.tensor(False))

    def window_batch(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        return gluonts_window(batch, self.net.horizon)[0]

    def on_train_start(self) -> None:
        """Set the linear path to its least-squares fit on training batches, then fix it (as
        S4Forecaster does), so training teaches S4 what that forecast misses."""
        if self.net.linear is None or bool(self.linear_ready):
            return
        windows = []
        for batch in self.trainer.train_dataloader:
            window = self.window_batch(batch)
            y = window["y"].masked_fill(~window["loss_mask"], float("nan"))
            windows.append((window["x"].cpu(), y.cpu()))
            if len(windows) >= LINEAR_FIT_BATCHES:
                break
        self.net.fit_linear_path(windows)
        self.net.linear.requires_grad_(False)
        self.linear_ready.fill_(True)

    def forward(
        self,
        past_target: Tensor,
        past_observed_values: Tensor,
        past_is_pad: Tensor,
        past_time_feat: Tensor | None = None,
        future_time_feat: Tensor | None = None,
        past_hist_feat: Tensor | None = None,
    ) -> tuple[tuple[Tensor], None, None]:
        """Quantile forecasts ((B, H, Q),) in the layout of GluonTS's QuantileForecastGenerator."""
        batch = {"past_target": past_target, "past_observed_values": past_observed_values,
                 "past_is_pad": past_is_pad}
        if past_time_feat is not None:
            batch.update(past_time_feat=past_time_feat, future_time_feat=future_time_feat)
        if past_hist_feat is not None:
            batch["past_hist_feat"] = past_hist_feat
        window, scale = gluonts_window(batch, self.net.horizon)
        raw, shift, spread = self.net(window["x"], Timing(), window["valid"])  # (B, H, Q), (B, 1) x2
        quantiles = raw * spread[..., None] + shift[..., None]
        return (torch.sort(quantiles, dim=-1).values * scale[..., None],), None, None

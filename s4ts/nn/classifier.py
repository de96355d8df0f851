"""Sequence classification network: optional filterbank, S4 stages, masked pooling, linear head."""

from __future__ import annotations

from torch import Tensor, nn

from s4ts.nn.backbone import S4Backbone
from s4ts.nn.frontend import S4Filterbank
from s4ts.nn.pooling import masked_pool, pool_steps, pooled_width

__all__ = ["S4ClassifierNet"]


class S4ClassifierNet(nn.Module):
    """Optional front end, S4 stages with mean-pooling downsampling between them, a pooling head, logits.

    `frontend` (e.g. an `S4Filterbank`) turns audio-rate samples into frames of a fixed
    duration before the first stage.
    """

    def __init__(
        self,
        d_input: int,
        n_classes: int,
        d_model: int = 64,
        n_layers: tuple[int, ...] = (4,),
        pool: tuple[int, ...] = (),
        expand: int = 2,
        pooling: str = "mean",
        frontend: S4Filterbank | None = None,
        **s4_kwargs,
    ) -> None:
        super().__init__()
        if len(n_layers) != len(pool) + 1:
            raise ValueError(
                f"n_layers needs one entry per stage ({len(pool) + 1}); got {n_layers}"
            )
        self.pool = tuple(pool)
        self.pooling = pooling
        self.frontend = frontend
        stages = []
        d_in = d_input if frontend is None else frontend.d_output
        for i, n in enumerate(n_layers):
            width = d_model * expand**i
            stages.append(
                S4Backbone(d_in, width, d_model=width, n_layers=n, **s4_kwargs)
            )
            d_in = width
        self.stages = nn.ModuleList(stages)
        self.norm = nn.LayerNorm(d_in)
        self.head = nn.Linear(pooled_width(d_in, pooling), n_classes)

    def forward(self, x: Tensor, mask: Tensor | None = None, rate: float | Tensor = 1.0) -> Tensor:
        """x (B, L, d_input), mask (B, L) True at valid steps -> logits (B, n_classes).

        `rate` = data step / training step. Pooling windows hold a fixed number of steps, so
        after pooling the step is still `rate` times the training step and every stage gets
        the same `rate`: each S4 layer keeps its learned continuous-time filters. (A window
        then spans `rate` times as long, a slightly different smoothing than in training.)
        A front end absorbs the rate instead: its frames last as long as in training, so
        the stages after it run at rate 1.
        """
        if self.frontend is not None:
            x, mask = self.frontend(x, mask, rate=rate)  # (B, T, F)
            rate = 1.0
        for i, stage in enumerate(self.stages):
            x = stage(x, rate=rate, mask=mask)  # (B, L_i, H_i)
            if i < len(self.pool):
                x, mask = pool_steps(x, mask, self.pool[i])  # (B, L_i / p_i, H_i)
        z = masked_pool(self.norm(x), mask, self.pooling)  # (B, H), (B, 2H) for meanmax
        return self.head(z)  # (B, n_classes)

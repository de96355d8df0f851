"""Stack of S4 blocks between an input and an output projection, and its optimizer groups."""

from __future__ import annotations

import torch
from torch import nn

from s4ts.nn.block import S4Block
from s4ts.ssm.kernel import DiagKernel, Rate, lost_energy, stacked_diag_kernels


class S4Backbone(nn.Module):
    """(B, L, d_input) -> (B, L, d_output) through n_layers residual S4 blocks."""

    def __init__(
        self,
        d_input: int,
        d_output: int,
        d_model: int = 128,
        n_layers: int = 4,
        d_state: int = 64,
        mode: str = "diag",
        init: str | None = None,
        dropout: float = 0.1,
        prenorm: bool = True,
        bidirectional: bool = False,
        channels: int = 1,
        disc: str | None = None,
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
        ssm_lr: float | None = 1e-3,
    ) -> None:
        super().__init__()
        for name, value in (("d_input", d_input), ("d_output", d_output), ("d_model", d_model),
                            ("n_layers", n_layers), ("d_state", d_state)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.bidirectional = bidirectional
        self.prenorm = prenorm
        self.encoder = nn.Linear(d_input, d_model)
        self.blocks = nn.ModuleList(
            S4Block(
                d_model, dropout=dropout, prenorm=prenorm, d_state=d_state, mode=mode, init=init,
                channels=channels, bidirectional=bidirectional, disc=disc, dt_min=dt_min,
                dt_max=dt_max, ssm_lr=ssm_lr,
            )
            for _ in range(n_layers)
        )
        self.norm = nn.LayerNorm(d_model) if prenorm else nn.Identity()
        self.decoder = nn.Linear(d_model, d_output)

    def forward(
        self,
        x: torch.Tensor,
        rate: Rate = 1.0,
        dt: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        return_state: bool = False,
    ):
        """x (B, L, d_input) -> y (B, L, d_output) [, list of per-layer end states]."""
        if x.ndim != 3:
            raise ValueError(f"expected input of shape (batch, length, features), got {tuple(x.shape)}")
        h = self.encoder(x)  # (B L H)
        states = []
        kernels = self._kernels(x.shape[1], rate) if dt is None else [None] * len(self.blocks)
        for block, kernel in zip(self.blocks, kernels):
            out = block(h, rate=rate, dt=dt, mask=mask, return_state=return_state, kernel=kernel)
            h, state = out if return_state else (out, None)
            states.append(state)
        y = self.decoder(self.norm(h))
        return (y, states) if return_state else y

    def _kernels(self, L: int, rate: Rate) -> list[torch.Tensor | None]:
        """Every block's S4D kernel for (L, rate) in one pass (None: each block computes its own)."""
        kernels = [block.s4.kernel for block in self.blocks]
        if len(kernels) < 2 or not all(isinstance(k, DiagKernel) for k in kernels):
            return [None] * len(kernels)
        return stacked_diag_kernels(kernels, L, rate)

    @torch.no_grad()
    def aliased_fraction(self, rate: float) -> float:
        """Share of the SSM energy resolved at rate 1 that aliases at `rate` (0 for rate <= 1)."""
        resolved = lost = 0.0
        for block in self.blocks:
            r, l = lost_energy(block.s4.kernel.modes(), rate)
            resolved, lost = resolved + r, lost + l
        return lost / resolved if resolved > 0 else 0.0

    def max_rate(self, tolerance: float) -> float:
        """Largest rate (on a 2^(1/8) grid up to 2^16) whose aliased fraction stays within `tolerance`."""
        best = 1.0
        for k in range(1, 129):
            rate = 2.0 ** (k / 8)
            if self.aliased_fraction(rate) > tolerance:
                break
            best = rate
        return best

    def default_state(self, batch_size: int) -> list[torch.Tensor]:
        """Zero states, one per layer."""
        return [block.s4.default_state(batch_size) for block in self.blocks]

    def step(self, x: torch.Tensor, state: list[torch.Tensor], rate: Rate = 1.0):
        """One recurrent step: x (B, d_input) -> y (B, d_output), new states; rate float or (B,)."""
        h = self.encoder(x)
        new_state = []
        for block, s in zip(self.blocks, state):
            h, s = block.step(h, s, rate)
            new_state.append(s)
        return self.decoder(self.norm(h)), new_state


def ssm_param_groups(model: nn.Module, lr: float, weight_decay: float = 0.0) -> list[dict]:
    """Optimizer groups: SSM parameters (own lr, no decay), weights (decay), biases/norms (no decay)."""
    decay: list = []
    no_decay: list = []
    special: dict[tuple, list] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        hp = getattr(p, "_optim", None)
        if hp is not None:
            special.setdefault(tuple(sorted(hp.items())), []).append(p)
        elif p.ndim >= 2 and not name.endswith(".D"):
            decay.append(p)
        else:
            no_decay.append(p)
    groups = [
        {"params": decay, "lr": lr, "weight_decay": weight_decay},
        {"params": no_decay, "lr": lr, "weight_decay": 0.0},
    ]
    for hp, params in special.items():
        hp = dict(hp)
        groups.append({"params": params, "lr": lr if hp.get("lr") is None else hp["lr"],
                       "weight_decay": hp.get("weight_decay", 0.0)})
    return [g for g in groups if g["params"]]

"""An ensemble of classification networks: temperature-scaled probabilities, averaged."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from s4ts.nn.classifier import S4ClassifierNet
from s4ts.nn.frontend import S4Filterbank

__all__ = ["S4ClassifierEnsemble", "fit_temperature"]


class S4ClassifierEnsemble(nn.Module):
    """Members' class probabilities softmax(logits / temperature), averaged; returns their log.

    One member with temperature 1 gives log_softmax of its logits. The log of the mean
    probability is what `S4Classifier.decision_function` reports: its argmax is the
    predicted class and, for two classes, the difference of its columns is a log-odds.
    """

    def __init__(self, members: list[S4ClassifierNet], temperature: float = 1.0) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList(members)
        self.register_buffer("temperature", torch.tensor(float(temperature)))

    @property
    def frontend(self) -> S4Filterbank | None:
        """The members' front end type and framing (they are built alike); None without one."""
        return self.members[0].frontend

    def forward(self, x: Tensor, mask: Tensor | None = None, rate: float | Tensor = 1.0) -> Tensor:
        """x (B, L, d_input), mask (B, L) -> log mean probability (B, n_classes)."""
        log_probs = torch.stack([
            torch.log_softmax(member(x, mask, rate=rate) / self.temperature, dim=-1)
            for member in self.members
        ])  # (M, B, n_classes)
        return torch.logsumexp(log_probs, dim=0) - math.log(len(self.members))


def fit_temperature(logits: Tensor, labels: Tensor, prior_sd: float = 0.5) -> float:
    """The temperature T > 0 of softmax(logits / T) that best fits held-out logits (n, n_classes)
    with class indices (n,): the summed cross-entropy plus a N(0, prior_sd²) prior on log T,
    minimised over log T in [-3, 3].

    The prior matters only for a few series: without it, a handful of correctly classified
    held-out series would drive T to 0 (any sharpening lowers their loss).
    """
    logits, labels = logits.double(), labels.long()

    def loss(log_t: float) -> float:
        nll = nn.functional.cross_entropy(logits / math.exp(log_t), labels, reduction="sum")
        return float(nll) + 0.5 * (log_t / prior_sd) ** 2

    # Golden-section search: the loss is unimodal in log T for a fixed set of logits.
    low, high = -3.0, 3.0
    ratio = (math.sqrt(5) - 1) / 2
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    fa, fb = loss(a), loss(b)
    for _ in range(60):
        if fa < fb:
            high, b, fb = b, a, fa
            a = high - ratio * (high - low)
            fa = loss(a)
        else:
            low, a, fa = a, b, fb
            b = low + ratio * (high - low)
            fb = loss(b)
    return math.exp((low + high) / 2)

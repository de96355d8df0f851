"""The Informer bench's outputs: Markdown tables, the machine line, the JSON records."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import pandas as pd
import torch

__all__ = ["machine_summary", "markdown_table", "write_json"]


def _fmt(value: float | None) -> str:
    """Three decimals, or a dash where there is no value."""
    return "-" if value is None or pd.isna(value) else f"{value:.3f}"


def markdown_table(records: list[dict]) -> str:
    """A Markdown table: per horizon, MSE and MAE of ours, S4 paper, Informer, linear baseline."""
    models = [("ours", "ours"), ("S4 paper", "s4_paper"), ("Informer", "informer"),
              ("linear", "linear")]
    scores = [f"{m} {metric}" for metric in ("MSE", "MAE") for m, _ in models]
    head = ["dataset", "feat", "H", "context", *scores, "ours wall s", "ours CPU s",
            "linear wall s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in records:
        cells = [r["dataset"], r["features"], str(r["horizon"]), str(r["seq_len"])]
        for metric in ("mse", "mae"):
            values = {key: r.get(f"{key}_{metric}") for _, key in models}
            best = min((v for v in values.values() if v is not None), default=None)
            cells += [f"**{_fmt(v)}**" if v is not None and v == best else _fmt(v)
                      for v in values.values()]
        cells += [f"{r[key]:.0f}" if key in r else "-"
                  for key in ("ours_seconds", "ours_cpu_seconds", "linear_seconds")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine_summary() -> str:
    """One line naming the machine and software a result was measured on."""
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
            f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
            f"Python {platform.python_version()}, {platform.system()}")


def write_json(path: str | os.PathLike, records: list[dict]) -> None:
    """Write result records as a JSON list, creating the folder if needed."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(records, indent=2) + "\n")

"""Joint multivariate inputs: every series also reads every series' target, in one fixed order.

A channel-independent global model sees one series at a time. With cross-series inputs each
series gets K extra past-only covariates, the targets of the K series of the panel (itself
included, so every series has the same input layout) at its own timestamps. The model stays
one network shared by all series; only its input is the whole panel's recent values.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from s4ts.data.frames import SeriesData

__all__ = ["with_cross_series"]


def with_cross_series(
    series: Sequence[SeriesData], ids: Sequence[Hashable], name: str
) -> list[SeriesData]:
    """`series` with the targets of the series `ids` appended to their covariates: (T, K + len(ids)).

    The values are looked up by timestamp among `series` themselves; a timestamp at which a
    listed series has no row enters as NaN (missing). Every id in `ids` must be among `series`.
    """
    by_id = {s.uid: s for s in series}
    irregular = [s.uid for s in series if s.freq is None]
    if irregular:
        raise ValueError(
            f"{name}: series {irregular[0]!r} has irregular timestamps; cross_series=True reads "
            f"the series' values at shared timestamps, so it needs regular series on one grid. "
            f"Resample to a regular grid (time_grid='regular') or set cross_series=False"
        )
    missing = [uid for uid in ids if uid not in by_id]
    if missing:
        raise ValueError(
            f"{name}: series {missing[:5]!r} ({len(missing)} of the {len(ids)} series the model "
            f"reads with cross_series=True) are missing; give rows of every series the model "
            f"was fitted on"
        )
    targets = [pd.Series(by_id[uid].y, index=by_id[uid].times) for uid in ids]
    out = []
    for s in series:
        cross = np.column_stack(
            [target.reindex(s.times).to_numpy(dtype=float) for target in targets]
        )  # (T, len(ids))
        out.append(replace(s, covariates=np.concatenate([s.covariates, cross], axis=1)))
    return out

"""S4Forecaster: a scikit-learn-style forecaster on pandas frames, built on `s4ts.nn.ForecastNet`.

Model: every time step is encoded as [y, observed, future-known covariates, past-only
covariates, calendar features]. A window is `context_length` steps of history followed by
`horizon` forecast positions whose y and past-only inputs are hidden. The network normalises
each window by its context (`norm`), reads it with a causal S4 backbone (plus an optional
linear context -> horizon path) and a head turns the outputs at the forecast positions into
quantiles or a Student-t. A forecast reads the last `context_length` steps of a series, as
training windows do: `predict` runs that context through the convolution once and steps
the recurrence through the horizon; `update` only appends to the stored context.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from s4ts.data.frames import SeriesData, parse_freq, time_kind
from s4ts.data.timing import series_dt, series_rate, training_step
from s4ts.data.windows import fit_scale
from s4ts.forecasting import evaluation, persistence, plotting, reading, streaming, training
from s4ts.forecasting.horizon import forecast_frame, futures_from, pred_col, quantile_cols
from s4ts.forecasting.inference import SeriesState, append_steps, history_window, run_forecasts
from s4ts.forecasting.params import check_params, network_params
from s4ts.forecasting.rates import check_rate_argument, horizon_steps_of
from s4ts.forecasting.recalibration import extend_recent, recent_tail, recent_widths, trained_until
from s4ts.nn.distributions import make_head

__all__ = ["S4Forecaster"]


class S4Forecaster(BaseEstimator):
    """Global probabilistic forecaster for one or many series, with an S4 state-space backbone.

    Data: `fit`, `predict`, `update`, `cross_validation`, `evaluate` and `score` accept a long
    DataFrame (columns `id_col`, `time_col`, `target_col` and covariates), a wide DataFrame
    with a DatetimeIndex or integer index (one series per column) or a Series. Time is
    datetimes or integers. Each series keeps its own step (inferred, or `freq=`); missing
    steps and NaN targets are masked. Many series train one global model (channel-independent:
    a wide frame's columns are series that share the weights). Joint multivariate inputs:
    `cross_series=True` gives every series the values of all fitted series, in one fixed
    order, as past-only covariates; other cross-series inputs are covariates (`hist_exog` for
    values known up to the origin, `futr_exog` for known futures).

    Normalisation: every window is normalised by its own context (`norm="mean"`: mean and
    standard deviation, RevIN; `"last"`: last observed value and standard deviation;
    `"none"`), and every output (point, quantiles, Student-t) is mapped back. A forecast
    therefore follows the level of the latest context, not the training mean. `scaler`
    additionally standardises each series once by its whole training history.

    Sampling rate: the SSM is a continuous-time model, so one step of a series is a step size
    Δ in the model's time unit, one *training step* (`train_step_`: `freq=` when given, else
    the most common step of the training series, or their median gap when every series is
    irregular). A series at another frequency is forecast zero-shot with Δ rescaled by rate =
    its step / training step (or `predict(rate=)`), its forecasts at its own frequency.
    Coarser sampling can alias the model's fast modes: above 20% aliased energy `predict`
    warns with `RateWarning`, above 50% it raises ValueError, naming `max_rate(0.2)`. The
    linear path (`linear=True`) maps steps of the training rate; at another rate it is read
    in continuous time (context interpolated onto the trained grid, forecast back onto the
    series' steps), so it forecasts at most the trained horizon's span.

    Irregular timestamps (`time_grid="irregular"`, or "auto" when a series' gaps are not whole
    multiples of its smallest gap): step k gets Δ_k = the gap before it / training step, run
    by the diagonal SSM's per-step scan (mode="diag"); the linear path reads them over time
    like other rates. Forecast times are the series' rows in `X_future`.

    Forecast frames have the input's id and time columns, `{target_col}_pred` (the median)
    and one column per quantile named `{target_col}_q{level}`, e.g. `y_q0.1`.

    Parameters
    ----------
    horizon
        number of steps to forecast.
    context_length
        steps of history each forecast reads (default 4 * horizon).
    freq
        pandas offset alias or integer step for all series; None infers it per series.
    time_grid
        "regular" (missing steps become NaN; off-grid timestamps are an error),
        "irregular" (every series at its own timestamps) or "auto".
    futr_exog
        covariate columns known in advance (given for the horizon in `X_future`).
    hist_exog
        covariate columns known only up to the forecast origin.
    cross_series
        every series also reads the targets of all fitted series (regular series
        on a shared grid); `predict(df)` and `update` then need rows of every fitted series.
    calendar_features
        "auto" (default) adds, for datetime time, each of the time of day, day
        of week and day of year that varies between the series' steps and that the history
        covers twice (hourly data over a year: day and week; monthly over decades: year);
        True adds all three (datetime time only; warns when no series spans two years, as
        each day of the year is then seen once); False none. `featurizer_.calendar` says
        which were added.
    norm
        per-window normalisation of the context: "mean", "last" or "none".
    linear
        add a linear context -> horizon path, fixed at its least-squares fit (S4 learns
        the rest); "auto" (default) adds it unless the training series mix regular grids and
        irregular timestamps (one path reads steps of one rate, or time).
    train_linear
        also train the linear path with the network after its least-squares start
        (better on some long horizons, e.g. the Informer ETTh1 720-step cell).
    scaler
        per-series target scaling over the training history: "standard", "robust" or None
        (the network then reads raw values in float32: keep them within ±1e15 and varying by
        more than 1e-4, else fit refuses or warns).
    distribution
        "quantile" (pinball loss on `quantiles`), "student_t" (likelihood) or
        "point" (the mean alone, by squared error: for MSE-scored tasks; no quantile columns).
    quantiles
        levels reported as columns; the quantile head also always learns the median.
    calibrate_quantiles
        scale each quantile's distance from the median (quantile head; the median stays) to fit
        observed values, keeping half their skew: "recent" (default) at every forecast,
        from the values of the latest 8 windows before its origin that the network did not
        train on (`s4ts.forecasting.recalibration`; irregular series keep the trained
        widths); True once, from the validation windows; False: as trained.
    nonnegative
        raise forecasts, quantiles and samples below 0 to 0 (counts, sales, demand);
        "auto" (default) does so when no training target is negative.
    d_model, n_layers, d_state, mode, init, dropout, dt_min, dt_max, ssm_lr
        backbone settings
        (see `s4ts.nn.S4Backbone`); the backbone is always causal.
    learning_rate, weight_decay, batch_size, max_epochs, gradient_clip_val
        training settings.
    max_time
        training time limit in seconds (or a timedelta); None for no limit.
    warm_start
        False: each `fit` trains a new network. True: a `fit` on a fitted forecaster
        continues training its network on the new data (new optimizer and schedule),
        keeping the input encoder, head, linear path and time unit; the architecture
        arguments must be those it was fitted with. Each series is scaled anew and
        forecasts follow the new data, as after any fit.
    batches_per_epoch
        batches drawn at random per epoch (at most every window once), so
        training takes at most max_epochs * batches_per_epoch steps whatever the data's size
        (1,000 by default, NeuralForecast's max_steps); None uses every window each epoch.
    val_size
        steps at the end of each series held out for validation and early stopping;
        None (default) holds out 8 horizons, fewer where that is over 10% of the shortest
        series or over 256 windows in all, at least one (`val_size_`); 0 trains on
        everything without early stopping.
    early_stopping_patience
        epochs without validation improvement before stopping (None: never; docs/forecasting.md).
    accelerator
        Lightning accelerator ("auto", "cpu", "gpu", ...).
    devices, num_nodes, strategy
        Lightning's multi-process settings (default one process),
        e.g. devices=2, strategy="ddp_spawn"; sharded strategies are refused. Which ones
        leave the weights in the calling process: `s4ts._distributed`, docs/distributed.md.
    random_state
        seed for weights, window order, dropout and samples (int, RandomState or None).
    verbose
        show Lightning's progress bar and messages.

    Attributes
    ----------
    net_
        the trained `ForecastNet` (on the CPU, in eval mode).
    head_
        the output head (`QuantileHead`, `StudentTHead` or `PointHead`).
    featurizer_
        the input encoder, with the covariates' training statistics.
    series_
        per series id, what forecasting after it needs (scaling, rate, last context, and
        `trained_until`, the time of the last value the network trained on).
    train_step_
        the model's time unit (seconds for datetimes, units for integers).
    time_kind_
        "datetime" or "integer".
    rates_
        the rates (series step / training step) seen in training.
    context_length_
        steps of history each forecast reads.
    linear_
        whether the network has the linear path (`linear`, with "auto" decided).
    nonnegative_
        whether forecasts are floored at 0 (`nonnegative`, with "auto" decided).
    val_size_
        steps held out at the end of each series for validation (None decided).
    n_epochs_
        epochs trained (over the fits that warm starts continued too).
    best_val_loss_
        lowest validation loss (inf without validation), the weights before training included.
    best_epoch_
        the epoch of that loss; the kept weights are the mean of the 3 best epochs' (0: the
        start beat every epoch and is kept, as can happen from the linear path's least-squares
        start; None without validation).
    """

    def __init__(
        self,
        horizon: int = 24,
        context_length: int | None = None,
        *,
        freq: str | int | None = None,
        time_grid: str = "auto",
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str = "y",
        futr_exog: Sequence[str] = (),
        hist_exog: Sequence[str] = (),
        cross_series: bool = False,
        calendar_features: bool | str = "auto",
        norm: str = "mean",
        linear: bool | str = "auto",
        train_linear: bool = False,
        scaler: str | None = "standard",
        distribution: str = "quantile",
        quantiles: Sequence[float] = (0.1, 0.5, 0.9),
        calibrate_quantiles: bool | str = "recent",
        nonnegative: bool | str = "auto",
        d_model: int = 64,
        n_layers: int = 4,
        d_state: int = 64,
        mode: str = "diag",
        init: str = "legs",
        dropout: float = 0.1,
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
        ssm_lr: float = 1e-3,
        learning_rate: float = 3e-3,
        weight_decay: float = 0.01,
        batch_size: int = 32,
        max_epochs: int = 20,
        max_time: float | timedelta | None = None,
        warm_start: bool = False,
        batches_per_epoch: int | None = 50,
        val_size: int | None = None,
        early_stopping_patience: int | None = 3,
        gradient_clip_val: float | None = 1.0,
        accelerator: str = "auto",
        devices: int | str | list[int] = 1,
        num_nodes: int = 1,
        strategy: str | Any = "auto",
        random_state: int | np.random.RandomState | None = 0,
        verbose: bool = False,
    ) -> None:
        self.horizon = horizon
        self.context_length = context_length
        self.freq = freq
        self.time_grid = time_grid
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col
        self.futr_exog = futr_exog
        self.hist_exog = hist_exog
        self.cross_series = cross_series
        self.calendar_features = calendar_features
        self.norm = norm
        self.linear = linear
        self.train_linear = train_linear
        self.scaler = scaler
        self.distribution = distribution
        self.quantiles = quantiles
        self.calibrate_quantiles = calibrate_quantiles
        self.nonnegative = nonnegative
        self.d_model = d_model
        self.n_layers = n_layers
        self.d_state = d_state
        self.mode = mode
        self.init = init
        self.dropout = dropout
        self.dt_min = dt_min
        self.dt_max = dt_max
        self.ssm_lr = ssm_lr
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.max_time = max_time
        self.warm_start = warm_start
        self.batches_per_epoch = batches_per_epoch
        self.val_size = val_size
        self.early_stopping_patience = early_stopping_patience
        self.gradient_clip_val = gradient_clip_val
        self.accelerator = accelerator
        self.devices = devices
        self.num_nodes = num_nodes
        self.strategy = strategy
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ parameters and data

    def _check_params(self) -> None:
        """Validate constructor arguments (scikit-learn convention: at fit, not in __init__)."""
        check_params(self)

    @property
    def _covariates(self) -> list[str]:
        return [*self.futr_exog, *self.hist_exog]

    @property
    def _columns(self) -> dict[str, str]:
        return {"id_col": self.id_col, "time_col": self.time_col, "target_col": self.target_col}

    def _series(
        self, data: pd.DataFrame | pd.Series, name: str, kind: str | None = None
    ) -> list[SeriesData]:
        """Validated series of a user frame (see `reading.read_series`)."""
        return reading.read_series(self, data, name, kind)

    # ------------------------------------------------------------------ fit

    def fit(self, df: pd.DataFrame | pd.Series) -> S4Forecaster:
        """Train on the history in `df` and keep each series' last context for forecasting."""
        self._check_params()
        return self._fit_series(self._series(df, "df"))

    def _fit_series(self, series: list[SeriesData]) -> S4Forecaster:
        """Train on validated series (continuing the fitted network when `warm_start`) and
        keep the context at the end of each."""
        warm = self.warm_start and hasattr(self, "net_")
        if warm:
            reading.check_warm_start(self, series)
        horizon = self.horizon
        context_length = self.context_length or 4 * horizon
        val_size = reading.checked_val_size(self, series)
        kind = time_kind(series[0].times)
        train_step = self.train_step_ if warm else training_step(
            series, parse_freq(self.freq, kind) if self.freq is not None else None)
        rates = [series_rate(s, train_step) for s in series]
        scaling = [fit_scale(s.y, self.scaler) for s in series]
        featurizer = reading.fit_featurizer(self, series, scaling, self.featurizer_ if warm else None)
        targets = [((s.y - loc) / scale).astype(np.float32) for s, (loc, scale) in zip(series, scaling)]
        inputs = [featurizer.encode(y, s.covariates, s.times) for y, s in zip(targets, series)]
        # One rate per regular series (convolution path), per-step gaps for irregular ones.
        steps = [rate if rate is not None else series_dt(s, None, train_step) for s, rate in zip(series, rates)]
        head = self.head_ if warm else make_head(self.distribution, self.quantiles)
        linear = self.linear_ if warm else reading.auto_linear(self, series)
        net, result = training.fit_network(self, featurizer, head, inputs, targets, steps, context_length,
                                           val_size, linear, start=self.net_ if warm else None)
        self._network_params = network_params(self)
        self.val_size_ = val_size
        self.n_epochs_ = (self.n_epochs_ if warm else 0) + result.n_epochs
        self.best_val_loss_ = result.best_val_loss
        self.best_epoch_ = result.best_epoch
        self.train_step_ = train_step
        self.time_kind_ = kind
        self.context_length_ = context_length
        self.linear_ = linear
        self.nonnegative_ = reading.auto_nonnegative(self, series)
        self.featurizer_ = featurizer
        self.head_ = head
        self.net_ = net
        self.rates_ = sorted({*(self.rates_ if warm else ()), *(rate for rate in rates if rate is not None)})
        before = self.series_ if warm else {}
        self.series_ = {
            s.uid: SeriesState(s.freq, loc, scale, rate, self._context(s, rate), recent_tail(self, s, rate),
                               trained_until(s, val_size, before.get(s.uid)))
            for s, (loc, scale), rate in zip(series, scaling, rates)
        }
        return self

    # ------------------------------------------------------------------ states and forecasts

    def _context(self, s: SeriesData, rate: float | None) -> SeriesData:
        """The context a forecast after series `s` at `rate` reads (see `history_window`)."""
        return history_window(s, self.context_length_, rate, self.train_step_, self.rates_)

    def _futures(self, uids, states, X_future, horizon):
        """Forecast steps of each series: `horizon` steps at its frequency, or its X_future rows."""
        steps = horizon_steps_of(
            uids, states, horizon, self.horizon, self.rates_, self.time_kind_ == "datetime", self.linear_
        )
        futures = futures_from(X_future, uids, states, steps, self.futr_exog, self._columns)
        for uid, future in zip(uids, futures):
            reading.check_future_range(self, uid, future, self.featurizer_)
        return futures

    def _forecast(self, uids, states, futures, num_samples: int | None = None) -> pd.DataFrame:
        """Forecast frame at the given future steps of each state."""
        raw, shift, scale = run_forecasts(
            self.net_, self.featurizer_, states, futures, self.train_step_, self.rates_
        )
        return forecast_frame(
            uids, futures, self.head_, raw, shift, scale, columns=self._columns,
            quantiles=list(self._quantile_cols), num_samples=num_samples, random_state=self.random_state,
            floor=0.0 if self.nonnegative_ else None, widths=recent_widths(self, states, futures),
        )

    @property
    def _pred_col(self) -> str:
        return pred_col(self.target_col)

    @property
    def _quantile_cols(self) -> dict[float, str]:
        """Quantile level -> forecast column (none for distribution="point")."""
        return {} if self.distribution == "point" else quantile_cols(self.target_col, self.quantiles)

    # ------------------------------------------------------------------ predict and update

    def predict(
        self,
        df: pd.DataFrame | pd.Series | None = None,
        X_future: pd.DataFrame | None = None,
        num_samples: int | None = None,
        horizon: int | str | pd.Timedelta | None = None,
        rate: float | None = None,
    ) -> pd.DataFrame:
        """Forecast after the training data, or after the histories in `df`, at each series' frequency.

        `df` may hold series never seen in training, also at another frequency (zero-shot: Δ
        rescaled by rate = its step / the training step). `horizon`: steps of each series'
        frequency, or a time span such as '1D'; default `self.horizon` at a trained rate, else
        the same physical span. `rate`: Δ multiplier for the regular series in `df`,
        overriding the one from their step. Irregular series forecast at their timestamps in
        `X_future`, which also gives the futr_exog columns. With `num_samples`, returns
        sample paths (column "sample"; Student-t head; steps drawn independently).
        """
        check_is_fitted(self)
        check_rate_argument(rate)
        if df is None:
            if rate is not None:
                raise ValueError(
                    "rate= re-reads a history at another step size, so it needs df= (the history); "
                    "the stored contexts are at the series' own rates"
                )
            uids, states = list(self.series_), list(self.series_.values())
        else:
            series = self._series(df, "df", kind=self.time_kind_)
            uids = [s.uid for s in series]
            states = reading.series_states(self, series, "df", None if rate is None else float(rate))
        return self._forecast(uids, states, self._futures(uids, states, X_future, horizon), num_samples)

    def update(self, new_observations: pd.DataFrame | pd.Series) -> S4Forecaster:
        """Append observations after the end of known series; no retraining.

        Only the stored context of each series (its last `context_length_` steps) moves on,
        so `predict()` then forecasts after the new observations exactly as
        `predict(df=old + new)` would.
        """
        check_is_fitted(self)
        for uid, new in streaming.new_steps(self, new_observations).items():
            state = self.series_[uid]
            state.history = append_steps(
                state.history, new, self.context_length_, state.rate, self.train_step_, self.rates_
            )
            extend_recent(self, state, new)
        return self

    # ------------------------------------------------------------------ evaluation, plots, files

    def cross_validation(
        self, df: pd.DataFrame | pd.Series, n_windows: int = 1, step: int | None = None
    ) -> pd.DataFrame:
        """Rolling-origin backtest of a clone fitted up to the first cutoff; `self` is unchanged.

        Cutoffs are the last `n_windows` forecast origins of each series, `step` steps apart
        (default `horizon`), the last one `horizon` steps before the series' end. Returns the
        forecasts with columns id, time, "cutoff", the true target, prediction and quantiles.
        """
        return evaluation.cross_validation(self, df, n_windows, step)

    def historical_forecasts(
        self, df: pd.DataFrame | pd.Series, n_windows: int = 1, step: int | None = None
    ) -> pd.DataFrame:
        """Backtest of this fitted model, no training: forecasts from the last `n_windows`
        origins of each series in `df`, `step` steps apart, with cutoff and true target columns
        (as `cross_validation` returns)."""
        return evaluation.historical_forecasts(self, df, n_windows, step)

    def evaluate(self, df: pd.DataFrame | pd.Series, season: int = 1) -> dict[str, float]:
        """Metrics of forecasts of the last `horizon` steps of each series in `df` from what precedes them.

        Returns mae, mse, mase (scaled by the in-sample error of the seasonal-naive forecast
        with `season`), smape, and quantile_loss, crps and coverage of the outer quantile band.
        """
        return evaluation.evaluate(self, df, season)

    def score(self, df: pd.DataFrame | pd.Series, season: int = 1) -> float:
        """Negative MASE of `evaluate(df, season)`: one float, higher is better (scikit-learn)."""
        return -evaluation.evaluate(self, df, season)["mase"]

    def plot(self, forecasts: pd.DataFrame | None = None, df: pd.DataFrame | pd.Series | None = None, *,
             ids: Sequence[Hashable] | None = None, n_history: int | None = None, path=None):
        """Plot history, forecast and outer quantile band per series; save to `path` if given.

        `forecasts` defaults to `predict(df)`; the history shown is `df` (or the stored context
        of each series). Returns the matplotlib Figure.
        """
        return plotting.plot(self, forecasts, df, ids=ids, n_history=n_history, path=path)

    def save(self, path) -> None:
        """Save to directory `path`: config.json (settings, scaling, series) and model.pt (tensors)."""
        persistence.save(self, path)

    @classmethod
    def load(cls, path) -> S4Forecaster:
        """Load a model saved with `save`; reads JSON and tensors only (no code runs on load)."""
        return persistence.load(cls, path)


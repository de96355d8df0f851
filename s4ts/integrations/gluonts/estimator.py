"""S4Estimator: s4ts's forecasting network as a GluonTS PyTorch estimator.

GluonTS's pattern: the estimator owns configuration and data handling (transformation,
instance splitting, loaders, predictor), `S4LightningModule` owns loss and optimizer (s4ts's
`ForecastingModule`), and the network is s4ts's `ForecastNet`: no other copy of the model.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from gluonts.core.component import validated
from gluonts.dataset.common import Dataset
from gluonts.dataset.field_names import FieldName
from gluonts.dataset.loader import as_stacked_batches
from gluonts.itertools import Cyclic
from gluonts.model.forecast_generator import QuantileForecastGenerator
from gluonts.time_feature import time_features_from_frequency_str
from gluonts.torch.model.estimator import PyTorchLightningEstimator, TrainOutput
from gluonts.torch.model.predictor import PyTorchPredictor
from gluonts.transform import (
    AddObservedValuesIndicator,
    AddTimeFeatures,
    ExpectedNumInstanceSampler,
    InstanceSampler,
    InstanceSplitter,
    RenameFields,
    SelectFields,
    TestSplitSampler,
    Transformation,
    ValidationSplitSampler,
    VstackFeatures,
)

from s4ts.integrations.gluonts.features import CheckedEntries, feature_statistics
from s4ts.integrations.gluonts.module import S4LightningModule
from s4ts.nn.forecast_net import NORMS

__all__ = ["S4Estimator"]

DEFAULT_QUANTILES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


class S4Estimator(PyTorchLightningEstimator):
    """A GluonTS estimator training s4ts's S4 forecasting network (`ForecastNet`).

    `train(training_data, validation_data=None)` returns a `PyTorchPredictor` whose forecasts
    are `QuantileForecast`s at `quantiles`. The frequency comes from the dataset's `start`
    periods (or `freq=`); time features follow it (GluonTS's `time_features_from_frequency_str`).
    `feat_dynamic_real` holds future-known covariates (at prediction, `prediction_length` steps
    beyond the target), `past_feat_dynamic_real` past-only ones; both are standardised with
    statistics of the training data.

    Parameters
    ----------
    prediction_length
        steps to forecast.
    context_length
        steps of history each forecast reads (default 4 * prediction_length, as
        S4Forecaster).
    freq
        pandas Period alias; None reads it from the training data.
    num_feat_dynamic_real, num_past_feat_dynamic_real
        rows of those fields in every entry.
    quantiles
        levels forecast (0.5 is always added; default 0.1, ..., 0.9, the levels
        GluonTS's Evaluator scores).
    time_features
        add GluonTS's calendar features of the frequency.
    norm, linear, d_model, n_layers, d_state, mode, dropout
        as in S4Forecaster (`linear`: the
        least-squares context -> horizon path, fitted on training batches, then fixed).
    lr, weight_decay
        AdamW settings (S4's own parameters get a smaller rate, no decay).
    batch_size, num_batches_per_epoch
        training batches (GluonTS's meaning).
    trainer_kwargs
        `lightning.Trainer` arguments (default max_epochs=20, gradient_clip_val=1).
    train_sampler, validation_sampler
        GluonTS instance samplers of training windows.
    """

    @validated()
    def __init__(
        self,
        prediction_length: int,
        context_length: int | None = None,
        freq: str | None = None,
        num_feat_dynamic_real: int = 0,
        num_past_feat_dynamic_real: int = 0,
        quantiles: list | None = None,
        time_features: bool = True,
        norm: str = "mean",
        linear: bool = True,
        d_model: int = 64,
        n_layers: int = 4,
        d_state: int = 64,
        mode: str = "diag",
        dropout: float = 0.1,
        lr: float = 3e-3,
        weight_decay: float = 0.01,
        batch_size: int = 32,
        num_batches_per_epoch: int = 50,
        trainer_kwargs: dict[str, Any] | None = None,
        train_sampler: InstanceSampler | None = None,
        validation_sampler: InstanceSampler | None = None,
    ) -> None:
        trainer = {"max_epochs": 20, "gradient_clip_val": 1.0}
        trainer.update(trainer_kwargs or {})
        super().__init__(trainer_kwargs=trainer)
        for name, value in (("prediction_length", prediction_length), ("batch_size", batch_size),
                            ("num_batches_per_epoch", num_batches_per_epoch)):
            if value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer")
        if context_length is not None and context_length < 1:
            raise ValueError(f"context_length={context_length!r} must be None or a positive integer")
        if norm not in NORMS:
            raise ValueError(f"norm={norm!r} must be one of {NORMS}")
        if min(num_feat_dynamic_real, num_past_feat_dynamic_real) < 0:
            raise ValueError("num_feat_dynamic_real and num_past_feat_dynamic_real must be >= 0")
        levels = sorted({*(DEFAULT_QUANTILES if quantiles is None else quantiles), 0.5})
        if not all(0.0 < q < 1.0 for q in levels):
            raise ValueError(f"quantiles={quantiles!r} must be levels strictly between 0 and 1")
        self.prediction_length = prediction_length
        self.context_length = context_length or 4 * prediction_length
        self.freq = freq
        self.num_feat_dynamic_real = num_feat_dynamic_real
        self.num_past_feat_dynamic_real = num_past_feat_dynamic_real
        self.quantiles = levels
        self.time_features = time_features
        self.norm = norm
        self.linear = linear
        self.model = {"d_model": d_model, "n_layers": n_layers, "d_state": d_state, "mode": mode, "dropout": dropout}
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.num_batches_per_epoch = num_batches_per_epoch
        self.train_sampler = train_sampler or ExpectedNumInstanceSampler(
            num_instances=1.0, min_future=prediction_length
        )
        self.validation_sampler = validation_sampler or ValidationSplitSampler(min_future=prediction_length)
        # Learned from the training data by `train_model`: the frequency and covariate statistics.
        self._checks: CheckedEntries | None = None

    # ------------------------------------------------------------------ data

    def _learned(self) -> CheckedEntries:
        """The entry checks learned from the training data (frequency, covariate statistics)."""
        if self._checks is None:
            raise RuntimeError(
                "S4Estimator learns the frequency and covariate statistics from the training "
                "data: call train(training_data) (or train_model) first"
            )
        return self._checks

    def _time_features(self) -> list:
        return time_features_from_frequency_str(self._learned().freq) if self.time_features else []

    @property
    def _n_time_feat(self) -> int:
        return len(self._time_features()) + self.num_feat_dynamic_real

    def create_transformation(self) -> Transformation:
        """Checks and standardises each entry's features, marks observed targets, adds time
        features and stacks them with `feat_dynamic_real` into `time_feat`."""
        fields = [FieldName.ITEM_ID, FieldName.INFO, FieldName.START, FieldName.TARGET]
        if self.num_feat_dynamic_real:
            fields.append(FieldName.FEAT_DYNAMIC_REAL)
        if self.num_past_feat_dynamic_real:
            fields.append(FieldName.PAST_FEAT_DYNAMIC_REAL)
        steps = [SelectFields(fields, allow_missing=True), self._learned(),
                 AddObservedValuesIndicator(target_field=FieldName.TARGET, output_field=FieldName.OBSERVED_VALUES)]
        stacked = []
        if self._time_features():
            steps.append(AddTimeFeatures(
                start_field=FieldName.START, target_field=FieldName.TARGET, output_field=FieldName.FEAT_TIME,
                time_features=self._time_features(), pred_length=self.prediction_length,
            ))
            stacked.append(FieldName.FEAT_TIME)
        if self.num_feat_dynamic_real:
            stacked.append(FieldName.FEAT_DYNAMIC_REAL)
        if stacked:
            steps.append(VstackFeatures(output_field=FieldName.FEAT_TIME, input_fields=stacked))
        if self.num_past_feat_dynamic_real:
            # The splitter prefixes past_/future_; a field already called past_... is renamed.
            steps.append(RenameFields({FieldName.PAST_FEAT_DYNAMIC_REAL: "hist_feat"}))
        transformation = steps[0]
        for step in steps[1:]:
            transformation = transformation + step
        return transformation

    def _input_names(self, training: bool) -> list[str]:
        names = ["past_target", "past_observed_values", "past_is_pad"]
        if self._n_time_feat:
            names += ["past_time_feat", "future_time_feat"]
        if self.num_past_feat_dynamic_real:
            names.append("past_hist_feat")
        return names + (["future_target", "future_observed_values"] if training else [])

    def _splitter(self, mode: str) -> InstanceSplitter:
        sampler = {"training": self.train_sampler, "validation": self.validation_sampler,
                   "test": TestSplitSampler()}[mode]
        series = [FieldName.OBSERVED_VALUES]
        if self._n_time_feat:
            series.append(FieldName.FEAT_TIME)
        if self.num_past_feat_dynamic_real:
            series.append("hist_feat")
        return InstanceSplitter(
            target_field=FieldName.TARGET, is_pad_field=FieldName.IS_PAD, start_field=FieldName.START,
            forecast_start_field=FieldName.FORECAST_START, instance_sampler=sampler,
            past_length=self.context_length, future_length=self.prediction_length,
            time_series_fields=series,
        )

    def create_training_data_loader(self, data: Dataset, module: S4LightningModule,
                                    shuffle_buffer_length: int | None = None, **kwargs) -> Iterable:
        instances = self._splitter("training").apply(Cyclic(data).stream(), is_train=True)
        return as_stacked_batches(
            instances, batch_size=self.batch_size, shuffle_buffer_length=shuffle_buffer_length,
            field_names=self._input_names(training=True), output_type=torch.tensor,
            num_batches_per_epoch=self.num_batches_per_epoch,
        )

    def create_validation_data_loader(self, data: Dataset, module: S4LightningModule, **kwargs) -> Iterable:
        instances = self._splitter("validation").apply(data, is_train=True)
        return as_stacked_batches(
            instances, batch_size=self.batch_size, field_names=self._input_names(training=True),
            output_type=torch.tensor,
        )

    # ------------------------------------------------------------------ model

    def create_lightning_module(self) -> S4LightningModule:
        model_kwargs = {
            "n_inputs": 2 + self._n_time_feat + self.num_past_feat_dynamic_real,
            "context_length": self.context_length, "horizon": self.prediction_length,
            "norm": self.norm, "linear": self.linear, **self.model,
        }
        return S4LightningModule(model_kwargs=model_kwargs, quantiles=self.quantiles, lr=self.lr,
                                 weight_decay=self.weight_decay)

    def create_predictor(self, transformation: Transformation, module: S4LightningModule) -> PyTorchPredictor:
        return PyTorchPredictor(
            input_transform=transformation + self._splitter("test"),
            input_names=self._input_names(training=False),
            prediction_net=module,
            forecast_generator=QuantileForecastGenerator(quantiles=[str(q) for q in self.quantiles]),
            batch_size=self.batch_size,
            prediction_length=self.prediction_length,
            device="auto",
        )

    def train_model(self, training_data: Dataset, validation_data: Dataset | None = None, **kwargs) -> TrainOutput:
        """Learn the frequency and covariate statistics from `training_data`, then train as
        every GluonTS PyTorch estimator does (best checkpoint by validation or training loss)."""
        freq, loc, scale = feature_statistics(
            training_data, self.freq, self.num_feat_dynamic_real, self.num_past_feat_dynamic_real,
        )
        self._checks = CheckedEntries(
            freq=freq, prediction_length=self.prediction_length,
            num_feat_dynamic_real=self.num_feat_dynamic_real,
            num_past_feat_dynamic_real=self.num_past_feat_dynamic_real,
            feature_loc=loc, feature_scale=scale,
        )
        return super().train_model(training_data, validation_data, **kwargs)

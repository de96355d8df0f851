"""GluonTS interop (the `gluonts` extra: pip install 's4ts[gluonts]').

- `S4Estimator`: a GluonTS `PyTorchLightningEstimator` whose network is s4ts's `ForecastNet`
  trained by s4ts's `ForecastingModule`; `train(dataset)` returns a `PyTorchPredictor` of
  quantile forecasts that GluonTS's `Evaluator` and `make_evaluation_predictions` accept.
- `to_gluonts` / `from_gluonts`: S4Forecaster's long frames <-> GluonTS datasets.

Importing s4ts works without gluonts; importing this package without it raises an
ImportError that names the extra.
"""

import importlib

try:
    importlib.import_module("gluonts.torch")
except ModuleNotFoundError as err:
    raise ImportError(
        "s4ts.integrations.gluonts needs gluonts with its torch part, which is not installed: "
        "pip install 's4ts[gluonts]' (install torch==2.13.0 first so no other torch build is pulled)"
    ) from err

from s4ts.integrations.gluonts.convert import from_gluonts, to_gluonts
from s4ts.integrations.gluonts.estimator import S4Estimator
from s4ts.integrations.gluonts.module import S4LightningModule

__all__ = ["S4Estimator", "S4LightningModule", "from_gluonts", "to_gluonts"]

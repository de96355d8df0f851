"""Torch modules built on s4ts.ssm; usable without Lightning."""

from s4ts.nn.backbone import S4Backbone, ssm_param_groups
from s4ts.nn.block import S4Block
from s4ts.nn.classifier import S4ClassifierNet
from s4ts.nn.forecast_net import ForecastNet
from s4ts.nn.frontend import S4Filterbank
from s4ts.nn.layer import S4Layer
from s4ts.nn.pooling import masked_pool, pool_steps

__all__ = [
    "ForecastNet", "S4Backbone", "S4Block", "S4ClassifierNet", "S4Filterbank", "S4Layer", "masked_pool",
    "pool_steps", "ssm_param_groups",
]

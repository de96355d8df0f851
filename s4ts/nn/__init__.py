"""Torch modules built on s4ts.ssm; usable without Lightning."""

from s4ts.nn.backbone import S4Backbone, ssm_param_groups
from s4ts.nn.block import S4Block
from s4ts.nn.classifier import S4ClassifierNet, masked_pool
from s4ts.nn.layer import S4Layer

__all__ = ["S4Backbone", "S4Block", "S4ClassifierNet", "S4Layer", "masked_pool", "ssm_param_groups"]

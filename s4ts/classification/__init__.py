"""Sequence classification with S4: the S4Classifier estimator and its torch/Lightning modules."""

from s4ts.classification.estimator import S4Classifier
from s4ts.classification.lightning_module import S4ClassifierModule
from s4ts.nn.classifier import S4ClassifierNet

__all__ = ["S4Classifier", "S4ClassifierModule", "S4ClassifierNet"]

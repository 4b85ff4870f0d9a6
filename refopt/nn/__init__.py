"""Manual-gradient networks: layers, activations, losses, initialisers and the MLP (§8)."""

from refopt.nn import activations, batchnorm, losses
from refopt.nn.activations import Activation, gelu, identity, leaky_relu, relu, sigmoid, softplus, tanh
from refopt.nn.batchnorm import (
    RunningStats,
    batchnorm_backward,
    batchnorm_eval,
    batchnorm_forward,
    init_running,
    update_running,
)
from refopt.nn.init import init_weight
from refopt.nn.layers import dense_backward, dense_forward, dense_per_example_sq_norms
from refopt.nn.losses import binary_logistic, mse, softmax_cross_entropy
from refopt.nn.mlp import MLP

__all__ = ["MLP", "Activation", "RunningStats", "activations", "batchnorm", "batchnorm_backward",
           "batchnorm_eval", "batchnorm_forward", "init_running", "update_running", "binary_logistic",
           "dense_backward", "dense_forward", "dense_per_example_sq_norms", "gelu", "identity", "init_weight",
           "leaky_relu", "losses", "mse", "relu", "sigmoid", "softmax_cross_entropy", "softplus",
           "tanh"]

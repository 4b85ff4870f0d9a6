"""Classic update rules, one module each (:ref:`spec-classic`)."""

from refopt.optim.adadelta import adadelta
from refopt.optim.adagrad import adagrad
from refopt.optim.adam import adam, adamw
from refopt.optim.adamax import adamax
from refopt.optim.amsgrad import amsgrad
from refopt.optim.momentum import momentum
from refopt.optim.nadam import nadam
from refopt.optim.nag import nag
from refopt.optim.noise import add_gradient_noise
from refopt.optim.projection import project_box
from refopt.optim.rmsprop import rmsprop
from refopt.optim.sgd import sgd

__all__ = ["adadelta", "adagrad", "adam", "adamw", "adamax", "amsgrad", "momentum", "nadam",
           "nag", "add_gradient_noise", "project_box", "rmsprop", "sgd"]

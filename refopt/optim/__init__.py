"""Classic update rules, one module each (ALGORITHMS.md §1)."""

from refopt.optim.adadelta import adadelta
from refopt.optim.adafactor import adafactor
from refopt.optim.adagrad import adagrad
from refopt.optim.adam import adam, adamw
from refopt.optim.adamax import adamax
from refopt.optim.amsgrad import amsgrad
from refopt.optim.fromage import fromage
from refopt.optim.lamb import lamb
from refopt.optim.lars import lars
from refopt.optim.momentum import momentum
from refopt.optim.muon import muon
from refopt.optim.nadam import nadam
from refopt.optim.nag import nag
from refopt.optim.nag_reparameterised import nag_reparameterised
from refopt.optim.noise import add_gradient_noise
from refopt.optim.projection import project_box
from refopt.optim.rmsprop import rmsprop
from refopt.optim.sgd import sgd
from refopt.optim.sm3 import sm3

__all__ = ["adadelta", "adafactor", "adagrad", "adam", "adamw", "adamax", "amsgrad", "fromage", "lamb",
           "lars", "momentum", "muon", "nadam", "nag", "nag_reparameterised", "add_gradient_noise",
           "project_box", "rmsprop", "sgd", "sm3"]

"""Classic update rules, one module each (:ref:`spec-classic`)."""

from refopt.optim.adabelief import adabelief
from refopt.optim.adadelta import adadelta
from refopt.optim.adafactor import adafactor
from refopt.optim.adagrad import adagrad
from refopt.optim.adam import adam, adamw
from refopt.optim.adamax import adamax, adamaxw
from refopt.optim.adan import adan
from refopt.optim.ademamix import ademamix, alpha_warmup, beta3_warmup
from refopt.optim.amsgrad import amsgrad
from refopt.optim.asgd import asgd, asgd_average
from refopt.optim.averaging import average_params
from refopt.optim.centralize import centralize
from refopt.optim.clipping import adaptive_grad_clip, clip_by_global_norm, clip_by_value
from refopt.optim.dadapt import dadapt_adamw
from refopt.optim.fromage import fromage
from refopt.optim.ftrl import ftrl
from refopt.optim.lamb import lamb
from refopt.optim.lars import lars
from refopt.optim.lbfgs import lbfgs
from refopt.optim.lion import lion
from refopt.optim.lookahead import lookahead
from refopt.optim.masking import masked_weight_decay
from refopt.optim.momentum import momentum
from refopt.optim.muon import muon
from refopt.optim.nadam import nadam, nadamw
from refopt.optim.nag import nag
from refopt.optim.nag_reparameterised import nag_reparameterised
from refopt.optim.noise import add_gradient_noise
from refopt.optim.novograd import novograd
from refopt.optim.optimistic import optimistic_gd
from refopt.optim.optimistic_adam import optimistic_adam
from refopt.optim.polyak import polyak_sgd
from refopt.optim.prodigy import prodigy
from refopt.optim.projection import project_box
from refopt.optim.radam import radam
from refopt.optim.rmsprop import rmsprop
from refopt.optim.rprop import rprop
from refopt.optim.sam import sam
from refopt.optim.schedule_free import schedule_free, schedule_free_adamw, schedule_free_sgd
from refopt.optim.sgd import sgd
from refopt.optim.signum import sign_sgd, signum
from refopt.optim.sm3 import sm3
from refopt.optim.wolfe import lbfgs_wolfe
from refopt.optim.yogi import yogi

__all__ = ["adabelief", "adadelta", "adafactor", "adagrad", "adam", "adamw", "adamax", "adamaxw", "amsgrad",
           "fromage", "lamb", "lars", "lion", "momentum", "muon", "nadam", "nadamw", "nag",
           "nag_reparameterised",
           "add_gradient_noise", "project_box", "radam", "rmsprop", "sgd", "sign_sgd", "signum", "sm3",
           "yogi",
           "rprop", "ademamix", "alpha_warmup", "beta3_warmup",
           "optimistic_adam", "optimistic_gd", "asgd", "asgd_average", "adan",
           "novograd", "ftrl", "polyak_sgd",
           "adaptive_grad_clip", "average_params", "centralize", "clip_by_global_norm",
           "clip_by_value", "lookahead", "masked_weight_decay", "schedule_free", "schedule_free_adamw",
           "schedule_free_sgd", "sam", "lbfgs", "lbfgs_wolfe", "prodigy", "dadapt_adamw"]

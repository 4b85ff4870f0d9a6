"""refopt — reference implementations of gradient-based optimizers.

Every rule is a pure pair ``state = opt.init(params)``,
``params, state = opt.update(grads, state, params)`` over pytrees of arrays of any array-API
namespace (NumPy, CuPy, array-api-strict). See ``refopt.registry`` for the list of rules.

>>> import numpy as np, refopt
>>> opt = refopt.adam(lr=0.1)
>>> params = {"w": np.array([1.0, -2.0])}
>>> state = opt.init(params)
>>> params, state = opt.update({"w": np.array([0.5, -0.5])}, state, params)
>>> print(params["w"])
[ 0.9 -1.9]
"""

from refopt import nn, ode, problems, research, testing
from refopt.base import (
                         Optimizer,
                         constant,
                         cosine_decay,
                         exponential_decay,
                         inverse_time_decay,
                         step_decay,
                         warmup,
)
from refopt.execution_mode import execution, get_donation, get_execution, release_buffers, set_execution
from refopt.optim import (
                         adabelief,
                         adadelta,
                         adafactor,
                         adagrad,
                         adam,
                         adamax,
                         adamaxw,
                         adamw,
                         adan,
                         adaptive_grad_clip,
                         add_gradient_noise,
                         ademamix,
                         amsgrad,
                         asgd,
                         asgd_average,
                         average_params,
                         centralize,
                         clip_by_global_norm,
                         clip_by_value,
                         dadapt_adamw,
                         fromage,
                         ftrl,
                         lamb,
                         lars,
                         lbfgs,
                         lbfgs_wolfe,
                         lion,
                         lookahead,
                         masked_weight_decay,
                         momentum,
                         muon,
                         nadam,
                         nadamw,
                         nag,
                         nag_reparameterised,
                         novograd,
                         optimistic_adam,
                         optimistic_gd,
                         polyak_sgd,
                         prodigy,
                         project_box,
                         radam,
                         rmsprop,
                         rprop,
                         sam,
                         schedule_free,
                         schedule_free_adamw,
                         schedule_free_sgd,
                         sgd,
                         sign_sgd,
                         signum,
                         sm3,
                         yogi,
)
from refopt.research import agd, bigbatch, rsgd, run_bigbatch
from refopt.state_io import checkpoint_info, load_state, save_state

__version__ = "0.1.0"

__all__ = [
    "Optimizer", "adabelief", "adadelta", "adafactor", "adagrad", "adam", "adamax", "adamaxw", "adamw",
    "add_gradient_noise", "amsgrad", "checkpoint_info", "constant", "cosine_decay", "exponential_decay",
    "fromage", "inverse_time_decay", "lamb", "lars", "lion", "load_state", "momentum", "muon", "nadam",
    "nadamw", "nag", "nag_reparameterised", "project_box", "radam", "rmsprop", "save_state", "sgd",
    "sign_sgd", "signum", "sm3", "step_decay", "yogi", "warmup", "nn", "ode", "problems", "research",
    "testing", "agd", "bigbatch", "rsgd", "run_bigbatch",
    "rprop", "ademamix", "optimistic_adam", "optimistic_gd",
    "asgd", "asgd_average", "adan", "novograd", "ftrl", "polyak_sgd",
    "adaptive_grad_clip", "average_params", "centralize", "clip_by_global_norm", "clip_by_value",
    "lookahead", "masked_weight_decay", "schedule_free", "schedule_free_adamw", "schedule_free_sgd",
    "sam", "lbfgs", "lbfgs_wolfe", "prodigy", "dadapt_adamw",
    "execution", "get_donation", "get_execution", "release_buffers", "set_execution",
]

"""Optimizers as ODE integrators of the gradient flow, and their numerical analysis (§3)."""

from refopt.ode import modified, multistep, tableau
from refopt.ode.multistep import Multistep
from refopt.ode.rules import linear_multistep, runge_kutta
from refopt.ode.tableau import ButcherTableau

__all__ = ["ButcherTableau", "Multistep", "linear_multistep", "modified", "multistep",
           "runge_kutta", "tableau"]

"""Objectives with exact gradients (and Hessians, minimisers, flows where known) and data sets."""

from refopt.problems.base import FiniteSum, Objective, epoch_batches
from refopt.problems.classic import Beale, CosineMixture, MatrixFactorisation, Rosenbrock, StrictSaddle
from refopt.problems.classification import LogisticRegression, SoftmaxRegression
from refopt.problems.datasets import digits, spirals, teacher_student, train_test_split, two_moons
from refopt.problems.network import MLPObjective
from refopt.problems.quadratic import IndefiniteQuadratic, LeastSquares, Quadratic

__all__ = ["Beale", "CosineMixture", "FiniteSum", "IndefiniteQuadratic", "LeastSquares", "LogisticRegression",
           "MLPObjective",
           "MatrixFactorisation", "Objective", "Quadratic", "Rosenbrock", "SoftmaxRegression",
           "StrictSaddle", "digits", "epoch_batches", "spirals", "teacher_student",
           "train_test_split", "two_moons"]

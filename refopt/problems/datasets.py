"""Data sets that need no network: generated ones, and scikit-learn's bundled digits.

Every generator is seeded and returns NumPy float64 features and integer labels (or float
targets for regression).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np


class Split(NamedTuple):
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def train_test_split(X: np.ndarray, y: np.ndarray, *, test_fraction: float = 0.2,
                     seed: int = 0) -> Split:
    """A seeded random split (the test set is the first ⌈test_fraction·N⌉ of a permutation)."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    order = np.random.default_rng(seed).permutation(X.shape[0])
    n_test = int(np.ceil(test_fraction * X.shape[0]))
    test, train = order[:n_test], order[n_test:]
    return Split(X[train], y[train], X[test], y[test])


def teacher_student(n: int, d: int = 20, hidden: int = 10, *,
                    task: Literal["classification", "regression"] = "classification",
                    noise: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray, dict]:
    """Inputs x ~ N(0, I_d) labelled by a random teacher network d → hidden → 1 (tanh hidden).

    ``task="classification"``: y = 1[teacher(x) + noise·ξ > 0] (binary labels, int);
    ``"regression"``: y = teacher(x) + noise·ξ. Returns (X, y, teacher_params). This follows
    the R-SGD paper's use of a synthetic teacher-generated data set; the paper's exact
    architecture was not readable here (seed 000), so sizes are arguments — as reconstructed.
    """
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    rng = np.random.default_rng(seed)
    W1 = rng.standard_normal((d, hidden)) / np.sqrt(d)
    w2 = rng.standard_normal(hidden) / np.sqrt(hidden)
    X = rng.standard_normal((n, d))
    out = np.tanh(X @ W1) @ w2 + noise * rng.standard_normal(n)
    teacher = {"W1": W1, "w2": w2}
    if task == "regression":
        return X, out, teacher
    return X, (out > 0).astype(np.int64), teacher


def two_moons(n: int, *, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles (class 0: upper, class 1: lower, shifted), Gaussian noise."""
    rng = np.random.default_rng(seed)
    n0 = n // 2
    t0, t1 = rng.uniform(0, np.pi, n0), rng.uniform(0, np.pi, n - n0)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(n0, np.int64), np.ones(n - n0, np.int64)])
    perm = rng.permutation(n)
    return X[perm], y[perm]


def spirals(n: int, *, classes: int = 2, turns: float = 1.5, noise: float = 0.05,
            seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved Archimedean spirals in the plane."""
    rng = np.random.default_rng(seed)
    per = [n // classes + (1 if c < n % classes else 0) for c in range(classes)]
    Xs, ys = [], []
    for c, m in enumerate(per):
        r = np.linspace(0.1, 1.0, m)
        theta = 2 * np.pi * turns * r + 2 * np.pi * c / classes
        Xs.append(np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1))
        ys.append(np.full(m, c, np.int64))
    X = np.concatenate(Xs) + noise * rng.standard_normal((n, 2))
    y = np.concatenate(ys)
    perm = rng.permutation(n)
    return X[perm], y[perm]


def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8×8 digits (1797 images, 10 classes), pixels scaled to [0, 1].

    Raises ImportError with a clear message when scikit-learn is not installed.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("digits() needs scikit-learn (pip install scikit-learn)") from err
    data = load_digits()
    return data.data.astype(np.float64) / 16.0, data.target.astype(np.int64)

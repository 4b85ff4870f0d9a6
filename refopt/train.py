"""A small training loop over a finite-sum objective, with history, early stopping and curriculum.

Deterministic: batches come from :func:`refopt.problems.epoch_batches` (or a curriculum order),
both reproducible from the seed, so the same call gives the same run bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np

from refopt import base, treemath
from refopt.problems.base import FiniteSum, epoch_batches


@dataclass(frozen=True)
class EarlyStopping:
    """Stop when the monitored metric has not improved by more than ``min_delta`` for
    ``patience`` consecutive epochs; optionally return the parameters of the best epoch.

    ``monitor`` names a history key (``"loss"``, or a key returned by ``validate``, such as
    ``"val_loss"``); lower is better.
    """

    patience: int = 5
    min_delta: float = 0.0
    restore_best: bool = True
    monitor: str = "loss"

    def __post_init__(self):
        base.check_int("patience", self.patience, low=1)
        base.check_real("min_delta", self.min_delta, low=0.0)  # NaN would never "improve"
        base.check_bool("restore_best", self.restore_best)
        if not isinstance(self.monitor, str):
            raise TypeError(f"monitor must be a history key (a str), got {self.monitor!r}")


class TrainResult(NamedTuple):
    params: Any
    state: Any
    history: dict          # lists per key, one entry per completed epoch (epoch 0 = start)
    stopped_epoch: int     # last epoch run
    best_epoch: int        # epoch whose parameters were returned (if restore_best) or the last


def curriculum_order(difficulty: Any, *, seed: int, epoch: int, mix: float = 0.0) -> np.ndarray:
    """Easy-to-hard order of examples, optionally mixed with randomness (:ref:`spec-training`).

    Examples are sorted by ``difficulty`` (ascending; ties by index, so the order is total).
    Then ⌊mix·N⌋ positions, chosen at random from PCG64 seeded with [seed, epoch], have their
    examples shuffled among themselves: ``mix=0`` is the pure curriculum, ``mix=1`` a uniformly
    random permutation.
    """
    difficulty = np.asarray(difficulty, dtype=np.float64)
    if difficulty.ndim != 1 or not np.all(np.isfinite(difficulty)):
        raise ValueError("difficulty must be a finite 1-D array with one score per example")
    if not 0.0 <= mix <= 1.0:
        raise ValueError(f"mix must be in [0, 1], got {mix!r}")
    order = np.argsort(difficulty, kind="stable")
    k = int(np.floor(mix * order.size))
    if k > 1:
        rng = np.random.default_rng([seed, epoch])
        positions = rng.choice(order.size, k, replace=False)
        order[positions] = order[rng.permutation(positions)]
    return order




def train(objective: FiniteSum, opt: base.Optimizer, params: Any, *, epochs: int, batch_size: int,
          seed: int = 0, replacement: bool = False,
          oracle_batch: Literal["same", "fresh"] = "same",
          validate: Callable[[Any], dict] | None = None,
          early_stopping: EarlyStopping | None = None, curriculum: Any = None,
          curriculum_mix: float = 0.0, progress: bool = False) -> TrainResult:
    """Run ``epochs`` passes of mini-batch training and record a history.

    After every epoch (and once before the first) the history records the full objective
    ``loss``, the full-gradient norm ``grad_norm``, ``accuracy`` when the objective has one, and
    whatever ``validate(params)`` returns (e.g. ``{"val_loss": ..., "val_accuracy": ...}``).

    A rule that declares ``"grad_fn"`` in its ``extra_args`` (look-ahead NAG, multi-stage
    Runge–Kutta) evaluates gradients itself: it is called as
    ``update(None, state, params, grad_fn=oracle)``; every other rule gets the mini-batch
    gradient as ``grads``, and a rule that declares ``"value"`` (Polyak's step size) also the
    mini-batch loss at the same parameters as ``value=``.

    Args:
      oracle_batch: what ``grad_fn`` evaluates: ``"same"`` — the current mini-batch (all stage
        gradients of one step share it), or ``"fresh"`` — a new batch of the same size per call,
        drawn from PCG64 seeded with [seed, epoch, step, call].
      curriculum: per-example difficulty scores; batches then follow
        :func:`curriculum_order` instead of a shuffle.
      progress: show a tqdm bar when tqdm is installed.
    """
    base.check_int("epochs", epochs, low=0)
    base.check_int("batch_size", batch_size, low=1)
    base.check_int("seed", seed, low=0)
    if oracle_batch not in ("same", "fresh"):
        raise ValueError(f"oracle_batch must be one of ['same', 'fresh'], got {oracle_batch!r}")
    if curriculum is not None and np.asarray(curriculum).shape != (objective.n_examples,):
        raise ValueError(f"curriculum must have one score per example ({objective.n_examples})")
    if "objective" in opt.extra_args:
        raise ValueError("opt needs an objective to sample from (extra_args contains "
                         "'objective'); train feeds mini-batches — use refopt.run_bigbatch")
    lookahead = "grad_fn" in opt.extra_args
    state = opt.init(params)
    history: dict[str, list] = {"epoch": [], "loss": [], "grad_norm": [], "steps": []}
    steps = 0

    def record(epoch: int, p: Any) -> None:
        value, grad = objective.value_and_grad(p)
        history["epoch"].append(epoch)
        history["loss"].append(float(value))
        history["grad_norm"].append(treemath.norm(grad))
        history["steps"].append(steps)
        if hasattr(objective, "accuracy"):
            history.setdefault("accuracy", []).append(objective.accuracy(p))
        for key, val in (validate(p) if validate else {}).items():
            history.setdefault(key, []).append(float(val))

    record(0, params)
    best, best_epoch, since_best = None, 0, 0
    best_params = params
    if early_stopping is not None:
        if early_stopping.monitor not in history:
            raise ValueError(f"EarlyStopping monitors {early_stopping.monitor!r}, which the history "
                             f"does not record; recorded keys: {sorted(history)}"
                             + ("" if validate else " (pass validate= for validation metrics)"))
        best = history[early_stopping.monitor][-1]
    bar = _progress(epochs) if progress else None
    epoch = 0
    for epoch in range(1, epochs + 1):
        if curriculum is not None:
            order = curriculum_order(curriculum, seed=seed, epoch=epoch, mix=curriculum_mix)
            batches = [order[i:i + batch_size] for i in range(0, order.size, batch_size)]
        else:
            batches = epoch_batches(objective.n_examples, batch_size, seed=seed, epoch=epoch,
                                    replacement=replacement)
        for idx in batches:
            if lookahead:
                params, state = opt.update(None, state, params,
                                           grad_fn=_oracle(objective, idx, oracle_batch,
                                                           (seed, epoch, steps)))
            elif "value" in opt.extra_args:
                value, grad = objective.batch_value_and_grad(params, idx)
                params, state = opt.update(grad, state, params, value=value)
            else:
                params, state = opt.update(objective.batch_grad(params, idx), state, params)
            steps += 1
        record(epoch, params)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{history['loss'][-1]:.4g}")
        if early_stopping is not None:
            current = history[early_stopping.monitor][-1]
            if current < best - early_stopping.min_delta:
                best, best_epoch, since_best, best_params = current, epoch, 0, params
            else:
                since_best += 1
                if since_best >= early_stopping.patience:
                    break
    if bar is not None:
        bar.close()
    if early_stopping is not None and early_stopping.restore_best:
        return TrainResult(best_params, state, history, epoch, best_epoch)
    return TrainResult(params, state, history, epoch, epoch)


def _oracle(objective: FiniteSum, idx: np.ndarray, mode: str, key: tuple) -> Callable:
    """The gradient oracle of one step: on ``idx``, or on a fresh batch per call."""
    if mode == "same":
        return lambda p: objective.batch_grad(p, idx)
    calls = [0]

    def fresh(p):
        rng = np.random.default_rng([*key, calls[0]])
        calls[0] += 1
        return objective.batch_grad(p, rng.integers(0, objective.n_examples, len(idx)))
    return fresh


def _progress(total: int):
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="epoch")

r"""Big Batch SGD: adaptive batch sizes from a norm test (:ref:`spec-bigbatch`; seed 003).

Structure [S] (De, Yadav, Jacobs, Goldstein, AISTATS 2017, and ensmallen's BigBatchSGD);
constants [R] — every one is an argument. One iteration, on a finite-sum objective
ℓ(x) = (1/N) Σ_n f_n(x):

1. draw a fresh batch B of the current size K (without replacement, PCG64 seeded [seed, t]);
2. **norm test**: V_B/\|B\| · φ ≤ θ² ‖ḡ_B‖², V_B = (1/(\|B\|−1)) Σ_{j∈B} ‖g_j − ḡ_B‖² (exact,
   unbiased), φ = (N−\|B\|)/(N−1) if ``finite_population`` else 1;
3. while it fails and \|B\| < N: add max(1, ⌊δ_b\|B\|⌋) fresh examples (from the same permutation),
   reusing the gradients already computed, and test again; K never shrinks;
4. step x ← x − α ḡ_B with α from the step rule ("fixed", "armijo", "bb").

Gradient evaluations per iteration (``state.examples`` counts them): \|B\| per-example gradients
for the norm test (the growth reuses those already computed), plus, for "bb", \|B\| more for
∇ℓ_B(x_{t−1}) on the same batch — a BB iteration costs two batch gradients. The line searches
("armijo", and "bb" as a safeguard) halve α (backtracking factor 1/2) and cost \|B\| loss
evaluations per trial (``state.loss_examples``).
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Literal, NamedTuple, get_args

import numpy as np

from refopt import _xp, base, treemath
from refopt import tree as _tree
from refopt.research.objective_checks import CheckedFiniteSum

StepRule = Literal["fixed", "armijo", "bb"]
Variance = Literal["two_pass", "norms"]
STEP_RULES: tuple[str, ...] = get_args(StepRule)
VARIANCES: tuple[str, ...] = get_args(Variance)


@base.register_state
class BigBatchState(NamedTuple):
    """State of :func:`bigbatch`, including the diagnostics of the last iteration."""

    t: int                 # iterations done
    batch_size: int        # K: the size the next iteration starts from (never shrinks)
    lr: float              # α carried to the next iteration
    prev_params: Any       # x_{t−1} (zeros before the first iteration; used by "bb")
    examples: int          # per-example gradient evaluations so far
    loss_examples: int     # per-example loss evaluations so far (armijo, bb)
    grew: bool             # did the last iteration grow the batch?
    passed: bool           # did its final batch pass the norm test (False if stopped at N)?
    grad_sq: float         # ‖ḡ_B‖² of the last iteration
    variance: float        # V_B of the last iteration
    batch_loss: float      # ℓ_B(x) before the last step (nan when not evaluated)


def norm_test_statistics(per_example_grads: Any) -> tuple[Any, float, float]:
    """(ḡ, V, ‖ḡ‖²) from stacked per-example gradients (leading axis = examples).

    V = (1/(K−1)) Σ_j ‖g_j − ḡ‖² by two passes (mean first, then squared deviations), which
    has no cancellation; V = inf for K = 1 (no variance estimate from one example).
    """
    leaves, treedef = _tree.flatten(per_example_grads)
    k = leaves[0].shape[0]
    means, dev = [], 0.0
    for leaf in leaves:
        xp = _xp.namespace(leaf)
        mean = xp.mean(leaf, axis=0)
        means.append(mean)
        diff = leaf - mean[None, ...]
        dev += float(xp.sum(diff * diff))
    gbar = _tree.unflatten(treedef, means)
    variance = dev / (k - 1) if k > 1 else math.inf
    return gbar, variance, treemath.sum_sq(gbar)


@base.rule_factory("bigbatch", BigBatchState)
def bigbatch(lr: float = 0.1, *, theta: float = 1.0, batch_size: int = 8, growth: float = 0.1,
             step_rule: StepRule = "fixed", armijo_c: float = 0.1,
             armijo_atol: float | None = None, finite_population: bool = False,
             variance: Variance = "two_pass", seed: int = 0) -> base.Optimizer:
    r"""Big Batch SGD as a pure step: ``update(None, state, params, objective=finite_sum)``.

    Args:
      lr: α_0 (for "fixed" the constant step; theory: α = 1/(L(1+θ²))).
      theta: θ > 0 of the norm test (ensmallen effectively uses θ = 1); ``math.inf`` never grows
        the batch (fixed-batch SGD).
      batch_size: K_0 ≥ 1. growth: δ_b > 0 (default 0.1).
      step_rule: "fixed"; "armijo" — double α if the batch grew, then halve while
        ℓ_B(x − αḡ) > ℓ_B(x) − cα‖ḡ‖² + τ (c = ``armijo_c``), on the same batch, α carried over;
        "bb" — noise-aware Barzilai–Borwein: ν = ⟨Δx, ∇ℓ_B(x_t) − ∇ℓ_B(x_{t−1})⟩/‖Δx‖² on the
        same batch, α̃ = (1/ν)(1 − V_B/(\|B\|‖ḡ‖²)) (1/ν at \|B\| = N), α = (1 − \|B\|/N)α_{t−1} +
        (\|B\|/N)α̃, then the Armijo halving as a safeguard; α_{t−1} is kept when ν ≤ 0, ν is not
        finite, or α̃ ≤ 0; the first iteration uses α_0.
      armijo_atol: τ ≥ 0, the absolute slack of the sufficient-decrease test. Near a minimiser the
        decrease cα‖ḡ‖² falls below the rounding error of ℓ_B, the test then fails for every α
        and the halving would collapse α for good (α only doubles when the batch grows, which
        stops at \|B\| = N); the slack accepts a step whose trial loss is within rounding of the
        required decrease. Default (None): τ = 8 ε \|ℓ_B(x)\|, ε the machine epsilon of the
        parameters' dtype — a few rounding units of the batch loss.
      finite_population: multiply V_B/\|B\| by (N−\|B\|)/(N−1) (the test then always passes at N).
      variance: "two_pass" from materialised per-example gradients (no cancellation), or
        "norms" — (Σ_j‖g_j‖² − \|B\|‖ḡ‖²)/(\|B\|−1) from per-example squared norms, which never
        forms per-example gradients (the MLP computes the norms directly) but cancels when
        V_B ≪ \|B\|‖ḡ‖²; it is clipped at 0.
      seed: batches are drawn from PCG64 seeded [seed, t] (reproducible, backend-independent).

    The state carries the iteration's diagnostics (batch size, whether it grew, α, ‖ḡ‖², V_B).
    :func:`run_bigbatch` drives it with automatic stopping and a history.

    References: De et al., arXiv:1610.05792. Proof page: :ref:`rule-bigbatch`.
    """
    alpha0 = base.check_real("lr", lr, low=0.0, low_open=True)
    theta = base.check_real("theta", theta, low=0.0, low_open=True, finite=False)
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    growth = base.check_real("growth", growth, low=0.0, low_open=True)
    base.check_choice("step_rule", step_rule, STEP_RULES)
    armijo_c = base.check_real("armijo_c", armijo_c, low=0.0, high=1.0, low_open=True, high_open=True)
    if armijo_atol is not None:
        armijo_atol = base.check_real("armijo_atol", armijo_atol, low=0.0, high=math.inf, high_open=True)
    base.check_bool("finite_population", finite_population)
    base.check_choice("variance", variance, VARIANCES)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")

    def init(params: Any) -> BigBatchState:
        base.check_init_params(params)
        return BigBatchState(t=0, batch_size=int(batch_size), lr=alpha0,
                             prev_params=base.zeros_like(params), examples=0, loss_examples=0,
                             grew=False, passed=False, grad_sq=math.nan, variance=math.nan,
                             batch_loss=math.nan)

    def statistics(objective, params, idx, acc):
        """Accumulate per-example information for idx; return (ḡ, V, ‖ḡ‖², acc)."""
        if variance == "two_pass":
            g = objective.example_grads(params, idx)
            if acc is not None:
                g = _tree.map(lambda a, b: _xp.namespace(a).concat([a, b], axis=0), acc, g)
            gbar, var, gsq = norm_test_statistics(g)
            return gbar, var, gsq, g
        # "norms": running sums of ḡ·K and Σ‖g_j‖²
        k_new = len(idx)
        sum_g = _tree.map(lambda a: a * float(k_new), objective.batch_grad(params, idx))
        sq = objective.example_grad_sq_norms(params, idx)
        sum_sq = float(_xp.namespace(sq).sum(sq))
        if acc is not None:
            sum_g = _tree.map(lambda a, b: a + b, acc[0], sum_g)
            sum_sq += acc[1]
            k_new += acc[2]
        gbar = _tree.map(lambda a: a / float(k_new), sum_g)
        gsq = treemath.sum_sq(gbar)
        var = max(0.0, (sum_sq - k_new * gsq) / (k_new - 1)) if k_new > 1 else math.inf
        return gbar, var, gsq, (sum_g, sum_sq, k_new)

    def update(grads: Any, state: BigBatchState, params: Any, *, objective: Any = None
               ) -> tuple[Any, BigBatchState]:
        if objective is None:
            raise ValueError("objective is required: Big Batch SGD samples its own batches from "
                             "a finite-sum objective (refopt.problems.FiniteSum)")
        if grads is not None:
            raise ValueError("grads must be None: the rule computes its own batch gradients")
        xp = base.check_update_args(params, state, params)  # the state against params (no grads here)
        objective = CheckedFiniteSum(objective, params)
        n = objective.n_examples
        t = state.t + 1
        perm = np.random.default_rng([seed, t]).permutation(n)
        k = min(state.batch_size, n)
        acc = None
        gbar, var, gsq, acc = statistics(objective, params, perm[:k], acc)
        examples = state.examples + k
        grew = False
        while True:
            fpc = (n - k) / (n - 1) if (finite_population and n > 1) else 1.0
            if math.isfinite(var):
                passed = (var / k) * fpc <= theta * theta * gsq
            else:  # one example: no variance estimate; only a full finite population passes
                passed = k == n and finite_population
            if passed or k >= n:
                break
            extra = min(n - k, max(1, math.floor(growth * k)))
            gbar, var, gsq, acc = statistics(objective, params, perm[k:k + extra], acc)
            examples += extra
            k += extra
            grew = True
        idx = perm[:k]
        alpha = state.lr
        loss_examples = state.loss_examples
        batch_loss = math.nan
        if step_rule == "bb" and state.t >= 1:
            g_prev = objective.batch_grad(state.prev_params, idx)
            examples += k
            dx = treemath.add_scaled(params, -1.0, state.prev_params)
            dg = treemath.add_scaled(gbar, -1.0, g_prev)
            dx2 = treemath.sum_sq(dx)
            nu = treemath.vdot(dx, dg) / dx2 if dx2 > 0 else math.nan
            if math.isfinite(nu) and nu > 0:
                noise = var / (k * gsq) if (k < n and gsq > 0 and math.isfinite(var)) else 0.0
                alpha_tilde = (1.0 / nu) * (1.0 - noise)
                if alpha_tilde > 0:
                    alpha = (1.0 - k / n) * state.lr + (k / n) * alpha_tilde
        if step_rule == "armijo" and grew:
            alpha = 2.0 * alpha
        if step_rule in ("armijo", "bb") and gsq > 0:
            batch_loss = objective.batch_value(params, idx)
            loss_examples += k
            slack = armijo_atol if armijo_atol is not None else \
                8.0 * float(xp.finfo(_tree.leaves(params)[0].dtype).eps) * abs(batch_loss)
            while True:
                trial = objective.batch_value(treemath.add_scaled(params, -alpha, gbar), idx)
                loss_examples += k
                if trial <= batch_loss - armijo_c * alpha * gsq + slack or alpha < 1e-30:
                    break
                alpha *= 0.5
        new_params = treemath.add_scaled(params, -alpha, gbar)
        return new_params, BigBatchState(
            t=t, batch_size=k, lr=alpha, prev_params=params, examples=examples,
            loss_examples=loss_examples, grew=grew, passed=bool(passed), grad_sq=gsq,
            variance=var, batch_loss=batch_loss)

    return base.optimizer(init, update, {"objective"})


class BigBatchResult(NamedTuple):
    params: Any
    state: BigBatchState
    history: dict       # per iteration: batch_size, lr, objective, grad_sq, examples, grew
    stop_reason: str


def run_bigbatch(objective: Any, params: Any, opt: base.Optimizer | None = None, *,
                 max_iters: int = 1000, max_examples: int | None = None,
                 tol_grad: float | None = None, tol_objective: float | None = None,
                 stop_at_full_batch: bool = True, record_objective: bool = True,
                 **kwargs: Any) -> BigBatchResult:
    r"""Drive :func:`bigbatch` until a stopping criterion holds.

    Stopping (checked after each iteration, first match wins):

    * ``"grad"``: ‖ḡ_B‖² ≤ tol_grad — trustworthy because B passed the norm test, so ḡ_B is a
      relative-accuracy θ estimate of ∇ℓ;
    * ``"full_batch"``: \|B\| = N and the test still fails — the gradient is small compared with
      the example-to-example variation, and no larger batch exists (``stop_at_full_batch``);
    * ``"objective"``: \|ℓ(x_t) − ℓ(x_{t−1})\| ≤ tol_objective · max(1, \|ℓ(x_{t−1})\|) (needs
      ``record_objective``);
    * ``"max_examples"`` / ``"max_iters"``: budgets.

    ``opt`` defaults to ``bigbatch(**kwargs)``. The history records, per iteration: batch size,
    step size, the full objective (when ``record_objective``), ‖ḡ_B‖², the cumulative number of
    per-example gradient evaluations, and whether the batch grew.
    """
    if isinstance(max_iters, bool) or not isinstance(max_iters, numbers.Integral) or max_iters < 0:
        raise ValueError(f"max_iters must be an integer >= 0, got {max_iters!r}")
    if max_examples is not None and (isinstance(max_examples, bool) or
                                     not isinstance(max_examples, numbers.Integral) or max_examples < 1):
        raise ValueError(f"max_examples must be None or an integer >= 1, got {max_examples!r}")
    for name, tol in (("tol_grad", tol_grad), ("tol_objective", tol_objective)):
        if tol is not None:
            base.check_real(name, tol, low=0.0, high=math.inf, high_open=True)
    base.check_bool("stop_at_full_batch", stop_at_full_batch)
    base.check_bool("record_objective", record_objective)
    opt = bigbatch(**kwargs) if opt is None else opt
    state = opt.init(params)
    history: dict[str, list] = {"batch_size": [], "lr": [], "objective": [], "grad_sq": [],
                                "examples": [], "grew": []}
    previous = float(objective.value(params)) if record_objective else math.nan
    reason = "max_iters"
    for _ in range(max_iters):
        params, state = opt.update(None, state, params, objective=objective)
        current = float(objective.value(params)) if record_objective else math.nan
        for key, val in (("batch_size", state.batch_size), ("lr", state.lr), ("objective", current),
                         ("grad_sq", state.grad_sq), ("examples", state.examples), ("grew", state.grew)):
            history[key].append(val)
        if tol_grad is not None and state.passed and state.grad_sq <= tol_grad:
            reason = "grad"
            break
        if stop_at_full_batch and state.batch_size >= objective.n_examples and not state.passed:
            reason = "full_batch"
            break
        if tol_objective is not None and record_objective and \
                abs(current - previous) <= tol_objective * max(1.0, abs(previous)):
            reason = "objective"
            break
        if max_examples is not None and state.examples >= max_examples:
            reason = "max_examples"
            break
        previous = current
    return BigBatchResult(params, state, history, reason)

"""
Diagnose three wrong Adams and four real ones
=============================================

Run with ``python examples/conformance_wrong_adams.py``. Each candidate is handed to
:func:`refopt.conformance.diagnose` with nothing but the rule's name; refopt searches the
conventions of ``refopt.adam`` (switches, framework presets, common hyperparameters; the
learning rate is fitted on step 1) and either names the configuration that reproduces the
candidate to 1e-12 or explains where and why the nearest one splits:

* Adam with bias corrections at t + 1 — a factor √(1−β2^(t+1))/(1−β1^(t+1)) · (1−β1^t)/√(1−β2^t)
  on every step, named as such;
* Adam with ε inside the root — which is a refopt configuration (``eps=0, eps_root=ε``);
* Adam whose first-moment buffer starts at g₁ — its implied first moment is fitted as a
  combination of past gradients and recognised;
* torch's ``Adam`` and ``AdamW``, optax's ``adam(eps_root=…)`` and Keras's ``Adam`` (on the JAX
  backend), each named with its convention.
"""

from __future__ import annotations

import argparse
import importlib.util
import os

from refopt.conformance import diagnose, from_target, mutants


def candidates() -> dict:
    out = {"bias correction at t+1": mutants.adam_bias_t_plus_1(lr=1e-3),
           "eps inside the root": mutants.adam_eps_inside(lr=1e-3),
           "m starts at g1": mutants.adam_m_starts_at_g1(lr=1e-3)}
    real = {"torch.optim.Adam": {"lr": 1e-3}, "torch.optim.AdamW": {"lr": 1e-3},
            "optax.adam": {"learning_rate": 1e-3, "eps_root": 1e-6},
            "keras.optimizers.Adam": {"learning_rate": 1e-3}}
    os.environ.setdefault("KERAS_BACKEND", "jax")
    for target, kwargs in real.items():
        if importlib.util.find_spec(target.split(".")[0]) is not None:
            out[target] = from_target(target, **kwargs)
    return out


def main(argv: list[str] | None = None) -> dict:
    # sphinx-gallery runs the file with the docstring removed (__doc__ empty or None)
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n")[0])
    parser.add_argument("--steps", type=int, default=12, help="updates per probe")
    args = parser.parse_args(argv)
    results = {}
    for name, candidate in candidates().items():
        d = diagnose(candidate, "adam", steps=args.steps)
        results[name] = d
        verdict = d.match.call if d.match else "no configuration reproduces it"
        print(f"\n== {name}: {verdict}")
        if d.match is None:
            print(d.explanation)
        elif d.match.conventions:
            print("   convention of", ", ".join(d.match.conventions))
    return results


if __name__ == "__main__":
    main()

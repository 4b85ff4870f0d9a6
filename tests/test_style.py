"""ruff is part of the suite: the package, tests and examples stay lint-clean."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_clean():
    ruff = shutil.which("ruff") or (Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (it is in the test extra)")
    targets = [d for d in ("refopt", "tests", "examples") if (ROOT / d).is_dir()]
    result = subprocess.run([str(ruff), "check", *targets], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_oracles_are_installed_when_ci_says_so():
    """CI installs torch, optax, Keras, numpy-ml, Ray and Numba; this makes a silently skipped
    oracle, Ray or compiled-execution suite a failure there."""
    import os
    if os.environ.get("CI") != "true":
        pytest.skip("only enforced in CI")
    os.environ.setdefault("KERAS_BACKEND", "jax")   # as the Keras oracle tests run it
    import keras  # noqa: F401
    import numba  # noqa: F401
    import optax  # noqa: F401
    import ray  # noqa: F401
    import torch  # noqa: F401

    from refopt.conformance.targets import import_numpy_ml_optimizers
    import_numpy_ml_optimizers()

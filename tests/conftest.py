"""Shared fixtures: hypothesis profiles and the array backends every contract runs on."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# dev: quick local loop; ci: more examples, no deadline (2-core CI machines are noisy), derandomized
# so a CI failure reproduces locally; thorough: occasional deep runs. Select with
# HYPOTHESIS_PROFILE=...; CI=true selects "ci".
settings.register_profile("dev", max_examples=10, deadline=None)
settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                          print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=500, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def _cupy_available() -> bool:
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no cupy, or no driver / GPU
        return False


BACKENDS = ["numpy", "array_api_strict",
            pytest.param("cupy", marks=pytest.mark.skipif(not _cupy_available(),
                                                          reason="CuPy with a GPU is not available"))]


@pytest.fixture(params=BACKENDS, scope="session")
def xp(request):
    """The array namespace under test: NumPy, array-api-strict, or CuPy when a GPU is present."""
    if request.param == "numpy":
        return np
    if request.param == "array_api_strict":
        import array_api_strict
        return array_api_strict
    import cupy
    return cupy


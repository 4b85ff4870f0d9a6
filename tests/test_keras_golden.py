"""Keras's own golden values, reproduced by the refopt configurations the conventions table pairs
with each Keras optimizer. The numbers are copied from Keras's test suite (keras-team/keras,
``keras/src/optimizers/<name>_test.py``; file and commit on each case), not computed here.

Keras's ``test_correctness_with_golden``: x = ones(10); one update with g = 0.01, then updates
with g = (0.1, 0.2, …, 1.0); row i is x after i + 1 updates. The table is printed to 4 decimals,
so |refopt − golden| ≤ 5e-5 (rounding) + 2e-6 (Keras computed it in float32): atol = 5.2e-5.
``test_single_step``: x = (1, 2, 3, 4), g = (1, 6, 7, 2), learning_rate 0.5, Keras's defaults;
the expected values have at most 4 decimals: same tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest

import refopt
from refopt.conventions import CONVENTIONS

ATOL = 5.2e-5
_AC2 = "ac2ee342b119221090e464edc0d3344289f48741"

GOLDEN = {   # name: (refopt rule, Keras file @ commit, Keras call, golden rows)
    "adagrad": (lambda: refopt.adagrad(lr=0.2, initial_accumulator=0.3, eps=1e-6),
                f"adagrad_test.py@{_AC2}", "Adagrad(learning_rate=0.2, initial_accumulator_value=0.3, epsilon=1e-6)",
                [[0.9963] * 10,
                 [0.9604, 0.9278, 0.9003, 0.8784, 0.8615, 0.8487, 0.8388, 0.8313, 0.8255, 0.8209],
                 [0.9251, 0.8629, 0.8137, 0.7768, 0.7497, 0.7298, 0.7151, 0.704, 0.6956, 0.6891],
                 [0.8903, 0.8012, 0.7342, 0.6862, 0.6521, 0.6277, 0.6099, 0.5967, 0.5867, 0.579],
                 [0.856, 0.7422, 0.6604, 0.6037, 0.5644, 0.5367, 0.5168, 0.5021, 0.491, 0.4825]]),
    "adamax": (lambda: refopt.adamax(lr=0.2, beta1=0.85, beta2=0.95, eps=1e-6, eps_placement="denominator"),
               f"adamax_test.py@{_AC2}", "Adamax(learning_rate=0.2, beta_1=0.85, beta_2=0.95, epsilon=1e-6)",
               [[0.8] * 10,
                [0.6827, 0.6873, 0.6888, 0.6896, 0.6901, 0.6904, 0.6906, 0.6908, 0.6909, 0.691],
                [0.5333, 0.5407, 0.5431, 0.5444, 0.5451, 0.5456, 0.546, 0.5462, 0.5464, 0.5466],
                [0.368, 0.3773, 0.3804, 0.382, 0.3829, 0.3835, 0.384, 0.3843, 0.3846, 0.3848],
                [0.1933, 0.204, 0.2076, 0.2094, 0.2105, 0.2112, 0.2117, 0.2121, 0.2124, 0.2126]]),
    "nadam": (lambda: refopt.nadam(lr=0.5, beta1=0.5, beta2=0.67, eps=1e-5, momentum_decay=1.0),
              f"nadam_test.py@{_AC2}", "Nadam(learning_rate=0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5)",
              [[0.4281] * 10,
               [-0.1738, -0.1731, -0.1726, -0.1723, -0.1721, -0.172, -0.1719, -0.1718, -0.1718, -0.1717],
               [-0.7115, -0.7103, -0.7096, -0.7092, -0.709, -0.7088, -0.7086, -0.7085, -0.7085, -0.7084],
               [-1.2335, -1.2322, -1.2313, -1.2309, -1.2306, -1.2304, -1.2302, -1.2301, -1.23, -1.2299],
               [-1.7492, -1.7478, -1.7469, -1.7464, -1.7461, -1.7459, -1.7457, -1.7456, -1.7455, -1.7454]]),
    "sgd": (lambda: refopt.sgd(lr=0.01), f"sgd_test.py@{_AC2}", "SGD(nesterov=True)  (momentum 0: plain SGD)",
            [[0.9999] * 10,
             [0.9989, 0.9979, 0.9969, 0.9959, 0.9949, 0.9939, 0.9929, 0.9919, 0.9909, 0.9899],
             [0.9979, 0.9959, 0.9939, 0.9919, 0.9899, 0.9879, 0.9859, 0.9839, 0.9819, 0.9799],
             [0.9969, 0.9939, 0.9909, 0.9879, 0.9849, 0.9819, 0.9789, 0.9759, 0.9729, 0.9699],
             [0.9959, 0.9919, 0.9879, 0.9839, 0.9799, 0.9759, 0.9719, 0.9679, 0.9639, 0.9599]]),
    "adadelta": (lambda: refopt.adadelta(lr=1.0, rho=0.8, eps=1e-6),
                 "adadelta_test.py@1937d487b0ee4cf265051c7bd0524f2fd1a2cb51",
                 "Adadelta(learning_rate=1.0, rho=0.8, epsilon=1e-6)",
                 [[v] * 10 for v in (0.9978, 0.9947, 0.9915, 0.9882, 0.9849)]),
    "adamw": (lambda: refopt.adam(lr=1.0, eps=2.0, eps_hat=True, weight_decay=0.5, decay="decoupled"),
              "adamw_test.py@b470eee63605d7c357bda3bafa9d5e9d72b9b5a6",
              "AdamW(learning_rate=1.0, weight_decay=0.5, epsilon=2)",
              [[0.4998] * 10,
               [0.2486, 0.2475, 0.2463, 0.2451, 0.244, 0.2428, 0.2417, 0.2405, 0.2394, 0.2382],
               [0.1223, 0.1198, 0.1174, 0.1149, 0.1124, 0.11, 0.1075, 0.1051, 0.1027, 0.1003],
               [0.0586, 0.0549, 0.0512, 0.0475, 0.0439, 0.0402, 0.0366, 0.033, 0.0294, 0.0258],
               [0.0263, 0.0215, 0.0167, 0.012, 0.0073, 0.0026, -0.0021, -0.0067, -0.0113, -0.0159]]),
    "rmsprop": (lambda: refopt.rmsprop(lr=1e-3, eps=1e-7, centered=True), f"rmsprop_test.py@{_AC2}",
                "RMSprop(centered=True)", [[v] * 10 for v in (0.9967, 0.9933, 0.9908, 0.9885, 0.9864)]),
}

SINGLE_STEP = {   # Keras class: (refopt rule at learning_rate 0.5 with Keras's defaults, expected)
    "Adam": (lambda: refopt.adam(lr=0.5, eps=1e-7, eps_hat=True), [0.5, 1.5, 2.5, 3.5]),
    "RMSprop": (lambda: refopt.rmsprop(lr=0.5, eps=1e-7), [-0.5811, 0.4189, 1.4189, 2.4189]),
    "Adagrad": (lambda: refopt.adagrad(lr=0.5, eps=1e-7, initial_accumulator=0.1),
                [0.5233, 1.5007, 2.5005, 3.5061]),
    "Nadam": (lambda: refopt.nadam(lr=0.5, eps=1e-7, momentum_decay=1.0), [0.4686, 1.4686, 2.4686, 3.4686]),
    "Adadelta": (lambda: refopt.adadelta(lr=0.5, rho=0.95, eps=1e-7), [0.9993, 1.9993, 2.9993, 3.9993]),
    "AdamW": (lambda: refopt.adam(lr=0.5, eps=1e-7, eps_hat=True, weight_decay=0.004, decay="decoupled"),
              [0.4980, 1.4960, 2.494, 3.492]),
    "SGD": (lambda: refopt.sgd(lr=0.5), [0.5, -1.0, -0.5, 3.0]),
    "Adamax": (lambda: refopt.adamax(lr=0.5, eps=1e-7, eps_placement="denominator"), [0.5, 1.5, 2.5, 3.5]),
}


@pytest.mark.parametrize("name", GOLDEN)
def test_keras_golden_table(name):
    build, _source, _call, golden = GOLDEN[name]
    opt = build()
    x = np.ones(10)
    state = opt.init(x)
    for i, row in enumerate(golden):
        g = np.full(10, 0.01) if i == 0 else np.arange(1, 11) / 10
        x, state = opt.update(g, state, x)
        np.testing.assert_allclose(x, row, rtol=0, atol=ATOL, err_msg=f"{name} row {i}")


@pytest.mark.parametrize("name", SINGLE_STEP)
def test_keras_single_step(name):
    build, expected = SINGLE_STEP[name]
    opt = build()
    x = np.array([1.0, 2.0, 3.0, 4.0])
    x, _ = opt.update(np.array([1.0, 6.0, 7.0, 2.0]), opt.init(x), x)
    np.testing.assert_allclose(x, expected, rtol=0, atol=ATOL)


def test_keras_weight_decay_golden():
    """Keras's test_weight_decay: three optimizers with λ = 0.004, η = 1 and g = 0 each update the
    same variable once: 2·(1 − 0.004)³ = 1.9760959 (``adam_test.py``, commit 9537676d…)."""
    x = np.array(2.0)
    for _ in range(3):
        opt = refopt.adam(lr=1.0, eps=1e-7, eps_hat=True, weight_decay=0.004, decay="decoupled")
        x, _ = opt.update(np.array(0.0), opt.init(x), x)
    assert abs(float(x) - 1.9760959) < 5e-7   # Keras's check: 6 decimals


def test_golden_configurations_are_the_table_s_keras_switches():
    """The goldens above exercise exactly the switches the conventions table gives Keras."""
    keras_rows = {c.target.rpartition(".")[2]: c.refopt_kwargs for c in CONVENTIONS if c.framework == "keras"}
    assert keras_rows["Adam"]["eps_hat"] is True and keras_rows["AdamW"]["decay"] == "decoupled"
    assert keras_rows["Adamax"]["eps_placement"] == "denominator"
    assert keras_rows["Nadam"]["momentum_decay"] == 1.0
    assert keras_rows["Adagrad"]["initial_accumulator"] == 0.1 and keras_rows["Adagrad"]["eps"] == 1e-7

"""Conformance kit: point refopt at any optimizer implementation, get a verdict and a diagnosis.

* Candidates: :func:`from_torch`, :func:`from_optax`, :func:`from_keras`, :func:`from_step`
  (and :func:`from_numpy_ml`) wrap another implementation as ``init`` / ``update`` returning new
  parameters, whatever the framework returns.
* :func:`compare` runs a candidate against a refopt rule on the probe battery
  (:data:`PROBES`) and returns a :class:`Report`.
* :func:`diagnose` searches a rule's convention space for the configuration that reproduces the
  candidate and returns a :class:`Diagnosis`.

>>> import refopt
>>> from refopt.conformance import compare, from_step
>>> rule = refopt.adam(lr=0.01)
>>> compare(from_step(rule.init, rule.update), refopt.adam(lr=0.01), steps=3).passed
True
"""

from refopt.conformance import mutants
from refopt.conformance.adapters import Candidate, from_keras, from_optax, from_step, from_torch
from refopt.conformance.compare import compare
from refopt.conformance.diagnose import diagnose
from refopt.conformance.probes import PROBES, Probe
from refopt.conformance.report import Diagnosis, Match, ProbeResult, Report
from refopt.conformance.targets import from_numpy_ml, from_target

__all__ = ["Candidate", "Diagnosis", "Match", "PROBES", "Probe", "ProbeResult", "Report", "compare",
           "diagnose", "from_keras", "from_numpy_ml", "from_optax", "from_step", "from_target",
           "from_torch", "mutants"]

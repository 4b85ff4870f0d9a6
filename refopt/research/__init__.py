"""The research optimizers of the seed papers: R-SGD, AGD and Big Batch SGD (§2, §4, §5)."""

from refopt.research.agd import agd, agd_sgd_fraction
from refopt.research.bigbatch import bigbatch, norm_test_statistics, run_bigbatch
from refopt.research.rsgd import reinforcement_schedule, rsgd, rsgd_masks

__all__ = ["agd", "agd_sgd_fraction", "bigbatch", "norm_test_statistics", "reinforcement_schedule",
           "rsgd", "rsgd_masks", "run_bigbatch"]

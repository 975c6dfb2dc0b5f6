"""Two-way fixed-effects least squares: the design-level name of :mod:`ips_study.within`.

The TWFE core (within transformation, least squares, CRV1) lives in :mod:`ips_study.within`,
below both :mod:`ips_study.designs` and :mod:`ips_study.inference`, so that the inference
methods can reuse it without importing the designs that import them. This module keeps the
older import path.

Examples
--------
>>> from ips_study.designs.twfe import TwfeFit
>>> TwfeFit.__module__
'ips_study.within'
"""

from ips_study.within import (  # noqa: F401
    SMALL_SAMPLE, Demeaner, TwfeFit, cluster_scores, crv1, fixed_effect_dof, small_sample_factor,
    wls)

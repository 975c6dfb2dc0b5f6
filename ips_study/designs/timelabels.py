"""The designs' view of :mod:`ips_study.timelabels` (moved to the top level so that
:mod:`ips_study.inference` reads periods the same way): the same functions, with a refused
``time`` column raised as :class:`~ips_study.designs.errors.DesignError`, the error every
design raises.

Examples
--------
>>> import pandas as pd
>>> period_codes(pd.Series(["Q2-2011", "Q4-2010"]), "t")[1].tolist()
['Q4-2010', 'Q2-2011']
"""

from __future__ import annotations

import functools

from ips_study import timelabels as _tl
from ips_study.timelabels import (  # noqa: F401  (re-exported unchanged)
    BLOCK, REFUSED, TimeLabelError, code_counts, codes, mapped_codes)

from .errors import DesignError

__all__ = ["period_codes", "period_numbers", "in_time_order", "codes", "code_counts",
           "mapped_codes", "REFUSED", "TimeLabelError"]


def _as_design_error(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TimeLabelError as err:
            raise DesignError(str(err)) from None
    return wrapper


period_codes = _as_design_error(_tl.period_codes)
period_numbers = _as_design_error(_tl.period_numbers)
in_time_order = _as_design_error(_tl.in_time_order)

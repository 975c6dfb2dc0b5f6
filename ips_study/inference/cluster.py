"""Cluster-robust (CRV1) inference, clustered by municipality.

Assumes many clusters *and* many treated clusters: the CRV1 variance is consistent as the
number of clusters grows with a non-vanishing share treated. With one treated municipality
the score of the treatment coefficient comes almost entirely from that one cluster, whose
residuals are shrunk towards zero by the fit, so the standard error is far too small and
the test over-rejects badly (MacKinnon & Webb 2017, 2018). Reported for comparison, with a
warning when treated clusters are few.

Reference distribution: t with G - 1 degrees of freedom (as Stata and fixest).

Examples
--------
>>> from ips_study.config import StudyConfig
>>> from ips_study.designs.did import example_panel, fit_panel
>>> res = fit_panel(example_panel(seed=1), outcome="workdays", config=StudyConfig())
>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     cl = res.with_inference("cluster", small_sample="stata")
>>> cl.df_resid, "MacKinnon" in str(caught[0].message)
(20, True)
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from . import InferenceOutput, contrast_matrix

#: fewer treated clusters than this triggers the warning (MacKinnon & Webb 2018 find
#: serious over-rejection below roughly this many treated clusters)
FEW_TREATED = 10


def cluster_inference(fit, contrasts: pd.DataFrame, *, level: float = 0.95,
                      small_sample: str | None = None, n_treated: int = 1) -> InferenceOutput:
    """CRV1 standard errors for each contrast.

    Parameters
    ----------
    fit : TwfeFit
    contrasts : DataFrame (terms x treatment columns)
    small_sample : ``"fixest"`` (default of the fit), ``"stata"`` or ``"none"``
    n_treated : number of treated clusters (for the warning)
    """
    L = contrast_matrix(fit, contrasts)
    V = fit.vcov_cluster(small_sample)
    est = L @ fit.beta
    Vc = L @ V @ L.T
    se = np.sqrt(np.diag(Vc))
    tidy = pd.DataFrame({"estimate": est, "std_error": se}, index=contrasts.index)
    # the column the clusters come from (a foreign panel's "region", "kommune_navn")
    level = getattr(fit, "cluster_name", None) or "municipality"
    notes = [f"CRV1 clustered by {level} ({fit.n_units} clusters, "
             f"{small_sample or fit.small_sample} small-sample factor), t({fit.n_units - 1})."]
    if n_treated < FEW_TREATED:
        msg = (f"only {n_treated} treated cluster(s): cluster-robust standard errors are "
               "known to be far too small (MacKinnon & Webb 2017); prefer 'placebo-t' "
               "(the default), 'placebo', 'conley-taber' or 'ferman-pinto'")
        warnings.warn(msg, UserWarning, stacklevel=3)
        notes.append(msg)
    return InferenceOutput(tidy=tidy, df_resid=fit.n_units - 1, notes=tuple(notes), vcov=Vc,
                           extras={"small_sample": small_sample or fit.small_sample})

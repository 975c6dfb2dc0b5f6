"""The published design: its control-selection rule and its table beside the published numbers.

A published analysis of the Bodø setting (data contract, section 1) reports +5.6 workdays per
person-year (95 % CI 2.7-8.4) for young adults on work assessment allowance, Bodø against ten
control municipalities, four years of exposure from 2013, and +10.5 days three years after first
exposure. ``ips_study/studies/published_design.toml`` is that design as a study file;
:func:`select_controls` is the rule that picked its ten controls, and :func:`published_table`
lays a run's estimates beside the published ones (``table_16_published_design`` of
``ips-study reproduce --study published_design``).

Example
-------
>>> import pandas as pd
>>> m = pd.DataFrame({"municipality": ["1804", "A", "B", "C"], "centrality": [3.0, 3.0, 4.0, 6.0],
...                   "weight": [10.0, 9.0, 2.0, 10.0], "ips_start": [pd.Timestamp("2013-01-01"),
...                   pd.NaT, pd.NaT, pd.NaT]})
>>> select_controls(m, n=1, follow_up_end="2016-12-31")
['A']
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def select_controls(municipalities: pd.DataFrame, *, treated: str = "1804", n: int = 10,
                    follow_up_end="2016-12-31", size: str = "weight", max_centrality_gap: int = 1) -> list[str]:
    """The control municipalities of the published design, by a rule fixed before any outcome.

    1. no IPS start on or before ``follow_up_end`` (never exposed during follow-up);
    2. centrality class within ``max_centrality_gap`` of the treated municipality's;
    3. the ``n`` closest to the treated municipality in size (absolute log ratio of ``size``).

    Parameters
    ----------
    municipalities : DataFrame
        ``municipality``, ``centrality``, ``ips_start`` and the ``size`` column.
    treated, n, follow_up_end, size, max_centrality_gap
        The treated unit, how many controls, the end of follow-up, the size column and the
        largest centrality difference allowed.

    Returns
    -------
    list of str
        Codes, closest in size first.
    """
    for col in ("municipality", "centrality", "ips_start", size):
        if col not in municipalities.columns:
            raise ValueError(f"select_controls: the municipality table has no column {col!r}")
    m = municipalities.assign(municipality=municipalities["municipality"].astype(str))
    if treated not in set(m["municipality"]):
        raise ValueError(f"select_controls: treated municipality {treated} not in the table")
    me = m.loc[m["municipality"] == treated].iloc[0]
    start = pd.to_datetime(m["ips_start"])
    ok = ((start.isna() | (start > pd.Timestamp(follow_up_end)))
          & ((m["centrality"] - me["centrality"]).abs() <= max_centrality_gap)
          & (m["municipality"] != treated))
    cand = m.loc[ok].assign(_gap=np.abs(np.log(m.loc[ok, size].astype(float) / float(me[size]))))
    if len(cand) < n:
        raise ValueError(f"select_controls: only {len(cand)} municipalities meet the rule, {n} asked")
    return cand.sort_values(["_gap", "municipality"], kind="stable")["municipality"].head(n).tolist()


def conventional_fit(panel: pd.DataFrame, config, *, outcome: str = "workdays", level: float = 0.95) -> dict:
    """The published-method variant: person-level OLS, municipality and year effects, SEs by person.

    The most likely model behind a published register DiD with a symmetric conventional
    interval (docs/synthetic_data.md, "Real scale"): every person-year of the open-population
    panel is a row, ``outcome ~ treated_post + C(municipality) + C(period)``, standard errors
    clustered on persons (CRV1 with the usual small-sample factor, t with persons - 1 df;
    statsmodels). ``treated_post`` is the row's own municipality and period, so a person
    who moves in or out of the treated municipality switches with it. The estimate is the
    package's municipality-level DiD with person weights (the same regression on cell means);
    the interval sees the sampling of persons but not the municipality-year noise, so with one
    treated municipality it is too narrow whenever municipalities differ from year to year
    (docs/simulations.md). Person *fixed effects* are not used: in an open population the
    effect works by moving people off the allowance and so out of the target group, and
    within-person comparisons miss it (docs/synthetic_data.md).

    Parameters
    ----------
    panel : DataFrame
        Person-period panel (``person_id``, ``municipality``, ``period``, ``post``, the outcome).
    config : StudyConfig
        Gives the treated municipality.
    outcome, level : the outcome column and the confidence level.

    Returns
    -------
    dict
        ``estimate``, ``std_error``, ``conf_low``, ``conf_high``, ``p_value``, ``n_persons``,
        ``n_obs``, ``inference`` (``"person-cluster"``).

    Example
    -------
    >>> from ips_study.config import StudyConfig
    >>> from ips_study.designs.register_panel import example_panel
    >>> res = conventional_fit(example_panel(seed=1, effect=5.0), StudyConfig())
    >>> res["inference"], res["conf_low"] < res["estimate"] < res["conf_high"]
    ('person-cluster', True)
    """
    import statsmodels.api as sm

    for col in ("person_id", "municipality", "period", "post", outcome):
        if col not in panel.columns:
            raise ValueError(f"conventional_fit: the panel has no column {col!r}")
    d = panel.loc[panel[outcome].notna()]
    muni = d["municipality"].astype(str)
    tp = ((muni == str(config.treated_municipality)) & d["post"].astype(bool)).astype(float)
    X = pd.concat([tp.rename("treated_post"),
                   pd.get_dummies(muni, prefix="m", dtype=float),
                   pd.get_dummies(d["period"].astype(str), prefix="t", drop_first=True, dtype=float)], axis=1)
    groups = pd.factorize(d["person_id"])[0]
    fit = sm.OLS(d[outcome].to_numpy(float), X.to_numpy()).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    lo, hi = fit.conf_int(alpha=1 - level)[0]
    return {"estimate": float(fit.params[0]), "std_error": float(fit.bse[0]), "conf_low": float(lo),
            "conf_high": float(hi), "p_value": float(fit.pvalues[0]), "n_persons": int(groups.max() + 1),
            "n_obs": int(len(d)), "inference": "person-cluster"}


def published_table(did, event, published: dict, *, n_units: int | None = None,
                    conventional: dict | None = None) -> pd.DataFrame:
    """This run's DiD and event-time estimates beside the published ones.

    ``did`` is the fitted DiD (its main term) or a list of it under several inference methods
    (one row each, the first is the run's default), ``event`` the fitted event study,
    ``published`` the study file's ``[published]`` table, ``conventional`` the published-method
    fit (:func:`conventional_fit`: person-level OLS, SEs clustered on persons; its row has
    ``inference`` ``person-cluster`` and ``n_units`` = persons, the clusters its interval rests
    on). One row per (quantity, source, inference); ``source`` is ``published`` or ``this run``.
    With ten controls the single-treated-unit methods (placebo, Conley-Taber, Ferman-Pinto)
    cannot bound a 95 % interval (the smallest attainable p-value is 1/11): their rows show it
    rather than hide it.

    >>> from types import SimpleNamespace
    >>> tab = published_table(None, None, {"estimate": 5.6, "conf_low": 2.7, "conf_high": 8.4})
    >>> tab[["quantity", "source", "estimate"]].values.tolist()
    [['att', 'published', 5.6]]
    """
    rows = []
    k = published.get("event_time")
    rows.append({"quantity": "att", "source": "published", "estimate": published.get("estimate"),
                 "conf_low": published.get("conf_low"), "conf_high": published.get("conf_high")})
    for fit in ([] if did is None else did if isinstance(did, (list, tuple)) else [did]):
        lo, hi = fit.conf_int().loc[fit.main_term]
        rows.append({"quantity": "att", "source": "this run", "inference": fit.inference,
                     "estimate": fit.estimate, "conf_low": lo, "conf_high": hi,
                     "std_error": fit.std_error, "p_value": fit.p_value, "n_units": n_units or fit.n_units})
    if conventional is not None:
        rows.append({"quantity": "att", "source": "this run", "inference": conventional["inference"],
                     **{c: conventional[c] for c in ("estimate", "conf_low", "conf_high", "std_error", "p_value")},
                     "n_units": conventional["n_persons"]})
    if k is not None:
        rows.append({"quantity": f"event_time_{k}", "source": "published",
                     "estimate": published.get("event_estimate")})
    if k is not None and event is not None:
        et = event.event_time()
        hit = et[et["event_time"] == k]
        if len(hit):
            r = hit.iloc[0]
            rows.append({"quantity": f"event_time_{k}", "source": "this run", "inference": event.inference,
                         "estimate": r["estimate"], "conf_low": r.get("conf_low"),
                         "conf_high": r.get("conf_high"), "std_error": r.get("std_error"),
                         "p_value": r.get("p_value"), "n_units": n_units or event.n_units})
    out = pd.DataFrame(rows)
    width = out["conf_high"] - out["conf_low"]
    out["interval_width"] = width
    return out

"""The true hazard ratio behind the survival designs, from the two simulated worlds.

The generator (:mod:`.states`) multiplies the monthly hazard of entering work assessment
allowance (arbeidsavklaringspenger, AAP) or disability pension (uføretrygd) by
``Effects.health_benefit_hr`` (default 0.7) only for programme participants and only while
their IPS episode is active. The study's Cox model (design ``cox``) does not see
participation: it estimates the hazard ratio of *exposure* (living in an IPS municipality,
time-varying) for the onset of long-term benefit dependence (data contract, section 4) in the closed
cohort. That hazard ratio is diluted by the many exposed cohort members who never take part,
is on a different event (onset also counts 12-month runs of any health benefit) and has no
closed form. Two truths are computed here, both from the factual and counterfactual
registers of the *same* people (common random numbers, :mod:`.truth`):

* :func:`implied_hazard_ratio` — the estimand of the study's Cox model. The treated
  municipality's closed cohort is followed in both worlds; the two copies are stacked with
  ``world`` = 1 (factual) / 0 (counterfactual) and the effect term ``ips_effect`` =
  exposure status x ``world`` (IPS acts only in the factual world), and a Cox model as the
  study's (age band, sex, Efron ties, months since the baseline date) is fitted with one
  baseline hazard per exposure status. The counterfactual copy plays the part the control
  municipalities play in the study, without municipality differences, so the coefficient
  of ``ips_effect`` is the causal log hazard ratio the design targets (a marginal,
  population-averaged hazard ratio in the sense of the Cox fit). Its standard error is the
  sandwich by person (both copies of a person are one cluster), i.e. the simulation noise
  of the truth for the simulated people.
* :func:`participant_hazard_ratio` — the generator-to-model chain without dilution: the
  same stacking on the participants' own months in an active episode (from the programme's
  quality register ``ips_caseload``), with the event the generator acts on (entry into work
  assessment allowance or disability pension). It recovers ``health_benefit_hr`` when the
  job specialist's job clock is off (``Effects(job_hazard=0)``); the clock turns some
  would-be AAP entries into jobs, which pushes the ratio below the parameter.

Example
-------
>>> from ips_study.synthetic import generate, Effects                  # doctest: +SKIP
>>> data = generate(20_000, seed=1)                                     # doctest: +SKIP
>>> implied_hazard_ratio(data).hazard_ratio                             # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator

import numpy as np
import pandas as pd
from scipy import stats

from ..config import StudyConfig
from ..registers.registerset import subset_registers

#: covariates of the stacked Cox fit (see :func:`implied_hazard_ratio`); the first is the effect
STACKED_COVARIATES = ("ips_effect", "world", "age_band", "female")
#: the stacked fit has one baseline hazard per exposure status
STACKED_STRATA = "exposed"
#: the generator's override for long sickness (13th month on sickness benefit onwards)
#: ignores the IPS hazard ratio, so those months are left out of the participant check
LONG_SICK_MONTHS = 13


@dataclass(frozen=True)
class HazardTruth:
    """A true log hazard ratio from stacked factual/counterfactual data, with its noise.

    ``std_error`` is the person-clustered sandwich SE: how much the truth of the simulated
    people would move with another draw of people, not the study's estimation error.

    >>> t = HazardTruth("demo", log_hr=float(np.log(0.8)), std_error=0.1, n_persons=10, n_rows=20,
    ...                 n_events={"factual": 4, "counterfactual": 5}, exposed_share=0.5)
    >>> round(t.hazard_ratio, 3), [round(x, 3) for x in t.conf_int()]
    (0.8, [-0.419, -0.027])
    """

    estimand: str
    log_hr: float
    std_error: float
    n_persons: int
    n_rows: int
    n_events: dict[str, int]
    exposed_share: float
    level: float = 0.95
    notes: tuple[str, ...] = field(default=())

    @property
    def hazard_ratio(self) -> float:
        return float(np.exp(self.log_hr))

    def conf_int(self, level: float | None = None) -> tuple[float, float]:
        """Interval of the log hazard ratio (normal, from the person-clustered SE)."""
        z = float(stats.norm.ppf(0.5 + (level or self.level) / 2))
        return (self.log_hr - z * self.std_error, self.log_hr + z * self.std_error)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["hazard_ratio"] = self.hazard_ratio
        out["conf_int"] = list(self.conf_int())
        out["notes"] = list(self.notes)
        return out


def _config(config: StudyConfig | None) -> StudyConfig:
    config = config or StudyConfig()
    return config.replace(design="closed", freq="month")


def cohort_panels(data, config: StudyConfig | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Closed-cohort month panels of the treated municipality's cohort in both worlds.

    Both panels hold the same people: cohort membership is fixed at the baseline date, before
    IPS starts, where the two worlds coincide (checked).
    """
    from ..panel import build_panel

    cfg = _config(config)
    res = data.registers["residence"]
    ever = set(res.loc[res["municipality"] == cfg.treated_municipality, "person_id"])
    fp = build_panel(subset_registers(data.registers, ever), cfg, freq="month")
    fp = fp[fp["treated"] == 1]
    ids = set(fp["person_id"])
    cp = build_panel(subset_registers(data.counterfactual, ids), cfg, freq="month")
    cp = cp[cp["treated"] == 1]
    if set(cp["person_id"]) != ids:
        raise RuntimeError("the treated cohort differs between the factual and counterfactual world")
    return fp, cp


def stacked_tte(factual: pd.DataFrame, counterfactual: pd.DataFrame,
                config: StudyConfig | None = None, **tte_options) -> pd.DataFrame:
    """Episodes of both worlds in one frame with ``world`` (1 factual) and ``ips_effect``.

    ``exposed`` is the exposure *status* as the study defines it (the municipality of
    residence runs IPS that month), the same in both worlds; IPS acts only in the factual
    world, so ``ips_effect = exposed * world``. ``person_id`` is kept (both copies of a
    person share it, the cluster of the sandwich); each copy's episodes are built by
    :func:`ips_study.designs.survival.build_tte` exactly as the study builds them.
    """
    from ..designs.survival import build_tte

    cfg = _config(config)
    f = build_tte(factual, cfg, **tte_options).assign(world=1)
    c = build_tte(counterfactual, cfg, **tte_options).assign(world=0)
    out = pd.concat([f, c], ignore_index=True)
    out["ips_effect"] = (out["exposed"] * out["world"]).astype(np.int8)
    return out


def _fit_stacked(tte: pd.DataFrame, covariates, *, event, ties: str, strata=None):
    from ..designs.survival import CoxPH
    from ..designs.survival.cox import ConvergenceError
    from ..designs.survival.panel_fit import design_matrix, drop_eventless_levels

    X = design_matrix(tte, covariates)
    X, merged = drop_eventless_levels(X, np.asarray(event, dtype=bool))
    try:
        fit = CoxPH(ties=ties).fit(X.to_numpy(), tte["stop"], event, start=tte["start"],
                                   strata=None if strata is None else tte[strata].to_numpy(),
                                   names=list(X.columns))
    except (ConvergenceError, ValueError, np.linalg.LinAlgError) as err:
        # a diverging coefficient (too few onsets on one side) ends here in one of these ways
        raise ValueError(f"the stacked Cox fit failed ({err}): too few events, simulate more people") from err
    cov = fit.robust_cov(pd.factorize(tte["person_id"])[0])
    return fit, cov, merged


def _worlds(data) -> Iterator:
    """One :class:`SyntheticData`-like object, or each of an iterable of them (pooled)."""
    if hasattr(data, "registers"):
        yield data
    else:
        yield from data


def _pooled(data, rows_of) -> tuple[pd.DataFrame, Any]:
    """Rows of every world pair, person ids made unique per pair; the effects of the first."""
    parts, effects = [], None
    for i, d in enumerate(_worlds(data)):
        effects = effects or d.effects
        rows = rows_of(d)
        rows["person_id"] = f"{i}:" + rows["person_id"].astype(str)
        parts.append(rows)
    if not parts:
        raise ValueError("no synthetic data given")
    return pd.concat(parts, ignore_index=True), effects


def implied_hazard_ratio(data, config: StudyConfig | None = None, *, outcome: str = "ltbd_onset",
                         covariates=STACKED_COVARIATES, strata=STACKED_STRATA, ties: str = "efron",
                         level: float = 0.95) -> HazardTruth:
    """True log hazard ratio of exposure for the study's Cox design (see module docstring).

    The stacked fit is ``ips_effect + world + age_band + female``, stratified by the
    exposure status ``exposed`` (equal in both worlds). The strata take the place of the
    study's ``treated`` term and baseline hazard: they absorb whatever differs between
    exposed and unexposed person-time other than IPS (in the treated cohort alone, after
    the start only people who moved away are unexposed, so an ``exposed`` *covariate* would
    be identified by movers alone and often diverges); ``world`` absorbs effects that
    outlast the exposure (e.g. a job found before moving away). The coefficient of
    ``ips_effect`` is then the causal log hazard ratio of IPS on exposed person-time: the
    factual against the counterfactual hazard of the same people in the same risk sets.
    With no effect the two worlds are the same data with swapped labels and the
    coefficient is exactly 0.

    Parameters
    ----------
    data : SyntheticData or iterable of them
        From :func:`ips_study.synthetic.generate` (needs both worlds), or several (e.g.
        :func:`iter_worlds`), pooled into one fit for a more precise truth.
    config : StudyConfig, optional
        Study settings; ``design="closed"`` and ``freq="month"`` are forced.
    outcome : {"ltbd_onset", "sustained_work"}
        The event, as in :func:`ips_study.designs.survival.fit_cox_panel`; the other event
        censors.
    covariates : sequence of str
        Stacked-fit covariates; the first is the effect term.
    strata : str or None
        Column with separate baseline hazards (default: the exposure status).
    ties : {"efron", "breslow"}

    Returns
    -------
    HazardTruth
        ``log_hr`` is the coefficient of ``covariates[0]``.

    Examples
    --------
    >>> t = implied_hazard_ratio(generate(20_000, seed=1))                 # doctest: +SKIP
    >>> t.hazard_ratio, t.conf_int()                                        # doctest: +SKIP
    """
    cfg = _config(config)
    tte, _ = _pooled(data, lambda d: stacked_tte(*cohort_panels(d, cfg), cfg))
    return fit_stacked(tte, outcome=outcome, covariates=covariates, strata=strata, ties=ties,
                       level=level, treated_municipality=cfg.treated_municipality)


def fit_stacked(tte: pd.DataFrame, *, outcome: str = "ltbd_onset", covariates=STACKED_COVARIATES,
                strata=STACKED_STRATA, ties: str = "efron", level: float = 0.95,
                treated_municipality: str = "1804") -> HazardTruth:
    """The stacked Cox fit of :func:`implied_hazard_ratio` on ready episodes (:func:`stacked_tte`).

    Concatenate the episodes of several simulations (with distinct ``person_id``) to pool
    them into one truth.
    """
    from ..designs.survival.tte import EVENTS

    event = (tte["event"] == EVENTS[outcome]).to_numpy()
    exposed, world = tte["exposed"].to_numpy() == 1, tte["world"].to_numpy() == 1
    if not (event[exposed & world].any() and event[exposed & ~world].any()):
        raise ValueError("no events in exposed person-time of the treated cohort in one of the "
                         "worlds: simulate more people")
    fit, cov, merged = _fit_stacked(tte, covariates, event=event, ties=ties, strata=strata)
    j = fit.names_.index(covariates[0])
    notes = [f"No events at level(s) {', '.join(merged)}: merged into the reference level."] if merged else []
    months = (tte["stop"] - tte["start"]).to_numpy()
    fact = tte["world"].to_numpy() == 1
    return HazardTruth(
        estimand=(f"log hazard ratio of IPS on exposed person-time for {outcome} in the closed cohort "
                  f"of {treated_municipality}: factual vs counterfactual world of the same people, "
                  "Cox fit stratified by exposure status"),
        log_hr=float(fit.params_[j]), std_error=float(np.sqrt(max(cov[j, j], 0.0))),
        n_persons=int(tte["person_id"].nunique()), n_rows=len(tte),
        n_events={"factual": int(event[fact].sum()), "counterfactual": int(event[~fact].sum())},
        exposed_share=float(months[fact & (tte["exposed"].to_numpy() == 1)].sum() / months[fact].sum()),
        level=level, notes=tuple(notes))


def itt_tte(factual: pd.DataFrame, counterfactual: pd.DataFrame,
            config: StudyConfig | None = None, **tte_options) -> pd.DataFrame:
    """Stacked episodes of both worlds for the intention-to-treat contrast of ``dthazard``.

    The discrete-time hazard DiD (design ``dthazard``) estimates the coefficient of
    ``treated_post``: index municipality is the treated one *and* the month is on or after
    ``ips_start``, whatever the person's later moves (intention to treat). Its truth is the
    stacked fit of :func:`fit_stacked` with that status in place of the time-varying
    exposure: each world's episodes (:func:`ips_study.designs.survival.build_tte`) are split
    at ``ips_start`` (:func:`ips_study.designs.survival.placebo.split_at`, which leaves the
    partial likelihood unchanged), ``exposed`` becomes the post indicator (the study's
    current-residence exposure is kept as ``exposed_current``) and ``ips_effect = exposed x
    world``. In the treated cohort every person is "treated", so the status is the post
    period alone.

    Examples
    --------
    >>> from tests.survival_dgp import simulate_panel                     # doctest: +SKIP
    >>> p = simulate_panel(200, seed=2)                                     # doctest: +SKIP
    >>> fit_stacked(itt_tte(p, p)).log_hr                                   # doctest: +SKIP
    0.0
    """
    from ..designs.survival import build_tte
    from ..designs.survival.placebo import split_at

    cfg = _config(config)
    ips = cfg.ips_start.year * 12 + cfg.ips_start.month - 1
    parts = [split_at(build_tte(p, cfg, **tte_options), ips).assign(world=w)
             for w, p in ((1, factual), (0, counterfactual))]
    out = pd.concat(parts, ignore_index=True)
    out["exposed_current"] = out["exposed"]
    out["exposed"] = ((out["origin_month"] + out["start"]).to_numpy() >= ips).astype(np.int8)
    out["ips_effect"] = (out["exposed"] * out["world"]).astype(np.int8)
    return out


def fit_itt(tte: pd.DataFrame, *, outcome: str = "ltbd_onset", ties: str = "efron",
            level: float = 0.95, treated_municipality: str = "1804") -> HazardTruth:
    """True log hazard ratio of ``treated_post`` (design ``dthazard``) from :func:`itt_tte` episodes.

    The stacked fit of :func:`fit_stacked` (``ips_effect + world + age band + sex``,
    stratified by the post indicator, person-clustered SE) with the estimand named for the
    intention-to-treat contrast. Concatenate the episodes of several simulations (distinct
    ``person_id``) to pool them.

    Examples
    --------
    >>> fit_itt(itt_tte(*cohort_panels(generate(60_000, seed=1)))).hazard_ratio  # doctest: +SKIP
    """
    t = fit_stacked(tte, outcome=outcome, ties=ties, level=level,
                    treated_municipality=treated_municipality)
    return dataclasses.replace(
        t, estimand=(f"log hazard ratio of IPS for {outcome} in the post period of the closed cohort "
                     f"of {treated_municipality} (intention to treat by index municipality, as "
                     "dthazard's treated_post): factual vs counterfactual world of the same people"))


def itt_hazard_ratio(data, config: StudyConfig | None = None, *, outcome: str = "ltbd_onset",
                     ties: str = "efron", level: float = 0.95) -> HazardTruth:
    """True log hazard ratio for the ``dthazard`` design's ``treated_post`` (see :func:`itt_tte`).

    ``data`` is a :class:`SyntheticData` or an iterable of them (pooled), as for
    :func:`implied_hazard_ratio`; ``design="closed"`` and ``freq="month"`` are forced.

    Examples
    --------
    >>> itt_hazard_ratio(generate(60_000, seed=1)).hazard_ratio            # doctest: +SKIP
    """
    cfg = _config(config)
    tte, _ = _pooled(data, lambda d: itt_tte(*cohort_panels(d, cfg), cfg))
    return fit_itt(tte, outcome=outcome, ties=ties, level=level,
                   treated_municipality=cfg.treated_municipality)


@dataclass
class Worlds:
    """The factual and counterfactual registers of one simulated chunk (for pooled truths)."""

    registers: Any
    counterfactual: Any
    effects: Any


def iter_worlds(n_persons: int, *, seed: int, effects=None) -> Iterator[Worlds]:
    """Simulate ``n_persons`` chunk by chunk and yield each chunk's two worlds.

    Memory stays at one chunk, so a truth can be pooled over millions of simulated people
    (each chunk runs its own copy of the programmes, :mod:`.generate`).

    >>> t = implied_hazard_ratio(iter_worlds(600_000, seed=1))            # doctest: +SKIP
    """
    from ..registers import RegisterSet
    from .effects import Effects
    from .engine import iter_chunks, simulation_setup

    effects = Effects() if effects is None else effects
    geo = simulation_setup(seed, "2006-01", "2020-12").geo.drop(columns="weight")
    for ch in iter_chunks(n_persons, seed=seed, effects=effects):
        yield Worlds(RegisterSet(dict(ch.factual, municipalities=geo), source="synthetic"),
                     RegisterSet(dict(ch.counterfactual, municipalities=geo),
                                 source="synthetic-counterfactual"), effects)


# -- the participants' own months: no dilution ---------------------------------------------------
def participant_months(panel: pd.DataFrame, caseload: pd.DataFrame) -> pd.DataFrame:
    """Person-months at risk of entering AAP/DP while the person's IPS episode is active.

    The generator applies the hazard ratio to the transition *into* month ``t`` when the
    episode is active then: from the month after the first meeting (``start_date``) up to
    the month before the episode's end month (open episodes: to the end of the panel). A
    month is at risk when the previous month had neither work assessment allowance nor
    disability pension and was not the 13th or later month of a sickness-benefit run. Months
    must be consecutive (a gap breaks the history). Returns ``person_id``, ``start``/``stop``
    (months since the first meeting, ``(k-1, k]``), ``event`` (entry this month).
    """
    from ..designs.survival.tte import run_lengths

    p = panel.sort_values(["person_id", "period_start"], kind="stable").reset_index(drop=True)
    ps = pd.to_datetime(p["period_start"])
    mon = (ps.dt.year * 12 + ps.dt.month - 1).to_numpy(np.int64)
    pid = p["person_id"].to_numpy()
    same = np.r_[False, (pid[1:] == pid[:-1]) & (np.diff(mon) == 1)]
    ent = ((p["work_assessment"].to_numpy() > 0) | (p["disability"].to_numpy() > 0))
    sick_run = run_lengths(p["sickness"].to_numpy() > 0, ~same)
    prev_ok = np.r_[False, ~ent[:-1] & (sick_run[:-1] < LONG_SICK_MONTHS)] & same
    ep = caseload.dropna(subset=["start_date"])
    first = pd.to_datetime(ep["start_date"])
    last = pd.to_datetime(ep["end_date"])
    ep = pd.DataFrame({"person_id": ep["person_id"].to_numpy(),
                       "m0": (first.dt.year * 12 + first.dt.month - 1).to_numpy(),
                       "m1": np.where(last.isna(), 10**7,
                                      last.dt.year.fillna(0) * 12 + last.dt.month.fillna(1) - 1)})
    # one episode per person in the generator (people are referred at most once)
    ep = ep.drop_duplicates("person_id").set_index("person_id")
    m0 = ep["m0"].reindex(pid).to_numpy(float)
    m1 = ep["m1"].reindex(pid).to_numpy(float)
    active = (mon >= m0 + 1) & (mon <= m1 - 1)
    keep = active & prev_ok
    k = (mon - m0)[keep].astype(np.int64)
    return pd.DataFrame({"person_id": pid[keep], "start": k - 1, "stop": k,
                         "event": ent[keep].astype(np.int8)})


def participant_hazard_ratio(data, config: StudyConfig | None = None, *, ties: str = "efron",
                             level: float = 0.95) -> HazardTruth:
    """Hazard ratio of entering AAP/DP in active IPS months, factual vs counterfactual world.

    The direct check of ``Effects.health_benefit_hr`` through registers, panel and Cox
    model: every participant month of the treated municipality's programme (its quality
    register ``ips_caseload``; see :func:`participant_months`) in both worlds, stacked,
    with ``world`` as the only covariate, months since the first meeting as the time scale
    (recurrent entries, Andersen–Gill counting process) and the sandwich by person.
    ``data`` is a :class:`SyntheticData` or an iterable of them (e.g. :func:`iter_worlds`),
    pooled into one fit.

    Examples
    --------
    >>> d = generate(20_000, seed=2, effects=Effects(job_hazard=0.0))     # doctest: +SKIP
    >>> participant_hazard_ratio(d).hazard_ratio                          # doctest: +SKIP
    0.69
    """
    from ..panel import build_panel

    cfg = (config or StudyConfig()).replace(design="open", freq="month")

    def rows_of(d):
        cl = d.registers["ips_caseload"]
        ids = set(cl["person_id"])
        worlds = []
        for w, regs in ((1, d.registers), (0, d.counterfactual)):
            panel = build_panel(subset_registers(regs, ids), cfg, freq="month", restrict_to_target=False)
            worlds.append(participant_months(panel, cl).assign(world=w))
        return pd.concat(worlds, ignore_index=True)

    rows, effects = _pooled(data, rows_of)
    if rows.empty or rows["event"].sum() == 0:
        raise ValueError("no participant months with entries into AAP/DP: population too small")
    event = rows["event"].to_numpy().astype(bool)
    fit, cov, _ = _fit_stacked(rows, ("world",), event=event, ties=ties)
    fact = rows["world"].to_numpy() == 1
    notes = ()
    if effects.job_hazard > 0:
        notes = ("The job specialist's job clock turns some would-be AAP entries into jobs in the "
                 "factual world, so this ratio lies below health_benefit_hr.",)
    return HazardTruth(
        estimand=("hazard ratio of entering work assessment allowance or disability pension in "
                  "active IPS months of the programme's participants, factual vs counterfactual world"),
        log_hr=float(fit.params_[0]), std_error=float(np.sqrt(max(cov[0, 0], 0.0))),
        n_persons=int(rows["person_id"].nunique()), n_rows=len(rows),
        n_events={"factual": int(event[fact].sum()), "counterfactual": int(event[~fact].sum())},
        exposed_share=1.0, level=level, notes=notes)


@contextlib.contextmanager
def everyone_referred() -> Iterator[None]:
    """Within the block, the treated municipality's programme refers every eligible resident.

    A check of the generator-to-model chain, not a study scenario: with everyone eligible
    (aged 18-40, a mental-health contact in the previous 24 months, not working, not on
    disability pension) referred as soon as they are eligible, :func:`participant_hazard_ratio`
    has thousands of participant months instead of a few hundred. It swaps the referral
    count used by :func:`ips_study.synthetic.states.simulate_states` for the duration of the
    block (this process only; :func:`~ips_study.synthetic.generate` runs chunks serially).

    >>> with everyone_referred():                                            # doctest: +SKIP
    ...     data = generate(20_000, seed=2, effects=Effects(job_hazard=0.0))
    """
    from . import states

    original = states.referrals_this_month

    def all_of_them(k: int, *, scale: float, bodo: bool, weight_ratio: float) -> int:
        return 10**9 if bodo else original(k, scale=scale, bodo=bodo, weight_ratio=weight_ratio)

    states.referrals_this_month = all_of_them
    try:
        yield
    finally:
        states.referrals_this_month = original

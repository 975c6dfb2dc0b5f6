"""Cost-benefit and cost-effectiveness of IPS from the estimated effects (issue 11).

The model turns effect estimates (changes per person-year in benefit months by benefit type
and in workdays) into money on a yearly timeline for the treated municipality:

* the programme runs ``programme_years`` years; each year costs the job specialists'
  full-time equivalents (FTE) and salary, supervision, employer costs and overhead;
* while it runs the effect applies in full to ``persons`` person-years per year
  (``target_population`` for population-level effects such as the DiD estimate,
  ``participants_per_year`` for per-participant effects); after it stops the effect decays
  geometrically by ``decay`` per year, until ``horizon_years`` (at most 15);
* flows are discounted at ``discount_rate`` (year 0 undiscounted).

Two perspectives are reported. **Public budget**: benefit payments avoided (per benefit type:
months x monthly rate) plus tax on the extra work, minus programme costs. **Society**: benefit
payments are transfers and cancel out; the gain is the value of production from the extra
workdays minus programme costs, plus the marginal cost of public funds (the Norwegian tax
financing cost, *skattefinansieringskostnad*) times the net public budget effect.

All default prices are *inputs* in 2016 NOK, of the kind one takes from NAV's benefit rate
tables, Statistics Norway's (SSB) wage statistics and the Ministry of Finance's circular
R-109 (4 % real discount rate, 20 % tax financing cost); they are round illustrative values,
not facts, and every one can be overridden from the ``[economics]`` table of the study file
(:meth:`EconomicInputs.from_dict`). See ``docs/economics_and_power.md``.

Uncertainty is propagated by Monte Carlo (:func:`evaluate`): effects are drawn from the
normal distribution implied by the chosen inference method's interval, inputs from
triangular distributions over their ``ranges``; :class:`EconomicResults` reports intervals,
a cost-effectiveness acceptability curve (Fenwick, Claxton & Sculpher 2001) and a
one-way sensitivity (tornado) table.

Examples
--------
>>> inputs = EconomicInputs(horizon_years=1, programme_years=1, discount_rate=0.0)
>>> res = evaluate({"workdays": (5.6, 1.4), "work_assessment": (-0.3, 0.1)}, inputs,
...                draws=2000, seed=1)
>>> bool(res.tidy().loc["pv_programme_cost", "estimate"] == annual_programme_cost(inputs))
True
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ips_study.disclosure.drawn import mark_measures
from ips_study.results import Results

#: benefit types with a monthly rate; ``health_benefit`` is the composite of disability
#: pension, work assessment allowance and sickness benefit (the panel's ``benefit_months``)
BENEFIT_TYPES = ("disability", "work_assessment", "sickness", "unemployment",
                 "social_assistance", "qualification", "health_benefit")
_HEALTH_PARTS = ("disability", "work_assessment", "sickness")
#: panel outcomes that are shares of months in a year panel (x 12 gives months per year)
_SHARE_OUTCOMES = set(BENEFIT_TYPES)
EFFECT_NAMES = BENEFIT_TYPES + ("workdays",)
MAX_HORIZON = 15


def _default_rates() -> dict[str, float]:
    # NOK per month of benefit, 2016 prices: round values of the size of NAV's average
    # payments to young recipients (inputs to override, not facts)
    return {"disability": 22_000.0, "work_assessment": 17_000.0, "sickness": 24_000.0,
            "unemployment": 16_000.0, "social_assistance": 8_000.0, "qualification": 15_500.0,
            "health_benefit": 18_500.0}


def _default_ranges(v: "EconomicInputs") -> dict[str, tuple[float, float]]:
    # low/high of each input for the Monte Carlo (triangular, mode = the input) and the
    # tornado, relative to the input's value so that overriding a value moves its range
    return {"specialist_salary": (0.85 * v.specialist_salary, 1.15 * v.specialist_salary),
            "overhead_rate": (0.5 * v.overhead_rate, 1.75 * v.overhead_rate),
            "supervision_fte": (0.5 * v.supervision_fte, 2.0 * v.supervision_fte),
            "benefit_rate_scale": (0.85 * v.benefit_rate_scale, 1.15 * v.benefit_rate_scale),
            "production_value_per_workday": (0.75 * v.production_value_per_workday,
                                             1.30 * v.production_value_per_workday),
            "tax_rate": (max(0.0, v.tax_rate - 0.08), min(1.0, v.tax_rate + 0.07)),
            "decay": (max(0.0, v.decay - 0.2), min(1.0, v.decay + 0.3)),
            "discount_rate": (max(0.0, v.discount_rate - 0.02), v.discount_rate + 0.02)}


@dataclass(frozen=True)
class EconomicInputs:
    """Inputs of the economic model (NOK in ``price_year`` prices). Defaults are inputs.

    Parameters
    ----------
    specialists_fte : job specialists in full-time equivalents (the Bodø programme had four).
    specialist_salary : annual gross salary per FTE (SSB wage statistics, social and health
        professions, 2016 level).
    supervision_fte, supervisor_salary : IPS supervisor time and annual salary.
    employer_cost_rate : employer's national insurance contribution (arbeidsgiveravgift),
        pension and holiday pay as a share of salary.
    overhead_rate : offices, travel, training and IT as a share of personnel costs.
    participants_per_year : new programme participants per year (Bodø: about 55).
    target_population : person-years per year in the treated municipality's target group
        (the base of population-level effect estimates such as the DiD).
    programme_years : years the programme runs (the published design: four).
    horizon_years : years counted from programme start (1 to 15).
    decay : yearly proportional decline of the effect after the programme stops.
    discount_rate : real discount rate (Ministry of Finance circular R-109: 4 %).
    price_year : price year of every NOK amount.
    benefit_rates : NOK per benefit month by type (NAV rate tables; ``health_benefit`` is a
        composite rate for the panel's ``benefit_months``).
    benefit_rate_scale : multiplier on every benefit rate (used in sensitivity analysis).
    production_value_per_workday : labour cost of a workday (wage plus employer costs), the
        human-capital value of production (SSB earnings statistics).
    tax_rate : share of the production value returned to the public budget as income tax and
        employer contributions.
    workdays_per_work_year : workdays in a full-time work year (about 230 in Norway).
    marginal_cost_public_funds : tax financing cost per NOK of net public spending (R-109: 0.2).
    ranges : ``{input: (low, high)}`` for Monte Carlo and tornado, updating the default
        ranges (set relative to each value, e.g. salary +/- 15 %, discount rate +/- 2
        points); ``{input: (v, v)}`` fixes an input.

    Examples
    --------
    >>> EconomicInputs.from_dict({"discount_rate": 0.03, "benefit_rates": {"sickness": 20000}}
    ...                          ).benefit_rates["sickness"]
    20000.0
    """

    specialists_fte: float = 4.0
    specialist_salary: float = 560_000.0
    supervision_fte: float = 0.2
    supervisor_salary: float = 650_000.0
    employer_cost_rate: float = 0.25
    overhead_rate: float = 0.20
    participants_per_year: float = 55.0
    target_population: float = 600.0
    programme_years: int = 4
    horizon_years: int = 10
    decay: float = 0.2
    discount_rate: float = 0.04
    price_year: int = 2016
    benefit_rates: Mapping[str, float] = field(default_factory=_default_rates)
    benefit_rate_scale: float = 1.0
    production_value_per_workday: float = 1_700.0
    tax_rate: float = 0.38
    workdays_per_work_year: float = 230.0
    marginal_cost_public_funds: float = 0.2
    ranges: Mapping[str, tuple[float, float]] | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.horizon_years <= MAX_HORIZON:
            raise ValueError(f"horizon_years must be between 1 and {MAX_HORIZON}")
        if not 1 <= self.programme_years <= self.horizon_years:
            raise ValueError("programme_years must be between 1 and horizon_years")
        if not 0.0 <= self.decay <= 1.0:
            raise ValueError("decay must be in [0, 1]")
        if self.discount_rate <= -1:
            raise ValueError("discount_rate must be above -1")
        if self.participants_per_year <= 0 or self.target_population <= 0:
            raise ValueError("participants_per_year and target_population must be positive")
        unknown = sorted(set(self.benefit_rates) - set(BENEFIT_TYPES))
        if unknown:
            raise ValueError(f"unknown benefit type(s) in benefit_rates: {', '.join(unknown)}")
        object.__setattr__(self, "benefit_rates",
                           {**_default_rates(), **{k: float(v) for k, v in self.benefit_rates.items()}})
        numeric = {f.name for f in dataclasses.fields(self)} - {"benefit_rates", "ranges", "price_year"}
        ranges = {}
        for k, (lo, hi) in {**_default_ranges(self), **dict(self.ranges or {})}.items():
            if k not in numeric:
                raise ValueError(f"ranges: {k!r} is not a numeric input")
            if not lo <= getattr(self, k) <= hi:
                raise ValueError(f"ranges: {k} = {getattr(self, k)} lies outside ({lo}, {hi})")
            ranges[k] = (float(lo), float(hi))
        object.__setattr__(self, "ranges", ranges)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "EconomicInputs":
        """Inputs from the ``[economics]`` table of a study file (unknown keys are an error).

        ``benefit_rates`` and ``ranges`` update the defaults key by key; a range is a
        two-element list ``[low, high]``.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown key(s) in [economics]: {', '.join(unknown)}")
        kw = dict(data)
        if "benefit_rates" in kw:
            kw["benefit_rates"] = {**_default_rates(), **kw["benefit_rates"]}
        if "ranges" in kw:
            kw["ranges"] = {k: tuple(v) for k, v in kw["ranges"].items()}
        return cls(**kw)

    @classmethod
    def from_toml(cls, path) -> "EconomicInputs":
        """Read the ``[economics]`` table of a study TOML file (defaults if absent)."""
        import tomllib

        with open(path, "rb") as fh:
            return cls.from_dict(tomllib.load(fh).get("economics", {}))

    def replace(self, **changes: Any) -> "EconomicInputs":
        return dataclasses.replace(self, **changes)

    def at_price_year(self, year: int, index: Mapping[int, float]) -> "EconomicInputs":
        """Every NOK amount moved to ``year`` prices with a price index ``{year: value}``
        (e.g. SSB's consumer price index, supplied by the user)."""
        f = index[year] / index[self.price_year]
        money = ("specialist_salary", "supervisor_salary", "production_value_per_workday")
        ranges = {k: ((lo * f, hi * f) if k in money else (lo, hi)) for k, (lo, hi) in self.ranges.items()}
        return self.replace(price_year=year, ranges=ranges,
                            benefit_rates={k: v * f for k, v in self.benefit_rates.items()},
                            **{k: getattr(self, k) * f for k in money})


def annual_programme_cost(inputs: EconomicInputs, **over) -> float | np.ndarray:
    """Yearly programme cost: (specialist + supervisor salaries) x (1 + employer costs) x
    (1 + overhead). Keyword overrides may be arrays (Monte Carlo draws).

    >>> annual_programme_cost(EconomicInputs(specialists_fte=1, specialist_salary=100.0,
    ...     supervision_fte=0, employer_cost_rate=0, overhead_rate=0.5))
    150.0
    """
    p = {k: over.get(k, getattr(inputs, k)) for k in (
        "specialists_fte", "specialist_salary", "supervision_fte", "supervisor_salary",
        "employer_cost_rate", "overhead_rate")}
    salaries = p["specialists_fte"] * p["specialist_salary"] + p["supervision_fte"] * p["supervisor_salary"]
    return salaries * (1 + p["employer_cost_rate"]) * (1 + p["overhead_rate"])


# -- effects -----------------------------------------------------------------------------------
def effect_value(value: Any, name: str, *, level: float = 0.95) -> tuple[float, float]:
    """``(estimate, std_error)`` of one effect, in months (benefits) or days (workdays).

    ``value`` is a number (no uncertainty), a pair ``(estimate, se)``, or a
    :class:`~ips_study.results.Results`. For results the standard error is the one implied
    by the inference method's interval (``(upper - lower) / (2 z)``), so a wide placebo or
    Conley-Taber interval widens the Monte Carlo accordingly; year-panel benefit shares
    (``work_assessment``, ...) are converted to months per year (x 12) and the outcome
    ``benefit_months`` maps to ``health_benefit``. ``Results`` are taken to come from a
    year panel: convert month-panel ``workdays`` estimates (per person-month) yourself and
    pass ``(12 x estimate, 12 x se)``.
    """
    if isinstance(value, Results):
        lo, hi = value.conf_int(level).loc[value.main_term]
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"{name}: the {value.inference} interval is unbounded; "
                             "give (estimate, se) explicitly")
        se = (hi - lo) / (2 * stats.norm.ppf(0.5 + level / 2))
        scale = 12.0 if value.outcome in _SHARE_OUTCOMES and name != "workdays" else 1.0
        return value.estimate * scale, se * scale
    if isinstance(value, (tuple, list)):
        est, se = value
        return float(est), float(se)
    return float(value), 0.0


def _effects_table(effects: Mapping[str, Any]) -> pd.DataFrame:
    keyed = {}
    for name, value in effects.items():
        key = "health_benefit" if name == "benefit_months" else name
        if key not in EFFECT_NAMES:
            raise KeyError(f"unknown effect {name!r}; use one of {', '.join(EFFECT_NAMES)}")
        keyed[key] = effect_value(value, key)
    if "health_benefit" in keyed and set(_HEALTH_PARTS) & set(keyed):
        raise ValueError("health_benefit overlaps disability/work_assessment/sickness: "
                         "give either the composite or its parts, not both")
    return pd.DataFrame(keyed, index=["estimate", "std_error"]).T


# -- the model ---------------------------------------------------------------------------------
def _timeline(H: int, P: int, decay, r):
    t = np.arange(H)
    expo = np.where(t < P, 1.0, np.power.outer(1 - np.asarray(decay, float), np.maximum(t - P + 1, 0)))
    disc = np.power.outer(1 + np.asarray(r, float), -t)
    D = (expo * disc).sum(axis=-1)               # discounted effect-years
    W = (disc * (t < P)).sum(axis=-1)            # discounted programme years
    return D, W


def compute(inputs: EconomicInputs, effects: Mapping[str, float], *, per: str = "population",
            **over) -> dict[str, Any]:
    """Model outputs at given effect values (point values or arrays of draws).

    Parameters
    ----------
    inputs : EconomicInputs
    effects : ``{name: value}`` per person-year (benefit months by type, ``workdays``);
        values may be arrays (Monte Carlo draws).
    per : ``"population"`` (effects per person-year of the target population) or
        ``"participant"`` (per participant-year).
    over : input overrides (scalars or arrays), e.g. ``overhead_rate=np.array([...])``.

    Returns a dict of present values (NOK) and ratios; keys as in :data:`METRICS`.
    """
    g = {f.name: over.get(f.name, getattr(inputs, f.name)) for f in dataclasses.fields(inputs)}
    if per not in ("population", "participant"):
        raise ValueError("per must be 'population' or 'participant'")
    persons = g["target_population"] if per == "population" else g["participants_per_year"]
    D, W = _timeline(inputs.horizon_years, inputs.programme_years, g["decay"], g["discount_rate"])
    cost = annual_programme_cost(inputs, **over) * W
    saved = 0.0
    for b in BENEFIT_TYPES:
        if b in effects:
            saved = saved - np.asarray(effects[b], float) * inputs.benefit_rates[b] * g["benefit_rate_scale"]
    days = np.asarray(effects.get("workdays", 0.0), float)
    benefits = persons * D * saved
    production = persons * D * days * g["production_value_per_workday"]
    tax = production * g["tax_rate"]
    public = benefits + tax - cost
    society = production - cost + g["marginal_cost_public_funds"] * public
    n_part = g["participants_per_year"] * inputs.programme_years
    work_years = persons * D * days / g["workdays_per_work_year"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {
            "npv_society_municipality": society, "npv_public_municipality": public,
            "npv_society_participant": society / n_part, "npv_public_participant": public / n_part,
            "pv_programme_cost": cost, "pv_benefits_avoided": benefits,
            "pv_production": production, "pv_tax": tax, "work_years": work_years,
            "cost_per_work_year": cost / work_years,
            "net_public_cost_per_work_year": -public / work_years,
            "roi_public": public / cost, "roi_society": society / cost,
        }
    return {k: np.broadcast_to(np.asarray(v, float), np.shape(v)) * 1.0 for k, v in out.items()}


METRICS = ("npv_society_municipality", "npv_public_municipality", "npv_society_participant",
           "npv_public_participant", "pv_programme_cost", "pv_benefits_avoided", "pv_production",
           "pv_tax", "work_years", "cost_per_work_year", "net_public_cost_per_work_year",
           "roi_public", "roi_society")


# -- uncertainty -------------------------------------------------------------------------------
def _triangular(rng: np.random.Generator, lo: float, mode: float, hi: float, n: int) -> np.ndarray:
    if hi <= lo:
        return np.full(n, mode)
    return rng.triangular(lo, mode, hi, n)


def _mc_p_value(x: np.ndarray) -> float:
    """Two-sided Monte Carlo tail probability of the sign: 2 min(P(x <= 0), P(x >= 0))."""
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return math.nan
    return float(min(1.0, 2 * min(np.mean(x <= 0), np.mean(x >= 0))))


def tornado_table(inputs: EconomicInputs, effects: Mapping[str, Any], *,
                  metric: str = "npv_society_participant", per: str = "population",
                  level: float = 0.95) -> pd.DataFrame:
    """One-way sensitivity: ``metric`` with each input at its range ends, one at a time.

    Inputs vary over ``inputs.ranges``; each effect over its ``level`` interval
    (estimate +/- z se). Rows are sorted by the width of the swing (largest first) with
    columns ``parameter``, ``low``, ``high``, ``metric_low``, ``metric_high``, ``swing``.
    """
    tab = _effects_table(effects)
    point = dict(tab["estimate"])
    z = stats.norm.ppf(0.5 + level / 2)
    rows = []
    for k, (lo, hi) in inputs.ranges.items():
        vals = [float(compute(inputs, point, per=per, **{k: v})[metric]) for v in (lo, hi)]
        rows.append((k, lo, hi, *vals))
    for name, (est, se) in tab.iterrows():
        if se > 0:
            lo, hi = est - z * se, est + z * se
            vals = [float(compute(inputs, {**point, name: v}, per=per)[metric]) for v in (lo, hi)]
            rows.append((f"effect: {name}", lo, hi, *vals))
    out = pd.DataFrame(rows, columns=["parameter", "low", "high", "metric_low", "metric_high"])
    out["swing"] = (out["metric_high"] - out["metric_low"]).abs()
    return out.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


def plot_tornado(table: pd.DataFrame, base: float, ax=None, *, label: str = "NPV (NOK)"):
    """Horizontal bars from the base value to the metric at each input's low/high end."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.4 * len(table) + 1.2))
    y = np.arange(len(table))[::-1]
    for yi, (_, r) in zip(y, table.iterrows()):
        # greys with a hatch for "high": readable in greyscale print (house style)
        ax.barh(yi, r["metric_low"] - base, left=base, color="0.8", edgecolor="0.3",
                label="input low" if yi == y[0] else None)
        ax.barh(yi, r["metric_high"] - base, left=base, color="0.45", edgecolor="0.2", hatch="//",
                label="input high" if yi == y[0] else None)
    mark_measures(ax, "economic metric")  # the bars span the metric's range, not persons
    ax.axvline(base, color="black", lw=1)
    ax.set_yticks(y, table["parameter"])
    ax.set_xlabel(label)
    ax.legend(loc="lower right", fontsize="small")
    return ax


class EconomicResults(Results):
    """Economic model results: point values, Monte Carlo intervals, CEAC and tornado.

    The tidy table has one row per metric of :data:`METRICS`: ``estimate`` at the point
    estimates, ``std_error`` the Monte Carlo standard deviation, ``conf_low``/``conf_high``
    Monte Carlo percentiles, ``p_value`` the two-sided Monte Carlo probability of the sign.
    """

    def __init__(self, tidy, *, draws: pd.DataFrame, inputs: EconomicInputs,
                 effects: pd.DataFrame, tornado: pd.DataFrame, per: str, **kwargs) -> None:
        super().__init__(tidy, **kwargs)
        self._draws = draws
        self.inputs = inputs
        self._effects = effects
        self._tornado = tornado
        self.per = per

    @property
    def draws(self) -> pd.DataFrame:
        """Monte Carlo draws of every metric (copy)."""
        return self._draws.copy()

    def effects(self) -> pd.DataFrame:
        """Effect estimates and standard errors used (months or days per person-year)."""
        return self._effects.copy()

    def tornado(self) -> pd.DataFrame:
        return self._tornado.copy()

    def ceac(self, wtp=None) -> pd.DataFrame:
        """Cost-effectiveness acceptability curve against willingness to pay per work year.

        For each ``wtp`` (NOK per additional work year) the share of draws with positive
        net monetary benefit ``wtp x work_years - net public cost``, where the net public
        cost is programme cost minus benefit payments avoided and tax gains.
        """
        d = self._draws
        if wtp is None:
            wtp = np.linspace(0, 1_500_000, 61)
        wtp = np.asarray(wtp, float)
        net_cost = -d["npv_public_municipality"].to_numpy()
        nmb = wtp[:, None] * d["work_years"].to_numpy()[None, :] - net_cost[None, :]
        return pd.DataFrame({"wtp": wtp, "probability": (nmb > 0).mean(axis=1)})

    def plot_ceac(self, ax=None, wtp=None):
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        c = self.ceac(wtp)
        ax.plot(c["wtp"] / 1000, c["probability"], color="black")
        ax.set_ylim(0, 1)
        ax.set_xlabel("Willingness to pay per additional work year (1000 NOK)")
        ax.set_ylabel("Probability cost-effective")
        ax.set_title("Cost-effectiveness acceptability curve")
        return ax

    def plot_tornado(self, ax=None):
        ax = plot_tornado(self._tornado, float(self._tidy.at[self.main_term, "estimate"]), ax,
                          label=f"{self.main_term} (NOK, {self.inputs.price_year} prices)")
        ax.set_title("One-way sensitivity")
        return ax

    def plot(self, ax=None, term: str | None = None, **kwargs):
        """Histogram of the Monte Carlo draws of ``term`` (default the main metric)."""
        import matplotlib.pyplot as plt

        term = term or self.main_term
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        x = self._draws[term].to_numpy()
        mark_measures(ax.hist(x[np.isfinite(x)], bins=60, color="0.7", **kwargs)[2], "Monte Carlo draws")
        ax.axvline(0, color="0.4", lw=0.8)
        ax.axvline(float(self._tidy.at[term, "estimate"]), color="black", lw=2)
        lo, hi = self.conf_int().loc[term]
        for v in (lo, hi):
            ax.axvline(v, color="black", ls="--", lw=1)
        ax.set_xlabel(term)
        ax.set_title(f"Monte Carlo distribution ({self.level:.0%} interval dashed)")
        return ax


def evaluate(effects: Mapping[str, Any], inputs: EconomicInputs | None = None, *,
             per: str = "population", draws: int = 10_000, seed: int = 20130101,
             level: float = 0.95, main: str = "npv_society_participant") -> EconomicResults:
    """Cost-benefit analysis with Monte Carlo uncertainty.

    Parameters
    ----------
    effects : ``{name: value}`` with names from :data:`EFFECT_NAMES` (``benefit_months`` is
        accepted for ``health_benefit``); values are numbers, ``(estimate, se)`` pairs or
        :class:`~ips_study.results.Results` (see :func:`effect_value`). Benefit effects are
        changes in months per person-year (negative = fewer months on the benefit),
        ``workdays`` extra workdays per person-year.
    inputs : EconomicInputs (defaults if omitted).
    per : ``"population"`` or ``"participant"`` (what one person-year of the effect refers to).
    draws : Monte Carlo draws; seed : the one seed of the draws.
    level : interval level; main : metric reported as the main estimate.

    Effects are drawn independently from normal distributions (the estimates come from
    separate regressions whose covariance is not estimated); inputs from triangular
    distributions over ``inputs.ranges`` with the input value as mode.

    Examples
    --------
    >>> res = evaluate({"workdays": (5.6, 1.45)}, draws=1000, seed=2)
    >>> bool(res.tidy().loc["work_years", "estimate"] > 0)
    True
    """
    inputs = inputs or EconomicInputs()
    tab = _effects_table(effects)
    point = dict(tab["estimate"])
    base = compute(inputs, point, per=per)
    rng = np.random.default_rng(seed)
    eff_draws = {k: rng.normal(e, s, draws) if s > 0 else np.full(draws, e)
                 for k, (e, s) in tab.iterrows()}
    over = {k: _triangular(rng, lo, getattr(inputs, k), hi, draws)
            for k, (lo, hi) in inputs.ranges.items()}
    sim = pd.DataFrame(compute(inputs, eff_draws, per=per, **over))
    sim = sim.reindex(columns=list(METRICS))
    q = (1 - level) / 2

    def ci(lv: float) -> pd.DataFrame:
        a = (1 - lv) / 2
        x = sim.replace([np.inf, -np.inf], np.nan)
        return pd.DataFrame({"lower": x.quantile(a), "upper": x.quantile(1 - a)})

    finite = sim.replace([np.inf, -np.inf], np.nan)
    tidy = pd.DataFrame({
        "estimate": [float(base[m]) for m in METRICS],
        "std_error": finite.std().to_numpy(),
        "p_value": [_mc_p_value(sim[m].to_numpy()) for m in METRICS],
        "conf_low": finite.quantile(q).to_numpy(),
        "conf_high": finite.quantile(1 - q).to_numpy(),
    }, index=list(METRICS))
    tidy["statistic"] = tidy["estimate"] / tidy["std_error"]
    notes = (f"NOK, {inputs.price_year} prices; discount rate {inputs.discount_rate:.1%}; "
             f"horizon {inputs.horizon_years} years; effects per {per} person-year",
             "intervals and p-values from Monte Carlo draws (p-value: probability of the sign)")
    return EconomicResults(
        tidy, draws=sim, inputs=inputs, effects=tab, per=per,
        tornado=tornado_table(inputs, effects, metric=main, per=per, level=level),
        design="economics", outcome=main, inference="monte-carlo", n_obs=draws, n_units=1,
        main_term=main, level=level, conf_int_fn=ci, notes=notes,
        extras={"inputs": {k: v for k, v in dataclasses.asdict(inputs).items()},
                "effects": tab.to_dict(orient="index"), "per": per, "seed": seed})

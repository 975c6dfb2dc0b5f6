"""The monthly labour-market state process, factual and counterfactual, with IPS.

States: ordinary work, education/other, unemployment benefit (dagpenger), sickness benefit
(sykepenger), work assessment allowance (arbeidsavklaringspenger, AAP), disability pension
(uføretrygd, nearly absorbing), social assistance (økonomisk sosialhjelp) and the
qualification programme (kvalifiseringsprogrammet). Monthly transition hazards depend on
age, sex, mental-health class and current episode, unobserved frailty, the municipality's
level and trend, calendar time (business cycle, national trend) and the reforms of data contract,
section 6 (work assessment allowance from 2010-03, disability reform 2015-01, three-year
limit on work assessment allowance 2018-01), which hit all municipalities.

The factual and the counterfactual world are stepped together with *common random
numbers*: one uniform per person-month chooses the destination by inverse CDF in both
worlds. The two worlds differ only for IPS participants while their episode is active, and,
with a :class:`~ips_study.synthetic.spillover.Spillover` in the effects, for the treated
municipality's AAP recipients it reaches (an effect beyond the participants).

Example
-------
>>> STATE_NAMES[WORK], STATE_NAMES[DP]
('work', 'disability_pension')
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .effects import Effects
from .health import HealthPaths
from .population import ABSENT, Calendar, Population
from .programme import draw_timings, referrals_this_month

WORK, OTHER, UNEMP, SICK, AAP, DP, SA, QUAL = range(8)
K = 8
STATE_NAMES = ("work", "other", "unemployment", "sickness", "work_assessment",
               "disability_pension", "social_assistance", "qualification")

# base monthly hazards, rows = from, columns = to (work, other, unemp, sick, aap, dp, sa, qual)
BASE = np.array([
    [0, .0030, .0050, .0045, .0005, .00002, .0004, 0],     # work
    [.050, 0, .0030, .0005, .0008, .00008, .0030, .0003],  # other (education, home, ...)
    [.13, .025, 0, .0060, .0030, .00005, .0080, .0010],    # unemployment
    [.24, .005, .0050, 0, .0200, .0005, .0020, 0],         # sickness
    [.030, .010, .0050, 0, 0, .0020, .0030, .0008],        # work assessment allowance
    [.0004, 0, 0, 0, .0004, 0, 0, 0],                      # disability pension
    [.045, .025, .0080, .0010, .0060, .0005, 0, .0060],    # social assistance
    [.045, .010, .0050, 0, .0050, .0003, .0200, 0],        # qualification programme
])


@dataclass
class ProgrammeRecord:
    """Per-person programme fields of one chunk (-1 / False where not referred)."""

    municipality: np.ndarray
    referral_t: np.ndarray
    referral_day: np.ndarray
    meet_days: np.ndarray
    contact_days: np.ndarray
    job_t: np.ndarray
    planned_end_t: np.ndarray
    end_t: np.ndarray
    end_reason: np.ndarray
    job_start_t: np.ndarray
    order: np.ndarray
    start_t: np.ndarray
    ips_job_t: np.ndarray  # month a job found by the job specialist's clock started (factual only)

    @classmethod
    def empty(cls, n: int) -> "ProgrammeRecord":
        neg = lambda: np.full(n, -1, dtype=np.int64)  # noqa: E731
        return cls(neg(), neg(), neg(), neg(), neg(), neg(), neg(), neg(),
                   np.full(n, "", dtype=object), neg(), neg(), neg(), neg())


@dataclass
class StatePaths:
    """Monthly states (int8, -1 absent) and job keys (start month + 1, 0 = no job) in both worlds."""

    state: np.ndarray
    job: np.ndarray
    state_cf: np.ndarray
    job_cf: np.ndarray
    programme: ProgrammeRecord
    shared_u: np.ndarray = field(repr=False)  # (n, T) uint8 draws for grades and job attributes


@dataclass(frozen=True)
class MunicipalityContext:
    """What the state process needs to know about municipalities (arrays by municipality index)."""

    health_level: np.ndarray
    work_level: np.ndarray
    health_trend: np.ndarray
    weight: np.ndarray
    ips_start_t: np.ndarray  # simulation month index of IPS start, or a huge number
    bodo_index: int
    #: municipality x calendar-year shocks on the work log-hazard (column 0 = ``shock_year0``);
    #: None: no shocks (the embedded data)
    work_shock: np.ndarray | None = None
    shock_year0: int = 0
    #: hazard ratio of entering work assessment allowance (1: the embedded data)
    aap_entry_hr: float = 1.0


def _calendar_factors(year: int, month: int) -> dict[str, float]:
    """National calendar-time multipliers and reform shocks for one month."""
    ym = year * 12 + month - 1
    f = {"unemp": 1.0, "aap": 1.0, "dp": 1.0, "aap_limit": 0.0, "trend": 0.025 * (year - 2013)}
    if 2009 <= year <= 2010:
        f["unemp"] = 1.35
    elif 2015 <= year <= 2016:
        f["unemp"] = 1.2
    if ym < 2010 * 12 + 2:      # predecessors of work assessment allowance before 2010-03
        f["aap"] = 0.8
    elif ym < 2011 * 12:        # inflow surge in the new scheme's first months
        f["aap"] = 1.3
    if 2014 * 12 + 6 <= ym < 2015 * 12:   # rush before the disability reform
        f["dp"] = 1.5
    elif 2015 * 12 <= ym < 2016 * 12:
        f["dp"] = 0.8
    if ym >= 2018 * 12:         # three-year limit on work assessment allowance
        f["aap"] *= 0.8
        f["aap_limit"] = 0.12
    return f


class _World:
    """State, duration and job of every person in one world."""

    def __init__(self, n: int, T: int, init: np.ndarray):
        self.state = init.copy()
        self.dur = np.zeros(n, dtype=np.int64)
        self.job = np.zeros(n, dtype=np.int64)
        self.hist = np.full((n, T), ABSENT, dtype=np.int8)
        self.job_hist = np.zeros((n, T), dtype=np.int32)


_LONG_SICK = np.array([.30, 0, .08, 0, .55, .02, .02, 0], dtype=np.float32)
_AAP_LIMIT = np.array([.25, .10, .20, 0, 0, .15, .30, 0], dtype=np.float32)
_BASE32 = BASE.astype(np.float32)


def _transition(s, dur, job, u, mult, study, adult, present, t, f, effects, ips):
    """One month of one world: returns new state, job key, duration and the job-start mask.

    ``ips`` is ``(in_programme, job_clock_month, job_start_month, ips_job_month)`` in the
    factual world and ``None`` in the counterfactual one; jobs forced by the clock are
    recorded in ``ips_job_month``.
    """
    h = _BASE32[np.where(s >= 0, s, OTHER)] * mult
    h[:, WORK] *= np.where(s == OTHER, study, np.float32(1.0))
    if ips is not None:
        in_prog = ips[0]
        h[np.ix_(np.nonzero(in_prog)[0], [AAP, DP])] *= effects.health_benefit_hr
        h[in_prog & (s == WORK)] *= effects.work_exit_hr
    # sickness benefit lasts at most 12 months, then work assessment allowance or work
    h[(s == SICK) & (dur >= 12)] = _LONG_SICK
    if f["aap_limit"] > 0:
        h[(s == AAP) & (dur >= 36)] += np.float32(f["aap_limit"]) * _AAP_LIMIT
    tot = h.sum(1)
    over = tot > 0.95
    h[over] *= (0.95 / tot[over])[:, None]
    cum = np.cumsum(h, axis=1)
    dest = (cum < u[:, None]).sum(1)
    move = (dest < K) & adult & (s >= 0)
    new = np.where(move, dest, s).astype(np.int8)
    if ips is not None and effects.job_hazard > 0:
        in_prog, job_t, job_start_t = ips[:3]
        forced = in_prog & (t >= job_t) & (job_start_t < 0) & (new != WORK) & (new != DP) \
            & ~((new == SICK) & (job > 0)) & adult
        new[forced] = WORK
        ips[3][forced] = t
    new[~present] = ABSENT
    new[present & (s == ABSENT)] = OTHER
    # jobs: kept through sickness; a new job on entering work from elsewhere or changing job
    keep_job = ((new == WORK) | (new == SICK)) & (job > 0) & ~((s == WORK) & (new == WORK) & (u > 0.992))
    start_job = (new == WORK) & ~keep_job
    job = np.where(keep_job, job, np.where(start_job, t + 1, 0))
    dur = np.where(new == s, dur + 1, 0)
    return new, job, dur, start_job


def initial_states(pop: Population, cal: Calendar, rng: np.random.Generator) -> np.ndarray:
    """States at the burn-in start, roughly in equilibrium for age and mental-health class.

    Disability prevalence accumulates with age at a class-specific yearly rate, so that the
    burn-in does not have to build the stock of disability pensioners from zero.
    """
    n = pop.n
    age = pop.age(cal, 0).astype(np.float64)
    c = pop.mh_class
    p = np.zeros((n, K))
    p[:, DP] = 1 - np.exp(-np.array([0.0006, 0.0025, 0.025])[c] * np.maximum(age - 18, 0))
    p[:, AAP] = np.array([0.012, 0.04, 0.10])[c]
    p[:, WORK] = np.select([age < 21, age < 25], [0.35, 0.55], 0.75) * np.array([1.0, 0.8, 0.3])[c]
    p[:, UNEMP] = 0.025
    p[:, SA] = np.array([0.01, 0.03, 0.05])[c]
    p[:, OTHER] = 0.0
    p[:, OTHER] = np.maximum(1 - p.sum(1), 0)
    cum = np.cumsum(p / p.sum(1, keepdims=True), axis=1)
    draw = (cum < rng.random(n)[:, None]).sum(1).clip(0, K - 1).astype(np.int8)
    draw[age < 18] = OTHER
    draw[pop.residence[:, 0] < 0] = ABSENT
    return draw


def simulate_states(pop: Population, health: HealthPaths, cal: Calendar, ctx: MunicipalityContext,
                    effects: Effects, rng: np.random.Generator, *, scale: float = 1.0) -> StatePaths:
    """Step both worlds month by month (vectorised over persons) with the programme.

    ``scale`` is the chunk's size relative to the default embedded population: it scales
    the programme's referral counts so that each chunk runs its own copy of the programme.
    """
    n, T = pop.residence.shape
    years, months = cal.year, cal.month_number % 12 + 1
    init = initial_states(pop, cal, rng)
    F, C = _World(n, T, init), _World(n, T, init)
    shared_u = rng.integers(0, 256, size=(n, T), dtype=np.uint8)
    prog = ProgrammeRecord.empty(n)
    in_prog = np.zeros(n, dtype=bool)
    referred = np.zeros(n, dtype=bool)
    referral_count = np.zeros(len(ctx.weight), dtype=np.int64)
    offsets = rng.random((len(ctx.weight), 4))
    last_contact = np.full(n, -10**6, dtype=np.int64)
    female_sick = np.where(pop.female, 1.4, 1.0)
    mh_health = np.array([0.0, 0.6, 1.3])[pop.mh_class]
    mh_dp = np.array([0.0, 0.2, 1.3])[pop.mh_class]
    mh_work = np.array([0.0, -0.3, -1.0])[pop.mh_class]
    weight_ratio = ctx.weight / ctx.weight[ctx.bodo_index]
    spill = effects.spillover if effects.spillover is not None and effects.spillover.active else None
    # persons the spill-over ever reached: their counterfactual path has to be stepped apart
    reached = np.zeros(n, dtype=bool)

    for t in range(T):
        res = pop.residence[:, t]
        present = res != ABSENT
        age = pop.age(cal, t)
        adult = present & (age >= 18)
        last_contact[health.mh_contact[:, t]] = t
        f = _calendar_factors(int(years[t]), int(months[t]))
        ri = np.where(present, res, 0)
        ep = health.episode[:, t]
        health_lp = (0.35 * pop.frailty + mh_health + 0.5 * ep + ctx.health_level[ri]
                     + (ctx.health_trend[ri] + 0.0) * (years[t] - 2013) + f["trend"])
        # no systematic centrality term: Bodø is central and the controls mostly are not, so
        # a fixed centrality gradient would make hazard-scale shocks non-parallel in levels;
        # levels differ only by the random municipality draws
        work_lp = -0.25 * pop.frailty + mh_work - 0.5 * ep + ctx.work_level[ri]
        if ctx.work_shock is not None:
            # a local labour-market year: the same shift for everyone living there that year
            work_lp = work_lp + ctx.work_shock[ri, int(years[t]) - ctx.shock_year0]
        mult = np.ones((n, K), dtype=np.float32)
        mult[:, WORK] = np.exp(work_lp)
        mult[:, SICK] = 0.75 * np.exp(0.5 * health_lp) * female_sick
        mult[:, AAP] = 0.75 * np.exp(health_lp) * f["aap"]
        if ctx.aap_entry_hr != 1.0:
            # real-scale calibration to NAV's share on the allowance (docs/synthetic_data.md)
            mult[:, AAP] *= np.float32(ctx.aap_entry_hr)
        mult[:, DP] = np.exp(health_lp + mh_dp + 0.04 * (age - 30)) * f["dp"]
        mult[:, UNEMP] = np.exp(0.2 * pop.frailty) * f["unemp"]
        mult[:, SA] = np.exp(0.4 * pop.frailty + 0.5 * mh_health)
        mult[:, QUAL] = mult[:, SA]
        # students: finishing education makes work likelier with age
        study = np.select([age < 21, age < 25], [0.35, 0.8], 1.2).astype(np.float32)

        # --- programme: referrals and episode bookkeeping (factual world decides) -----------
        if t >= cal.window_start_index:
            for m in np.nonzero(ctx.ips_start_t <= t)[0]:
                k = referrals_this_month(int(t - ctx.ips_start_t[m]), scale=scale,
                                         bodo=m == ctx.bodo_index, weight_ratio=float(weight_ratio[m]))
                if k <= 0:
                    continue
                elig = np.nonzero((res == m) & (age >= 18) & (age <= 40) & ~referred
                                  & (t - last_contact < 24) & (F.state != DP) & (F.state != WORK)
                                  & (F.state != ABSENT))[0]
                if len(elig) == 0:
                    continue
                w = np.where(pop.mh_class[elig] == 2, 2.0, 1.0) * np.where(F.state[elig] == SICK, 0.5, 1.0)
                take = rng.choice(elig, size=min(k, len(elig)), replace=False, p=w / w.sum())
                take.sort()
                idx = referral_count[m] + np.arange(len(take))
                referral_count[m] += len(take)
                tim = draw_timings(idx, offsets[m], effects.job_hazard)
                referred[take] = True
                prog.municipality[take] = m
                prog.order[take] = idx
                prog.referral_t[take] = t
                rday = rng.integers(1, 29, len(take))
                prog.referral_day[take] = rday
                prog.meet_days[take] = tim.meet_days
                prog.contact_days[take] = tim.contact_days
                start_date = cal.day_date(np.full(len(take), t), rday) + tim.meet_days.astype("timedelta64[D]")
                start_t = t + (start_date.astype("datetime64[M]") - cal.month_start[t].astype("datetime64[M]")
                               ).astype(np.int64)
                # effects act from the month after the first meeting, so that every job found in
                # the programme starts after its first meeting; job clock and planned end count
                # from the first meeting's month
                prog.start_t[take] = start_t
                prog.job_t[take] = start_t + tim.job_months
                prog.planned_end_t[take] = start_t + tim.duration_months
        starting = referred & (prog.start_t == t - 1)
        in_prog |= starting
        # episodes end when planned, or early on moving, death or disability pension
        gone = in_prog & (res != prog.municipality)
        on_dp = in_prog & (F.state == DP)
        planned = in_prog & (prog.planned_end_t == t)
        for mask, reason in ((gone & ~present, "died_or_emigrated"), (gone & present, "moved"),
                             (on_dp & ~gone, "disability_pension"),
                             (planned & ~gone & ~on_dp, "completed")):
            prog.end_t[mask] = t
            prog.end_reason[mask] = reason
        in_prog &= ~(gone | on_dp | planned)

        mult_f = mult
        if spill is not None and t >= ctx.ips_start_t[ctx.bodo_index]:
            # office practice in the treated municipality: AAP-to-work hazard of its AAP recipients
            hit = ((res == ctx.bodo_index) & (F.state == AAP) & (age >= spill.age_min)
                   & (age <= spill.age_max) & adult)
            if hit.any():
                mult_f = mult.copy()
                mult_f[hit, WORK] *= np.float32(spill.multiplier(int(t - ctx.ips_start_t[ctx.bodo_index])))
                reached |= hit

        # --- transitions: factual for everyone, counterfactual only where it can differ ------
        u = rng.random(n)
        ips = (in_prog, prog.job_t, prog.job_start_t, prog.ips_job_t)
        new, job, dur, start_job = _transition(F.state, F.dur, F.job, u, mult_f, study, adult, present,
                                               t, f, effects, ips)
        got = in_prog & start_job & (prog.job_start_t < 0)
        prog.job_start_t[got] = t
        idx = np.nonzero(referred | reached)[0]
        if len(idx):
            cs, cj, cd, _ = _transition(C.state[idx], C.dur[idx], C.job[idx], u[idx], mult[idx],
                                        study[idx], adult[idx], present[idx], t, f, effects, None)
        C.state, C.job, C.dur = new.copy(), job.copy(), dur.copy()
        if len(idx):
            C.state[idx], C.job[idx], C.dur[idx] = cs, cj, cd
        F.state, F.job, F.dur = new, job, dur
        for world in (F, C):
            world.hist[:, t] = world.state
            world.job_hist[:, t] = world.job
    return StatePaths(state=F.hist, job=F.job_hist, state_cf=C.hist, job_cf=C.job_hist,
                      programme=prog, shared_u=shared_u)

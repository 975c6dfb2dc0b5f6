"""Cheap calibrations and checks of the real-scale generator (docs/synthetic_data.md, "Real scale").

``prevalence``: the share of residents on work assessment allowance (and disability pension)
by age on three dates, for an ``aap_entry_hr``: the figure compared with NAV's published share
of 18-29-year-olds on the allowance. A rate, so a reduced population (``--persons``) suffices.

``divergence``: for two spill-over shapes and one seed of the streamed real-scale data, where
their factual worlds first part, person by person (why two shapes can give the same truth in
the first event years; docs/synthetic_data.md).

``shape``: the published design's true effect (mean over the four exposure years and by event
year) for a spill-over shape, from Bodø alone plus its smallest control (the truth needs only
the treated municipality), one line per seed appended to ``--out``. Seeds ``9000 + s`` are the
same for every shape (common random numbers), so shapes compare paired (in part: see ``summary``). The whole Bodø
programme runs in these persons (``programme_persons`` = the persons simulated); rows marked
``"programme": "fifth"`` (or unmarked) are from a first version that spread it over the whole
real-scale population, so that it ran at a fifth of its size and the truth came out about 0.8
workdays lower than with all eleven municipalities.

    python benchmarks/calibrate_real_scale.py prevalence --aap-hr 2.0
    python benchmarks/calibrate_real_scale.py shape --hr 1.67 --ramp 36 --lag 4 --seeds 16 \\
        --out benchmarks/results/spillover_shape.jsonl
    python benchmarks/calibrate_real_scale.py summary benchmarks/results/spillover_shape.jsonl --paired 1.55,36,3
    python benchmarks/calibrate_real_scale.py divergence --seed 20130101 --shapes "1.55,36,3;1.67,36,4" --session7-geography
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import warnings

import numpy as np
import pandas as pd

WINDOW = ("2008-01", "2016-12")


def prevalence(aap_hr: float, persons: int, seed: int) -> list[str]:
    """Shares on the allowance and on disability pension by age band on three dates."""
    from ips_study.synthetic import generate
    from ips_study.synthetic.real_scale import published_design_effects, published_geography, real_scale_persons

    geo = published_geography(persons=real_scale_persons(start=WINDOW[0], end=WINDOW[1]), aap_entry_hr=aap_hr)
    reg = generate(persons, seed=seed, effects=published_design_effects(), start=WINDOW[0], end=WINDOW[1],
                   geography=geo, direct=False).registers
    people, res_all, ben = reg["persons"].set_index("person_id"), reg["residence"], reg["benefits"]
    lines = []
    for date in ("2010-12-31", "2013-01-01", "2016-06-30"):
        d = pd.Timestamp(date)
        live = lambda t: (t["start_date"] <= d) & (t["end_date"].isna() | (t["end_date"] >= d))  # noqa: E731
        res = res_all.loc[live(res_all), ["person_id", "municipality"]]
        p = people.loc[res["person_id"]]
        alive = (p["death_date"].isna() | (pd.to_datetime(p["death_date"]) > d)).to_numpy()
        res = res.assign(age=((d - pd.to_datetime(p["birth_date"])).dt.days / 365.25).to_numpy()).loc[alive]
        for b, col in (("work_assessment", "aap"), ("disability_pension", "dp")):
            res[col] = res["person_id"].isin(ben.loc[(ben["benefit"] == b) & live(ben), "person_id"])
        for lo, hi in ((18, 30), (30, 41), (18, 41)):
            s = res[(res["age"] >= lo) & (res["age"] < hi)]
            lines.append(f"{date} age {lo}-{hi - 1}: on the allowance {100 * s['aap'].mean():.2f} %, "
                         f"disability pension {100 * s['dp'].mean():.2f} % (residents {len(s):,})")
    return lines


def shape(hr: float, ramp: int, lag: int, seeds: int, out: str, aap_hr: float | None = None,
          full_programme: bool = True) -> None:
    """Append the truth of ``seeds`` seeds for one spill-over shape to ``out``."""
    from ips_study.config import StudyConfig
    from ips_study.panel import build_panel
    from ips_study.synthetic import generate
    from ips_study.synthetic.effects import Effects
    from ips_study.synthetic.real_scale import (POPULATION_2013, population_truth_from_panels,
                                                published_geography, real_scale_persons)
    from ips_study.synthetic.spillover import Spillover

    pair = ("1804", "1719")                      # Bodø and its smallest control (Levanger)
    cfg = StudyConfig.load("published_design").replace(controls=[pair[1]])
    n_all = real_scale_persons(start=WINDOW[0], end=WINDOW[1])
    sizes = [POPULATION_2013[c][1] for c in pair]
    n = int(round(n_all * sum(sizes) / sum(v[1] for v in POPULATION_2013.values())))
    # the whole Bodø programme in these persons (programme_persons = n), as in the full geography
    geo = dataclasses.replace(published_geography(persons=n if full_programme else n_all, aap_entry_hr=aap_hr),
                              codes=pair, weights=tuple(float(s) for s in sizes))
    effects = Effects(spillover=Spillover(work_hr=hr, ramp_months=ramp, lag_months=lag))
    prog = "full" if full_programme else "fifth"
    done = {(r["hr"], r["ramp"], r["lag"], r["aap"], r.get("programme", "fifth"), r["seed"]) for r in _rows(out)}
    for s in range(seeds):
        if (hr, ramp, lag, geo.aap_entry_hr, prog, 9000 + s) in done:
            continue
        data = generate(n, seed=9000 + s, effects=effects, start=WINDOW[0], end=WINDOW[1], geography=geo,
                        direct=False)
        t, by = population_truth_from_panels(build_panel(data.registers, cfg, freq="year"),
                                             build_panel(data.counterfactual, cfg, freq="year"))
        with open(out, "a") as fh:
            fh.write(json.dumps({"hr": hr, "ramp": ramp, "lag": lag, "aap": geo.aap_entry_hr, "programme": prog,
                                 "seed": 9000 + s, "truth": t, "by_event": by}) + "\n")


def divergence(seed: int, shapes: tuple[tuple[float, int, int], ...], *, session7: bool = False) -> pd.DataFrame:
    """Where two spill-over shapes' factual worlds first part, per person (streamed real scale).

    Steps the real-scale population of the default window (2006-2020, the streamed
    ``truth.json``'s) chunk by chunk under both ``shapes`` with the same seed and counts, per
    calendar year, the persons whose monthly states first differ, split by: from work
    assessment allowance or not, in Bodø's published-design target group that year (on the
    allowance in January or December before) or not, and whether one of the two worlds enters
    work then. The published truth of an event year moves only with a "target, work" row.
    ``session7``: session 7's geography (every municipality's 18-40 share 0.30 of its total,
    184,000 persons), where the identical years were seen.
    """
    from ips_study.synthetic.effects import Effects
    from ips_study.synthetic.engine import _chunk_sizes, _rng, simulation_setup
    from ips_study.synthetic.health import simulate_health
    from ips_study.synthetic.population import simulate_population
    from ips_study.synthetic.real_scale import published_geography, real_scale_persons
    from ips_study.synthetic.spillover import Spillover
    from ips_study.synthetic.states import AAP, WORK, simulate_states

    from ips_study.synthetic.real_scale import POPULATION_2013

    n_all = 184_000 if session7 else real_scale_persons()
    geo = published_geography(persons=n_all)
    if session7:
        geo = dataclasses.replace(geo, weights=tuple(float(POPULATION_2013[c][1]) for c in geo.codes))
    setup = simulation_setup(seed, "2006-01", "2020-12", geo)
    cal, ctx = setup.cal, setup.ctx
    rows = []
    for c, n in enumerate(_chunk_sizes(n_all)):
        pop = simulate_population(n, cal, ctx.weight, _rng(seed, c, 0))
        health = simulate_health(pop, cal, _rng(seed, c, 1))
        a, b = (simulate_states(pop, health, cal, ctx, Effects(spillover=Spillover(*sh)), _rng(seed, c, 2),
                                scale=setup.programme_scale(n)).state for sh in shapes)
        diff = a != b
        for p in np.nonzero(diff.any(axis=1))[0]:
            t = int(diff[p].argmax())
            jan = int(np.nonzero(cal.year == cal.year[t])[0][0])
            rows.append({"year": int(cal.year[t]), "from_aap": bool(a[p, t - 1] == AAP),
                         "bodo": bool(pop.residence[p, t] == ctx.bodo_index),
                         "target": bool(AAP in (a[p, jan], a[p, jan - 1])),
                         "work": bool(WORK in (a[p, t], b[p, t]))})
    df = pd.DataFrame(rows)
    return df[df["year"] <= 2016].value_counts().rename("persons").sort_index().reset_index()


def _rows(path: str) -> list[dict]:
    try:
        with open(path) as fh:
            return [json.loads(x) for x in fh if x.strip()]
    except FileNotFoundError:
        return []


def summary(path: str, paired: tuple[float, int, int] | None = None) -> pd.DataFrame:
    """Mean truth and event-year-3 truth per shape, with Monte Carlo SEs.

    ``paired`` = (hr, ramp, lag) of a reference shape: adds each shape's mean difference to it
    over the seeds both have (``diff``, ``diff_se``, ``diff_year3``, ``diff_year3_se``). Common
    seeds pair the worlds only in part: once the spill-over changes who is eligible for a
    referral, the random stream of the rest of the run shifts (docs/synthetic_data.md).
    """
    df = pd.DataFrame(_rows(path))
    df["year3"] = df["by_event"].map(lambda d: d.get("3", np.nan))
    df["programme"] = df.get("programme", pd.Series("fifth", index=df.index)).fillna("fifth")
    keys = ["programme", "aap", "hr", "ramp", "lag"]
    g = df.groupby(keys)
    se = lambda x: x.std(ddof=1) / np.sqrt(len(x))  # noqa: E731
    out = g.agg(seeds=("truth", "size"), mean_truth=("truth", "mean"), mean_truth_se=("truth", se),
                year3=("year3", "mean"), year3_se=("year3", se)).reset_index()
    if paired is not None:
        ref = df[(df["hr"] == paired[0]) & (df["ramp"] == paired[1]) & (df["lag"] == paired[2])]
        d = df.merge(ref[["programme", "aap", "seed", "truth", "year3"]], on=["programme", "aap", "seed"],
                     suffixes=("", "_ref"))
        d = d.assign(diff=d["truth"] - d["truth_ref"], diff_year3=d["year3"] - d["year3_ref"])
        pg = d.groupby(keys).agg(paired_seeds=("diff", "size"), diff=("diff", "mean"), diff_se=("diff", se),
                                 diff_year3=("diff_year3", "mean"), diff_year3_se=("diff_year3", se))
        out = out.merge(pg.reset_index(), on=keys, how="left")
    return out.round(2)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prevalence")
    p.add_argument("--aap-hr", type=float, default=None)
    p.add_argument("--persons", type=int, default=50_000)
    p.add_argument("--seed", type=int, default=5)
    s = sub.add_parser("shape")
    s.add_argument("--hr", type=float, required=True)
    s.add_argument("--ramp", type=int, required=True)
    s.add_argument("--lag", type=int, required=True)
    s.add_argument("--seeds", type=int, default=12)
    s.add_argument("--aap-hr", type=float, default=None)
    s.add_argument("--out", default="benchmarks/results/spillover_shape.jsonl")
    s.add_argument("--fifth-programme", action="store_true", help="the first version's programme at a fifth")
    d = sub.add_parser("divergence")
    d.add_argument("--seed", type=int, default=20130101)
    d.add_argument("--shapes", default="1.55,36,3;1.67,36,4", help="two shapes HR,RAMP,LAG;HR,RAMP,LAG")
    d.add_argument("--session7-geography", action="store_true", help="the 0.30 age share of session 7")
    m = sub.add_parser("summary")
    m.add_argument("path")
    m.add_argument("--paired", default=None, help="HR,RAMP,LAG of a reference shape: paired differences to it")
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    if a.cmd == "prevalence":
        print("\n".join(prevalence(a.aap_hr, a.persons, a.seed)))
    elif a.cmd == "divergence":
        shapes = tuple(tuple(t(v) for t, v in zip((float, int, int), sh.split(","))) for sh in a.shapes.split(";"))
        print(divergence(a.seed, shapes, session7=a.session7_geography).to_string(index=False))
    elif a.cmd == "shape":
        shape(a.hr, a.ramp, a.lag, a.seeds, a.out, a.aap_hr, full_programme=not a.fifth_programme)
    else:
        ref = None if a.paired is None else tuple(t(v) for t, v in zip((float, int, int), a.paired.split(",")))
        print(summary(a.path, ref).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Two cheap calibrations of the real-scale generator (docs/synthetic_data.md, "Real scale").

``prevalence``: the share of residents on work assessment allowance (and disability pension)
by age on three dates, for an ``aap_entry_hr``: the figure compared with NAV's published share
of 18-29-year-olds on the allowance. A rate, so a reduced population (``--persons``) suffices.

``shape``: the published design's true effect (mean over the four exposure years and by event
year) for a spill-over shape, from Bodø alone plus its smallest control (the truth needs only
the treated municipality), one line per seed appended to ``--out``. Seeds ``9000 + s`` are the
same for every shape (common random numbers), so shapes compare paired. The whole Bodø
programme runs in these persons (``programme_persons`` = the persons simulated); rows marked
``"programme": "fifth"`` (or unmarked) are from a first version that spread it over the whole
real-scale population, so that it ran at a fifth of its size and the truth came out about 0.8
workdays lower than with all eleven municipalities.

    python benchmarks/calibrate_real_scale.py prevalence --aap-hr 2.0
    python benchmarks/calibrate_real_scale.py shape --hr 1.67 --ramp 36 --lag 4 --seeds 16 \\
        --out benchmarks/results/spillover_shape.jsonl
    python benchmarks/calibrate_real_scale.py summary benchmarks/results/spillover_shape.jsonl
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


def _rows(path: str) -> list[dict]:
    try:
        with open(path) as fh:
            return [json.loads(x) for x in fh if x.strip()]
    except FileNotFoundError:
        return []


def summary(path: str) -> pd.DataFrame:
    """Mean truth and event-year-3 truth per shape, with Monte Carlo SEs."""
    df = pd.DataFrame(_rows(path))
    df["year3"] = df["by_event"].map(lambda d: d.get("3", np.nan))
    df["programme"] = df.get("programme", pd.Series("fifth", index=df.index)).fillna("fifth")
    g = df.groupby(["programme", "aap", "hr", "ramp", "lag"])
    se = lambda x: x.std(ddof=1) / np.sqrt(len(x))  # noqa: E731
    return g.agg(seeds=("truth", "size"), mean_truth=("truth", "mean"), mean_truth_se=("truth", se),
                 year3=("year3", "mean"), year3_se=("year3", se)).round(2).reset_index()


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
    m = sub.add_parser("summary")
    m.add_argument("path")
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    if a.cmd == "prevalence":
        print("\n".join(prevalence(a.aap_hr, a.persons, a.seed)))
    elif a.cmd == "shape":
        shape(a.hr, a.ramp, a.lag, a.seeds, a.out, a.aap_hr, full_programme=not a.fifth_programme)
    else:
        print(summary(a.path).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

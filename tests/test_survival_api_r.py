"""The public survival fitters against R on data sets the rest of the suite does not use.

Reference numbers from ``tests/reference/survival_api.R`` (Debian R 4.2.2, survival 3.5-3,
cmprsk 2.2-11), which also wrote the data files: lung (R status coding 1 = censored,
2 = dead; missing covariates), veteran (a factor covariate, strata, robust SE), heart
(counting process, cluster SE) and mgus2 (competing risks: 1 = PCM, 2 = death).
Tolerances: 1e-7 relative for coefficients and SEs (R's own convergence is 1e-12 on the
log-likelihood), 1e-8 absolute for curves and tests.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ips_study as ips

DATA = Path(__file__).parent / "data"
REL = 1e-7


def close(a, b, rel=REL, abs_=0.0):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rel, atol=abs_)


@pytest.fixture(scope="module")
def lung():
    return pd.read_csv(DATA / "lung.csv")


@pytest.mark.parametrize("ties, coef, se", [
    ("efron", [0.0110667645961186, -0.5526123955318371, 0.4637284751157322],
     [0.0092674110143657, 0.1677390537834223, 0.1135772661613712]),
    ("breslow", [0.0110411363857075, -0.5518895696376560, 0.4629470403345499],
     [0.00926677011420227, 0.16774244801782776, 0.11357405206057965]),
])
def test_cox_lung_r_status_coding(lung, ties, coef, se):
    # coxph(Surv(time, status == 2) ~ age + sex + ph.ecog, lung): 227 rows, 164 events
    r = ips.cox(lung, stop="time", event="status", event_value=2, ties=ties,
                covariates=["age", "sex", "ph.ecog"], missing="drop")
    assert (r.nobs, r.n_events) == (227, 164)
    close(r.params, coef)
    close(r.std_errors, se)
    assert r.se_type == "model"
    assert any("1 row(s) dropped" in n and "ph.ecog: 1" in n for n in r.notes)


def test_km_and_logrank_lung(lung):
    km = ips.kaplan_meier(lung, stop="time", event="status", event_value=2, by="sex")
    at = km.at_times([100, 365, 700]).set_index(["group", "time"])
    close(at["surv"], [0.8260869565217395, 0.3360878346393786, 0.0892846757337365,
                       0.9220883534136546, 0.5264630301859056, 0.2496433305400745], abs_=1e-10)
    close(at["lower"], [0.7518517229859308, 0.2527291433279733, 0.0427810611068541,
                        0.8435052055953540, 0.4035798232667308, 0.1344088689323602], abs_=1e-10)
    close(at["upper"], [0.879870543128555, 0.421302168222719, 0.156931884658132,
                        0.962077737665589, 0.635316232824086, 0.383049672138986], abs_=1e-10)
    med = km.medians()
    assert med.loc[1].tolist() == [270, 210, 306] and med.loc[2].tolist() == [426, 345, 524]
    close(km.test["statistic"], 10.3267419548856)
    close(km.test["observed"], [112, 53])
    close(km.test["expected"], [91.5817390295728, 73.4182609704272])


@pytest.fixture(scope="module")
def veteran():
    d = pd.read_csv(DATA / "veteran.csv")
    # R's factor level order: squamous is the reference level
    d["celltype"] = pd.Categorical(d["celltype"], ["squamous", "smallcell", "adeno", "large"])
    return d


def test_cox_veteran_factor_robust(veteran):
    r = ips.cox(veteran, stop="time", event="status", covariates=["trt", "celltype", "karno"],
                robust=True)
    assert r.params.index.tolist() == ["trt", "celltype[smallcell]", "celltype[adeno]",
                                       "celltype[large]", "karno"]
    close(r.params, [0.2617440900575150, 0.8249801878571302, 1.1539944138617664,
                     0.3946254639458109, -0.0312712960478022])
    close(r.std_errors, [0.17062773448692453, 0.30404649464279421, 0.28407317431294493,
                         0.24761671238469618, 0.00538491846907166])
    assert r.se_type == "robust"


def test_cox_veteran_strata_and_logrank(veteran):
    r = ips.cox(veteran, stop="time", event="status", covariates=["trt", "karno"],
                strata="celltype")
    close(r.params, [0.2328346768894959, -0.0358011230001631])
    close(r.std_errors, [0.20109874489548657, 0.00553019093073314])
    km = ips.kaplan_meier(veteran, stop="time", event="status", by="celltype")
    close(km.test["statistic"], 25.4037003457854)


def test_cox_heart_counting_process_cluster():
    heart = pd.read_csv(DATA / "heart.csv")
    r = ips.cox(heart, start="start", stop="stop", event="event",
                covariates=["age", "surgery", "transplant"], cluster="id")
    close(r.params, [0.0305363149141719, -0.7733276453004762, 0.0160956052965236])
    close(r.std_errors, [0.0143280673043023, 0.3332410723374934, 0.3093096926468308])
    assert r.se_type == "cluster" and r.n_units == heart["id"].nunique()
    km = ips.kaplan_meier(heart, start="start", stop="stop", event="event")
    at = km.at_times([50, 200, 1000])
    close(at["surv"], [0.675480681821361, 0.420491158438226, 0.205081358437773], abs_=1e-10)
    close(at["lower"], [0.575011055105491, 0.322491909194002, 0.118337728971642], abs_=1e-10)
    close(at["upper"], [0.757176889461936, 0.515198918542671, 0.308463173722556], abs_=1e-10)


@pytest.fixture(scope="module")
def mgus2():
    return pd.read_csv(DATA / "mgus2.csv")


def test_cuminc_and_gray_mgus2(mgus2):
    ci = ips.cumulative_incidence(mgus2, stop="etime", event="event", cause=1, by="sex")
    close(ci.test["statistic"], 1.19450782507551)
    at = ci.at_times([60, 120, 240]).set_index(["group", "time"])
    close(at["estimate"], [0.0397896215044053, 0.0738856643759262, 0.1049406741861370,
                           0.0293462844583663, 0.0553102406481571, 0.0956507550309775],
          abs_=1e-10)
    death = ips.cumulative_incidence(mgus2, stop="etime", event="event", cause=2, by="sex")
    close(death.test["statistic"], 11.65125901212774)
    var = np.concatenate([ci._curves[g].set_index("time")["variance"]
                          .reindex([60, 120, 240], method="ffill").to_numpy() for g in "FM"])
    close(var, [6.09151073753352e-05, 1.16239781702478e-04, 0.000204983932384499,
                3.80607066346887e-05, 7.48735296354545e-05, 0.000185371704738286], rel=1e-6)


def test_fine_gray_mgus2(mgus2):
    d = mgus2.assign(male=(mgus2["sex"] == "M").astype(int))
    r = ips.fine_gray(d, stop="etime", event="event", cause=1, covariates=["age", "male"])
    close(r.params, [-0.0173381534946792, -0.2600382378841282], rel=1e-6)
    close(r.std_errors, [0.00573710323023716, 0.18568103479216666], rel=1e-6)
    assert r.se_type == "crr" and r.n_events == int((d["event"] == 1).sum())


CUTS = np.array([100, 200, 300, 400, 500, 700])


def person_periods(lung: pd.DataFrame) -> pd.DataFrame:
    """R's ``survSplit(..., cut = c(100, 200, 300, 400, 500, 700), episode = "k")``."""
    d = lung.dropna(subset=["inst", "ph.ecog"]).reset_index(drop=True)
    # the period of the end of follow-up: 1 + number of cut points strictly before it
    n_per = 1 + np.searchsorted(CUTS, d["time"].to_numpy(), side="left")
    rows = np.repeat(np.arange(len(d)), n_per)
    k = np.arange(len(rows)) - np.repeat(np.cumsum(n_per) - n_per, n_per) + 1
    pp = d.iloc[rows].reset_index(drop=True)
    pp["k"] = k
    last = k == n_per[rows]
    pp["y"] = (last & (pp["status"].to_numpy() == 2)).astype(int)
    pp["female"] = (pp["sex"] == 2).astype(int)
    # ECOG 3 (one person) merged into 2, as in the R script
    pp["ecog"] = pp["ph.ecog"].clip(upper=2).astype(int).astype(str)
    return pp


@pytest.mark.parametrize("link, coef, se_observed, se_expected", [
    ("logit", [-0.7560592313074457, 0.0122649495820523, 0.4463592667713602, 1.1185667331630869],
     [0.15191045766139333, 0.00781988047260299, 0.12239286223629141, 0.28373695544257277],
     [0.15191045718249432, 0.00781988044766349, 0.12239286171812597, 0.28373695487164630]),
    ("cloglog", [-0.6369099851375205, 0.0107630735078435, 0.3868603568087432,
                 0.9216672848618661],
     [0.12496612418853875, 0.00674659256758473, 0.10043643308228271, 0.23117295306194544],
     [0.12671345272471804, 0.00688902753437348, 0.10224373370309384, 0.23800838738861452]),
])
def test_discrete_hazard_lung_person_periods(lung, link, coef, se_observed, se_expected):
    pp = person_periods(lung)
    r = ips.discrete_hazard(pp, event="y", duration="k", time=None, treat="female",
                            cluster="inst", covariates=["age", "ecog"], link=link)
    assert (r.nobs, r.n_events, r.n_units) == (768, 163, 18)
    # age stays one numeric coefficient; ecog (text) becomes dummies
    assert r.params.index.tolist() == ["female", "age", "ecog[1]", "ecog[2]"]
    close(r.params, coef, rel=1e-6)
    # CR1 sandwich around the observed information (statsmodels' convention); R's
    # sandwich::vcovCL uses the expected information: equal for logit (canonical link),
    # 1.4-2.9 % apart for cloglog here (docs/survival.md). The R side differentiates the
    # score numerically (relative error ~1e-9).
    close(r.std_errors, se_observed, rel=1e-6)
    if link == "cloglog":
        assert not np.allclose(r.std_errors, se_expected, rtol=0.01)

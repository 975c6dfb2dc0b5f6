"""ips.synth, ips.sdid, ips.att_gt and ips.bacon with the y/unit/time/treat roles of ips.did,
on the public reference data under other column names, equal the published numbers."""

import warnings

import pandas as pd
import pytest

import ips_study as ips
from ips_study.designs.roles import DesignError
from tests.test_staggered import DATA, R_DID


@pytest.fixture(scope="module")
def mpdta_roles(mpdta):
    """mpdta under other names, with an absorbing 0/1 treatment instead of the group column."""
    d = mpdta.rename(columns={"lemp": "log_emp", "countyreal": "county", "year": "yr"})
    d["mw"] = ((d["first.treat"] > 0) & (d["yr"] >= d["first.treat"])).astype(int)
    return d.drop(columns=["first.treat", "treat"])


@pytest.fixture(scope="module")
def mpdta():
    return pd.read_csv(DATA / "mpdta.csv")


@pytest.mark.parametrize("kind", list(R_DID))
def test_att_gt_from_treat_equals_r_did(mpdta_roles, kind):
    gt = ips.att_gt(mpdta_roles, y="log_emp", unit="county", time="yr", treat="mw")
    est, se = R_DID[kind]
    res = gt.aggregate(kind)
    assert res.estimate == pytest.approx(est, abs=1e-6)
    assert res.std_error == pytest.approx(se, abs=1e-6)


def test_att_gt_keeps_the_group_column_way(mpdta):
    a = ips.att_gt(mpdta, y="lemp", unit="countyreal", time="year", group="first.treat")
    b = ips.att_gt(mpdta, outcome="lemp", unit="countyreal", time="year", group="first.treat")
    assert a.tidy().equals(b.tidy())
    with pytest.raises(DesignError, match="exactly one of treat= .* and group="):
        ips.att_gt(mpdta, y="lemp", unit="countyreal", time="year")


def test_bacon_equals_the_twfe_of_did(mpdta_roles):
    b = ips.bacon(mpdta_roles, y="log_emp", unit="county", time="yr", treat="mw")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = ips.did(mpdta_roles, y="log_emp", unit="county", time="yr", treat="mw",
                    inference="cluster")
    assert b.estimate == pytest.approx(d.estimate, abs=1e-10)
    assert b.components["weight"].sum() == pytest.approx(1.0, abs=1e-12)


@pytest.fixture(scope="module")
def prop99_roles(prop99):
    return prop99.rename(columns={"state": "region", "year": "t", "cigsale": "packs",
                                  "d": "prop99"})


def test_synth_roles_equal_the_published_estimate(prop99, prop99_roles):
    new = ips.synth(prop99_roles, y="packs", unit="region", time="t", treat="prop99",
                    placebo=False, leave_one_out=False)
    old = ips.synth(prop99, unit="state", time="year", outcome="cigsale", treated="d",
                    placebo=False, leave_one_out=False)
    assert new.estimate == pytest.approx(-19.6, abs=0.15)  # ADH 2010 / Arkhangelsky Table 1
    assert new.estimate == old.estimate


@pytest.mark.parametrize("method,expected,tol", [("sdid", -15.60, 0.01), ("sc", -19.62, 0.01),
                                                 ("did", -27.349, 0.001)])
def test_sdid_roles_equal_table1(prop99_roles, method, expected, tol):
    res = ips.sdid(prop99_roles, y="packs", unit="region", time="t", treat="prop99",
                   method=method, inference=None)
    assert res.estimate == pytest.approx(expected, abs=tol)


def test_synth_family_refuses_gaps_and_bad_roles(prop99_roles):
    gap = prop99_roles.drop(index=prop99_roles.index[5])
    for fn in (ips.synth, ips.sdid):
        with pytest.raises(DesignError, match="balanced panel: 1 'region' unit.*time='t'") as e:
            fn(gap, y="packs", unit="region", time="t", treat="prop99")
        assert "\n" not in str(e.value)
    with pytest.raises(DesignError, match="give y= only"):
        ips.sdid(prop99_roles, y="packs", outcome="other", unit="region", time="t",
                 treat="prop99")
    with pytest.raises(DesignError, match="treat='packs' must be a 0/1"):
        ips.synth(prop99_roles, y="packs", unit="region", time="t", treat="packs")

"""ips.did and ips.event_study on outside-shaped data equal pyfixest (estimate and CRV1 SE).

Data and numbers: tests/reference/did_roles_pyfixest.py (pyfixest 0.60.0): Norwegian column
names, integer person ids and years, persons nested in municipalities, three treated
municipalities adopting in 2014 and 2016, one of them unbalanced, 12% of rows missing.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import ips_study as ips

REF = "tests/reference/did_roles_pyfixest_output.csv"
PANEL = "tests/reference/did_roles_panel.csv"


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(PANEL), pd.read_csv(REF).set_index(["case", "term"])


def _cluster(fn, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the few-treated-clusters warning of CRV1
        return fn(**kw, inference="cluster")


@pytest.mark.parametrize("case, extra", [
    ("did", {}),
    ("did_x_w", {"covariates": ["alder"], "weights": "vekt"}),
])
def test_did_equals_pyfixest(data, case, extra):
    df, ref = data
    res = _cluster(ips.did, data=df, y="lonn", unit="pid", time="aar", treat="tiltak",
                   cluster="kommune", **extra)
    r = ref.loc[(case, "treated_post")]
    assert res.extras["n_treated"] == 3
    assert res.estimate == pytest.approx(r["estimate"], abs=1e-8)
    assert res.std_error == pytest.approx(r["std_error"], abs=1e-8)


def test_event_study_equals_pyfixest(data):
    df, ref = data
    res = _cluster(ips.event_study, data=df, y="lonn", unit="pid", time="aar", treat="tiltak",
                   cluster="kommune", bins=(-3, 3))
    r = ref.loc["event"]
    np.testing.assert_allclose(res.params[r.index], r["estimate"], atol=1e-8, rtol=0)
    np.testing.assert_allclose(res.std_errors[r.index], r["std_error"], atol=1e-8, rtol=0)


def test_rank_methods_run_on_the_outside_panel(data):
    df, _ = data
    res = ips.did(df, y="lonn", unit="pid", time="aar", treat="tiltak", cluster="kommune",
                  reps=199)
    assert res.inference == "placebo-t" and res.extras["n_placebos"] == 199
    assert 0 < res.p_value <= 1

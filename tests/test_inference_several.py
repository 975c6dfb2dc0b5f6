"""placebo-t with several treated units (issue 17, session 6).

The variance model over placebo assignments is ``A Σk² + B Σk²/M`` in the estimator's cell
loadings ``k`` (with population weights ``Σ w_l²`` and ``1/Σ M_l`` for a common timing), the
reference t(d) with the Satterthwaite degrees of freedom of correlated draws. The by-hand
cases are small enough to write every number down.
"""

from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import ips_study as ips
from ips_study.inference.assignments import (assignment_loadings, draw_assignments,
                                             size_covariates)
from ips_study.inference.honest import from_event_study
from ips_study.inference.variance import (dependent_df, fit_variance_model,
                                          prediction_weights, variance_function,
                                          variance_prediction)

TREATED = {"t1": 100.0, "t2": 400.0}
CONTROLS = {"c1": 50.0, "c2": 150.0, "c3": 300.0, "c4": 600.0, "c5": 1000.0}


def small_panel(seed=2, years=range(2010, 2014), start=2012, adopt=None):
    """Two treated units (100 and 400 persons) and five controls, population weights."""
    rng = np.random.default_rng(seed)
    adopt = adopt or {u: start for u in TREATED}
    rows = []
    for u, n in {**TREATED, **CONTROLS}.items():
        a = rng.normal()
        for t in years:
            rows.append({"u": u, "t": t, "n": n, "d": int(u in adopt and t >= adopt[u]),
                         "y": a + 0.2 * t + 0.5 * rng.normal() + 8 * rng.normal() / np.sqrt(n)})
    return pd.DataFrame(rows)


def fitted(df, method, **opts):
    return ips.did(df, y="y", unit="u", time="t", treat="d", weights="n", inference=method,
                   **opts)


def test_covariates_are_the_weight_shares_by_hand():
    # common timing over 4 years, treated from the third: dd = post - 1/2, |dd|^2 = 1, so a
    # set of units with sizes n_l has loadings n_l dd / N (N = sum n_l), Σk² = Σ (n_l/N)²
    # and Σk²/M = Σ (n_l/N)² / n_l = 1/N
    fit = fitted(small_panel(), "placebo").fit
    assigns, enumerated = draw_assignments(fit)
    assert enumerated and len(assigns) == 10                   # C(5, 2)
    size = dict(zip(fit.unit_labels, fit.unit_sizes()))
    L = np.eye(1)
    X = size_covariates(fit, assigns, assignment_loadings(fit, assigns, L))[:, 0]
    for (xa, xb), a in zip(X, assigns):
        n = np.array([size[fit.unit_labels[j]] for j in a])
        assert xa == pytest.approx(np.sum((n / n.sum()) ** 2), rel=1e-12)
        assert xb == pytest.approx(1 / n.sum(), rel=1e-12)
    X1 = size_covariates(fit, fit.treated_units[None],
                         assignment_loadings(fit, fit.treated_units[None], L))[0, 0]
    np.testing.assert_allclose(X1, [(100 / 500) ** 2 + (400 / 500) ** 2, 1 / 500], rtol=1e-12)


def test_placebo_t_several_treated_by_hand():
    df = small_panel()
    raw = fitted(df, "placebo")                        # the unscaled placebo estimates b_r
    res = fitted(df, "placebo-t", fgls=False)          # OLS fit of the variance model
    fit = res.fit
    assigns, _ = draw_assignments(fit)
    size = fit.unit_sizes()
    b = raw._null_draws[:, 0]
    N = size[assigns].sum(axis=1)
    X = np.column_stack([(size[assigns] ** 2).sum(axis=1) / N ** 2, 1 / N])
    z = np.array([0.2 ** 2 + 0.8 ** 2, 1 / 500])
    A, B = np.linalg.lstsq(X, b ** 2, rcond=None)[0]
    assert A > 0 and B > 0                             # no bound binds in this case
    v1 = A * z[0] + B * z[1]
    h = X @ np.linalg.solve(X.T @ X, z)                # v1 = h @ b²
    # Cov(b_r, b_s) = Σ over shared units j of (n_j/N_r)(n_j/N_s)|dd|² (A + B/n_j)
    R = len(b)
    C = np.zeros((R, R))
    for r in range(R):
        for s in range(R):
            for j in set(assigns[r]) & set(assigns[s]):
                C[r, s] += size[j] ** 2 / (N[r] * N[s]) * (A + B / size[j])
    d = v1 ** 2 / (h @ (C ** 2) @ h)
    params = res.extras["variance_function"]["treated_post"]
    assert params["A"] == pytest.approx(A, rel=1e-9)
    assert params["B"] == pytest.approx(B, rel=1e-9)
    assert params["df"] == pytest.approx(d, rel=1e-9)
    assert res.std_error == pytest.approx(np.sqrt(v1), rel=1e-9)
    assert res.p_value == pytest.approx(2 * stats.t.sf(abs(res.estimate) / np.sqrt(v1), d),
                                        rel=1e-9)
    lo, hi = res.conf_int().loc[res.main_term]
    assert hi - res.estimate == pytest.approx(stats.t.isf(0.025, d) * np.sqrt(v1), rel=1e-9)
    np.testing.assert_allclose(res._null_draws[:, 0], b * np.sqrt(v1 / (X @ [A, B])), rtol=1e-9)
    # the rank form keeps the same draws and ranks the estimate among them
    rank = res.with_inference("placebo-t", fgls=False, reference="rank")
    assert rank.p_value == pytest.approx(
        (1 + np.sum(np.abs(res._null_draws[:, 0]) >= abs(res.estimate))) / (R + 1))


def test_several_treated_placebo_t_differs_from_the_equal_weight_model():
    # the model before session 6 was A + B mean(1/M) over the assigned units with a rank
    # p-value; on this panel its p-value is a multiple of 1/11 (10 assignments) and the
    # new one is not
    res = fitted(small_panel(), "placebo-t")
    assert not np.isclose(res.p_value * 11, round(res.p_value * 11))
    assert res.extras["reference"] == "t"


def test_fit_variance_model_bounds_and_one_unit_equivalence():
    X = np.array([[1.0, 0.1], [1.0, 0.2], [0.5, 0.4], [0.5, 0.1]])
    np.testing.assert_allclose(fit_variance_model(X @ [2.0, 3.0], X), [2.0, 3.0], rtol=1e-9)
    # squares that fall with the second covariate: B would be negative, so B = 0 and A alone
    w2 = np.array([4.0, 3.0, 0.5, 0.6])
    c = fit_variance_model(w2, X, fgls=False)
    assert c[1] == 0 and c[0] == pytest.approx((X[:, 0] @ w2) / (X[:, 0] @ X[:, 0]))
    # with X = (1, 1/M) and independent draws, the several-unit pieces are the one-unit
    # model: same (A, B), same fitted variance and the same Satterthwaite df
    rng = np.random.default_rng(0)
    inv_m = 1 / np.exp(rng.uniform(np.log(200), np.log(20000), 25))
    v = 1.0 + 900 * inv_m
    w2 = v * rng.chisquare(1, 25)
    A, B = variance_function(w2, inv_m, fgls=True)
    X = np.column_stack([np.ones(25), inv_m])
    c = fit_variance_model(w2, X)
    np.testing.assert_allclose(c, [A, B], rtol=1e-8)
    z = np.array([1.0, 1 / 200])
    v0, d0 = variance_prediction(w2, inv_m, [z[1]])
    h = prediction_weights(X, c, z)
    # h holds the weights at the final fit, the fit used the previous iteration's: 0.1 % apart
    assert h @ w2 == pytest.approx(v0[0], rel=2e-3)
    c50 = fit_variance_model(w2, X, iterations=50)   # at the fixed point they agree
    assert prediction_weights(X, c50, z) @ w2 == pytest.approx(z @ c50, rel=1e-8)
    d = dependent_df(z @ c, h, np.diag(np.sqrt(X @ c)))
    assert d == pytest.approx(d0[0], rel=1e-6)


def test_a_bound_common_part_keeps_its_uncertainty():
    # squares that fall below the sampling part alone: A comes out negative, is set to 0 and
    # B refitted. The treated set's fitted variance is then B * x_B, tiny for a set of large
    # total size; its degrees of freedom must still carry A's uncertainty (both columns of
    # the fit), or a null estimate gets p ~ 1e-4 (seen in sim_size_extremes --several)
    X = np.column_stack([np.full(6, 0.5), [0.01, 0.02, 0.04, 0.08, 0.16, 0.32]])
    w2 = 10 * X[:, 1] - 0.05
    c = fit_variance_model(w2, X, fgls=False)
    assert c[0] == 0 and c[1] > 0
    z = np.array([0.8, 0.005])
    h = prediction_weights(X, c, z, fgls=False)
    np.testing.assert_allclose(h, X @ np.linalg.solve(X.T @ X, z), rtol=1e-10)
    F = np.diag(np.sqrt(X @ c))
    one_column = X[:, 1] * z[1] / (X[:, 1] @ X[:, 1])        # the fit that forgets A
    assert dependent_df(z @ c, h, F) < 0.1 * dependent_df(z @ c, one_column, F)


def test_event_study_several_treated_placebo_t_has_a_covariance_for_honest_did():
    df = small_panel(years=range(2008, 2016), adopt={"t1": 2012, "t2": 2013}, seed=5)
    es = ips.event_study(df, y="y", unit="u", time="t", treat="d", weights="n", bins=(-3, 2))
    assert es.inference == "placebo-t" and es.has_cov
    terms = list(es.params.index)                      # event_<k> and post_average
    cov = es.cov.loc[terms, terms].to_numpy()
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), es.std_errors[terms], rtol=1e-12)
    assert np.all(np.linalg.eigvalsh(cov) > -1e-12)
    # the correlation is the rescaled placebo draws' (uncentred)
    D = es._null_draws
    S = D.T @ D / len(D)
    corr = S / np.sqrt(np.outer(np.diag(S), np.diag(S)))
    np.testing.assert_allclose(cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov))), corr,
                               atol=1e-12)
    hr = from_event_study(es, restriction="SD", m=[0.0])
    assert np.isfinite(hr.table[["lb", "ub"]].to_numpy()).all()


def test_all_assignments_of_the_small_panel():
    # guard for the by-hand tests above: the 10 assignments are the 2-subsets of the controls
    fit = fitted(small_panel(), "placebo").fit
    assigns, _ = draw_assignments(fit)
    controls = np.flatnonzero(~fit.is_treated_unit)
    assert sorted(map(tuple, np.sort(assigns, axis=1))) == sorted(combinations(controls, 2))


@pytest.mark.slow
def test_size_holds_with_three_treated_units():
    # issue 17: three treated units of 200, 2,000 and 20,000 persons adopting together among
    # 25 controls (log-uniform 200 - 20,000), AR(1) municipality-year shocks with t(5)
    # innovations: the worst cell of benchmarks/sim_size_extremes.py --several, whose first
    # 300 replications (seed 19) these are (about 45 s of CPU). At a true 5% the binomial SE
    # of the rate is 0.0126, so a rate above 0.085 (2.75 SE) has probability 0.3%. The model
    # before session 6 (A + B mean(1/M), rank p-value) rejected 9.7% of these nulls, the
    # loadings model without the bound rule 8.0%, the current one 5.0%.
    from ips_study.parallel import replicate
    from ips_study.simulate import size_replication, summarise

    recs = replicate(size_replication, 300, seed=19,
                     kwargs=dict(methods=("placebo-t",), treated_sizes=(200, 2000, 20000),
                                 starts=(5,), shocks="ar1-t5"))
    rate = summarise(recs, ("placebo-t",)).set_index("method")["rejection_rate"]
    assert rate["placebo-t"] <= 0.085
    # nor conservative: at least 2% (2.4 SE below 5%)
    assert rate["placebo-t"] >= 0.02


def test_att_gt_results_say_how_to_get_other_inference():
    # ips.att_gt has no inference= argument: the error points at what exists instead
    from ips_study.simulate import size_dgp

    panel, _ = size_dgp(np.random.default_rng(1), treated_sizes=(200, 2000), starts=(4, 6))
    res = ips.att_gt(panel, y="y", unit="unit", time="year", treat="treat")
    for r in (res, res.aggregate("simple")):
        with pytest.raises(NotImplementedError, match=r"aggregate\(kind, bootstrap=True\)") as e:
            r.with_inference("placebo")
        assert "\n" not in str(e.value) and "inference='placebo'" in str(e.value)


def test_ferman_pinto_several_treated_keeps_the_equal_weight_model():
    # the loadings model made Ferman-Pinto's residual draws over-reject (13-17 % in
    # sim_size_extremes --several); it keeps A + B mean(1/M) and the rank p-value
    df = small_panel()
    ct = fitted(df, "conley-taber")
    fp = fitted(df, "ferman-pinto", fgls=False)
    fit = fp.fit
    assigns, _ = draw_assignments(fit)
    inv = 1 / fit.unit_sizes()
    x, x1 = inv[assigns].mean(axis=1), inv[fit.treated_units].mean()
    W = ct._null_draws[:, 0]
    A, B = variance_function(W ** 2, x, fgls=False)
    np.testing.assert_allclose(fp._null_draws[:, 0], W * np.sqrt((A + B * x1) / (A + B * x)),
                               rtol=1e-12)
    assert fp.std_error == pytest.approx(np.sqrt(A + B * x1), rel=1e-12)

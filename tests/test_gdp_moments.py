"""GDP (CLT) and moments accountants: definitions, the reference grid's gdp column, parity
with Opacus's GaussianAccountant and with the classic log-moment tail bound."""
import logging
import math

import numpy as np
import pytest
from scipy.stats import norm

import ewaccount as ew
from ewaccount import gdp, moments, rdp
from ewaccount._epsgrid import EPS_GRID_BITS
from peers import require

# ../shared/reference/dpsgd_grid_delta1e-5.csv (delta = 1e-5), columns sigma, q, T and
# gdp_clt = Bu et al. CLT mu, then the exact Gaussian conversion, 3 decimals.
# Reproduced to its 3 decimals.
GRID_GDP = [
    (0.6, 0.001, 100, 0.121), (0.6, 0.001, 1000, 0.426), (0.6, 0.001, 10000, 1.505),
    (0.6, 0.010, 100, 1.505), (0.6, 0.010, 1000, 5.563), (0.6, 0.010, 10000, 23.433),
    (0.6, 0.050, 100, 9.641), (0.6, 0.050, 1000, 44.286), (0.6, 0.050, 10000, 270.455),
    (0.8, 0.001, 100, 0.057), (0.8, 0.001, 1000, 0.200), (0.8, 0.001, 10000, 0.702),
    (0.8, 0.010, 100, 0.702), (0.8, 0.010, 1000, 2.510), (0.8, 0.010, 10000, 9.641),
    (0.8, 0.050, 100, 4.230), (0.8, 0.050, 1000, 17.184), (0.8, 0.050, 10000, 87.715),
    (1.0, 0.001, 100, 0.037), (1.0, 0.001, 1000, 0.130), (1.0, 0.001, 10000, 0.458),
    (1.0, 0.010, 100, 0.458), (1.0, 0.010, 1000, 1.618), (1.0, 0.010, 10000, 6.007),
    (1.0, 0.050, 100, 2.701), (1.0, 0.050, 1000, 10.447), (1.0, 0.050, 10000, 48.663),
    (1.5, 0.001, 100, 0.020), (1.5, 0.001, 1000, 0.071), (1.5, 0.001, 10000, 0.248),
    (1.5, 0.010, 100, 0.248), (1.5, 0.010, 1000, 0.872), (1.5, 0.010, 10000, 3.138),
    (1.5, 0.050, 100, 1.444), (1.5, 0.050, 1000, 5.323), (1.5, 0.050, 10000, 22.283),
]


def pg(q, sigma):
    return ew.PoissonGaussian(sample_rate=q, noise_multiplier=sigma)


# -- GDP ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("sigma, q, T, ref", GRID_GDP)
def test_reference_grid_gdp_column_reproduced(sigma, q, T, ref):
    eps = ew.GDPAccountant().compose(pg(q, sigma), T).get_epsilon(1e-5)
    assert round(eps, 3) == pytest.approx(ref, abs=1e-9)


def test_mu_formula_homogeneous_heterogeneous_and_unsampled():
    assert gdp.mu_clt(0.01, 1.0, 1000) == pytest.approx(0.01 * math.sqrt(1000 * math.expm1(1.0)), rel=1e-15)
    segs = [(0.01, 1.0, 600), (0.02, 1 / 1.5, 400)]
    want = math.sqrt(600 * 1e-4 * math.expm1(1.0) + 400 * 4e-4 * math.expm1(1 / 2.25))
    assert gdp.mu_ledger(segs) == pytest.approx(want, rel=1e-15)
    acc = ew.GDPAccountant().compose(pg(0.01, 1.0), 600).compose(pg(0.02, 1.5), 400)
    assert acc.mu() == pytest.approx(want, rel=1e-15)
    # no subsampling: exactly sqrt(n)/sigma-GDP (Dong, Roth & Su 2022, Cor. 3.3)
    assert ew.GDPAccountant().compose(ew.Gaussian(noise_multiplier=2.0), 16).mu() == pytest.approx(2.0)


def test_delta_formula_against_direct_evaluation():
    for mu in (0.3, 1.0, 4.0):
        for e in (0.0, 0.5, 2.0, 6.0):
            direct = norm.cdf(-e / mu + mu / 2) - math.exp(e) * norm.cdf(-e / mu - mu / 2)
            assert gdp.delta(e, mu) == pytest.approx(direct, rel=1e-9, abs=1e-300)


def test_log_space_keeps_tiny_deltas():
    # where Phi differences underflow, log delta stays finite and monotone
    lds = [gdp.log_delta(e, 1.0) for e in (20.0, 40.0, 80.0)]
    assert all(math.isfinite(x) for x in lds) and lds[0] > lds[1] > lds[2]
    assert gdp.epsilon(1e-300, 1.0) > 0 and math.isfinite(gdp.epsilon(1e-300, 1.0))


def test_gdp_round_trip_and_zero_epsilon():
    mu = 0.8
    for d in (1e-2, 1e-5, 1e-12):
        assert gdp.delta(gdp.epsilon(d, mu), mu) == pytest.approx(d, rel=1e-9)
    d0 = 2 * norm.cdf(mu / 2) - 1
    assert gdp.epsilon(d0 * 1.01, mu) == 0.0


def test_gdp_kind_is_estimate_and_says_so():
    acc = ew.GDPAccountant().compose(pg(0.01, 1.0), 1000)
    res = acc.get_epsilon_result(1e-5)
    assert acc.kind == "estimate" and res.kind == "estimate" and res.estimate == res.value
    assert res.upper is None and "not a privacy guarantee" in res.note and "mu =" in res.route


def test_gdp_is_below_rdp_upper_bound_here():
    # the CLT is an estimate: at small T it undershoots (never a guarantee)
    assert ew.GDPAccountant().compose(pg(0.01, 1.0), 100).get_epsilon(1e-5) < \
        ew.RDPAccountant().compose(pg(0.01, 1.0), 100).get_epsilon(1e-5)


def test_gdp_validation():
    with pytest.raises(ValueError, match="steps"):
        gdp.mu_clt(0.01, 1.0, 0)
    with pytest.raises(ValueError, match="sample_rate"):
        gdp.mu_clt(1.5, 1.0, 10)
    with pytest.raises(ValueError, match="delta"):
        gdp.epsilon(0.0, 1.0)
    with pytest.raises(ValueError, match="mu"):
        gdp.delta(1.0, -1.0)


@pytest.mark.parametrize("q, sigma, T", [(0.01, 1.0, 1000), (0.001, 0.6, 100), (0.05, 0.8, 10000),
                                         (0.004, 2.0, 50000)])
@pytest.mark.parametrize("delta", [1e-5, 1e-8])
@pytest.mark.filterwarnings("ignore:GDP accounting is experimental")
def test_gdp_equals_opacus_gaussian_accountant(q, sigma, T, delta):
    require("opacus")
    from opacus.accountants import GaussianAccountant
    o = GaussianAccountant()
    o.history = [(sigma, q, T)]
    theirs = o.get_epsilon(delta, poisson=True)
    ours = ew.GDPAccountant().compose(pg(q, sigma), T).get_epsilon(delta)
    assert ours == pytest.approx(theirs, rel=1e-9)


# -- moments accountant ------------------------------------------------------------------------------

def brute_moments_epsilon(q, sigma, T, delta):
    lam = np.arange(1, 33)
    k = np.maximum(rdp.step_cgf(q, 1 / sigma, lam + 1.0, "pq", rigorous=True),
                   rdp.step_cgf(q, 1 / sigma, lam + 1.0, "qp", rigorous=True))
    return float(np.min((T * k + math.log(1 / delta)) / lam))


@pytest.mark.parametrize("q, sigma, T", [(0.01, 1.0, 1000), (0.05, 0.6, 100), (0.001, 4.0, 10000)])
def test_moments_epsilon_is_the_definition(q, sigma, T):
    acc = ew.MomentsAccountant().compose(pg(q, sigma), T)
    got, brute = acc.get_epsilon(1e-5), brute_moments_epsilon(q, sigma, T, 1e-5)
    # the accountant rounds eps up onto the eps grid (2^-42 of its binade): one step at most
    step = math.ldexp(1.0, math.frexp(max(brute, 1.0))[1] - EPS_GRID_BITS)
    assert brute * (1 - 1e-13) <= got <= brute * (1 + 1e-13) + step


def test_moments_log_moments_gaussian_closed_form():
    # Gaussian: alpha(lambda) = lambda (lambda + 1) / (2 sigma^2) (Abadi et al. 2016)
    lm = moments.log_moments([(1.0, 0.5, 1)], moments.LAMBDAS, rigorous=False)
    lam = np.array(moments.LAMBDAS, dtype=float)
    np.testing.assert_allclose(lm, lam * (lam + 1) * 0.125, rtol=1e-15)


@pytest.mark.parametrize("q, sigma, T", [(0.01, 1.0, 1000), (0.05, 0.6, 100), (0.001, 4.0, 10000),
                                         (0.02, 0.8, 5000)])
def test_moments_never_below_rdp(q, sigma, T):
    m = ew.MomentsAccountant().compose(pg(q, sigma), T)
    r = ew.RDPAccountant().compose(pg(q, sigma), T)
    for d in (1e-5, 1e-10):
        assert m.get_epsilon(d) >= r.get_epsilon(d)


def test_moments_delta_round_trip_and_bounds():
    acc = ew.MomentsAccountant().compose(pg(0.01, 1.0), 1000)
    e = acc.get_epsilon(1e-5)
    assert acc.get_delta(e) <= 1e-5 * (1 + 1e-12)
    assert acc.get_delta(0.0) == 1.0
    assert acc.get_delta(50.0) < 1e-30


def test_moments_kind_route_note():
    acc = ew.MomentsAccountant().compose(pg(0.01, 1.0), 1000)
    res = acc.get_epsilon_result(1e-5)
    assert acc.kind == res.kind == "upper" and "Abadi" in res.route and "lambda = 7" in res.route
    with pytest.raises(ValueError, match="lambdas"):
        moments.log_moments([(0.01, 1.0, 10)], [0, 1])


@pytest.mark.parametrize("q, sigma, T", [(0.01, 1.0, 1000), (0.05, 0.6, 100), (0.004, 1.1, 3000)])
def test_moments_matches_classic_tail_bound_on_opacus_log_moments(q, sigma, T):
    # TF-Privacy's classic conversion: eps = min_lambda (T alpha(lambda) + log 1/delta)/lambda with
    # alpha(lambda) = lambda * RDP(lambda + 1) from Opacus's integer-order RDP
    require("opacus")
    logging.getLogger("absl").setLevel(logging.ERROR)
    from opacus.accountants.analysis import rdp as orr
    lam = np.arange(1, 33)
    r = np.asarray(orr.compute_rdp(q=q, noise_multiplier=sigma, steps=T, orders=list(lam + 1.0)))
    classic = float(np.min((lam * r + math.log(1e5)) / lam))
    ours = ew.MomentsAccountant().compose(pg(q, sigma), T).get_epsilon(1e-5)
    assert ours == pytest.approx(classic, rel=1e-6)

"""Kernels against independent references: mpmath (precision noted per source), closed
forms, and the compiled module against its pure-Python twin."""
import json
import math
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest

from ewaccount._kernels import core
from ewaccount.pllr import cgf, step_cumulants, tilted_moments

REFS = json.loads((Path(__file__).parent / "reference" / "mpmath_refs.json").read_text())

# Golden per-step cumulants from ../shared/reference/vectors.json: 30-digit mpmath
# quadrature with breakpoints, printed to 12 significant digits (an independent 40-digit
# check agrees to 3e-12).
GOLDEN = [
    (0.01, 0.8,
     [-0.000167165304818, 0.000317104680315, 4.70766836168e-05, 1.61981675138e-05, 9.46643368639e-06],
     [0.000176652536816, 0.000374279772183, 6.98117506129e-05, 3.17282160337e-05, 2.46540965607e-05]),
    (0.0005, 1.0,
     [-2.14209920224e-07, 4.2784785403e-07, 1.71110002471e-09, 1.93302637596e-11, 5.27885281969e-13],
     [2.14496727794e-07, 4.29568708524e-07, 1.73069969226e-09, 1.9874703912e-11, 5.61695980122e-13]),
]


@pytest.mark.parametrize("q, sigma, gx, gy", GOLDEN)
def test_golden_cumulants(q, sigma, gx, gy):
    cx, cy = step_cumulants(q, 1.0 / sigma)
    np.testing.assert_allclose(cx, gx, rtol=1e-9)
    np.testing.assert_allclose(cy, gy, rtol=1e-9)


@pytest.mark.parametrize("case", REFS["moments"], ids=lambda c: f"q{c['q']}-s{c['sigma']}-t{c['t']}")
def test_cumulants_match_mpmath(case):
    # tests/reference/mpmath_refs.json: mp.dps = 40, stored to 20 digits
    ref = np.array([float(k) for k in case["kappa"]])
    got = tilted_moments(case["q"], 1.0 / case["sigma"], float(case["t"])).cumulants()
    np.testing.assert_allclose(got, ref, rtol=1e-10)


@pytest.mark.parametrize("case", REFS["cgf"], ids=lambda c: f"q{c['q']}-s{c['sigma']}")
def test_cgf_matches_mpmath(case):
    # K is the log of an integral near 1 where K is small: absolute accuracy ~1e-16 there
    ref = np.array([float(k) for k in case["K"]])
    got = cgf(case["q"], 1.0 / case["sigma"], case["t"])
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-16)


@pytest.mark.parametrize("q, sigma", [(0.01, 1.25), (0.2, 0.5), (1e-4, 3.0)])
@pytest.mark.parametrize("alpha", [2, 3, 7, 32, 256])
def test_cgf_integer_orders_closed_form(q, sigma, alpha):
    # E_P[(1-q+q e^u)^a] = sum_k C(a,k) (1-q)^(a-k) q^k e^{k(k-1) mu^2 / 2}, in 50-digit mpmath
    mp.mp.dps = 50
    mu = mp.mpf(1) / mp.mpf(sigma)
    qq = mp.mpf(q)
    exact = mp.log(mp.fsum(mp.binomial(alpha, k) * (1 - qq) ** (alpha - k) * qq ** k
                           * mp.exp(k * (k - 1) * mu ** 2 / 2) for k in range(alpha + 1)))
    got = cgf(q, 1.0 / sigma, [float(alpha)])[0]
    assert got == pytest.approx(float(exact), rel=1e-11, abs=1e-16)


def test_cgf_change_of_measure_and_zeros():
    # K(0) = K(1) = 0 and K_Y(t) = K_X(t + 1): the tilt-1 moments are those of Y
    q, mu = 0.03, 1.3
    k = cgf(q, mu, [0.0, 1.0])
    assert abs(k[0]) < 1e-15 and abs(k[1]) < 1e-15
    ty = tilted_moments(q, mu, 1.0)
    assert ty.mean == pytest.approx(tilted_moments(q, mu, 1.0).mean)


def test_cgf_large_orders_no_overflow():
    # e^{tL} overflows a double long before t = 5000; the kernel works in log space
    k = cgf(0.01, 1.25, [1024.0, 5000.0, -3000.0])
    assert np.all(np.isfinite(k)) and np.all(k > 0)
    # leading behaviour for large t: K(t) ~ t(t-1) mu^2/2 + t log q
    t, mu, q = 5000.0, 1.25, 0.01
    assert k[1] == pytest.approx(t * (t - 1) * mu * mu / 2 + t * math.log(q), rel=1e-6)


def test_gaussian_closed_form_exact():
    mu = 0.7
    m = tilted_moments(1.0, mu, 0.0)
    assert m.cumulants() == pytest.approx([-mu * mu / 2, mu * mu, 0, 0, 0])
    my = tilted_moments(1.0, mu, 1.0)
    assert my.cumulants() == pytest.approx([mu * mu / 2, mu * mu, 0, 0, 0])


@pytest.mark.parametrize("z", [-200.0, -40.0, -26.5, -25.9, -10.0, -1.0, 0.0, 0.5, 5.9, 6.1, 12.0, 40.0])
def test_log_ndtr_matches_mpmath(z):
    mp.mp.dps = 40
    ref = mp.log1p(-mp.ncdf(-z)) if z > 0 else mp.log(mp.ncdf(z))
    # libm erfc is good to ~1e-14 relative in the far tail (measured 1.7e-14 at z = 12)
    assert core.log_ndtr(z) == pytest.approx(float(ref), rel=5e-14, abs=1e-300)


@pytest.mark.parametrize("x", [-30.0, -2.0, 0.0, 0.3, 3.0, 40.0, 500.0])
@pytest.mark.parametrize("q, mu", [(1e-6, 0.5), (0.01, 1.25), (0.9, 3.0)])
def test_pllr_matches_mpmath(x, q, mu):
    mp.mp.dps = 40
    ref = mp.log(1 - mp.mpf(q) + mp.mpf(q) * mp.exp(mp.mpf(mu) * x - mp.mpf(mu) ** 2 / 2))
    assert core.pllr(x, q, mu) == pytest.approx(float(ref), rel=1e-14, abs=1e-300)


def test_compiled_equals_twin(compiled_core):
    from ewaccount._kernels import _core_py as twin
    for q, mu, t in [(0.01, 1.25, 0.0), (0.003, 1.7, 1.0), (0.2, 0.8, -4.0), (0.05, 2.0, 40.0)]:
        a, b = np.empty(8), np.empty(8)
        compiled_core.pllr_moments(q, mu, t, a)
        twin.pllr_moments(q, mu, t, b)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)
    e = np.array([0.1, 1.3, 0.01, -0.02, 0.03, 0.0, 0.001, 0, 0, 0, 1e-5])
    f = np.array([1.0, 1.4, 0.02, 0.01, 0.03, 0.001, 0.0, 0, 0, 0, 2e-5])
    for eps in [0.0, 0.7, 3.0, 9.0]:
        assert compiled_core.ew_delta(eps, e, f) == pytest.approx(twin.ew_delta(eps, e, f), rel=1e-12)
        assert compiled_core.ew_log_sf(eps, e)[1] == pytest.approx(twin.ew_log_sf(eps, e)[1], rel=1e-12)
    r1 = compiled_core.ew_root(0.0, 9.0, math.log(1e-5), e, f, 1e-14)
    r2 = twin.ew_root(0.0, 9.0, math.log(1e-5), e, f, 1e-14)
    assert r1 == pytest.approx(r2, rel=1e-12)


@pytest.mark.parametrize("q, sigma, t", [(0.01, 1.0, -20.0), (0.1, 0.05, -1.0), (0.2, 0.3, -3.0),
                                         (0.3, 0.2, 0.5), (0.001, 0.3, -10.0)])
def test_cgf_negative_and_fractional_tilts_match_mpmath(q, sigma, t):
    # regression: the deviation form once dropped the N(mu,1) mass cut off by the domain
    # (K(-3) at q=0.2, sigma=0.3 was 0.12% low). Reference: 40-digit mpmath, breakpoints.
    mp.mp.dps = 40
    qq, mu, tt = mp.mpf(q), 1 / mp.mpf(sigma), mp.mpf(t)
    xb = (mp.log((1 - qq) / qq) + mu * mu / 2) / mu
    pts = sorted({mp.mpf(-40), mp.mpf(0), xb, tt * mu, mu, mp.mpf(40)})
    ref = mp.log(mp.quad(lambda x: mp.npdf(x) * (1 - qq + qq * mp.exp(mu * x - mu * mu / 2)) ** tt,
                         [-mp.inf] + pts + [mp.inf]))
    assert cgf(q, 1.0 / sigma, [t])[0] == pytest.approx(float(ref), rel=1e-12)


@pytest.mark.parametrize("q, sigma, t", [(0.5, 889.0, 1.16), (0.5, 889.0, 0.16), (0.01, 20.0, 3.0),
                                         (1e-3, 2.0, -0.5), (0.2, 1.0 / 0.3, 2.5)])
def test_tilted_moments_K_keeps_relative_accuracy_where_K_is_tiny(q, sigma, t):
    # K = log i0 with i0 ~ 1 was an ulp of 1 off (relative 1e-9 at K ~ 3e-8): over the
    # 2.4e6 steps of q = 0.5, sigma = 889 the saddle point's second-order terms jittered by
    # 3e-5 and delta(eps) rose with eps. Reference: 40-digit mpmath, breakpoints.
    mp.mp.dps = 40
    qq, mu, tt = mp.mpf(q), 1 / mp.mpf(sigma), mp.mpf(t)
    ref = mp.log(mp.quad(lambda x: mp.npdf(x) * mp.exp(tt * mp.log1p(qq * mp.expm1(mu * x - mu * mu / 2))),
                         [-mp.inf, -10, 0, mu, 10, mp.inf]))
    assert tilted_moments(q, 1.0 / sigma, t).K == pytest.approx(float(ref), rel=1e-12, abs=0.0)


# -- tilted moments from node tables (core.pllr_moments_nodes: the saddle point's CGF) -----

def _mp_tilted_moments(q, sigma, t):
    """[K, mean, c2, c3, c4] of the tilted law phi(x) e^{tL(x) - K}: 40-digit mpmath
    quadrature with breakpoints at the modes and the PLLR's bend."""
    mp.mp.dps = 40
    qq, mu, tt = mp.mpf(q), 1 / mp.mpf(sigma), mp.mpf(t)
    xb = (mp.log((1 - qq) / qq) + mu * mu / 2) / mu
    pts = [-mp.inf] + sorted({mp.mpf(-12), mp.mpf(0), xb, tt * mu, mu, mp.mpf(12) + abs(tt) * mu}) + [mp.inf]

    def L(x):
        return mp.log1p(qq * mp.expm1(mu * x - mu * mu / 2))

    def mom(f):
        return mp.quad(lambda x: mp.npdf(x) * mp.exp(tt * L(x)) * f(L(x)), pts)

    z = mom(lambda l: 1)
    m = mom(lambda l: l) / z
    return [mp.log(z), m] + [mom(lambda l, k=k: (l - m) ** k) / z for k in (2, 3, 4)]


NODE_MOMENT_CASES = [(0.01, 1.0, 0.0), (0.01, 1.0, 1.0), (0.01, 1.0, 3.7), (0.001, 0.8, -4.5),
                     (0.3, 0.5, 2.2), (0.05, 2.0, 0.5), (1e-5, 0.3, 6.0), (0.5, 100.0, 1.3),
                     (0.02, 0.7, -2.0)]


@pytest.mark.parametrize("q, sigma, t", NODE_MOMENT_CASES)
def test_node_moments_match_mpmath(q, sigma, t):
    mech, table = core.pllr_nodes(np.array([q]), np.array([1.0 / sigma]), 8.0)
    out = np.empty((1, 5))
    assert core.pllr_moments_nodes(mech, table, t, out) == 0   # the table answered
    K, mean, c2, c3, c4 = map(float, _mp_tilted_moments(q, sigma, t))
    sd = math.sqrt(c2)
    assert out[0, 0] == pytest.approx(K, rel=1e-11, abs=1e-300)
    assert abs(out[0, 1] - mean) <= 1e-11 * sd
    assert out[0, 2] == pytest.approx(c2, rel=1e-11)
    assert abs(out[0, 3] - c3) <= 1e-8 * sd ** 3          # c3, c4: checked to TRAP_CHECK_HIGH
    assert out[0, 4] == pytest.approx(c4, rel=1e-8)


def test_node_moments_fall_back_where_the_table_cannot_answer():
    # q = 0.3, sigma = 0.5, t = -20: e^{tL} cuts off like a Gumbel law, the half-rules
    # disagree; t = 70 lies beyond a table of top 8. Both come from the adaptive kernel.
    mech, table = core.pllr_nodes(np.array([0.3, 0.3]), np.array([2.0, 2.0]), 8.0)
    for t in (-20.0, 70.0):
        out, ref = np.empty((2, 5)), np.empty(8)
        assert core.pllr_moments_nodes(mech, table, t, out) == 2
        core.pllr_moments(0.3, 2.0, t, ref)
        assert np.array_equal(out[0], ref[:5]) and np.array_equal(out[1], ref[:5])


def test_node_moments_compiled_equal_twin(compiled_core):
    from ewaccount._kernels import _core_py as twin
    rng = np.random.default_rng(7)
    q = np.minimum(10 ** rng.uniform(-6, 0, 12), 0.999)
    mu = 1 / 10 ** rng.uniform(-0.5, 1.5, 12)
    (mc, tc), (mt, tt) = compiled_core.pllr_nodes(q, mu, 16.0), twin.pllr_nodes(q, mu, 16.0)
    for t in [-15.0, -3.3, 0.0, 0.4, 1.0, 2.5, 9.0, 15.9]:
        oc, ot = np.empty((12, 5)), np.empty((12, 5))
        assert compiled_core.pllr_moments_nodes(mc, tc, t, oc) == twin.pllr_moments_nodes(mt, tt, t, ot)
        np.testing.assert_allclose(oc, ot, rtol=1e-13, atol=1e-300)

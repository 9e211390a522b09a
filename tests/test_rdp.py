"""RDP accountant: exact per-order values, the optimal conversion, parity with Opacus and
dp_accounting, the reference grid, and the accountant's contract.

Tolerances (DESIGN.md section 2): per-order RDP against the peers 1e-6 relative at integer
orders (both compute the same finite sum there); our epsilon is never above theirs -- the
raw value by floating point only (1e-12), the rigorous one by at most its documented
margin (REL_MARGIN = 1e-8 relative on K).
"""
import logging
import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import ewaccount as ew
from ewaccount import rdp
from peers import require

# ../shared/reference/dpsgd_grid_delta1e-5.csv (delta = 1e-5), columns sigma, q, T and
# rdp = dp_accounting 0.6.0 RdpAccountant epsilon, 3 decimals. dp_accounting overstates
# some fractional orders, so ours must be <= these + 0.0005 (rounding), never above.
GRID_RDP = [
    (0.6, 0.001, 100, 2.233), (0.6, 0.001, 1000, 2.545), (0.6, 0.001, 10000, 3.322),
    (0.6, 0.010, 100, 4.831), (0.6, 0.010, 1000, 8.680), (0.6, 0.010, 10000, 25.199),
    (0.6, 0.050, 100, 13.305), (0.6, 0.050, 1000, 40.969), (0.6, 0.050, 10000, 253.037),
    (0.8, 0.001, 100, 1.082), (0.8, 0.001, 1000, 1.159), (0.8, 0.001, 10000, 1.384),
    (0.8, 0.010, 100, 2.185), (0.8, 0.010, 1000, 3.696), (0.8, 0.010, 10000, 10.935),
    (0.8, 0.050, 100, 6.658), (0.8, 0.050, 1000, 19.304), (0.8, 0.050, 10000, 95.224),
    (1.0, 0.001, 100, 0.636), (1.0, 0.001, 1000, 0.678), (1.0, 0.001, 10000, 0.788),
    (1.0, 0.010, 100, 1.214), (1.0, 0.010, 1000, 2.101), (1.0, 0.010, 10000, 6.713),
    (1.0, 0.050, 100, 4.039), (1.0, 0.050, 1000, 12.017), (1.0, 0.050, 10000, 52.933),
    (1.5, 0.001, 100, 0.239), (1.5, 0.001, 1000, 0.254), (1.5, 0.001, 10000, 0.332),
    (1.5, 0.010, 100, 0.465), (1.5, 0.010, 1000, 1.013), (1.5, 0.010, 10000, 3.459),
    (1.5, 0.050, 100, 1.879), (1.5, 0.050, 1000, 6.019), (1.5, 0.050, 10000, 23.833),
]

# a few (q, sigma, T) for the peer parity checks; few distinct (q, sigma) keep the
# pure-Python kernel path fast
PANEL = [(0.01, 1.0, 1000), (0.001, 0.6, 100), (0.05, 0.6, 1000), (0.001, 5.0, 10000),
         (0.05, 0.8, 10000), (0.004, 1.1, 3000)]
ORDERS = np.array(rdp.DEFAULT_ORDERS)
INTEGER = ORDERS == np.round(ORDERS)


def acc_for(q, sigma, T, **kw):
    return ew.RDPAccountant(**kw).compose(ew.PoissonGaussian(sample_rate=q, noise_multiplier=sigma), T)


# -- per-order values ---------------------------------------------------------------------

@pytest.mark.parametrize("q, sigma", [(0.01, 1.25), (0.2, 0.5), (1e-4, 3.0)])
@pytest.mark.parametrize("alpha", [2, 3, 7, 32, 256])
def test_closed_form_integer_orders_match_mpmath(q, sigma, alpha):
    # log sum_k C(a,k) (1-q)^(a-k) q^k e^{k(k-1) mu^2/2}, 50-digit mpmath
    mp.mp.dps = 50
    mu, qq = mp.mpf(1) / mp.mpf(sigma), mp.mpf(q)
    exact = mp.log(mp.fsum(mp.binomial(alpha, k) * (1 - qq) ** (alpha - k) * qq ** k
                           * mp.exp(k * (k - 1) * mu ** 2 / 2) for k in range(alpha + 1)))
    got = rdp.cgf_pq_integer(q, 1.0 / sigma, [alpha])[0]
    assert got == pytest.approx(float(exact), rel=1e-13)


def test_closed_form_agrees_with_the_cgf_kernel():
    from ewaccount.pllr import cgf
    for q, sigma in [(0.01, 1.0), (0.001, 0.6), (0.05, 2.0)]:
        a = np.array([2.0, 5.0, 17.0, 64.0])
        np.testing.assert_allclose(rdp.cgf_pq_integer(q, 1 / sigma, a), cgf(q, 1 / sigma, a), rtol=1e-10)


def test_small_orders_keep_relative_accuracy():
    # K ~ 1e-12: the positive-term form keeps every digit (log1p of a sum of positives)
    k = rdp.cgf_pq_integer(1e-6, 1.0, [2])[0]
    assert k == pytest.approx(math.log1p(1e-12 * math.expm1(1.0)), rel=1e-14)


def test_gaussian_mechanism_is_exact_and_symmetric():
    # q = 1: R(alpha) = alpha / (2 sigma^2) in both orderings (Mironov 2017, Prop. 7)
    for ordering in ("pq", "qp", "max"):
        np.testing.assert_allclose(rdp.rdp(1.0, 0.5, ORDERS, ordering), ORDERS * 0.125, rtol=1e-15)


def test_max_ordering_dominates_each_ordering():
    for q, sigma in [(0.05, 0.8), (0.3, 1.0)]:
        m = rdp.rdp(q, 1 / sigma, ORDERS, "max")
        assert np.all(m >= rdp.rdp(q, 1 / sigma, ORDERS, "pq"))
        assert np.all(m >= rdp.rdp(q, 1 / sigma, ORDERS, "qp"))


def test_rdp_is_nondecreasing_in_the_order():
    r = rdp.rdp(0.02, 0.9, ORDERS)
    assert np.all(np.diff(r) >= -1e-15 * r[1:])


def test_ledger_is_additive():
    segs = [(0.01, 1.0, 300), (0.02, 1 / 0.7, 50), (0.01, 1.0, 700)]
    got = rdp.rdp_ledger(segs, ORDERS)
    want = 1000 * rdp.rdp(0.01, 1.0, ORDERS) + 50 * rdp.rdp(0.02, 1 / 0.7, ORDERS)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_rigorous_margin_is_documented_size():
    raw = rdp.rdp(0.01, 1.0, ORDERS, rigorous=False)
    rig = rdp.rdp(0.01, 1.0, ORDERS, rigorous=True)
    assert np.all(rig > raw)
    bound = rdp.REL_MARGIN * raw + rdp.ABS_MARGIN / (ORDERS - 1)
    assert np.all(rig - raw <= bound * (1 + 1e-6) + 1e-16 * raw)


# -- the conversion ---------------------------------------------------------------------------

@pytest.mark.parametrize("q, sigma, T", PANEL)
def test_branch_and_bound_equals_brute_force_over_the_grid(q, sigma, T):
    seg = [(q, 1 / sigma, T)]
    full = rdp.epsilon_from_rdp(ORDERS, rdp.rdp_ledger(seg, ORDERS, rigorous=True), 1e-5)
    fast = rdp.epsilon(seg, 1e-5, refine=False)
    assert fast.value == pytest.approx(full.value, rel=1e-13)
    assert fast.order == full.order
    dfull = rdp.delta_from_rdp(ORDERS, rdp.rdp_ledger(seg, ORDERS, rigorous=True), fast.value)
    dfast = rdp.delta(seg, fast.value, refine=False)
    assert dfast.value == pytest.approx(dfull.value, rel=1e-12)


@pytest.mark.parametrize("q, sigma, T", PANEL)
def test_refinement_only_improves_and_finds_the_continuous_minimum(q, sigma, T):
    from scipy.optimize import minimize_scalar
    seg = [(q, 1 / sigma, T)]
    grid = rdp.epsilon(seg, 1e-5, refine=False)
    ref = rdp.epsilon(seg, 1e-5)
    assert ref.value <= grid.value
    curve = rdp.RDPCurve(seg)

    def f(a):
        return float(curve.rdp(np.array([a]))[0] + math.log1p(-1 / a) - (math.log(1e-5) + math.log(a)) / (a - 1))

    tight = minimize_scalar(f, bounds=(max(1.001, 0.8 * ref.order), 1.25 * ref.order),
                            method="bounded", options={"xatol": 1e-10})
    assert ref.value <= tight.fun * (1 + 1e-7)


def test_kl_shortcut_gives_zero_when_total_variation_is_below_delta():
    # KL ~ T q^2 (e^{mu^2} - 1) ~ 1e-14: sqrt(1 - e^-KL) ~ 1e-7 < delta = 1e-5
    r = rdp.epsilon([(1e-6, 1.0, 10)], 1e-5)
    assert r.value == 0.0 and math.isnan(r.order)
    assert rdp.delta([(1e-6, 1.0, 10)], 0.0).value <= 1e-5


def test_delta_is_capped_at_one():
    assert rdp.delta_from_rdp([2.0, 3.0], [100.0, 200.0], 0.0).value == 1.0
    d = rdp.delta([(0.5, 0.3, 1000)], 0.0).value     # total-variation bound, just below 1
    assert 0.99 < d <= 1.0


def test_conversion_of_given_values_validates():
    with pytest.raises(ValueError, match="rdp_values"):
        rdp.epsilon_from_rdp([2.0, 3.0], [0.1], 1e-5)
    with pytest.raises(ValueError, match="orders"):
        rdp.epsilon_from_rdp([0.5], [0.1], 1e-5)
    with pytest.raises(ValueError, match="delta"):
        rdp.epsilon_from_rdp([2.0], [0.1], 0.0)
    with pytest.raises(ValueError, match="epsilon"):
        rdp.delta_from_rdp([2.0], [0.1], -1.0)


# -- reference grid (frozen, no peer needed) -----------------------------------------------

@pytest.mark.parametrize("sigma, q, T, ref", GRID_RDP)
def test_reference_grid_rdp_column_is_never_exceeded(sigma, q, T, ref):
    assert acc_for(q, sigma, T).get_epsilon(1e-5) <= ref + 0.0005


# -- parity with the peers ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def opacus_rdp():
    require("opacus")
    from opacus.accountants.analysis import rdp as orr
    return orr


@pytest.fixture(scope="module")
def dpa():
    mod = require("dp_accounting")
    logging.getLogger("absl").setLevel(logging.ERROR)
    return mod


@pytest.mark.parametrize("q, sigma, T", PANEL)
def test_per_order_rdp_matches_opacus_and_dp_accounting_at_integer_orders(q, sigma, T, opacus_rdp, dpa):
    from dp_accounting.rdp.rdp_privacy_accountant import _compute_rdp_poisson_subsampled_gaussian
    ours = rdp.rdp(q, 1 / sigma, ORDERS)
    theirs_o = np.asarray(opacus_rdp.compute_rdp(q=q, noise_multiplier=sigma, steps=1, orders=list(ORDERS)))
    theirs_d = np.asarray(_compute_rdp_poisson_subsampled_gaussian(q, sigma, ORDERS))
    np.testing.assert_allclose(ours[INTEGER], theirs_o[INTEGER], rtol=1e-6)
    np.testing.assert_allclose(ours[INTEGER], theirs_d[INTEGER], rtol=1e-6)
    # fractional orders: ours is exact; dp_accounting's series is an upper bound (or inf
    # where it gives up), so it is never below ours
    frac = ~INTEGER & np.isfinite(theirs_d)
    assert np.all(ours[frac] <= theirs_d[frac] * (1 + 1e-9))


@pytest.mark.parametrize("q, sigma, T", PANEL)
def test_epsilon_never_above_opacus_or_dp_accounting(q, sigma, T, opacus_rdp, dpa):
    orders = list(ORDERS)
    eps_o, _ = opacus_rdp.get_privacy_spent(
        orders=orders, rdp=opacus_rdp.compute_rdp(q=q, noise_multiplier=sigma, steps=T, orders=orders),
        delta=1e-5)
    acc = dpa.rdp.RdpAccountant().compose(
        dpa.PoissonSampledDpEvent(q, dpa.GaussianDpEvent(sigma)), T)
    eps_d = acc.get_epsilon(1e-5)
    raw = rdp.epsilon([(q, 1 / sigma, T)], 1e-5, rigorous=False).value
    ours = acc_for(q, sigma, T).get_epsilon(1e-5)
    for theirs in (eps_o, eps_d):
        assert raw <= theirs + 1e-12
        assert ours <= theirs * (1 + 2 * rdp.REL_MARGIN)


def test_opacus_accountant_default_orders_parity(opacus_rdp):
    # Opacus's own 151 orders given to ours: same conversion, exact values -> never above
    from opacus.accountants import RDPAccountant as OpacusRDP
    o = OpacusRDP()
    o.history = [(1.0, 0.01, 1000)]
    ours = ew.RDPAccountant(orders=OpacusRDP.DEFAULT_ALPHAS).compose(
        ew.PoissonGaussian(sample_rate=0.01, noise_multiplier=1.0), 1000)
    assert ours.get_epsilon(1e-5) <= o.get_epsilon(1e-5) * (1 + 2 * rdp.REL_MARGIN)


# -- heterogeneous ledgers: every distinct step in one kernel call per order -----------------

#: 50 distinct steps, sigma linear from 0.8 to 1.2, q = 0.01, one step each (the shape of
#: DESIGN.md section 6's 1,000-step target, small enough for the peers and the twin)
HETERO_SIGMAS = np.linspace(0.8, 1.2, 50)
HETERO = [(0.01, 1.0 / s, 1) for s in HETERO_SIGMAS]


def test_heterogeneous_per_order_rdp_matches_opacus_and_dp_accounting(opacus_rdp, dpa):
    from dp_accounting.rdp.rdp_privacy_accountant import _compute_rdp_poisson_subsampled_gaussian
    ours = rdp.rdp_ledger(HETERO, ORDERS)
    op = sum(np.asarray(opacus_rdp.compute_rdp(q=0.01, noise_multiplier=s, steps=1, orders=list(ORDERS)))
             for s in HETERO_SIGMAS)
    dp = sum(np.asarray(_compute_rdp_poisson_subsampled_gaussian(0.01, s, ORDERS)) for s in HETERO_SIGMAS)
    # integer orders: the same finite sums; fractional orders: Opacus's series converges
    # here (1.3e-9 from ours), dp_accounting's is an upper bound
    np.testing.assert_allclose(ours[INTEGER], op[INTEGER], rtol=1e-9)
    np.testing.assert_allclose(ours[INTEGER], dp[INTEGER], rtol=1e-9)
    np.testing.assert_allclose(ours[~INTEGER], op[~INTEGER], rtol=1e-8)
    frac = ~INTEGER & np.isfinite(dp)
    assert np.all(ours[frac] <= dp[frac] * (1 + 1e-9))


def test_heterogeneous_epsilon_equals_opacus_on_the_grid_and_never_above_the_peers(opacus_rdp, dpa):
    op = sum(np.asarray(opacus_rdp.compute_rdp(q=0.01, noise_multiplier=s, steps=1, orders=list(ORDERS)))
             for s in HETERO_SIGMAS)
    eps_o = opacus_rdp.get_privacy_spent(orders=list(ORDERS), rdp=op, delta=1e-5)[0]
    acc = dpa.rdp.RdpAccountant(list(ORDERS))
    for s in HETERO_SIGMAS:
        acc.compose(dpa.PoissonSampledDpEvent(0.01, dpa.GaussianDpEvent(s)), 1)
    eps_d = acc.get_epsilon(1e-5)
    grid = rdp.epsilon(HETERO, 1e-5, refine=False, rigorous=False).value
    assert grid == pytest.approx(eps_o, rel=1e-9)       # 1.6930049, same orders, same conversion
    ours = ew.RDPAccountant()
    for s in HETERO_SIGMAS:
        ours.compose(ew.PoissonGaussian(sample_rate=0.01, noise_multiplier=s), 1)
    for theirs in (eps_o, eps_d):
        assert rdp.epsilon(HETERO, 1e-5, rigorous=False).value <= theirs + 1e-12
        assert ours.get_epsilon(1e-5) <= theirs * (1 + 2 * rdp.REL_MARGIN)


def test_ledger_of_distinct_steps_equals_the_sum_of_its_steps():
    # one vectorised bank over 50 steps == 50 one-step banks, both orderings' max
    want = sum(rdp.rdp(q, mu, ORDERS) for q, mu, _ in HETERO)
    np.testing.assert_allclose(rdp.rdp_ledger(HETERO, ORDERS), want, rtol=1e-12)


#: 120 distinct (q, sigma): the lower bounds' binomial budget covers the integer orders up
#: to ~46 only, so the grid's larger ones are bounded by the extended chord
WIDE = [(q, 1.0 / s, n) for q, s, n in zip(np.geomspace(1e-3, 0.05, 120), np.linspace(0.6, 3.0, 120),
                                           range(1, 121))]


@pytest.mark.parametrize("segs", [HETERO, WIDE], ids=["hetero50", "wide120"])
def test_heterogeneous_branch_and_bound_equals_brute_force(segs):
    full_r = rdp.rdp_ledger(segs, ORDERS, rigorous=True)
    full = rdp.epsilon_from_rdp(ORDERS, full_r, 1e-5)
    fast = rdp.epsilon(segs, 1e-5, refine=False)
    assert fast.value == pytest.approx(full.value, rel=1e-13) and fast.order == full.order
    curve = rdp.RDPCurve(segs)
    assert np.all(curve.lower_rdp(ORDERS) <= full_r * (1 + 1e-12))   # valid lower bounds


def test_an_order_no_kernel_can_evaluate_gets_the_gaussian_bound():
    # q = 1 - 1e-16, order 297427: the adaptive kernel overflows on K(1 - alpha) (was +inf).
    # Q_q is Q_1 through a channel that leaves P unchanged, so K_q <= K_1 in both orderings.
    q, mu, a = 0.9999999999999999, 0.5, 297427.0
    k = rdp.step_cgf(q, mu, [a], "qp")[0]
    assert math.isfinite(k) and k <= 0.5 * a * (a - 1.0) * mu * mu
    assert math.isfinite(ew.RDPAccountant(orders=[a]).compose(ew.PoissonGaussian(q, 2.0), 3).get_epsilon(0.5))


# -- the trapezoidal node kernel (core.pllr_nodes, core.pllr_cgf_nodes) ------------------------

# K(t) = log int phi(x) (1 - q + q e^{x/sigma - 1/(2 sigma^2)})^t dx by 50-digit mpmath
# quadrature (mp.quad with breakpoints at 0, t mu, mu, the kink of L and every 2 on
# [-60, 60]), printed to 20 digits. The sixth has q = 6e-9 and t = 58: its second bump
# (near x = t mu = 47, where phi underflows and e^{tL} overflows) carries all of K.
NODE_REFS = [
    (0.01, 1.0, 5.76, "0.002641255819972630198"),
    (0.01, 0.8, -6.0, "0.0055482012491457523266"),
    (0.05, 0.6, 10.9, "117.22151821849761138"),
    (0.0001, 3.0, 1.1, "6.4634777449996436918e-11"),
    (0.001, 5.0, 40.5, "0.000032695562503804376355"),
    (6.052446218025666e-09, 1.245883303340142, 58.31842623062122, "2.3579329491425023417e-12"),
    (0.2, 0.3, -2.5, "0.49511544714724116049"),
    (0.3, 0.4, -7.3, "2.2531080456834545732"),
]


def _node_cgf(module, q, mu, t, top=64.0):
    mech, table = module.pllr_nodes(np.array([q]), np.array([mu]), top)
    out = np.empty((1, len(t)))
    fallbacks = module.pllr_cgf_nodes(mech, table, np.array(t, dtype=float), out)
    return out[0], fallbacks


@pytest.mark.parametrize("q, sigma, t, ref", NODE_REFS)
def test_node_kernel_matches_mpmath(q, sigma, t, ref):
    got, fallbacks = _node_cgf(ew._kernels.core, q, 1.0 / sigma, [t])
    assert fallbacks == 0                      # the trapezoidal rule answered, not the fallback
    assert got[0] == pytest.approx(float(ref), rel=1e-12)


def test_node_kernel_matches_the_adaptive_kernel():
    from ewaccount.pllr import cgf
    rng = np.random.default_rng(3)
    t = [1.1, 1.5, 2.5, 5.76, 10.9, 31.5, -0.1, -1.0, -4.0, -6.0, -11.0, -30.0]
    for q, s in zip(10 ** rng.uniform(-6, -0.3, 12), 10 ** rng.uniform(-0.4, 1.0, 12)):
        got, _ = _node_cgf(ew._kernels.core, q, 1.0 / s, t)
        want = cgf(q, 1.0 / s, t)
        big = want > 1e-14        # below, the adaptive kernel is the less accurate one
        np.testing.assert_allclose(got[big], want[big], rtol=1e-10)


def test_node_kernel_compiled_equals_twin(compiled_core):
    from ewaccount._kernels import _core_py as twin
    q = np.array([0.01, 1e-5, 0.3, 0.9, 1.0, 6.052446218025666e-09])
    mu = np.array([1.0, 0.3, 2.5, 1.25, 0.5, 1 / 1.245883303340142])
    t = np.array([1.1, 5.76, 58.3, 300.0, -0.1, -6.0, -11.0, -500.0])
    (mc, tc), (mt, tt) = compiled_core.pllr_nodes(q, mu, 64.0), twin.pllr_nodes(q, mu, 64.0)
    np.testing.assert_array_equal(mc, mt)
    np.testing.assert_allclose(tc, tt, rtol=1e-12)
    oc, ot = np.empty((q.size, t.size)), np.empty((q.size, t.size))
    assert compiled_core.pllr_cgf_nodes(mc, tc, t, oc) == twin.pllr_cgf_nodes(mt, tt, t, ot)
    np.testing.assert_allclose(oc, ot, rtol=1e-12)


# -- the accountant's contract -------------------------------------------------------------------

def test_accountant_kind_route_and_note():
    acc = acc_for(0.01, 1.0, 1000)
    res = acc.get_epsilon_result(1e-5)
    assert acc.kind == "upper" and res.kind == "upper" and res.upper == res.value
    assert "Thm. 21" in res.route and "order" in res.route
    assert "upper bound" in res.note


def test_round_trips_on_one_ledger():
    acc = acc_for(0.01, 1.0, 1000)
    for d in (1e-3, 1e-5, 1e-10):
        e = acc.get_epsilon(d)
        assert acc.get_delta(e) <= d * (1 + 1e-9)
    for e in (0.5, 2.0, 8.0):
        d = acc.get_delta(e)
        assert acc.get_epsilon(d) == pytest.approx(e, rel=1e-6)


def test_monotone_in_delta_steps_and_epsilon():
    eps = [acc_for(0.01, 1.0, 1000).get_epsilon(d) for d in (1e-3, 1e-5, 1e-8, 1e-12)]
    assert all(a < b for a, b in zip(eps, eps[1:]))
    eps_t = [acc_for(0.01, 1.0, t).get_epsilon(1e-5) for t in (10, 100, 1000, 10000)]
    assert all(a < b for a, b in zip(eps_t, eps_t[1:]))
    acc = acc_for(0.01, 1.0, 1000)
    deltas = [acc.get_delta(e) for e in (0.0, 0.5, 1.0, 2.0, 4.0)]
    assert all(a >= b for a, b in zip(deltas, deltas[1:]))


def test_compose_n_times_equals_count_n():
    m = ew.PoissonGaussian(sample_rate=0.02, noise_multiplier=0.9)
    a = ew.RDPAccountant()
    for _ in range(5):
        a.compose(m, 20)
    b = ew.RDPAccountant().compose(m, 100)
    assert a.get_epsilon(1e-6) == b.get_epsilon(1e-6)


def test_heterogeneous_ledger_and_cache_cleared_by_compose():
    a = ew.RDPAccountant().compose(ew.PoissonGaussian(sample_rate=0.01, noise_multiplier=1.0), 500)
    e1 = a.get_epsilon(1e-5)
    a.compose(ew.PoissonGaussian(sample_rate=0.02, noise_multiplier=1.2), 300)
    e2 = a.get_epsilon(1e-5)
    assert e2 > e1
    want = rdp.epsilon([(0.01, 1.0, 500), (0.02, 1 / 1.2, 300)], 1e-5).value
    assert e2 == pytest.approx(want, rel=1e-12)


def test_orderings_and_custom_orders():
    base = acc_for(0.05, 0.8, 200)
    pq = acc_for(0.05, 0.8, 200, ordering="pq")
    qp = acc_for(0.05, 0.8, 200, ordering="qp")
    assert base.get_epsilon(1e-5) >= max(pq.get_epsilon(1e-5), qp.get_epsilon(1e-5)) - 1e-12
    few = acc_for(0.05, 0.8, 200, orders=[2, 4, 8, 16, 32])
    # a sub-grid cannot beat the full grid (up to where each refinement stopped)
    assert few.get_epsilon(1e-5) >= base.get_epsilon(1e-5) * (1 - 1e-9)


def test_empty_ledger_and_state_round_trip():
    assert ew.RDPAccountant().get_epsilon(1e-5) == 0.0
    assert ew.RDPAccountant().get_delta(1.0) == 0.0
    a = acc_for(0.01, 1.0, 1000, orders=[1.5, 2, 3.5, 8, 20])
    b = ew.RDPAccountant(orders=[1.5, 2, 3.5, 8, 20]).load_state_dict(a.state_dict())
    assert b.get_epsilon(1e-5) == a.get_epsilon(1e-5)
    with pytest.raises(ValueError, match="options"):
        ew.RDPAccountant().load_state_dict(a.state_dict())


@pytest.mark.parametrize("kwargs, match", [
    ({"orders": [0.5, 2]}, "orders"), ({"orders": []}, "orders"), ({"orders": [2, float("nan")]}, "orders"),
    ({"ordering": "pp"}, "ordering"),
])
def test_bad_options_raise_naming_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ew.RDPAccountant(**kwargs)


def test_bad_queries_raise_and_leave_the_ledger_unchanged():
    acc = acc_for(0.01, 1.0, 100)
    for bad in (0.0, 1.0, -1e-5, float("nan")):
        with pytest.raises(ValueError, match="delta"):
            acc.get_epsilon(bad)
    with pytest.raises(ValueError, match="epsilon"):
        acc.get_delta(-0.1)
    assert acc.steps == 100


def test_functional_api_method_rdp():
    e = ew.epsilon(sample_rate=0.01, noise_multiplier=1.0, steps=1000, delta=1e-5, method="rdp")
    assert e == acc_for(0.01, 1.0, 1000).get_epsilon(1e-5)
    d = ew.delta(sample_rate=0.01, noise_multiplier=1.0, steps=1000, epsilon=e, method="rdp")
    assert d <= 1e-5 * (1 + 1e-9)


@given(q=st.floats(1e-4, 0.5), sigma=st.floats(0.5, 8.0), T=st.integers(1, 100000),
       log_delta=st.floats(-25.0, -3.0))
# the two searches' optima in alpha once differed enough for the round trip to miss by 2.4e-9
# (Brent's tolerance 1e-5 in alpha) and 1.0e-9 (10 Brent steps between integers; now 20)
@example(q=0.5, sigma=0.5, T=55, log_delta=-9.0)
@example(q=0.0001, sigma=1.0625, T=4536, log_delta=-12.5)
def test_property_finite_nonnegative_and_round_trip(q, sigma, T, log_delta):
    # valid input never raises; epsilon >= 0 and finite; the round trip holds
    seg = [(q, 1 / sigma, T)]
    curve = rdp.RDPCurve(seg)
    r = rdp.epsilon(seg, math.exp(log_delta), curve=curve)
    assert math.isfinite(r.value) and r.value >= 0.0
    if r.value > 0:
        assert rdp.delta(seg, r.value, curve=curve).value <= math.exp(log_delta) * (1 + 1e-9)



@pytest.mark.parametrize("ordering", ["max", "pq", "qp"])
def test_cgf_of_an_order_does_not_depend_on_what_else_is_asked(ordering):
    """An order's value has the same bits asked alone (banks cold), after larger orders
    grew the node tables, or in a batch of any size: concurrent queries batch orders
    differently, and serial and threaded answers once came out 1-2 ulp apart."""
    segs = [(0.01, 1.0, 600), (0.02, 1.25, 300), (0.005, 0.5, 300), (0.1, 1 / 1.5, 300), (0.3, 0.2, 7)]
    orders = np.concatenate([np.linspace(1.25, 12.0, 44), [16.5, 32.0, 40.5, 64.0, 90.0]])
    rdp._BANKS.clear()
    batch = rdp.RDPCurve(segs, ordering=ordering).cgf(orders)
    for i in range(0, orders.size, 7):
        rdp._BANKS.clear()
        assert rdp.RDPCurve(segs, ordering=ordering).cgf(orders[i:i + 1])[0] == batch[i]
        assert rdp.RDPCurve(segs, ordering=ordering).cgf(orders[i:i + 3])[0] == batch[i]

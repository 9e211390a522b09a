"""The ledger accountant, the functional API and calibration: properties and input rules."""
import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

import ewaccount as ew

pytestmark = pytest.mark.filterwarnings("ignore::ewaccount.EdgeworthWarning")

qs = st.floats(1e-3, 0.2)
sigmas = st.floats(0.6, 5.0)
steps = st.integers(10, 100_000)
orders = st.sampled_from([0, 1, 2, 3])
orderings = st.sampled_from(["max", "pq", "qp"])


def acc_for(q, s, T, order=2, ordering="max"):
    return ew.EdgeworthAccountant(order=order, ordering=ordering).compose(
        ew.PoissonGaussian(sample_rate=q, noise_multiplier=s), T)


@given(q=qs, s=sigmas, T=steps, order=orders, ordering=orderings,
       e1=st.floats(0.0, 30.0), e2=st.floats(0.0, 30.0))
@example(q=0.001, s=0.625, T=276, order=3, ordering="max", e1=0.001, e2=0.0)   # a bump in one scan step
def test_delta_nonincreasing_and_in_unit_interval(q, s, T, order, ordering, e1, e2):
    acc = acc_for(q, s, T, order, ordering)
    lo, hi = sorted((e1, e2))
    d_lo, d_hi = acc.get_delta(lo), acc.get_delta(hi)
    assert 0.0 <= d_hi <= d_lo <= 1.0


@given(q=qs, s=sigmas, T=steps, order=orders, ordering=orderings,
       log_delta=st.floats(math.log(1e-12), math.log(0.5)))
def test_round_trip_delta_eps_delta(q, s, T, order, ordering, log_delta):
    # DESIGN.md section 2: delta(eps(delta)) <= delta; eps(delta(eps)) = eps on decreasing stretches
    acc = acc_for(q, s, T, order, ordering)
    delta = math.exp(log_delta)
    eps = acc.get_epsilon(delta)
    assert eps >= 0.0 and math.isfinite(eps)
    assert acc.get_delta(eps) <= delta * (1 + 1e-9)
    if eps > 0:
        d = acc.get_delta(eps)
        assume(0.0 < d < 1.0 and d > 0.999 * delta)
        assert acc.get_epsilon(d) == pytest.approx(eps, rel=1e-9, abs=1e-12)


@given(q=qs, s=sigmas, n=st.integers(1, 5000), k=st.integers(2, 5))
def test_compose_count_equals_repeated_compose(q, s, n, k):
    m = ew.PoissonGaussian(sample_rate=q, noise_multiplier=s)
    a = ew.EdgeworthAccountant().compose(m, n * k)
    b = ew.EdgeworthAccountant()
    for _ in range(k):
        b.compose(m, n)
    assert b.ledger == a.ledger
    assert b.get_epsilon(1e-5) == pytest.approx(a.get_epsilon(1e-5), rel=1e-12)


def test_heterogeneous_ledger_adds_cumulants():
    m1 = ew.PoissonGaussian(sample_rate=0.01, noise_multiplier=1.0)
    m2 = ew.PoissonGaussian(sample_rate=0.02, noise_multiplier=0.8)
    acc = ew.EdgeworthAccountant().compose(m1, 300).compose(m2, 200).compose(m1, 100)
    assert acc.ledger == ((m1, 400), (m2, 200)) and acc.steps == 600
    from ewaccount.pllr import step_cumulants
    cx = 400 * step_cumulants(0.01, 1.0)[0] + 200 * step_cumulants(0.02, 1.25)[0]
    np.testing.assert_allclose(acc.summed_cumulants()[0], cx, rtol=1e-12)
    assert acc.get_epsilon(1e-5) > ew.EdgeworthAccountant().compose(m1, 400).get_epsilon(1e-5)


@given(sigma=st.floats(0.3, 50.0), T=st.integers(1, 10_000), order=orders,
       ordering=orderings, delta=st.sampled_from([1e-3, 1e-5, 1e-9]))
def test_gaussian_exact_eps(sigma, T, order, ordering, delta):
    from scipy.special import log_ndtr
    mu = math.sqrt(T) / sigma
    eps = ew.EdgeworthAccountant(order=order, ordering=ordering).compose(
        ew.Gaussian(noise_multiplier=sigma), T).get_epsilon(delta)
    # exact mu-GDP profile at the returned eps (Dong, Roth & Su 2022, Cor. 2.13)
    d = math.exp(log_ndtr(-eps / mu + mu / 2)) - math.exp(eps + log_ndtr(-eps / mu - mu / 2))
    if eps > 0:
        assert d == pytest.approx(delta, rel=1e-8)
    else:
        assert d <= delta


@given(target=st.floats(0.5, 20.0), q=st.floats(1e-3, 0.1), T=st.integers(100, 20_000),
       delta=st.sampled_from([1e-5, 1e-6]), order=st.sampled_from([1, 2]))
def test_calibrated_sigma_never_overshoots(target, q, T, delta, order):
    s = ew.calibrate_noise(target_epsilon=target, delta=delta, sample_rate=q, steps=T,
                           method="edgeworth", order=order)
    eps = ew.epsilon(sample_rate=q, noise_multiplier=s, steps=T, delta=delta,
                     method="edgeworth", order=order)
    assert eps <= target
    if s > ew.calibrate.SIGMA_MIN:  # and it is tight: 1e-6 less noise would overshoot
        eps_less = ew.epsilon(sample_rate=q, noise_multiplier=s * (1 - 1e-6), steps=T,
                              delta=delta, method="edgeworth", order=order)
        assert eps_less > target or eps_less == pytest.approx(target, rel=1e-5)


def test_ewtune_calibration_matches_logged_sigma():
    # EW-Tune's grid search (resolution 5e-4) chose sigma = 0.7865 for SST-2 at eps = 8
    s = ew.calibrate_noise(target_epsilon=8.0, delta=1e-5, sample_rate=2000 / 67349, steps=660,
                           method="edgeworth", order=1, ordering="pq")
    assert 0.7860 < s <= 0.7865


def test_state_dict_round_trip_is_json():
    acc = acc_for(0.01, 1.0, 1000, order=3, ordering="pq").compose(ew.Gaussian(3.0), 7)
    state = json.loads(json.dumps(acc.state_dict()))
    other = ew.EdgeworthAccountant(order=3, ordering="pq").load_state_dict(state)
    assert other.ledger == acc.ledger
    assert other.get_epsilon(1e-5) == acc.get_epsilon(1e-5)


@pytest.mark.parametrize("mutate, match", [
    (lambda s: s.update(format="other"), "state"),
    (lambda s: s.update(version=99), "state"),
    (lambda s: s.update(accountant="RDPAccountant"), "RDPAccountant"),
    (lambda s: s.update(options={"order": 1, "ordering": "pq"}), "options"),
    (lambda s: s["ledger"].append({"mechanism": "PoissonGaussian", "sample_rate": 2.0,
                                   "noise_multiplier": 1.0, "count": 3}), "sample_rate"),
    (lambda s: s["ledger"].append({"mechanism": "Laplace", "count": 3}), "malformed"),
    (lambda s: s["ledger"].append({"mechanism": "Gaussian", "noise_multiplier": 1.0,
                                   "count": -1}), "count"),
    (lambda s: s.update(ledger="x"), "ledger"),
])
def test_bad_state_rejected_and_nothing_applied(mutate, match):
    good = acc_for(0.01, 1.0, 10).state_dict()
    bad = json.loads(json.dumps(good))
    mutate(bad)
    target = acc_for(0.02, 2.0, 5)
    before = target.ledger
    with pytest.raises(ValueError, match=match):
        target.load_state_dict(bad)
    assert target.ledger == before


@pytest.mark.parametrize("kwargs, name", [
    (dict(sample_rate=0.0), "sample_rate"), (dict(sample_rate=1.5), "sample_rate"),
    (dict(sample_rate=math.nan), "sample_rate"), (dict(noise_multiplier=0.0), "noise_multiplier"),
    (dict(noise_multiplier=-1.0), "noise_multiplier"), (dict(noise_multiplier=math.inf), "noise_multiplier"),
    (dict(steps=0), "steps"), (dict(steps=2.5), "steps"), (dict(steps=-3), "steps"),
    (dict(delta=0.0), "delta"), (dict(delta=1.0), "delta"), (dict(delta=math.nan), "delta"),
    (dict(order=4), "order"), (dict(ordering="both"), "ordering"),
])
def test_bad_arguments_name_themselves(kwargs, name):
    args = dict(sample_rate=0.01, noise_multiplier=1.0, steps=100, delta=1e-5, method="edgeworth")
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        ew.epsilon(**args)


def test_bad_epsilon_and_types():
    args = dict(sample_rate=0.01, noise_multiplier=1.0, steps=100, method="edgeworth")
    for bad in (-0.1, math.nan, math.inf):
        with pytest.raises(ValueError, match="epsilon"):
            ew.delta(epsilon=bad, **args)
    with pytest.raises(TypeError, match="sample_rate"):
        ew.epsilon(sample_rate="0.01", noise_multiplier=1.0, steps=100, delta=1e-5, method="edgeworth")


def test_default_method_is_certified_and_methods_are_listed():
    # DESIGN.md section 2: the default is the certified upper bound
    args = dict(sample_rate=0.01, noise_multiplier=1.0, steps=100, delta=1e-5)
    assert ew.DEFAULT_METHOD == "certified"
    assert ew.epsilon(**args) == ew.epsilon(**args, method="certified")
    with pytest.raises(ValueError, match="edgeworth"):
        ew.epsilon(sample_rate=0.01, noise_multiplier=1.0, steps=100, delta=1e-5, method="magic")


def test_failed_compose_leaves_ledger_unchanged():
    acc = acc_for(0.01, 1.0, 10)
    before = acc.ledger
    for bad in (0, -1, 1.5, "3", None):
        with pytest.raises((ValueError, TypeError)):
            acc.compose(ew.Gaussian(1.0), bad)
    with pytest.raises(TypeError):
        acc.compose("PoissonGaussian", 3)
    assert acc.ledger == before


def test_empty_ledger_has_spent_nothing():
    acc = ew.EdgeworthAccountant()
    assert acc.get_epsilon(1e-5) == 0.0 and acc.get_delta(1.0) == 0.0


def test_kind_and_result():
    acc = acc_for(0.01, 1.0, 1000)
    assert acc.kind == "estimate"
    r = acc.get_epsilon_result(1e-5)
    assert r.kind == "estimate" and r.method == "edgeworth" and r.estimate == r.value
    assert r.upper is None and "not a guarantee" in r.note


def test_warning_where_the_expansion_is_unreliable():
    with pytest.warns(ew.EdgeworthWarning, match="lambda3"):
        acc_for(0.005093, 0.573, 3920).get_epsilon(1e-6)   # EW-Tune MNLI: |lambda3| ~ 0.4
    with warnings.catch_warnings():
        warnings.simplefilter("error", ew.EdgeworthWarning)
        acc_for(0.01, 1.5, 10_000).get_epsilon(1e-5)       # near-Gaussian: no warning
    # order 3 at sigma=0.6, q=0.001, T=100 oscillates from -4 to +6 (DESIGN.md section 2):
    # at a delta just above its last local maximum, the curve rises again above the answer
    acc = acc_for(0.001, 0.6, 100, order=3, ordering="pq")
    (p,) = acc.profiles()
    delta = 0.5 * (1.0 + float(p._max_suffix[-1]))
    assert 0 < delta < 1
    with pytest.warns(ew.EdgeworthWarning, match="non-monotone"):
        eps = acc.get_epsilon(delta)
    assert eps < p._max_locs[-1]


@given(q=st.floats(1e-6, 1.0), s=st.floats(0.3, 1e3), T=st.integers(1, 10**9),
       delta=st.floats(1e-15, 0.9), order=orders)
def test_no_negative_no_nan(q, s, T, delta, order):
    eps = acc_for(q, s, T, order).get_epsilon(delta)
    assert math.isfinite(eps) and eps >= 0.0


def test_finite_sample_bound_vacuous_at_dpsgd_delta():
    # research/edgeworth.md 6.3: at EW-Tune's MNLI settings Delta_X ~ 0.4-0.5, e^eps Delta_X >> delta
    acc = acc_for(0.005093, 0.573, 3920)
    b = acc.finite_sample_bound(1e-5)
    assert b.vacuous and b.eps_upp == math.inf and "vacuous" in b.note
    assert 0.3 < b.Delta_X < 0.6


def test_finite_sample_bound_brackets_truth_where_informative():
    # research/edgeworth.md 7.10 fixed-delta regime (sigma=0.8, q=0.08 sqrt(log m / m),
    # delta=0.1): PRV truth 0.3982 at m = 1e6; the bound is valid and non-vacuous there
    m = 10**6
    acc = acc_for(0.08 * math.sqrt(math.log(m) / m), 0.8, m)
    b = acc.finite_sample_bound(0.1)
    assert not b.vacuous
    assert b.eps_low <= 0.3982 <= b.eps_upp < 0.6
    assert b.eps_estimate == pytest.approx(0.3982, abs=1e-3)


def test_finite_sample_bound_needs_identical_steps():
    acc = acc_for(0.01, 1.0, 100).compose(ew.PoissonGaussian(0.02, 1.0), 100)
    b = acc.finite_sample_bound(1e-5)
    assert b.vacuous and "identically distributed" in b.note

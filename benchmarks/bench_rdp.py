"""RDP side by side: ewaccount vs Opacus vs dp_accounting, same orders, same configurations,
one run. Prints markdown tables with ratios (peer time / ours).

    python benchmarks/bench_rdp.py [--repeat 7]

Every timing is the median over ``--repeat`` cold queries: each repetition of ours uses a
noise multiplier never seen before in the process (sigma * (1 + k 1e-9)), so no per-step
cache helps; imports and one warm-up are excluded. The orders are dp_accounting's 156
default orders for all three libraries.

Tables:
1. per-order RDP vector at every order (ours: exact, both orderings; Opacus and
   dp_accounting: their series, one ordering);
2. epsilon at delta = 1e-5 -- ours by branch and bound over the same orders ("grid", the
   like-for-like comparison) and with the continuous refinement in alpha (our default);
   the peers' get_epsilon over the same orders;
3. the whole ``ewaccount.compare`` without PLD/PRV (cold), target < 50 ms;
4. a heterogeneous ledger of 1,000 distinct (q, sigma) steps (sigma linear from 0.8 to
   1.2, q = 0.01, one step each) composed and queried once at delta = 1e-5, cold (DESIGN.md
   section 6: <= 50 ms): ours (median of ``--repeat``, each with sigmas never seen before)
   and the peers' accountants (once each; ``--skip-ledger-peers`` leaves them out, they
   take tens of seconds), all on the same 156 orders.
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
import warnings

import numpy as np

CONFIGS = [  # (q, sigma, T)
    (0.01, 1.0, 1000), (0.001, 0.6, 100), (0.05, 0.6, 1000), (0.001, 5.0, 10000),
    (0.05, 0.8, 10000), (0.004, 1.1, 3000), (0.1, 2.0, 100000), (0.02, 0.7, 500),
]
DELTA = 1e-5


def median_time(fn, repeat: int) -> float:
    ts = []
    for k in range(repeat):
        t0 = time.perf_counter()
        fn(k)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--skip-ledger-peers", action="store_true",
                    help="table 4 without Opacus and dp_accounting (tens of seconds each)")
    args = ap.parse_args(argv)
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")

    import ewaccount as ew
    from ewaccount import rdp
    from ewaccount._kernels import COMPILED
    from opacus.accountants.analysis import rdp as orr
    import dp_accounting
    from dp_accounting.rdp import rdp_privacy_accountant as dra

    orders = list(rdp.DEFAULT_ORDERS)
    R = args.repeat
    print(f"ewaccount {ew.__version__} ({'compiled' if COMPILED else 'pure-Python'} kernels), "
          f"{len(orders)} orders, delta = {DELTA:g}, median of {R} cold runs; python {sys.version.split()[0]}\n")
    # warm-up: imports, numpy/scipy first calls
    rdp.epsilon([(0.03, 1.3, 10)], DELTA)
    orr.compute_rdp(q=0.03, noise_multiplier=1.3, steps=10, orders=orders)
    dra.RdpAccountant(orders).compose(
        dp_accounting.PoissonSampledDpEvent(0.03, dp_accounting.GaussianDpEvent(1.3)), 10).get_epsilon(DELTA)

    def sig(s, k):
        return s * (1.0 + 1e-9 * (k + 1 + 1000 * next(counter)))

    import itertools
    counter = itertools.count()

    print("### 1. per-order RDP vector (156 orders)\n")
    print("| q | sigma | ours ms | Opacus ms | dp_accounting ms | Opacus / ours | dp_acc / ours |")
    print("|---|---|---|---|---|---|---|")
    for q, s, T in CONFIGS:
        ours = median_time(lambda k: rdp.rdp_ledger([(q, 1 / sig(s, k), T)], orders), R)
        op = median_time(lambda k: orr.compute_rdp(q=q, noise_multiplier=s, steps=T, orders=orders), R)
        dp = median_time(lambda k: dra._compute_rdp_poisson_subsampled_gaussian(q, s, np.array(orders)), R)
        print(f"| {q:g} | {s:g} | {ours*1e3:.2f} | {op*1e3:.2f} | {dp*1e3:.2f} | {op/ours:.1f}x | {dp/ours:.1f}x |")

    print("\n### 2. epsilon at delta = 1e-5, same orders\n")
    print("| q | sigma | T | eps ours (refined) | eps Opacus | eps dp_acc | ours grid ms | ours refined ms "
          "| Opacus ms | dp_acc ms | Opacus / ours grid | Opacus / ours refined | dp_acc / ours refined |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for q, s, T in CONFIGS:
        def ours_acc(k, refine=True):
            return rdp.epsilon([(q, 1 / sig(s, k), T)], DELTA, refine=refine).value

        def opacus(k):
            r = orr.compute_rdp(q=q, noise_multiplier=s, steps=T, orders=orders)
            return orr.get_privacy_spent(orders=orders, rdp=r, delta=DELTA)[0]

        def dpacc(k):
            acc = dra.RdpAccountant(orders).compose(
                dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(s)), T)
            return acc.get_epsilon(DELTA)

        t_grid = median_time(lambda k: ours_acc(k, refine=False), R)
        t_ref = median_time(ours_acc, R)
        t_op = median_time(opacus, R)
        t_dp = median_time(dpacc, R)
        e = ew.RDPAccountant().compose(ew.PoissonGaussian(sample_rate=q, noise_multiplier=s), T).get_epsilon(DELTA)
        print(f"| {q:g} | {s:g} | {T} | {e:.4f} | {opacus(0):.4f} | {dpacc(0):.4f} | {t_grid*1e3:.2f} | "
              f"{t_ref*1e3:.2f} | {t_op*1e3:.2f} | {t_dp*1e3:.2f} | {t_op/t_grid:.0f}x | {t_op/t_ref:.0f}x | "
              f"{t_dp/t_ref:.0f}x |")

    print("\n### 3. ewaccount.compare without PLD/PRV (cold)\n")
    methods = [m for m in ew.METHODS if m not in ("pld", "prv")]
    print(f"methods: {', '.join(methods)}\n")
    print("| q | sigma | T | ms |")
    print("|---|---|---|---|")
    for q, s, T in CONFIGS:
        t = median_time(lambda k: ew.compare(sample_rate=q, noise_multiplier=sig(s, k), steps=T,
                                             delta=DELTA, methods=methods), R)
        print(f"| {q:g} | {s:g} | {T} | {t*1e3:.1f} |")

    ledger(ew, dp_accounting, dra, orders, R, args.skip_ledger_peers)
    return 0


LEDGER_SIGMAS = np.linspace(0.8, 1.2, 1000)
LEDGER_Q = 0.01


def ledger(ew, dp_accounting, dra, orders, repeat, skip_peers) -> None:
    """Table 4: the 1,000-step heterogeneous ledger, composed and queried (cold: run k
    scales every sigma by 1 + 1e-9 (k + 1), so no cached step helps; k = -1: as given)."""
    def ours(k):
        acc = ew.RDPAccountant()
        for s in LEDGER_SIGMAS * (1.0 + 1e-9 * (k + 1)):
            acc.compose(ew.PoissonGaussian(sample_rate=LEDGER_Q, noise_multiplier=float(s)), 1)
        return acc.get_epsilon(DELTA)

    def opacus():
        from opacus.accountants import RDPAccountant
        acc = RDPAccountant()
        acc.history = [(float(s), LEDGER_Q, 1) for s in LEDGER_SIGMAS]
        return acc.get_epsilon(DELTA, alphas=orders)

    def dpacc():
        acc = dra.RdpAccountant(orders)
        for s in LEDGER_SIGMAS:
            acc.compose(dp_accounting.PoissonSampledDpEvent(LEDGER_Q, dp_accounting.GaussianDpEvent(float(s))), 1)
        return acc.get_epsilon(DELTA)

    print("\n### 4. heterogeneous ledger: 1,000 distinct (q, sigma), composed and queried (cold)\n")
    t_ours = median_time(ours, repeat)
    print("| accountant | eps | seconds | / ours |")
    print("|---|---|---|---|")
    print(f"| ours (median of {repeat}) | {ours(-1):.6f} | {t_ours:.4f} | 1x |")
    for name, fn in () if skip_peers else (("Opacus RDP", opacus), ("dp_accounting RDP", dpacc)):
        t0 = time.perf_counter()
        eps = fn()
        t = time.perf_counter() - t0
        print(f"| {name} | {eps:.6f} | {t:.2f} | {t / t_ours:.0f}x |", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())

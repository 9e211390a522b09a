"""Speed of the saddle-point accountant, side by side with Opacus and dp_accounting RDP and
prv_accountant, in one run.

Measures (delta = 1e-5, compiled kernels):
  * eps and delta queries, cold (a (q, sigma) never seen in this process) and warm (the same
    ledger asked again at another delta), against T = 1e2 ... 1e9 at q = 0.01, sigma = 1;
  * cold eps on the eight configurations of bench_rdp.py;
  * a heterogeneous ledger of 1,000 distinct (q, sigma) steps, composed and queried;
  * the peers on the same inputs, when installed (RDP: Opacus, dp_accounting; an estimate
    of the same kind: prv_accountant's).

Run: python benchmarks/bench_saddlepoint.py [--quick]   (prints markdown tables)
"""
from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
import warnings
from pathlib import Path

warnings.simplefilter("ignore")

import ewaccount as ew  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from bench_rdp import CONFIGS  # noqa: E402
from bench_speed import SCHEDULE, dp_accounting_rdp, fmt, median_time, opacus_rdp  # noqa: E402

Q, SIGMA, DELTA = 0.01, 1.0, 1e-5
TS = [10**k for k in range(2, 10)]
FRESH = itertools.count(1)
#: PRV's cost and memory grow with T: 23 s at T = 1e5, > 20 GB (killed) at T = 1e6 on this machine
PRV_T_MAX = 10**4


def fresh(q: float, sigma: float, T: int) -> ew.SaddlePointAccountant:
    """An accountant on a sigma never seen in this process: nothing cached."""
    return ew.SaddlePointAccountant().compose(ew.PoissonGaussian(q, sigma * (1 + 1e-7 * next(FRESH))), T)


def ours(q: float, sigma: float, T: int, repeat: int) -> dict:
    acc = fresh(q, sigma, T)
    eps = acc.get_epsilon(DELTA)
    return {
        "eps_cold": median_time(lambda i: fresh(q, sigma, T).get_epsilon(DELTA), repeat),
        "eps_warm": median_time(lambda i: acc.get_epsilon(DELTA * (1 + 0.01 * (i + 1))), repeat),
        "delta_cold": median_time(lambda i: fresh(q, sigma, T).get_delta(eps), repeat),
        "delta_warm": median_time(lambda i: acc.get_delta(eps * (1 + 0.001 * (i + 1))), repeat),
    }


def prv(q: float, sigma: float, T: int) -> float | None:
    try:
        from prv_accountant import PRVAccountant
        from prv_accountant.privacy_random_variables import PoissonSubsampledGaussianMechanism
    except ImportError:
        return None
    t0 = time.perf_counter()
    mech = PoissonSubsampledGaussianMechanism(sampling_probability=q, noise_multiplier=sigma * 1.003)
    acc = PRVAccountant(prvs=[mech], max_self_compositions=[T], eps_error=0.01, delta_error=DELTA / 1000)
    acc.compute_epsilon(delta=DELTA, num_self_compositions=[T])
    return time.perf_counter() - t0


def heterogeneous_ours() -> float:
    t0 = time.perf_counter()
    acc = ew.SaddlePointAccountant()
    for q, s in SCHEDULE:
        acc.compose(ew.PoissonGaussian(q, s * (1 + 1e-9 * next(FRESH))), 1)
    acc.get_epsilon(DELTA)
    return time.perf_counter() - t0


def ratio(peer: float | None, mine: float) -> str:
    return f"{peer / mine:.0f}×" if peer else "n/a"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer repeats, skip the 1,000-step peers")
    args = ap.parse_args()
    if not ew.COMPILED:
        sys.exit("run with the compiled kernels (EWACCOUNT_PURE_PYTHON unset, extension built)")
    repeat = 5 if args.quick else 15
    ours(0.02, 0.9, 1000, 2)   # imports and first-call costs out of the way
    print(f"q = {Q}, sigma = {SIGMA}, delta = {DELTA:g}; medians of {repeat}; one core, this machine\n")
    print("| T | eps cold | eps warm | delta cold | delta warm | Opacus RDP | dp_accounting RDP | PRV "
          "| Opacus / ours cold | dp_acc / ours cold | PRV / ours cold |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for T in TS:
        o = ours(Q, SIGMA, T, repeat)
        op, dp = opacus_rdp(T), dp_accounting_rdp(T)
        pv = prv(Q, SIGMA, T) if T <= PRV_T_MAX else None
        print(f"| {T:.0e} | {fmt(o['eps_cold'])} | {fmt(o['eps_warm'])} | {fmt(o['delta_cold'])} "
              f"| {fmt(o['delta_warm'])} | {fmt(op)} | {fmt(dp)} | {fmt(pv)} | {ratio(op, o['eps_cold'])} "
              f"| {ratio(dp, o['eps_cold'])} | {ratio(pv, o['eps_cold'])} |")
    print("\n| q | sigma | T | eps | eps cold | eps warm |")
    print("|---|---|---|---|---|---|")
    for q, s, T in CONFIGS:
        o = ours(q, s, T, repeat)
        eps = ew.epsilon(sample_rate=q, noise_multiplier=s, steps=T, delta=DELTA, method="saddlepoint")
        print(f"| {q} | {s} | {T} | {eps:.4f} | {fmt(o['eps_cold'])} | {fmt(o['eps_warm'])} |")
    het = statistics.median(heterogeneous_ours() for _ in range(3))
    line = f"\nHeterogeneous ledger, 1,000 distinct (q, sigma) steps, compose + one eps query: ours {fmt(het)}"
    if not args.quick:
        op, dp = opacus_rdp(0, SCHEDULE), dp_accounting_rdp(0, SCHEDULE)
        line += f"; Opacus RDP {fmt(op)} ({ratio(op, het)}); dp_accounting RDP {fmt(dp)} ({ratio(dp, het)})"
    print(line)


if __name__ == "__main__":
    main()

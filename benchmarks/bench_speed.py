"""Speed of the Edgeworth accountant, side by side with Opacus and dp_accounting RDP, in one run.

Measures, on the same configurations (q = 0.01, sigma ~ 1, delta = 1e-5):
  * our eps query, cold (first query for a (q, sigma) never seen, after import and one
    warm-up on another pair) and warm (the same ledger queried again at another delta),
    compiled and pure-Python twin (the twin runs in a subprocess with EWACCOUNT_PURE_PYTHON=1);
  * noise calibration (target eps = 3);
  * cost against T = 1e2 ... 1e9;
  * a heterogeneous ledger of 1,000 distinct (q, sigma) steps, composed and queried;
  * Opacus RDPAccountant and dp_accounting RdpAccountant on the same inputs, when installed.

Run: python benchmarks/bench_speed.py [--quick]   (prints markdown tables)
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

warnings.simplefilter("ignore")

import ewaccount as ew  # noqa: E402

Q, SIGMA, DELTA = 0.01, 1.0, 1e-5
TS = [10**k for k in range(2, 10)]
FRESH = itertools.count(1)


def median_time(fn, repeat: int) -> float:
    times = []
    for i in range(repeat):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def ours(T: int, repeat: int) -> dict:
    ew.epsilon(sample_rate=0.02, noise_multiplier=0.9, steps=T, delta=DELTA, method="edgeworth")

    def cold(i):  # a sigma never seen in this process: nothing cached
        acc = ew.EdgeworthAccountant()
        acc.compose(ew.PoissonGaussian(Q, SIGMA * (1 + 1e-7 * next(FRESH))), T)
        acc.get_epsilon(DELTA)

    acc = ew.EdgeworthAccountant().compose(ew.PoissonGaussian(Q, SIGMA), T)
    acc.get_epsilon(DELTA)
    deltas = [DELTA * (1 + 0.01 * i) for i in range(repeat)]
    return {"cold": median_time(cold, repeat), "warm": median_time(lambda i: acc.get_epsilon(deltas[i]), repeat)}


def calibration(repeat: int) -> float:
    return median_time(lambda i: ew.calibrate_noise(target_epsilon=3.0 + 1e-3 * i, delta=DELTA,
                                                     sample_rate=Q, steps=10_000, method="edgeworth"),
                       repeat)


SCHEDULE = [(Q, 0.8 + 0.4 * i / 999) for i in range(1000)]


def heterogeneous_ours() -> float:
    t0 = time.perf_counter()
    acc = ew.EdgeworthAccountant()
    for q, s in SCHEDULE:
        acc.compose(ew.PoissonGaussian(q, s * (1 + 1e-9)), 1)
    acc.get_epsilon(DELTA)
    return time.perf_counter() - t0


def opacus_rdp(T: int, schedule=None) -> float | None:
    try:
        from opacus.accountants import RDPAccountant
    except ImportError:
        return None
    t0 = time.perf_counter()
    acc = RDPAccountant()
    acc.history = [(s, q, 1) for q, s in schedule] if schedule else [(SIGMA * 1.001, Q, T)]
    acc.get_epsilon(DELTA)
    return time.perf_counter() - t0


def dp_accounting_rdp(T: int, schedule=None) -> float | None:
    try:
        import dp_accounting
    except ImportError:
        return None
    t0 = time.perf_counter()
    acc = dp_accounting.rdp.RdpAccountant()
    events = [(q, s, 1) for q, s in schedule] if schedule else [(Q, SIGMA * 1.002, T)]
    for q, s, n in events:
        acc.compose(dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(s)), n)
    acc.get_epsilon(DELTA)
    return time.perf_counter() - t0


def fmt(sec: float | None) -> str:
    if sec is None:
        return "n/a"
    return f"{sec * 1e6:.1f} µs" if sec < 1e-3 else (f"{sec * 1e3:.2f} ms" if sec < 1 else f"{sec:.2f} s")


def ours_only(repeat: int, ts) -> dict:
    return {"T": {str(T): ours(T, repeat) for T in ts}, "calibration": calibration(max(3, repeat // 5)),
            "compiled": ew.COMPILED}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer repeats, skip 1,000-step peers")
    ap.add_argument("--json-ours", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    repeat = 5 if args.quick else 21
    if args.json_ours:
        print(json.dumps(ours_only(repeat, [100, 10_000])))
        return
    if not ew.COMPILED:
        sys.exit("run with the compiled kernels (EWACCOUNT_PURE_PYTHON unset, extension built)")
    env = dict(os.environ, EWACCOUNT_PURE_PYTHON="1")
    pure = json.loads(subprocess.run([sys.executable, __file__, "--json-ours"] + (["--quick"] if args.quick else []),
                                     env=env, capture_output=True, text=True, check=True).stdout)
    rows = []
    for T in TS:
        o = ours(T, repeat)
        op, dp = opacus_rdp(T), dp_accounting_rdp(T)
        rows.append((T, o, op, dp))
    print(f"q = {Q}, sigma = {SIGMA}, delta = {DELTA:g}; medians of {repeat}; one core, this machine\n")
    print("| T | ours cold | ours warm | Opacus RDP | dp_accounting RDP | Opacus / ours cold | dp_acc / ours cold |")
    print("|---|---|---|---|---|---|---|")
    for T, o, op, dp in rows:
        r1 = f"{op / o['cold']:.0f}×" if op else "n/a"
        r2 = f"{dp / o['cold']:.0f}×" if dp else "n/a"
        print(f"| {T:.0e} | {fmt(o['cold'])} | {fmt(o['warm'])} | {fmt(op)} | {fmt(dp)} | {r1} | {r2} |")
    comp = ours_only(repeat, [100, 10_000])
    print("\n| path | cold (T=1e2) | warm (T=1e2) | cold (T=1e4) | warm (T=1e4) | calibration (T=1e4) |")
    print("|---|---|---|---|---|---|")
    for name, d in (("compiled", comp), ("pure-Python twin", pure)):
        a, b = d["T"]["100"], d["T"]["10000"]
        print(f"| {name} | {fmt(a['cold'])} | {fmt(a['warm'])} | {fmt(b['cold'])} | {fmt(b['warm'])} | {fmt(d['calibration'])} |")
    print(f"\ntwin / compiled: cold {pure['T']['10000']['cold'] / comp['T']['10000']['cold']:.0f}×, "
          f"calibration {pure['calibration'] / comp['calibration']:.0f}×")
    het = heterogeneous_ours()
    line = f"\nHeterogeneous ledger, 1,000 distinct (q, sigma) steps, compose + one eps query: ours {fmt(het)}"
    if not args.quick:
        op, dp = opacus_rdp(0, SCHEDULE), dp_accounting_rdp(0, SCHEDULE)
        line += f"; Opacus RDP {fmt(op)}" + (f" ({op / het:.0f}×)" if op else "")
        line += f"; dp_accounting RDP {fmt(dp)}" + (f" ({dp / het:.0f}×)" if dp else "")
    print(line)


if __name__ == "__main__":
    main()

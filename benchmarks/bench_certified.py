"""Certified epsilon: milliseconds per cold query and error over the truth, on the public
truth panel (tests/reference/truth_public.jsonl), side by side with dp_accounting's PLD and
prv_accountant when they are installed.

    python benchmarks/bench_certified.py            # ours + peers
    python benchmarks/bench_certified.py --no-peers # ours only (seconds)
    python benchmarks/bench_certified.py --rows pub08,pub22 --repeat 5

A *cold* query (DESIGN.md section 2) is the first for a (q, sigma) never seen in the process,
after import and one warm-up on another pair; every row has its own (q, sigma), and the
accountant's caches are cleared before each timed call. *Warm* is the same ledger asked
again at another delta. Peers are run at their usual settings: dp_accounting PLD
(pessimistic, connect-the-dots, value_discretization_interval=1e-4) and prv_accountant
(eps_error=0.01, delta_error=delta/1000), their upper ends reported.
"""
from __future__ import annotations

import argparse
import json
import math
import pathlib
import statistics
import sys
import time
import warnings

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "reference" / "truth_public.jsonl"


def ours(row, rtol):
    import ewaccount as ew
    from ewaccount import certified as C
    from ewaccount.accountants import CertifiedAccountant
    C._CHAINS.clear()
    C._COARSE.clear()
    acc = CertifiedAccountant(rtol=rtol).compose(
        ew.PoissonGaussian(sample_rate=row["q"], noise_multiplier=row["sigma"]), row["T"])
    t0 = time.perf_counter()
    res = acc.get_epsilon_result(row["delta"])
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    acc.get_epsilon(row["delta"] * 0.5)
    warm = time.perf_counter() - t0
    return res.value, cold, warm, res.route


def pld(row):
    from dp_accounting.pld import privacy_loss_distribution as P
    t0 = time.perf_counter()
    p = P.from_gaussian_mechanism(row["sigma"], sampling_prob=row["q"], pessimistic_estimate=True,
                                  value_discretization_interval=1e-4, use_connect_dots=True)
    eps = p.self_compose(row["T"]).get_epsilon_for_delta(row["delta"])
    return eps, time.perf_counter() - t0


def prv(row):
    from prv_accountant import PoissonSubsampledGaussianMechanism, PRVAccountant
    t0 = time.perf_counter()
    a = PRVAccountant(prvs=[PoissonSubsampledGaussianMechanism(noise_multiplier=row["sigma"],
                                                               sampling_probability=row["q"])],
                      max_self_compositions=[row["T"]], eps_error=0.01, delta_error=row["delta"] / 1000)
    _, _, hi = a.compute_epsilon(row["delta"], [row["T"]])
    return hi, time.perf_counter() - t0


def _has(mod):
    try:
        __import__(mod)
        return True
    except ImportError:
        return False


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rtol", type=float, default=0.005)
    ap.add_argument("--rows", default="", help="comma-separated row names (default: all)")
    ap.add_argument("--repeat", type=int, default=3, help="cold timings per row (median)")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--json", default="", help="also write the table to this file")
    args = ap.parse_args(argv)

    import ewaccount as ew
    from ewaccount._kernels import PLD_COMPILED
    from ewaccount.accountants import CertifiedAccountant

    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line]
    if args.rows:
        keep = set(args.rows.split(","))
        rows = [r for r in rows if r["name"] in keep]
    peers = {} if args.no_peers else {n: f for n, f, m in (("pld", pld, "dp_accounting"),
                                                             ("prv", prv, "prv_accountant")) if _has(m)}
    # warm-up on a pair that is not in the panel
    CertifiedAccountant().compose(ew.PoissonGaussian(sample_rate=0.0123, noise_multiplier=1.234), 321).get_epsilon(1e-6)

    print(f"certified accountant, rtol={args.rtol}, kernels: {'compiled' if PLD_COMPILED else 'pure-Python twin'}")
    head = f"{'row':<17}{'truth':>9}{'ours':>10}{'err %':>8}{'cold ms':>9}{'warm ms':>9}"
    for n in peers:
        head += f"{n + ' err %':>12}{n + ' ms':>10}{'x slower':>9}"
    print(head)
    out, errs, colds, warms = [], [], [], []
    ratios = {n: [] for n in peers}
    for r in rows:
        runs = [ours(r, args.rtol) for _ in range(max(1, args.repeat))]
        eps, route = runs[0][0], runs[0][3]
        cold = statistics.median(x[1] for x in runs)
        warm = statistics.median(x[2] for x in runs)
        err = eps / r["prv_est"] - 1.0
        errs.append(err)
        colds.append(cold)
        warms.append(warm)
        line = f"{r['name']:<17}{r['prv_est']:>9.4f}{eps:>10.4f}{100 * err:>+8.3f}{1e3 * cold:>9.2f}{1e3 * warm:>9.3f}"
        rec = dict(name=r["name"], truth=r["prv_est"], eps=eps, err=err, cold_ms=1e3 * cold,
                   warm_ms=1e3 * warm, route=route)
        for n, f in peers.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    pe, pt = f(r)
                except Exception as e:  # noqa: BLE001 - a peer failing is reported, not fatal
                    pe, pt = math.nan, math.nan
                    print(f"  ({n} failed on {r['name']}: {e})", file=sys.stderr)
            ratios[n].append(pt / cold)
            line += f"{100 * (pe / r['prv_est'] - 1):>+12.3f}{1e3 * pt:>10.0f}{pt / cold:>9.0f}"
            rec[n] = dict(eps=pe, ms=1e3 * pt)
        if route != "composed PLD":
            line += f"  [{route}]"
        print(line, flush=True)
        out.append(rec)
    viol = sum(1 for r, e in zip(rows, errs) if r["prv_est"] * (1 + e) < r["prv_lo"])
    print(f"\nours: error over truth median {100 * statistics.median(errs):+.3f}%, max {100 * max(errs):+.3f}%, "
          f"min {100 * min(errs):+.3f}%; violations (below prv_lo): {viol}")
    print(f"ours: cold query median {1e3 * statistics.median(colds):.2f} ms, max {1e3 * max(colds):.2f} ms; "
          f"warm median {1e3 * statistics.median(warms):.3f} ms")
    for n in peers:
        ok = [x for x in ratios[n] if math.isfinite(x)]
        if ok:
            print(f"{n}: median {statistics.median(ok):.0f}x our cold time")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

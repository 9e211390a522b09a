"""The ``ewaccount`` command: epsilon, delta, noise multiplier and a comparison of every
accountant for a DP-SGD run, as a table or JSON. Every number printed says its kind
(upper bound = a valid (epsilon, delta)-DP guarantee; estimate = not a guarantee).

Run ``ewaccount --help`` or ``ewaccount <command> --help``; bad arguments print one line
on stderr and exit with status 2.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from typing import Optional, Sequence

from . import _validation as v

KIND_TEXT = {
    "upper": "upper bound: a valid (epsilon, delta)-DP guarantee",
    "estimate": "estimate: not a privacy guarantee",
    "lower": "lower bound: the true value is at least this",
}

EXAMPLES = """\
examples:
  ewaccount epsilon --sample-rate 0.01 --noise-multiplier 1.0 --steps 1000 --delta 1e-5
  ewaccount epsilon --sample-rate 0.01 --noise-multiplier 1.0 --steps 1000 --delta 1e-5 --method rdp
  ewaccount delta   --sample-rate 0.01 --noise-multiplier 1.0 --steps 1000 --epsilon 2 --method gdp
  ewaccount noise   --target-epsilon 3 --delta 1e-5 --sample-rate 0.01 --steps 1000 --method rdp
  ewaccount compare --sample-rate 0.01 --noise-multiplier 1.0 --steps 1000 --delta 1e-5
  ewaccount compare --target-epsilon 3 --delta 1e-5 --sample-rate 0.01 --steps 1000 --json
  ewaccount compare --sample-rate 0.01 --noise-multiplier 1.0 --steps 1000 --delta 1e-5 --plot out.png

kinds: "upper" is a valid (epsilon, delta)-DP guarantee; "estimate" is an approximation
with no error direction (not a guarantee); "lower" is a lower bound.
"""


class CLIError(Exception):
    """A bad argument found after parsing (reported as one line, exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``ewaccount <cmd>: error: ...`` and exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _methods_help() -> str:
    from .methods import METHODS
    return ", ".join(METHODS)


def _build_parser() -> _Parser:
    parser = _Parser(prog="ewaccount", description=(
        "Privacy accounting for DP-SGD (Poisson-subsampled Gaussian): epsilon, delta, the "
        "noise multiplier for a target, and a comparison of every accountant."),
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="{epsilon,delta,noise,compare}")
    sub.required = True

    def common(p, *, noise=True, delta=True, epsilon=False, target=False, method=True,
               method_required=True):
        p.add_argument("--sample-rate", type=_number, required=True, metavar="Q",
                       help="Poisson sampling rate q in (0, 1]")
        if noise:
            p.add_argument("--noise-multiplier", type=_number, required=not target, metavar="SIGMA",
                           help="noise multiplier sigma > 0")
        p.add_argument("--steps", type=_number, required=True, metavar="T",
                       help="number of steps (an integer; 1e4 is accepted)")
        if delta:
            p.add_argument("--delta", type=_number, required=True, help="target delta in (0, 1)")
        if epsilon:
            p.add_argument("--epsilon", type=_number, required=True, help="epsilon >= 0")
        if target:
            p.add_argument("--target-epsilon", type=_number, required=method_required,
                           metavar="EPS", help="target epsilon > 0")
        if method:
            kw = dict(default=None) if method_required else dict(action="append")
            p.add_argument("--method", **kw, help=(
                f"accounting method ({_methods_help()}); default: certified (a guarantee; "
                "epsilon also shows the certified lower bound and the saddle-point estimate)"
                if method_required else
                f"method to include (repeatable; default: all of {_methods_help()})"))
        p.add_argument("--order", type=int, default=None,
                       help="Edgeworth order 0-3 (methods with an order option)")
        p.add_argument("--ordering", choices=("max", "pq", "qp"), default=None,
                       help="ordered pair: max (add/remove, default), pq or qp")
        p.add_argument("--json", action="store_true", help="print JSON instead of text")

    common(sub.add_parser("epsilon", help="epsilon at a delta", epilog=EXAMPLES,
                          formatter_class=argparse.RawDescriptionHelpFormatter))
    common(sub.add_parser("delta", help="delta at an epsilon", epilog=EXAMPLES,
                          formatter_class=argparse.RawDescriptionHelpFormatter),
           delta=False, epsilon=True)
    common(sub.add_parser("noise", help="noise multiplier for a target epsilon", epilog=EXAMPLES,
                          formatter_class=argparse.RawDescriptionHelpFormatter),
           noise=False, target=True)
    cmp = sub.add_parser("compare", help="every accountant on the same run, one table",
                         epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
                         description="epsilon of every method for the run; with --target-epsilon "
                                     "(and no --noise-multiplier) the noise multiplier each "
                                     "method needs instead.")
    common(cmp, target=True, method_required=False)
    cmp.add_argument("--time-box", type=_number, default=None, metavar="SECONDS",
                     help="time box for third-party rows pld/prv (default 60 s)")
    cmp.add_argument("--plot", metavar="OUT.PNG", default=None,
                     help="also draw epsilon against steps and the privacy profile delta(epsilon)")
    return parser


def _options(args) -> dict:
    return {k: getattr(args, k) for k in ("order", "ordering") if getattr(args, k) is not None}


def _fmt(x) -> str:
    if x is None:
        return "-"
    return f"{x:.6g}"


def _run_epsilon(args) -> dict:
    from .api import _accountant, epsilon_bounds
    if args.method is None and not _options(args):  # the headline: certified, with its bracket
        res = epsilon_bounds(sample_rate=args.sample_rate, noise_multiplier=args.noise_multiplier,
                             steps=args.steps, delta=args.delta)
    else:
        acc = _accountant(args.sample_rate, args.noise_multiplier, args.steps, args.method,
                          _options(args))
        res = acc.get_epsilon_result(args.delta)
    out = dict(command="epsilon", epsilon=res.value, kind=res.kind, method=res.method,
               delta=args.delta, sample_rate=args.sample_rate,
               noise_multiplier=args.noise_multiplier, steps=args.steps,
               route=res.route, note=res.note)
    if res.kind == "upper" and res.estimate is not None:
        out.update(lower=res.lower, estimate=res.estimate)
    return out


def _run_delta(args) -> dict:
    from .api import _accountant
    e = v.epsilon(args.epsilon)
    acc = _accountant(args.sample_rate, args.noise_multiplier, args.steps, args.method, _options(args))
    d = acc.get_delta(e)
    return dict(command="delta", delta=d, kind=acc.kind, method=acc.method, epsilon=e,
                sample_rate=args.sample_rate, noise_multiplier=args.noise_multiplier,
                steps=args.steps, route=acc._route(), note=acc._note())


def _run_noise(args) -> dict:
    from .calibrate import calibrate_noise
    from .methods import DEFAULT_METHOD, make_accountant
    opts = _options(args)
    args.method = args.method or DEFAULT_METHOD
    sigma = calibrate_noise(target_epsilon=args.target_epsilon, delta=args.delta,
                            sample_rate=args.sample_rate, steps=args.steps, method=args.method, **opts)
    acc = make_accountant(args.method, **opts)
    return dict(command="noise", noise_multiplier=sigma, kind=acc.kind, method=args.method,
                target_epsilon=args.target_epsilon, delta=args.delta,
                sample_rate=args.sample_rate, steps=args.steps, note=acc._note())


def _run_compare(args) -> dict:
    from .compare import DEFAULT_TIME_BOX, compare, compare_noise
    box = DEFAULT_TIME_BOX if args.time_box is None else args.time_box
    opts = _options(args)
    if args.noise_multiplier is None:
        if args.target_epsilon is None:
            raise CLIError("compare needs --noise-multiplier (epsilon table) or --target-epsilon "
                           "(noise table)")
        if args.plot:
            raise CLIError("--plot needs --noise-multiplier (it draws epsilon for a given sigma)")
        rows = compare_noise(target_epsilon=args.target_epsilon, delta=args.delta,
                             sample_rate=args.sample_rate, steps=args.steps, methods=args.method,
                             time_box=box, **opts)
        return dict(command="compare", table="noise_multiplier", target_epsilon=args.target_epsilon,
                    delta=args.delta, sample_rate=args.sample_rate, steps=args.steps,
                    rows=[r.as_dict() for r in rows])
    if args.target_epsilon is not None:
        raise CLIError("give either --noise-multiplier (epsilon table) or --target-epsilon "
                       "(noise table), not both")
    rows = compare(sample_rate=args.sample_rate, noise_multiplier=args.noise_multiplier,
                   steps=args.steps, delta=args.delta, methods=args.method, time_box=box, **opts)
    out = dict(command="compare", table="epsilon", delta=args.delta, sample_rate=args.sample_rate,
               noise_multiplier=args.noise_multiplier, steps=args.steps,
               rows=[r.as_dict() for r in rows])
    if args.plot:
        from .plots import plot_comparison
        from .methods import PEER_METHODS
        methods = [r.method for r in rows if r.method not in PEER_METHODS and r.epsilon is not None]
        plot_comparison(sample_rate=args.sample_rate, noise_multiplier=args.noise_multiplier,
                        steps=args.steps, delta=args.delta, methods=methods, path=args.plot, **opts)
        out["plot"] = args.plot
    return out


def _table(rows: list[dict], value: str) -> str:
    head = ["method", value, "kind", "seconds", "note"]
    body = [[r["method"], _fmt(r[value]), r["kind"],
             "-" if r["seconds"] is None else f"{r['seconds']:.4f}", r["note"]] for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(line[:-1], widths[:-1])) + "  " + line[-1]
             for line in [head] + body]
    return "\n".join(lines)


def _headline(rows: list[dict], value: str, smaller_is_tighter: bool = True) -> str:
    uppers = [r for r in rows if r["kind"] == "upper" and r[value] is not None]
    if not uppers:
        return "no upper bound in this table: every number is an estimate, none is a guarantee"
    best = min(uppers, key=lambda r: r[value])
    what = "tightest guarantee" if value == "epsilon" else "least noise with a guarantee"
    return (f"{what}: {best['method']} {value} = {_fmt(best[value])} (upper bound); "
            "rows of kind 'estimate' are not guarantees")


def _text(out: dict) -> str:
    c = out["command"]
    if c == "epsilon":
        return "\n".join([
            f"epsilon = {_fmt(out['epsilon'])}  [{out['kind']}; {KIND_TEXT[out['kind']]}]",
            f"  method {out['method']}, delta = {out['delta']:g}, sample rate {out['sample_rate']:g}, "
            f"noise multiplier {out['noise_multiplier']:g}, {int(out['steps'])} steps",
            f"  route: {out['route']}", f"  note: {out['note']}"]
            + ([f"  bracket: lower {_fmt(out['lower'])} (certified lower bound), estimate "
                f"{_fmt(out['estimate'])} (saddle point; not a guarantee)"] if "estimate" in out else []))
    if c == "delta":
        return "\n".join([
            f"delta = {out['delta']:.6g}  [{out['kind']}; {KIND_TEXT[out['kind']]}]",
            f"  method {out['method']}, epsilon = {out['epsilon']:g}, sample rate "
            f"{out['sample_rate']:g}, noise multiplier {out['noise_multiplier']:g}, "
            f"{out['steps']} steps",
            f"  route: {out['route']}", f"  note: {out['note']}"])
    if c == "noise":
        meaning = (f"epsilon <= {out['target_epsilon']:g} at delta = {out['delta']:g} is guaranteed"
                   if out["kind"] == "upper" else
                   f"the method's estimate of epsilon is <= {out['target_epsilon']:g}; not a guarantee")
        return "\n".join([
            f"noise_multiplier = {_fmt(out['noise_multiplier'])}  [{out['kind']}; {meaning}]",
            f"  method {out['method']}, sample rate {out['sample_rate']:g}, "
            f"{out['steps']} steps", f"  note: {out['note']}"])
    value = out["table"]
    if value == "epsilon":
        title = (f"epsilon at delta = {out['delta']:g}: sample rate {out['sample_rate']:g}, "
                 f"noise multiplier {out['noise_multiplier']:g}, {int(out['steps'])} steps")
    else:
        title = (f"noise multiplier for epsilon = {out['target_epsilon']:g} at delta = "
                 f"{out['delta']:g}: sample rate {out['sample_rate']:g}, {int(out['steps'])} steps")
    lines = [title, _table(out["rows"], value), _headline(out["rows"], value)]
    if out.get("plot"):
        lines.append(f"plot written to {out['plot']}")
    return "\n".join(lines)


def _with_warnings(text: str, out: dict) -> str:
    return "\n".join([text] + [f"  warning: {w}" for w in out.get("warnings", [])])


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``ewaccount`` console script; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    prog = f"ewaccount {args.command}"
    run = {"epsilon": _run_epsilon, "delta": _run_delta, "noise": _run_noise,
           "compare": _run_compare}[args.command]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if getattr(args, "steps", None) is not None:
                args.steps = v.count("steps", args.steps)
            out = run(args)
    except (CLIError, ValueError, TypeError, ImportError) as err:
        msg = " ".join(str(err).split())
        sys.stderr.write(f"{prog}: error: {msg}\n")
        return 2
    notes = list(dict.fromkeys(" ".join(str(w.message).split()) for w in caught))
    if notes:
        out["warnings"] = notes
    if args.json:
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
    else:
        sys.stdout.write(_with_warnings(_text(out), out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

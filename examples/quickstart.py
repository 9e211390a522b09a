"""Privacy spent by a DP-SGD run, and the noise for a target, each number labelled.

Run: python examples/quickstart.py
"""
import warnings

import ewaccount as ew

SAMPLE_RATE, NOISE, STEPS, DELTA = 256 / 60_000, 1.1, 60 * 235, 1e-5


def main() -> None:
    print(f"DP-SGD: sample_rate={SAMPLE_RATE:.5g}, noise_multiplier={NOISE}, steps={STEPS}, delta={DELTA:g}")
    print(f"kernels: {'compiled Cython' if ew.COMPILED else 'pure-Python twin'}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = ew.epsilon_bounds(sample_rate=SAMPLE_RATE, noise_multiplier=NOISE, steps=STEPS, delta=DELTA)
        print(f"epsilon <= {r.upper:.4f}  [certified upper bound: a valid (epsilon, delta)-DP guarantee; {r.route}]")
        lower = "n/a" if r.lower is None else f"{r.lower:.4f}"
        print(f"  bracket: lower {lower} (certified), estimate {r.estimate:.4f} (saddle point, not a guarantee)")
        ew_est = ew.epsilon(sample_rate=SAMPLE_RATE, noise_multiplier=NOISE, steps=STEPS, delta=DELTA,
                            method="edgeworth", order=1)
        print(f"  Edgeworth order 1 (as EW-Tune): {ew_est:.4f}  [estimate, not a guarantee]")
        sigma = ew.calibrate_noise(target_epsilon=3.0, delta=DELTA, sample_rate=SAMPLE_RATE, steps=STEPS)
        print(f"noise multiplier for epsilon = 3: {sigma:.4f}  [certified: epsilon <= 3 is guaranteed]")
    for w in dict.fromkeys(str(w.message) for w in caught):
        print(f"  warning: {w}")


if __name__ == "__main__":
    main()

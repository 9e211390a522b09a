"""Privacy spent by a DP-SGD run, by the Edgeworth accountant, honestly labelled.

Run: python examples/quickstart.py
"""
import warnings

import ewaccount as ew

SAMPLE_RATE, NOISE, STEPS, DELTA = 256 / 60_000, 1.1, 60 * 235, 1e-5


def main() -> None:
    print(f"DP-SGD: sample_rate={SAMPLE_RATE:.5g}, noise_multiplier={NOISE}, steps={STEPS}, delta={DELTA:g}")
    print(f"kernels: {'compiled Cython' if ew.COMPILED else 'pure-Python twin'}")
    acc = ew.EdgeworthAccountant(order=2)
    acc.compose(ew.PoissonGaussian(sample_rate=SAMPLE_RATE, noise_multiplier=NOISE), count=STEPS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = acc.get_epsilon_result(DELTA)
    print(f"epsilon = {result.value:.4f}  [{result.kind}: {result.note}]")
    for w in caught:
        print(f"  warning: {w.message}")
    sigma = ew.calibrate_noise(target_epsilon=3.0, delta=DELTA, sample_rate=SAMPLE_RATE,
                               steps=STEPS, method="edgeworth")
    print(f"noise multiplier for epsilon = 3 under this estimate: {sigma:.4f}  [estimate, not a guarantee]")


if __name__ == "__main__":
    main()

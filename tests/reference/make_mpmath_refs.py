"""Regenerate mpmath_refs.json: PLLR tilted cumulants and CGF values by mpmath quadrature.

Independent of the library: 40-digit arithmetic (mp.dps = 40), tanh-sinh quadrature with
breakpoints at 0, at x_b where the mixture component takes over, and at the tilted bump
t*mu. Values are stored to 20 significant digits. Run: python make_mpmath_refs.py
"""
import json

import mpmath as mp

mp.mp.dps = 40

MOMENT_CASES = [(0.05, 0.6, 0), (0.05, 0.6, 1), (0.001, 2.0, 0), (0.001, 2.0, 1),
                (0.2, 1.5, 1), (0.003, 0.8, 0), (0.5, 0.4, 1)]
CGF_CASES = [(0.05, 0.6, [0.5, 3.5, -2.0, 40.0]), (0.001, 2.0, [0.25, 7.0, -6.5, 128.0]),
             (0.3, 1.0, [1.5, 12.0, -1.0, -30.0])]


def pllr(x, q, mu):
    return mp.log(1 - q + q * mp.exp(mu * x - mu * mu / 2))


def breakpoints(q, mu, t):
    xb = (mp.log((1 - q) / q) + mu * mu / 2) / mu
    pts = sorted({mp.mpf(-14), mp.mpf(0), xb, t * mu, t * mu + 14, mp.mpf(14)})
    return [-mp.inf] + pts + [mp.inf]


def integral(f, q, mu, t):
    return mp.quad(f, breakpoints(q, mu, t))


def weight(x, q, mu, t):
    return mp.npdf(x) * mp.exp(t * pllr(x, q, mu))


def tilted(q, sigma, t):
    q, mu, t = mp.mpf(q), 1 / mp.mpf(sigma), mp.mpf(t)
    z = integral(lambda x: weight(x, q, mu, t), q, mu, t)
    m = integral(lambda x: weight(x, q, mu, t) * pllr(x, q, mu), q, mu, t) / z
    c = {k: integral(lambda x: weight(x, q, mu, t) * (pllr(x, q, mu) - m) ** k, q, mu, t) / z
         for k in (2, 3, 4, 5)}
    kappa = [m, c[2], c[3], c[4] - 3 * c[2] ** 2, c[5] - 10 * c[3] * c[2]]
    return {"K": mp.log(z), "kappa": kappa}


def main():
    out = {"_about": __doc__.strip(), "moments": [], "cgf": []}
    for q, s, t in MOMENT_CASES:
        r = tilted(q, s, t)
        out["moments"].append({"q": q, "sigma": s, "t": t,
                               "kappa": [mp.nstr(k, 20) for k in r["kappa"]]})
    for q, s, ts in CGF_CASES:
        mu = 1 / mp.mpf(s)
        vals = []
        for t in ts:
            t = mp.mpf(t)
            vals.append(mp.nstr(mp.log(integral(lambda x: weight(x, mp.mpf(q), mu, t), mp.mpf(q), mu, t)), 20))
        out["cgf"].append({"q": q, "sigma": s, "t": ts, "K": vals})
    with open("mpmath_refs.json", "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()

"""Pure-Python twin of ``_core.pyx``: the same functions, signatures and algorithms,
selected with ``EWACCOUNT_PURE_PYTHON=1`` (or when the extension is not built).

It is the readable specification of the kernels; see ``_core.pyx`` for the maths.
"""
from __future__ import annotations

import math

import numpy as np

NGL = 10
MAXPANEL = 800
GLX, GLW = (list(map(float, a)) for a in np.polynomial.legendre.leggauss(NGL))
LOG_SQRT_2PI = 0.9189385332046727
SQRT1_2 = 0.7071067811865476
QUAD_RTOL = 1e-12
DOMAIN_D = 60.0
PANEL_WIDTH = 4.0
K_DEVIATION = 1e-5
SCALES = {0: (0,), 1: (0, 2, 2), 2: (0, 5, 2, 6, 4, 5, 6), 3: (0,), 4: (0, 2, 2, 3, 5, 5)}
SCALES[5] = SCALES[2] + tuple(7 + k for k in SCALES[2])


def log_ndtr(z: float) -> float:
    """log of the standard normal CDF, log Phi(z)."""
    if z > 0.0:
        return math.log1p(-0.5 * math.erfc(z * SQRT1_2))
    if z > -26.0:
        return math.log(0.5 * math.erfc(-z * SQRT1_2))
    z2 = 1.0 / (z * z)
    s = term = 1.0
    for i in range(1, 13):
        term = -term * (2 * i - 1) * z2
        s += term
    return -0.5 * z * z - LOG_SQRT_2PI - math.log(-z) + math.log(s)


class _Tilt:
    __slots__ = ("q", "mu", "hm2", "t", "shift", "m", "my", "gauss")

    def __init__(self, q: float, mu: float, t: float) -> None:
        self.q, self.mu, self.hm2, self.t = q, mu, 0.5 * mu * mu, t
        self.m = self.my = 0.0
        self.gauss = q >= 1.0
        self.shift = 0.0
        l0 = t * _pllr(0.0, self)
        l1 = -0.5 * (t * mu) ** 2 + t * _pllr(t * mu, self)
        self.shift = max(l0, l1)
        if t < 0.0 and not self.gauss:
            # the concave log-weight's mode solves x = t mu sigmoid(u + logit q)
            a, b, m = t * mu, 0.0, 0.0
            for _ in range(200):
                m = 0.5 * (a + b)
                z = mu * m - self.hm2 + math.log(q / (1.0 - q))
                sig = 1.0 / (1.0 + math.exp(-z)) if z >= 0.0 else math.exp(z) / (1.0 + math.exp(z))
                if -m + t * mu * sig > 0.0:
                    a = m
                else:
                    b = m
                if b - a <= 1e-12 * (1.0 + abs(m)):
                    break
            self.shift = max(self.shift, -0.5 * m * m + t * _pllr(m, self))


def _pllr(x: float, p) -> float:
    u = p.mu * x - p.hm2
    if p.gauss:
        return u
    if u < 700.0:
        return math.log1p(p.q * math.expm1(u))
    return u + math.log(p.q + (1.0 - p.q) * math.exp(-u))


def pllr(x: float, q: float, mu: float) -> float:
    """The PLLR L(x) = log(1 - q + q exp(mu x - mu^2/2)) of one step."""
    p = _Tilt.__new__(_Tilt)
    p.q, p.mu, p.hm2, p.gauss = q, mu, 0.5 * mu * mu, q >= 1.0
    return _pllr(x, p)


def _cgf_deviation(x: float, p) -> float:
    u = p.mu * x - p.hm2
    g = math.exp(-0.5 * x * x)
    y = p.q * math.expm1(u) if u < 700.0 else math.inf
    if abs(y) < 0.1 and abs(p.t * y) < 0.1:
        term = 0.5 * p.t * (p.t - 1.0) * y * y
        s = term
        for k in range(2, 60):
            term *= (p.t - k) / (k + 1.0) * y
            s += term
            if abs(term) <= 1e-17 * abs(s):
                break
        return g * s
    return math.exp(-0.5 * x * x + p.t * _pllr(x, p)) - g - p.t * p.q * (math.exp(-0.5 * x * x + u) - g)


def _central(w: float, d: float) -> list:
    ad = abs(d)
    d2 = d * d
    return [w * d2, w * d2 * d, w * d2 * d2, w * d2 * d2 * d, w * ad, w * d2 * ad, w * d2 * d2 * ad]


def _integrand(x: float, p, mode: int) -> list:
    if mode == 3:
        return [_cgf_deviation(x, p)]
    L = _pllr(x, p)
    if mode >= 4:
        w = math.exp(-0.5 * x * x)
        wy = math.exp(-0.5 * x * x + L)
        if mode == 4:
            return [w, w * L, w * abs(L), wy, wy * L, wy * abs(L)]
        return _central(w, L - p.m) + _central(wy, L - p.my)
    w = math.exp(-0.5 * x * x + p.t * L - p.shift)
    if mode == 0:
        return [w]
    if mode == 1:
        return [w, w * L, w * abs(L)]
    return _central(w, L - p.m)


def _gl_rule(a: float, b: float, p, mode: int, nc: int) -> list:
    c, h = 0.5 * (a + b), 0.5 * (b - a)
    acc = [0.0] * nc
    for xi, wi in zip(GLX, GLW):
        f = _integrand(c + h * xi, p, mode)
        for k in range(nc):
            acc[k] += wi * f[k]
    return [v * h for v in acc]


def _panel(a: float, b: float, p, mode: int, nc: int):
    m = 0.5 * (a + b)
    coarse = _gl_rule(a, b, p, mode, nc)
    left = _gl_rule(a, m, p, mode, nc)
    right = _gl_rule(m, b, p, mode, nc)
    val = [left[k] + right[k] for k in range(nc)]
    return val, [abs(coarse[k] - val[k]) for k in range(nc)]


def _adaptive(p, mode: int, intervals) -> tuple[list, int]:
    nc = len(SCALES[mode])
    sc = SCALES[mode]
    pa, pb, val, err = [], [], [], []
    for lo, hi in intervals:
        width = hi - lo
        if width <= 0.0:
            continue
        n = min(max(int(math.ceil(width / PANEL_WIDTH)), 1), MAXPANEL // 4)
        for j in range(n):
            a = lo + width * j / n
            b = lo + width * (j + 1) / n if j + 1 < n else hi
            v, e = _panel(a, b, p, mode, nc)
            pa.append(a), pb.append(b), val.append(v), err.append(e)
    status = 1
    tot = [0.0] * nc
    rtol = QUAD_RTOL + 64.0 * 2.2e-16 * abs(p.shift)
    for _ in range(MAXPANEL):
        tot = [sum(v[k] for v in val) for k in range(nc)]
        etot = [sum(e[k] for e in err) for k in range(nc)]
        status = 0
        for k in range(nc):
            if etot[k] > rtol * abs(tot[sc[k]]) + 1e-300:
                status = 1
        if status == 0 or len(pa) + 1 >= MAXPANEL:
            break
        scale = [abs(tot[sc[k]]) + 1e-300 for k in range(nc)]
        worst = max(range(len(pa)), key=lambda i: max(err[i][k] / scale[k] for k in range(nc)))
        m = 0.5 * (pa[worst] + pb[worst])
        a, b = pa[worst], pb[worst]
        pb[worst] = m
        val[worst], err[worst] = _panel(a, m, p, mode, nc)
        v, e = _panel(m, b, p, mode, nc)
        pa.append(m), pb.append(b), val.append(v), err.append(e)
    return tot, status


def _domain(p, moments: bool) -> list:
    D, M, t, mu = DOMAIN_D, p.shift, p.t, p.mu
    A = 0.5 * t * (t - 1.0) * mu * mu
    c2 = t * mu
    iv = []
    if t >= 0.0:
        r1sq, r2sq = 2.0 * (D - M), 2.0 * (D + A - M)
        if r1sq > 0.0:
            r1 = math.sqrt(r1sq)
            iv.append([-r1, r1])
        if r2sq > 0.0:
            r2 = math.sqrt(r2sq)
            iv.append([c2 - r2, c2 + r2])
    else:
        r1sq = 2.0 * (D + t * math.log1p(-p.q) - M)
        r2sq = 2.0 * (D + A + t * math.log(p.q) - M)
        if r1sq <= 0.0 or r2sq <= 0.0:
            return []
        r1, r2 = math.sqrt(r1sq), math.sqrt(r2sq)
        lo, hi = max(-r1, c2 - r2), min(r1, c2 + r2)
        if hi > lo:
            iv.append([lo, hi])
    if len(iv) == 2 and iv[1][0] <= iv[0][1]:
        iv = [[min(iv[0][0], iv[1][0]), max(iv[0][1], iv[1][1])]]
    if moments and iv:
        iv[-1][1] += _moments_reach(p.q, mu) + 1.0
        iv[0][0] -= 1.0
    return iv


def _moments_reach(q: float, mu: float) -> float:
    """How far right of the CGF's domain the moments' weights reach (see _core.pyx)."""
    xb = (math.log((1.0 - q) / q) + 0.5 * mu * mu) / mu
    return min(5.0 * mu, max(xb, 0.0))


def _split_at(iv: list, x: float) -> list:
    for i, (lo, hi) in enumerate(iv):
        if lo < x < hi:
            return iv[:i] + [[lo, x], [x, hi]] + iv[i + 1:]
    return iv


def _pllr_inverse(l: float, p) -> float:
    y = math.expm1(l) / p.q if l < 709.0 else math.inf
    if y <= -1.0:
        return math.nan
    return (math.log1p(y) + p.hm2) / p.mu


def pllr_moments(q: float, mu: float, t: float, out) -> int:
    """Tilted moments of the PLLR into out[:8] = [K(t), mean, c2, c3, c4, c5, E|d|, E|d|^3]
    (c_k central moments, d = L - mean). Returns a status: 0 ok, 1 tolerance not met."""
    mu2 = mu * mu
    if q >= 1.0:
        out[:8] = [0.5 * t * (t - 1.0) * mu2, (t - 0.5) * mu2, mu2, 0.0, 3.0 * mu2 * mu2, 0.0,
                   mu * math.sqrt(2.0 / math.pi), 2.0 * math.sqrt(2.0 / math.pi) * mu2 * mu]
        return 0
    p = _Tilt(q, mu, t)
    iv = _domain(p, True)
    r1, s1 = _adaptive(p, 1, _split_at(iv, _pllr_inverse(0.0, p)))
    i0 = r1[0]
    p.m = r1[1] / i0
    r2, s2 = _adaptive(p, 2, _split_at(iv, _pllr_inverse(p.m, p)))
    out[:8] = [p.shift + math.log(i0) - LOG_SQRT_2PI, p.m] + [r / i0 for r in r2[:6]]
    if p.shift < 1.0 and abs(out[0]) < K_DEVIATION:   # K's relative accuracy: see _core.pyx
        k = np.empty(1)
        s1 |= pllr_cgf(q, mu, [t], k)
        out[0] = k[0]
    return s1 | s2


def pllr_moments_xy(q: float, mu: float, out) -> int:
    """pllr_moments at t = 0 into out[:8] and at t = 1 into out[8:16], in one pass."""
    if q >= 1.0:
        a, b = [0.0] * 8, [0.0] * 8
        pllr_moments(q, mu, 0.0, a)
        pllr_moments(q, mu, 1.0, b)
        out[:16] = a + b
        return 0
    p, p1 = _Tilt(q, mu, 0.0), _Tilt(q, mu, 1.0)
    iv, iv1 = _domain(p, True), _domain(p1, True)
    for lo, hi in iv1:
        iv[0][0] = min(iv[0][0], lo)
        iv[-1][1] = max(iv[-1][1], hi)
    if len(iv) == 2 and iv[1][0] <= iv[0][1]:
        iv = [[iv[0][0], iv[1][1]]]
    p.shift = 0.0
    r1, s1 = _adaptive(p, 4, _split_at(iv, _pllr_inverse(0.0, p)))
    mx, my = r1[1] / r1[0], r1[4] / r1[3]
    iv = _split_at(_split_at(iv, _pllr_inverse(mx, p)), _pllr_inverse(my, p))
    p.m, p.my = mx, my
    r2, s2 = _adaptive(p, 5, iv)
    out[:16] = ([math.log(r1[0]) - LOG_SQRT_2PI, mx] + [r / r1[0] for r in r2[:6]]
                + [math.log(r1[3]) - LOG_SQRT_2PI, my] + [r / r1[3] for r in r2[7:13]])
    return s1 | s2


def _outside_mass(iv: list, c: float) -> float:
    """N(c, 1) mass outside the union of the sorted, disjoint intervals iv."""
    def ncdf(x):
        return 0.5 * math.erfc(-x * SQRT1_2)
    m = ncdf(iv[0][0] - c) + ncdf(c - iv[-1][1])
    for (_, h), (l2, _) in zip(iv, iv[1:]):
        m += ncdf(l2 - c) - ncdf(h - c)
    return m


def pllr_cgf(q: float, mu: float, t, out) -> int:
    """K(t_i) = log E_P[exp(t_i L)] for every t_i into out. Returns the OR of statuses."""
    s = 0
    for i in range(len(t)):
        ti = float(t[i])
        if q >= 1.0:
            out[i] = 0.5 * ti * (ti - 1.0) * mu * mu
            continue
        p = _Tilt(q, mu, ti)
        if p.shift < 1.0:
            iv = _domain(p, False)
            r, si = _adaptive(p, 3, iv)
            out[i] = math.log1p(r[0] / 2.5066282746310002
                                - ((1.0 - ti * q) * _outside_mass(iv, 0.0) + ti * q * _outside_mass(iv, mu)))
        else:
            r, si = _adaptive(p, 0, _domain(p, False))
            out[i] = p.shift + math.log(r[0]) - LOG_SQRT_2PI
        s |= si
    return s


# ---------------------------------------------------------------------------------------
# Edgeworth survival functions and the privacy profile (see _core.pyx)

def _log_sf(x: float, e) -> tuple[int, float]:
    z = (x - e[0]) / e[1]
    ls = log_ndtr(-z)
    c = e[10]
    for k in range(9, 1, -1):
        c = c * z + e[k]
    if c == 0.0:
        return 1, ls
    cr = c * math.exp(-0.5 * z * z - LOG_SQRT_2PI - ls)
    if cr > -1.0:
        return 1, ls + math.log1p(cr)
    if cr == -1.0:
        return 0, -math.inf
    return -1, ls + math.log(-1.0 - cr)


def ew_log_sf(x: float, e) -> tuple[int, float]:
    """(sign, log|S(x)|) of an Edgeworth survival function."""
    return _log_sf(float(x), [float(v) for v in e])


def _delta(eps: float, ex, ey) -> float:
    sx, lx = _log_sf(eps, ex)
    sy, ly = _log_sf(eps, ey)
    if sx > 0 and sy > 0:
        a = eps + lx - ly
        if a > 700.0:
            return -math.exp(ly + a) if ly + a < 709.0 else -math.inf
        return -math.exp(ly) * math.expm1(a)
    vy = sy * math.exp(ly) if sy != 0 else 0.0
    vx = sx * _exp(eps + lx) if sx != 0 else 0.0
    return vy - vx


def _exp(x: float) -> float:
    return math.exp(x) if x < 709.0 else math.inf


def _log_delta(eps: float, ex, ey) -> float:
    sx, lx = _log_sf(eps, ex)
    sy, ly = _log_sf(eps, ey)
    if sx > 0 and sy > 0:
        a = eps + lx - ly
        if a >= 0.0:
            return -math.inf
        return ly + math.log(-math.expm1(a))
    v = _delta(eps, ex, ey)
    return math.log(v) if v > 0.0 else -math.inf


def ew_delta(eps: float, ex, ey) -> float:
    """Raw Edgeworth delta(eps) for the null expansion ex and the alternative ey."""
    return _delta(float(eps), list(map(float, ex)), list(map(float, ey)))


def ew_log_delta(eps: float, ex, ey) -> float:
    """log of the raw Edgeworth delta(eps); -inf where it is <= 0."""
    return _log_delta(float(eps), list(map(float, ex)), list(map(float, ey)))


def ew_delta_grid(eps, ex, ey, out) -> None:
    """Raw Edgeworth delta on a grid of eps."""
    ex, ey = list(map(float, ex)), list(map(float, ey))
    for i in range(len(eps)):
        out[i] = _delta(float(eps[i]), ex, ey)


def ew_root(a: float, b: float, log_target: float, ex, ey, xtol: float, maxiter: int = 200) -> float:
    """Root of log delta_raw(eps) = log_target in [a, b] by Brent's method (zeroin); the
    bracket must change sign. NaN when it does not."""
    ex, ey = list(map(float, ex)), list(map(float, ey))

    def f(x):
        return max(_log_delta(x, ex, ey), -1000.0) - log_target

    fa, fb = f(a), f(b)
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    if (fa > 0.0) == (fb > 0.0):
        return math.nan
    c, fc = a, fa
    d = e = b - a
    for _ in range(maxiter):
        if (fb > 0.0) == (fc > 0.0):
            c, fc = a, fa
            d = e = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol = 4.4e-16 * abs(b) + 0.5 * xtol
        m = 0.5 * (c - b)
        if abs(m) <= tol or fb == 0.0:
            break
        if abs(e) >= tol and abs(fa) > abs(fb):
            s = fb / fa
            if a == c:
                p = 2.0 * m * s
                qq = 1.0 - s
            else:
                qq = fa / fc
                r = fb / fc
                p = s * (2.0 * m * qq * (qq - r) - (b - a) * (r - 1.0))
                qq = (qq - 1.0) * (r - 1.0) * (s - 1.0)
            if p > 0.0:
                qq = -qq
            else:
                p = -p
            if 2.0 * p < min(3.0 * m * qq - abs(tol * qq), abs(e * qq)):
                e = d
                d = p / qq
            else:
                d = e = m
        else:
            d = e = m
        a, fa = b, fb
        b += d if abs(d) > tol else (tol if m > 0.0 else -tol)
        fb = f(b)
    return b


def ew_extremum(a: float, b: float, sign: float, ex, ey, maxiter: int = 200) -> tuple[float, float]:
    """Golden-section search for the maximum of sign * delta_raw on [a, b]:
    returns (eps, delta_raw(eps))."""
    ex, ey = list(map(float, ex)), list(map(float, ey))
    g = 0.6180339887498949
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = sign * _delta(c, ex, ey), sign * _delta(d, ex, ey)
    for _ in range(maxiter):
        if b - a <= 1e-13 * (abs(a) + abs(b)) + 1e-300:
            break
        if fc > fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = sign * _delta(c, ex, ey)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = sign * _delta(d, ex, ey)
    x = c if fc > fd else d
    return x, _delta(x, ex, ey)


# ---------------------------------------------------------------------------------------
# the CGF by the trapezoidal rule on a table of nodes (see _core.pyx for the maths)

NODE_ROW = 3
MECH_COL = 6
NODE_H = 0.35
NODE_HMAX = 0.45
NODE_MAXN = 4096.0
TRAP_CHECK = 1e-6
TRAP_CHECK_HIGH = 1e-4
INV = [0.0] + [1.0 / k for k in range(1, 21)]


def _log1pmx(y: float) -> float:
    if abs(y) >= 0.1:
        return math.log1p(y) - y
    s = 0.0
    for k in range(20, 1, -1):
        s = s * (-y) + INV[k]
    return -y * y * s


def _em1mz(z: float) -> float:
    if abs(z) >= 0.25:
        return math.expm1(z) - z if z < 709.0 else math.inf
    s = 1.0
    for k in range(15, 2, -1):
        s = 1.0 + z * s * INV[k]
    return 0.5 * z * z * s


def _node_layout(q: float, mu: float, top: float, hscale: float = 1.0) -> list:
    h = min(NODE_H / mu, NODE_HMAX) * hscale
    if q >= 1.0:
        return [q, mu, h, 0.0, 0.0, 0.0]
    logs = max(-math.log(q), -math.log1p(-q))
    w = math.sqrt(2.0 * (DOMAIN_D + top * logs))
    lo = ((1.0 - top) * mu - w if top > 1.0 else -w) - 1.0
    hi = (top * mu + w if top * mu > mu else mu + w) + 1.0 + _moments_reach(q, mu)
    if (hi - lo) / h > NODE_MAXN - 2.0:
        c = 0.5 * mu
        lo, hi = c - 0.5 * (NODE_MAXN - 2.0) * h, c + 0.5 * (NODE_MAXN - 2.0) * h
    m0 = float(math.floor(lo / h))
    return [q, mu, h, m0, 0.0, float(math.floor(hi / h)) - m0 + 1.0]


def _fill_nodes(m, nd, off: int) -> None:
    p = _Tilt.__new__(_Tilt)
    p.q, p.mu, p.hm2, p.gauss = m[0], m[1], 0.5 * m[1] * m[1], False
    for k in range(int(m[5])):
        x = (m[3] + k) * m[2]
        u = p.mu * x - p.hm2
        j = off + NODE_ROW * k
        nd[j] = math.exp(-0.5 * x * x)
        if u < 700.0:
            y = p.q * math.expm1(u)
            nd[j + 2] = _log1pmx(y)
            nd[j + 1] = y + nd[j + 2] if abs(y) < 0.1 else math.log1p(y)
        else:
            nd[j + 1], nd[j + 2] = _pllr(x, p), -math.inf


def pllr_nodes(q, mu, top: float, hscale: float = 1.0):
    """Node tables of the trapezoidal CGF for the steps (q_i, mu_i), covering the orders
    t in [1 - top, top], on the lattice of step h = min(NODE_H / mu, NODE_HMAX) hscale.
    Returns (mech, table): mech[i] = (q, mu, h, m0, offset, count),
    table[offset + 3 k + (0, 1, 2)] = (phi, L, log1p(y) - y) at x = (m0 + k) h."""
    mech = np.empty((len(q), MECH_COL))
    total = 0
    for i in range(len(q)):
        mech[i] = _node_layout(float(q[i]), float(mu[i]), float(top), float(hscale))
        mech[i, 4] = total
        total += NODE_ROW * int(mech[i, 5])
    table = np.empty(max(total, 1))
    for i in range(len(q)):
        _fill_nodes(mech[i].tolist(), table, int(mech[i, 4]))
    return mech, table


def _node_intervals(m: list, t: float):
    """(tilt, intervals to sum, deviation form?) for order t; see _core.pyx node_intervals."""
    p = _Tilt.__new__(_Tilt)
    p.q, p.mu, p.hm2, p.t, p.gauss, p.m, p.my = m[0], m[1], 0.5 * m[1] * m[1], t, False, 0.0, 0.0
    p.shift = 0.0
    p.shift = max(t * _pllr(0.0, p), -0.5 * (t * p.mu) ** 2 + t * _pllr(t * p.mu, p))
    iv = _domain(p, False)
    dev = p.shift < 1.0
    if dev:
        r = math.sqrt(2.0 * DOMAIN_D)
        iv = [[min(iv[0][0], -r) if iv else -r, max(iv[-1][1], p.mu + r) if iv else p.mu + r]]
    return p, iv, dev


def _node_weight(p, nd, j: int, x: float, dev: bool) -> float:
    """The integrand at the node x, row nd[j:j + 3]; see _core.pyx node_weight."""
    z = p.t * nd[j + 1]
    if not dev:
        return _exp(-0.5 * x * x + z - p.shift)
    if nd[j] > 1e-300 and z < 700.0:
        return nd[j] * (_em1mz(z) + p.t * nd[j + 2])
    return _exp(-0.5 * x * x + z) - nd[j] - p.t * p.q * (math.exp(-0.5 * x * x + p.mu * x - p.hm2) - nd[j])


def _cgf_nodes(m: list, nd, t: float):
    """K(t) of one step from its node table, or None where the adaptive kernel must answer."""
    h, m0, off, n = m[2], m[3], int(m[4]), int(m[5])
    if m[0] >= 1.0:
        return 0.5 * t * (t - 1.0) * m[1] * m[1]
    p, iv, dev = _node_intervals(m, t)
    if not iv:
        return None
    s = [0.0, 0.0]
    for lo, hi in iv:
        a, b = math.ceil(lo / h - m0), math.floor(hi / h - m0)
        if a < 0 or b >= n:
            return None
        for k in range(a, b + 1):
            s[int(m0 + k) & 1] += _node_weight(p, nd, off + NODE_ROW * k, (m0 + k) * h, dev)
    w = s[0] + s[1]
    if not abs(w) < math.inf or abs(s[0] - s[1]) > TRAP_CHECK * abs(w):
        return None
    return math.log1p(h * w / 2.5066282746310002) if dev else p.shift + math.log(h * w) - LOG_SQRT_2PI


def pllr_cgf_nodes(mech, table, t, out) -> int:
    """out[i, j] = K_i(t_j) for every step i of ``pllr_nodes`` and every order t_j, by the
    trapezoidal rule on the tables; where a table cannot answer, by the adaptive kernel
    (pllr_cgf). Returns how many values came from the adaptive kernel."""
    fallbacks = 0
    nd = table.tolist()
    for i in range(mech.shape[0]):
        m = mech[i].tolist()
        for j in range(len(t)):
            tj = float(t[j])
            try:
                k = _cgf_nodes(m, nd, tj)
            except (ArithmeticError, ValueError):
                k = None
            if k is None:
                fallbacks += 1
                one = [math.nan]
                try:
                    pllr_cgf(m[0], m[1], [tj], one)
                except (ArithmeticError, ValueError):  # the C kernel gives inf or nan there
                    one[0] = math.nan
                k = one[0]
            out[i, j] = k
    return fallbacks


def _tilted_nodes(m: list, nd, t: float):
    """(p, ks, s0, s1) of the tilted law at t on one step's node table, or None; see
    _core.pyx tilted_nodes_c (ks: the table indices covering the domain, in order; s0, s1
    per parity: the weights' sums and the sums of weights times L)."""
    h, m0, off, n = m[2], m[3], int(m[4]), int(m[5])
    p = _Tilt(m[0], m[1], t)
    iv = _domain(p, True)
    if not iv:
        return None
    ks = []
    for lo, hi in iv:
        a, b = math.ceil(lo / h - m0), math.floor(hi / h - m0)
        if a < 0 or b >= n:
            return None
        ks.extend(range(a, b + 1))
    s0, s1 = [0.0, 0.0], [0.0, 0.0]
    for k in ks:
        x, L = (m0 + k) * h, nd[off + NODE_ROW * k + 1]
        w = math.exp(-0.5 * x * x + t * L - p.shift)
        s0[int(m0 + k) & 1] += w
        s1[int(m0 + k) & 1] += w * L
    i0 = s0[0] + s0[1]
    if not (s0[0] > 0.0 and s0[1] > 0.0 and i0 < math.inf) or abs(s0[0] - s0[1]) > TRAP_CHECK * i0:
        return None
    return p, ks, s0, s1


def _moments_nodes(m: list, nd, t: float):
    """[K, mean, c2, c3, c4] of one step from its node table, or None where the adaptive
    kernel must answer; see _core.pyx moments_nodes_c."""
    if m[0] >= 1.0:
        return None
    first = _tilted_nodes(m, nd, t)
    if first is None:
        return None
    p, ks, s0, s1 = first
    h, m0, off = m[2], m[3], int(m[4])
    i0 = s0[0] + s0[1]
    mean = (s1[0] + s1[1]) / i0
    c = [[0.0] * 3, [0.0] * 3]
    a3 = 0.0
    for k in ks:
        x, L = (m0 + k) * h, nd[off + NODE_ROW * k + 1]
        w = math.exp(-0.5 * x * x + t * L - p.shift)
        par = int(m0 + k) & 1
        d = L - mean
        d2 = w * d * d
        c[par][0] += d2
        c[par][1] += d2 * d
        c[par][2] += d2 * d * d
        a3 += d2 * abs(d)
    a = [c[0][0] + c[1][0], a3, c[0][2] + c[1][2]]
    if not all(v < math.inf for v in a) or \
            abs(s1[0] / s0[0] - s1[1] / s0[1]) > TRAP_CHECK * math.sqrt(a[0] / i0):
        return None
    for j in range(3):
        if abs(c[0][j] / s0[0] - c[1][j] / s0[1]) > (TRAP_CHECK if j == 0 else TRAP_CHECK_HIGH) * a[j] / i0:
            return None
    try:   # K as the RDP tables give it (see _core.pyx)
        k0 = 0.0 if t == 0.0 or t == 1.0 else _cgf_nodes(m, nd, t)
    except (ArithmeticError, ValueError):
        k0 = None
    if k0 is None:
        k0 = p.shift + math.log(h * i0) - LOG_SQRT_2PI
    return [k0, mean, a[0] / i0, (c[0][1] + c[1][1]) / i0, a[2] / i0]


def pllr_moments_nodes(mech, table, t: float, out) -> int:
    """out[i, :5] = [K(t), mean, c2, c3, c4] of every step i of ``pllr_nodes`` at the tilt
    t, by the trapezoidal rule on the tables; where a table cannot answer, by the adaptive
    kernel (pllr_moments). Returns how many steps came from the adaptive kernel."""
    fallbacks = 0
    nd = table.tolist()
    full = np.empty(8)
    for i in range(mech.shape[0]):
        m = mech[i].tolist()
        try:
            r = _moments_nodes(m, nd, float(t))
        except (ArithmeticError, ValueError):
            r = None
        if r is None:
            fallbacks += 1
            pllr_moments(m[0], m[1], float(t), full)
            r = full[:5].tolist()
        out[i, :5] = r
    return fallbacks


CCGF_MARGIN = 9.0


def _ccgf_nodes(m: list, nd, c: float, u0: float, h: float, n: int):
    """K(c + iu_j) of one step from its node table, or None; see _core.pyx ccgf_nodes_c. The
    same operations in the same order (sequential sums: np.cumsum; libm's exp, cos, sin), so
    the twin gives the kernel's bits: large T and deep cancellation in the integral amplify
    any difference (3.8e-8 in a saddle-point eps at T = 658624, delta = 1e-12)."""
    if m[0] >= 1.0 or (u0 + (n - 1) * h) * m[1] > 2.0 * math.pi / m[2] - CCGF_MARGIN * max(m[1], 1.0):
        return None
    first = _tilted_nodes(m, nd, c)
    if first is None:
        return None
    p, ks, s0, s1 = first
    h_x, m0, off = m[2], m[3], int(m[4])
    i0 = s0[0] + s0[1]
    mean = (s1[0] + s1[1]) / i0
    K = p.shift + math.log(h_x * i0) - LOG_SQRT_2PI
    sides = ([], [])     # per node of each parity: weight, cos, sin of u0 y, cos, sin of h y
    for k in ks:
        x, L = (m0 + k) * h_x, nd[off + NODE_ROW * k + 1]
        par = int(m0 + k) & 1
        y = L - mean
        sides[par].append((math.exp(-0.5 * x * x + c * L - p.shift) / s0[par], math.cos(u0 * y),
                           math.sin(u0 * y), math.cos(h * y), math.sin(h * y)))
    arrays = [np.array(side, dtype=float).reshape(-1, 5).T.copy() for side in sides]
    out = np.empty(n, dtype=complex)
    for r in range(n):
        parts = []
        for wt, vr, vi, sr, si in arrays:
            parts.append((float(np.cumsum(wt * vr)[-1]), float(np.cumsum(wt * vi)[-1])))
            tr = vr * sr - vi * si
            vi[:] = vr * si + vi * sr
            vr[:] = tr
        (er, ei), (orr, oi) = parts
        cr = (s0[0] * er + s0[1] * orr) / i0
        ci = (s0[0] * ei + s0[1] * oi) / i0
        ab = math.hypot(cr, ci)
        if not ab > 0.0 or math.hypot(er - orr, ei - oi) > TRAP_CHECK * ab:
            return None
        out[r] = complex(K + math.log(ab), (u0 + r * h) * mean + math.atan2(ci, cr))
    return out, len(ks)


def pllr_ccgf_nodes(mech, table, c: float, u0: float, h: float, n: int, out, nodes) -> None:
    """K_i(c + iu_j) of every step i of ``pllr_nodes`` on the grid u_j = u0 + j h, j < n, by
    the trapezoidal rule on the tables: out[i] holds the n values as (real, imaginary)
    pairs; nodes[i] the nodes summed, or -1 where the table cannot answer."""
    nd = table.tolist()
    for i in range(mech.shape[0]):
        m = mech[i].tolist()
        try:
            r = _ccgf_nodes(m, nd, float(c), float(u0), float(h), int(n))
        except (ArithmeticError, ValueError):
            r = None
        if r is None:
            nodes[i] = -1
            continue
        out[i, :2 * n] = r[0].view(float)
        nodes[i] = r[1]

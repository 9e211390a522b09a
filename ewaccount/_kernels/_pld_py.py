"""Pure-Python twin of ``_pld.pyx``: the same functions, signatures and algorithms,
selected with ``EWACCOUNT_PURE_PYTHON=1`` (or when the extension is not built).

These are the loops of the certified accountant (``ewaccount/certified.py``): the
connect-the-dots (CTD) discretisation of one step's privacy-loss distribution (PLD) with
rigorous relative error bounds (``level0``, its window ``level0_window`` and the closed-form
tail bounds), direct convolution (``conv``), pessimistic re-gridding (``regrid``), the
window cuts (``cut_window``), delta(eps) on a composed PLD (``log_delta_at``,
``eps_solve``, ``log_btail``), exponential moments of stored PLDs for Chernoff windows
(``log_mgf``), the merged bins of the lower bound (``level0_bins``,
``conv_bins``, ``regrid_bins``, ``log_delta_lower``) and the steering PMF
(``merged_pmf``, ``pmf_cgf``). ``certified.py`` holds the validity argument; this file is
the readable specification of the kernels.

Conventions shared with ``_pld.pyx``
-----------------------------------
* ``ordering`` 0 is "pq" (remove: loss L = log dQ/dP under A = Q, B = P), 1 is "qp"
  (add: loss L' = -L under A = P, B = Q). P = N(0, 1), Q = (1-q) N(0, 1) + q N(mu, 1).
* A PLD is stored *tilted*: an array ``c`` on the grid l_i = o + i h with A-masses
  a_i = c_i exp(logZ - lam l_i). Grid points are exact doubles (integer multiples of a
  power-of-two quantum, chosen by the caller).
* Error bounds are in the standard model of floating point with unit roundoff U = 2^-53,
  and assume libm's exp, log, expm1, log1p, erfc are accurate to LIBM_ULPS units in the
  last place (glibc documents <= 1-3 ulp for these).
"""
from __future__ import annotations

import math

import numpy as np

U = 2.0 ** -53
LIBM_ULPS = 4.0
DYAD = 2.0 ** -46          # x-grid quantum (|x| < 64): differences of cell ends are exact
XMAX = 60.0                # |x - m| beyond which N(m, 1) has mass below 1e-780 (m = 0, mu):
                           # x is clamped to [-XMAX, XMAX + mu]
FLUSH = 1e-200             # squash: entries below this share of the total join the deficit
RHO_QUAD = 0.5             # cells narrower than this (rho) are integrated by quadrature
CLOSED_OK = 1e-9           # a closed form with a larger relative error bound is checked by quadrature
LOG_SQRT_2PI = 0.9189385332046727
SQRT1_2 = 0.7071067811865476
NEG_INF = -math.inf

_GL = {n: tuple(tuple(map(float, a)) for a in np.polynomial.legendre.leggauss(n)) for n in (4, 8)}


def _cn(n: int) -> float:
    """(n!)^4 / ((2n+1) ((2n)!)^2): the Gauss-Legendre remainder constant with Cauchy's
    estimate of the 2n-th derivative folded in."""
    return math.factorial(n) ** 4 / ((2 * n + 1) * math.factorial(2 * n) ** 2)


_CN = {n: _cn(n) for n in (4, 8)}


# ---------------------------------------------------------------------------------------
# log Phi with an absolute error bound

def _lphi(z: float) -> tuple[float, float]:
    """(log Phi(z), bound on its absolute error)."""
    if z == NEG_INF:
        return NEG_INF, 0.0
    if z == math.inf:
        return 0.0, 0.0
    if z > 6.0:
        t = 0.5 * math.erfc(z * SQRT1_2)
        v = math.log1p(-t)
        return v, t * (LIBM_ULPS + 2.0 + z * z) * U * 2.0 + 2.0 * LIBM_ULPS * U * abs(v)
    if z > -26.0:
        v = math.log(0.5 * math.erfc(-z * SQRT1_2))
        return v, (LIBM_ULPS + 2.0 + z * z) * U * 2.0 + 2.0 * LIBM_ULPS * U * abs(v)
    z2 = 1.0 / (z * z)
    s = term = 1.0
    for i in range(1, 13):
        term = -term * (2 * i - 1) * z2
        s += term
    v = -0.5 * z * z - LOG_SQRT_2PI - math.log(-z) + math.log(s)
    return v, 16.0 * U * (0.5 * z * z + 2.0 + abs(v)) + 1e-22


def log_ndtr(z: float) -> float:
    """log Phi(z) (the value of the bounded evaluation used by the kernels)."""
    return _lphi(z)[0]


def _ldiff(a: float, b: float) -> tuple[float, float]:
    """(log(Phi(b) - Phi(a)), bound on its relative error) for a <= b; rel = inf when
    the difference cannot be resolved (narrow cells: the caller integrates instead)."""
    if not a < b:
        return NEG_INF, 0.0
    if b <= 0.0:
        la, ea = _lphi(a)
        lb, eb = _lphi(b)
    elif a >= 0.0:
        la, ea = _lphi(-b)
        lb, eb = _lphi(-a)
    else:
        la, ea = _lphi(a)
        lb, eb = _lphi(-b)
        pa, pb = math.exp(la), math.exp(lb)
        d = 1.0 - pa - pb
        if d <= 0.0:
            return NEG_INF, math.inf
        rel = (pa * (ea + 2 * U) + pb * (eb + 2 * U)) / d + 4.0 * U
        return math.log(d), rel + LIBM_ULPS * U
    if la == NEG_INF:
        return lb, eb + 2.0 * U
    t = la - lb
    if not t < 0.0:
        return NEG_INF, math.inf
    em = -math.expm1(t)
    v = lb + math.log(em)
    rel = eb + (ea + eb + U * abs(t)) * math.exp(t) / em + (2.0 * LIBM_ULPS + 4.0) * U
    return v, rel


# ---------------------------------------------------------------------------------------
# the PLLR, its inverse, and cell integrals

def _pllr_err(x: float, q: float, mu: float) -> tuple[float, float]:
    """(L(x), bound on its absolute error), L(x) = log(1 - q + q exp(mu x - mu^2/2))."""
    hm2 = 0.5 * mu * mu
    mx = mu * x
    u = mx - hm2
    du = 2.0 * U * (abs(mx) + hm2)
    if q >= 1.0:
        return u, du
    if u <= 0.0:
        y = q * math.expm1(u)
        L = math.log1p(y)
        s = q * math.exp(u - L)             # dL/du
        e = s * du + (LIBM_ULPS + 2.0) * U * abs(y) / (1.0 + y) + LIBM_ULPS * U * abs(L)
        return L, 2.0 * e + 1e-300
    v = (1.0 - q) * math.exp(-u)
    if q + v > 0.5:
        L = u + math.log1p((1.0 - q) * math.expm1(-u))
    else:
        L = u + math.log(q + v)
    e = du + (2.0 * LIBM_ULPS + 4.0) * U * (abs(L) + abs(u) + 1.0)
    return L, 2.0 * e


def _x_of(l: float, q: float, mu: float) -> float:
    """x with L(x) = l (+-inf outside the range; clamped to [-XMAX, XMAX + mu])."""
    hm2 = 0.5 * mu * mu
    if q >= 1.0:
        x = (l + hm2) / mu
    else:
        r = (1.0 - q) * math.exp(-l) if l > -700.0 else math.inf
        if r < 0.5:
            uu = l + math.log1p(-r) - math.log(q)
        else:
            y = math.expm1(l) / q
            if y <= -1.0:
                return NEG_INF
            uu = math.log1p(y)
        x = (uu + hm2) / mu
    if x > XMAX + mu:
        return XMAX + mu
    if x < -XMAX:
        return -XMAX
    return x


def _grid_x(l: float, q: float, mu: float, up: bool) -> tuple[float, float, float]:
    """A dyadic x with L(x) <= l (up=False) or L(x) >= l (up=True), and (x, L, eL)."""
    if not up and q < 1.0 and l <= math.log1p(-q):
        return NEG_INF, math.log1p(-q), 0.0
    x = _x_of(l, q, mu)
    if x == NEG_INF:
        if not up:
            return NEG_INF, math.log1p(-q), 0.0
        x = -XMAX
    x = math.ceil(x / DYAD) * DYAD if up else math.floor(x / DYAD) * DYAD
    step = DYAD * max(1.0, abs(x))
    for _ in range(200):
        L, eL = _pllr_err(x, q, mu)
        if up and L - eL >= l:
            return x, L, eL
        if not up and L + eL <= l:
            return x, L, eL
        if up and x >= XMAX + mu:
            return math.inf, math.inf, 0.0
        if not up and x <= -XMAX:
            return NEG_INF, math.log1p(-q) if q < 1.0 else NEG_INF, 0.0
        x = x + step if up else x - step
        x = math.ceil(x / DYAD) * DYAD if up else math.floor(x / DYAD) * DYAD
        step *= 2.0
    return (math.inf, math.inf, 0.0) if up else (NEG_INF, NEG_INF, 0.0)


def _ef_closed(a: float, b: float, mu: float):
    """Closed forms of E = int_a^b expm1(mu (x - a)) phi(x) dx and
    F = int_a^b -expm1(-mu (b - x)) phi(x) dx as (log E, rel E, log F, rel F); a may be
    -inf (then only F). Differences of Phi are taken in log space; the relative errors
    are a-posteriori bounds (they grow when the cell is narrow)."""
    hm2 = 0.5 * mu * mu
    l0, r0 = _ldiff(a, b)
    l1, r1 = _ldiff(a - mu, b - mu)
    # the shifted end points carry rounding: Phi mass of the slivers they move
    sh = 0.0
    for z in (a - mu, b - mu):
        if math.isfinite(z):
            sh += math.exp(-0.5 * z * z - LOG_SQRT_2PI - l1) * U * abs(z) if l1 > NEG_INF else math.inf
    r1 += sh
    lE, rE = NEG_INF, math.inf
    if math.isfinite(a) and l1 > NEG_INF:
        s = -mu * a + hm2
        lD1 = l1 + s
        e1 = r1 + 2.0 * U * (abs(mu * a) + hm2 + abs(l1)) + LIBM_ULPS * U
        if l0 - lD1 < 0.0:
            lE, rE = _log_sub(lD1, e1, l0, r0)
    lF, rF = NEG_INF, math.inf
    if l1 > NEG_INF and l0 > NEG_INF:
        s = -mu * b + hm2
        lD1 = l1 + s
        e1 = r1 + 2.0 * U * (abs(mu * b) + hm2 + abs(l1)) + LIBM_ULPS * U
        if lD1 - l0 < 0.0:
            lF, rF = _log_sub(l0, r0, lD1, e1)
    return lE, rE, lF, rF


def _log_sub(big: float, rbig: float, small: float, rsmall: float) -> tuple[float, float]:
    """log(e^big - e^small) for small < big, with its error bound: the inputs carry bounds
    rbig, rsmall; log1p of the ratio amplifies rsmall + rbig (and the rounding of t) by
    e^t / (1 - e^t); exp, expm1 and log add a few ulps."""
    t = small - big
    em = -math.expm1(t)
    return big + math.log(em), rbig + (rsmall + rbig + U * abs(t)) * math.exp(t) / em + (2 * LIBM_ULPS + 4) * U


def _ef_quad(a: float, b: float, mu: float):
    """E and F (see ``_ef_closed``) by Gauss-Legendre on P panels, for finite dyadic a < b,
    with a rigorous bound: remainder w'^{2n+1} (n!)^4 / ((2n+1) ((2n)!)^3) |g^{(2n)}|,
    the derivative bounded by Cauchy's estimate on discs of radius R, where
    |expm1(mu z)| <= expm1(mu |z|) and |phi(z)| <= phi(Re z) exp(Im(z)^2 / 2); relative to
    the lower bounds E, F >= min phi * mu w^2 / 2. Returns (log E, rel E, log F, rel F)."""
    w = b - a                                 # exact: a, b dyadic
    m = max(abs(a), abs(b))
    R = 1.0 / (mu + m + 1.0)
    rho = w / R
    npan = max(1, int(math.ceil(4.0 * rho)))
    if npan > 64:
        return NEG_INF, math.inf, NEG_INF, math.inf
    rp = rho / npan
    lo_edge = 0.0 if (a - R) <= 0.0 <= (b + R) else min(abs(a - R), abs(b + R))
    lphimax = -0.5 * lo_edge * lo_edge + 0.5 * R * R
    lphimin = -0.5 * m * m
    growth = math.expm1(mu * (w + R)) / (mu * (w + R))
    factor = 2.0 * (1.0 + 1.0 / rho) * growth * math.exp(lphimax - lphimin)
    n = 4 if factor * _CN[4] * rp ** 8 < 1e-18 else 8
    trunc = factor * _CN[n] * rp ** (2 * n)
    xs, ws = _GL[n]
    wp = w / npan
    se = sf = 0.0
    for k in range(npan):
        for t, wt in zip(xs, ws):
            y = (k + 0.5 * (1.0 + t)) * wp        # x - a
            x = a + y
            ph = math.exp(-0.5 * x * x)
            se += wt * math.expm1(mu * y) * ph
            sf += wt * (-math.expm1(-mu * (w - y))) * ph
    se *= 0.5 * wp
    sf *= 0.5 * wp
    if not (se > 0.0 and sf > 0.0):
        return NEG_INF, math.inf, NEG_INF, math.inf
    node = (24.0 + 2.0 * m * m + 4.0 * mu * w + 64.0) * U     # per-node relative error
    rnd = node + (n * npan + 4) * U * 1.01 + trunc * 1.01
    lE = math.log(se) - LOG_SQRT_2PI
    lF = math.log(sf) - LOG_SQRT_2PI
    return lE, rnd, lF, rnd


def _ef(a: float, b: float, mu: float):
    """(lE, rE, lF, rF) of one cell by the cheaper method: the quadrature for narrow cells
    (rho = w (mu + max|x| + 1) <= RHO_QUAD, one or two panels), the closed form otherwise,
    and the better of the two, component by component, where the closed form's bound
    exceeds CLOSED_OK (its differences cancel when the cell is narrow) and rho <= 16.
    Either is a rigorous bound; level 0 charges relative errors above its cap to the
    deficit in absolute terms (``level0``)."""
    if math.isfinite(a):
        w = b - a
        rho = w * (mu + max(abs(a), abs(b)) + 1.0)
        if rho <= RHO_QUAD:
            return _ef_quad(a, b, mu)
        c = _ef_closed(a, b, mu)
        if (c[1] > CLOSED_OK or c[3] > CLOSED_OK) and rho <= 16.0:
            qd = _ef_quad(a, b, mu)
            e = (qd[0], qd[1]) if qd[1] < c[1] else (c[0], c[1])
            f = (qd[2], qd[3]) if qd[3] < c[3] else (c[2], c[3])
            return e[0], e[1], f[0], f[1]
        return c
    return _ef_closed(a, b, mu)


def _lbeta_up(a: float, b: float) -> float:
    """An upper bound of log(Phi(b) - Phi(a)), a < b: (b - a) max phi, or log Phi(b)."""
    if a == NEG_INF:
        v, e = _lphi(b)
        return v + e + 2.0 * U
    d = 0.0 if a <= 0.0 <= b else min(abs(a), abs(b))
    w = math.log(b - a) - 0.5 * d * d - LOG_SQRT_2PI + 8.0 * U * (2.0 + d * d)
    if (b - a) * (max(abs(a), abs(b)) + 1.0) < 0.125:
        return w                       # narrow: the density bound is within ~10%
    v, rel = _ldiff(a, b)
    return min(w, v + math.log1p(rel) + 4.0 * U) if rel < 1.0 else w


def _log1mexp(d: float) -> float:
    """log(1 - e^{-d}), d > 0 (log d, an upper bound, when d is tiny)."""
    return math.log(d) if d < 1e-8 else math.log(-math.expm1(-d))


def _lse(x: float, y: float) -> float:
    if x == NEG_INF:
        return y
    if y == NEG_INF:
        return x
    if x < y:
        x, y = y, x
    return x + math.log1p(math.exp(y - x))


def _log_tilted_tail_pq(x: float, q: float, mu: float, lam: float, shift: float) -> float:
    """Upper bound of log int_{x' > x} e^{lam L - shift} dQ (ordering "pq"): with
    e^L <= q e^u (1 + r), r = (1-q) / (q e^{u(x)}) for x' >= x, and
    int_{x' > x} e^{t u} dP = e^{t(t-1) mu^2/2} Phi-bar(x - t mu), t = lam + 1."""
    t = lam + 1.0
    if x >= XMAX + mu:
        return NEG_INF
    u = mu * x - 0.5 * mu * mu
    lr = math.log1p(-q) - math.log(q) - u if q < 1.0 else NEG_INF
    l1r = math.log1p(math.exp(lr)) if lr < 700.0 else lr
    lp, ep = _lphi(t * mu - x)
    v = t * (math.log(q) + l1r) + 0.5 * t * lam * mu * mu - shift + lp
    return v + ep + 16.0 * U * (abs(v) + t * (abs(math.log(q)) + abs(l1r)) + 0.5 * t * lam * mu * mu + abs(shift) + 1.0)


def _log_tilted_tail_qp(y: float, q: float, mu: float, lam: float, shift: float) -> float:
    """Upper bound of log int_{x < y} e^{lam L' - shift} dP, L' = -L (ordering "qp"):
    L' <= -log(1-q) for q < 1; for q = 1 exactly e^{lam(lam+1)mu^2/2} Phi(y + lam mu)."""
    if q < 1.0:
        lp, ep = _lphi(y)
        v = -lam * math.log1p(-q) - shift + lp
    else:
        lp, ep = _lphi(y + lam * mu)
        v = 0.5 * lam * (lam + 1.0) * mu * mu - shift + lp
    return v + ep + 16.0 * U * (abs(v) + abs(shift) + lam * (lam + 1.0) * mu * mu + 1.0)


# ---------------------------------------------------------------------------------------
# level 0: the CTD discretisation of one step

def level0(q: float, mu: float, ordering: int, o: float, h: float, lam: float, shift: float,
           merge: int, var_budget: float, out) -> tuple[float, float, float, float]:
    """Connect-the-dots A-masses of one step on the grid l_j = o + j h (j < len(out)),
    tilted: out[j] = a_j exp(lam l_j - shift), every entry an upper bound of the exact
    CTD mass up to a relative error eta. The parts below l_0 and above the last point are
    not represented. Returns (log_head, log_tail, log_tail_a, eta): upper bounds of the log
    tilted mass int e^{lam L - shift} dA of the head and of the tail (for the deficit D),
    and of the log A-mass of the tail (for sending it to +infinity instead).

    Each cell [l_j0, l_j1] is the x-cell between dyadic points X_j with L(X_j) <= l_j
    ("pq"; for "qp" L(Y_j) >= -l_j), so the cell's losses lie in [l_j0 - d_j0, l_j1]:
    the sliver below l_j0 is moved up (pessimistic), and the CTD numerators
    N_hi = int (e^L - e^{l_j0}) dB, N_lo = int (e^{l_j1} - e^L) dB are bounded above by
    q e^{u} E(cell) and q e^{u} F(cell) (+ a bound of the slack d), integrals of positive
    functions computed without cancellation (``_ef``); a_hi = N_hi / (1 - e^{-H}) goes to
    l_j1 and a_lo = N_lo / (e^H - 1) to l_j0, H = l_j1 - l_j0.

    Cells are one grid step wide where the tilted mass is, and up to ``merge`` (a power of
    two) steps wide elsewhere: blocks of ``merge`` steps whose tilted mass share P
    satisfies P (k^2 - 1) <= var_budget / (number of blocks) are cut into cells of k steps
    (k the largest power of two allowed), so the spread variance grows by at most
    ``var_budget`` times that of the uniform grid; and (lam + 1) k h <= 1, where that
    second-order variance model holds (a wider cell would move a large share of the tilted
    mass e^{(lam + 1) L} dB to its upper end). A wide cell is still a CTD onto two grid
    points; the grid points inside it receive nothing. Per cell width, log(1 - e^{-H}) and
    log(e^H - 1) are computed once."""
    n = len(out)
    hm2 = 0.5 * mu * mu
    lq = math.log(q)
    l1q = math.log1p(-q) if q < 1.0 else NEG_INF
    eta = 0.0
    acc = [0.0] * n
    racc = [0.0] * n
    big = False
    X = [0.0] * n
    LX = [0.0] * n
    D = [0.0] * n
    have = [False] * n

    def gx(j):
        if have[j]:
            return
        lj = o + j * h
        if ordering == 0:
            x, L, eL = _grid_x(lj, q, mu, False)
            D[j] = lj - (L - eL) if x != NEG_INF else 0.0
        else:
            x, L, eL = _grid_x(-lj, q, mu, True)
            D[j] = lj + (L + eL) if math.isfinite(x) else 0.0
        X[j] = x
        LX[j] = L + eL
        have[j] = True

    def add(j, lv, rel):
        nonlocal big
        if lv == NEG_INF:
            return
        lj = o + j * h
        arg = lv + lam * lj - shift
        if arg > 700.0:
            big = True
            return
        rel = rel + 2.0 * U * (abs(lv) + abs(lam * lj) + abs(shift)) + LIBM_ULPS * U
        acc[j] += math.exp(arg)
        racc[j] = max(racc[j], rel)

    lhw = {}                               # per cell width: log(1 - e^{-H}), log(e^H - 1)

    def numer(j, lscale, x, lI, rI, lfall, lslack, lh):
        """One CTD numerator onto grid point j, both orderings: N <= e^{lscale} q e^{u(x)} I
        with I = E or F of the cell (log lI, relative error rI; u(x) = mu x - mu^2/2), or,
        where I is unresolved (lI = -inf), the bound e^{lfall} = (e^{l_j1} - e^{l_j0}) B(cell);
        plus the slack term e^{lslack} (-inf: none). Enters as N / (1 - e^{-H}) (lh)."""
        if lI > NEG_INF:
            lv = lscale + lq + mu * x - hm2 + lI
            r = rI + 2 * U * (abs(lscale) + abs(lq) + abs(mu * x) + hm2) + LIBM_ULPS * U
        else:
            lv, r = lfall, 4 * U
        if lslack > NEG_INF:
            lv = _lse(lv, lslack)
        add(j, lv - lh, r + 3 * U)

    def numer_open(j, lscale, g, rg, b, lh):
        """The E-type numerator of the cell x in (-inf, b]: N <= e^{lscale} q Phi(b - mu) +
        max(g, 0) Phi(b) (g with relative error rg)."""
        lpb, epb = _lphi(b)
        lpm, epm = _lphi(b - mu)
        lv = lscale + lq + lpm
        r = epm + 2 * U * (abs(lscale) + 2.0)
        if 0.0 < g < math.inf:
            lv = _lse(lv, math.log(g) + lpb)
            r = max(r, epb + 4 * U + rg)
        add(j, lv - lh, r + 3 * U)

    def cell(j0, j1):
        """CTD of the x-cell [a, b] between grid points j0 < j1 onto them, both orderings
        with swapped roles. With u(x) = mu x - mu^2/2 (L = log(1 - q + q e^u)):

        * "pq" (B = P, x-cell [X_j0, X_j1]): N_hi = int (e^L - e^{l_j0}) dP
          <= q e^{u(a)} E(a, b) (e^L - e^{L(a)} = q e^{u(a)} expm1(mu (x - a)), L(a) <= l_j0),
          or for a = -inf exactly (1 - q - e^{l_j0}) Phi(b) + q Phi(b - mu);
          N_lo = int (e^{l_j1} - e^L) dP <= q e^{u(b)} F(a, b) + e^{l_j1}(1 - e^{-d}) P(cell),
          d = l_j1 - L(b) >= 0 the slack of the dyadic end point.
        * "qp" (B = Q, L' = -L, x-cell [Y_j1, Y_j0]; dQ = e^L dP): N_hi = int (1 -
          e^{l_j0 + L}) dP <= e^{l_j0} q e^{u(b)} F(a, b) (L'(b) <= l_j0); N_lo =
          e^{l_j1} int (e^L - e^{-l_j1}) dP <= e^{l_j1} q e^{u(a)} E(a, b) +
          e^{l_j1 + L(a)}(1 - e^{-d}) P(cell), d = l_j1 - L'(a), or for a = -inf exactly
          e^{l_j1} q Phi(b - mu) + (e^{l_j1}(1 - q) - 1) Phi(b).

        So E (growing from a) goes to j1 in "pq" and, scaled by e^{l_j1}, to j0 in "qp"; F
        (from b) to j0 in "pq" and, scaled by e^{l_j0}, to j1 in "qp"."""
        H = (j1 - j0) * h
        if j1 - j0 not in lhw:
            lhw[j1 - j0] = (math.log(-math.expm1(-H)),
                            math.log(math.expm1(H)) if H < 700.0 else H + math.log(-math.expm1(-H)))
        lh_hi, lh_lo = lhw[j1 - j0]
        l0 = o + j0 * h
        l1 = o + j1 * h
        pq = ordering == 0
        a, b = (X[j0], X[j1]) if pq else (X[j1], X[j0])
        if not a < b:
            return
        lbeta = _lbeta_up(a, b)
        lE, rE, lF, rF = _ef(a, b, mu)
        lfall = NEG_INF
        if lE == NEG_INF or lF == NEG_INF:
            # unresolved: N <= (e^{l_j1} - e^{l_j0}) B(cell)
            lB = lbeta if pq else _lse(l1q + lbeta if q < 1.0 else NEG_INF, lq + _lbeta_up(a - mu, b - mu)) + 4 * U
            lfall = l1 + math.log(-math.expm1(-H)) + lB
        lslack = NEG_INF
        if D[j1] > 0.0:
            lslack = l1 + (0.0 if pq else LX[j1]) + _log1mexp(D[j1]) + lbeta + 4 * U
        if pq:
            if a == NEG_INF:
                g = -(math.expm1(l0) + q)
                numer_open(j1, 0.0, g, 2 * U * (abs(l0) + 1.0) / max(g, 1e-300) * math.exp(l0), b, lh_hi)
            else:
                numer(j1, 0.0, a, lE, rE, lfall, NEG_INF, lh_hi)
            numer(j0, 0.0, b, lF, rF, lfall, lslack, lh_lo)
        else:
            numer(j1, l0, b, lF, rF, lfall, NEG_INF, lh_hi)
            if a == NEG_INF:
                g = math.expm1(l1 + l1q) if q < 1.0 else math.inf
                numer_open(j0, l1, g, 2 * U * (abs(l1) + 2.0) / min(1.0, g), b, lh_lo)
            else:
                numer(j0, l1, a, lE, rE, lfall, lslack, lh_lo)

    # the blocks of ``merge`` steps, their tilted-mass estimates and cell widths
    K = max(1, int(merge))
    edges = list(range(0, n - 1, K)) + [n - 1]
    for j in edges:
        gx(j)
    nb = len(edges) - 1
    logp = [NEG_INF] * nb
    if K > 1 and nb > 1:
        for i in range(nb):
            j0, j1 = edges[i], edges[i + 1]
            if ordering == 0:
                a, b = X[j0], X[j1]
            else:
                a, b = X[j1], X[j0]
            if not a < b:
                continue
            l0d = _ldiff(a, b)[0]
            if ordering == 0:
                la = _lse(l1q + l0d if q < 1.0 else NEG_INF, lq + _ldiff(a - mu, b - mu)[0])
            else:
                la = l0d
            logp[i] = la + lam * (o + j1 * h) - shift
    m = max(logp) if nb else NEG_INF
    tot = sum(math.exp(v - m) for v in logp if v > NEG_INF) if m > NEG_INF else 0.0
    for i in range(nb):
        j0, j1 = edges[i], edges[i + 1]
        k = 1
        if K > 1 and j1 - j0 == K and m > NEG_INF:
            p = math.exp(logp[i] - m) / tot if logp[i] > NEG_INF else 0.0
            while k < K and p * ((2 * k) ** 2 - 1) <= var_budget / nb and (lam + 1.0) * 2 * k * h <= 1.0:
                k *= 2
        j = j0
        while j < j1:
            jn = min(j + k, j1)
            gx(jn)
            cell(j, jn)
            j = jn

    log_head = log_tail = log_tail_a = NEG_INF
    if ordering == 0:
        # bottom, x < X_0 (L <= l_0): tilted mass <= e^{lam l_0 - shift} A(x < X_0)
        if X[0] != NEG_INF:
            la, ea = _lphi(X[0])
            lb, eb = _lphi(X[0] - mu)
            lv = _lse(math.log1p(-q) + la if q < 1.0 else NEG_INF, lq + lb)
            log_head = lv + lam * o - shift + max(ea, eb) + 8 * U * (1.0 + abs(lv) + abs(lam * o) + abs(shift))
        # top, x > X_{n-1}: e^{lam L} dQ = e^{(lam+1) L} dP, e^L <= q e^u (1 + r) there
        xt = X[n - 1]
        log_tail = _log_tilted_tail_pq(xt, q, mu, lam, shift)
        la, ea = _lphi(-xt)
        lb, eb = _lphi(mu - xt)
        log_tail_a = _lse(math.log1p(-q) + la if q < 1.0 else NEG_INF, lq + lb) + max(ea, eb) + 8 * U
    else:
        # bottom, x > Y_0 (L' <= l_0): tilted mass <= e^{lam l_0 - shift} P(x > Y_0)
        y0 = X[0]
        if y0 != math.inf:
            la, ea = _lphi(-y0)
            log_head = la + lam * o - shift + ea + 8 * U * (1.0 + abs(la) + abs(lam * o) + abs(shift))
        # top, x < Y_{n-1} (L' > l_{n-1} - d)
        yt = X[n - 1]
        if yt != NEG_INF:
            la, ea = _lphi(yt)
            ltop = o + (n - 1) * h
            if q < 1.0 and ltop >= -math.log1p(-q) * (1.0 + 8 * U) + 8 * U:
                # losses there are <= -log(1-q) <= l_{n-1}: move up to the last point
                add(n - 1, la, ea + 4 * U)
            else:
                log_tail = _log_tilted_tail_qp(yt, q, mu, lam, shift)
                log_tail_a = la + ea + 8 * U
    for j in range(n):
        out[j] = acc[j]
        if racc[j] > eta:
            eta = racc[j]
    if big:
        eta = math.inf                     # an entry would overflow: not certified
    return log_head, log_tail, log_tail_a, eta + 2.0 * LIBM_ULPS * U


# ---------------------------------------------------------------------------------------
# the window of level 0

def log_tail(q: float, mu: float, ordering: int, l: float) -> float:
    """log A(L > l) of one step."""
    if ordering == 0:
        if q < 1.0 and l <= math.log1p(-q):
            return 0.0
        x = _x_of(l, q, mu)
        lb = math.log(q) + _lphi(mu - x)[0]
        return _lse(math.log1p(-q) + _lphi(-x)[0], lb) if q < 1.0 else lb
    if q < 1.0 and -l <= math.log1p(-q):
        return NEG_INF
    return _lphi(_x_of(-l, q, mu))[0]


def log_head(q: float, mu: float, ordering: int, l: float) -> float:
    """log A(L <= l) of one step (ordering 0: A = Q, L; 1: A = P, L' = -L)."""
    if ordering == 0:
        if q < 1.0 and l <= math.log1p(-q):
            return NEG_INF
        x = _x_of(l, q, mu)
        lb = math.log(q) + _lphi(x - mu)[0]
        return _lse(math.log1p(-q) + _lphi(x)[0], lb) if q < 1.0 else lb
    if q < 1.0 and -l <= math.log1p(-q):
        return 0.0
    return _lphi(-_x_of(-l, q, mu))[0]


def log_tilted_tail(q: float, mu: float, ordering: int, l: float, lam: float, shift: float) -> float:
    """Upper bound of log int_{L > l} e^{lam L - shift} dA, the tilted mass above loss l."""
    if ordering == 0:
        if q < 1.0 and l <= math.log1p(-q):
            return 0.0 if lam == 0.0 else math.inf
        return _log_tilted_tail_pq(_x_of(l, q, mu), q, mu, lam, shift)
    if q < 1.0 and -l <= math.log1p(-q):
        return NEG_INF
    return _log_tilted_tail_qp(_x_of(-l, q, mu), q, mu, lam, shift)


def _tail_ok(q, mu, ordering, l, lam, shift, log_tau, log_b) -> bool:
    return (log_tilted_tail(q, mu, ordering, l, lam, shift) <= log_tau
            or log_tail(q, mu, ordering, l) <= log_b)


def level0_window(q: float, mu: float, ordering: int, lam: float, shift: float, mid: float,
                  scale: float, log_tau: float, log_b: float, tol: float) -> tuple[float, float]:
    """(lo, hi) for the level-0 grid: hi is (to ``tol``) the smallest loss where either the
    tilted mass above, int_{L > hi} e^{lam L - shift} dA, is at most e^{log_tau} or the
    A-mass above is at most e^{log_b}; lo is the largest loss where the tilted mass below,
    bounded by e^{lam lo - shift} A(L <= lo), is at most e^{log_tau}. ``mid`` is a point
    inside (the tilted mean), ``scale`` a step for bracketing."""
    top = -math.log1p(-q) if (ordering == 1 and q < 1.0) else math.inf
    bot = math.log1p(-q) if (ordering == 0 and q < 1.0) else NEG_INF
    mid = min(max(mid, bot), top)
    a, step = mid, max(scale, tol)
    b = a + step
    while b < top and not _tail_ok(q, mu, ordering, b, lam, shift, log_tau, log_b):
        a = b
        step *= 2.0
        b = a + step
    if b >= top:
        hi = top
    else:
        while b - a > tol:
            m = 0.5 * (a + b)
            if not a < m < b:             # b - a at the resolution of doubles
                break
            if not _tail_ok(q, mu, ordering, m, lam, shift, log_tau, log_b):
                a = m
            else:
                b = m
        hi = b
    b, step = mid, max(scale, tol)
    a = b - step

    def bad(l):
        return lam * l - shift + log_head(q, mu, ordering, l) > log_tau

    while a > bot and bad(a):
        b = a
        step *= 2.0
        a = b - step
    if a <= bot:
        lo = bot
    else:
        while b - a > tol:
            m = 0.5 * (a + b)
            if not a < m < b:             # b - a at the resolution of doubles
                break
            if bad(m):
                b = m
            else:
                a = m
        lo = a
    return lo, hi


# ---------------------------------------------------------------------------------------
# composition: convolution, re-gridding, cuts

def conv(a, b, out) -> None:
    """Direct (linear) convolution out[k] = sum_i a[i] b[k-i]; len(out) = len(a)+len(b)-1.
    For non-negative input each entry's relative error is at most gamma_{min(len)}. Summed
    in the compiled kernel's order (row i of a at a time), so both give the same bits
    (np.convolve's order gave a certified eps 3.4e-9 apart: q = 1e-4, sigma = 0.80,
    T = 658624, delta = 1e-12, where a retry decision tipped)."""
    a, b = np.asarray(a), np.asarray(b)
    nb = len(b)
    out[:] = 0.0
    for i in np.flatnonzero(a).tolist():
        out[i:i + nb] += a[i] * b


def regrid(c, off, step, off2, step2, q0: float, lam: float, out) -> float:
    """Pessimistic re-gridding of the tilted PLD c (points (off + i step) q0) onto the grid
    (off2 + k step2) q0, len(out) points, by connect-the-dots: a point at g_k + s,
    0 < s < H = step2 q0, sends the A-masses a (1 - e^{-s})/(1 - e^{-H}) to g_{k+1} and
    a (e^{H-s} - 1)/(e^H - 1) to g_k (a mean-preserving spread of e^L under B); points
    below g_0 move up to g_0 (A-mass kept). Tilted, the factors are e^{lam(H-s)} and
    e^{-lam s}. Positions are integers: s is exact. Every point must lie below the last
    target point. Returns the relative error bound of the entries."""
    n = len(c)
    out[:] = 0.0
    H = step2 * q0
    eH = math.expm1(H)
    emH = math.expm1(-H)
    weights = {}
    for i in range(n):
        ci = c[i]
        if ci == 0.0:
            continue
        p = off + i * step - off2
        if p <= 0:
            out[0] += ci * math.exp(lam * (-p) * q0)
            continue
        k, r = divmod(p, step2)
        if r == 0:
            out[k] += ci
            continue
        if r not in weights:           # the weights depend only on the offset r
            s = r * q0
            weights[r] = (math.exp(-lam * s) * (math.expm1(H - s) / eH),
                          math.exp(lam * (H - s)) * (math.expm1(-s) / emH))
        wl, wh = weights[r]
        out[k] += ci * wl
        out[k + 1] += ci * wh
    m = step2 // max(step, 1) + 3
    lowest = max(0, off2 - off)
    return (2.0 * LIBM_ULPS + 8.0 + 2.0 * lam * H + 2.0 * lam * lowest * q0) * U + 1.01 * m * U


def cut_window(c, o: float, h: float, logZ: float, lam: float, log_tau: float, log_b: float,
               out) -> tuple[int, int]:
    """Window cut of a tilted PLD. Head: the largest j0 with sum_{i<j0} c_i <= e^{log_tau}
    sum(c) (dropped into the deficit). Tail: the smallest j1 such that either the tilted
    mass above, sum_{i>j1} c_i, is <= e^{log_tau} sum(c) (deficit route) or its A-mass,
    sum_{i>j1} c_i e^{logZ - lam l_i}, is <= e^{log_b} (sent to +infinity), whichever cuts
    more. Returns (j0, j1); out[0] = dropped head, out[1] = dropped tail (tilted), out[2] =
    A-mass of the dropped tail, out[3] = 1.0 if the tail goes to +infinity else 0.0 (sums
    rounded up)."""
    n = len(c)
    tot = float(np.sum(c))
    lim = math.exp(log_tau) * tot
    s0 = 0.0
    j0 = 0
    while j0 < n - 1 and s0 + c[j0] <= lim:
        s0 += c[j0]
        j0 += 1
    # deficit route
    s1 = 0.0
    jd = n - 1
    while jd > j0 and s1 + c[jd] <= lim:
        s1 += c[jd]
        jd -= 1
    # +infinity route: T_j = sum_{i>j} c_i e^{-lam (l_i - l_j)}
    f = math.exp(-lam * h)
    T = 0.0
    ja = n - 1
    while ja > j0:
        Tn = f * (T + c[ja])
        if Tn > 0.0 and math.log(Tn) + logZ - lam * (o + (ja - 1) * h) > log_b:
            break
        T = Tn
        ja -= 1
    grow = 1.0 + (n + 4) * (LIBM_ULPS + 3.0 + lam * h) * U
    out[0] = s0 * (1.0 + (n + 2) * U)
    if ja < jd:
        s1 = 0.0
        for i in range(ja + 1, n):
            s1 += c[i]
        out[1] = s1 * (1.0 + (n + 2) * U)
        lt = o + ja * h
        out[2] = (math.exp(math.log(T) + logZ - lam * lt) * grow
                  * (1.0 + 8.0 * U * (abs(logZ) + abs(lam * lt) + 1.0))) if T > 0.0 else 0.0
        out[3] = 1.0
        return j0, ja
    out[1] = s1 * (1.0 + (n + 2) * U)
    out[2] = 0.0
    out[3] = 0.0
    return j0, jd


# ---------------------------------------------------------------------------------------
# delta(eps) of a composed PLD

def log_delta_at(c, o: float, h: float, logZ: float, lam: float, eps: float) -> tuple[float, float]:
    """(log delta_c(eps), relative error bound), delta_c(eps) = sum_{l_i > eps} a_i
    (1 - e^{eps - l_i}), a sum of positive terms (0 -> -inf)."""
    n = len(c)
    s = 0.0
    lmax = 0.0
    for i in range(n):
        l = o + i * h
        if l <= eps or c[i] == 0.0:
            continue
        s += c[i] * math.exp(-lam * (l - eps)) * (-math.expm1(eps - l))
        lmax = max(lmax, abs(l))
    if s == 0.0:
        return NEG_INF, 0.0
    rel = (2.0 * LIBM_ULPS + 8.0 + 4.0 * lam * (lmax + abs(eps)) + 1.01 * n) * U
    v = math.log(s) + logZ - lam * eps
    rel += (LIBM_ULPS + 4.0) * U * (abs(math.log(s)) + abs(logZ) + abs(lam * eps))
    return v, rel


def eps_solve(c, o: float, h: float, logZ: float, lam: float, log_target: float) -> float:
    """eps with delta_c(eps) = e^{log_target} (delta_c is continuous and decreasing);
    -inf when delta_c is below the target everywhere. Solved exactly on the grid interval
    that holds the root (delta_c = e^{logZ - lam l_k}(A_k - e^{eps - l_k} B_k) there)."""
    n = len(c)
    fa = math.exp(-lam * h)
    fb = math.exp(-(lam + 1.0) * h)
    g = -math.expm1(-h)
    A = [0.0] * (n + 1)
    B = [0.0] * (n + 1)
    Dn = 0.0                           # D_j: sum_{i>j} c_i e^{-lam d}(1 - e^{-d}), d = l_i - l_j
    k = 0
    for j in range(n - 1, -1, -1):
        A[j] = c[j] + fa * A[j + 1]
        B[j] = c[j] + fb * B[j + 1]
        if j < n - 1:
            Dn = fa * (Dn + g * B[j + 1])
            ld = (math.log(Dn) if Dn > 0.0 else NEG_INF) + logZ - lam * (o + j * h)
            if ld > log_target:
                k = j + 1
                break
    else:
        k = 0
    lk = o + k * h
    ltp = log_target - logZ + lam * lk
    if A[k] <= 0.0 or ltp >= math.log(A[k]):
        return NEG_INF
    return lk + math.log((A[k] - math.exp(ltp)) / B[k])


def log_btail(c, o: float, h: float, logZ: float, lam: float, eps: float) -> float:
    """log sum_{l_i > eps} a_i e^{-l_i} (the B-tail): -d/d eps of log of it, minus 1, is
    the local hazard H of the error model."""
    s = 0.0
    n = len(c)
    for i in range(n):
        l = o + i * h
        if l > eps and c[i] > 0.0:
            s += c[i] * math.exp(-(lam + 1.0) * (l - eps))
    return (math.log(s) if s > 0.0 else NEG_INF) + logZ - (lam + 1.0) * eps


def log_mgf(flat, starts, ts, out) -> None:
    """out[j, m] = an upper bound of log sum_i c_i e^{ts[m] i} for each block c =
    flat[starts[j]:starts[j+1]] of non-negative entries (-inf for a block of zeros): the
    exponential moments of a PLD stored on a uniform grid, for Chernoff bounds on the mass
    of a composition outside a window. Horner's rule in r = e^{-|t|} < 1 (from the top
    entry for t >= 0, then times e^{t (n-1)}; from the bottom for t < 0), so nothing
    overflows; the relative error is at most gamma_{2n} (non-negative terms) plus the
    powers of the rounded r, (n - 1) LIBM_ULPS U, rounded up."""
    for j in range(len(starts) - 1):
        a, b = int(starts[j]), int(starts[j + 1])
        n = b - a
        for m, t in enumerate(ts):
            r = math.exp(-abs(t))
            v = 0.0
            if t >= 0.0:
                for i in range(a, b):
                    v = v * r + flat[i]
                base = t * (n - 1)
            else:
                for i in range(b - 1, a - 1, -1):
                    v = v * r + flat[i]
                base = 0.0
            if not v > 0.0:
                out[j, m] = NEG_INF
                continue
            rel = (2.0 * n + (n + 1) * LIBM_ULPS + 4.0) * U * 1.01
            out[j, m] = math.log(v) + base + math.log1p(rel) + 2.0 * U * (abs(math.log(v)) + 2.0 * abs(base) + 1.0)


# ---------------------------------------------------------------------------------------
# steering: a merged (data-processing) PMF of one step and its CGF

def merged_pmf(q: float, mu: float, ordering: int, edges, pos, mass) -> None:
    """The cells [edges[j], edges[j+1]] (increasing, len(edges) = len(pos) + 1) merged into
    one outcome each: mass[j] = A(cell), pos[j] = log(A(cell)/B(cell)), its loss (clipped
    to the cell); the A-mass below the first edge joins cell 0 and the mass above the last
    joins the last cell. Merging is a post-processing, so this PMF's CGF is close to (and
    below) the true one where the cells resolve the tilted mass. Steering only."""
    n = len(pos)
    lq = math.log(q)
    l1q = math.log1p(-q) if q < 1.0 else NEG_INF
    xs = [0.0] * (n + 1)
    for j in range(n + 1):
        l = edges[j]
        if ordering == 0:
            xs[j] = NEG_INF if (q < 1.0 and l <= l1q) else _x_of(l, q, mu)
        else:
            xs[j] = NEG_INF if (q < 1.0 and -l <= l1q) else _x_of(-l, q, mu)
    for j in range(n):
        if ordering == 0:
            a, b = xs[j], xs[j + 1]
            if j == 0:
                a = NEG_INF
            if j == n - 1:
                b = math.inf
        else:
            a, b = xs[j + 1], xs[j]
            if j == 0:
                b = math.inf
            if j == n - 1:
                a = NEG_INF
        l0 = _ldiff(a, b)[0] if a < b else NEG_INF
        l1 = _ldiff(a - mu, b - mu)[0] if a < b else NEG_INF
        lmix = _lse(l1q + l0 if q < 1.0 else NEG_INF, lq + l1)
        la, lb = (lmix, l0) if ordering == 0 else (l0, lmix)
        lo, hi = edges[j], edges[j + 1]
        if la == NEG_INF:
            mass[j] = 0.0
            pos[j] = lo
            continue
        p = la - lb if lb > NEG_INF else hi
        pos[j] = min(max(p, lo), hi)
        mass[j] = math.exp(la)


def pmf_cgf(pos, lmass, t: float, out) -> None:
    """out[:3] = log sum_i e^{lmass_i + t pos_i} (lmass = log of the masses, -inf for
    none), and the mean and variance of pos under those weights."""
    n = len(pos)
    m = NEG_INF
    for i in range(n):
        v = lmass[i] + t * pos[i]
        if v > m:
            m = v
    s = s1 = s2 = 0.0
    for i in range(n):
        if lmass[i] > NEG_INF:
            w = math.exp(lmass[i] + t * pos[i] - m)
            s += w
            s1 += w * pos[i]
            s2 += w * pos[i] * pos[i]
    mean = s1 / s
    out[0] = m + math.log(s)
    out[1] = mean
    out[2] = max(s2 / s - mean * mean, 0.0)


# ---------------------------------------------------------------------------------------
# the lower bound: merged (data-processing) bins
#
# A binned PLD keeps, per bin [g_i, g_i + h) of a uniform grid, the A- and B-mass of the
# outcomes merged into it, tilted: ca_i = A_i e^{lam g_i - logZ}, cb_i = B_i e^{(lam+1) g_i
# - logZ}; the merged outcome's loss is g_i + s_i, s_i = log(ca_i / cb_i). Merging
# outcomes is a post-processing, so the hockey-stick divergence sum (A_i - e^eps B_i)_+ of a
# binned PLD is below that of the pair it came from, whatever the bin of each outcome.

def level0_bins(q: float, mu: float, ordering: int, o: float, h: float, lam: float,
                shift: float, outa, outb) -> float:
    """One step merged into the cells [o + j h, o + (j+1) h] (j < len(outa)): the A- and
    B-mass of each x-cell, tilted (see above); the head and tail outside are dropped (a
    lower bound may drop outcomes). Returns the relative error bound of the entries."""
    n = len(outa)
    lq = math.log(q)
    l1q = math.log1p(-q) if q < 1.0 else NEG_INF
    xs = [0.0] * (n + 1)
    for j in range(n + 1):
        l = o + j * h
        if ordering == 0:
            xs[j] = NEG_INF if (q < 1.0 and l <= l1q) else _x_of(l, q, mu)
        else:
            xs[j] = NEG_INF if (q < 1.0 and -l <= l1q) else _x_of(-l, q, mu)
    eta = 0.0
    for j in range(n):
        a, b = (xs[j], xs[j + 1]) if ordering == 0 else (xs[j + 1], xs[j])
        outa[j] = outb[j] = 0.0
        if not a < b:
            continue
        l0, r0 = _ldiff(a, b)
        l1, r1 = _ldiff(a - mu, b - mu)
        if l0 == NEG_INF and l1 == NEG_INF:
            continue
        lmix = _lse(l1q + l0 if q < 1.0 else NEG_INF, lq + l1)
        la, lb = (lmix, l0) if ordering == 0 else (l0, lmix)
        g = o + j * h
        ea = la + lam * g - shift
        eb = lb + (lam + 1.0) * g - shift
        rel = max(r0, r1) + 4.0 * U * (abs(la) + abs(lb) + abs(lam * g) + abs(g) + abs(shift) + 2.0)
        if rel >= 1e-6 or ea > 700.0 or eb > 700.0:
            continue                     # unresolved: dropped (valid for a lower bound)
        outa[j] = math.exp(ea)
        outb[j] = math.exp(eb)
        eta = max(eta, rel + LIBM_ULPS * U)
    return eta


def conv_bins(a1, b1, a2, b2, h: float, lam: float, outa, outb) -> None:
    """Composition of two binned PLDs on the same spacing: the pair (i, k) merges into bin
    i + k, or i + k + 1 when s_i + s_k >= h (its loss crossed the edge); len(out) =
    len(a1) + len(a2)."""
    n1, n2 = len(a1), len(a2)
    s1 = [math.log(a1[i] / b1[i]) if a1[i] > 0.0 and b1[i] > 0.0 else 0.0 for i in range(n1)]
    s2 = [math.log(a2[k] / b2[k]) if a2[k] > 0.0 and b2[k] > 0.0 else 0.0 for k in range(n2)]
    fa, fb = math.exp(lam * h), math.exp((lam + 1.0) * h)
    for i in range(n1 + n2):
        outa[i] = outb[i] = 0.0
    for i in range(n1):
        if a1[i] == 0.0:
            continue
        for k in range(n2):
            if a2[k] == 0.0:
                continue
            pa, pb = a1[i] * a2[k], b1[i] * b2[k]
            if s1[i] + s2[k] < h:
                outa[i + k] += pa
                outb[i + k] += pb
            else:
                outa[i + k + 1] += pa * fa
                outb[i + k + 1] += pb * fb


def regrid_bins(a, b, off, step, off2, step2, q0: float, lam: float, outa, outb) -> float:
    """Merge the bins (off + i step) q0 into the coarser bins (off2 + k step2) q0: each
    merged outcome goes to the bin holding its loss (clamped to the ends). Returns the
    relative error bound of the re-tilting factors."""
    n, n2 = len(a), len(outa)
    for k in range(n2):
        outa[k] = outb[k] = 0.0
    H = step2 * q0
    big = 0.0
    for i in range(n):
        if a[i] == 0.0:
            continue
        g = (off + i * step) * q0
        s = math.log(a[i] / b[i]) if b[i] > 0.0 else 0.0
        k = int(math.floor((g + s - off2 * q0) / H))
        k = min(max(k, 0), n2 - 1)
        d = (off2 + k * step2 - off - i * step) * q0      # exact: integers
        outa[k] += a[i] * math.exp(lam * d)
        outb[k] += b[i] * math.exp((lam + 1.0) * d)
        big = max(big, abs(d))
    return (2.0 * LIBM_ULPS + 4.0 + 2.0 * (lam + 1.0) * big) * U + 1.01 * (step2 // max(step, 1) + 3) * U


def log_delta_lower(a, b, o: float, h: float, logZ: float, lam: float, eta: float, eps: float) -> float:
    """log of a certified lower bound of sum_i (A_i - e^eps B_i)_+ when the computed
    tilted masses are within relative eta of the exact ones (-inf when it is 0)."""
    n = len(a)
    fa = 1.0 / (1.0 + eta + 4.0 * U)
    fb = (1.0 + 4.0 * U) / (1.0 - eta - 4.0 * U)
    terms = []
    for i in range(n):
        if a[i] == 0.0:
            continue
        g = o + i * h
        if eps - g > 709.0:   # e^(eps - g) overflows: the compiled kernel's t is -inf or NaN, skipped
            continue
        x = a[i] * fa
        t = x - math.exp(eps - g) * (1.0 + 8.0 * U * (abs(eps) + abs(g) + 1.0)) * b[i] * fb - 2.0 * U * x
        if t > 0.0:
            terms.append(math.log(t) + logZ - lam * g)
    if not terms:
        return NEG_INF
    m = max(terms)
    s = sum(math.exp(v - m) for v in terms)
    # exp rounding per term and summation: shrink
    return m + math.log(s) + math.log1p(-(len(terms) + 8) * (LIBM_ULPS + 4.0) * U) \
        - 8.0 * U * (abs(m) + abs(logZ) + lam * (abs(o) + n * h) + 1.0)


# ---------------------------------------------------------------------------------------
# fused: normalise, cut, re-grid (one call per composition level)

def squash(c, off, step, q0: float, lam: float, logZ: float, log_tau: float, log_b: float,
           step2, info):
    """``cut_window`` then ``regrid`` onto step2 (when it differs), after scaling c by 2^-e
    so that its sum lies in [1/2, 1) (exact). Returns the new array; info[:8] = e, the new
    offset, dropped head, dropped tail (tilted), tail A-mass, route (1.0: +infinity), the
    re-gridding error bound, and 0.0 (reserved). Sums refer to the scaled array."""
    n = len(c)
    tot = float(np.sum(c))
    e = math.frexp(tot)[1] if tot > 0.0 else 0
    sc = np.asarray(c) * (2.0 ** (-e))
    # entries below FLUSH (of a total in [1/2, 1)) join the deficit: subnormal numbers
    # would slow every later operation a hundredfold
    tiny = sc < FLUSH
    flushed = float(np.sum(sc[tiny])) * (1.0 + (n + 2) * U)
    sc[tiny] = 0.0
    buf = np.empty(4)
    j0, j1 = cut_window(sc, off * q0, step * q0, logZ + e * math.log(2.0), lam, log_tau, log_b, buf)
    part = sc[j0:j1 + 1]
    noff = off + j0 * step
    info[0], info[2], info[3], info[4], info[5], info[7] = e, buf[0] + flushed, buf[1], buf[2], buf[3], 0.0
    if step2 == step:
        info[1], info[6] = noff, 0.0
        return np.array(part)
    lo = (noff // step2) * step2
    top = noff + (len(part) - 1) * step
    n2 = (top - lo) // step2 + 2
    out = np.empty(n2)
    info[6] = regrid(part, noff, step, lo, step2, q0, lam, out)
    info[1] = lo
    k = n2
    while k > 1 and out[k - 1] == 0.0:
        k -= 1
    return out[:k]

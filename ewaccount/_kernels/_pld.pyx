# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled kernels of the certified accountant (``ewaccount/certified.py``): the
connect-the-dots (CTD) discretisation of one step's privacy-loss distribution (PLD) with
rigorous relative error bounds, direct convolution, pessimistic re-gridding, window cuts,
delta(eps) on a composed PLD, exponential moments for Chernoff windows, and the steering
PMF.

Every function here has a twin of the same name and signature in ``_pld_py.py``; the twin
is the readable specification (its docstrings carry the maths), this file the fast path.
Conventions: ``ordering`` 0 is "pq" (A = Q, B = P, loss L), 1 is "qp" (A = P, B = Q, loss
-L); a PLD is stored tilted, a_i = c_i exp(logZ - lam l_i) on l_i = o + i h. Error bounds
are in the standard model (U = 2^-53) with libm's exp/log/expm1/log1p/erfc assumed within
LIBM_ULPS ulp.
"""
from libc.math cimport (exp, expm1, log, log1p, fabs, sqrt, erfc, ceil, floor, frexp, ldexp,
                        INFINITY, NAN, isfinite)
from libc.stdlib cimport malloc, free

import numpy as _np

cdef double U = 2.0 ** -53
cdef double LIBM_ULPS = 4.0
cdef double DYAD = 2.0 ** -46
cdef double XMAX = 60.0            # |x - m| beyond which N(m, 1) has mass below 1e-780 (m = 0, mu)
cdef double FLUSH = 1e-200
cdef double RHO_QUAD = 0.5
cdef double CLOSED_OK = 1e-9
cdef double LOG_SQRT_2PI = 0.9189385332046727
cdef double SQRT1_2 = 0.7071067811865476
cdef double NEG_INF = -INFINITY

cdef double GL4X[4]
cdef double GL4W[4]
cdef double GL8X[8]
cdef double GL8W[8]
_x4, _w4 = _np.polynomial.legendre.leggauss(4)
_x8, _w8 = _np.polynomial.legendre.leggauss(8)
for _i in range(4):
    GL4X[_i] = _x4[_i]
    GL4W[_i] = _w4[_i]
for _i in range(8):
    GL8X[_i] = _x8[_i]
    GL8W[_i] = _w8[_i]

cdef double CN4 = 24.0 ** 4 / (9.0 * 40320.0 ** 2)
cdef double CN8 = 40320.0 ** 4 / (17.0 * 20922789888000.0 ** 2)


cdef inline double dmax(double a, double b) noexcept nogil:
    return a if a > b else b


cdef inline double dmin(double a, double b) noexcept nogil:
    return a if a < b else b


cdef inline double log1mexp(double d) noexcept nogil:
    """log(1 - e^{-d}), d > 0 (log d, an upper bound, when d is tiny)."""
    return log(d) if d < 1e-8 else log(-expm1(-d))


cdef inline double lse(double x, double y) noexcept nogil:
    cdef double t
    if x == NEG_INF:
        return y
    if y == NEG_INF:
        return x
    if x < y:
        t = x
        x = y
        y = t
    return x + log1p(exp(y - x))


# ---------------------------------------------------------------------------------------
# log Phi with an absolute error bound

cdef inline double lphi(double z, double* err) noexcept nogil:
    cdef double t, v, z2, s, term
    cdef int i
    if z == NEG_INF:
        err[0] = 0.0
        return NEG_INF
    if z == INFINITY:
        err[0] = 0.0
        return 0.0
    if z > 6.0:
        t = 0.5 * erfc(z * SQRT1_2)
        v = log1p(-t)
        err[0] = t * (LIBM_ULPS + 2.0 + z * z) * U * 2.0 + 2.0 * LIBM_ULPS * U * fabs(v)
        return v
    if z > -26.0:
        v = log(0.5 * erfc(-z * SQRT1_2))
        err[0] = (LIBM_ULPS + 2.0 + z * z) * U * 2.0 + 2.0 * LIBM_ULPS * U * fabs(v)
        return v
    z2 = 1.0 / (z * z)
    s = 1.0
    term = 1.0
    for i in range(1, 13):
        term = -term * (2 * i - 1) * z2
        s += term
    v = -0.5 * z * z - LOG_SQRT_2PI - log(-z) + log(s)
    err[0] = 16.0 * U * (0.5 * z * z + 2.0 + fabs(v)) + 1e-22
    return v


def log_ndtr(double z):
    """log Phi(z) (the value of the bounded evaluation used by the kernels)."""
    cdef double e
    return lphi(z, &e)


cdef double ldiff(double a, double b, double* rel) noexcept nogil:
    """log(Phi(b) - Phi(a)) for a <= b, with a relative error bound (inf: unresolved)."""
    cdef double la, lb, ea, eb, pa, pb, d, t, em
    if not a < b:
        rel[0] = 0.0
        return NEG_INF
    if b <= 0.0:
        la = lphi(a, &ea)
        lb = lphi(b, &eb)
    elif a >= 0.0:
        la = lphi(-b, &ea)
        lb = lphi(-a, &eb)
    else:
        la = lphi(a, &ea)
        lb = lphi(-b, &eb)
        pa = exp(la)
        pb = exp(lb)
        d = 1.0 - pa - pb
        if d <= 0.0:
            rel[0] = INFINITY
            return NEG_INF
        rel[0] = (pa * (ea + 2 * U) + pb * (eb + 2 * U)) / d + 4.0 * U + LIBM_ULPS * U
        return log(d)
    if la == NEG_INF:
        rel[0] = eb + 2.0 * U
        return lb
    t = la - lb
    if not t < 0.0:
        rel[0] = INFINITY
        return NEG_INF
    em = -expm1(t)
    rel[0] = eb + (ea + eb + U * fabs(t)) * exp(t) / em + (2.0 * LIBM_ULPS + 4.0) * U
    return lb + log(em)


# ---------------------------------------------------------------------------------------
# the PLLR, its inverse, and cell integrals

cdef double pllr_err(double x, double q, double mu, double* err) noexcept nogil:
    cdef double hm2 = 0.5 * mu * mu, mx = mu * x, u, du, y, L, s, e, v
    u = mx - hm2
    du = 2.0 * U * (fabs(mx) + hm2)
    if q >= 1.0:
        err[0] = du
        return u
    if u <= 0.0:
        y = q * expm1(u)
        L = log1p(y)
        s = q * exp(u - L)
        e = s * du + (LIBM_ULPS + 2.0) * U * fabs(y) / (1.0 + y) + LIBM_ULPS * U * fabs(L)
        err[0] = 2.0 * e + 1e-300
        return L
    v = (1.0 - q) * exp(-u)
    if q + v > 0.5:
        L = u + log1p((1.0 - q) * expm1(-u))
    else:
        L = u + log(q + v)
    e = du + (2.0 * LIBM_ULPS + 4.0) * U * (fabs(L) + fabs(u) + 1.0)
    err[0] = 2.0 * e
    return L


cdef double x_of(double l, double q, double mu) noexcept nogil:
    cdef double hm2 = 0.5 * mu * mu, x, r, uu, y
    if q >= 1.0:
        x = (l + hm2) / mu
    else:
        r = (1.0 - q) * exp(-l) if l > -700.0 else INFINITY
        if r < 0.5:
            uu = l + log1p(-r) - log(q)
        else:
            y = expm1(l) / q
            if y <= -1.0:
                return NEG_INF
            uu = log1p(y)
        x = (uu + hm2) / mu
    if x > XMAX + mu:
        return XMAX + mu
    if x < -XMAX:
        return -XMAX
    return x


cdef double grid_x(double l, double q, double mu, int up, double* Lout, double* eLout) noexcept nogil:
    cdef double x, step, L, eL
    cdef int it
    if not up and q < 1.0 and l <= log1p(-q):
        Lout[0] = log1p(-q)
        eLout[0] = 0.0
        return NEG_INF
    x = x_of(l, q, mu)
    if x == NEG_INF:
        if not up:
            Lout[0] = log1p(-q)
            eLout[0] = 0.0
            return NEG_INF
        x = -XMAX
    x = ceil(x / DYAD) * DYAD if up else floor(x / DYAD) * DYAD
    step = DYAD * dmax(1.0, fabs(x))
    for it in range(200):
        L = pllr_err(x, q, mu, &eL)
        if up and L - eL >= l:
            Lout[0] = L
            eLout[0] = eL
            return x
        if not up and L + eL <= l:
            Lout[0] = L
            eLout[0] = eL
            return x
        if up and x >= XMAX + mu:
            Lout[0] = INFINITY
            eLout[0] = 0.0
            return INFINITY
        if not up and x <= -XMAX:
            Lout[0] = log1p(-q) if q < 1.0 else NEG_INF
            eLout[0] = 0.0
            return NEG_INF
        x = x + step if up else x - step
        x = ceil(x / DYAD) * DYAD if up else floor(x / DYAD) * DYAD
        step *= 2.0
    if up:
        Lout[0] = INFINITY
        eLout[0] = 0.0
        return INFINITY
    Lout[0] = NEG_INF
    eLout[0] = 0.0
    return NEG_INF


cdef inline void log_sub(double big, double rbig, double small, double rsmall, double* out) noexcept nogil:
    """out = [log(e^big - e^small), its error bound] for small < big (see the twin)."""
    cdef double t = small - big, em = -expm1(t)
    out[0] = big + log(em)
    out[1] = rbig + (rsmall + rbig + U * fabs(t)) * exp(t) / em + (2 * LIBM_ULPS + 4) * U


cdef void ef_closed(double a, double b, double mu, double* r) noexcept nogil:
    """r = [lE, rE, lF, rF] by closed forms (see the twin)."""
    cdef double hm2 = 0.5 * mu * mu, r0, r1, l0, l1, sh, z, s, lD1, e1
    cdef int k
    l0 = ldiff(a, b, &r0)
    l1 = ldiff(a - mu, b - mu, &r1)
    sh = 0.0
    for k in range(2):
        z = a - mu if k == 0 else b - mu
        if isfinite(z):
            if l1 > NEG_INF:
                sh += exp(-0.5 * z * z - LOG_SQRT_2PI - l1) * U * fabs(z)
            else:
                sh = INFINITY
    r1 += sh
    r[0] = NEG_INF
    r[1] = INFINITY
    r[2] = NEG_INF
    r[3] = INFINITY
    if isfinite(a) and l1 > NEG_INF:
        s = -mu * a + hm2
        lD1 = l1 + s
        e1 = r1 + 2.0 * U * (fabs(mu * a) + hm2 + fabs(l1)) + LIBM_ULPS * U
        if l0 - lD1 < 0.0:
            log_sub(lD1, e1, l0, r0, r)
    if l1 > NEG_INF and l0 > NEG_INF:
        s = -mu * b + hm2
        lD1 = l1 + s
        e1 = r1 + 2.0 * U * (fabs(mu * b) + hm2 + fabs(l1)) + LIBM_ULPS * U
        if lD1 - l0 < 0.0:
            log_sub(l0, r0, lD1, e1, r + 2)


cdef void ef_quad(double a, double b, double mu, double* r) noexcept nogil:
    """r = [lE, rE, lF, rF] by Gauss-Legendre with a rigorous remainder (see the twin)."""
    cdef double w = b - a, m, R, rho, rp, lo_edge, lphimax, lphimin, growth, factor
    cdef double trunc, wp, se, sf, y, x, ph, node, rnd, cn
    cdef int npan, n, k, i
    cdef double* xs
    cdef double* ws
    m = dmax(fabs(a), fabs(b))
    R = 1.0 / (mu + m + 1.0)
    rho = w / R
    npan = <int> ceil(4.0 * rho)
    if npan < 1:
        npan = 1
    r[0] = NEG_INF
    r[1] = INFINITY
    r[2] = NEG_INF
    r[3] = INFINITY
    if npan > 64:
        return
    rp = rho / npan
    if (a - R) <= 0.0 <= (b + R):
        lo_edge = 0.0
    else:
        lo_edge = dmin(fabs(a - R), fabs(b + R))
    lphimax = -0.5 * lo_edge * lo_edge + 0.5 * R * R
    lphimin = -0.5 * m * m
    growth = expm1(mu * (w + R)) / (mu * (w + R))
    factor = 2.0 * (1.0 + 1.0 / rho) * growth * exp(lphimax - lphimin)
    if factor * CN4 * rp ** 8 < 1e-18:
        n = 4
        xs = GL4X
        ws = GL4W
        cn = CN4
    else:
        n = 8
        xs = GL8X
        ws = GL8W
        cn = CN8
    trunc = factor * cn * rp ** (2 * n)
    wp = w / npan
    se = 0.0
    sf = 0.0
    for k in range(npan):
        for i in range(n):
            y = (k + 0.5 * (1.0 + xs[i])) * wp
            x = a + y
            ph = exp(-0.5 * x * x)
            se += ws[i] * expm1(mu * y) * ph
            sf += ws[i] * (-expm1(-mu * (w - y))) * ph
    se *= 0.5 * wp
    sf *= 0.5 * wp
    if not (se > 0.0 and sf > 0.0):
        return
    node = (24.0 + 2.0 * m * m + 4.0 * mu * w + 64.0) * U
    rnd = node + (n * npan + 4) * U * 1.01 + trunc * 1.01
    r[0] = log(se) - LOG_SQRT_2PI
    r[1] = rnd
    r[2] = log(sf) - LOG_SQRT_2PI
    r[3] = rnd


cdef void ef(double a, double b, double mu, double* r) noexcept nogil:
    """The cheaper of the quadrature (narrow cells) and the closed form, the better of the
    two where the closed form is poor (see the twin)."""
    cdef double w, rho
    cdef double c[4]
    cdef double qd[4]
    if isfinite(a):
        w = b - a
        rho = w * (mu + dmax(fabs(a), fabs(b)) + 1.0)
        if rho <= RHO_QUAD:
            ef_quad(a, b, mu, r)
            return
        ef_closed(a, b, mu, c)
        if (c[1] > CLOSED_OK or c[3] > CLOSED_OK) and rho <= 16.0:
            ef_quad(a, b, mu, qd)
            if qd[1] < c[1]:
                r[0] = qd[0]
                r[1] = qd[1]
            else:
                r[0] = c[0]
                r[1] = c[1]
            if qd[3] < c[3]:
                r[2] = qd[2]
                r[3] = qd[3]
            else:
                r[2] = c[2]
                r[3] = c[3]
            return
        r[0] = c[0]
        r[1] = c[1]
        r[2] = c[2]
        r[3] = c[3]
        return
    ef_closed(a, b, mu, r)


cdef inline double lbeta_up(double a, double b) noexcept nogil:
    """An upper bound of log(Phi(b) - Phi(a)), a < b."""
    cdef double v, e, d, w, rel
    if a == NEG_INF:
        v = lphi(b, &e)
        return v + e + 2.0 * U
    d = 0.0 if a <= 0.0 <= b else dmin(fabs(a), fabs(b))
    w = log(b - a) - 0.5 * d * d - LOG_SQRT_2PI + 8.0 * U * (2.0 + d * d)
    if (b - a) * (dmax(fabs(a), fabs(b)) + 1.0) < 0.125:
        return w
    v = ldiff(a, b, &rel)
    if rel < 1.0:
        return dmin(w, v + log1p(rel) + 4.0 * U)
    return w


cdef double tilted_tail_pq(double x, double q, double mu, double lam, double shift) noexcept nogil:
    cdef double t = lam + 1.0, u, lr, l1r, lp, ep, v
    if x >= XMAX + mu:
        return NEG_INF
    u = mu * x - 0.5 * mu * mu
    lr = log1p(-q) - log(q) - u if q < 1.0 else NEG_INF
    l1r = log1p(exp(lr)) if lr < 700.0 else lr
    lp = lphi(t * mu - x, &ep)
    v = t * (log(q) + l1r) + 0.5 * t * lam * mu * mu - shift + lp
    return v + ep + 16.0 * U * (fabs(v) + t * (fabs(log(q)) + fabs(l1r)) + 0.5 * t * lam * mu * mu
                                + fabs(shift) + 1.0)


cdef double tilted_tail_qp(double y, double q, double mu, double lam, double shift) noexcept nogil:
    cdef double lp, ep, v
    if q < 1.0:
        lp = lphi(y, &ep)
        v = -lam * log1p(-q) - shift + lp
    else:
        lp = lphi(y + lam * mu, &ep)
        v = 0.5 * lam * (lam + 1.0) * mu * mu - shift + lp
    return v + ep + 16.0 * U * (fabs(v) + fabs(shift) + lam * (lam + 1.0) * mu * mu + 1.0)


# ---------------------------------------------------------------------------------------
# level 0

cdef struct L0:
    double q
    double mu
    double hm2
    double lq
    double l1q
    double o
    double h
    double lam
    double shift
    int ordering
    double* X
    double* LX
    double* D
    char* have
    double* acc
    double* racc
    double* lh                 # log(1 - e^{-H}), log(e^H - 1) of a cell of w steps at 2w, 2w+1



cdef inline void add_term(L0* c, Py_ssize_t j, double lv, double rel) noexcept nogil:
    """acc[j] += exp(lv + lam l_j - shift); racc[j] = max relative error; an argument above
    700 (overflow) marks racc[j] infinite."""
    cdef double lj, arg
    if lv == NEG_INF:
        return
    lj = c.o + j * c.h
    arg = lv + c.lam * lj - c.shift
    if arg > 700.0:
        c.racc[j] = INFINITY
        return
    rel = rel + 2.0 * U * (fabs(lv) + fabs(c.lam * lj) + fabs(c.shift)) + LIBM_ULPS * U
    c.acc[j] += exp(arg)
    if rel > c.racc[j]:
        c.racc[j] = rel


cdef inline void gx(L0* c, Py_ssize_t j) noexcept nogil:
    cdef double lj, x, L, eL
    if c.have[j]:
        return
    lj = c.o + j * c.h
    if c.ordering == 0:
        x = grid_x(lj, c.q, c.mu, 0, &L, &eL)
        c.D[j] = lj - (L - eL) if x != NEG_INF else 0.0
    else:
        x = grid_x(-lj, c.q, c.mu, 1, &L, &eL)
        c.D[j] = lj + (L + eL) if isfinite(x) else 0.0
    c.X[j] = x
    c.LX[j] = L + eL
    c.have[j] = 1


cdef inline void numer(L0* c, Py_ssize_t j, double lscale, double x, double lI, double rI,
                       double lfall, double lslack, double lh) noexcept nogil:
    """One CTD numerator of a cell onto grid point j (see the twin's ``numer``)."""
    cdef double lv, r
    if lI > NEG_INF:
        lv = lscale + c.lq + c.mu * x - c.hm2 + lI
        r = rI + 2 * U * (fabs(lscale) + fabs(c.lq) + fabs(c.mu * x) + c.hm2) + LIBM_ULPS * U
    else:
        lv = lfall
        r = 4 * U
    if lslack > NEG_INF:
        lv = lse(lv, lslack)
    add_term(c, j, lv - lh, r + 3 * U)


cdef inline void numer_open(L0* c, Py_ssize_t j, double lscale, double g, double rg, double b,
                            double lh) noexcept nogil:
    """The E-type numerator of the cell (-inf, b] (see the twin's ``numer_open``)."""
    cdef double lpb, epb, lpm, epm, lv, r
    lpb = lphi(b, &epb)
    lpm = lphi(b - c.mu, &epm)
    lv = lscale + c.lq + lpm
    r = epm + 2 * U * (fabs(lscale) + 2.0)
    if g > 0.0 and g != INFINITY:
        lv = lse(lv, log(g) + lpb)
        r = dmax(r, epb + 4 * U + rg)
    add_term(c, j, lv - lh, r + 3 * U)


cdef void cell(L0* c, Py_ssize_t j0, Py_ssize_t j1) noexcept nogil:
    """CTD of the x-cell between grid points j0 < j1 onto them (see the twin)."""
    cdef double H = (j1 - j0) * c.h, lh_hi, lh_lo, l0, l1, a, b, lbeta, lB, lfall, lslack, g
    cdef int pq = c.ordering == 0
    cdef double e4[4]
    if c.lh[2 * (j1 - j0)] != c.lh[2 * (j1 - j0)]:        # NaN: not computed yet
        c.lh[2 * (j1 - j0)] = log(-expm1(-H))
        c.lh[2 * (j1 - j0) + 1] = log(expm1(H)) if H < 700.0 else H + log(-expm1(-H))
    lh_hi = c.lh[2 * (j1 - j0)]
    lh_lo = c.lh[2 * (j1 - j0) + 1]
    l0 = c.o + j0 * c.h
    l1 = c.o + j1 * c.h
    if pq:
        a = c.X[j0]
        b = c.X[j1]
    else:
        a = c.X[j1]
        b = c.X[j0]
    if not a < b:
        return
    lbeta = lbeta_up(a, b)
    ef(a, b, c.mu, e4)
    lfall = NEG_INF
    if e4[0] == NEG_INF or e4[2] == NEG_INF:
        if pq:
            lB = lbeta
        else:
            lB = lse(c.l1q + lbeta if c.q < 1.0 else NEG_INF, c.lq + lbeta_up(a - c.mu, b - c.mu)) + 4 * U
        lfall = l1 + log(-expm1(-H)) + lB
    lslack = NEG_INF
    if c.D[j1] > 0.0:
        lslack = l1 + (0.0 if pq else c.LX[j1]) + log1mexp(c.D[j1]) + lbeta + 4 * U
    if pq:
        if a == NEG_INF:
            g = -(expm1(l0) + c.q)
            numer_open(c, j1, 0.0, g, 2 * U * (fabs(l0) + 1.0) / dmax(g, 1e-300) * exp(l0), b, lh_hi)
        else:
            numer(c, j1, 0.0, a, e4[0], e4[1], lfall, NEG_INF, lh_hi)
        numer(c, j0, 0.0, b, e4[2], e4[3], lfall, lslack, lh_lo)
    else:
        numer(c, j1, l0, b, e4[2], e4[3], lfall, NEG_INF, lh_hi)
        if a == NEG_INF:
            g = expm1(l1 + c.l1q) if c.q < 1.0 else INFINITY
            numer_open(c, j0, l1, g, 2 * U * (fabs(l1) + 2.0) / dmin(1.0, g), b, lh_lo)
        else:
            numer(c, j0, l1, a, e4[0], e4[1], lfall, lslack, lh_lo)


cdef int level0_c(double q, double mu, int ordering, double o, double h, double lam, double shift,
                  int merge, double var_budget, double* out, Py_ssize_t n, double* res) noexcept nogil:
    """res = [log_head, log_tail, log_tail_a, eta]; returns 0, or 2 on allocation failure."""
    cdef L0 c
    cdef Py_ssize_t j, j0, j1, jn, i, nb, K, k
    cdef double eta = 0.0, a, b, l0d, la, lb, ea, eb, lv, m, tot, p, xt, y0, yt, ltop, rr
    cdef double log_head = NEG_INF, log_tail = NEG_INF, log_tail_a = NEG_INF
    cdef double* logp
    c.q = q
    c.mu = mu
    c.hm2 = 0.5 * mu * mu
    c.lq = log(q)
    c.l1q = log1p(-q) if q < 1.0 else NEG_INF
    c.o = o
    c.h = h
    c.lam = lam
    c.shift = shift
    c.ordering = ordering
    K = merge if merge > 1 else 1
    nb = (n - 2) // K + 1 if n > 1 else 0
    c.X = <double*> malloc(n * sizeof(double))
    c.LX = <double*> malloc(n * sizeof(double))
    c.D = <double*> malloc(n * sizeof(double))
    c.have = <char*> malloc(n * sizeof(char))
    c.acc = <double*> malloc(n * sizeof(double))
    c.racc = <double*> malloc(n * sizeof(double))
    logp = <double*> malloc((nb + 1) * sizeof(double))
    c.lh = <double*> malloc((2 * K + 2) * sizeof(double))
    if c.X == NULL or c.LX == NULL or c.D == NULL or c.have == NULL or c.acc == NULL or c.racc == NULL \
            or logp == NULL or c.lh == NULL:
        free(c.X); free(c.LX); free(c.D); free(c.have); free(c.acc); free(c.racc); free(logp); free(c.lh)
        return 2
    for j in range(n):
        c.have[j] = 0
        c.acc[j] = 0.0
        c.racc[j] = 0.0
    for j in range(2 * K + 2):
        c.lh[j] = NAN
    # block edges 0, K, 2K, ..., and n - 1
    for i in range(nb):
        gx(&c, i * K)
    gx(&c, n - 1)
    m = NEG_INF
    for i in range(nb):
        logp[i] = NEG_INF
        if K > 1 and nb > 1:
            j0 = i * K
            j1 = j0 + K if j0 + K < n - 1 else n - 1
            if ordering == 0:
                a = c.X[j0]
                b = c.X[j1]
            else:
                a = c.X[j1]
                b = c.X[j0]
            if a < b:
                l0d = ldiff(a, b, &rr)
                if ordering == 0:
                    la = lse(c.l1q + l0d if q < 1.0 else NEG_INF, c.lq + ldiff(a - mu, b - mu, &rr))
                else:
                    la = l0d
                logp[i] = la + lam * (o + j1 * h) - shift
                if logp[i] > m:
                    m = logp[i]
    tot = 0.0
    if m > NEG_INF:
        for i in range(nb):
            if logp[i] > NEG_INF:
                tot += exp(logp[i] - m)
    for i in range(nb):
        j0 = i * K
        j1 = j0 + K if j0 + K < n - 1 else n - 1
        k = 1
        if K > 1 and j1 - j0 == K and m > NEG_INF:
            p = exp(logp[i] - m) / tot if logp[i] > NEG_INF else 0.0
            while k < K and p * ((2 * k) * (2 * k) - 1) <= var_budget / nb and (lam + 1.0) * 2 * k * h <= 1.0:
                k *= 2
        j = j0
        while j < j1:
            jn = j + k if j + k < j1 else j1
            gx(&c, jn)
            cell(&c, j, jn)
            j = jn
    if ordering == 0:
        if c.X[0] != NEG_INF:
            la = lphi(c.X[0], &ea)
            lb = lphi(c.X[0] - mu, &eb)
            lv = lse(c.l1q + la if q < 1.0 else NEG_INF, c.lq + lb)
            log_head = lv + lam * o - shift + dmax(ea, eb) + 8 * U * (1.0 + fabs(lv) + fabs(lam * o) + fabs(shift))
        xt = c.X[n - 1]
        log_tail = tilted_tail_pq(xt, q, mu, lam, shift)
        la = lphi(-xt, &ea)
        lb = lphi(mu - xt, &eb)
        log_tail_a = lse(c.l1q + la if q < 1.0 else NEG_INF, c.lq + lb) + dmax(ea, eb) + 8 * U
    else:
        y0 = c.X[0]
        if y0 != INFINITY:
            la = lphi(-y0, &ea)
            log_head = la + lam * o - shift + ea + 8 * U * (1.0 + fabs(la) + fabs(lam * o) + fabs(shift))
        yt = c.X[n - 1]
        if yt != NEG_INF:
            la = lphi(yt, &ea)
            ltop = o + (n - 1) * h
            if q < 1.0 and ltop >= -log1p(-q) * (1.0 + 8 * U) + 8 * U:
                add_term(&c, n - 1, la, ea + 4 * U)
            else:
                log_tail = tilted_tail_qp(yt, q, mu, lam, shift)
                log_tail_a = la + ea + 8 * U
    for j in range(n):
        out[j] = c.acc[j]
        if c.racc[j] > eta:
            eta = c.racc[j]
    res[0] = log_head
    res[1] = log_tail
    res[2] = log_tail_a
    res[3] = eta + 2.0 * LIBM_ULPS * U
    free(c.X); free(c.LX); free(c.D); free(c.have); free(c.acc); free(c.racc); free(logp); free(c.lh)
    return 0


def level0(double q, double mu, int ordering, double o, double h, double lam, double shift,
           int merge, double var_budget, double[::1] out):
    """Connect-the-dots A-masses of one step on the grid o + j h, tilted, with cells up to
    ``merge`` steps wide where the tilted mass is small; returns (log_head, log_tail,
    log_tail_a, eta). See the twin for the maths."""
    cdef double res[4]
    cdef int s
    if out.shape[0] < 2:
        raise ValueError("level0: need at least two grid points")
    with nogil:
        s = level0_c(q, mu, ordering, o, h, lam, shift, merge, var_budget, &out[0], out.shape[0], res)
    if s != 0:
        raise MemoryError("level0: allocation failed")
    return res[0], res[1], res[2], res[3]


# ---------------------------------------------------------------------------------------
# the window of level 0

cdef double log_tail_c(double q, double mu, int ordering, double l) noexcept nogil:
    cdef double x, e, lb
    if ordering == 0:
        if q < 1.0 and l <= log1p(-q):
            return 0.0
        x = x_of(l, q, mu)
        lb = log(q) + lphi(mu - x, &e)
        return lse(log1p(-q) + lphi(-x, &e), lb) if q < 1.0 else lb
    if q < 1.0 and -l <= log1p(-q):
        return NEG_INF
    return lphi(x_of(-l, q, mu), &e)


def log_tail(double q, double mu, int ordering, double l):
    """log A(L > l) of one step."""
    return log_tail_c(q, mu, ordering, l)


cdef double log_head_c(double q, double mu, int ordering, double l) noexcept nogil:
    cdef double x, e, lb
    if ordering == 0:
        if q < 1.0 and l <= log1p(-q):
            return NEG_INF
        x = x_of(l, q, mu)
        lb = log(q) + lphi(x - mu, &e)
        return lse(log1p(-q) + lphi(x, &e), lb) if q < 1.0 else lb
    if q < 1.0 and -l <= log1p(-q):
        return 0.0
    return lphi(-x_of(-l, q, mu), &e)


def log_head(double q, double mu, int ordering, double l):
    """log A(L <= l) of one step."""
    return log_head_c(q, mu, ordering, l)


cdef double log_tilted_tail_c(double q, double mu, int ordering, double l, double lam,
                              double shift) noexcept nogil:
    if ordering == 0:
        if q < 1.0 and l <= log1p(-q):
            return 0.0 if lam == 0.0 else INFINITY
        return tilted_tail_pq(x_of(l, q, mu), q, mu, lam, shift)
    if q < 1.0 and -l <= log1p(-q):
        return NEG_INF
    return tilted_tail_qp(x_of(-l, q, mu), q, mu, lam, shift)


def log_tilted_tail(double q, double mu, int ordering, double l, double lam, double shift):
    """Upper bound of log int_{L > l} e^{lam L - shift} dA."""
    return log_tilted_tail_c(q, mu, ordering, l, lam, shift)


cdef inline int head_bad(double q, double mu, int ordering, double lam, double shift, double l,
                         double log_tau) noexcept nogil:
    return lam * l - shift + log_head_c(q, mu, ordering, l) > log_tau


cdef inline int tail_ok(double q, double mu, int ordering, double l, double lam, double shift,
                        double log_tau, double log_b) noexcept nogil:
    return (log_tilted_tail_c(q, mu, ordering, l, lam, shift) <= log_tau
            or log_tail_c(q, mu, ordering, l) <= log_b)


def level0_window(double q, double mu, int ordering, double lam, double shift, double mid,
                  double scale, double log_tau, double log_b, double tol):
    """(lo, hi) for the level-0 grid (see the twin)."""
    cdef double top, bot, a, b, step, m, hi, lo
    with nogil:
        top = -log1p(-q) if (ordering == 1 and q < 1.0) else INFINITY
        bot = log1p(-q) if (ordering == 0 and q < 1.0) else NEG_INF
        mid = dmin(dmax(mid, bot), top)
        a = mid
        step = dmax(scale, tol)
        b = a + step
        while b < top and not tail_ok(q, mu, ordering, b, lam, shift, log_tau, log_b):
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
                if not tail_ok(q, mu, ordering, m, lam, shift, log_tau, log_b):
                    a = m
                else:
                    b = m
            hi = b
        b = mid
        step = dmax(scale, tol)
        a = b - step
        while a > bot and head_bad(q, mu, ordering, lam, shift, a, log_tau):
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
                if head_bad(q, mu, ordering, lam, shift, m, log_tau):
                    b = m
                else:
                    a = m
            lo = a
    return lo, hi


# ---------------------------------------------------------------------------------------
# composition

def conv(const double[::1] a, const double[::1] b, double[::1] out):
    """Direct (linear) convolution out[k] = sum_i a[i] b[k-i]; len(out) = len(a)+len(b)-1."""
    cdef Py_ssize_t na = a.shape[0], nb = b.shape[0], i, j
    cdef double ai
    cdef double* po
    cdef const double* pb
    with nogil:
        for i in range(na + nb - 1):
            out[i] = 0.0
        pb = &b[0]
        for i in range(na):
            ai = a[i]
            if ai == 0.0:
                continue
            po = &out[i]
            for j in range(nb):
                po[j] += ai * pb[j]


cdef double regrid_c(const double* c, Py_ssize_t n, long long off, long long step, long long off2,
                     long long step2, double q0, double lam, double* out, Py_ssize_t n2,
                     double* wlo) noexcept nogil:
    """``regrid`` on raw arrays; wlo: scratch of 2 step2 doubles for the weight table, or
    NULL (no table)."""
    cdef Py_ssize_t i
    cdef double H = step2 * q0, eH, emH, ci, s, wl, wh
    cdef long long p, k, r, m, lowest
    cdef double* whi = wlo + step2 if wlo != NULL else NULL
    eH = expm1(H)
    emH = expm1(-H)
    if wlo != NULL:
        for i in range(step2):
            wlo[i] = -1.0          # not computed yet (weights are >= 0)
    for i in range(n2):
        out[i] = 0.0
    for i in range(n):
        ci = c[i]
        if ci == 0.0:
            continue
        p = off + i * step - off2
        if p <= 0:
            out[0] += ci * exp(lam * (-p) * q0)
            continue
        k = p // step2
        r = p - k * step2
        if r == 0:
            out[k] += ci
            continue
        if wlo != NULL and wlo[r] >= 0.0:
            wl = wlo[r]
            wh = whi[r]
        else:
            s = r * q0
            wl = exp(-lam * s) * (expm1(H - s) / eH)
            wh = exp(lam * (H - s)) * (expm1(-s) / emH)
            if wlo != NULL:
                wlo[r] = wl
                whi[r] = wh
        out[k] += ci * wl
        out[k + 1] += ci * wh
    m = step2 // (step if step > 1 else 1) + 3
    lowest = off2 - off if off2 > off else 0
    return (2.0 * LIBM_ULPS + 8.0 + 2.0 * lam * H + 2.0 * lam * lowest * q0) * U + 1.01 * m * U


cdef double regrid_table(const double* c, Py_ssize_t n, long long off, long long step, long long off2,
                         long long step2, double q0, double lam, double* out, Py_ssize_t n2) except? -1.0:
    """``regrid_c`` with the weight table when there are more points than offsets."""
    cdef double* wlo = NULL
    cdef double e
    if n > step2:
        wlo = <double*> malloc(2 * step2 * sizeof(double))
        if wlo == NULL:
            raise MemoryError("regrid: allocation failed")
    with nogil:
        e = regrid_c(c, n, off, step, off2, step2, q0, lam, out, n2, wlo)
    free(wlo)
    return e


def regrid(const double[::1] c, long long off, long long step, long long off2, long long step2,
           double q0, double lam, double[::1] out):
    """Pessimistic CTD re-gridding onto (off2 + k step2) q0; returns the relative error bound.
    The two weights of a point depend only on its offset r = p mod step2: when there are
    more points than offsets they are tabulated once per offset (same values)."""
    if c.shape[0] == 0:
        out[:] = 0.0
        return regrid_c(NULL, 0, off, step, off2, step2, q0, lam, &out[0], out.shape[0], NULL)
    return regrid_table(&c[0], c.shape[0], off, step, off2, step2, q0, lam, &out[0], out.shape[0])


cdef void cut_c(const double* c, Py_ssize_t n, double o, double h, double logZ, double lam,
                double log_tau, double log_b, double* out, Py_ssize_t* jj) noexcept nogil:
    """``cut_window`` on a raw array: jj[0], jj[1] = (j0, j1), out[:4] as there."""
    cdef Py_ssize_t i, j0, jd, ja
    cdef double tot = 0.0, lim, s0 = 0.0, s1 = 0.0, f, T = 0.0, Tn, grow
    for i in range(n):
        tot += c[i]
    lim = exp(log_tau) * tot
    j0 = 0
    while j0 < n - 1 and s0 + c[j0] <= lim:
        s0 += c[j0]
        j0 += 1
    jd = n - 1
    while jd > j0 and s1 + c[jd] <= lim:
        s1 += c[jd]
        jd -= 1
    f = exp(-lam * h)
    ja = n - 1
    while ja > j0:
        Tn = f * (T + c[ja])
        if Tn > 0.0 and log(Tn) + logZ - lam * (o + (ja - 1) * h) > log_b:
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
        if T > 0.0:
            out[2] = exp(log(T) + logZ - lam * (o + ja * h)) * grow * (
                1.0 + 8.0 * U * (fabs(logZ) + fabs(lam * (o + ja * h)) + 1.0))
        else:
            out[2] = 0.0
        out[3] = 1.0
        jd = ja
    else:
        out[1] = s1 * (1.0 + (n + 2) * U)
        out[2] = 0.0
        out[3] = 0.0
    jj[0] = j0
    jj[1] = jd


def cut_window(const double[::1] c, double o, double h, double logZ, double lam, double log_tau,
               double log_b, double[::1] out):
    """(j0, j1): head and tail cuts (see the twin); out[:4] = dropped head, dropped tail
    (tilted), A-mass of the dropped tail, 1.0 if the tail goes to +infinity."""
    cdef Py_ssize_t jj[2]
    if c.shape[0] == 0:
        raise ValueError("cut_window: empty array")
    with nogil:
        cut_c(&c[0], c.shape[0], o, h, logZ, lam, log_tau, log_b, &out[0], jj)
    return jj[0], jj[1]


# ---------------------------------------------------------------------------------------
# delta(eps) of a composed PLD

def log_delta_at(const double[::1] c, double o, double h, double logZ, double lam, double eps):
    """(log delta_c(eps), relative error bound)."""
    cdef Py_ssize_t n = c.shape[0], i
    cdef double s = 0.0, lmax = 0.0, l, rel, v
    with nogil:
        for i in range(n):
            l = o + i * h
            if l <= eps or c[i] == 0.0:
                continue
            s += c[i] * exp(-lam * (l - eps)) * (-expm1(eps - l))
            if fabs(l) > lmax:
                lmax = fabs(l)
    if s == 0.0:
        return NEG_INF, 0.0
    rel = (2.0 * LIBM_ULPS + 8.0 + 4.0 * lam * (lmax + fabs(eps)) + 1.01 * n) * U
    v = log(s) + logZ - lam * eps
    rel += (LIBM_ULPS + 4.0) * U * (fabs(log(s)) + fabs(logZ) + fabs(lam * eps))
    return v, rel


def eps_solve(const double[::1] c, double o, double h, double logZ, double lam, double log_target):
    """eps with delta_c(eps) = e^{log_target}; -inf when delta_c is below it everywhere."""
    cdef Py_ssize_t n = c.shape[0], j, k
    cdef double fa, fb, g, A = 0.0, B = 0.0, An, Bn, Dn = 0.0, ld, lk, ltp
    cdef int found = 0
    with nogil:
        fa = exp(-lam * h)
        fb = exp(-(lam + 1.0) * h)
        g = -expm1(-h)
        k = 0
        # A, B hold A_{j+1}, B_{j+1} when entering iteration j
        j = n - 1
        A = c[j]
        B = c[j]
        while j > 0:
            j -= 1
            Dn = fa * (Dn + g * B)
            ld = (log(Dn) if Dn > 0.0 else NEG_INF) + logZ - lam * (o + j * h)
            if ld > log_target:
                k = j + 1
                found = 1
                break
            A = c[j] + fa * A
            B = c[j] + fb * B
        if not found:
            k = 0
        lk = o + k * h
        ltp = log_target - logZ + lam * lk
    if A <= 0.0 or ltp >= log(A):
        return NEG_INF
    return lk + log((A - exp(ltp)) / B)


def log_btail(const double[::1] c, double o, double h, double logZ, double lam, double eps):
    """log sum_{l_i > eps} a_i e^{-l_i} (the B-tail)."""
    cdef Py_ssize_t n = c.shape[0], i
    cdef double s = 0.0, l
    with nogil:
        for i in range(n):
            l = o + i * h
            if l > eps and c[i] > 0.0:
                s += c[i] * exp(-(lam + 1.0) * (l - eps))
    return (log(s) if s > 0.0 else NEG_INF) + logZ - (lam + 1.0) * eps


def log_mgf(const double[::1] flat, const long long[::1] starts, const double[::1] ts,
            double[:, ::1] out):
    """out[j, m] >= log sum_i c_i e^{ts[m] i} for the blocks c = flat[starts[j]:starts[j+1]]
    (see the twin); -inf for a block of zeros."""
    cdef Py_ssize_t nb = starts.shape[0] - 1, nt = ts.shape[0], j, m, npos = 0, nneg = 0
    cdef long long i, a, b, n
    cdef double x, v, base, rel
    cdef double* r = <double*> malloc(4 * nt * sizeof(double) + 8)
    if r == NULL:
        raise MemoryError("log_mgf: allocation failed")
    cdef double* acc = r + nt
    cdef double* rp = r + 2 * nt               # the r of the t >= 0, then of the t < 0
    cdef double* rn
    with nogil:
        for m in range(nt):
            r[m] = exp(-fabs(ts[m]))
            if ts[m] >= 0.0:
                rp[npos] = r[m]
                npos += 1
        rn = rp + npos
        for m in range(nt):
            if ts[m] < 0.0:
                rn[nneg] = r[m]
                nneg += 1
        for j in range(nb):
            a = starts[j]
            b = starts[j + 1]
            n = b - a
            for m in range(nt):
                acc[m] = 0.0
            for i in range(a, b):               # t >= 0: from the bottom entry up
                x = flat[i]
                for m in range(npos):
                    acc[m] = acc[m] * rp[m] + x
            i = b - 1
            while i >= a:                       # t < 0: from the top entry down
                x = flat[i]
                for m in range(nneg):
                    acc[npos + m] = acc[npos + m] * rn[m] + x
                i -= 1
            # back to the order of ts
            npos = 0
            nneg = 0
            for m in range(nt):
                if ts[m] >= 0.0:
                    rp[nt + m] = acc[npos]          # scratch: acc reordered
                    npos += 1
            for m in range(nt):
                if ts[m] < 0.0:
                    rp[nt + m] = acc[npos + nneg]
                    nneg += 1
            for m in range(nt):
                acc[m] = rp[nt + m]
            rel = (2.0 * n + (n + 1) * LIBM_ULPS + 4.0) * U * 1.01
            for m in range(nt):
                v = acc[m]
                base = ts[m] * (n - 1) if ts[m] >= 0.0 else 0.0
                if not v > 0.0:
                    out[j, m] = NEG_INF
                else:
                    out[j, m] = log(v) + base + log1p(rel) + 2.0 * U * (fabs(log(v)) + 2.0 * fabs(base) + 1.0)
    free(r)


# ---------------------------------------------------------------------------------------
# steering

def merged_pmf(double q, double mu, int ordering, const double[::1] edges, double[::1] pos,
               double[::1] mass):
    """Cells merged into one outcome each (see the twin). Steering only."""
    cdef Py_ssize_t n = pos.shape[0], j
    cdef double lq = log(q), l1q, l, a, b, l0, l1, lmix, la, lb, lo, hi, p, r
    cdef double* xs = <double*> malloc((n + 1) * sizeof(double))
    if xs == NULL:
        raise MemoryError("merged_pmf: allocation failed")
    with nogil:
        l1q = log1p(-q) if q < 1.0 else NEG_INF
        for j in range(n + 1):
            l = edges[j]
            if ordering == 0:
                xs[j] = NEG_INF if (q < 1.0 and l <= l1q) else x_of(l, q, mu)
            else:
                xs[j] = NEG_INF if (q < 1.0 and -l <= l1q) else x_of(-l, q, mu)
        for j in range(n):
            if ordering == 0:
                a = xs[j]
                b = xs[j + 1]
                if j == 0:
                    a = NEG_INF
                if j == n - 1:
                    b = INFINITY
            else:
                a = xs[j + 1]
                b = xs[j]
                if j == 0:
                    b = INFINITY
                if j == n - 1:
                    a = NEG_INF
            if a < b:
                l0 = ldiff(a, b, &r)
                l1 = ldiff(a - mu, b - mu, &r)
            else:
                l0 = NEG_INF
                l1 = NEG_INF
            lmix = lse(l1q + l0 if q < 1.0 else NEG_INF, lq + l1)
            if ordering == 0:
                la = lmix
                lb = l0
            else:
                la = l0
                lb = lmix
            lo = edges[j]
            hi = edges[j + 1]
            if la == NEG_INF:
                mass[j] = 0.0
                pos[j] = lo
                continue
            p = la - lb if lb > NEG_INF else hi
            pos[j] = dmin(dmax(p, lo), hi)
            mass[j] = exp(la)
    free(xs)


def pmf_cgf(const double[::1] pos, const double[::1] lmass, double t, double[::1] out):
    """out[:3] = log sum e^{lmass + t pos}, and the mean and variance of pos under it."""
    cdef Py_ssize_t n = pos.shape[0], i
    cdef double m = NEG_INF, v, s = 0.0, s1 = 0.0, s2 = 0.0, w, mean
    with nogil:
        for i in range(n):
            v = lmass[i] + t * pos[i]
            if v > m:
                m = v
        for i in range(n):
            if lmass[i] > NEG_INF:
                w = exp(lmass[i] + t * pos[i] - m)
                s += w
                s1 += w * pos[i]
                s2 += w * pos[i] * pos[i]
        mean = s1 / s
        out[0] = m + log(s)
        out[1] = mean
        out[2] = dmax(s2 / s - mean * mean, 0.0)


# ---------------------------------------------------------------------------------------
# the lower bound: merged (data-processing) bins (see the twin)

def level0_bins(double q, double mu, int ordering, double o, double h, double lam, double shift,
                double[::1] outa, double[::1] outb):
    """One step merged into loss cells, tilted A- and B-masses; returns the relative error
    bound of the entries."""
    cdef Py_ssize_t n = outa.shape[0], j
    cdef double lq = log(q), l1q, l, a, b, l0, l1, r0, r1, lmix, la, lb, g, ea, eb, rel, eta = 0.0
    cdef double* xs = <double*> malloc((n + 1) * sizeof(double))
    if xs == NULL:
        raise MemoryError("level0_bins: allocation failed")
    with nogil:
        l1q = log1p(-q) if q < 1.0 else NEG_INF
        for j in range(n + 1):
            l = o + j * h
            if ordering == 0:
                xs[j] = NEG_INF if (q < 1.0 and l <= l1q) else x_of(l, q, mu)
            else:
                xs[j] = NEG_INF if (q < 1.0 and -l <= l1q) else x_of(-l, q, mu)
        for j in range(n):
            if ordering == 0:
                a = xs[j]
                b = xs[j + 1]
            else:
                a = xs[j + 1]
                b = xs[j]
            outa[j] = 0.0
            outb[j] = 0.0
            if not a < b:
                continue
            l0 = ldiff(a, b, &r0)
            l1 = ldiff(a - mu, b - mu, &r1)
            if l0 == NEG_INF and l1 == NEG_INF:
                continue
            lmix = lse(l1q + l0 if q < 1.0 else NEG_INF, lq + l1)
            if ordering == 0:
                la = lmix
                lb = l0
            else:
                la = l0
                lb = lmix
            g = o + j * h
            ea = la + lam * g - shift
            eb = lb + (lam + 1.0) * g - shift
            rel = dmax(r0, r1) + 4.0 * U * (fabs(la) + fabs(lb) + fabs(lam * g) + fabs(g) + fabs(shift) + 2.0)
            if rel >= 1e-6 or ea > 700.0 or eb > 700.0:
                continue
            outa[j] = exp(ea)
            outb[j] = exp(eb)
            eta = dmax(eta, rel + LIBM_ULPS * U)
    free(xs)
    return eta


def conv_bins(const double[::1] a1, const double[::1] b1, const double[::1] a2,
              const double[::1] b2, double h, double lam, double[::1] outa, double[::1] outb):
    """Composition of two binned PLDs (pair (i, k) -> bin i + k, or i + k + 1 when its loss
    crossed the edge); len(out) = len(a1) + len(a2)."""
    cdef Py_ssize_t n1 = a1.shape[0], n2 = a2.shape[0], i, k
    cdef double fa, fb, pa, pb, si, lim
    cdef double* s2 = <double*> malloc((n2 + 1) * sizeof(double))
    if s2 == NULL:
        raise MemoryError("conv_bins: allocation failed")
    with nogil:
        fa = exp(lam * h)
        fb = exp((lam + 1.0) * h)
        for k in range(n2):
            s2[k] = log(a2[k] / b2[k]) if (a2[k] > 0.0 and b2[k] > 0.0) else 0.0
        for i in range(n1 + n2):
            outa[i] = 0.0
            outb[i] = 0.0
        for i in range(n1):
            if a1[i] == 0.0:
                continue
            si = log(a1[i] / b1[i]) if b1[i] > 0.0 else 0.0
            lim = h - si
            for k in range(n2):
                if a2[k] == 0.0:
                    continue
                pa = a1[i] * a2[k]
                pb = b1[i] * b2[k]
                if s2[k] < lim:
                    outa[i + k] += pa
                    outb[i + k] += pb
                else:
                    outa[i + k + 1] += pa * fa
                    outb[i + k + 1] += pb * fb
    free(s2)


def regrid_bins(const double[::1] a, const double[::1] b, long long off, long long step,
                long long off2, long long step2, double q0, double lam, double[::1] outa,
                double[::1] outb):
    """Merge bins into the coarser grid (off2 + k step2) q0; returns the relative error bound."""
    cdef Py_ssize_t n = a.shape[0], n2 = outa.shape[0], i
    cdef long long k
    cdef double H = step2 * q0, g, s, d, big = 0.0
    with nogil:
        for i in range(n2):
            outa[i] = 0.0
            outb[i] = 0.0
        for i in range(n):
            if a[i] == 0.0:
                continue
            g = (off + i * step) * q0
            s = log(a[i] / b[i]) if b[i] > 0.0 else 0.0
            k = <long long> floor((g + s - off2 * q0) / H)
            if k < 0:
                k = 0
            if k > n2 - 1:
                k = n2 - 1
            d = (off2 + k * step2 - off - i * step) * q0
            outa[k] += a[i] * exp(lam * d)
            outb[k] += b[i] * exp((lam + 1.0) * d)
            if fabs(d) > big:
                big = fabs(d)
    return (2.0 * LIBM_ULPS + 4.0 + 2.0 * (lam + 1.0) * big) * U + 1.01 * (step2 // (step if step > 1 else 1) + 3) * U


def log_delta_lower(const double[::1] a, const double[::1] b, double o, double h, double logZ,
                    double lam, double eta, double eps):
    """log of a certified lower bound of sum_i (A_i - e^eps B_i)_+ (see the twin)."""
    cdef Py_ssize_t n = a.shape[0], i, cnt = 0
    cdef double fa, fb, g, x, t, v, m = NEG_INF, s = 0.0
    cdef double* terms = <double*> malloc((n + 1) * sizeof(double))
    if terms == NULL:
        raise MemoryError("log_delta_lower: allocation failed")
    with nogil:
        fa = 1.0 / (1.0 + eta + 4.0 * U)
        fb = (1.0 + 4.0 * U) / (1.0 - eta - 4.0 * U)
        for i in range(n):
            if a[i] == 0.0:
                continue
            g = o + i * h
            x = a[i] * fa
            t = x - exp(eps - g) * (1.0 + 8.0 * U * (fabs(eps) + fabs(g) + 1.0)) * b[i] * fb - 2.0 * U * x
            if t > 0.0:
                v = log(t) + logZ - lam * g
                terms[cnt] = v
                cnt += 1
                if v > m:
                    m = v
        for i in range(cnt):
            s += exp(terms[i] - m)
    free(terms)
    if cnt == 0:
        return NEG_INF
    return m + log(s) + log1p(-(cnt + 8) * (LIBM_ULPS + 4.0) * U) \
        - 8.0 * U * (fabs(m) + fabs(logZ) + lam * (fabs(o) + n * h) + 1.0)


# ---------------------------------------------------------------------------------------
# fused: normalise, cut, re-grid (see the twin)

def squash(const double[::1] c, long long off, long long step, double q0, double lam, double logZ,
           double log_tau, double log_b, long long step2, double[::1] info):
    """Scale by 2^-e (sum in [1/2, 1)), ``cut_window``, then ``regrid`` onto step2; returns
    the new array and fills info[:8] (see the twin)."""
    cdef Py_ssize_t n = c.shape[0], i, m, n2, k
    cdef Py_ssize_t jj[2]
    cdef double tot = 0.0, sc, flushed = 0.0, v, err = 0.0
    cdef double buf[4]
    cdef int e = 0
    cdef long long noff, lo, top
    if n == 0:
        raise ValueError("squash: empty array")
    part = _np.empty(n)
    cdef double[::1] pv = part
    with nogil:
        for i in range(n):
            tot += c[i]
        if tot > 0.0:
            frexp(tot, &e)
        sc = ldexp(1.0, -e)
        for i in range(n):
            v = c[i] * sc
            if v < FLUSH:           # joins the deficit (subnormals slow everything down)
                flushed += v
                v = 0.0
            pv[i] = v
        flushed *= 1.0 + (n + 2) * U
        cut_c(&pv[0], n, off * q0, step * q0, logZ + e * 0.6931471805599453, lam, log_tau, log_b,
              buf, jj)
    noff = off + jj[0] * step
    m = jj[1] - jj[0] + 1
    info[0] = e
    info[2] = buf[0] + flushed
    info[3] = buf[1]
    info[4] = buf[2]
    info[5] = buf[3]
    info[7] = 0.0
    if step2 == step:
        info[1] = noff
        info[6] = 0.0
        return part[jj[0]:jj[1] + 1]
    lo = noff // step2                    # C division truncates: floor it
    if lo * step2 > noff:
        lo -= 1
    lo *= step2
    top = noff + (m - 1) * step
    n2 = (top - lo) // step2 + 2
    out = _np.empty(n2)
    cdef double[::1] ov = out
    info[6] = regrid_table(&pv[jj[0]], m, noff, step, lo, step2, q0, lam, &ov[0], n2)
    info[1] = lo
    k = n2
    while k > 1 and ov[k - 1] == 0.0:
        k -= 1
    return out[:k]

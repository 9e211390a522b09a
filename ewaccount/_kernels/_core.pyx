# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled kernels of ewaccount: the privacy-loss log-likelihood ratio (PLLR) of one
Poisson-subsampled Gaussian step, its tilted moments and cumulant generating function
by adaptive quadrature, Edgeworth survival functions in log space, and bracketing
root and extremum finders.

Every function here has a twin of the same name and signature in ``_core_py.py``; the
twin is the readable specification, this file the fast path. Inputs are validated by
the Python layer; kernels return NaN or a status code, never raise.

PLLR of one step (rate q, noise multiplier sigma, mu = 1/sigma), DESIGN.md section 1::

    L(x) = log(1 - q + q exp(mu x - mu^2/2)),   P = N(0, 1),
    tilted law at t: density  phi(x) exp(t L(x) - K(t)),  K(t) = log E_P[exp(t L)].

t = 0 gives the law of L under P, t = 1 its law under Q = (1-q)N(0,1) + qN(mu,1).
"""
from libc.math cimport exp, expm1, log, log1p, fabs, sqrt, erfc, ceil, INFINITY, NAN, M_PI
from libc.stdlib cimport malloc, free

import numpy as _np

cdef enum:
    NGL = 10          # Gauss-Legendre nodes per panel
    MAXC = 16         # integrand components
    MAXPANEL = 800    # panels of the adaptive quadrature

cdef double GLX[NGL]
cdef double GLW[NGL]
_x, _w = _np.polynomial.legendre.leggauss(NGL)
for _i in range(NGL):
    GLX[_i] = _x[_i]
    GLW[_i] = _w[_i]

cdef double LOG_SQRT_2PI = 0.9189385332046727
cdef double SQRT1_2 = 0.7071067811865476
cdef double QUAD_RTOL = 1e-12     # on the (pessimistic) coarse-vs-fine error estimate
cdef double DOMAIN_D = 60.0
cdef double PANEL_WIDTH = 4.0
cdef double K_DEVIATION = 1e-5  # |K| below this: pllr_moments takes K by the deviation form

# which component's total sets the error scale of each component, per mode
cdef int SCALE0[1]
cdef int SCALE1[3]
cdef int SCALE2[7]
cdef int SCALE4[6]
cdef int SCALE5[14]
SCALE0[0] = 0
SCALE1[0] = 0; SCALE1[1] = 2; SCALE1[2] = 2
SCALE2[0] = 0; SCALE2[1] = 5; SCALE2[2] = 2; SCALE2[3] = 6; SCALE2[4] = 4; SCALE2[5] = 5; SCALE2[6] = 6
SCALE4[0] = 0; SCALE4[1] = 2; SCALE4[2] = 2; SCALE4[3] = 3; SCALE4[4] = 5; SCALE4[5] = 5
for _i in range(7):
    SCALE5[_i] = SCALE2[_i]
    SCALE5[7 + _i] = 7 + SCALE2[_i]


# ---------------------------------------------------------------------------------------
# normal distribution in log space

cdef inline double log_ndtr_c(double z) noexcept nogil:
    """log Phi(z), accurate in both tails: log1p(-Phi-bar(z)) for z > 0, log Phi(z) by erfc
    down to -26, the asymptotic series of the Mills ratio below."""
    cdef double z2, s, term, k
    cdef int i
    if z > 0.0:
        return log1p(-0.5 * erfc(z * SQRT1_2))
    if z > -26.0:
        return log(0.5 * erfc(-z * SQRT1_2))
    # Phi(z) = phi(z)/|z| * (1 - 1/z^2 + 3/z^4 - 15/z^6 + ...), z <= -26: 12 terms < 1e-20
    z2 = 1.0 / (z * z)
    s = 1.0
    term = 1.0
    for i in range(1, 13):
        term = -term * (2 * i - 1) * z2
        s += term
    return -0.5 * z * z - LOG_SQRT_2PI - log(-z) + log(s)


def log_ndtr(double z):
    """log of the standard normal CDF, log Phi(z)."""
    return log_ndtr_c(z)


# ---------------------------------------------------------------------------------------
# the PLLR and its tilted moments by adaptive Gauss-Legendre quadrature

cdef struct Tilt:
    double q
    double mu
    double hm2        # mu^2 / 2
    double t
    double shift      # log-weight subtracted before exponentiating
    double m          # centre of the central moments
    double my         # centre of the moments under Q (modes 4 and 5)
    int gauss         # q == 1: L = mu x - mu^2/2 exactly


cdef inline double pllr_c(double x, const Tilt* p) noexcept nogil:
    """L(x) without overflow or cancellation: log1p(q expm1(u)), and
    u + log(q + (1-q) e^{-u}) where expm1(u) would overflow."""
    cdef double u = p.mu * x - p.hm2
    if p.gauss:
        return u
    if u < 700.0:
        return log1p(p.q * expm1(u))
    return u + log(p.q + (1.0 - p.q) * exp(-u))


def pllr(double x, double q, double mu):
    """The PLLR L(x) = log(1 - q + q exp(mu x - mu^2/2)) of one step."""
    cdef Tilt p
    p.q = q; p.mu = mu; p.hm2 = 0.5 * mu * mu; p.gauss = q >= 1.0
    return pllr_c(x, &p)


cdef inline double cgf_deviation(double x, const Tilt* p) noexcept nogil:
    """phi-weight (unnormalised) times (1+y)^t - 1 - t y, y = q expm1(u): its integral is
    e^{K(t)} - 1 because E_P[y] = 0, so K = log1p(J) keeps relative accuracy when K is small.
    A series in y where |y| and |t y| are small (terms C(t, k) y^k, k >= 2)."""
    cdef double u = p.mu * x - p.hm2, g = exp(-0.5 * x * x), y, term, s
    cdef int k
    y = p.q * expm1(u) if u < 700.0 else INFINITY
    if fabs(y) < 0.1 and fabs(p.t * y) < 0.1:
        term = 0.5 * p.t * (p.t - 1.0) * y * y
        s = term
        for k in range(2, 60):
            term *= (p.t - k) / (k + 1.0) * y
            s += term
            if fabs(term) <= 1e-17 * fabs(s):
                break
        return g * s
    return exp(-0.5 * x * x + p.t * pllr_c(x, p)) - g - p.t * p.q * (exp(-0.5 * x * x + u) - g)


cdef inline void central(double w, double d, double* out) noexcept nogil:
    cdef double ad = fabs(d), d2 = d * d
    out[0] = w * d2
    out[1] = w * d2 * d
    out[2] = w * d2 * d2
    out[3] = w * d2 * d2 * d
    out[4] = w * ad
    out[5] = w * d2 * ad
    out[6] = w * d2 * d2 * ad


cdef inline int integrand(double x, const Tilt* p, int mode, double* out) noexcept nogil:
    cdef double L, w, wy
    if mode == 3:
        out[0] = cgf_deviation(x, p)
        return 1
    if mode >= 4:  # under P (weight phi) and under Q (weight phi e^L) together; shift 0
        L = pllr_c(x, p)
        w = exp(-0.5 * x * x)
        wy = exp(-0.5 * x * x + L)
        if mode == 4:
            out[0] = w; out[1] = w * L; out[2] = w * fabs(L)
            out[3] = wy; out[4] = wy * L; out[5] = wy * fabs(L)
            return 6
        central(w, L - p.m, out)
        central(wy, L - p.my, out + 7)
        return 14
    L = pllr_c(x, p)
    w = exp(-0.5 * x * x + p.t * L - p.shift)
    if mode == 0:
        out[0] = w
        return 1
    if mode == 1:
        out[0] = w
        out[1] = w * L
        out[2] = w * fabs(L)
        return 3
    central(w, L - p.m, out)
    return 7


cdef inline int ncomp(int mode) noexcept nogil:
    if mode == 0 or mode == 3:
        return 1
    if mode == 1:
        return 3
    if mode == 4:
        return 6
    if mode == 5:
        return 14
    return 7


cdef inline const int* scales(int mode) noexcept nogil:
    if mode == 0 or mode == 3:
        return SCALE0
    if mode == 1:
        return SCALE1
    if mode == 4:
        return SCALE4
    if mode == 5:
        return SCALE5
    return SCALE2


cdef inline void gl_rule(double a, double b, const Tilt* p, int mode, int nc, double* acc) noexcept nogil:
    cdef double c = 0.5 * (a + b), h = 0.5 * (b - a)
    cdef double f[MAXC]
    cdef int i, k
    for k in range(nc):
        acc[k] = 0.0
    for i in range(NGL):
        integrand(c + h * GLX[i], p, mode, f)
        for k in range(nc):
            acc[k] += GLW[i] * f[k]
    for k in range(nc):
        acc[k] *= h


cdef inline void panel(double a, double b, const Tilt* p, int mode, int nc,
                       double* val, double* err) noexcept nogil:
    """Fine value (two halves) and error estimate |coarse - fine| of one panel."""
    cdef double coarse[MAXC]
    cdef double left[MAXC]
    cdef double right[MAXC]
    cdef double m = 0.5 * (a + b)
    cdef int k
    gl_rule(a, b, p, mode, nc, coarse)
    gl_rule(a, m, p, mode, nc, left)
    gl_rule(m, b, p, mode, nc, right)
    for k in range(nc):
        val[k] = left[k] + right[k]
        err[k] = fabs(coarse[k] - val[k])


cdef int adaptive(const Tilt* p, int mode, const double* lo, const double* hi, int nint,
                  double* res) noexcept nogil:
    """Global adaptive quadrature over the union of [lo_i, hi_i]: panels of width <=
    PANEL_WIDTH, the worst panel bisected until every component's error estimate is
    below QUAD_RTOL times its scale. Returns 0, or 1 if the panel budget ran out."""
    cdef int nc = ncomp(mode)
    cdef const int* sc = scales(mode)
    cdef double* pa = <double*> malloc(MAXPANEL * sizeof(double))
    cdef double* pb = <double*> malloc(MAXPANEL * sizeof(double))
    cdef double* val = <double*> malloc(MAXPANEL * MAXC * sizeof(double))
    cdef double* err = <double*> malloc(MAXPANEL * MAXC * sizeof(double))
    cdef double tot[MAXC]
    cdef double etot[MAXC]
    cdef int npan = 0, i, j, k, n, worst, status = 1, it
    cdef double width, score, best, m, scale
    # the integrand exp(tL - shift) carries a rounding noise ~ u |shift|: no tighter than that
    cdef double rtol = QUAD_RTOL + 64.0 * 2.2e-16 * fabs(p.shift)
    if pa == NULL or pb == NULL or val == NULL or err == NULL:
        free(pa); free(pb); free(val); free(err)
        for k in range(nc):
            res[k] = NAN
        return 2
    for i in range(nint):
        width = hi[i] - lo[i]
        if width <= 0.0:
            continue
        n = <int> ceil(width / PANEL_WIDTH)
        if n < 1:
            n = 1
        if n > MAXPANEL // 4:
            n = MAXPANEL // 4
        for j in range(n):
            pa[npan] = lo[i] + width * j / n
            pb[npan] = lo[i] + width * (j + 1) / n if j + 1 < n else hi[i]
            panel(pa[npan], pb[npan], p, mode, nc, val + npan * MAXC, err + npan * MAXC)
            npan += 1
    for it in range(MAXPANEL):
        for k in range(nc):
            tot[k] = 0.0
            etot[k] = 0.0
        for i in range(npan):
            for k in range(nc):
                tot[k] += val[i * MAXC + k]
                etot[k] += err[i * MAXC + k]
        status = 0
        for k in range(nc):
            if etot[k] > rtol * fabs(tot[sc[k]]) + 1e-300:
                status = 1
        if status == 0 or npan + 1 >= MAXPANEL:
            break
        worst = 0
        best = -1.0
        for i in range(npan):
            score = 0.0
            for k in range(nc):
                scale = fabs(tot[sc[k]]) + 1e-300
                if err[i * MAXC + k] / scale > score:
                    score = err[i * MAXC + k] / scale
            if score > best:
                best = score
                worst = i
        m = 0.5 * (pa[worst] + pb[worst])
        pa[npan] = m
        pb[npan] = pb[worst]
        pb[worst] = m
        panel(pa[worst], pb[worst], p, mode, nc, val + worst * MAXC, err + worst * MAXC)
        panel(pa[npan], pb[npan], p, mode, nc, val + npan * MAXC, err + npan * MAXC)
        npan += 1
    for k in range(nc):
        res[k] = tot[k]
    free(pa); free(pb); free(val); free(err)
    return status


cdef int domain(const Tilt* p, int moments, double* lo, double* hi) noexcept nogil:
    """Where the tilted weight can matter (log-weight >= shift - DOMAIN_D), from two
    Gaussian envelopes of phi(x) e^{tL}: for t >= 0, e^{tL} <= max(1, e^{tu}); for t < 0,
    e^{tL} <= min((1-q)^t, q^t e^{tu}), u = mu x - mu^2/2. Returns the number of intervals."""
    cdef double D = DOMAIN_D, M = p.shift, t = p.t, mu = p.mu
    cdef double A = 0.5 * t * (t - 1.0) * mu * mu
    cdef double r1sq, r2sq, r1, r2, c2 = t * mu
    cdef int n = 0
    if t >= 0.0:
        r1sq = 2.0 * (D - M)
        r2sq = 2.0 * (D + A - M)
        if r1sq > 0.0:
            r1 = sqrt(r1sq)
            lo[n] = -r1; hi[n] = r1; n += 1
        if r2sq > 0.0:
            r2 = sqrt(r2sq)
            lo[n] = c2 - r2; hi[n] = c2 + r2; n += 1
    else:
        r1sq = 2.0 * (D + t * log1p(-p.q) - M)
        r2sq = 2.0 * (D + A + t * log(p.q) - M)
        if r1sq <= 0.0 or r2sq <= 0.0:
            return 0
        r1 = sqrt(r1sq); r2 = sqrt(r2sq)
        lo[0] = -r1 if -r1 > c2 - r2 else c2 - r2
        hi[0] = r1 if r1 < c2 + r2 else c2 + r2
        n = 1 if hi[0] > lo[0] else 0
    if n == 2 and lo[1] <= hi[0]:
        if hi[1] > hi[0]:
            hi[0] = hi[1]
        if lo[1] < lo[0]:
            lo[0] = lo[1]
        n = 1
    if moments and n > 0:
        hi[n - 1] += moments_reach(p.q, mu) + 1.0
        lo[0] -= 1.0
    return n


cdef inline double moments_reach(double q, double mu) noexcept nogil:
    """How far right of the CGF's domain the moments' weights (L - m)^k reach: L ~ q e^u
    below x_b = (log((1-q)/q) + mu^2/2)/mu, at most 5 mu."""
    cdef double xb = (log((1.0 - q) / q) + 0.5 * mu * mu) / mu
    if xb > 5.0 * mu:
        return 5.0 * mu
    return xb if xb > 0.0 else 0.0


cdef int split_at(double* lo, double* hi, int n, double x) noexcept nogil:
    """Split the interval holding x (a kink of |L - m|) so no panel straddles it."""
    cdef int i, j
    for i in range(n):
        if lo[i] < x < hi[i]:
            for j in range(n, i + 1, -1):
                lo[j] = lo[j - 1]
                hi[j] = hi[j - 1]
            lo[i + 1] = x
            hi[i + 1] = hi[i]
            hi[i] = x
            return n + 1
    return n


cdef inline double pllr_inverse(double l, const Tilt* p) noexcept nogil:
    """x with L(x) = l: u = log1p(expm1(l)/q), x = (u + mu^2/2)/mu; NaN off the range."""
    cdef double y = expm1(l) / p.q
    if y <= -1.0:
        return NAN
    return (log1p(y) + p.hm2) / p.mu


cdef inline void tilt_init(Tilt* p, double q, double mu, double t) noexcept nogil:
    cdef double l0, l1
    p.q = q
    p.mu = mu
    p.hm2 = 0.5 * mu * mu
    p.t = t
    p.m = 0.0
    p.my = 0.0
    p.gauss = q >= 1.0
    p.shift = 0.0
    cdef double a, b, m, g, sig
    cdef int i
    l0 = t * pllr_c(0.0, p)
    l1 = -0.5 * (t * mu) * (t * mu) + t * pllr_c(t * mu, p)
    p.shift = l0 if l0 > l1 else l1
    if t < 0.0 and not p.gauss:
        # log-weight -x^2/2 + t L(x) is concave: its mode solves x = t mu sigmoid(u + logit q)
        a = t * mu
        b = 0.0
        for i in range(200):
            m = 0.5 * (a + b)
            g = mu * m - p.hm2 + log(q / (1.0 - q))
            sig = 1.0 / (1.0 + exp(-g)) if g >= 0.0 else exp(g) / (1.0 + exp(g))
            g = -m + t * mu * sig
            if g > 0.0:
                a = m
            else:
                b = m
            if b - a <= 1e-12 * (1.0 + fabs(m)):
                break
        m = -0.5 * m * m + t * pllr_c(m, p)
        if m > p.shift:
            p.shift = m


cdef int pllr_moments_c(double q, double mu, double t, double* out) noexcept nogil:
    """out = [K(t), mean, c2, c3, c4, c5, E|d|, E|d|^3] of the tilted law, d = L - mean."""
    cdef Tilt p
    cdef double lo[4]
    cdef double hi[4]
    cdef double lo2[4]
    cdef double hi2[4]
    cdef double r1[3]
    cdef double r2[7]
    cdef int n, n2, s1, s2, i
    cdef double mu2 = mu * mu, i0
    if q >= 1.0:
        out[0] = 0.5 * t * (t - 1.0) * mu2
        out[1] = (t - 0.5) * mu2
        out[2] = mu2
        out[3] = 0.0
        out[4] = 3.0 * mu2 * mu2
        out[5] = 0.0
        out[6] = mu * sqrt(2.0 / M_PI)
        out[7] = 2.0 * sqrt(2.0 / M_PI) * mu2 * mu
        return 0
    tilt_init(&p, q, mu, t)
    n = domain(&p, 1, lo, hi)
    for i in range(n):
        lo2[i] = lo[i]
        hi2[i] = hi[i]
    n2 = n
    n = split_at(lo, hi, n, pllr_inverse(0.0, &p))
    s1 = adaptive(&p, 1, lo, hi, n, r1)
    i0 = r1[0]
    p.m = r1[1] / i0
    n2 = split_at(lo2, hi2, n2, pllr_inverse(p.m, &p))
    s2 = adaptive(&p, 2, lo2, hi2, n2, r2)
    out[0] = p.shift + log(i0) - LOG_SQRT_2PI
    if p.shift < 1.0 and fabs(out[0]) < K_DEVIATION:
        # log(i0) of i0 ~ 1 leaves K an ulp of 1 off, a relative error of u / |K| (1e-9
        # at q = 0.5, sigma = 889, whose T = 2.4e6 steps made the saddle point's second-
        # order terms jitter by 3e-5): the deviation form keeps K's relative accuracy
        s1 = s1 | pllr_cgf_c(q, mu, t, out)
    out[1] = p.m
    out[2] = r2[0] / i0
    out[3] = r2[1] / i0
    out[4] = r2[2] / i0
    out[5] = r2[3] / i0
    out[6] = r2[4] / i0
    out[7] = r2[5] / i0
    return s1 | s2


cdef inline double ncdf(double x) noexcept nogil:
    return 0.5 * erfc(-x * SQRT1_2)


cdef double outside_mass(const double* lo, const double* hi, int n, double c) noexcept nogil:
    """N(c, 1) mass outside the union of the sorted, disjoint intervals [lo_i, hi_i]."""
    cdef double m = ncdf(lo[0] - c) + ncdf(c - hi[n - 1])
    cdef int i
    for i in range(n - 1):
        m += ncdf(lo[i + 1] - c) - ncdf(hi[i] - c)
    return m


cdef int pllr_cgf_c(double q, double mu, double t, double* out) noexcept nogil:
    cdef Tilt p
    cdef double lo[4]
    cdef double hi[4]
    cdef double r[1]
    cdef int n, s
    if q >= 1.0:
        out[0] = 0.5 * t * (t - 1.0) * mu * mu
        return 0
    tilt_init(&p, q, mu, t)
    n = domain(&p, 0, lo, hi)
    if p.shift < 1.0:  # K moderate: the deviation form keeps relative accuracy near K = 0
        s = adaptive(&p, 3, lo, hi, n, r)
        # E_P[1 + t y] = 1 holds on the whole line: outside the domain (where e^{tL} is
        # negligible) the -(1 + t y) phi part is N(0,1) and N(mu,1) mass, in closed form
        out[0] = log1p(r[0] / 2.5066282746310002
                       - ((1.0 - t * q) * outside_mass(lo, hi, n, 0.0) + t * q * outside_mass(lo, hi, n, mu)))
        return s
    s = adaptive(&p, 0, lo, hi, n, r)
    out[0] = p.shift + log(r[0]) - LOG_SQRT_2PI
    return s


cdef int pllr_moments_xy_c(double q, double mu, double* out) noexcept nogil:
    """The moments of pllr_moments_c at t = 0 (under P) into out[:8] and at t = 1 (under
    Q) into out[8:16], from one set of integrand evaluations: dQ/dP = e^L."""
    cdef Tilt p
    cdef Tilt p1
    cdef double lo[6]
    cdef double hi[6]
    cdef double lo1[2]
    cdef double hi1[2]
    cdef double r1[6]
    cdef double r2[14]
    cdef int n, n1, s1, s2, i, k
    cdef double mx, my
    if q >= 1.0:
        s1 = pllr_moments_c(q, mu, 0.0, out)
        return s1 | pllr_moments_c(q, mu, 1.0, out + 8)
    tilt_init(&p, q, mu, 0.0)
    tilt_init(&p1, q, mu, 1.0)
    n = domain(&p, 1, lo, hi)
    n1 = domain(&p1, 1, lo1, hi1)
    for i in range(n1):  # one hull of both domains
        if lo1[i] < lo[0]:
            lo[0] = lo1[i]
        if hi1[i] > hi[n - 1]:
            hi[n - 1] = hi1[i]
    if n == 2 and lo[1] <= hi[0]:
        hi[0] = hi[1]
        n = 1
    p.shift = 0.0
    n = split_at(lo, hi, n, pllr_inverse(0.0, &p))
    s1 = adaptive(&p, 4, lo, hi, n, r1)
    mx = r1[1] / r1[0]
    my = r1[4] / r1[3]
    n = split_at(lo, hi, n, pllr_inverse(mx, &p))
    n = split_at(lo, hi, n, pllr_inverse(my, &p))
    p.m = mx
    p.my = my
    s2 = adaptive(&p, 5, lo, hi, n, r2)
    for k in range(2):
        out[8 * k] = log(r1[3 * k]) - LOG_SQRT_2PI
        out[8 * k + 1] = mx if k == 0 else my
        for i in range(6):
            out[8 * k + 2 + i] = r2[7 * k + i] / r1[3 * k]
    return s1 | s2


def pllr_moments_xy(double q, double mu, double[::1] out):
    """pllr_moments at t = 0 into out[:8] and at t = 1 into out[8:16], in one pass."""
    cdef int s
    with nogil:
        s = pllr_moments_xy_c(q, mu, &out[0])
    return s


def pllr_moments(double q, double mu, double t, double[::1] out):
    """Tilted moments of the PLLR into out[:8] = [K(t), mean, c2, c3, c4, c5, E|d|, E|d|^3]
    (c_k central moments, d = L - mean). Returns a status: 0 ok, 1 tolerance not met."""
    cdef int s
    with nogil:
        s = pllr_moments_c(q, mu, t, &out[0])
    return s


def pllr_cgf(double q, double mu, const double[::1] t, double[::1] out):
    """K(t_i) = log E_P[exp(t_i L)] for every t_i into out. Returns the OR of statuses."""
    cdef Py_ssize_t i
    cdef int s = 0
    with nogil:
        for i in range(t.shape[0]):
            s |= pllr_cgf_c(q, mu, t[i], &out[i])
    return s


# ---------------------------------------------------------------------------------------
# Edgeworth survival functions and the privacy profile
#
# An expansion is 11 numbers e = [K1, s, a0..a8]: z = (x - K1)/s and the Hermite correction
# c(z) = sum_k a_k z^k, so that the survival function is S(x) = Phi-bar(z) + phi(z) c(z).

cdef inline int ew_log_sf_c(double x, const double* e, double* logabs) noexcept nogil:
    """log|S(x)| with S = Phi-bar(z) (1 + c(z) r(z)), r = phi/Phi-bar; returns sign(S)."""
    cdef double z = (x - e[0]) / e[1]
    cdef double ls = log_ndtr_c(-z)
    cdef double c = e[10], cr
    cdef int k
    for k in range(9, 1, -1):
        c = c * z + e[k]
    if c == 0.0:
        logabs[0] = ls
        return 1
    cr = c * exp(-0.5 * z * z - LOG_SQRT_2PI - ls)
    if cr > -1.0:
        logabs[0] = ls + log1p(cr)
        return 1
    if cr == -1.0:
        logabs[0] = -INFINITY
        return 0
    logabs[0] = ls + log(-1.0 - cr)
    return -1


cdef inline double ew_delta_c(double eps, const double* ex, const double* ey) noexcept nogil:
    """Raw Edgeworth delta(eps) = S_Y(eps) - e^eps S_X(eps), in log space where both are
    positive: S_Y (-expm1(eps + log S_X - log S_Y))."""
    cdef double lx, ly, a, vx, vy
    cdef int sx = ew_log_sf_c(eps, ex, &lx)
    cdef int sy = ew_log_sf_c(eps, ey, &ly)
    if sx > 0 and sy > 0:
        a = eps + lx - ly
        if a > 700.0:
            return -exp(ly + a)
        return -exp(ly) * expm1(a)
    vy = sy * exp(ly) if sy != 0 else 0.0
    vx = sx * exp(eps + lx) if sx != 0 else 0.0
    return vy - vx


cdef inline double ew_log_delta_c(double eps, const double* ex, const double* ey) noexcept nogil:
    """log of the raw Edgeworth delta, -inf where it is <= 0."""
    cdef double lx, ly, a, v
    cdef int sx = ew_log_sf_c(eps, ex, &lx)
    cdef int sy = ew_log_sf_c(eps, ey, &ly)
    if sx > 0 and sy > 0:
        a = eps + lx - ly
        if a >= 0.0:
            return -INFINITY
        return ly + log(-expm1(a))
    v = ew_delta_c(eps, ex, ey)
    return log(v) if v > 0.0 else -INFINITY


def ew_log_sf(double x, const double[::1] e):
    """(sign, log|S(x)|) of an Edgeworth survival function."""
    cdef double la
    cdef int s = ew_log_sf_c(x, &e[0], &la)
    return s, la


def ew_delta(double eps, const double[::1] ex, const double[::1] ey):
    """Raw Edgeworth delta(eps) for the null expansion ex and the alternative ey."""
    return ew_delta_c(eps, &ex[0], &ey[0])


def ew_log_delta(double eps, const double[::1] ex, const double[::1] ey):
    """log of the raw Edgeworth delta(eps); -inf where it is <= 0."""
    return ew_log_delta_c(eps, &ex[0], &ey[0])


def ew_delta_grid(const double[::1] eps, const double[::1] ex, const double[::1] ey, double[::1] out):
    """Raw Edgeworth delta on a grid of eps."""
    cdef Py_ssize_t i
    with nogil:
        for i in range(eps.shape[0]):
            out[i] = ew_delta_c(eps[i], &ex[0], &ey[0])


cdef inline double root_f(double eps, double logt, const double* ex, const double* ey) noexcept nogil:
    cdef double v = ew_log_delta_c(eps, ex, ey)
    if v < -1000.0:
        v = -1000.0
    return v - logt


cdef double brent_root_c(double a, double b, double log_target, const double* px,
                        const double* py, double xtol, int maxiter) noexcept nogil:
    """Brent's zeroin on f(eps) = log delta_raw(eps) - log_target; NaN without a sign change."""
    cdef double fa, fb, fc, c, d, e, tol, m, s, p, qq, r, mn
    cdef int i
    fa = root_f(a, log_target, px, py)
    fb = root_f(b, log_target, px, py)
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    if (fa > 0.0) == (fb > 0.0):
        return NAN
    c = a; fc = fa; d = b - a; e = d
    for i in range(maxiter):
        if (fb > 0.0) == (fc > 0.0):
            c = a; fc = fa; d = b - a; e = d
        if fabs(fc) < fabs(fb):
            a = b; b = c; c = a
            fa = fb; fb = fc; fc = fa
        tol = 4.4e-16 * fabs(b) + 0.5 * xtol
        m = 0.5 * (c - b)
        if fabs(m) <= tol or fb == 0.0:
            break
        if fabs(e) >= tol and fabs(fa) > fabs(fb):
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
            mn = 3.0 * m * qq - fabs(tol * qq)
            if fabs(e * qq) < mn:
                mn = fabs(e * qq)
            if 2.0 * p < mn:
                e = d
                d = p / qq
            else:
                d = m; e = m
        else:
            d = m; e = m
        a = b; fa = fb
        if fabs(d) > tol:
            b += d
        else:
            b += tol if m > 0.0 else -tol
        fb = root_f(b, log_target, px, py)
    return b


def ew_root(double a, double b, double log_target, const double[::1] ex, const double[::1] ey,
            double xtol, int maxiter=200):
    """Root of log delta_raw(eps) = log_target in [a, b] by Brent's method (zeroin); the
    bracket must change sign. NaN when it does not."""
    cdef double r
    with nogil:
        r = brent_root_c(a, b, log_target, &ex[0], &ey[0], xtol, maxiter)
    return r


cdef double golden_max_c(double a, double b, double sign, const double* px, const double* py,
                         int maxiter) noexcept nogil:
    """Golden-section search for the maximiser of sign * delta_raw on [a, b]."""
    cdef double g = 0.6180339887498949, c, d, fc, fd
    cdef int i
    c = b - g * (b - a)
    d = a + g * (b - a)
    fc = sign * ew_delta_c(c, px, py)
    fd = sign * ew_delta_c(d, px, py)
    for i in range(maxiter):
        if b - a <= 1e-13 * (fabs(a) + fabs(b)) + 1e-300:
            break
        if fc > fd:
            b = d; d = c; fd = fc
            c = b - g * (b - a)
            fc = sign * ew_delta_c(c, px, py)
        else:
            a = c; c = d; fc = fd
            d = a + g * (b - a)
            fd = sign * ew_delta_c(d, px, py)
    return c if fc > fd else d


def ew_extremum(double a, double b, double sign, const double[::1] ex, const double[::1] ey,
                int maxiter=200):
    """Golden-section search for the maximum of sign * delta_raw on [a, b]:
    returns (eps, delta_raw(eps))."""
    cdef double x
    with nogil:
        x = golden_max_c(a, b, sign, &ex[0], &ey[0], maxiter)
    return x, ew_delta_c(x, &ex[0], &ey[0])


# ---------------------------------------------------------------------------------------
# the CGF by the trapezoidal rule on a table of nodes, for many steps and orders at once
#
# K(t) = log int phi(x) e^{t L(x)} dx. The integrand is analytic in the strip |Im x| < pi/mu
# (1 - q + q e^{u} leaves the negative axis only there) and decays like a Gaussian, so the
# trapezoidal rule h sum_k f(k h) converges geometrically in 1/h (Trefethen & Weideman
# 2014, SIAM Review 56(3), Thm. 5.1). Its two interleaved half-rules (even and odd k, step
# 2h) estimate the error: they differ by twice the half-rule's leading error term, and the
# full rule's error is of the order of that term squared. The nodes x_k = k h depend on
# (q, mu) only, so one table serves every order t: [phi(x_k), L(x_k), log1p(y_k) - y_k],
# y = q expm1(u), and a new order costs one exp (or expm1) per node.

from libc.math cimport floor

cdef enum:
    NODE_ROW = 3       # doubles per node: phi, L, log1p(y) - y
    MECH_COL = 6       # per step: q, mu, h, m0 (index of the first node), offset, count

cdef double NODE_H = 0.35        # h = min(NODE_HMAX, NODE_H / mu)
cdef double NODE_HMAX = 0.45
cdef double NODE_MAXN = 4096.0   # nodes per step at most
cdef double TRAP_CHECK = 1e-6    # half-rules' relative disagreement accepted (error ~ its square)
cdef double TRAP_CHECK_HIGH = 1e-4   # the same for c3 and c4, which only enter the saddle
                                 # point's correction terms (e^{tL} of t < 0 cuts off like a
                                 # Gumbel law: its transform decays only exponentially)
cdef double INV[21]              # 1/k: the series below multiply, not divide
for _i in range(1, 21):
    INV[_i] = 1.0 / _i


cdef inline double log1pmx(double y) noexcept nogil:
    """log1p(y) - y, relatively accurate at small |y|: -y^2 sum_{k>=2} (-y)^(k-2) / k
    below |y| = 0.1 (19 terms: remainder < 1e-19 relative)."""
    cdef double s = 0.0
    cdef int k
    if fabs(y) >= 0.1:
        return log1p(y) - y
    for k in range(20, 1, -1):
        s = s * (-y) + INV[k]
    return -y * y * s


cdef inline double em1mz(double z) noexcept nogil:
    """expm1(z) - z, relatively accurate at small |z|: z^2/2 (1 + z/3 (1 + z/4 (...)))
    below |z| = 0.25 (to z^15: remainder < 1e-18 relative)."""
    cdef double s = 1.0
    cdef int k
    if fabs(z) >= 0.25:
        return expm1(z) - z
    for k in range(15, 2, -1):
        s = 1.0 + z * s * INV[k]
    return 0.5 * z * z * s


cdef void node_layout(double q, double mu, double top, double hscale, double* m) noexcept nogil:
    """Step h, first node index m0 and node count of a table covering every order t in
    [1 - top, top]: [min(0, (1 - top) mu) - w, max(mu, top mu) + w], w from the envelopes
    of ``domain`` (DOMAIN_D plus top |log q| or top |log(1 - q)|), at most NODE_MAXN nodes
    centred on the bulk. No table (count 0) for q = 1, whose CGF is closed. ``hscale`` < 1
    refines the lattice (the complex CGF at large u)."""
    cdef double h = NODE_H / mu, w, lo, hi, c, logs
    if h > NODE_HMAX:
        h = NODE_HMAX
    h *= hscale
    m[0] = q; m[1] = mu; m[2] = h; m[3] = 0.0; m[5] = 0.0
    if q >= 1.0:
        return
    logs = -log(q)
    if -log1p(-q) > logs:
        logs = -log1p(-q)
    w = sqrt(2.0 * (DOMAIN_D + top * logs))
    lo = ((1.0 - top) * mu - w if top > 1.0 else -w) - 1.0
    hi = (top * mu + w if top * mu > mu else mu + w) + 1.0 + moments_reach(q, mu)
    if (hi - lo) / h > NODE_MAXN - 2.0:
        c = 0.5 * mu
        lo = c - 0.5 * (NODE_MAXN - 2.0) * h
        hi = c + 0.5 * (NODE_MAXN - 2.0) * h
    m[3] = floor(lo / h)
    m[5] = floor(hi / h) - m[3] + 1.0


cdef void fill_nodes(const double* m, double* nd) noexcept nogil:
    """The node table of one step: [phi(x_k), L(x_k), log1p(y_k) - y_k], x_k = (m0 + k) h."""
    cdef Tilt p
    cdef double x, u, y
    cdef Py_ssize_t k, n = <Py_ssize_t> m[5]
    p.q = m[0]; p.mu = m[1]; p.hm2 = 0.5 * m[1] * m[1]; p.gauss = 0
    for k in range(n):
        x = (m[3] + k) * m[2]
        u = p.mu * x - p.hm2
        nd[NODE_ROW * k] = exp(-0.5 * x * x)
        if u < 700.0:   # pllr_c's branch, y computed once: L = y + (log1p(y) - y)
            y = p.q * expm1(u)
            nd[NODE_ROW * k + 2] = log1pmx(y)
            nd[NODE_ROW * k + 1] = y + nd[NODE_ROW * k + 2] if fabs(y) < 0.1 else log1p(y)
        else:
            nd[NODE_ROW * k + 1] = pllr_c(x, &p)
            nd[NODE_ROW * k + 2] = -INFINITY


def pllr_nodes(const double[::1] q, const double[::1] mu, double top, double hscale=1.0):
    """Node tables of the trapezoidal CGF for the steps (q_i, mu_i), covering the orders
    t in [1 - top, top], on the lattice of step h = min(NODE_H / mu, NODE_HMAX) hscale.
    Returns (mech, table): mech[i] = (q, mu, h, m0, offset, count),
    table[offset + 3 k + (0, 1, 2)] = (phi, L, log1p(y) - y) at x = (m0 + k) h."""
    cdef Py_ssize_t i, n = q.shape[0], total = 0
    mech = _np.empty((n, MECH_COL))
    cdef double[:, ::1] m = mech
    for i in range(n):
        node_layout(q[i], mu[i], top, hscale, &m[i, 0])
        m[i, 4] = total
        total += NODE_ROW * <Py_ssize_t> m[i, 5]
    table = _np.empty(total if total > 0 else 1)
    cdef double[::1] tab = table
    with nogil:
        for i in range(n):
            fill_nodes(&m[i, 0], &tab[<Py_ssize_t> m[i, 4]])
    return mech, table


cdef int node_intervals(Tilt* p, const double* m, double t, double* lo, double* hi,
                        int* dev) noexcept nogil:
    """Set p up for order t (shift: the larger log-weight of x = 0 and x = t mu) and return
    how many intervals to sum: ``domain``'s, in one hull with [-R, mu + R], R = sqrt(2
    DOMAIN_D), in the deviation form (K < ~1, ``dev``), where phi (1 + t y) lives."""
    cdef double r = sqrt(2.0 * DOMAIN_D), x
    cdef int nint
    p.q = m[0]; p.mu = m[1]; p.hm2 = 0.5 * m[1] * m[1]; p.t = t; p.gauss = 0
    p.m = 0.0; p.my = 0.0; p.shift = 0.0
    p.shift = t * pllr_c(0.0, p)
    x = -0.5 * (t * p.mu) * (t * p.mu) + t * pllr_c(t * p.mu, p)
    if x > p.shift:
        p.shift = x
    nint = domain(p, 0, lo, hi)
    dev[0] = p.shift < 1.0
    if dev[0]:
        lo[0] = lo[0] if nint > 0 and lo[0] < -r else -r
        hi[0] = hi[nint - 1] if nint > 0 and hi[nint - 1] > p.mu + r else p.mu + r
        nint = 1
    return nint


cdef inline double node_weight(const Tilt* p, const double* nd, double x, int dev) noexcept nogil:
    """The integrand at the node x with row nd = [phi, L, log1p(y) - y]: e^{tL - x^2/2 -
    shift}, or in the deviation form phi (e^{tL} - 1 - t y) = phi (em1mz(tL) + t (L - y)),
    in log space where phi underflows or e^{tL} overflows."""
    cdef double z = p.t * nd[1]
    if not dev:
        return exp(-0.5 * x * x + z - p.shift)
    if nd[0] > 1e-300 and z < 700.0:
        return nd[0] * (em1mz(z) + p.t * nd[2])
    return exp(-0.5 * x * x + z) - nd[0] - p.t * p.q * (exp(-0.5 * x * x + p.mu * x - p.hm2) - nd[0])


cdef int cgf_nodes_c(const double* m, const double* nd, double t, double* out) noexcept nogil:
    """K(t) of one step from its node table (``pllr_nodes``). Returns 0, or -1 when the
    table does not cover the intervals to sum, the sum is not finite, or the half-rules
    disagree by more than TRAP_CHECK: then the caller uses the adaptive kernel."""
    cdef Tilt p
    cdef double lo[4]
    cdef double hi[4]
    cdef double s[2]
    cdef double h = m[2], m0 = m[3], w
    cdef Py_ssize_t n = <Py_ssize_t> m[5], a, b, k
    cdef int i, nint, dev
    if m[0] >= 1.0:
        out[0] = 0.5 * t * (t - 1.0) * m[1] * m[1]
        return 0
    nint = node_intervals(&p, m, t, lo, hi, &dev)
    if nint == 0:
        return -1
    s[0] = 0.0
    s[1] = 0.0
    for i in range(nint):
        a = <Py_ssize_t> ceil(lo[i] / h - m0)
        b = <Py_ssize_t> floor(hi[i] / h - m0)
        if a < 0 or b >= n:
            return -1
        for k in range(a, b + 1):
            s[(<long> (m0 + k)) & 1] += node_weight(&p, nd + NODE_ROW * k, (m0 + k) * h, dev)
    w = s[0] + s[1]
    if not (fabs(w) < INFINITY) or fabs(s[0] - s[1]) > TRAP_CHECK * fabs(w):
        return -1
    out[0] = log1p(h * w / 2.5066282746310002) if dev else p.shift + log(h * w) - LOG_SQRT_2PI
    return 0


def pllr_cgf_nodes(const double[:, ::1] mech, const double[::1] table, const double[::1] t,
                   double[:, ::1] out):
    """out[i, j] = K_i(t_j) for every step i of ``pllr_nodes`` and every order t_j, by the
    trapezoidal rule on the tables; where a table cannot answer, by the adaptive kernel
    (pllr_cgf). Returns how many values came from the adaptive kernel."""
    cdef Py_ssize_t i, j
    cdef int fallbacks = 0
    with nogil:
        for i in range(mech.shape[0]):
            for j in range(t.shape[0]):
                if cgf_nodes_c(&mech[i, 0], &table[<Py_ssize_t> mech[i, 4]], t[j], &out[i, j]) != 0:
                    pllr_cgf_c(mech[i, 0], mech[i, 1], t[j], &out[i, j])
                    fallbacks += 1
    return fallbacks


cdef int tilted_nodes_c(const double* m, const double* nd, double t, Tilt* p, Py_ssize_t* ka,
                        Py_ssize_t* kb, double* s0, double* s1, Py_ssize_t* count) noexcept nogil:
    """The tilted law at t on one step's node table, first pass: p set up (tilt_init), the
    runs [ka[i], kb[i]] of table indices covering pllr_moments_c's domain, and per parity
    (even, odd nodes) the weights' sum s0, the sum of weights times L s1 and the node count.
    Weights e^{-x^2/2 + tL - shift}. Returns the number of runs, or -1 where the table does
    not cover the domain or the half-rules' weights disagree by more than TRAP_CHECK."""
    cdef double lo[4]
    cdef double hi[4]
    cdef double h = m[2], m0 = m[3], x, w, i0
    cdef Py_ssize_t n = <Py_ssize_t> m[5], k
    cdef int i, par, nint
    tilt_init(p, m[0], m[1], t)
    nint = domain(p, 1, lo, hi)
    if nint == 0:
        return -1
    for i in range(nint):
        ka[i] = <Py_ssize_t> ceil(lo[i] / h - m0)
        kb[i] = <Py_ssize_t> floor(hi[i] / h - m0)
        if ka[i] < 0 or kb[i] >= n:
            return -1
    s0[0] = 0.0; s0[1] = 0.0; s1[0] = 0.0; s1[1] = 0.0; count[0] = 0; count[1] = 0
    for i in range(nint):
        for k in range(ka[i], kb[i] + 1):
            x = (m0 + k) * h
            w = exp(-0.5 * x * x + t * nd[NODE_ROW * k + 1] - p.shift)
            par = (<long> (m0 + k)) & 1
            s0[par] += w
            s1[par] += w * nd[NODE_ROW * k + 1]
            count[par] += 1
    i0 = s0[0] + s0[1]
    if not (s0[0] > 0.0 and s0[1] > 0.0 and i0 < INFINITY) or fabs(s0[0] - s0[1]) > TRAP_CHECK * i0:
        return -1
    return nint


cdef int moments_nodes_c(const double* m, const double* nd, double t, double* out) noexcept nogil:
    """out[:5] = [K(t), mean, c2, c3, c4] (c_k central) of one step's tilted law from its
    node table, the trapezoidal counterpart of pllr_moments_c (whose domain it sums over).
    Returns 0, or -1 where the table does not cover that domain, a sum is not finite, or
    the half-rules (even and odd nodes) disagree by more than TRAP_CHECK (c3, c4:
    TRAP_CHECK_HIGH) relative to the scale E|L - mean|^k: then the caller uses the
    adaptive kernel. Two passes: the weights and the mean, then central sums about it (no
    cancellation of raw moments). K is the deviation-form node CGF (cgf_nodes_c) where
    that answers: log of the weights' sum is only an ulp of 1 accurate where K is tiny."""
    cdef Tilt p
    cdef double s0[2]
    cdef double s1[2]
    cdef double c[2][3]
    cdef double a[3]
    cdef double h = m[2], m0 = m[3], x, w, d, d2, mean, me, mo, i0, scale
    cdef Py_ssize_t ka[4]
    cdef Py_ssize_t kb[4]
    cdef Py_ssize_t count[2]
    cdef Py_ssize_t k
    cdef int i, j, par, nint
    if m[0] >= 1.0:
        return -1      # the closed form of pllr_moments_c
    nint = tilted_nodes_c(m, nd, t, &p, ka, kb, s0, s1, count)
    if nint < 0:
        return -1
    i0 = s0[0] + s0[1]
    mean = (s1[0] + s1[1]) / i0
    for j in range(3):
        c[0][j] = 0.0; c[1][j] = 0.0; a[j] = 0.0
    for i in range(nint):
        for k in range(ka[i], kb[i] + 1):
            x = (m0 + k) * h
            w = exp(-0.5 * x * x + t * nd[NODE_ROW * k + 1] - p.shift)
            par = (<long> (m0 + k)) & 1
            d = nd[NODE_ROW * k + 1] - mean
            d2 = w * d * d
            c[par][0] += d2
            c[par][1] += d2 * d
            c[par][2] += d2 * d * d
            a[1] += d2 * fabs(d)
    a[0] = c[0][0] + c[1][0]
    a[2] = c[0][2] + c[1][2]
    # the half-rules' means and central sums (each half is the rule of step 2h)
    me = s1[0] / s0[0]
    mo = s1[1] / s0[1]
    scale = sqrt(a[0] / i0)
    if not (a[0] < INFINITY and a[1] < INFINITY and a[2] < INFINITY) or \
            fabs(me - mo) > TRAP_CHECK * scale:
        return -1
    for j in range(3):
        if fabs(c[0][j] / s0[0] - c[1][j] / s0[1]) > (TRAP_CHECK if j == 0 else TRAP_CHECK_HIGH) * a[j] / i0:
            return -1
    out[1] = mean
    out[2] = a[0] / i0
    out[3] = (c[0][1] + c[1][1]) / i0
    out[4] = a[2] / i0
    if t == 0.0 or t == 1.0:
        out[0] = 0.0    # exactly (E_P[1] = E_P[e^L] = 1); the deviation form's sum is ~0
    elif cgf_nodes_c(m, nd, t, out) != 0:
        # K as the RDP tables give it (the deviation form where K < ~1: log(i0) of i0 ~ 1
        # is only an ulp of 1 accurate), else from the weights summed here
        out[0] = p.shift + log(h * i0) - LOG_SQRT_2PI
    return 0


def pllr_moments_nodes(const double[:, ::1] mech, const double[::1] table, double t,
                       double[:, ::1] out):
    """out[i, :5] = [K(t), mean, c2, c3, c4] of every step i of ``pllr_nodes`` at the tilt t,
    by the trapezoidal rule on the tables; where a table cannot answer, by the adaptive
    kernel (pllr_moments). Returns how many steps came from the adaptive kernel."""
    cdef Py_ssize_t i
    cdef int fallbacks = 0
    cdef double full[8]
    with nogil:
        for i in range(mech.shape[0]):
            if moments_nodes_c(&mech[i, 0], &table[<Py_ssize_t> mech[i, 4]], t, &out[i, 0]) != 0:
                pllr_moments_c(mech[i, 0], mech[i, 1], t, full)
                out[i, 0] = full[0]; out[i, 1] = full[1]; out[i, 2] = full[2]
                out[i, 3] = full[3]; out[i, 4] = full[4]
                fallbacks += 1
    return fallbacks


from libc.math cimport cos, sin, atan2, hypot

cdef double CCGF_MARGIN = 9.0   # e^{iuL} on the node lattice: u mu <= 2 pi / h - this max(1, mu)


cdef int ccgf_nodes_c(const double* m, const double* nd, double c, double u0, double h,
                      Py_ssize_t n, double* out, double* scratch) noexcept nogil:
    """K(c + iu_j) = K(c) + i u_j mean + log E_c[e^{i u_j (L - mean)}], u_j = u0 + j h, of one
    step from its node table (the trapezoidal rule; out[2j], out[2j + 1] = real, imaginary
    part): the counterpart of pllr.complex_cgf. e^{iu(L - mean)} is stepped along the grid by
    one complex product per node. Returns the node count, or -1 where the table does not
    cover the tilted domain, a sum is not finite, the grid's top u turns e^{iuL} too fast for
    the lattice (L' < mu: u mu must stay CCGF_MARGIN max(1, mu) below 2 pi / h, where errors
    against pllr.complex_cgf were measured <= 3e-15 of cf(0) from 6 max(1, mu) on), or at
    some u the half-rules' characteristic functions disagree by more than TRAP_CHECK |cf|:
    then the caller uses pllr.complex_cgf. ``scratch`` holds 5 doubles per node."""
    cdef Tilt p
    cdef Py_ssize_t ka[4]
    cdef Py_ssize_t kb[4]
    cdef Py_ssize_t count[2]
    cdef double s0[2]
    cdef double s1[2]
    cdef double x, y, i0, mean, K, er, ei, orr, oi, cr, ci, ab, tr
    cdef Py_ssize_t k, j, r, cnt, ne, idx
    cdef int i, nint, par
    cdef double* wt
    cdef double* vr
    cdef double* vi
    cdef double* sr
    cdef double* si
    if m[0] >= 1.0 or (u0 + (n - 1) * h) * m[1] > 2.0 * M_PI / m[2] - CCGF_MARGIN * (m[1] if m[1] > 1.0 else 1.0):
        return -1
    nint = tilted_nodes_c(m, nd, c, &p, ka, kb, s0, s1, count)
    if nint < 0:
        return -1
    ne = count[0]
    cnt = count[0] + count[1]
    i0 = s0[0] + s0[1]
    mean = (s1[0] + s1[1]) / i0
    K = p.shift + log(m[2] * i0) - LOG_SQRT_2PI
    # per node: weight, e^{i u0 y} and e^{i h y}; even nodes first, then odd ones
    wt = scratch; vr = scratch + cnt; vi = scratch + 2 * cnt; sr = scratch + 3 * cnt; si = scratch + 4 * cnt
    j = 0
    r = ne
    for i in range(nint):
        for k in range(ka[i], kb[i] + 1):
            x = (m[3] + k) * m[2]
            par = (<long> (m[3] + k)) & 1
            idx = r if par else j
            y = nd[NODE_ROW * k + 1] - mean
            wt[idx] = exp(-0.5 * x * x + c * nd[NODE_ROW * k + 1] - p.shift) / s0[par]
            vr[idx] = cos(u0 * y); vi[idx] = sin(u0 * y)
            sr[idx] = cos(h * y); si[idx] = sin(h * y)
            if par:
                r += 1
            else:
                j += 1
    for r in range(n):
        er = 0.0; ei = 0.0; orr = 0.0; oi = 0.0
        for k in range(ne):
            er += wt[k] * vr[k]
            ei += wt[k] * vi[k]
            tr = vr[k] * sr[k] - vi[k] * si[k]
            vi[k] = vr[k] * si[k] + vi[k] * sr[k]
            vr[k] = tr
        for k in range(ne, cnt):
            orr += wt[k] * vr[k]
            oi += wt[k] * vi[k]
            tr = vr[k] * sr[k] - vi[k] * si[k]
            vi[k] = vr[k] * si[k] + vi[k] * sr[k]
            vr[k] = tr
        cr = (s0[0] * er + s0[1] * orr) / i0
        ci = (s0[0] * ei + s0[1] * oi) / i0
        ab = hypot(cr, ci)
        if not (ab > 0.0) or hypot(er - orr, ei - oi) > TRAP_CHECK * ab:
            return -1
        out[2 * r] = K + log(ab)
        out[2 * r + 1] = (u0 + r * h) * mean + atan2(ci, cr)
    return <int> cnt


def pllr_ccgf_nodes(const double[:, ::1] mech, const double[::1] table, double c, double u0,
                    double h, Py_ssize_t n, double[:, ::1] out, long[::1] nodes):
    """K_i(c + iu_j) of every step i of ``pllr_nodes`` on the grid u_j = u0 + j h, j < n, by the
    trapezoidal rule on the tables: out[i] holds the n values as (real, imaginary) pairs;
    nodes[i] the nodes summed, or -1 where the table cannot answer (the caller then uses
    pllr.complex_cgf for that step)."""
    cdef Py_ssize_t i, most = 1
    cdef double* scratch
    for i in range(mech.shape[0]):
        if mech[i, 5] > most:
            most = <Py_ssize_t> mech[i, 5]
    scratch = <double*> malloc(5 * most * sizeof(double))
    if scratch == NULL:
        raise MemoryError()
    try:
        with nogil:
            for i in range(mech.shape[0]):
                nodes[i] = ccgf_nodes_c(&mech[i, 0], &table[<Py_ssize_t> mech[i, 4]], c, u0, h, n,
                                        &out[i, 0], scratch)
    finally:
        free(scratch)

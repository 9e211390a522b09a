r"""The certified accountant: a rigorous upper bound on epsilon, tight to ``rtol``.

Route ("dbl", DESIGN.md section 8; research/certified.md sections 2-8): discretise each
distinct step's privacy-loss distribution (PLD) by *connect-the-dots* (CTD), tilt it
exponentially, compose by binary squaring with pessimistic re-gridding after every
convolution, charge every cut and every floating-point error to delta, and read epsilon
off the composed PLD. The grid is chosen from an error model so the answer is about
``rtol`` above the truth; whatever the grid, the answer is an upper bound.

Notation
--------
One step of a mechanism has the dominating pair (P, Q), P = N(0, 1),
Q = (1 - q) N(0, 1) + q N(mu, 1). For the ordering "pq" (remove) take A = Q, B = P and the
loss L = log dA/dB; for "qp" (add) A = P, B = Q and L' = -L. With Y = e^L,

    delta(eps) = E_A[(1 - e^{eps - L})_+] = E_B[(Y - e^eps)_+],

and for T independent steps delta_T(eps) = E_B[(Y_1 ... Y_T - e^eps)_+]. A PLD here is a
finite measure on a grid l_0 < l_1 < ... of losses with A-masses a_i, plus an A-mass
a_inf at +infinity; its profile is sum_i a_i (1 - e^{eps - l_i})_+ + a_inf.

Validity argument (why the result is an upper bound)
----------------------------------------------------
1. *Submartingale spreads dominate.* Replace each Y_i by Y~_i, independently, with
   E[Y~_i | Y_i] >= Y_i (under B; Y~_i >= 0, possibly +infinity with B-probability 0 and
   A-mass a_inf). Then E[prod Y~_i | Y] >= prod Y_i, and since (. - alpha)_+ is convex and
   non-decreasing, conditional Jensen gives delta~_T(eps) >= delta_T(eps) for every eps.
   Moving A-mass to a larger loss, or to +infinity, is such a replacement, and so is any
   mean-preserving spread of Y. Adding mass (a measure entrywise larger) only increases
   every term. Compositions of dominating PLDs dominate the composition.
2. *Every operation is one of these.* (a) Level 0 (``_pld.level0``): the line is cut into
   x-cells whose losses lie in [l_j - d_j, l_{j+1}] (d_j >= 0 tiny); the sliver below l_j
   is moved up, then the cell's B-mass is split between l_j and l_{j+1} keeping its B-mass
   and its B-mean of Y (CTD, a mean-preserving spread). The two CTD numerators
   int (e^L - e^{l_j}) dB and int (e^{l_{j+1}} - e^L) dB are integrals of non-negative
   functions; they are bounded *above* by Gauss-Legendre quadrature with a
   Cauchy-estimate remainder bound (narrow cells) or by closed forms of Gaussian
   integrals computed in log space (wider ones), each with an a-posteriori relative
   error bound (about u for quadrature, up to ~1e-12 for a closed form; the relative
   error does not grow like 1/h). The head below the window and the tail above it are not
   represented (point 3), or the tail's A-mass goes to +infinity. Cells are one grid
   step wide where the tilted mass is and up to L0_MERGE steps elsewhere; this only
   changes which CTD (a spread whatever its cells) is taken.
   (b) Re-gridding (``regrid``) is CTD of a discrete measure, on integer positions (exact
   fractional offsets). (c) A cut either sends a tail's A-mass to +infinity (added to
   a_inf) or leaves head or tail out of the representation (point 3). (d) Convolution is
   exact composition. (e) Distinct mechanisms are combined (``_combine``) by re-gridding
   each onto a common spacing (b) and one product of spectra: a *circular* convolution,
   which in exact arithmetic equals the composition on its window plus the mass that
   wraps around (added mass: point 1); the mass outside the window is bounded by
   Chernoff from the exact exponential moments of the stored arrays and goes to D
   (point 3).
3. *What is not represented, and floating point.* Each stored PLD c (tilted,
   a_i = c_i e^{logZ - lam l_i}) satisfies, for the exact pessimistic measure t it stands
   for, t <= (c + d)/(1 - eta) entrywise with d >= 0, ||d||_1 <= D. eta collects the
   relative error bounds of the non-negative operations (CTD masses, direct convolution
   gamma_n, re-gridding coefficients); D collects the tilted mass of cut heads and tails
   (bounded in closed form at level 0, by Chernoff outside a combination's window) and
   the absolute error of FFT convolutions (a Higham-type bound, 48 u log2 M per
   transform in the 2-norm, generous against numpy's pocketfft; for a product of k
   spectra see ``_combine``; on a ``Grid.direct`` grid the heaviest windows of both
   factors are convolved directly and only the light remainders by FFT,
   ``_split_fft``, so a concentrated bulk does not pay the FFT's error). Under
   composition D_{A*B} <= D_A |c_B| + |c_A| D_B + D_A D_B
   (for k factors, S (prod (1 + D_j / s_j) - 1)), and re-gridding at spacing H
   multiplies it by at most e^{lam H}. A unit of tilted mass
   anywhere adds at most sup_w = e^{logZ - lam eps} (lam/(lam+1))^lam / (lam+1) to the
   profile, so
       delta(eps) <= [delta_c(eps)(1 + rel) + D sup_w] / (1 - eta) + a_inf,
   rel bounding the rounding of the positive sum delta_c. Bounds are in the standard
   model (unit roundoff 2^-53) and assume libm's exp/log/expm1/log1p/erfc within 4 ulp.
   eps(delta) is then the smallest eps at which this bound is <= delta, checked by a
   direct evaluation (never only by a root finder).
4. *Steering is not trusted.* The tilt lam, the grid spacing and the windows come from a
   merged (data-processing) PMF of one step (``_Mech``; for a ledger of many distinct
   mechanisms, one per group of nearby ones, ``_Ledger``), from the saddle-point
   steering estimate (``_Ledger.saddle_eps``) or from a previous pass; they change how
   tight the bound is, never its validity. The one decision that could: skipping the
   "qp" ordering, done only when a Chernoff bound
   exp(T K(lam) - lam eps) lam^lam/(lam+1)^(lam+1) is below delta, with K certified from
   the CTD PMF of one step (``_CertCGF``, point 5) -- for a group of mechanisms, of its
   dominating member, whose CGF bounds every member's by data processing (``_Ledger``) --
   at the lam the steering chose (a Chernoff bound holds at every lam), or for q = 1,
   where both orderings coincide.
5. *Fallback.* When the composed PLD cannot be certified (the rounding or cut terms take
   half of delta, eta > 1e-3, a grid that would be too large), or looks inaccurate, the
   RDP/Chernoff conversion (Balle et al. 2020, Thm 21) is computed as well, with the CGF
   bounded above by a certified CTD PMF of each step (``_CertCGF``: the spread makes
   sum a_j e^{lam l_j} an upper bound, head and tail bounded in closed form), and a
   total-variation bound for eps = 0; the smaller answer wins and ``route`` says which
   ("composed PLD" or "RDP fallback"). +inf only if no finite bound exists. (The
   quadrature CGF of ``pllr.cgf`` is not used for any bound: for negative arguments it
   can fall short of the true value by more than its nominal tolerance.)

Grid rule (research/certified.md section 3): re-gridding a PLD of ``count`` steps at
spacing h_u sqrt(count) adds at most ~h^2/6 of variance per level to the T-fold sum; a
variance increase dV (the spread keeps E_B e^L, so the A-mean of the loss rises by dV/2
with it) moves delta as an eps-shift of dV F / 2, F = -d/d eps log B(L > eps) the hazard
of the B-tail at eps (1 + the saddle-point tilt; at least 0.1), so
h_u = sqrt(12 r eps / (kappa n_lev T F)) (kappa = GRID_KAPPA = 1.3, calibrated on the truth
panel and random common-regime cases), and the composed spacing h_u sqrt(T) is at most
GRID_SD_CAP standard deviations of the tilted sum (near the mean loss, delta ~ 1, the rule
alone would allow a grid as coarse as the law). n_lev = sum_i (n_i / T)(log2 n_i + 5) over
the distinct mechanisms, plus 2 ceil(log2 k) for the pairwise merges of k of them; for a
ledger of many (``_Ledger.grouped``, combined at once by ``_combine``) plus 1 instead, and
L1_LEVELS for a mechanism used once (its level 0 is all there is). Pass 1 uses the
Chernoff eps and lam with r = 8 rtol, pass 2 the pass-1 eps, the Chernoff tilt at it and
the hazard measured on the pass-1 PLD. The error scales like h_u^2, so the two passes
estimate pass 2's own error (eps_1 - eps_2)/((h_1/h_2)^2 - 1); a third, finer pass runs
when that exceeds 0.8 rtol eps. For a ledger of many distinct mechanisms far from lattice
(sum n q >= SADDLE_RELIABLE) the saddle-point steering eps, 1 + its tilt as the hazard,
replaces pass 1 (each pass costs one level 0 per mechanism there). Every pass is a valid
bound; the smallest is returned.

delta(eps) (``delta_upper``) runs the same passes at a fixed eps, aiming at an eps-shift
of rtol eps: the error in delta is converted by G = -d log delta / d eps, measured on the
pass-1 PLD with the hazard. Below a floor (a quarter of the loss's standard deviation, at
most 0.1) every choice is made at the floor, so those eps read the same PLDs and delta is
non-increasing there exactly; above it, up to rtol (DESIGN.md section 2). The cut budgets
are scaled to the eps-shift where delta is flat (G small); "qp" is exactly 0 beyond its
largest loss sum n log(1/(1 - q)); each ordering falls back to its RDP bound on its own,
and the answer is at most the total-variation bound delta(0).

Deficit-dominated passes (tiny q, delta < 1e-10): the tail above eps is then rare jumps,
far from where the tilt puts the mass, so the estimate that set the cut budgets can be
orders of magnitude above the truth and the FFT's absolute error can swamp delta. A delta
pass whose deficit terms make most of its delta is rerun (``_deficit_retry``) with cut
budgets for its represented part and on a direct grid; an eps pass that is not certified
because of the FFT's error is rerun on a direct grid; a later pass whose grid would be too
large takes a milder tilt. (q = 1.5e-4, sigma = 1.58, T = 5229, eps = 0.042: delta
1.29e-9 -> 1.04e-10, dp_accounting 1.0e-10; q = 1.1e-4, sigma = 0.91, T = 5519,
delta = 1e-10: eps 1.401 by RDP -> 0.13818, dp_accounting 0.13807.)

Lower bound (``epsilon_lower``): the data-processing (merge) counterpart. One step's
outcomes are merged into loss bins, each bin keeping its A- and B-mass; every composed pair
of bins is merged again, into the bin of its loss (small grids, ``conv_bins``) or into the
bin of its index sum (large grids: a plain convolution, by FFT); coarsening merges bins by
their loss. All of these are post-processings, whose hockey-stick divergence
sum_i (A_i - e^eps B_i)_+ is below the true one; dropped outcomes lower it further; and the
arrays carry certified lower bounds of A and upper bounds of B (rounding and FFT errors
absorbed), so the eps read off is a certified lower bound -- about rtol below the truth
on the same grid as the upper bound.

Usage
-----
>>> from ewaccount import certified
>>> steps = [(0.01, 1 / 4.0, 10000)]            # (sample rate, 1/sigma, steps)
>>> up = certified.epsilon_upper(steps, 1e-5)   # truth 0.94687 (prv_accountant, PLD)
>>> lo = certified.epsilon_lower(steps, 1e-5, upper=up)
>>> lo < 0.94687 < up.value < 0.94687 * 1.005, up.route
(True, 'composed PLD')
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ._kernels import pld

U = 2.0 ** -53
LN2 = math.log(2.0)
DEFAULT_RTOL = 0.005
CUT_SHARE = 1e-4          # share of delta for the mass dropped by all cuts (via D sup_w)
FP_SHARE = 1e-3           # deficit and rounding terms above this share of delta: not certified
MAX_BINS = 1 << 21        # a grid larger than this is not attempted (route: RDP)
FFT_MIN = 150_000         # direct convolution below this many products
DIRECT_MAX = 1 << 24      # ... or below this many on a grid asking for it (Grid.direct; ~2 ms)
SPECTRAL_EXACT = 1 << 14  # a combination with at most this many bins needs no window
SPECTRAL_BATCH = 32       # spectra transformed per call in a combination
L0_MERGE = 32             # level-0 cells up to this many grid steps where the tilted mass is small
L0_VAR_BUDGET = 0.5       # ... adding at most this share to level 0's spread variance
PASS1_FACTOR = 8.0        # pass 1 (steering) runs at this multiple of rtol
PASS1_RETRIES = 4         # ... and is retried (half the eps and a milder tilt, or a coarser grid) this often
SADDLE_RELIABLE = 5.0     # sum n q from which the saddle-point steering replaces pass 1
SADDLE_PASS_R = 0.6       # ... and the single pass aims at this share of rtol (no error check)
DELTA_PASS_R = 0.6        # a delta query's pass 2 aims at this share of rtol ...
DELTA_EPS_FLOOR = 0.25    # ... with its grids chosen at least at eps = this many sd of the loss
DELTA_EPS_FLOOR_MAX = 0.1  # ... (at most this eps)
DELTA_CUT_SHIFT = 0.1     # ... and its cuts take at most this share of that eps-shift
DEFICIT_SHARE = 0.5       # a delta pass whose cuts make more than this share of it ...
DEFICIT_CUT = 1e-6        # ... is rerun with budgets for this multiple of its delta
DEFICIT_RETRIES = 4       # ... this often
L1_LEVELS = 1.5         # error-model levels of a mechanism used once: level 0 (+ L0_VAR_BUDGET)
GRID_SD_CAP = 0.125       # the composed spacing at most this many sd of the tilted sum
GRID_KAPPA = 1.3          # calibration of the error model (h_u^2 divided by it)
CACHE_SIZE = 4096          # distinct (q, sigma, ordering) steering PMFs and chains kept
CHAIN_BYTES_MAX = 1 << 30  # ... the chains' levels taking at most this many bytes
CERT_BYTES_MAX = 1 << 28   # ... and the certified CGFs' PMFs at most this many
STEER_GROUP_MIN = 32      # ledgers with more distinct mechanisms are steered from groups
STEER_GROUP_WIDTH = 2.0 ** -7     # width of a steering group in log q and in log mu
ORDERINGS = ("pq", "qp")


# ---------------------------------------------------------------------------------------
# small helpers

def _chernoff_const(lam: float) -> float:
    """log of max_{x>0} e^{-lam x}(1 - e^{-x}) = log(lam^lam / (lam+1)^(lam+1))."""
    return lam * math.log(lam) - (lam + 1.0) * math.log1p(lam)


def _pow2_floor(x: float) -> float:
    return 2.0 ** math.floor(math.log2(x)) if x > 0.0 else 2.0 ** -1074


def _norm2(x: np.ndarray) -> float:
    """Euclidean norm without BLAS (a threaded BLAS ddot can be a thousand times slower on
    a loaded machine); rounded up."""
    return math.sqrt(float(np.einsum("i,i->", x, x))) * (1.0 + len(x) * U + 4 * U)


def _exp(x: float) -> float:
    return math.exp(x) if x > -745.0 else 0.0


class NotCertified(ArithmeticError):
    """The composed PLD cannot be certified on this grid (the caller falls back to RDP)."""


class _LRU(OrderedDict):
    """A small thread-safe LRU cache (values are built outside the lock), of at most
    CACHE_SIZE entries and, with ``max_bytes``, at most that many bytes of the values'
    ``nbytes`` (a value that grows after it is cached, a chain, reports what it adds
    through ``charge``)."""

    def __init__(self, max_bytes: float = math.inf) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.max_bytes, self.bytes = max_bytes, 0

    def get_or(self, key, make):
        with self._lock:
            if key in self:
                self.move_to_end(key)
                return self[key]
        v = make()
        with self._lock:
            if key in self:
                return self[key]
            self[key] = v
            self.bytes += getattr(v, "nbytes", 0)
            self._shrink()
        return v

    def charge(self, v, n: int) -> None:
        """``v`` (cached or evicted) grew by n bytes."""
        with self._lock:
            v.nbytes += n
            if not getattr(v, "evicted", False):
                self.bytes += n
                self._shrink()

    def _shrink(self) -> None:
        """Evict the least recently used entries while over a bound (lock held; the newest
        entry is kept)."""
        while len(self) > 1 and (len(self) > CACHE_SIZE or self.bytes > self.max_bytes):
            _, v = self.popitem(last=False)
            self.bytes -= getattr(v, "nbytes", 0)
            if hasattr(v, "evicted"):
                v.evicted = True

    def clear(self) -> None:
        """Empty the cache (the caller holds the lock: ``clear_caches``)."""
        for v in self.values():
            if hasattr(v, "evicted"):
                v.evicted = True
        super().clear()
        self.bytes = 0


_COARSE = _LRU()
_CHAINS = _LRU(CHAIN_BYTES_MAX)     # (without the bounds, a calibration fuzz filled 24 GB)
_CERTS = _LRU(CERT_BYTES_MAX)
_LEDGERS = _LRU()


# ---------------------------------------------------------------------------------------
# a stored PLD

class _OnGrid:
    """Grid geometry shared by :class:`Block` and :class:`Bins`: cell i sits at
    (off + i step) q0, so the first point is ``o`` and the spacing ``h``."""

    off: int
    step: int
    q0: float

    @property
    def o(self) -> float:
        return self.off * self.q0

    @property
    def h(self) -> float:
        return self.step * self.q0


@dataclass
class Block(_OnGrid):
    """A tilted PLD on the integer grid (off + i step) q0: A-masses
    a_i = c_i exp(logZ - lam l_i), an A-mass ``inf`` at +infinity (an upper bound), and
    the error track t <= (c + d)/(1 - eta), ||d||_1 <= D (section 3): d holds whatever is
    not represented (cut heads and tails, FFT error); ``fp``, the FFT error's part of D
    (propagated alike; it only steers what a retry changes)."""

    c: np.ndarray
    off: int
    step: int
    q0: float
    lam: float
    logZ: float
    count: int
    inf: float = 0.0
    eta: float = 0.0
    D: float = 0.0
    fp: float = 0.0

    def copy(self) -> "Block":
        return Block(self.c.copy(), self.off, self.step, self.q0, self.lam, self.logZ,
                     self.count, self.inf, self.eta, self.D, self.fp)

    def mass(self) -> float:
        return float(np.sum(self.c))

    def scale(self, f: float) -> None:
        self.c *= f
        self.D *= f
        self.fp *= f

    def absorb(self, rel: float) -> None:
        """Absorb a relative error ``rel`` of the entries into the track."""
        self.eta += rel


def _normalise(x) -> None:
    """Scale a :class:`Block` or :class:`Bins` by a power of two so that its (A-)mass is in
    [1/2, 1), exactly; logZ takes the factor (its rounding is absorbed)."""
    s = x.mass()
    if s <= 0.0:
        return
    e = math.frexp(s)[1]
    x.scale(2.0 ** (-e))
    x.logZ += e * LN2
    x.absorb(4.0 * U * (abs(x.logZ) + 1.0))


def _convolve(a: Block, b: Block, direct: bool = False) -> Block:
    """Composition of two PLDs on the same spacing, with the error tracks: direct (relative
    errors only) up to FFT_MIN products, else by FFT, whose absolute error goes to D. With
    ``direct`` (Grid.direct), up to DIRECT_MAX products directly, and beyond that the
    heaviest windows are convolved directly (:func:`_split_fft`)."""
    if a.step != b.step or a.q0 != b.q0 or a.lam != b.lam:
        raise ValueError("blocks must share spacing and tilt")
    na, nb = len(a.c), len(b.c)
    sa, sb = float(np.sum(a.c)), float(np.sum(b.c))
    D = a.D * sb + sa * b.D + a.D * b.D
    fp = a.fp * sb + sa * b.fp + a.fp * b.D
    if na * nb <= (DIRECT_MAX if direct else FFT_MIN) or min(na, nb) < 64:
        out = np.empty(na + nb - 1)
        pld.conv(a.c, b.c, out)
        eta = a.eta + b.eta + 1.01 * (min(na, nb) + 2) * U
    else:
        out, err, rel = _split_fft(a.c, b.c, DIRECT_MAX if direct else 0)
        D, fp = D + err, fp + err
        eta = a.eta + b.eta + rel
    return Block(out, a.off + b.off, a.step, a.q0, a.lam, a.logZ + b.logZ, a.count + b.count,
                 a.inf + b.inf, eta + 4.0 * U * (abs(a.logZ) + abs(b.logZ)), D, fp)


def _heavy_window(c: np.ndarray, m: int) -> tuple[int, int]:
    """[i0, i0 + m): the window of m entries of c holding the most mass."""
    if m >= len(c):
        return 0, len(c)
    cs = np.concatenate(([0.0], np.cumsum(c)))
    i0 = int(np.argmax(cs[m:] - cs[:-m]))
    return i0, i0 + m


def _split_fft(a: np.ndarray, b: np.ndarray, budget: int) -> tuple[np.ndarray, float, float]:
    """(a * b, its absolute error bound for D, its relative error for eta) for non-negative
    a, b. The FFT's error bound is u (48 log2 M + 16)(||a||_2 |b|_1 + |a|_1 ||b||_2) sqrt(M)
    (Higham-type, in the 1-norm; generous against numpy's pocketfft), so a concentrated
    bulk with a light wide tail (tiny q: the rare jumps) pays for its bulk. With a
    ``budget`` of products, a = a_w + a_r and b = b_w + b_r (a_w, b_w the heaviest windows
    of budget / (2 len) entries) and a * b = a_w * b + a_r * b_w (direct: relative errors
    only) + a_r * b_r (FFT: the error scales with the light remainders)."""
    na, nb = len(a), len(b)
    M = 1 << (na + nb - 2).bit_length()
    out = np.zeros(na + nb - 1)
    rel = 8.0 * U
    a_r, b_r = a, b
    ma, mb = min(na, budget // (2 * nb)), min(nb, budget // (2 * na))
    if ma >= 1 and mb >= 1:
        (a0, a1), (b0, b1) = _heavy_window(a, ma), _heavy_window(b, mb)
        part = np.empty(a1 - a0 + nb - 1)
        pld.conv(a[a0:a1], b, part)
        out[a0:a0 + len(part)] += part
        a_r = a.copy()
        a_r[a0:a1] = 0.0
        part = np.empty(na + b1 - b0 - 1)
        pld.conv(a_r, b[b0:b1], part)
        out[b0:b0 + len(part)] += part
        if b is a:                      # a square: the same windows, one remainder
            b_r = a_r
        else:
            b_r = b.copy()
            b_r[b0:b1] = 0.0
        rel += 1.01 * (min(max(ma, mb), min(na, nb)) + 2) * U + 2.0 * U
    sa, sb = float(np.sum(a_r)), float(np.sum(b_r))
    if sa <= 0.0 or sb <= 0.0:
        return out, 0.0, rel
    with np.errstate(all="ignore"):
        za = np.fft.rfft(a_r, M)
        zb = za if b_r is a_r else np.fft.rfft(b_r, M)      # a square: one transform
        fft = np.fft.irfft(za * zb, M)[:na + nb - 1]
    if not np.all(np.isfinite(fft)):
        raise NotCertified("non-finite convolution")
    np.maximum(fft, 0.0, out=fft)
    # ||error||_2 <= u (48 log2 M + 16)(||a||_2 ||b||_1 + ||a||_1 ||b||_2), ||.||_1 <= sqrt(M) ||.||_2
    e2 = U * (48.0 * math.log2(M) + 16.0) * (_norm2(a_r) * sb + sa * _norm2(b_r))
    out += fft
    # (a share of the bound: whatever is zeroed goes to D, so the threshold changes
    # tightness, not validity)
    return out, math.sqrt(M) * e2 + _clear_noise_ends(out, e2 / 64.0), rel


def _clear_noise_ends(out: np.ndarray, noise: float) -> float:
    """Zero the leading and trailing runs of entries at most ``noise`` (a share of the FFT's
    error bound: rounding noise where the true values are far smaller, which would keep
    every later cut from shrinking the window: 222,071 bins instead of 147 at q = 0.1,
    sigma = 2, T = 1e5) and return their sum, for the deficit D."""
    big = np.flatnonzero(out > noise)
    if len(big) == 0:
        return 0.0
    j0, j1 = int(big[0]), int(big[-1])
    dropped = float(np.sum(out[:j0])) + float(np.sum(out[j1 + 1:]))
    out[:j0] = 0.0
    out[j1 + 1:] = 0.0
    return dropped * (1.0 + len(out) * U)


def _cut(b: Block, log_tau: float, log_b: float) -> None:
    """Drop the head (tilted mass <= e^{log_tau} of the total: into the deficit D) and the
    tail, by the cheaper route: into D (tilted mass <= e^{log_tau}) or to +infinity (its
    A-mass <= e^{log_b}, added to ``inf``). The exact measure keeps what D holds."""
    buf = np.empty(4)
    j0, j1 = pld.cut_window(b.c, b.o, b.h, b.logZ, b.lam, log_tau, log_b, buf)
    if j0 > 0 or j1 < len(b.c) - 1:
        b.c = b.c[j0:j1 + 1].copy()
        b.off += j0 * b.step
        b.D += float(buf[0])
        if buf[3] > 0.0:
            b.inf += float(buf[2]) / (1.0 - b.eta) * (1.0 + 4.0 * U)
        else:
            b.D += float(buf[1])


def _squash(b: Block, g: "Grid", step2: int) -> None:
    """_normalise, _cut and _regrid in one kernel call (``_pld.squash``), same tracks."""
    if step2 != b.step and b.lam * step2 * b.q0 > 30.0:
        raise NotCertified("the grid is too coarse for the tilt (lam h > 30)")
    lc = math.log(b.count)
    info = np.empty(8)
    out = pld.squash(b.c, b.off, b.step, b.q0, b.lam, b.logZ, g.log_tau_unit + lc, g.log_b_unit + lc,
                     step2, info)
    e = int(info[0])
    scale = 2.0 ** (-e)
    b.D *= scale
    b.fp *= scale
    b.logZ += e * LN2
    b.eta += 4.0 * U * (abs(b.logZ) + 1.0)
    b.D += float(info[2])
    if info[5] > 0.0:
        b.inf += float(info[4]) / (1.0 - b.eta) * (1.0 + 4.0 * U)
    else:
        b.D += float(info[3])
    if step2 != b.step:
        b.D *= math.exp(b.lam * step2 * b.q0)
        b.fp *= math.exp(b.lam * step2 * b.q0)
        b.eta += float(info[6])
    b.c, b.off, b.step = out, int(info[1]), step2


def _regrid(b: Block, step2: int) -> None:
    """Pessimistic CTD onto the coarser spacing step2 (in place)."""
    if step2 == b.step:
        return
    if b.lam * step2 * b.q0 > 30.0:
        raise NotCertified("the grid is too coarse for the tilt (lam h > 30)")
    lo = (b.off // step2) * step2
    top = b.off + (len(b.c) - 1) * b.step
    n2 = (top - lo) // step2 + 2
    out = np.empty(n2)
    e = pld.regrid(b.c, b.off, b.step, lo, step2, b.q0, b.lam, out)
    # the spread's tilted l1 growth bounds how the deficit grows
    b.D *= math.exp(b.lam * step2 * b.q0)
    b.fp *= math.exp(b.lam * step2 * b.q0)
    b.c, b.off, b.step = out, lo, step2
    b.eta += e
    while len(b.c) > 1 and b.c[-1] == 0.0:
        b.c = b.c[:-1]


# ---------------------------------------------------------------------------------------
# one mechanism: the coarse PMF used for steering and for the Chernoff skip

class _Mech:
    """Steering data of one (q, mu) and ordering: a merged (data-processing) PMF of one step
    on ~1000 cells, whose CGF K_s(lam) is within a hair of the true one (below it) and
    costs microseconds. It steers the tilt and the grid; it is never used as a bound."""

    def __init__(self, q: float, mu: float, ordering: int) -> None:
        self.q, self.mu, self.ordering = q, mu, ordering
        self.gauss = q >= 1.0
        self._memo: dict = {}
        if self.gauss:
            return
        lo, hi = pld.level0_window(q, mu, ordering, 0.0, 0.0, 0.0, max(mu, 0.05), -150.0, -150.0, 1e-3)
        if ordering == 0:
            lo = max(lo, math.log1p(-q) - 1e-3)
        # cells: 400 across the window, and 192 across the bulk (no-jump part, width
        # ~ q sqrt(e^{mu^2} - 1)), which a coarse cell would smear at large tilts
        sd = min(mu, q * math.sqrt(math.expm1(min(mu * mu, 50.0))))
        fine = np.linspace(-12.0 * sd, 12.0 * sd, 97)
        edges = np.union1d(np.linspace(lo, hi, 201), fine[(fine > lo) & (fine < hi)])
        self.pos, mass = np.empty(len(edges) - 1), np.empty(len(edges) - 1)
        pld.merged_pmf(q, mu, ordering, edges, self.pos, mass)
        with np.errstate(divide="ignore"):
            self.lmass = np.log(mass)
        self.top = float(edges[-1])

    def _k(self, lam: float) -> tuple[float, float, float]:
        buf = np.empty(3)                   # per call: queries may run in threads
        pld.pmf_cgf(self.pos, self.lmass, lam, buf)
        return float(buf[0]), float(buf[1]), float(buf[2])

    def K(self, lam: float) -> tuple[float, float, float]:
        """(K, K', K'') of the one-step A-PLD at tilt lam (closed form for q = 1). For "pq"
        the tilted mass beyond the PMF's window (the jump bump near (lam+1) mu^2 + log q,
        which dominates at large lam) is added from its closed-form bound. Memoised (a
        steering group's members ask for the same lam)."""
        v = self._memo.get(lam)
        if v is None:
            v = self._memo[lam] = self._K(lam)
            if len(self._memo) > 256:
                self._memo.clear()
        return v

    def _K(self, lam: float) -> tuple[float, float, float]:
        if self.gauss:
            m2 = self.mu * self.mu
            return 0.5 * lam * (lam + 1.0) * m2, (lam + 0.5) * m2, m2
        k = self._k(lam)
        if self.ordering == 1:
            return k
        t0 = pld.log_tilted_tail(self.q, self.mu, 0, self.top, lam, 0.0)
        if t0 < k[0] - 35.0:
            return k
        # K = log(e^k + e^t): the tail's derivatives by central differences
        d = 1e-4 * max(lam, 1e-2)
        tp = pld.log_tilted_tail(self.q, self.mu, 0, self.top, lam + d, 0.0)
        tm = pld.log_tilted_tail(self.q, self.mu, 0, self.top, lam - d, 0.0)
        t1, t2 = (tp - tm) / (2 * d), (tp - 2 * t0 + tm) / (d * d)
        K = float(np.logaddexp(k[0], t0))
        w = math.exp(t0 - K)
        m = (1 - w) * k[1] + w * t1
        v = (1 - w) * (k[2] + (k[1] - m) ** 2) + w * (max(t2, 0.0) + (t1 - m) ** 2)
        return K, m, max(v, 1e-300)

    def K_upper(self, lam: float, fine: bool = True) -> float:
        """A certified upper bound of the true one-step CGF at lam > 0 (``_CertCGF``;
        closed form for q = 1)."""
        return _k_upper(self.q, self.mu, self.ordering, lam, fine, self)


class _CertCGF:
    """A certified upper bound of one step's CGF K(lam) = log int e^{lam L} dA near a tilt
    lam0, from the pessimistic CTD PMF (``_pld.level0``): CTD is a spread of e^L under B,
    and y^(1+lam) is convex, so the PMF's sum a_j e^{lam l_j} bounds int e^{lam L} dA above
    (the slivers moved up only add), up to its relative error eta; the head below the
    window adds at most e^{lam l_0} A(head) and the tail above it is bounded in closed
    form. It does not rely on the quadrature CGF (whose values for negative arguments
    are not always accurate to its nominal tolerance)."""

    def __init__(self, q: float, mu: float, ordering: int, lam0: float, fine: bool, steer: "_Mech") -> None:
        self.q, self.mu, self.ordering, self.lam0 = q, mu, ordering, lam0
        K, K1, K2 = steer.K(lam0)
        sd = math.sqrt(max(K2, 1e-300))
        lo, hi = pld.level0_window(q, mu, ordering, lam0, K, K1, max(sd, 1e-9), -45.0, -math.inf,
                                   max(sd, 1e-9) * 1e-3)
        div, cap = (8.0, 50_000.0) if fine else (2.0, 2_000.0)
        h = _pow2_floor(max(min(sd / div, (hi - lo) / 64.0), (hi - lo) / cap))
        self.o = math.floor(lo / h) * h
        n = int(math.ceil((hi - self.o) / h)) + 2
        self.h, self.shift = h, K
        self.c = np.empty(n)
        lh, lt, _, eta = pld.level0(q, mu, ordering, self.o, h, lam0, K, L0_MERGE, L0_VAR_BUDGET, self.c)
        self.eta = eta
        self.lhead = lh - lam0 * self.o            # + lam l_0 at any lam
        self.top = self.o + (n - 1) * h - h        # the tail region lies above this loss
        self.l = self.o + h * np.arange(n)
        self.ok = bool(np.all(np.isfinite(self.c))) and eta < 1e-6
        self.nbytes = self.c.nbytes + self.l.nbytes     # (the cache's byte bound)

    def K(self, lam: float) -> float:
        if not self.ok or lam <= 0.0:
            return math.inf
        with np.errstate(all="ignore"):       # overflow: +inf, no bound (returned as such)
            w = self.c * np.exp((lam - self.lam0) * self.l)
            total = float(np.sum(w))
        span = abs(self.o) + len(w) * self.h
        s = total * (1.0 + self.eta + (len(w) + 8) * 4.0 * U * (1.0 + abs(lam - self.lam0) * span))
        lh = self.lhead + lam * self.o
        lt = pld.log_tilted_tail(self.q, self.mu, self.ordering, self.top, lam, self.shift)
        if lh > 700.0 or lt > 700.0:
            return math.inf
        head = math.exp(lh) if lh > -math.inf else 0.0
        tail = math.exp(lt) if lt > -math.inf else 0.0
        tot = s + head + tail
        if not (tot > 0.0 and math.isfinite(tot)):
            return math.inf
        return self.shift + math.log(tot) + 8.0 * U * (abs(self.shift) + 1.0)


def _k_upper(q: float, mu: float, ordering: int, lam: float, fine: bool, steer: "_Mech") -> float:
    """A certified upper bound of one step's CGF at lam > 0: closed form for q = 1, else
    the certified CGF PMF (``_CertCGF``) built at lam bucketed to a power of 2^(1/8), its
    grid steered by ``steer`` (part of the cache key); ``fine=False``: a cheap coarse one
    (looser)."""
    if q >= 1.0:
        return 0.5 * lam * (lam + 1.0) * mu * mu
    lb = 2.0 ** (round(8.0 * math.log2(max(lam, 1e-6))) / 8.0)
    cert = _CERTS.get_or((q, mu, ordering, lb, fine, steer.q, steer.mu),
                         lambda: _CertCGF(q, mu, ordering, lb, fine, steer))
    return cert.K(lam)


def _mech(q: float, mu: float, ordering: int) -> _Mech:
    return _COARSE.get_or((q, mu, ordering), lambda: _Mech(q, mu, ordering))


class _Ledger:
    """Distinct (q, mu, count) of a ledger and the summed steering CGF of one ordering.

    A ledger of more than STEER_GROUP_MIN distinct mechanisms is steered from groups: the
    mechanisms whose log q and log mu fall in the same cell of width STEER_GROUP_WIDTH share
    one steering PMF, of the count-weighted geometric mean (q, mu) of the group, so the
    summed steering CGF is off by second-order terms only (steering is never trusted).
    Certified CGF bounds (the "qp" skip, the RDP fallback) use the group's *dominating*
    member instead, the largest q and the largest mu: Poisson subsampling at a rate
    q <= q' is a post-processing of subsampling at q' (keep each sampled example with
    probability q/q': N(0,1) -> N(0,1), N(mu,1) -> (1 - q/q') N(0,1) + (q/q') N(mu,1)),
    and a Gaussian shift mu <= mu' is a post-processing of mu' (x -> (mu/mu') x +
    sqrt(1 - (mu/mu')^2) z), in both orderings, so the dominating member's K(lam) bounds
    every member's (Renyi divergences satisfy data processing)."""

    def __init__(self, steps, ordering: int) -> None:
        self.steps = [(float(q), float(mu), int(n)) for q, mu, n in steps]
        self.ordering = ordering
        self.T = sum(n for _, _, n in self.steps)
        self.grouped = len(self.steps) > STEER_GROUP_MIN
        member, reps, self.bounding, self.weights = _groups(tuple(self.steps))
        self.mechs = [_mech(q, mu, ordering) for q, mu in reps]
        self.steer = [self.mechs[g] for g in member]     # the steering PMF of each mechanism

    def K(self, lam: float) -> tuple[float, float, float]:
        k = k1 = k2 = 0.0
        for m, n in zip(self.mechs, self.weights):
            a, b, c = m.K(lam)
            k += n * a
            k1 += n * b
            k2 += n * c
        return k, k1, k2

    def K_upper(self, lam: float, fine: bool = True) -> float:
        """A certified upper bound of the ledger's CGF sum n_i K_i(lam), lam > 0 (from the
        dominating member of each steering group)."""
        k = 0.0
        for (q, mu, n), m in zip(self.bounding, self.mechs):
            k += n * _k_upper(q, mu, self.ordering, lam, fine, m)
            if not math.isfinite(k):
                return math.inf
        return k

    def chernoff_eps(self, delta: float) -> tuple[float, float]:
        """min over lam of (T K(lam) + log c(lam) - log delta) / lam and its argmin, from
        the steering CGF. With G = T K + log c, the minimiser solves
        h(lam) = lam G'(lam) - G(lam) + log delta = 0, h' = lam G'' > 0, and the minimum is
        G'(lam)."""
        ld = math.log(delta)

        def h(lam):
            k, k1, k2 = self.K(lam)
            g, g1, g2 = k + _chernoff_const(lam), k1 + math.log(lam / (1.0 + lam)), k2 + 1.0 / (lam * (1.0 + lam))
            return lam * g1 - g + ld, lam * g2, g1

        lam, extra = _root_log(h)
        return extra, lam

    def chernoff_lam(self, eps: float) -> float:
        """The lam that minimises the Chernoff bound T K(lam) - lam eps + log c(lam) on delta
        at eps (its derivative is increasing)."""
        return _root_log(self._gprime(eps))[0]

    def _gprime(self, eps: float):
        def f(lam):
            k, k1, k2 = self.K(lam)
            return k1 - eps + math.log(lam / (1.0 + lam)), k2 + 1.0 / (lam * (1.0 + lam)), k
        return f

    def chernoff_log_delta(self, eps: float, upper: bool = True, upper_target: float = -math.inf) -> float:
        """log of min over lam of exp(T K(lam) - lam eps) c(lam): the argmin from the
        steering CGF, and when ``upper`` its value from the certified K_upper (a Chernoff
        bound holds at every lam, so a steered lam is as valid as the optimal one)."""
        lam, k = _root_log(self._gprime(eps))
        if not upper:
            return k - lam * eps + _chernoff_const(lam)
        # a coarse certified CGF first (cheap, looser), the fine one only if that is needed
        v = self.K_upper(lam, fine=False) - lam * eps + _chernoff_const(lam)
        if v <= upper_target:
            return v
        return min(v, self.K_upper(lam) - lam * eps + _chernoff_const(lam))

    def saddle_eps(self, delta: float) -> tuple[float, float]:
        """A steering *estimate* of eps(delta) and its tilt: the leading term of the
        Lugannani-Rice (Bahadur-Rao) expansion of delta = E_A[(1 - e^{eps - S})_+] around
        the tilt lam with K'(lam) = eps,
            delta ~ exp(K(lam) - lam eps) / (lam (lam + 1) sqrt(2 pi K''(lam))),
        (the tilted density at eps times int_0^inf e^{-lam y}(1 - e^{-y}) dy). Within about
        1% of the truth where the sum is far from lattice (sum n q >= 5); steering and the
        start of noise calibration only."""
        ld = math.log(delta)

        def f(lam):     # increasing in lam; root: the estimate's tilt
            k, k1, k2 = self.K(lam)
            v = ld - _saddle_log_delta(lam, k1, (k, k1, k2))
            return v, lam * k2 + (2.0 * lam + 1.0) / (lam * (lam + 1.0)), k1

        lam, eps = _root_log(f)
        return eps, lam

    def saddle_lam(self, eps: float, lam_guess: float = 1.0) -> float:
        """lam with K'(lam) = eps (the tilt that centres the composed PLD at eps)."""
        def f(lam):
            k, k1, k2 = self.K(lam)
            return k1 - eps, k2, k
        return _root_log(f)[0]


def _saddle_log_delta(lam: float, eps: float, K: tuple[float, float, float]) -> float:
    """log of the leading Lugannani-Rice term exp(K(lam) - lam eps) / (lam (lam + 1)
    sqrt(2 pi K''(lam))) of delta at eps (``_Ledger.saddle_eps``), K = (K, K', K'') at lam."""
    k, _, k2 = K
    return k - lam * eps - math.log(lam * (lam + 1.0)) - 0.5 * math.log(2.0 * math.pi * max(k2, 1e-300))


def clear_caches() -> None:
    """Forget every cached steering PMF, certified CGF, ledger and chain (benchmarks of
    cold queries, tests that switch kernels)."""
    for c in (_COARSE, _CHAINS, _CERTS, _LEDGERS):
        with c._lock:
            c.clear()


def _groups(steps: tuple) -> tuple:
    """(member, reps, bounding, weights) of the steering groups of :class:`_Ledger`: the
    group of each mechanism, each group's representative (q, mu), dominating (q, mu,
    count) and count. Cached (shared by both orderings)."""
    def make():
        if len(steps) <= STEER_GROUP_MIN:
            return (list(range(len(steps))), [(q, mu) for q, mu, _ in steps], list(steps),
                    [n for _, _, n in steps])
        cells: dict = {}
        for i, (q, mu, _) in enumerate(steps):
            cells.setdefault((round(math.log(q) / STEER_GROUP_WIDTH),
                              round(math.log(mu) / STEER_GROUP_WIDTH)), []).append(i)
        member = [0] * len(steps)
        reps, bounding, weights = [], [], []
        for g, idx in enumerate(cells.values()):
            n = sum(steps[i][2] for i in idx)
            lq = sum(steps[i][2] * math.log(steps[i][0]) for i in idx) / n
            lmu = sum(steps[i][2] * math.log(steps[i][1]) for i in idx) / n
            reps.append((min(math.exp(lq), 1.0), math.exp(lmu)))
            bounding.append((max(steps[i][0] for i in idx), max(steps[i][1] for i in idx), n))
            weights.append(n)
            for i in idx:
                member[i] = g
        return member, reps, bounding, weights
    return _LEDGERS.get_or(("groups", steps), make)


def _ledger(steps, ordering: int) -> _Ledger:
    """The (cached) :class:`_Ledger` of ``steps`` and one ordering."""
    key = (tuple((float(q), float(mu), int(n)) for q, mu, n in steps), ordering)
    return _LEDGERS.get_or(key, lambda: _Ledger(key[0], ordering))


def _root_log(f, lo: float = 1e-4, hi: float = 1e5, rtol: float = 1e-6) -> tuple[float, float]:
    """Root of an increasing f(lam) (f returns (value, derivative, extra)) by Newton steps
    in lam safeguarded by bisection in log lam; returns (lam, extra at lam). The ends of
    [lo, hi] are returned when f has no sign change (the tilt is steering only)."""
    flo = f(lo)
    if flo[0] >= 0.0:
        return lo, flo[2]
    fhi = f(hi)
    if fhi[0] <= 0.0:
        return hi, fhi[2]
    a, b = math.log(lo), math.log(hi)
    x = math.sqrt(lo * hi) if lo > 0 else 1.0
    x = 1.0 if lo < 1.0 < hi else x
    v = f(x)
    for _ in range(100):
        if v[0] > 0.0:
            b = math.log(x)
        else:
            a = math.log(x)
        nx = x - v[0] / v[1] if v[1] > 0.0 else -1.0
        if not (math.exp(a) < nx < math.exp(b)):
            nx = math.exp(0.5 * (a + b))
        if abs(nx - x) <= rtol * x or b - a < 1e-12:
            x = nx
            v = f(x)
            break
        x = nx
        v = f(x)
    return x, v[2]


# ---------------------------------------------------------------------------------------
# the composition

@dataclass(frozen=True)
class Grid:
    """Tilt and grid of one pass: lam, the level-0 spacing K0 q0, and the per-step budgets."""

    lam: float
    q0: float
    K0: int
    log_tau_unit: float      # tilted mass (relative) each cut may drop, per step, log
    log_b_unit: float        # A-mass an upper cut may send to +infinity, per step, log
    direct: bool = False     # convolve directly up to DIRECT_MAX products (no absolute error)

    def step(self, count: int) -> int:
        return max(1, int(self.K0 * math.sqrt(count)))

    @property
    def key(self) -> tuple:
        """The fields as a plain tuple (hashes faster than the dataclass)."""
        return (self.lam, self.q0, self.K0, self.log_tau_unit, self.log_b_unit, self.direct)


def make_grid(lam: float, hu: float, tau_unit: float, b_unit: float, direct: bool = False) -> Grid:
    """Bucketed grid: lam to a power of 2^(1/4), h_u down to a power of sqrt 2, the cut
    budget down to a power of two, so that nearby queries share chains."""
    lam_b = 2.0 ** (round(4.0 * math.log2(lam)) / 4.0)
    hb = 2.0 ** (math.floor(2.0 * math.log2(hu)) / 2.0)
    q0 = 2.0 ** (math.floor(math.log2(hb)) - 6)
    K0 = int(round(hb / q0))
    return Grid(lam_b, q0, K0, math.log(_pow2_floor(tau_unit)), math.log(_pow2_floor(b_unit)), direct)


class _Chain:
    """Binary-squaring chain of one mechanism: level k is the PLD of 2^k steps, built on
    demand and cached (one chain serves every T on the same grid)."""

    def __init__(self, q: float, mu: float, ordering: int, g: Grid, steer: "_Mech") -> None:
        self.q, self.mu, self.ordering, self.g, self.steer = q, mu, ordering, g, steer
        self.levels: list[Block] = []
        self.failed = ""
        self.nbytes, self.evicted = 0, False      # (the chain cache's byte bound)
        self._lock = threading.Lock()

    def level(self, k: int) -> Optional[Block]:
        with self._lock:
            return self._level(k)

    def _level(self, k: int) -> Optional[Block]:
        while len(self.levels) <= k:
            if self.failed:
                return None
            try:
                b = self._level0() if not self.levels else self._square(self.levels[-1])
            except (NotCertified, ArithmeticError, ValueError) as err:
                self.failed = str(err) or type(err).__name__
                return None
            if b is None:
                return None
            self.levels.append(b)
            _CHAINS.charge(self, b.c.nbytes)
        return self.levels[k]

    def _level0(self) -> Optional[Block]:
        g, q, mu = self.g, self.q, self.mu
        K, K1, K2 = self.steer.K(g.lam)
        h = g.K0 * g.q0
        lo, hi = pld.level0_window(q, mu, self.ordering, g.lam, K, K1, max(math.sqrt(K2), h),
                                   g.log_tau_unit, g.log_b_unit, 0.25 * h)
        off = math.floor(lo / g.q0 / g.K0) * g.K0
        n = int(math.ceil((hi - off * g.q0) / h)) + 2
        if n > MAX_BINS:
            self.failed = f"level-0 grid of {n} bins"
            return None
        c = np.empty(n)
        lhead, ltail, ltail_a, eta = pld.level0(q, mu, self.ordering, off * g.q0, h, g.lam, K,
                                                L0_MERGE, L0_VAR_BUDGET, c)
        total = float(np.sum(c))                   # nan or inf if any entry is
        if not (math.isfinite(total) and total > 0.0 and eta < 1e-6):
            self.failed = "level-0 masses not certified"
            return None
        b = Block(c, off, g.K0, g.q0, g.lam, K, 1, 0.0, eta, _exp(lhead))
        # the tail above the window: by the route its own budget allows
        if ltail <= g.log_tau_unit + math.log(total) or ltail_a > g.log_b_unit:
            b.D += _exp(ltail)
        else:
            b.inf += _exp(ltail_a)
        _squash(b, g, g.K0)          # normalise, flush subnormal-bound entries into D, cut
        return b

    def _square(self, p: Block) -> Optional[Block]:
        g = self.g
        b = _convolve(p, p, g.direct)
        _squash(b, g, g.step(b.count))
        if len(b.c) > MAX_BINS:
            self.failed = f"grid of {len(b.c)} bins"
            return None
        return b


def _chain(q: float, mu: float, ordering: int, g: Grid, steer: "_Mech") -> _Chain:
    """The cached chain of (q, mu) on grid g; its windows and shifts are steered by
    ``steer`` (part of the key, so that a chain's content depends on its key only)."""
    return _CHAINS.get_or((q, mu, ordering, g.key, steer.q, steer.mu),
                          lambda: _Chain(q, mu, ordering, g, steer))


def _merge(a: Block, b: Block, g: Grid) -> Block:
    """Composition of two PLDs of any spacing: the finer is re-gridded to the coarser."""
    step = max(a.step, b.step)
    if a.step != step:
        a = a.copy()
        _regrid(a, step)
    if b.step != step:
        b = b.copy()
        _regrid(b, step)
    r = _convolve(a, b, g.direct)
    _squash(r, g, max(step, g.step(r.count)))
    return r


def compose(led: "_Ledger", g: Grid, spectral: Optional[bool] = None) -> tuple[Optional[Block], str]:
    """The certified PLD of the ledger on grid g, or (None, reason): for each distinct
    mechanism, the chain levels of the binary digits of its count merged pairwise
    (:func:`_merge`); then the distinct mechanisms merged pairwise too, smallest counts
    first, or -- ``spectral``, by default for a ledger of many distinct mechanisms
    (``_Ledger.grouped``) -- combined at once (:func:`_combine`). Pairwise merges convolve
    small arrays directly (relative errors only), which the extreme tilts of jump regimes
    at tiny delta need; the product of spectra charges an absolute error."""
    T = led.T
    spectral = led.grouped if spectral is None else spectral
    try:
        blocks = []
        for (q, mu, n), steer in zip(led.steps, led.steer):
            ch = _chain(q, mu, led.ordering, g, steer)
            acc = None
            k = 0
            while (n >> k) > 0:
                if (n >> k) & 1:
                    lv = ch.level(k)
                    if lv is None:
                        return None, ch.failed
                    acc = lv if acc is None else _merge(acc, lv, g)
                k += 1
                if acc is not None and acc.eta * T / acc.count > 1e-3:
                    return None, "the floating-point budget would be exceeded"
            blocks.append(acc)
        if len(blocks) == 1:
            return blocks[0].copy(), ""
        if spectral:
            return _combine(blocks, g, T), ""
        blocks.sort(key=lambda b: b.count)
        while len(blocks) > 1:
            r = _merge(blocks.pop(0), blocks.pop(0), g)
            i = 0
            while i < len(blocks) and blocks[i].count < r.count:
                i += 1
            blocks.insert(i, r)
        return blocks[0], ""
    except (NotCertified, ArithmeticError, ValueError) as err:
        return None, str(err) or type(err).__name__


def _combine(blocks: list, g: Grid, T: int) -> Block:
    """Composition of the PLDs ``blocks`` (of T steps in all) in one product of spectra.

    Every block is re-gridded (CTD, exact integer positions) onto the common spacing
    H = h_u sqrt(T / k) (k blocks; blocks of single steps on the level-0 grid are left as
    they are), which adds one level's worth of spread variance, k H^2 / 6 = T h_u^2 / 6.
    With block j on the index grid i = 0 .. n_j - 1 (offset o_j), the composition is the
    linear convolution w of the arrays at offset sum o_j. It is computed as the circular
    convolution of length M (a power of two) by FFT, z = irfft(prod_j rfft(c_j, M)):

    * *Window.* If sum (n_j - 1) + 1 <= SPECTRAL_EXACT, M covers the whole support and
      z = w. Otherwise z is read on a window [s, s + M) of w: in exact arithmetic z
      there is w plus the wrapped-around mass (only added mass: pessimistic, section 1),
      and the mass of w outside the window is bounded by Chernoff, for t > 0,
      sum_{i >= P} w_i <= e^{-t P} prod_j G_j(t) and sum_{i < P} w_i <= e^{t (P - 1)}
      prod_j G_j(-t), G_j(t) = sum_i c_j,i e^{t i} (``_pld.log_mgf``, rounded up), at the
      best of a few t; that mass goes to the deficit D. Arrays longer than M are folded
      modulo M first (their sums' rounding goes to eta). The window must hold all but a
      sliver of the *tilted* mass (``_window``): mass wrapped around lands elsewhere in
      the window, where it is valid but, if large, loose.
    * *Floating point.* With s_j = |c_j|_1, S = prod s_j and eps_F = u (48 log2 M + 16)
      (Higham's forward bound for the FFT, as in :func:`_convolve`), each spectrum has
      ||E_j||_2 <= eps_F sqrt(M) |c_j|_2 <= eps_F sqrt(M) s_j, so |E_j| <= beta s_j
      entrywise (beta = eps_F sqrt(M)); telescoping the product (|Z_j| <= s_j) and adding
      k - 1 complex products (3u each) and the inverse transform (Parseval: the 2-norm of
      an error in the spectrum is sqrt(M) times that of its transform),
          ||z_computed - z||_1 <= sqrt(M) S [(1 + beta)^k (1 + eps_F)
                                  (eps_F k + 3 (k - 1) u + k 2^-470) + eps_F],
      charged to D (2^-470: entries flushed to zero below 2^-1074 of a running product
      kept in [2^-632, 1] by exact power-of-two scalings between batches of at most
      SPECTRAL_BATCH factors). Negative entries are clipped.
    * *Tracks.* D = S (prod(1 + D_j / s_j) - 1) + window + FFT terms; eta = sum eta_j
      (+ folds, + the rounding of sum logZ_j); inf = sum inf_j (A-masses are <= 1)."""
    k = len(blocks)
    H = max(1, int(g.K0 * math.sqrt(T / k)))
    xs = []
    for b in blocks:
        if b.step != H:
            b = b.copy()
            _regrid(b, H)
        if b.off % H:
            raise NotCertified("a block off the common lattice")
        xs.append(b)
    lam, q0 = g.lam, g.q0
    lens = [len(x.c) for x in xs]
    lin = sum(lens) - k + 1
    base = sum(x.off for x in xs) // H          # offsets are multiples of H
    sums = [float(np.sum(x.c)) * (1.0 + (n + 2) * U) for x, n in zip(xs, lens)]
    if min(sums) <= 0.0:
        raise NotCertified("an empty block")
    logs = [math.log(v) for v in sums]
    logS = math.fsum(logs) + 4 * U * (sum(abs(v) for v in logs) + k)      # rounded up
    # outside the window: tilted mass out_mass S (to D)
    out_mass, start, wrapped = 0.0, 0, False
    M = 1 << (lin - 1).bit_length()
    if lin > SPECTRAL_EXACT:
        lo, hi, mass = _window(xs, logS, g.log_tau_unit + math.log(T))
        Mw = 1 << (hi - lo).bit_length()
        if Mw < M:
            M, start, out_mass, wrapped = Mw, lo, mass, True
    if M > MAX_BINS:
        raise NotCertified(f"a composition of {M} bins")
    eps_f = U * (48.0 * math.log2(M) + 16.0)
    eta = 0.0
    acc, e2 = None, 0
    buf = np.empty((min(k, SPECTRAL_BATCH), M))
    with np.errstate(all="ignore"):
        for b0 in range(0, k, SPECTRAL_BATCH):     # transforms in batches (fewer calls)
            part = xs[b0:b0 + SPECTRAL_BATCH]
            for r, (x, n) in enumerate(zip(part, lens[b0:b0 + SPECTRAL_BATCH])):
                if n > M:                        # fold modulo M: the wrap-around, exactly
                    buf[r] = np.pad(x.c, (0, -n % M)).reshape(-1, M).sum(axis=0)
                    eta += 1.01 * (n // M + 2) * U
                else:
                    buf[r, :n] = x.c
                    buf[r, n:] = 0.0
            z = np.fft.rfft(buf[:len(part)], axis=1)
            prod = z[0]
            for row in z[1:]:
                prod *= row
            acc = prod if acc is None else acc * prod
            e = math.frexp(float(acc[0].real))[1]
            if e < -600:                        # exact rescaling keeps the product in range
                acc *= 2.0 ** (-e)
                e2 += e
        z = np.fft.irfft(acc, M)
    if not np.all(np.isfinite(z)):
        raise NotCertified("non-finite convolution")
    z = np.roll(z, -(start % M)) if wrapped else z[:lin]
    np.maximum(z, 0.0, out=z)
    scale = math.exp(logS - e2 * LN2) * (1.0 + 1e-12)      # S in the units of z
    beta = (1.0 + eps_f * math.sqrt(M)) ** k                  # prod (1 + beta_j), rho_j <= 1
    fft_err = math.sqrt(M) * scale * (beta * (1.0 + eps_f) * (
        eps_f * k + 3.0 * (k - 1) * U + k * 2.0 ** -470) + eps_f)
    dsum = sum(math.log1p(x.D / sj) for x, sj in zip(xs, sums))
    D = scale * math.expm1(dsum) * (1.0 + 1e-12) + fft_err * (1.0 + 1e-6) + out_mass * scale
    fp = scale * math.expm1(sum(math.log1p(x.fp / sj) for x, sj in zip(xs, sums))) + fft_err
    eta += sum(x.eta for x in xs) + 4.0 * U * (sum(abs(x.logZ) for x in xs) + abs(e2) + 1.0)
    r = Block(z, (base + start) * H, H, q0, lam, sum(x.logZ for x in xs) + e2 * LN2, T,
              sum(x.inf for x in xs), eta, D, fp)
    _squash(r, g, H)
    return r


def _window(xs: list, logS: float, log_tau: float) -> tuple[int, int, float]:
    """(lo, hi, mass): an index window [lo, hi] of the composition w of the arrays xs (each
    from index 0) outside which its mass is at most ``mass`` S (S = e^{logS}; about
    e^{log_tau}, half on each side), by the Chernoff bounds of :func:`_combine` at a few
    t around the Gaussian optimum. The centre and spread come from the same exponential
    moments, Lambda(t) = log E e^{t I}: mean ~ (Lambda(s) - Lambda(-s)) / 2s, variance ~
    (Lambda(s) - 2 Lambda(0) + Lambda(-s)) / s^2 (steering only; the bounds decide)."""
    flat = np.concatenate([x.c for x in xs])
    starts = np.zeros(len(xs) + 1, dtype=np.int64)
    np.cumsum([len(x.c) for x in xs], out=starts[1:])

    def lmgf(ts) -> list:        # log sum_i w_i e^{t i} - logS for each t, rounded up
        out = np.empty((len(xs), len(ts)))
        pld.log_mgf(flat, starts, np.asarray(ts, dtype=float), out)
        return [math.fsum(col) + 4 * U * (float(np.sum(np.abs(col))) + len(xs) + abs(logS)) - logS
                for col in out.T]

    sd0 = math.sqrt(sum(len(x.c) ** 2 for x in xs) / 12.0)     # uniform arrays: a scale only
    s = 0.05 / sd0
    a, b, c = lmgf([-s, 0.0, s])
    mid = (c - a) / (2.0 * s)
    sd = math.sqrt(max((c - 2.0 * b + a) / (s * s), 1.0))
    half = math.log(2.0) - log_tau              # each side: at most half of e^{log_tau}
    t0 = math.sqrt(2.0 * max(half, 1.0)) / sd
    fs = (0.35, 1.0, -1.0, -3.0, -9.0)          # t / t0: upper side (> 0), lower side (< 0)
    lm = lmgf([t0 * f for f in fs])
    ups = [(t0 * f, v) for f, v in zip(fs, lm) if f > 0]
    downs = [(-t0 * f, v) for f, v in zip(fs, lm) if f < 0]
    # sum_{i >= P} w_i <= S exp(lm(t) - t P); sum_{i < P} w_i <= S exp(lm(-t) + t (P - 1))
    hi = min(math.ceil((v + half) / t) for t, v in ups) - 1
    lo = max(math.floor(-(v + half) / t) + 1 for t, v in downs)
    lo = max(min(lo, int(math.floor(mid))), 0)
    hi = min(max(hi, int(math.ceil(mid)), lo), sum(len(x.c) - 1 for x in xs))
    mass = (min(math.exp(min(v - t * (hi + 1), 0.0)) for t, v in ups)
            + min(math.exp(min(v + t * (lo - 1), 0.0)) for t, v in downs))
    return lo, hi, mass * (1.0 + 1e-9)


# ---------------------------------------------------------------------------------------
# reading epsilon and delta off a composed PLD

def _dsup(b: Block, eps: float) -> float:
    """D sup_w(eps): the most the deficit can add to delta at eps; sup_w bounds the weight
    e^{logZ - lam l}(1 - e^{eps - l})_+ of a unit of tilted mass."""
    if b.D <= 0.0:
        return 0.0
    v = math.log(b.D) + b.logZ - b.lam * eps + _chernoff_const(b.lam)
    return math.exp(min(v, 700.0))


def certified_delta(b: Block, eps: float) -> float:
    """The certified delta(eps) of a composed PLD (section 3 of the docstring)."""
    lv, rel = pld.log_delta_at(b.c, b.o, b.h, b.logZ, b.lam, eps)
    dc = math.exp(lv) * (1.0 + rel) if lv > -math.inf else 0.0
    return (dc + _dsup(b, eps) * (1.0 + 8 * U)) / (1.0 - b.eta) * (1.0 + 4 * U) + b.inf * (1.0 + 4 * U)


def certified_epsilon(b: Block, delta: float) -> float:
    """Smallest eps (to ~1e-12 relative) with certified_delta(eps) <= delta; +inf when the
    deficit and rounding terms take more than FP_SHARE of delta."""
    if b.eta > 1e-3 or b.inf >= 0.5 * delta:
        return math.inf
    target = (delta - b.inf * (1.0 + 8 * U)) * (1.0 - b.eta) * (1.0 - 1e-9)
    eps = pld.eps_solve(b.c, b.o, b.h, b.logZ, b.lam, math.log(target))
    for _ in range(4):
        e0 = max(eps, 0.0)
        extra = _dsup(b, e0) * (1.0 + 1e-6)
        if extra > 0.5 * delta:
            return math.inf
        eps = pld.eps_solve(b.c, b.o, b.h, b.logZ, b.lam, math.log(target - extra))
        if abs(max(eps, 0.0) - e0) <= 1e-12 * (1.0 + e0):
            break
    eps = max(eps, 0.0)
    # verify directly; nudge up if the root finder's rounding left us a hair short
    for i in range(60):
        if certified_delta(b, eps) <= delta:
            return eps
        eps = eps + max(abs(eps) * 1e-12, 1e-15) * 16.0 ** i
    return math.inf


# ---------------------------------------------------------------------------------------
# the accountant's numerics

@dataclass
class Answer:
    """A certified epsilon (or delta) with how it was obtained."""

    value: float
    route: str
    note: str = ""
    passes: list = field(default_factory=list)


def _n_lev(steps, T: int) -> float:
    if len(steps) <= STEER_GROUP_MIN:               # pairwise merges of the distinct mechanisms
        n = sum(c / T * (math.log2(c) + 5.0) for _, _, c in steps)
        return n + 2.0 * math.ceil(math.log2(len(steps))) if len(steps) > 1 else n
    # many mechanisms: one combination (+1 level for its re-gridding)
    return sum(c / T * (math.log2(c) + 5.0 if c > 1 else L1_LEVELS) for _, _, c in steps) + 1.0


def _budgets(led: "_Ledger", lam: float, nlev: float, eps: float, delta: float) -> tuple[float, float]:
    """Per-step cut budgets (tau_unit, b_unit) so that all cuts together cost about
    CUT_SHARE of delta. A tail sent to +infinity costs its A-mass (b_unit is in delta
    units); mass dropped into D costs D sup_w(eps), and sup_w / delta is about
    c(lam) sqrt(2 pi) s lam (lam + 1) for a Gaussian-like tilted sum of standard deviation
    s, and at least the factor by which the Chernoff bound at eps exceeds delta."""
    k, _, k2 = led.K(lam)
    s = math.sqrt(max(k2, 1e-300))
    lc = _chernoff_const(lam)
    ratio = max(1.0, math.exp(lc) * math.sqrt(2 * math.pi) * s * lam * (lam + 1.0),
                math.exp(min(k - lam * eps + lc - math.log(delta), 700.0)))
    per = CUT_SHARE / (3.0 * nlev * led.T)
    return per / ratio, per * delta


def _pld_epsilon(steps, delta: float, ordering: int, rtol: float) -> tuple[float, str, list, bool]:
    """Certified eps of one ordering by 2-3 passes of the composed PLD (module docstring,
    grid rule). Pass 1 steers with the Chernoff eps and tilt at 8 rtol; pass 2 with the
    pass-1 eps, the Chernoff tilt at it and the measured hazard, at rtol. The grid error
    scales like h_u^2, so passes 1 and 2 estimate pass 2's own error,
    err_2 ~ (eps_1 - eps_2) / ((h_1/h_2)^2 - 1); a third pass with a finer grid runs when
    that estimate exceeds 0.8 rtol eps. Every pass is a valid bound; the least is kept."""
    led = _ledger(steps, ordering)
    eps0, lam0 = led.chernoff_eps(delta)
    if not math.isfinite(eps0):
        return math.inf, "no finite Chernoff steering", [], True
    if led.grouped and sum(q * n for q, _, n in led.steps) >= SADDLE_RELIABLE:
        # many distinct mechanisms, far from lattice: the saddle-point steering replaces
        # pass 1 (its eps is within ~1% of the truth there, and the hazard 1 + its tilt);
        # the usual passes run when that single pass fails or looks inaccurate
        try:
            e_s, lam_s = led.saddle_eps(delta)
        except (ArithmeticError, ValueError):
            e_s = math.nan
        if 0.0 < e_s < eps0:
            out = _passes(led, delta, rtol, eps0, (e_s, 1.0 + lam_s, led.chernoff_lam(e_s), SADDLE_PASS_R * rtol, 1))
            if math.isfinite(out[0]) and not out[3]:
                return out
    return _passes(led, delta, rtol, eps0, (max(eps0, 1e-6), 1.0 + lam0, lam0, PASS1_FACTOR * rtol, 0))


def _passes(led: "_Ledger", delta: float, rtol: float, eps0: float, start: tuple) -> tuple[float, str, list, bool]:
    """The passes of :func:`_pld_epsilon` from ``start`` = (eps, hazard F, tilt, r, index of
    the first pass): (best eps, reason of a failure, passes, suspect)."""
    T = led.T
    nlev = _n_lev(led.steps, T)
    eps_p, F, lam, r, first = start
    best, passes, why = math.inf, [], ""
    hu, npass, failed, direct = None, first, 0, False
    while npass < 3:
        if npass < 2:
            hu = _rule_hu(r, eps_p, nlev, T, F)
            hu = min(hu, (PASS1_FACTOR if npass == 0 else 1.0) * _hu_cap(led, lam))   # (steering: 8x)
        elif len(passes) < 2:
            break
        else:
            (e1, h1), (e2, h2) = passes[0][:2], passes[1][:2]
            hu = _finer_hu(e1, e2, h1, h2, 1.0, rtol * e2)
            if hu is None:
                break
        g = make_grid(lam, hu, *_budgets(led, lam, nlev, eps_p / (2.0 if npass == 0 else 1.0), delta),
                      direct=direct)
        blk, why = compose(led, g)
        if blk is None:
            failed += 1
            how = _compose_retry(not passes and npass == 0, lam, why) if failed <= PASS1_RETRIES else None
            if how is None:
                break
            if how == "coarser":
                r *= 4.0          # (2x h_u)
            else:
                lam = _milder(lam)
            continue
        e = certified_epsilon(blk, delta)
        if not math.isfinite(e) and led.grouped:
            # the spectral combination's absolute error can swamp delta at extreme tilts:
            # merge the mechanisms pairwise (direct convolutions) instead
            blk, why = compose(led, g, spectral=False)
            if blk is None:
                break
            e = certified_epsilon(blk, delta)
        if not math.isfinite(e) and not direct and blk.fp > 0.5 * blk.D:
            direct = True         # the FFT's absolute error swamps delta (tiny q, the tilted
            continue              # mass far from eps): convolve the heavy windows directly
        if not math.isfinite(e):
            why = "floating-point or cut terms exceed their share of delta"
            failed += 1
            if failed > PASS1_RETRIES or (lam <= 1.0 and (passes or npass > 0)):
                break
            if not passes:        # pass 1 failed: steer with a smaller eps
                eps_p /= 2.0
            lam = _milder(lam)    # ... and a milder tilt (rare large losses can draw the
            continue              # steering tilt far above what eps needs)
        passes.append((e, g.K0 * g.q0, g.lam, len(blk.c)))
        best = min(best, e)
        if e == 0.0:
            break
        if npass == 0:
            F = _measured_hazards(blk, e, delta)[0]
            F = F if math.isfinite(F) else 1.0 + g.lam
            eps_p = e
            if not failed:        # (a tilt that needed retries is kept)
                lam = led.chernoff_lam(eps_p)
            r = rtol
        elif npass == 1:
            eps_p = e
        npass += 1
    # suspect: a pass failed, the result is not clearly below the Chernoff steering value,
    # or passes 1-2 say pass 2 is off by more than 2 rtol
    suspect = failed > 0 or not passes or not best < 0.97 * eps0
    if len(passes) >= 2 and math.isfinite(passes[1][0]):
        (e1, h1), (e2, h2) = passes[0][:2], passes[1][:2]
        ratio = (h1 / h2) ** 2
        if ratio > 1.05 and (e1 - e2) / (ratio - 1.0) > 2.0 * rtol * e2:
            suspect = suspect or len(passes) < 3
    return best, why, passes, suspect


def _rule_hu(r: float, eps: float, nlev: float, T: int, F: float) -> float:
    """h_u of the grid rule (module docstring) for a relative error r at eps:
    sqrt(12 r eps / (kappa n_lev T F)), the hazard factor F taken at least 0.1."""
    return math.sqrt(12.0 * r * eps / (GRID_KAPPA * nlev * T * max(F, 0.1)))


def _finer_hu(v1: float, v2: float, h1: float, h2: float, per_eps: float, target: float) -> Optional[float]:
    """h_u of a third pass, or None when none is needed. The error scales like h_u^2, so
    passes at h1 > h2 giving v1, v2 put pass 2's error at (v1 - v2) / ((h1/h2)^2 - 1), or
    that divided by ``per_eps`` in eps units (1 for eps; G delta for delta); None when it
    is within 0.8 ``target`` (rtol eps), else the h_u aiming at 0.6 target (0.25 to 0.8 of
    h2; half of h2 when the estimate is unusable)."""
    ratio = (h1 / h2) ** 2
    err = (v1 - v2) / ((ratio - 1.0) * per_eps) if ratio > 1.05 and per_eps > 0.0 else math.inf
    if 0.0 <= err <= 0.8 * target:
        return None
    f = math.sqrt(0.6 * target / err) if 0.0 < err < math.inf else 0.5
    return h2 * min(max(f, 0.25), 0.8)


def _hu_cap(led: "_Ledger", lam: float) -> float:
    """The largest h_u the grid rule may give: the composed PLD's spacing h_u sqrt(T) at
    most GRID_SD_CAP standard deviations of the tilted sum (the error model is second
    order in h / sd; where its hazard is small -- eps near the mean loss, delta ~ 1 -- it
    would otherwise allow a grid as coarse as the law itself)."""
    return GRID_SD_CAP * math.sqrt(max(min(led.K(lam)[2], led.K(0.0)[2]), 1e-300) / led.T)


def _compose_retry(first: bool, lam: float, why: str) -> Optional[str]:
    """How a pass that ``compose`` could not build (for the reason ``why``) is retried:
    "coarser" (twice h_u) for the first pass; "milder" (a milder tilt) for a later one whose
    grid would be too large (the reason counts its bins) -- the tilt keeps the rare large
    losses of tiny q in its window, a milder one does not; None: give up."""
    if first:
        return "coarser"
    return "milder" if lam > 1.0 and why.endswith(" bins") else None


def _milder(lam: float) -> float:
    """The tilt to retry with when a pass's tilted mass fell outside its window (the
    steering tilt, driven by rare large losses at tiny q, can put it far above eps)."""
    return max(lam / 8.0, min(lam, 1.0))


def _qp_top(steps) -> float:
    """Above this eps the "qp" delta is exactly 0: the loss of a step in that ordering is at
    most log(1/(1 - q)) (+inf for q = 1), rounded up."""
    return sum(math.inf if q >= 1.0 else -n * math.log1p(-q) for q, _, n in steps) * (1.0 + 1e-12)


def _delta_steering(led: "_Ledger", eps: float) -> tuple[float, float]:
    """(the tilt lam > 0 to store the PLD at, the hazard factor F) for a delta query at eps,
    from the steering CGF: lam is the Chernoff tilt at eps (as in the passes for eps). A
    grid that adds variance dV to the composed loss also moves its A-mean up by dV / 2
    (the spread keeps E_B e^L), so delta moves as if eps moved by dV F / 2 with
    F = -d/d eps log B(L > eps) = 1 + H, H the saddle-point tilt K'(H) = eps (read from the
    normal approximation (eps - m)/K''(0) below the A-mean m = K'(0), where H < 0)."""
    _, m, v = led.K(0.0)
    H = led.saddle_lam(eps, 1.0) if eps > m else (eps - m) / max(v, 1e-300)
    return led.chernoff_lam(eps), 1.0 + H


def _measured_hazards(b: Block, eps: float, d: float) -> tuple[float, float]:
    """(F, G) on a composed PLD at eps, with delta(eps) = d: F = -d/d eps log B(L > eps)
    (central difference over a few grid steps) and G = -d log delta / d eps =
    e^eps B(L > eps) / delta."""
    w = max(3.0 * b.h, 0.01 * abs(eps), 1e-6)
    lb = [pld.log_btail(b.c, b.o, b.h, b.logZ, b.lam, e) for e in (eps - w, eps, eps + w)]
    if not all(math.isfinite(x) for x in lb) or d <= 0.0:
        return math.nan, math.nan
    return -(lb[2] - lb[0]) / (2.0 * w), math.exp(eps + lb[1]) / d


def _deficit_retry(b: Block, eps: float, d: float, direct: bool) -> Optional[float]:
    """What a delta pass whose deficit terms make more than DEFICIT_SHARE of its certified
    delta d at eps should change: a positive delta to set the cut budgets for, when the
    cuts make most of the deficit (the represented part of d, or DEFICIT_CUT d where
    there is none); 0.0 for direct convolutions only, when the FFT's error does and the
    grid is not direct yet; None for no retry."""
    dsup = _dsup(b, eps)
    if not (0.0 < d < 1.0 and dsup + b.inf > DEFICIT_SHARE * d):
        return None
    fp = dsup * min(b.fp / b.D, 1.0) if b.D > 0.0 else 0.0
    if dsup + b.inf - fp > 0.5 * (dsup + b.inf):
        return max(d - dsup - b.inf, DEFICIT_CUT * d)
    return None if direct else 0.0


def _pld_delta(steps, eps: float, ordering: int, rtol: float) -> float:
    """Certified delta of one ordering at eps, by 2-3 passes of the composed PLD, aiming at
    an eps-shift of rtol eps_g: the bound at eps is then at most the truth's delta at about
    eps - rtol eps_g, so delta(eps) is non-increasing up to that (DESIGN.md section 2).
    eps_g = eps, or DELTA_EPS_FLOOR standard deviations of the composed loss (at most
    DELTA_EPS_FLOOR_MAX) for smaller eps; every choice is made at eps_g, so all eps below
    the floor are read off the same PLDs, and delta is non-increasing there exactly.
    Pass 1 (grid rule at PASS1_FACTOR rtol, steering hazard) measures the hazard; pass 2
    runs at DELTA_PASS_R rtol; the h^2 scaling of the two estimates pass 2's error (as
    for eps, converted by G = -d log delta / d eps), and a finer pass 3 runs when that
    exceeds 0.8 rtol eps_g. Every pass is a valid bound; the least is kept."""
    if ordering == 1 and eps > _qp_top(steps):
        return 0.0
    led = _ledger(steps, ordering)
    T = led.T
    nlev = _n_lev(led.steps, T)
    _, m, v = led.K(0.0)
    s = math.sqrt(max(v, 1e-300))
    if eps < m - 40.0 * s:
        return 1.0          # 40 sd below the mean loss: the truth is 1 to within e^-800
    eps_g = max(eps, min(DELTA_EPS_FLOOR * s, DELTA_EPS_FLOOR_MAX))
    lam, F = _delta_steering(led, eps_g)
    # delta at eps_g, estimated: Chernoff, or the saddle-point term where that is lower
    ld = min(led.chernoff_log_delta(eps_g, upper=False), _saddle_log_delta(lam, eps_g, led.K(lam)))
    d_est = math.exp(min(max(ld, -700.0), 0.0))
    d_cut = d_est               # the delta the cut budgets are set for
    cap = _hu_cap(led, lam)
    hu = min(_rule_hu(PASS1_FACTOR * rtol, eps_g, nlev, T, F), cap)
    best, passes, retries, tighten, direct = math.inf, [], 0, 0, False
    while len(passes) < 3:
        g = make_grid(lam, hu, *_budgets(led, lam, nlev, eps_g, d_cut), direct=direct)
        blk, why = compose(led, g)
        if blk is None:
            retries += 1
            how = _compose_retry(not passes, lam, why) if retries <= PASS1_RETRIES else None
            if how is None:
                break
            if how == "coarser":
                hu *= 2.0
            else:
                lam = _milder(lam)
                cap = _hu_cap(led, lam)
                hu = min(hu, cap)
            continue
        best = min(best, certified_delta(blk, eps))
        d_g = certified_delta(blk, eps_g)
        if (not passes and retries < 3 and lam > 1.0 and d_g > d_est
                and _dsup(blk, eps_g) + blk.inf > 0.5 * d_g):
            lam, retries = _milder(lam), retries + 1     # the tilted mass fell outside the window
            cap = _hu_cap(led, lam)
            hu = min(hu, cap)
            continue
        retry = _deficit_retry(blk, eps_g, d_g, direct) if tighten < DEFICIT_RETRIES else None
        if retry is not None:
            # the deficit, not the PLD, makes delta here (tiny q: the tail above eps is rare
            # jumps, so the estimate that set the cut budgets was far above the truth, and
            # the tilted mass sits far from eps, where the FFT's absolute error swamps it)
            tighten, direct = tighten + 1, True
            d_cut = retry if retry > 0.0 else d_cut
            continue
        passes.append((d_g, g.K0 * g.q0))
        if not 0.0 < d_g < 1.0:
            break
        F_m, G = _measured_hazards(blk, eps_g, d_g)
        if F_m > 0.0 and G > 0.0:       # (nan fails too)
            F = F_m
        else:                   # the PLD ends too close above eps_g: the steering's F, and G ~ F
            G = max(F, 0.1)
        if len(passes) == 1:
            # pass 1's delta steers the cut budgets from here on, scaled so that the cuts
            # take at most DELTA_CUT_SHIFT of the eps-shift (where delta is flat, G small,
            # CUT_SHARE of delta would be more)
            share = min(1.0, DELTA_CUT_SHIFT * rtol * eps_g * G / CUT_SHARE)
            d_cut = min(d_g, d_est, d_cut / share) * share
            hu = min(_rule_hu(DELTA_PASS_R * rtol, eps_g, nlev, T, F), cap)
            continue
        (d1, h1), (d2, h2) = passes[-2], passes[-1]
        hu = _finer_hu(d1, d2, h1, h2, G * d2, rtol * eps_g)
        if hu is None:
            break
    return min(best, 1.0)


def steer_log_sigma(q: float, T: int, delta: float, target: float,
                    ordering: str = "max") -> Optional[tuple[float, float]]:
    """Steering for noise calibration: (log sigma, slope) with the saddle-point steering
    eps (:meth:`_Ledger.saddle_eps`, leading-order Lugannani-Rice on the steering CGF) of
    T steps at rate q equal to ``target`` at ``delta``, and slope = -d log eps / d log
    sigma there; None when it cannot be found. Each evaluation builds one steering PMF
    (about 0.1 ms). An estimate: certified probes decide (``calibrate``)."""
    o = 1 if ordering == "qp" else 0
    lt = math.log(target)

    def f(x: float) -> float:               # decreasing in x = log sigma
        try:
            e = _ledger([(q, math.exp(-x), T)], o).saddle_eps(delta)[0]
        except (ArithmeticError, ValueError):
            return math.nan
        return math.log(e) - lt if e > 0.0 and math.isfinite(e) else math.nan

    x0, f0 = 0.0, f(0.0)
    x1 = x0 + f0 / 1.5 if math.isfinite(f0) else math.nan
    f1 = f(x1) if math.isfinite(x1) else math.nan
    for _ in range(30):
        if not (math.isfinite(f0) and math.isfinite(f1)) or f1 == f0:
            return None
        slope = (f1 - f0) / (x1 - x0)
        if not slope < 0.0:
            return None
        x2 = x1 - f1 / slope
        x2 = min(max(x2, x1 - 2.0, -4.6), x1 + 2.0, 13.8)   # a factor e^2 per step, sigma in [0.01, 1e6]
        x0, f0, x1, f1 = x1, f1, x2, f(x2)
        if abs(x1 - x0) <= 1e-6:
            return x1, -slope
    return None


def _tv_upper(steps) -> float:
    """A bound on the composition's total variation (delta(eps) <= delta(0) = TV): the
    smaller of the sum of the one-step TV = q (2 Phi(mu/2) - 1) (TV is subadditive under
    products) and Bretagnolle-Huber sqrt(1 - e^{-KL}), KL(Q||P) <= K(lam)/lam for lam > 0
    with K the certified CGF ("pq", lam = 1e-3)."""
    tv = sum(n * q * math.erf(mu / (2.0 * math.sqrt(2.0))) for q, mu, n in steps) * (1.0 + 1e-12)
    lam = 1e-3
    kl = _ledger(steps, 0).K_upper(lam) / lam
    if math.isfinite(kl) and kl > 0.0:
        tv = min(tv, math.sqrt(-math.expm1(-kl)) * (1.0 + 1e-12))
    return tv


def _cert_chernoff_log_delta(steps, ordering: int, lam: float, eps: float) -> float:
    """log of the Chernoff bound T K(lam) - lam eps + log c(lam) on delta(eps), K from the
    certified CGF (``_CertCGF``, of each steering group's dominating member; closed form
    for q = 1)."""
    k = _ledger(steps, ordering).K_upper(lam)
    return k - lam * eps + _chernoff_const(lam) if math.isfinite(k) else math.inf


def rdp_epsilon(steps, delta: float, ordering: str = "max") -> float:
    """The fallback: the RDP/Chernoff conversion eps = min_lam (T K(lam) + log c(lam) -
    log delta)/lam (Balle et al. 2020 Thm 21) per ordering, with K the certified CGF bound
    of ``_CertCGF`` at the steering optimum (and a short search around it); 0 when the
    total-variation bound is below delta."""
    if _tv_upper(steps) <= delta:
        return 0.0
    best = 0.0
    for name in (("pq", "qp") if ordering == "max" else (ordering,)):
        o = ORDERINGS.index(name)
        led = _ledger(steps, o)
        _, lam0 = led.chernoff_eps(delta)
        f = lambda lam: (_cert_chernoff_log_delta(steps, o, lam, 0.0) - math.log(delta)) / lam  # noqa: E731
        lams = lam0 * np.exp(np.linspace(-0.5, 0.5, 9))
        vals = [f(float(x)) for x in lams]
        best = max(best, min(vals))
    return best if math.isfinite(best) else math.inf


def rdp_delta(steps, eps: float, ordering: str = "max") -> float:
    """The fallback for delta(eps): the Chernoff bound with the certified CGF, at most the
    total-variation bound and 1."""
    best = 0.0
    for name in (("pq", "qp") if ordering == "max" else (ordering,)):
        o = ORDERINGS.index(name)
        led = _ledger(steps, o)
        lam0 = led.chernoff_lam(eps)
        lams = lam0 * np.exp(np.linspace(-0.5, 0.5, 9))
        v = min(_cert_chernoff_log_delta(steps, o, float(x), eps) for x in lams)
        best = max(best, math.exp(min(v, 0.0)))
    return min(best, _tv_upper(steps), 1.0)


def _best_rdp_epsilon(steps, delta: float, ordering: str) -> float:
    """The tighter of two valid RDP bounds: :func:`rdp_epsilon` (CGF of the discretised PLD,
    a proven upper bound, few orders) and :func:`ewaccount.rdp.epsilon` (quadrature CGF with
    its documented relative margin, DESIGN.md section 2; all orders, optimal conversion)."""
    from . import rdp
    return min(rdp_epsilon(steps, delta, ordering), rdp.epsilon(steps, delta, ordering=ordering, rigorous=True).value)


def _best_rdp_delta(steps, eps: float, ordering: str) -> float:
    """delta counterpart of :func:`_best_rdp_epsilon`."""
    from . import rdp
    return min(rdp_delta(steps, eps, ordering), rdp.delta(steps, eps, ordering=ordering, rigorous=True).value)


def _orderings(steps, ordering: str) -> tuple:
    if ordering != "max":
        return (ordering,)
    if all(q >= 1.0 for q, _, _ in steps):
        return ("pq",)           # q = 1: the two orderings have the same profile
    return ("pq", "qp")


def epsilon_upper(steps, delta: float, rtol: float = DEFAULT_RTOL, ordering: str = "max") -> Answer:
    """Certified epsilon at ``delta`` for the ledger ``steps`` = [(q, mu, count), ...]
    (validated input; q in (0, 1], mu > 0, count >= 1, delta in (0, 1)).

    "pq" is computed first; "qp" is skipped when a certified Chernoff bound already puts its
    delta at the "pq" epsilon below ``delta``. When the composed PLD of an ordering cannot be
    certified, or a pass failed or looks inaccurate (extreme inputs, where the grid model
    breaks down), or eps is tiny (where RDP's total-variation shortcut can give 0), the RDP
    bound is computed too and the smaller wins; the ``route`` says which ("composed PLD"
    or "RDP fallback")."""
    names = _orderings(steps, ordering)
    vals, notes, passes = [], [], []
    failed, suspect = False, False
    for name in names:
        o = ORDERINGS.index(name)
        if name == "qp" and vals and math.isfinite(vals[0]):
            if vals[0] > _qp_top(steps):
                notes.append("ordering qp dismissed: its loss is at most sum n log(1/(1 - q))")
                continue
            led = _ledger(steps, 1)
            if led.chernoff_log_delta(vals[0], upper=True, upper_target=math.log(delta)) <= math.log(delta):
                notes.append("ordering qp dismissed by a certified Chernoff bound")
                continue
        try:
            e, why, ps, sus = _pld_epsilon(steps, delta, o, rtol)
        except (NotCertified, ArithmeticError, ValueError) as err:
            e, why, ps, sus = math.inf, str(err) or type(err).__name__, [], True
        passes += ps
        suspect = suspect or sus
        if not math.isfinite(e):
            failed = True
            notes.append(f"{name}: composed PLD not certified ({why})")
        vals.append(e)
    eps = max(vals)
    if failed or suspect or eps < 0.01:
        r = _best_rdp_epsilon(steps, delta, ordering if ordering != "max" or len(names) > 1 else "pq")
        if r < eps:
            if not failed:
                notes.append("the RDP bound is tighter here")
            return Answer(r, "RDP fallback", "; ".join(notes), passes)
        if not math.isfinite(eps):
            return Answer(math.inf, "no finite bound", "; ".join(notes), passes)
    return Answer(eps, "composed PLD", "; ".join(notes), passes)


def delta_upper(steps, eps: float, rtol: float = DEFAULT_RTOL, ordering: str = "max") -> Answer:
    """Certified delta at ``eps`` for the ledger ``steps`` (see :func:`epsilon_upper`): the
    largest over the orderings of each one's composed-PLD bound, or of its RDP bound where
    that PLD cannot be certified or is not clearly below the Chernoff steering value; at
    most the total-variation bound delta(0) (:func:`_tv_upper`)."""
    best, notes, routes = 0.0, [], set()
    for name in _orderings(steps, ordering):
        o = ORDERINGS.index(name)
        led = _ledger(steps, o)
        if name == "qp" and best > 0.0:
            if led.chernoff_log_delta(eps, upper=True, upper_target=math.log(best)) <= math.log(best):
                notes.append("ordering qp dismissed by a certified Chernoff bound")
                continue
        steer = math.exp(min(led.chernoff_log_delta(eps, upper=False), 0.0))
        try:
            d = _pld_delta(steps, eps, o, rtol)
        except (NotCertified, ArithmeticError, ValueError):
            d = math.inf
        if not math.isfinite(d):
            notes.append(f"{name}: composed PLD not certified")
        route = "composed PLD"
        if not d < 0.5 * steer:
            r = _best_rdp_delta(steps, eps, name)
            if r < d:
                d, route = r, "RDP fallback"
        routes.add(route)
        best = max(best, d)
    route = "RDP fallback" if routes == {"RDP fallback"} else "composed PLD"
    if len(routes) > 1:
        notes.append("one ordering from the RDP fallback")
    tv = _tv_upper(steps)
    if tv < best:
        notes.append("the total-variation bound delta(0) is lower")
    return Answer(min(best, tv, 1.0), route, "; ".join(notes))


# ---------------------------------------------------------------------------------------
# the certified lower bound: merged bins (module docstring, "Lower bound")

@dataclass
class Bins(_OnGrid):
    """A binned PLD: per bin (off + i step) q0 a certified *lower* bound ``a`` of the tilted
    A-mass and an *upper* bound ``b`` of the tilted B-mass of the outcomes merged into it
    (tilted as in ``_pld.level0_bins``, with log-normaliser logZ). Every operation keeps
    them bounds of the exact merged pair: rounding is absorbed by shrinking ``a`` and
    growing ``b``."""

    a: np.ndarray
    b: np.ndarray
    off: int
    step: int
    q0: float
    lam: float
    logZ: float
    count: int


    def copy(self) -> "Bins":
        return Bins(self.a.copy(), self.b.copy(), self.off, self.step, self.q0, self.lam,
                    self.logZ, self.count)

    def mass(self) -> float:
        return float(np.sum(self.a))

    def scale(self, f: float) -> None:
        self.a *= f
        self.b *= f

    def absorb(self, rel: float) -> None:
        """Absorb a relative error ``rel`` of both arrays into the bounds."""
        self.a *= 1.0 - rel - 2.0 * U
        self.b *= 1.0 + rel + 2.0 * U


def _bins_cut(x: Bins, log_tau: float, log_b: float) -> None:
    """Drop head and tail (a lower bound may drop outcomes; the budgets only keep it tight:
    dropping tilted mass tau costs at most tau sup_w of delta, A-mass b at most b)."""
    buf = np.empty(4)
    j0, j1 = pld.cut_window(x.a, x.o, x.h, x.logZ, x.lam, log_tau, log_b, buf)
    if j0 > 0 or j1 < len(x.a) - 1:
        x.a = x.a[j0:j1 + 1].copy()
        x.b = x.b[j0:j1 + 1].copy()
        x.off += j0 * x.step


def _bins_regrid(x: Bins, step2: int) -> None:
    """Merge into the coarser bins (each bin goes to the one holding its merged loss)."""
    if step2 == x.step:
        return
    lo = (x.off // step2) * step2
    top = x.off + len(x.a) * x.step
    n2 = (top - lo) // step2 + 2
    oa, ob = np.empty(n2), np.empty(n2)
    e = pld.regrid_bins(x.a, x.b, x.off, x.step, lo, step2, x.q0, x.lam, oa, ob)
    keep = np.nonzero(oa)[0]
    if len(keep):
        oa, ob = oa[:keep[-1] + 1], ob[:keep[-1] + 1]
    x.a, x.b, x.off, x.step = oa, ob, lo, step2
    x.absorb(e)


def _bins_conv(x: Bins, y: Bins) -> Bins:
    """Composition. Small: each pair merges into the bin of its loss (``conv_bins``).
    Large: the pair (i, k) merges into bin i + k (a coarser post-processing, twice the
    loss spread per bin, but a plain convolution): by FFT, with its error bound taken off
    ``a`` and added to ``b``."""
    n1, n2 = len(x.a), len(y.a)
    if n1 * n2 <= FFT_MIN or min(n1, n2) < 64:
        n = n1 + n2
        oa, ob = np.empty(n), np.empty(n)
        pld.conv_bins(x.a, x.b, y.a, y.b, x.h, x.lam, oa, ob)
        r = Bins(oa, ob, x.off + y.off, x.step, x.q0, x.lam, x.logZ + y.logZ, x.count + y.count)
        r.absorb(1.01 * (min(n1, n2) + 4) * U + (LIBM_ULPS_ + 2.0 * (x.lam + 1) * x.h) * U)
    else:
        n = n1 + n2 - 1
        M = 1 << (n - 1).bit_length()
        outs = []
        for u, v, sign in ((x.a, y.a, -1.0), (x.b, y.b, 1.0)):
            z = np.fft.irfft(np.fft.rfft(u, M) * np.fft.rfft(v, M), M)[:n]
            e2 = U * (48.0 * math.log2(M) + 16.0) * (
                _norm2(u) * float(np.sum(v)) + float(np.sum(u)) * _norm2(v))
            z = z + sign * e2 * (1.0 + 1e-6)
            np.maximum(z, 0.0, out=z)
            outs.append(z)
        r = Bins(outs[0], outs[1], x.off + y.off, x.step, x.q0, x.lam, x.logZ + y.logZ, x.count + y.count)
        r.absorb(16.0 * U)
    r.absorb(4.0 * U * (abs(x.logZ) + abs(y.logZ) + 1.0))
    return r


LIBM_ULPS_ = 4.0
MAX_LOWER_BINS = 1 << 20


def _bins_merge(x: Bins, y: Bins, g: "Grid") -> Bins:
    step = max(x.step, y.step)
    for z in (x, y):
        if z.step != step:
            _bins_regrid(z, step)
    r = _bins_conv(x, y)
    _normalise(r)
    lc = math.log(r.count)
    _bins_cut(r, g.log_tau_unit + lc, g.log_b_unit + lc)
    _bins_regrid(r, max(step, g.step(r.count)))
    return r


def _bins_level0(q: float, mu: float, ordering: int, g: "Grid") -> Optional[Bins]:
    m = _mech(q, mu, ordering)
    K, K1, K2 = m.K(g.lam)
    h = g.K0 * g.q0
    lo, hi = pld.level0_window(q, mu, ordering, g.lam, K, K1, max(math.sqrt(K2), h),
                               g.log_tau_unit, g.log_b_unit, 0.25 * h)
    off = math.floor(lo / g.q0 / g.K0) * g.K0
    n = int(math.ceil((hi - off * g.q0) / h)) + 1
    if n > MAX_LOWER_BINS:
        return None
    a, b = np.empty(n), np.empty(n)
    eta = pld.level0_bins(q, mu, ordering, off * g.q0, h, g.lam, K, a, b)
    x = Bins(a, b, off, g.K0, g.q0, g.lam, K, 1)
    x.absorb(eta)
    _normalise(x)
    _bins_cut(x, g.log_tau_unit, g.log_b_unit)
    return x


def _bins_compose(steps, ordering: int, g: "Grid") -> Optional[Bins]:
    blocks = []
    for q, mu, n in steps:
        p = _bins_level0(q, mu, ordering, g)
        if p is None:
            return None
        acc = None
        k = 0
        while (n >> k) > 0:
            if (n >> k) & 1:
                acc = p.copy() if acc is None else _bins_merge(acc, p.copy(), g)
            k += 1
            if (n >> k) > 0:
                sq = _bins_conv(p, p)
                _normalise(sq)
                lc = math.log(sq.count)
                _bins_cut(sq, g.log_tau_unit + lc, g.log_b_unit + lc)
                _bins_regrid(sq, g.step(sq.count))
                p = sq
        blocks.append(acc)
    blocks.sort(key=lambda z: z.count)
    while len(blocks) > 1:
        r = _bins_merge(blocks.pop(0), blocks.pop(0), g)
        i = 0
        while i < len(blocks) and blocks[i].count < r.count:
            i += 1
        blocks.insert(i, r)
    return blocks[0]


def _lower_eps(x: Bins, delta: float) -> Optional[float]:
    """The largest eps (to bisection precision, rounded down) with a certified
    delta_lower(eps) > delta; 0.0 when even delta_lower(0) <= delta."""
    ld = math.log(delta)

    def above(e):
        return pld.log_delta_lower(x.a, x.b, x.o, x.h, x.logZ, x.lam, 0.0, e) > ld

    if not above(0.0):
        return 0.0
    lo, hi = 0.0, max(x.o + len(x.a) * x.h, 1e-9) + 1.0
    if above(hi):
        return None
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if above(mid):
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * (1.0 + lo):
            break
    return lo


def epsilon_lower(steps, delta: float, rtol: float = DEFAULT_RTOL, ordering: str = "max",
                  upper: Optional[Answer] = None) -> Optional[float]:
    """A certified *lower* bound on epsilon at ``delta`` for the ledger ``steps`` =
    [(q, mu, count), ...], about ``rtol`` below the truth, or None where none is available
    (a grid that would be too large).

    Each step's outcomes are merged into loss bins (a post-processing), and so is every
    composed pair; the hockey-stick divergence of a post-processed pair is below the true
    one, dropped outcomes only lower it further, and the computed masses are corrected for
    their rounding (``_pld.log_delta_lower``). For "max", the "pq" ordering's bound is
    returned (a lower bound of the maximum). ``upper``: the :func:`epsilon_upper` answer to
    steer from (computed when not given)."""
    if upper is None:
        upper = epsilon_upper(steps, delta, rtol, ordering)
    if not math.isfinite(upper.value) or upper.value <= 0.0 or not upper.passes:
        return None if upper.value > 0.0 else 0.0
    name = "qp" if ordering == "qp" else "pq"
    o = ORDERINGS.index(name)
    led = _ledger(steps, o)
    nlev = _n_lev(led.steps, led.T)
    eps_u = upper.value
    lam = led.chernoff_lam(eps_u)
    hu = min(p[1] for p in upper.passes)
    g = make_grid(lam, hu, *_budgets(led, lam, nlev, eps_u, delta))
    x = _bins_compose(led.steps, o, g)
    if x is None:
        return None
    e = _lower_eps(x, delta)
    return None if e is None else min(e, eps_u)

"""The eps grid on which every accountant of ours reads delta(eps) (not the peers').

delta(eps) is a formula evaluated in floating point: a difference of two O(1) terms
(Edgeworth, GDP), a tilt solved to ~1e-14 (saddle point), a minimum over orders (RDP), each
a few ulps off. For eps a few ulps apart the true change is below that rounding, so delta
could rise by an ulp as eps rises (found by hypothesis: Edgeworth at q = 0.5, sigma = 4,
T = 10 between eps = 0 and 1.1e-17; the saddle point at q = 0.75, sigma = 1.5, T = 4
between 0 and 1e-15; GDP and RDP an ulp above 0.75 and 0.5). Reading delta at eps rounded
down to a grid of 2^-EPS_GRID_BITS of its binade (of 1 below 1: an eps shift of at most
~5e-13 relative or 2.3e-13 absolute, which only raises an upper bound) makes such eps read
the same value, and a grid step moves delta by far more than the rounding; eps(delta) is
rounded up onto the grid, so delta(eps(delta)) <= delta still holds.
"""
import math

EPS_GRID_BITS = 42     # spacing: 2^-42 of eps's binade (of 1 for eps < 1), <= 5e-13 relative


def on_eps_grid(eps: float, up: bool = False) -> float:
    """eps rounded down (``up``: up) to a multiple of 2^-EPS_GRID_BITS of its binade (of 1
    for eps < 1), exactly; eps itself if it is not finite."""
    if not math.isfinite(eps):
        return eps
    w = math.ldexp(1.0, math.frexp(max(eps, 1.0))[1] - EPS_GRID_BITS)
    return (math.ceil if up else math.floor)(eps / w) * w

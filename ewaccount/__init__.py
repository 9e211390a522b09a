"""ewaccount: privacy accounting for DP-SGD with Edgeworth, saddle-point and certified
accountants, on Cython kernels.

>>> import ewaccount as ew
>>> eps = ew.epsilon(sample_rate=0.01, noise_multiplier=4.0, steps=10_000, delta=1e-5)
>>> 0.94687 <= eps <= 0.94687 * 1.005   # certified upper bound; truth 0.94687 (PRV, PLD)
True
>>> acc = ew.EdgeworthAccountant(order=2)
>>> acc.compose(ew.PoissonGaussian(sample_rate=0.01, noise_multiplier=1.0), count=1000).kind
'estimate'
"""
from ._kernels import COMPILED
from .accountants import (Accountant, CertifiedAccountant, EdgeworthAccountant, GDPAccountant,
                          MomentsAccountant, RDPAccountant, SaddlePointAccountant)
from .api import delta, epsilon, epsilon_bounds
from .calibrate import calibrate_noise
from .compare import compare, compare_noise
from .exceptions import EdgeworthWarning, SaddlePointWarning
from .mechanisms import Gaussian, PoissonGaussian
from .methods import DEFAULT_METHOD, METHODS
from .results import EpsilonResult

__version__ = "0.1.0"

__all__ = [
    "Accountant", "COMPILED", "EdgeworthAccountant", "EdgeworthWarning", "EpsilonResult",
    "Gaussian", "METHODS", "PoissonGaussian", "SaddlePointAccountant", "SaddlePointWarning",
    "calibrate_noise", "delta", "epsilon",
    "GDPAccountant", "MomentsAccountant", "RDPAccountant", "compare", "compare_noise",
    "CertifiedAccountant", "DEFAULT_METHOD", "epsilon_bounds",
]

"""ewaccount: privacy accounting for DP-SGD with Edgeworth, saddle-point and certified
accountants, on Cython kernels.

>>> import ewaccount as ew
>>> acc = ew.EdgeworthAccountant(order=2)
>>> acc.compose(ew.PoissonGaussian(sample_rate=0.01, noise_multiplier=1.0), count=1000).kind
'estimate'
"""
from ._kernels import COMPILED
from .accountants import (Accountant, EdgeworthAccountant, GDPAccountant, MomentsAccountant,
                          RDPAccountant, SaddlePointAccountant)
from .api import delta, epsilon
from .calibrate import calibrate_noise
from .compare import compare, compare_noise
from .exceptions import EdgeworthWarning, SaddlePointWarning
from .mechanisms import Gaussian, PoissonGaussian
from .methods import METHODS
from .results import EpsilonResult

__version__ = "0.1.0"

__all__ = [
    "Accountant", "COMPILED", "EdgeworthAccountant", "EdgeworthWarning", "EpsilonResult",
    "Gaussian", "METHODS", "PoissonGaussian", "SaddlePointAccountant", "SaddlePointWarning",
    "calibrate_noise", "delta", "epsilon",
    "GDPAccountant", "MomentsAccountant", "RDPAccountant", "compare", "compare_noise",
]

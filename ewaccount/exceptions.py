"""Warnings raised by ewaccount (errors are plain ``ValueError`` / ``TypeError``)."""


class EdgeworthWarning(UserWarning):
    """The Edgeworth expansion is unreliable here: the standardised cumulants of the sum
    are large, or the raw expansion left [0, 1] or is non-monotone above the answer.
    The number is an estimate either way; this says it may be far from the truth."""


class SaddlePointWarning(UserWarning):
    """The saddle-point estimate is unreliable here: the PLLR sum is nearly lattice (few
    expected sampled steps) or the tilted sum is far from normal (jump regime at small
    delta). The number is an estimate either way."""

"""What ran: frozen, validated descriptions of one step of a mechanism.

A mechanism here is described by its dominating pair (P, Q) (DESIGN.md section 1); the
numerics read it only through :meth:`pllr_params`, the (q, mu) of the privacy-loss
log-likelihood ratio L(x) = log(1 - q + q exp(mu x - mu^2/2)).
"""
from __future__ import annotations

from dataclasses import dataclass

from . import _validation as v


@dataclass(frozen=True)
class Gaussian:
    """The Gaussian mechanism with noise multiplier sigma (noise std / L2 sensitivity).

    Dominating pair P = N(0, 1), Q = N(mu, 1) with mu = 1/sigma. Its PLLR is Gaussian
    (X ~ N(-mu^2/2, mu^2), Y ~ N(mu^2/2, mu^2)), so every Edgeworth order is exact and T
    steps compose to mu-GDP with mu_T = sqrt(T) mu (Dong, Roth & Su 2022, Cor. 3.3).

    Examples
    --------
    >>> Gaussian(noise_multiplier=2.0).pllr_params()
    (1.0, 0.5)
    """

    noise_multiplier: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "noise_multiplier", v.noise_multiplier(self.noise_multiplier))

    @property
    def sample_rate(self) -> float:
        return 1.0

    def pllr_params(self) -> tuple[float, float]:
        """(q, mu) of the PLLR: q = 1 (no subsampling), mu = 1/sigma."""
        return 1.0, 1.0 / self.noise_multiplier


@dataclass(frozen=True)
class PoissonGaussian:
    """One DP-SGD step: Poisson subsampling at rate q, then the Gaussian mechanism.

    Dominating pair (Mironov, Talwar & Zhang 2019; Zhu, Dong & Wang 2022, Thm. 11):
    P = N(0, 1), Q = (1 - q) N(0, 1) + q N(mu, 1), mu = 1/sigma, so
    L(x) = log(1 - q + q exp(mu x - mu^2/2)). With q = 1 it is :class:`Gaussian`.

    Examples
    --------
    >>> PoissonGaussian(sample_rate=0.01, noise_multiplier=1.0).pllr_params()
    (0.01, 1.0)
    """

    sample_rate: float
    noise_multiplier: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "sample_rate", v.sample_rate(self.sample_rate))
        object.__setattr__(self, "noise_multiplier", v.noise_multiplier(self.noise_multiplier))

    def pllr_params(self) -> tuple[float, float]:
        """(q, mu) of the PLLR, mu = 1/sigma."""
        return self.sample_rate, 1.0 / self.noise_multiplier


Mechanism = (Gaussian, PoissonGaussian)


def to_dict(mechanism) -> dict:
    """JSON-serialisable description, inverse of :func:`from_dict`."""
    if isinstance(mechanism, Gaussian):
        return {"mechanism": "Gaussian", "noise_multiplier": mechanism.noise_multiplier}
    if isinstance(mechanism, PoissonGaussian):
        return {"mechanism": "PoissonGaussian", "sample_rate": mechanism.sample_rate,
                "noise_multiplier": mechanism.noise_multiplier}
    raise TypeError(f"mechanism must be Gaussian or PoissonGaussian, got {mechanism!r}")


def from_dict(d) -> Gaussian | PoissonGaussian:
    """Rebuild a mechanism from :func:`to_dict`'s output, validating every field."""
    if not isinstance(d, dict):
        raise ValueError(f"mechanism entry must be a dict, got {d!r}")
    kind = d.get("mechanism")
    fields = set(d) - {"mechanism"}
    if kind == "Gaussian" and fields == {"noise_multiplier"}:
        return Gaussian(noise_multiplier=d["noise_multiplier"])
    if kind == "PoissonGaussian" and fields == {"sample_rate", "noise_multiplier"}:
        return PoissonGaussian(sample_rate=d["sample_rate"], noise_multiplier=d["noise_multiplier"])
    raise ValueError(f"unknown or malformed mechanism entry {d!r}")

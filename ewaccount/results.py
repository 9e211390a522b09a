"""What a number is, carried beside it (DESIGN.md section 2, result types)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

KINDS = ("upper", "estimate", "lower")


@dataclass(frozen=True)
class EpsilonResult:
    """An epsilon with its meaning.

    ``value`` is the number a caller would use; ``kind`` says whether it is a valid
    (eps, delta)-DP guarantee ("upper"), an approximation with no direction ("estimate")
    or a certified lower bound ("lower"). ``lower`` / ``estimate`` / ``upper`` hold what
    is known beside it (None where nothing is). ``route`` names how it was obtained.
    """

    value: float
    kind: str
    method: str
    delta: float
    route: str = ""
    note: str = ""
    lower: Optional[float] = None
    estimate: Optional[float] = None
    upper: Optional[float] = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")

    def __float__(self) -> float:
        return float(self.value)

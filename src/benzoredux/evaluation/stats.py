"""Confidence intervals for the evaluation's rates: Wilson's score interval.

Why Wilson and not the textbook normal ("Wald") interval: a GP sends 15 to 40 letters, and with
so few patients and rates near 0 or 1 (no stoppers, or all of them) the normal interval runs
below 0 or above 1, or collapses to a single point. Wilson's interval (Wilson, 1927; advised by
Brown, Cai and DasGupta, *Interval Estimation for a Binomial Proportion*, Statistical Science
2001) stays inside [0, 1] and keeps close to its nominal coverage for small groups.

The same formula exists twice: :func:`wilson_interval` for one count in Python, and
:func:`wilson_expressions` as dataframe expressions for a whole table of groups; the tests hold
them against each other.
"""

from __future__ import annotations

import math

import narwhals as nw

__all__ = ["Z_95", "wilson_expressions", "wilson_interval"]

Z_95 = 1.959963984540054
"""The standard normal quantile for a two-sided 95% interval."""


def wilson_interval(events: int, total: int, *, z: float = Z_95) -> tuple[float, float] | None:
    """Wilson's score interval for ``events`` out of ``total``; ``None`` when ``total`` is 0.

    >>> low, high = wilson_interval(27, 100)
    >>> round(low, 3), round(high, 3)
    (0.193, 0.364)
    >>> wilson_interval(0, 0) is None
    True
    """
    if total < 0 or events < 0 or events > total:
        raise ValueError(f"need 0 <= events <= total; got events={events}, total={total}")
    if total == 0:
        return None
    p = events / total
    z2 = z * z
    denominator = 1 + z2 / total
    centre = (p + z2 / (2 * total)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total))
    return max(0.0, centre - half), min(1.0, centre + half)


def wilson_expressions(events: str, total: str, *, z: float = Z_95) -> tuple[nw.Expr, nw.Expr]:
    """Lower and upper Wilson bounds as expressions on count columns ``events`` and ``total``.

    Null where ``total`` is 0 (an empty group has no rate, and no interval).
    """
    n = nw.col(total).cast(nw.Float64)
    x = nw.col(events).cast(nw.Float64)
    z2 = z * z
    p = x / n
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * (p * (1 - p) / n + z2 / (4 * n * n)).sqrt()
    has = nw.col(total) > 0
    # clip, not min/max_horizontal with a literal: Dask cannot align a literal as a column.
    low = nw.when(has).then((centre - half).clip(lower_bound=0.0))
    high = nw.when(has).then((centre + half).clip(upper_bound=1.0))
    return low, high

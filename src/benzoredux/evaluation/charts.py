"""Charts for the FTO meeting, as PNG or SVG files (needs matplotlib, the ``charts`` extra).

* :func:`chart_chronic_users_per_gp`: the FTO module's example chart ("voorbeeldgrafiek 1",
  bijlage 1), the number of chronic users per GP, with the standard practice's 35-65 band when
  the counts are scaled to a standard practice
  (:func:`~benzoredux.evaluation.indicators.chronic_users_indicator`);
* :func:`chart_funnel`: selected -> chronic users -> eligible -> letters -> invited ->
  consults -> stoppers (the steps given);
* :func:`chart_before_after`: a figure per GP before and after (chronic users, DDD per day).

matplotlib is imported only by these functions, and they draw on an Agg canvas of their own
(never ``pyplot``): no global backend is switched and no window opens, so they run on a
practice server and in tests alike. The format follows the file's suffix (``.png`` or
``.svg``); SVG files keep their text as text and carry no date, so the same figures give the
same file. Chart texts are in Dutch, for the meeting.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import narwhals as nw
from narwhals.typing import IntoFrame

from benzoredux.output import private_file

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "FUNNEL_STEPS",
    "chart_before_after",
    "chart_chronic_users_per_gp",
    "chart_funnel",
]

FUNNEL_STEPS = (
    ("selected", "Geselecteerd"),
    ("chronic_users", "Chronische gebruikers"),
    ("eligible", "Komen in aanmerking"),
    ("letters", "Stopbrief verstuurd"),
    ("invited", "Uitgenodigd"),
    ("consults", "Evaluatieconsult"),
    ("stoppers", "Gestopt"),
)
"""The funnel's steps: key in the counts passed to :func:`chart_funnel`, and its label."""

_FORMATS = {".png": "png", ".svg": "svg"}


def _format(path: Path) -> str:
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path.name}: charts are written as .png or .svg, not {path.suffix!r}")
    return fmt


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _save(figure: Figure, path: str | os.PathLike[str]) -> Path:
    import matplotlib

    target = Path(path)
    fmt = _format(target)
    metadata = {"Date": None} if fmt == "svg" else {}
    with (
        matplotlib.rc_context({"svg.hashsalt": "benzoredux", "svg.fonttype": "none"}),
        private_file(target, "wb") as handle,
    ):
        figure.savefig(handle, format=fmt, metadata=metadata)
    return target


def _eager(frame: IntoFrame, name: str, columns: Sequence[str]) -> nw.DataFrame[Any]:
    native = nw.from_native(frame)
    eager = native.collect() if isinstance(native, nw.LazyFrame) else native
    missing = [c for c in columns if c not in eager.columns]
    if missing:
        raise ValueError(
            f"{name}: missing column(s) {', '.join(missing)}; "
            f"columns found: {', '.join(eager.columns)}"
        )
    if "level" in eager.columns:  # indicator tables: the GP rows, not the total
        eager = eager.filter(nw.col("level") == "gp")
    return eager


def _gp_label(value: Any) -> str:
    return "(geen huisarts)" if value is None else str(value)


def chart_chronic_users_per_gp(
    counts: IntoFrame, path: str | os.PathLike[str], *, title: str | None = None
) -> Path:
    """Bar chart of chronic users per GP (the FTO module's example chart).

    :param counts: :func:`benzoredux.count_per_gp` (``gp_id``, ``chronic_users``) or
        :func:`~benzoredux.evaluation.indicators.chronic_users_indicator`; with the latter, a
        second series shows the users scaled to a standard practice against its band.
    """
    eager = _eager(counts, "chart_chronic_users_per_gp", ("gp_id", "chronic_users"))
    labels = [_gp_label(v) for v in eager["gp_id"].to_list()]
    users = [int(v or 0) for v in eager["chronic_users"].to_list()]
    figure, axes = _figure(max(4.0, 0.9 * len(labels) + 2), 4.0)
    positions = list(range(len(labels)))
    scaled = "per_standard_practice" in eager.columns
    width = 0.4 if scaled else 0.7
    shift = width / 2 if scaled else 0.0
    bars = axes.bar([p - shift for p in positions], users, width, label="Chronische gebruikers")
    axes.bar_label(bars)
    if scaled:
        values = [float(v) if v is not None else 0.0 for v in eager["per_standard_practice"]]
        axes.bar([p + shift for p in positions], values, width, label="Per normpraktijk", alpha=0.7)
        low = float(eager["standard_low"][0]) if len(eager) else 35.0
        high = float(eager["standard_high"][0]) if len(eager) else 65.0
        axes.axhspan(low, high, color="grey", alpha=0.15, label=f"Normpraktijk {low:g}-{high:g}")
        axes.legend()
    axes.set_xticks(positions, labels)
    axes.set_xlabel("Huisarts")
    axes.set_ylabel("Aantal chronische gebruikers")
    axes.set_title(title or "Chronische gebruikers van benzodiazepinen per huisarts")
    return _save(figure, path)


def chart_funnel(
    counts: Mapping[str, float], path: str | os.PathLike[str], *, title: str | None = None
) -> Path:
    """Horizontal funnel: selected, chronic users, eligible, letters, invited, consults,
    stoppers.

    :param counts: numbers keyed by the keys of :data:`FUNNEL_STEPS`; steps left out are not
        drawn, unknown keys are refused.
    """
    unknown = sorted(set(counts) - {key for key, _ in FUNNEL_STEPS})
    if unknown:
        raise ValueError(
            f"chart_funnel: unknown step(s) {', '.join(unknown)}; "
            f"known: {', '.join(key for key, _ in FUNNEL_STEPS)}"
        )
    steps = [(label, float(counts[key])) for key, label in FUNNEL_STEPS if key in counts]
    figure, axes = _figure(6.5, 0.6 * len(steps) + 1.5)
    labels = [label for label, _ in steps][::-1]
    values = [value for _, value in steps][::-1]
    bars = axes.barh(labels, values)
    axes.bar_label(bars, labels=[f"{v:g}" for v in values])
    axes.set_xlabel("Aantal patiënten")
    axes.set_title(title or "Van selectie tot stoppen")
    return _save(figure, path)


def chart_before_after(
    table: IntoFrame,
    path: str | os.PathLike[str],
    *,
    before: str = "before",
    after: str = "after",
    labels: Iterable[str] = ("Voor", "Na"),
    ylabel: str = "Chronische gebruikers",
    title: str | None = None,
) -> Path:
    """Grouped bars per GP: column ``before`` against column ``after``.

    For chronic users at the start and at the evaluation, join two
    :func:`benzoredux.count_per_gp` results on ``gp_id``; for use among non-stoppers, take the
    mean ``ddd_per_day_before``/``ddd_per_day_after`` per GP of the effect evaluation.
    """
    eager = _eager(table, "chart_before_after", ("gp_id", before, after))
    names = [_gp_label(v) for v in eager["gp_id"].to_list()]
    first, second = [
        [float(v) if v is not None else 0.0 for v in eager[column].to_list()]
        for column in (before, after)
    ]
    label_before, label_after = tuple(labels)
    figure, axes = _figure(max(4.0, 0.9 * len(names) + 2), 4.0)
    positions = list(range(len(names)))
    axes.bar([p - 0.2 for p in positions], first, 0.4, label=label_before)
    axes.bar([p + 0.2 for p in positions], second, 0.4, label=label_after)
    axes.set_xticks(positions, names)
    axes.set_xlabel("Huisarts")
    axes.set_ylabel(ylabel)
    axes.legend()
    axes.set_title(title or "Voor en na de stopbrief, per huisarts")
    return _save(figure, path)

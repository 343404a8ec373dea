"""The HTML report for the FTO meeting: one self-contained file with the figures per GP, the
doses, the funnel from selection to stopping (adding up row by row), the evaluation and, last,
the plan of action (its overdue tasks in view, the full list folded). Its text is Dutch, dates
included ("29 april 2026").

:func:`write_report` reads what the steps left behind: the programme register when given (the
programme, the selection snapshot, the screening decisions, the letters, the plan tasks and the
evaluation runs) and the files the step commands wrote into one folder
(``chronic_users_per_gp.csv``, ``new_users.csv``, ``screening.csv``, ``plan.csv``,
``evaluation/effect_summary.csv`` and ``evaluation/process.csv``). A step not yet done is shown
as such, never as an error.

The report holds aggregates only (counts per GP, per step, per task): no patient identifiers,
names or addresses, so it can be shown on the screen at the meeting. It is one HTML file with
no scripts and nothing loaded from elsewhere (see :mod:`benzoredux.report.render`); the charts
(:mod:`benzoredux.evaluation.charts`, the ``charts`` extra) are inlined as SVG images, and
without matplotlib the report still has every table and says the charts need the extra.
"""

from __future__ import annotations

import base64
import datetime as dt
import importlib.util
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from benzoredux.output import private_file
from benzoredux.register.core import Register
from benzoredux.report.gather import ReportData, gather
from benzoredux.report.render import render_html

__all__ = ["CHARTS_NOTE", "REPORT_FILE", "write_report"]

REPORT_FILE = "report.html"
"""The report's file name in the folder when ``out`` is not given."""

CHARTS_NOTE = (
    "Grafieken zijn niet gemaakt: daarvoor is matplotlib nodig "
    "(pip install 'benzoredux[charts]'). De tabellen hierboven bevatten dezelfde getallen."
)
"""What the report says in place of a chart when matplotlib is not installed."""

_PROLOGUE = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>", re.DOTALL)


def _svg_uri(draw: Callable[[Path], Path]) -> str:
    """Draw a chart into a private temporary SVG and return it as a ``data:`` URI, without the
    XML prologue (a DOCTYPE naming an outside address) and the metadata block."""
    with tempfile.TemporaryDirectory(prefix="benzoredux-report-") as tmp:
        svg = draw(Path(tmp) / "chart.svg").read_text(encoding="utf-8")
    svg = _METADATA.sub("", _PROLOGUE.sub("", svg, count=1), count=1)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _charts(data: ReportData) -> dict[str, str | None]:
    from benzoredux.evaluation.charts import (
        FUNNEL_STEPS,
        chart_chronic_users_per_gp,
        chart_funnel,
    )

    charts: dict[str, str | None] = {"per_gp": None, "funnel": None}
    frame = data.per_gp
    if frame is not None and frame["chronic_users"].notna().all() and len(frame):
        table = frame.assign(gp_id=[_label(data, g) for g in frame["gp_id"]])
        if "per_standard_practice" in table.columns:
            table = table.assign(standard_low=35.0, standard_high=65.0)
            columns = ["gp_id", "chronic_users", "per_standard_practice"]
            columns += ["standard_low", "standard_high"]
        else:
            columns = ["gp_id", "chronic_users"]
        charts["per_gp"] = _svg_uri(
            lambda path: chart_chronic_users_per_gp(
                table[columns], path, title="Chronische gebruikers per huisarts"
            )
        )
    drawn = {key for key, _ in FUNNEL_STEPS}
    counts = {
        step.key: float(step.count)
        for step in data.funnel
        if step.count is not None and step.key in drawn
    }
    if counts:
        charts["funnel"] = _svg_uri(lambda path: chart_funnel(counts, path))
    return charts


def _label(data: ReportData, gp_id: Any) -> str:
    text = "" if gp_id is None or pd.isna(gp_id) else str(gp_id)
    return data.gp_names.get(text, text) or "(geen huisarts)"


def write_report(
    folder: str | os.PathLike[str],
    *,
    register: str | os.PathLike[str] | Register | None = None,
    out: str | os.PathLike[str] | None = None,
    title: str | None = None,
    as_of: dt.date | None = None,
) -> Path:
    """Write the FTO meeting's report and return its path.

    :param folder: the folder the step commands wrote into (``select``, ``screen``,
        ``schedule``, ``plan``; the evaluation in its ``evaluation`` subfolder).
    :param register: the programme register to read: an open
        :class:`~benzoredux.Register`, or its location (a path, or ``NAME://...`` for a store
        of a plugin), which must exist. ``None``: the files only.
    :param out: where to write (default ``folder / "report.html"``); owner-only, atomic.
    :param title: the page's title (default: after the programme's name).
    :param as_of: the day that decides which plan tasks are overdue (default: today).

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_report(Path(folder))
    ...     print(path.name, "Nog niet gedaan" in path.read_text(encoding="utf-8"))
    report.html True
    """
    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"{root}: no such folder (the folder the steps wrote into)")
    day = as_of or dt.datetime.now(dt.UTC).astimezone().date()
    if isinstance(register, Register):
        with register.transaction():
            data = gather(root, register, as_of=day)
    elif register is not None:
        from benzoredux.register import open_register

        location = os.fspath(register)
        if "://" not in location and not Path(location).is_file():
            raise ValueError(f"{location}: no programme register there")
        with open_register(location) as opened, opened.transaction():
            data = gather(root, opened, as_of=day)
    else:
        data = gather(root, None, as_of=day)
    has_matplotlib = importlib.util.find_spec("matplotlib") is not None
    charts = _charts(data) if has_matplotlib else {}
    page = render_html(
        data,
        title=title or _title(data),
        charts=charts,
        charts_note=None if has_matplotlib else CHARTS_NOTE,
    )
    target = Path(out) if out is not None else root / REPORT_FILE
    with private_file(target, "w", encoding="utf-8") as handle:
        handle.write(page)
    return target


def _title(data: ReportData) -> str:
    base = "Stoppen met benzodiazepinen: overzicht voor het FTO"
    return f"{base} ({data.programme})" if data.programme else base

"""What the report shows, gathered from the programme register and the steps' output folder.

Each part comes from the register when it holds that part (so the report continues where the
steps left off, whoever ran them), and otherwise from the file the step command wrote into the
folder. A part that neither has is ``None``: the report says it is not yet done.

The funnel (:func:`build_funnel`) adds up row by row: each step is the one before it less the
patients it lost and plus the few it gained, so the meeting can follow every patient from the
selection to the stoppers (:func:`funnel_mismatches` checks it). The plan's tasks are moved
along and dated by what the register shows (:func:`~benzoredux.evaluation.plan.recorded_evidence`,
the rule ``benzoredux plan`` applies too).

Only aggregates leave this module: counts per GP, per step and per task. Patient identifiers
are read (to count distinct patients) but never kept in :class:`ReportData`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from attrs import field, frozen

# recorded_progress moved to the plan of action; still importable from here.
from benzoredux.evaluation.plan import (
    TaskEvidence,
    recorded_evidence,
    recorded_progress,  # noqa: F401
)
from benzoredux.letters.rendering import dutch_date
from benzoredux.output import read_step_csv

__all__ = [
    "DOSE_LIMITS",
    "EffectFigures",
    "FunnelStep",
    "ReportData",
    "build_funnel",
    "dose_per_gp",
    "funnel_mismatches",
    "gather",
]

_OPEN = ("open", "in_progress")

DOSE_LIMITS = (1, 2)
"""The seed's two limits in DDD a day (bijlage 2, step 2: "meer dan 1 of 2 DDD per dag"): the
NHG guideline's 1 and the Benzoredux study's 2. The report counts the chronic users above each."""

_DOSES = {"year": "ddd_per_day", "recent": "ddd_per_day_recent"}


FunnelKind = Literal["stage", "start", "minus", "plus", "part"]


@frozen
class FunnelStep:
    """One row of the funnel: its key, its label (Dutch, for the meeting) and its count.

    The rows add up. A ``stage`` (selected, chronic users, eligible, letters, invited, came to
    the consult, evaluated) equals the stage named by ``of`` less the ``minus`` rows and plus
    the ``plus`` rows whose ``of`` is this stage (they stand just above it). A ``start`` row
    repeats the stage ``of`` (the effect's branch starts again from the letters); a ``part``
    counts some of the stage ``of`` (the stoppers among the evaluated).
    :func:`funnel_mismatches` checks this.
    """

    key: str
    label: str
    count: int | None
    """``None``: the step is not yet done (or its data are not available)."""
    source: str = ""
    kind: FunnelKind = "stage"
    of: str = ""


def funnel_mismatches(funnel: Sequence[FunnelStep]) -> list[str]:
    """The rows of ``funnel`` that do not add up (see :class:`FunnelStep`), as readable
    sentences; empty when every row whose counts are known adds up.

    >>> from benzoredux.report.gather import FunnelStep, funnel_mismatches
    >>> rows = [FunnelStep("a", "A", 10), FunnelStep("x", "x", 3, kind="minus", of="b"),
    ...         FunnelStep("b", "B", 7, of="a"), FunnelStep("c", "C", 2, kind="part", of="b")]
    >>> funnel_mismatches(rows)
    []
    >>> funnel_mismatches([*rows[:2], FunnelStep("b", "B", 8, of="a")])
    ['b: 10 - 3 + 0 is not 8']
    """
    counts = {step.key: step.count for step in funnel if step.kind in ("stage", "start")}
    wrong = []
    for step in funnel:
        if step.count is None or not step.of or counts.get(step.of) is None:
            continue
        base = counts[step.of]
        assert base is not None
        if step.kind == "stage":
            moves = [s for s in funnel if s.of == step.key and s.kind in ("minus", "plus")]
            if any(s.count is None for s in moves):
                wrong.append(f"{step.key}: a change of unknown size")
                continue
            minus = sum(s.count or 0 for s in moves if s.kind == "minus")
            plus = sum(s.count or 0 for s in moves if s.kind == "plus")
            if base - minus + plus != step.count:
                wrong.append(f"{step.key}: {base} - {minus} + {plus} is not {step.count}")
        elif step.kind == "start" and step.count != base:
            wrong.append(f"{step.key}: {step.count} repeats {step.of} ({base})")
        elif step.kind == "part" and not 0 <= step.count <= base:
            wrong.append(f"{step.key}: {step.count} is not part of {step.of} ({base})")
        elif step.kind in ("minus", "plus") and step.count < 0:
            wrong.append(f"{step.key}: {step.count} is negative")
    return wrong


@frozen(kw_only=True)
class ReportData:
    """Everything the report shows; aggregates only (no patient identifiers)."""

    programme: str | None = None
    reference_date: dt.date | None = None
    gp_names: Mapping[str, str] = field(factory=dict)
    per_gp: pd.DataFrame | None = None
    """One row per GP: ``gp_id``, ``chronic_users``, ``probably_stopped``, and when known
    ``listed_patients``, ``per_1000_listed``, ``per_standard_practice``, ``vs_standard``,
    ``new_users``, ``large_first``."""
    new_users_known: bool = False
    dose: pd.DataFrame | None = None
    """The chronic users' doses: one row per GP (``level`` ``gp``) and one for the whole
    practice (``level`` ``total``): see :func:`dose_per_gp`."""
    dose_months: tuple[int, int] = (12, 3)
    """The months of the year's average and of the current dose, for the headings."""
    funnel: tuple[FunnelStep, ...] = ()
    plan: pd.DataFrame | None = None
    """``task_id``, ``what``, ``who``, ``due``, ``status``, ``closed_on`` (the date of the
    evidence that closed a task, or the day it was ticked off), ``note`` and ``overdue``."""
    plan_source: str = ""
    effect_summary: pd.DataFrame | None = None
    process: pd.DataFrame | None = None
    evaluation_source: str = ""
    sources: tuple[str, ...] = ()
    as_of: dt.date = field(factory=dt.date.today)


def _need(frame: pd.DataFrame, path: Path, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{path}: missing column(s) {', '.join(missing)}; "
            f"columns found: {', '.join(map(str, frame.columns))}"
        )


def _per_gp(table: pd.DataFrame, flag: str, *, count: str) -> pd.DataFrame:
    """Per GP: the patients (as ``count``) and how many of them have ``flag`` set (as
    ``flag``; none when the column is absent)."""
    flags = table[flag].map(_flag) if flag in table.columns else pd.Series(False, index=table.index)
    return (
        pd.DataFrame({"gp_id": _gp(table["gp_id"]), "_flag": flags.astype(int)})
        .groupby("gp_id", sort=True)
        .agg(**{count: ("_flag", "size"), flag: ("_flag", "sum")})
        .reset_index()
    )


def _gp(series: pd.Series) -> pd.Series:
    return series.astype("string").fillna("")


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return bool(value)


def _excluded(value: Any) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return bool(str(value).strip())


def dose_per_gp(selection: pd.DataFrame) -> pd.DataFrame | None:
    """Per GP and for the whole practice: how the chronic users' doses are spread (issue 14).

    For each dose, ``year`` (the selection's ``ddd_per_day``, the average over the window) and
    ``recent`` (``ddd_per_day_recent``, the current dose): ``{dose}_median`` of the known
    values, ``{dose}_above_1`` and ``{dose}_above_2`` (strictly above the seed's limits) and
    ``{dose}_unknown`` (no value). Where both are known, ``rose_above_{limit}`` counts the
    patients above the limit recently but not on average (the rise a year's average hides) and
    ``fell_above_{limit}`` the reverse (on average above, recently not: cut down, or a supply
    just before the recent window). A dose the selection lacks (made by an earlier version) is
    empty throughout, and so are the two comparisons; a selection with neither gives ``None``.
    Columns ``level`` (``gp`` or ``total``), ``gp_id`` and ``chronic_users`` come first; the
    GPs are sorted.

    >>> from benzoredux.report.gather import dose_per_gp
    >>> table = pd.DataFrame({"gp_id": ["a", "a", "b"], "ddd_per_day": [1.67, 0.5, None],
    ...                       "ddd_per_day_recent": [3.0, 0.4, 1.2]})
    >>> dose_per_gp(table)[["level", "gp_id", "recent_median", "rose_above_2", "year_unknown"]]
       level gp_id  recent_median  rose_above_2  year_unknown
    0     gp     a            1.7           1.0             0
    1     gp     b            1.2           0.0             1
    2  total                  1.2           1.0             1
    """
    present = [dose for dose, column in _DOSES.items() if column in selection.columns]
    if not present:
        return None
    frame = pd.DataFrame({"gp_id": _gp(selection["gp_id"])}, index=selection.index)
    aggregations: dict[str, tuple[str, str]] = {"chronic_users": ("gp_id", "size")}
    values = {}
    for dose in present:
        value = pd.to_numeric(selection[_DOSES[dose]], errors="coerce").astype(float)
        values[dose] = value
        frame[dose] = value
        frame[f"{dose}_unknown"] = value.isna().astype(int)
        aggregations[f"{dose}_median"] = (dose, "median")
        for limit in DOSE_LIMITS:
            frame[f"{dose}_above_{limit}"] = (value > limit).astype(int)
            aggregations[f"{dose}_above_{limit}"] = (f"{dose}_above_{limit}", "sum")
        aggregations[f"{dose}_unknown"] = (f"{dose}_unknown", "sum")
    if len(values) == len(_DOSES):
        year, recent = values["year"], values["recent"]
        for limit in DOSE_LIMITS:
            frame[f"rose_above_{limit}"] = ((recent > limit) & (year <= limit)).astype(float)
            frame[f"fell_above_{limit}"] = ((year > limit) & (recent <= limit)).astype(float)
            for name in (f"rose_above_{limit}", f"fell_above_{limit}"):
                aggregations[name] = (name, "sum")
    per_gp = frame.groupby("gp_id", sort=True).agg(**aggregations).reset_index()
    total = frame.assign(gp_id="").groupby("gp_id").agg(**aggregations).reset_index()
    result = pd.concat([per_gp.assign(level="gp"), total.assign(level="total")], ignore_index=True)
    columns = ["level", "gp_id", "chronic_users"]
    for dose in _DOSES:
        columns += [f"{dose}_median", *(f"{dose}_above_{limit}" for limit in DOSE_LIMITS)]
        columns.append(f"{dose}_unknown")
    for limit in DOSE_LIMITS:
        columns += [f"rose_above_{limit}", f"fell_above_{limit}"]
    for column in columns:
        if column not in result.columns:
            result[column] = float("nan")
    return result[columns]


class _Gathering:
    def __init__(self, folder: Path, register: Any, as_of: dt.date) -> None:
        self.folder = folder
        self.register = register
        self.as_of = as_of
        self.sources: list[str] = []

    def file(self, *names: str) -> Path | None:
        for name in names:
            path = self.folder / name
            if path.is_file():
                return path
        return None

    def used(self, source: str) -> None:
        if source not in self.sources:
            self.sources.append(source)

    # --- per GP ---------------------------------------------------------------------------
    def per_gp(self) -> tuple[pd.DataFrame | None, bool]:
        counts = None
        if self.register is not None and self.register.current("selections"):
            selection = self.register.selection()
            chosen = selection
            if "excluded_because" in selection.columns:
                chosen = selection[~selection["excluded_because"].map(_excluded)]
            counts = _per_gp(chosen, "probably_stopped", count="chronic_users")
            self.used(f"{_REGISTER}: selectie")
        path = self.file("chronic_users_per_gp.csv")
        listed = None
        if path is not None:
            table = read_step_csv(path)
            _need(table, path, ("gp_id", "chronic_users"))
            table["gp_id"] = _gp(table["gp_id"])
            if counts is None:
                keep = [c for c in ("gp_id", "chronic_users", "probably_stopped") if c in table]
                counts = table[keep].copy()
            if "listed_patients" in table.columns:
                listed = table[["gp_id", "listed_patients"]]
            self.used(path.name)
        if counts is not None and listed is not None:
            # GPs with listed patients but no chronic users count as 0, not as absent.
            counts = counts.merge(listed, on="gp_id", how="outer")
            counts["chronic_users"] = counts["chronic_users"].fillna(0)
        new_users_known = False
        new_path = self.file("new_users.csv")
        if new_path is not None:
            new = read_step_csv(new_path)
            _need(new, new_path, ("patient_id", "gp_id"))
            per_gp_new = _per_gp(new, "large_first", count="new_users")
            if counts is None:
                counts = per_gp_new.assign(chronic_users=None)
            else:
                # A GP with new users only has no chronic users: 0, not unknown.
                counts = counts.merge(per_gp_new, on="gp_id", how="outer")
                counts["chronic_users"] = counts["chronic_users"].fillna(0)
                if "probably_stopped" in counts.columns:
                    counts["probably_stopped"] = counts["probably_stopped"].fillna(0)
            counts[["new_users", "large_first"]] = counts[["new_users", "large_first"]].fillna(0)
            new_users_known = True
            self.used(new_path.name)
        if counts is None:
            return None, False
        counts = counts.sort_values("gp_id", kind="stable").reset_index(drop=True)
        if "chronic_users" in counts.columns and counts["chronic_users"].notna().all():
            counts["chronic_users"] = counts["chronic_users"].astype(int)
            if "listed_patients" in counts.columns and counts["listed_patients"].notna().any():
                counts = self._against_standard(counts)
        return counts, new_users_known

    @staticmethod
    def _against_standard(counts: pd.DataFrame) -> pd.DataFrame:
        from benzoredux.evaluation.indicators import chronic_users_indicator

        # Only GPs whose listed patients are known can be set against the standard practice.
        known = counts[counts["listed_patients"].notna()]
        indicator = chronic_users_indicator(
            known[["gp_id", "chronic_users", "listed_patients"]].assign(
                gp_id=lambda f: f["gp_id"].astype(object),
                listed_patients=lambda f: f["listed_patients"].astype(int),
            ),
            engine="native",
        )
        per_gp = indicator[indicator["level"] == "gp"].drop(columns=["level", "chronic_users"])
        per_gp = per_gp.assign(gp_id=_gp(per_gp["gp_id"]))
        return counts.drop(columns=["listed_patients"]).merge(per_gp, on="gp_id", how="left")

    # --- the doses ------------------------------------------------------------------------
    def dose(self) -> pd.DataFrame | None:
        """The chronic users' doses per GP, from the selection snapshot or chronic_users.csv
        (the patients the selection kept: not those it excluded)."""
        if self.register is not None and self.register.current("selections"):
            table, source = self.register.selection(), f"{_REGISTER}: selectie"
        else:
            path = self.file("chronic_users.csv")
            if path is None:
                return None
            table, source = read_step_csv(path), path.name
            _need(table, path, ("patient_id", "gp_id"))
        if "excluded_because" in table.columns:
            table = table[~table["excluded_because"].map(_excluded)]
        dose = dose_per_gp(table)
        if dose is not None:
            self.used(source)
        return dose

    # --- the funnel -----------------------------------------------------------------------
    def selection_ids(self) -> tuple[frozenset[str] | None, frozenset[str] | None]:
        """Everyone the selection kept and those it excluded (``excluded_because``), as sets
        of patient ids; the excluded are ``None`` when the selection did not keep them."""
        if self.register is not None and self.register.current("selections"):
            table = self.register.selection()
            self.used(f"{_REGISTER}: selectie")
        else:
            path = self.file("chronic_users.csv")
            table = None
            if path is not None:
                table = read_step_csv(path)
                _need(table, path, ("patient_id",))
            else:
                path = self.file("screening.csv")
                if path is not None:
                    table = read_step_csv(path)
                    if not {"patient_id", "excluded_because"} <= set(table.columns):
                        return None, None
            if table is None or path is None:
                return None, None
            self.used(path.name)
        ids = table["patient_id"].astype(str)
        if "excluded_because" not in table.columns:
            return frozenset(ids), None
        excluded = table["excluded_because"].map(_excluded).astype(bool)
        return frozenset(ids), frozenset(ids[excluded])

    def decisions(self) -> dict[str, str] | Counter[str] | None:
        """The screening decision in force per patient (``eligible``, ``excluded``,
        ``review``): the GP's where there is one; counts only when the file has no ids."""
        if self.register is not None:
            decided = self.register.screening()
            if decided:
                self.used(f"{_REGISTER}: screening")
                return {patient: _decision(entry) for patient, entry in decided.items()}
        path = self.file("screening.csv")
        if path is None:
            return None
        table = read_step_csv(path)
        _need(table, path, ("decision",))
        unknown = sorted(set(table["decision"].dropna()) - set(_DECISIONS))
        if unknown or table["decision"].isna().any():
            raise ValueError(
                f"{path}: column 'decision' holds {unknown or ['(empty)']}; "
                "expected eligible, excluded or review"
            )
        self.used(path.name)
        if "patient_id" not in table.columns:
            return Counter(str(d) for d in table["decision"])
        return dict(
            zip(table["patient_id"].astype(str), table["decision"].astype(str), strict=True)
        )

    def letters(self) -> tuple[frozenset[str] | None, frozenset[str] | None]:
        """The patients with a stop letter and with an invitation, from the register."""
        if self.register is None:
            return None, None
        stop = frozenset(e["patient_id"] for e in self.register.letters("stop_letter"))
        invited = frozenset(e["patient_id"] for e in self.register.letters("invitation"))
        if stop or invited:
            self.used(f"{_REGISTER}: brieven")
        return stop or None, invited or None

    def came(self) -> frozenset[str] | None:
        """The patients who came to an evaluation consult, from the register."""
        if self.register is None:
            return None
        consults = self.register.current("consults")
        if not consults:
            return None
        self.used(f"{_REGISTER}: consulten")
        return frozenset(e["patient_id"] for e in consults if e["attended"])

    # --- the plan -------------------------------------------------------------------------
    def plan(self) -> tuple[pd.DataFrame | None, str]:
        rows: list[dict[str, Any]] = []
        source = ""
        if self.register is not None:
            tasks = self.register.current("tasks")
            if tasks:
                source = _REGISTER
                self.used(f"{_REGISTER}: taken van het plan")
                evidence = recorded_evidence(self.register)
                rows = [self._task(task, evidence.get(task["task_id"])) for task in tasks]
        if not rows:
            path = self.file("plan.csv")
            if path is None:
                return None, ""
            rows = self._plan_file(path)
            source = path.name
            self.used(source)
        frame = pd.DataFrame(rows, columns=list(_PLAN_COLUMNS))
        frame["overdue"] = [
            status in _OPEN and due is not None and due < self.as_of
            for status, due in zip(frame["status"], frame["due"], strict=True)
        ]
        frame = frame.sort_values("due", kind="stable", na_position="last")
        return frame.reset_index(drop=True), source

    def _task(self, task: Any, evidence: TaskEvidence | None) -> dict[str, Any]:
        """One register task as the report shows it: the register's evidence moves an open
        task along (as ``benzoredux plan`` does) and dates a closed one; a task ticked off by
        hand is dated by the day it was ticked off."""
        status, note, closed_on = str(task["status"]), str(task["note"] or ""), None
        if evidence is not None and status in _OPEN:
            status = evidence.status
        if evidence is not None and evidence.status == status:
            note, closed_on = evidence.note, evidence.on
        if status in ("done", "skipped") and closed_on is None:
            closed_on = _ticked_on(self.register, task["task_id"], status)
        return {
            "task_id": task["task_id"],
            "what": task["what"],
            "who": task["who"],
            "due": task["due"],
            "status": status,
            "closed_on": closed_on if status in ("done", "skipped") else None,
            "note": note,
        }

    @staticmethod
    def _plan_file(path: Path) -> list[dict[str, Any]]:
        table = read_step_csv(path)
        _need(table, path, ("task_id", "what", "due", "status"))
        records: list[dict[str, Any]] = [
            {str(k): v for k, v in r.items()} for r in table.to_dict("records")
        ]
        rows = []
        for number, row in enumerate(records, start=2):
            try:
                due = dt.date.fromisoformat(str(row["due"]))
            except ValueError:
                raise ValueError(
                    f"{path}, line {number}, column 'due': not an ISO date: {row['due']!r}"
                ) from None
            rows.append(
                {
                    "task_id": str(row["task_id"]),
                    "what": str(row["what"]),
                    "who": _text(row.get("who")),
                    "due": due,
                    "status": str(row["status"]),
                    "closed_on": None,
                    "note": _text(row.get("note")),
                }
            )
        return rows

    # --- the evaluation -------------------------------------------------------------------
    def evaluation(self) -> tuple[pd.DataFrame | None, pd.DataFrame | None, str]:
        if self.register is not None:
            runs = [
                e for e in self.register.current("evaluations") if "effect_summary" in e["results"]
            ]
            if runs:
                run = max(runs, key=lambda e: (e["run_date"], e.recorded_at))
                run_source = f"{_REGISTER}, evaluatie van {dutch_date(run['run_date'])}"
                self.used(f"{_REGISTER}: evaluatie van {dutch_date(run['run_date'])}")
                results = run["results"]
                process = results.get("process")
                return (
                    pd.DataFrame(results["effect_summary"]),
                    pd.DataFrame(process) if process else None,
                    run_source,
                )
        summary_path = self.file("evaluation/effect_summary.csv", "effect_summary.csv")
        process_path = self.file("evaluation/process.csv", "process.csv")
        summary = process = None
        if summary_path is not None:
            summary = read_step_csv(summary_path)
            _need(summary, summary_path, ("level", "measure", "evaluated", "rate"))
            self.used(str(summary_path.relative_to(self.folder)))
        if process_path is not None:
            process = read_step_csv(process_path)
            _need(process, process_path, ("level", "letters_sent"))
            self.used(str(process_path.relative_to(self.folder)))
        where = summary_path or process_path
        return summary, process, str(where.relative_to(self.folder)) if where else ""


_REGISTER = "programmaregister"
"""How the report names the programme register in its sources."""

_DECISIONS = ("eligible", "excluded", "review")

_PLAN_COLUMNS = ("task_id", "what", "who", "due", "status", "closed_on", "note")


def _decision(entry: Any) -> str:
    """A register screening decision as ``eligible``, ``excluded`` or ``review`` (a proposal
    the criteria could not decide, recorded as excluded with the reason ``review``)."""
    if not entry["excluded"]:
        return "eligible"
    if entry["source"] == "proposal" and list(entry["reasons"]) == ["review"]:
        return "review"
    return "excluded"


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _ticked_on(register: Any, task_id: str, status: str) -> dt.date | None:
    """The day the task got its current status: the first revision of the last run of
    revisions with that status (a later change of the note does not move it)."""
    history = sorted(register.history("tasks", (task_id,)), key=lambda e: e.revision)
    since = None
    for entry in reversed(history):
        if entry["status"] != status:
            break
        since = entry
    if since is None:
        return None
    moment: dt.datetime = since.recorded_at
    return moment.astimezone().date()


def _total(frame: pd.DataFrame | None, column: str, measure: str | None = None) -> int | None:
    if frame is None or column not in frame.columns:
        return None
    rows = frame[frame["level"] == "total"]
    if measure is not None:
        rows = rows[rows["measure"] == measure]
    if rows.empty or pd.isna(rows[column].iloc[0]):
        return None
    return int(rows[column].iloc[0])


Patients = frozenset[str] | int | None
"""A step's patients: their ids when known, else only their number, or ``None``."""


def _size(patients: Patients) -> int | None:
    return len(patients) if isinstance(patients, frozenset) else patients


def _flow(before: Patients, after: Patients) -> tuple[int | None, int | None]:
    """How many of ``before`` are not in ``after``, and how many of ``after`` were not in
    ``before``: from the ids when both are known, else from the counts (as if one held the
    other)."""
    if isinstance(before, frozenset) and isinstance(after, frozenset):
        return len(before - after), len(after - before)
    first, second = _size(before), _size(after)
    if first is None or second is None:
        return None, None
    return max(first - second, 0), max(second - first, 0)


@frozen(kw_only=True)
class EffectFigures:
    """The effect evaluation's figures for the funnel: letters evaluated, how many were
    judged 3-6 months after the letter, not yet due, and how many stopped."""

    letters: int
    evaluated: int
    not_due: int
    stopped: int | None
    counting: str


def _effect(summary: pd.DataFrame | None, process: pd.DataFrame | None) -> EffectFigures | None:
    evaluated = _total(summary, "evaluated", "short_term_stop")
    if summary is None or evaluated is None:
        return None
    not_due = _total(summary, "not_due", "short_term_stop") or 0
    letters = _total(process, "letters_sent")
    if letters is None:
        left = sum(
            _total(summary, f"left_{reason}", "short_term_stop") or 0
            for reason in ("deceased", "moved", "changed_gp")
        )
        letters = evaluated + not_due + left
    return EffectFigures(
        letters=letters,
        evaluated=evaluated,
        not_due=not_due,
        stopped=_total(summary, "events", "short_term_stop"),
        counting=_stop_counting(summary),
    )


def _came_from_process(process: pd.DataFrame | None) -> tuple[int, int] | None:
    """From the process evaluation: the invited who came (attendance times the invited: the
    attendance is the patients who came among those invited) and every patient who came."""
    invited = _total(process, "invitations_sent")
    consulted = _total(process, "patients_consulted")
    if process is None or invited is None or consulted is None:
        return None
    rows = process[process["level"] == "total"]
    share = rows["attendance"].iloc[0] if "attendance" in rows.columns else None
    came = 0 if share is None or pd.isna(share) else round(float(share) * invited)
    return came, consulted


def _change(
    rows: list[FunnelStep], key: str, label: str, count: int | None, into: str, *, always: bool
) -> None:
    """A ``minus_...`` or ``plus_...`` row into the stage ``into``: always when ``always``
    (the step's usual loss, even 0), else only when there is one (the unusual ones)."""
    kind: FunnelKind = "minus" if key.startswith("minus_") else "plus"
    if count is not None and (count > 0 or always):
        rows.append(FunnelStep(key, label, count, kind=kind, of=into))


def build_funnel(
    *,
    selected: frozenset[str] | None,
    excluded_at_selection: frozenset[str] | None,
    chronic_users: int | None,
    decisions: Mapping[str, str] | Counter[str] | None,
    stop_letters: Patients,
    invited: Patients,
    came: frozenset[str] | tuple[int, int] | None,
    effect: EffectFigures | None,
) -> tuple[FunnelStep, ...]:
    """The funnel from selection to stopping, each row adding up (see :class:`FunnelStep`).

    ``selected`` and ``excluded_at_selection`` are the selection's patients (``None`` when
    only ``chronic_users``, their number, is known); ``decisions`` the screening's per patient
    (or only their counts); ``came`` the patients who came to a consult, or (from the process
    evaluation) the number of invited who came and of everyone who came.
    """
    rows: list[FunnelStep] = []
    chronic: Patients = chronic_users
    first = ""
    if selected is not None and excluded_at_selection is not None:
        rows.append(
            FunnelStep(
                "selected", "Geselecteerd: boven de drempel voor chronisch gebruik", len(selected)
            )
        )
        chronic = selected - excluded_at_selection
        _change(
            rows,
            "minus_excluded_at_selection",
            "bij de selectie uitgesloten (complexe comedicatie, overleden of vertrokken)",
            len(excluded_at_selection),
            "chronic_users",
            always=True,
        )
        first = "selected"
    elif selected is not None:
        chronic = selected
    rows.append(FunnelStep("chronic_users", "Chronische gebruikers", _size(chronic), of=first))
    eligible: Patients = None
    if decisions is not None and chronic is not None:
        eligible = _screening_rows(rows, chronic, decisions)
    rows.append(
        FunnelStep(
            "eligible", "Komen in aanmerking voor de stopbrief", _size(eligible), of="chronic_users"
        )
    )
    for before, after, key, label, minus, plus in (
        (
            eligible,
            stop_letters,
            "letters",
            "Stopbrief verstuurd",
            "komen in aanmerking, (nog) geen stopbrief",
            "stopbrief, maar komen (nu) niet in aanmerking",
        ),
        (
            stop_letters,
            invited,
            "invited",
            "Uitgenodigd voor het evaluatieconsult",
            "stopbrief, (nog) niet uitgenodigd",
            "uitgenodigd zonder stopbrief",
        ),
    ):
        if _size(after) is not None:
            dropped, added = _flow(before, after)
            _change(rows, f"minus_{key}", minus, dropped, key, always=True)
            _change(rows, f"plus_{key}", plus, added, key, always=False)
        of = "eligible" if key == "letters" else "letters"
        rows.append(FunnelStep(key, label, _size(after), of=of))
    _consult_rows(rows, invited, came)
    _effect_rows(rows, _size(stop_letters), effect)
    return tuple(rows)


def _consult_rows(
    rows: list[FunnelStep], invited: Patients, came: frozenset[str] | tuple[int, int] | None
) -> None:
    """From the invited to those who came to a consult (the attendance is the invited who
    came, over the invited)."""
    consulted: int | None = None
    if came is not None:
        if isinstance(came, frozenset):
            dropped, added = _flow(invited, came)
            consulted = len(came)
        else:
            came_invited, consulted = came
            known = _size(invited)
            dropped = None if known is None else max(known - came_invited, 0)
            added = None if known is None else consulted - (known - (dropped or 0))
        _change(
            rows,
            "minus_consults",
            "uitgenodigd, niet op het consult geweest",
            dropped,
            "consults",
            always=True,
        )
        _change(
            rows,
            "plus_consults",
            "op het consult geweest zonder uitnodiging",
            added,
            "consults",
            always=False,
        )
    rows.append(FunnelStep("consults", "Op het evaluatieconsult geweest", consulted, of="invited"))


def _effect_rows(rows: list[FunnelStep], letters: int | None, effect: EffectFigures | None) -> None:
    """The effect's branch: from the letters again, less those the evaluation could not judge,
    to the evaluated and the stoppers among them."""
    if effect is None:
        rows.append(FunnelStep("stoppers", "Gestopt (3-6 maanden na de brief)", None))
        return
    rows.append(
        FunnelStep(
            "letters_evaluated",
            "Stopbrief verstuurd (zoals hierboven), voor het effect:",
            letters if letters is not None else effect.letters,
            kind="start",
            of="letters" if letters is not None else "",
        )
    )
    if letters is not None:
        _change(
            rows,
            "minus_not_in_evaluation",
            "stopbrief na de evaluatie vastgelegd",
            letters - effect.letters,
            "evaluated",
            always=False,
        )
        _change(
            rows,
            "plus_only_in_evaluation",
            "stopbrief alleen in de evaluatie (uit een bestand)",
            effect.letters - letters,
            "evaluated",
            always=False,
        )
    _change(
        rows,
        "minus_left",
        "overleden, verhuisd of van huisarts gewisseld",
        effect.letters - effect.evaluated - effect.not_due,
        "evaluated",
        always=True,
    )
    _change(
        rows,
        "minus_not_due",
        "te kort na de brief om te beoordelen",
        effect.not_due,
        "evaluated",
        always=True,
    )
    rows.append(
        FunnelStep(
            "evaluated",
            "Beoordeeld, 3-6 maanden na de brief",
            effect.evaluated,
            of="letters_evaluated",
        )
    )
    rows.append(
        FunnelStep(
            "stoppers",
            f"waarvan gestopt ({effect.counting})",
            effect.stopped,
            kind="part",
            of="evaluated",
        )
    )


def _screening_rows(
    rows: list[FunnelStep],
    chronic: frozenset[str] | int,
    decisions: Mapping[str, str] | Counter[str],
) -> Patients:
    """The screening's rows between the chronic users and the eligible; returns the eligible."""
    labels = (
        ("minus_not_screened", "(nog) niet gescreend"),
        ("minus_excluded", "bij de screening uitgesloten"),
        ("minus_review", "nog te beoordelen door de huisarts"),
    )
    if isinstance(chronic, frozenset) and not isinstance(decisions, Counter):
        by = {d: frozenset(p for p, v in decisions.items() if v == d) for d in _DECISIONS}
        counts = {
            "minus_not_screened": len(chronic - set(decisions)),
            "minus_excluded": len(chronic & by["excluded"]),
            "minus_review": len(chronic & by["review"]),
        }
        eligible: Patients = by["eligible"]
        added = len(by["eligible"] - chronic)
    else:
        tally = Counter(decisions.values()) if not isinstance(decisions, Counter) else decisions
        size = _size(chronic) or 0
        decided = sum(tally[d] for d in _DECISIONS)
        counts = {
            "minus_not_screened": max(size - decided, 0),
            "minus_excluded": tally["excluded"],
            "minus_review": tally["review"],
        }
        eligible = tally["eligible"]
        added = max(decided - size, 0)
    for key, label in labels:
        if key != "minus_not_screened" or counts[key]:
            rows.append(FunnelStep(key, label, counts[key], kind="minus", of="eligible"))
    if added:
        rows.append(
            FunnelStep(
                "plus_eligible",
                "in aanmerking na een besluit van de huisarts over een patiënt buiten deze "
                "chronische gebruikers",
                added,
                kind="plus",
                of="eligible",
            )
        )
    return eligible


def gather(folder: Path, register: Any = None, *, as_of: dt.date) -> ReportData:
    """Collect the report's figures from ``folder`` and, when given, an open register."""
    work = _Gathering(folder, register, as_of)
    programme = register.programme() if register is not None else None
    if programme is not None:
        work.used(f"{_REGISTER}: programma")
    per_gp, new_known = work.per_gp()
    dose = work.dose()
    selected, excluded_at_selection = work.selection_ids()
    decisions = work.decisions()
    stop_letters, invited = work.letters()
    came_register = work.came()
    plan, plan_source = work.plan()
    summary, process, evaluation_source = work.evaluation()
    chronic = (
        int(per_gp["chronic_users"].sum())
        if per_gp is not None and per_gp["chronic_users"].notna().all()
        else None
    )
    came: frozenset[str] | tuple[int, int] | None = came_register
    if came is None:
        came = _came_from_process(process)
    funnel = build_funnel(
        selected=selected,
        excluded_at_selection=excluded_at_selection,
        chronic_users=chronic,
        decisions=decisions,
        stop_letters=stop_letters if stop_letters is not None else _total(process, "letters_sent"),
        invited=invited if invited is not None else _total(process, "invitations_sent"),
        came=came,
        effect=_effect(summary, process),
    )
    gp_names: dict[str, str] = {}
    if programme is not None:
        gp_names = {str(gp["gp_id"]): str(gp.get("name") or gp["gp_id"]) for gp in programme["gps"]}
    return ReportData(
        programme=programme["name"] if programme is not None else None,
        reference_date=programme["reference_date"] if programme is not None else None,
        gp_names=gp_names,
        per_gp=per_gp,
        new_users_known=new_known,
        dose=dose,
        dose_months=_dose_months(programme),
        funnel=funnel,
        plan=plan,
        plan_source=plan_source,
        effect_summary=summary,
        process=process,
        evaluation_source=evaluation_source,
        sources=tuple(work.sources),
        as_of=as_of,
    )


def _dose_months(programme: Any) -> tuple[int, int]:
    """The months of the year's average and of the current dose: the selection options the
    programme records (``benzoredux select`` records its own), else the selection's defaults."""
    from benzoredux.selection import ChronicUseCriteria

    options = (programme["options"] or {}).get("select", {}) if programme is not None else {}
    known = {"window_months", "recent_months"}
    chosen = ChronicUseCriteria(**{k: v for k, v in dict(options).items() if k in known})
    return chosen.window_months, chosen.recent_months


def _stop_counting(summary: pd.DataFrame | None) -> str:
    """How the summary counted stoppers, in the report's words: an evaluation recorded before
    the supply-aware definition has no ``stop_definition`` and counted dispensings only."""
    definitions = (
        set(summary["stop_definition"].dropna().astype(str))
        if summary is not None and "stop_definition" in summary.columns
        else set()
    )
    if definitions == {"supply"}:
        return "gebruik, voorraad meegerekend"
    return "geen uitgifte (bovengrens)"

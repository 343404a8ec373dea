"""What the report shows, gathered from the programme register and the steps' output folder.

Each part comes from the register when it holds that part (so the report continues where the
steps left off, whoever ran them), and otherwise from the file the step command wrote into the
folder. A part that neither has is ``None``: the report says it is not yet done.

Only aggregates leave this module: counts per GP, per step and per task. Patient identifiers
are read (to count distinct patients) but never kept in :class:`ReportData`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from attrs import field, frozen

# Moved to the plan of action; still importable from here.
from benzoredux.evaluation.plan import recorded_progress
from benzoredux.output import read_step_csv

__all__ = ["DOSE_LIMITS", "FunnelStep", "ReportData", "dose_per_gp", "gather"]

_OPEN = ("open", "in_progress")

DOSE_LIMITS = (1, 2)
"""The seed's two limits in DDD a day (bijlage 2, step 2: "meer dan 1 of 2 DDD per dag"): the
NHG guideline's 1 and the Benzoredux study's 2. The report counts the chronic users above each."""

_DOSES = {"year": "ddd_per_day", "recent": "ddd_per_day_recent"}


@frozen
class FunnelStep:
    """One step of the funnel: its key, its label (Dutch, for the meeting) and its count."""

    key: str
    label: str
    count: int | None
    """``None``: the step is not yet done (or its data are not available)."""
    source: str = ""


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
    """``task_id``, ``what``, ``who``, ``due``, ``status``, ``overdue``."""
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
            self.used("register: selection snapshot")
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
            table, source = self.register.selection(), "register: selection snapshot"
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
    def screening_counts(self) -> tuple[dict[str, int] | None, str]:
        if self.register is not None:
            decided = self.register.screening()
            if decided:
                counts = {"eligible": 0, "excluded": 0, "review": 0}
                for entry in decided.values():
                    if not entry["excluded"]:
                        counts["eligible"] += 1
                    elif entry["source"] == "proposal" and list(entry["reasons"]) == ["review"]:
                        counts["review"] += 1
                    else:
                        counts["excluded"] += 1
                self.used("register: screening decisions")
                return counts, "register"
        path = self.file("screening.csv")
        if path is None:
            return None, ""
        table = read_step_csv(path)
        _need(table, path, ("decision",))
        unknown = sorted(set(table["decision"].dropna()) - {"eligible", "excluded", "review"})
        if unknown or table["decision"].isna().any():
            raise ValueError(
                f"{path}: column 'decision' holds {unknown or ['(empty)']}; "
                "expected eligible, excluded or review"
            )
        self.used(path.name)
        values = table["decision"].value_counts()
        return {k: int(values.get(k, 0)) for k in ("eligible", "excluded", "review")}, path.name

    def letter_counts(self) -> tuple[int | None, int | None, int | None, str]:
        """Stop letters, invitations and consults (patients), from the register."""
        if self.register is None:
            return None, None, None, ""
        stop = {e["patient_id"] for e in self.register.letters("stop_letter")}
        invited = {e["patient_id"] for e in self.register.letters("invitation")}
        consulted = {e["patient_id"] for e in self.register.current("consults") if e["attended"]}
        if stop or invited:
            self.used("register: letters")
        if consulted:
            self.used("register: consults")
        return (
            len(stop) if stop else None,
            len(invited) if invited else None,
            len(consulted) if consulted else None,
            "register",
        )

    # --- the plan -------------------------------------------------------------------------
    def plan(self) -> tuple[pd.DataFrame | None, str]:
        rows: list[dict[str, Any]] = []
        source = ""
        if self.register is not None:
            for task in self.register.current("tasks"):
                rows.append(
                    {
                        "task_id": task["task_id"],
                        "what": task["what"],
                        "who": task["who"],
                        "due": task["due"],
                        "status": task["status"],
                    }
                )
            if rows:
                source = "register: plan tasks"
                progress = recorded_progress(self.register)
                for row in rows:
                    recorded = progress.get(row["task_id"])
                    if recorded is not None and row["status"] in _OPEN:
                        row["status"] = recorded[0]
        if not rows:
            path = self.file("plan.csv")
            if path is None:
                return None, ""
            table = read_step_csv(path)
            _need(table, path, ("task_id", "what", "due", "status"))
            records: list[dict[str, Any]] = [
                {str(k): v for k, v in r.items()} for r in table.to_dict("records")
            ]
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
                        "who": "" if pd.isna(row.get("who")) else str(row.get("who")),
                        "due": due,
                        "status": str(row["status"]),
                    }
                )
            source = path.name
        self.used(source)
        frame = pd.DataFrame(rows, columns=["task_id", "what", "who", "due", "status"])
        frame["overdue"] = [
            status in _OPEN and due is not None and due < self.as_of
            for status, due in zip(frame["status"], frame["due"], strict=True)
        ]
        frame = frame.sort_values("due", kind="stable", na_position="last")
        return frame.reset_index(drop=True), source

    # --- the evaluation -------------------------------------------------------------------
    def evaluation(self) -> tuple[pd.DataFrame | None, pd.DataFrame | None, str]:
        if self.register is not None:
            runs = [
                e for e in self.register.current("evaluations") if "effect_summary" in e["results"]
            ]
            if runs:
                run = max(runs, key=lambda e: (e["run_date"], e.recorded_at))
                self.used(f"register: evaluation {run['run_id']}")
                results = run["results"]
                process = results.get("process")
                return (
                    pd.DataFrame(results["effect_summary"]),
                    pd.DataFrame(process) if process else None,
                    f"register, {run['run_id']} ({run['run_date'].isoformat()})",
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


def _total(frame: pd.DataFrame | None, column: str, measure: str | None = None) -> int | None:
    if frame is None or column not in frame.columns:
        return None
    rows = frame[frame["level"] == "total"]
    if measure is not None:
        rows = rows[rows["measure"] == measure]
    if rows.empty or pd.isna(rows[column].iloc[0]):
        return None
    return int(rows[column].iloc[0])


def gather(folder: Path, register: Any = None, *, as_of: dt.date) -> ReportData:
    """Collect the report's figures from ``folder`` and, when given, an open register."""
    work = _Gathering(folder, register, as_of)
    programme = register.programme() if register is not None else None
    if programme is not None:
        work.used("register: programme")
    per_gp, new_known = work.per_gp()
    dose = work.dose()
    screening, _ = work.screening_counts()
    stop_letters, invitations, consults, _ = work.letter_counts()
    plan, plan_source = work.plan()
    summary, process, evaluation_source = work.evaluation()
    selected = (
        int(per_gp["chronic_users"].sum())
        if per_gp is not None and per_gp["chronic_users"].notna().all()
        else None
    )
    if stop_letters is None:
        stop_letters = _total(process, "letters_sent")
    if invitations is None:
        invitations = _total(process, "invitations_sent")
    if consults is None:
        consults = _total(process, "patients_consulted")
    funnel = (
        FunnelStep("chronic_users", "Chronische gebruikers geselecteerd", selected),
        FunnelStep("eligible", "Na screening: komen in aanmerking", _get(screening, "eligible")),
        FunnelStep("excluded", "Na screening: uitgesloten", _get(screening, "excluded")),
        FunnelStep("review", "Na screening: nog te beoordelen", _get(screening, "review")),
        FunnelStep("letters", "Stopbrief verstuurd", stop_letters),
        FunnelStep("invited", "Uitgenodigd voor het evaluatieconsult", invitations),
        FunnelStep("consults", "Op het evaluatieconsult geweest", consults),
        FunnelStep(
            "stoppers",
            f"Gestopt (3-6 maanden na de brief; {_stop_counting(summary)})",
            _total(summary, "events", "short_term_stop"),
        ),
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


def _get(counts: Mapping[str, int] | None, key: str) -> int | None:
    return None if counts is None else counts[key]

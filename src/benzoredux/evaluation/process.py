"""Process evaluation (FTO module, bijlage 4): what was done, when, and how much, per GP.

Bijlage 4 lists the process figures to record per practice: the dates the stop letters went
out and how many, the dates the invitations for the evaluation consult went out and how many,
the first and last consult date, and the number of consults. :func:`evaluate_process` gives them
per GP and for the practice, with one figure more that the seed reports from the Benzoredux
trial: the share of invited patients who came (about two thirds), with a 95% Wilson interval.

The GP of a consult is the GP of the patient's stop letter; consults of patients without a
letter are not dropped: they are counted under an empty ``gp_id`` (and show up as
``consults_without_letter`` in the total).
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
from narwhals.typing import IntoFrame

from benzoredux.consult.records import CONSULTS
from benzoredux.engine import Engine, Execution
from benzoredux.evaluation.letters import letters_lazy
from benzoredux.evaluation.stats import wilson_expressions
from benzoredux.tables import check_rows

__all__ = ["ATTENDANCE_REFERENCE", "evaluate_process", "sending_dates"]

ATTENDANCE_REFERENCE = 2 / 3
"""Benzoredux: about two thirds of the invited patients came to the evaluation consult (FTO
module, step 4)."""

_CONSULT_COLUMNS = ("patient_id", "date", "held_by", "contact")


def _consults_by_gp(
    execution: Execution, consults: IntoFrame, sent: nw.LazyFrame[Any]
) -> nw.LazyFrame[Any]:
    CONSULTS.check_present(execution.columns(consults, "consults"))
    lazy = execution.lazy(consults, "consults")  # a small table: no need to cut columns
    check_rows(consults, lazy, CONSULTS, execution, used=_CONSULT_COLUMNS)
    rows = lazy.select(
        nw.col("patient_id").cast(nw.String),
        nw.col("date").cast(nw.Date),
        nw.col("contact").cast(nw.String),
    )
    gps = sent.select("patient_id", "gp_id", _has_letter=nw.lit(1))
    return rows.join(gps, on="patient_id", how="left").with_columns(
        _came=(nw.col("contact") != "did_not_attend").cast(nw.Int64),
        _missed=(nw.col("contact") == "did_not_attend").cast(nw.Int64),
        _no_letter=nw.col("_has_letter").is_null().cast(nw.Int64),
    )


def evaluate_process(
    letters: IntoFrame, consults: IntoFrame | None = None, *, engine: Engine = "auto"
) -> Any:
    """Bijlage 4's process figures per GP and in total (the last row, ``level`` ``total``).

    :param letters: the stop letters, one row per patient
        (:data:`~benzoredux.evaluation.letters.LETTERS_SENT`), with ``invitation_date`` when
        invitations went out (the table of :func:`benzoredux.plan_schedule` has this shape).
    :param consults: a :data:`~benzoredux.consult.records.CONSULTS` table; a consult by telephone
        counts as held, ``did_not_attend`` as missed.
    :returns: a frame of the kind of ``letters`` with ``level``, ``gp_id``, ``letters_sent``,
        ``first_letter_date``, ``last_letter_date``, ``letter_days`` (distinct sending days),
        ``invitations_sent``, ``first_invitation_date``, ``last_invitation_date``,
        ``consults_held``, ``consults_missed``, ``first_consult_date``, ``last_consult_date``,
        ``patients_consulted``, ``consults_without_letter``, ``attendance`` (patients consulted
        among those invited), ``attendance_ci_low``, ``attendance_ci_high`` and
        ``attendance_reference``.

    >>> import pandas as pd
    >>> letters = pd.DataFrame({"patient_id": ["a", "b", "c"], "gp_id": ["G1", "G1", "G2"],
    ...     "letter_date": pd.to_datetime(["2025-02-03", "2025-02-03", "2025-02-10"]),
    ...     "invitation_date": pd.to_datetime(["2025-05-05", "2025-05-05", "2025-05-12"])})
    >>> consults = pd.DataFrame({"patient_id": ["a", "c"], "held_by": ["gp", "poh_ggz"],
    ...     "date": pd.to_datetime(["2025-05-20", "2025-05-27"]),
    ...     "contact": ["in_person", "did_not_attend"]})
    >>> evaluate_process(letters, consults)[["level", "gp_id", "letters_sent", "consults_held"]]
       level gp_id  letters_sent  consults_held
    0     gp    G1             2              1
    1     gp    G2             1              0
    2  total   NaN             3              1
    """
    execution = Execution.for_input(letters, engine)
    sent = letters_lazy(execution, letters)
    sent_rows = sent.with_columns(
        _invited=(~nw.col("invitation_date").is_null()).cast(nw.Int64), _one=nw.lit(1)
    )
    letter_aggs = [
        nw.col("_one").sum().alias("letters_sent"),
        nw.col("letter_date").min().alias("first_letter_date"),
        nw.col("letter_date").max().alias("last_letter_date"),
        nw.col("letter_date").n_unique().alias("letter_days"),
        nw.col("_invited").sum().alias("invitations_sent"),
        nw.col("invitation_date").min().alias("first_invitation_date"),
        nw.col("invitation_date").max().alias("last_invitation_date"),
    ]
    if consults is None:
        # No consults: an empty table of the same shape (a literal cannot filter).
        nothing = nw.col("patient_id").is_null() & ~nw.col("patient_id").is_null()
        consult_rows = sent.filter(nothing).select(
            "patient_id",
            "gp_id",
            nw.col("letter_date").alias("date"),
            _came=nw.lit(0, nw.Int64),
            _missed=nw.lit(0, nw.Int64),
            _no_letter=nw.lit(0, nw.Int64),
        )
    else:
        consult_rows = _consults_by_gp(execution, consults, sent)
    consult_rows = consult_rows.with_columns(
        _held_date=nw.when(nw.col("_came") == 1).then(nw.col("date"))
    )
    consult_aggs = [
        nw.col("_came").sum().alias("consults_held"),
        nw.col("_missed").sum().alias("consults_missed"),
        nw.col("_no_letter").sum().alias("consults_without_letter"),
        nw.col("_held_date").min().alias("first_consult_date"),
        nw.col("_held_date").max().alias("last_consult_date"),
    ]
    # Patients who came, once each, and only those who were invited count for attendance.
    came = (
        consult_rows.filter(nw.col("_came") == 1)
        .select("patient_id")
        .unique()
        .join(sent_rows.select("patient_id", "gp_id", "_invited"), on="patient_id", how="left")
        .with_columns(_one=nw.lit(1), _came_invited=nw.col("_invited").fill_null(0).cast(nw.Int64))
    )
    came_aggs = [
        nw.col("_one").sum().alias("patients_consulted"),
        nw.col("_came_invited").sum().alias("_came_invited"),
    ]
    per_gp = (
        sent_rows.group_by("gp_id")
        .agg(*letter_aggs)
        .join(
            consult_rows.group_by("gp_id").agg(*consult_aggs),
            on="gp_id",
            how="full",
            suffix="_c",
        )
        .with_columns(gp_id=nw.coalesce(nw.col("gp_id"), nw.col("gp_id_c")))
        .drop("gp_id_c")
        .join(came.group_by("gp_id").agg(*came_aggs), on="gp_id", how="left", suffix="_p")
        .drop("gp_id_p", strict=False)
        .with_columns(level=nw.lit("gp"), _order=nw.lit(0))
    )
    total = (
        sent_rows.select(*letter_aggs)
        .join(consult_rows.select(*consult_aggs), how="cross")
        .join(came.select(*came_aggs), how="cross")
        .with_columns(level=nw.lit("total"), gp_id=nw.lit(None, nw.String), _order=nw.lit(1))
    )
    counts = [
        "letters_sent",
        "letter_days",
        "invitations_sent",
        "consults_held",
        "consults_missed",
        "consults_without_letter",
        "patients_consulted",
        "_came_invited",
    ]
    combined = nw.concat(
        [per_gp.select(total.collect_schema().names()), total], how="vertical"
    ).with_columns(nw.col(c).fill_null(0).cast(nw.Int64) for c in counts)
    low, high = wilson_expressions("_came_invited", "invitations_sent")
    result = combined.with_columns(
        attendance=nw.when(nw.col("invitations_sent") > 0).then(
            nw.col("_came_invited") / nw.col("invitations_sent")
        ),
        attendance_ci_low=low,
        attendance_ci_high=high,
        attendance_reference=nw.lit(ATTENDANCE_REFERENCE),
    )
    output = [
        "level",
        "gp_id",
        "letters_sent",
        "first_letter_date",
        "last_letter_date",
        "letter_days",
        "invitations_sent",
        "first_invitation_date",
        "last_invitation_date",
        "consults_held",
        "consults_missed",
        "first_consult_date",
        "last_consult_date",
        "patients_consulted",
        "consults_without_letter",
        "attendance",
        "attendance_ci_low",
        "attendance_ci_high",
        "attendance_reference",
    ]
    return execution.finish(result.sort("_order", "gp_id", nulls_last=True).select(output))


def sending_dates(letters: IntoFrame, *, engine: Engine = "auto") -> Any:
    """Bijlage 4's "data versturen": per GP, each day letters or invitations went out.

    :returns: ``gp_id``, ``kind`` (``stop_letter`` or ``invitation``), ``date`` and ``count``,
        sorted by GP, kind and date.
    """
    execution = Execution.for_input(letters, engine)
    sent = letters_lazy(execution, letters).with_columns(_one=nw.lit(1))
    parts = [
        sent.filter(~nw.col(column).is_null())
        .group_by("gp_id", column)
        .agg(nw.col("_one").sum().alias("count"))
        .select(
            "gp_id",
            nw.lit(kind).alias("kind"),
            nw.col(column).alias("date"),
            nw.col("count").cast(nw.Int64),
        )
        for kind, column in (("stop_letter", "letter_date"), ("invitation", "invitation_date"))
    ]
    combined = nw.concat(parts, how="vertical")
    return execution.finish(combined.sort("gp_id", "kind", "date", nulls_last=True))

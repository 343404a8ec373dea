"""Sharing without patient data: disclosure rule, aggregate export, mirror report."""

from __future__ import annotations

import stat
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from benzoredux.evaluation.sharing import (
    AGGREGATE_COLUMNS,
    DisclosureRule,
    aggregate_export,
    mirror_report,
    write_aggregate_csv,
)


@pytest.mark.parametrize(
    ("value", "shared"),
    [(0, 0), (1, 0), (7, 0), (8, 10), (10, 10), (12, 10), (13, 15), (27, 25), (28, 30)],
)
def test_opensafely_rule_suppresses_then_rounds(value: int, shared: int) -> None:
    assert DisclosureRule().apply(value) == shared


def test_rule_is_an_option_and_refuses_negative_counts() -> None:
    assert DisclosureRule(threshold=4, multiple=1).apply(5) == 5
    assert DisclosureRule(threshold=4, multiple=1).apply(4) == 0
    with pytest.raises(ValueError, match="negative"):
        DisclosureRule().apply(-1)


def _effect_summary() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "level": ["gp", "gp", "total", "gp", "total"],
            "gp_id": ["02000001", "01000001", None, "01000001", None],
            "measure": [
                "short_term_stop",
                "short_term_stop",
                "short_term_stop",
                "ddd_reduction",
                "ddd_reduction",
            ],
            "events": [3, 9, 12, None, None],
            "evaluated": [12, 31, 43, 6, 20],
            "rate": [0.25, 9 / 31, 12 / 43, 0.3, 0.22],
        }
    )


def test_export_suppresses_counts_and_recomputes_rates() -> None:
    chronic = pd.DataFrame(
        {
            "level": ["gp", "total"],
            "gp_id": ["01000001", None],
            "chronic_users": [52, 52],
            "listed_patients": [2349, 2349],
        }
    )
    table = aggregate_export("P1", effect_summary=_effect_summary(), chronic=chronic)
    assert tuple(table.columns) == AGGREGATE_COLUMNS
    # No GP id (AGB code) leaves the practice: labels in the order of the ids.
    assert set(table["gp"].dropna()) == {"huisarts 1", "huisarts 2"}
    rows = {(r.gp if isinstance(r.gp, str) else None, r.measure): r for r in table.itertuples()}
    small = rows[("huisarts 2", "short_term_stop")]  # 3 of 12: 3 suppressed, 12 -> 10
    assert (small.numerator, small.denominator, small.rate) == (0, 10, 0.0)
    big = rows[("huisarts 1", "short_term_stop")]  # 9 of 31 -> 10 of 30
    assert (big.numerator, big.denominator) == (10, 30)
    assert big.rate == pytest.approx(1 / 3)
    reduction_small = rows[("huisarts 1", "ddd_reduction")]  # 6 non-stoppers: suppressed
    assert reduction_small.denominator == 0
    assert pd.isna(reduction_small.rate)
    assert rows[(None, "ddd_reduction")].rate == pytest.approx(0.22)
    per_1000 = rows[(None, "chronic_users_per_1000")]
    assert (per_1000.numerator, per_1000.denominator) == (50, 2350)
    assert per_1000.rate == pytest.approx(50 * 1000 / 2350)
    kept = aggregate_export("P1", effect_summary=_effect_summary(), keep_gp_ids=True)
    assert "01000001" in set(kept["gp"])


def test_export_refuses_tables_without_their_columns(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="effect_summary lacks column"):
        aggregate_export("P1", effect_summary=_effect_summary().drop("events"))
    path = write_aggregate_csv(
        aggregate_export("P1", effect_summary=_effect_summary()), tmp_path / "a.csv"
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _practice(practice_id: str, events: int, evaluated: int) -> pd.DataFrame:
    summary = pl.DataFrame(
        {
            "level": ["total"],
            "gp_id": [None],
            "measure": ["short_term_stop"],
            "events": [events],
            "evaluated": [evaluated],
            "rate": [events / evaluated],
        },
        schema_overrides={"gp_id": pl.String},
    )
    return aggregate_export(practice_id, effect_summary=summary)


def test_mirror_report_places_the_practice_among_its_peers() -> None:
    everyone = pd.concat(
        [
            _practice("A", 20, 40),
            _practice("B", 10, 50),
            _practice("C", 30, 60),
            _practice("D", 10, 100),
        ]
    )
    report = mirror_report(everyone, "A")
    row = report.iloc[0]
    assert row["measure"] == "short_term_stop"
    assert row["rate"] == pytest.approx(0.5)
    assert row["peers"] == 3
    assert row["peer_median"] == pytest.approx(0.2)
    assert (row["peer_min"], row["peer_max"]) == pytest.approx((0.1, 0.5))
    assert row["pooled_rate"] == pytest.approx(50 / 210)
    assert row["rank"] == 1  # ties count in the practice's favour
    assert mirror_report(everyone, "D").iloc[0]["rank"] == 4
    with pytest.raises(ValueError, match="not in the aggregates"):
        mirror_report(everyone, "Z")

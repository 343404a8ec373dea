"""Charts (PNG and SVG) for the FTO meeting."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import polars as pl
import pytest

pytest.importorskip("matplotlib")

from benzoredux.evaluation.charts import (
    chart_before_after,
    chart_chronic_users_per_gp,
    chart_funnel,
)
from benzoredux.evaluation.indicators import chronic_users_indicator

PNG = b"\x89PNG\r\n\x1a\n"


def test_chronic_users_per_gp_png_and_svg(tmp_path: Path) -> None:
    counts = pl.DataFrame({"gp_id": ["G1", "G2", None], "chronic_users": [40, 12, 3]})
    png = chart_chronic_users_per_gp(counts, tmp_path / "gp.png")
    assert png.read_bytes().startswith(PNG)
    assert stat.S_IMODE(png.stat().st_mode) == 0o600
    svg = chart_chronic_users_per_gp(counts, tmp_path / "gp.svg")
    text = svg.read_text()
    assert "<svg" in text
    assert "G2" in text
    assert "(geen huisarts)" in text
    again = chart_chronic_users_per_gp(counts, tmp_path / "again.svg")
    assert again.read_bytes() == svg.read_bytes()  # reproducible


def test_indicator_chart_shows_the_standard_band(tmp_path: Path) -> None:
    counts = pl.DataFrame({"gp_id": ["G1"], "chronic_users": [40], "listed_patients": [2000]})
    svg = chart_chronic_users_per_gp(chronic_users_indicator(counts), tmp_path / "band.svg")
    assert "Normpraktijk 35-65" in svg.read_text()


def test_funnel_and_before_after(tmp_path: Path) -> None:
    funnel = chart_funnel(
        {"chronic_users": 60, "eligible": 40, "letters": 38, "consults": 25, "stoppers": 10},
        tmp_path / "funnel.svg",
    )
    assert "Evaluatieconsult" in funnel.read_text()
    with pytest.raises(ValueError, match="unknown step"):
        chart_funnel({"patients": 3}, tmp_path / "x.png")
    table = pl.DataFrame({"gp_id": ["G1", "G2"], "before": [40, 30], "after": [30, 25]})
    assert chart_before_after(table, tmp_path / "ba.png").read_bytes().startswith(PNG)
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        chart_before_after(table, tmp_path / "ba.pdf")
    with pytest.raises(ValueError, match="missing column"):
        chart_before_after(table.drop("after"), tmp_path / "ba.png")


def test_charts_never_load_pyplot() -> None:
    assert "matplotlib.pyplot" not in sys.modules

"""The command line: demo end to end, select from files, readable errors and exit codes."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from benzoredux.cli import EXIT_DATA_ERROR, EXIT_USAGE, main


def test_demo_runs_the_selection_and_writes_private_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path), "--until", "select"])
    assert result.exit_code == 0, result.output
    assert "chronic users selected" in result.output
    chronic = pd.read_csv(tmp_path / "chronic_users.csv", encoding="utf-8-sig")
    per_gp = pd.read_csv(tmp_path / "chronic_users_per_gp.csv", encoding="utf-8-sig")
    selected = chronic[chronic["excluded_because"].isna()]
    assert per_gp["chronic_users"].sum() == len(selected)
    # The seed: a standard practice (2,350 listed patients per GP) has 35 to 65 chronic users.
    assert per_gp["chronic_users"].between(35, 65).all()
    for path in tmp_path.rglob("*.csv"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_select_from_canonical_csv(tmp_path: Path) -> None:
    source = tmp_path / "dispensings.csv"
    source.write_text(
        "patient_id,date,atc,quantity,prescriber_id\n"
        "p1,2025-03-01,N05BA04,60,g1\n"
        "p1,2025-09-01,N05BA04,60,g1\n"
        "p2,2025-03-01,N05BA04,30,g2\n"
    )
    result = CliRunner().invoke(
        main, ["select", str(source), "--reference-date", "2025-12-31", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    chronic = pd.read_csv(tmp_path / "chronic_users.csv", encoding="utf-8-sig")
    assert chronic["patient_id"].tolist() == ["p1"]


def _selected_with(source: Path, out: Path, *options: str) -> list[str]:
    """The patient ids ``benzoredux select`` writes for ``source`` with ``options``."""
    result = CliRunner().invoke(
        main,
        ["select", str(source), "--reference-date", "2025-12-31", "--out", str(out),
         "--no-register", *options],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return pd.read_csv(out / "chronic_users.csv", encoding="utf-8-sig")["patient_id"].tolist()


def test_select_by_the_nhg_definition_or_another_unit_threshold(tmp_path: Path) -> None:
    """--definition nhg: more than 60 days of use in the last 3 months (p2: 80 units on 15
    October, one a day), not more than 90 units in the year (p1: 120 units, the last in
    September); --min-units moves the FTO threshold (more than, never equal)."""
    source = tmp_path / "dispensings.csv"
    source.write_text(
        "patient_id,date,atc,quantity,prescriber_id\n"
        "p1,2025-03-01,N05BA04,60,g1\n"
        "p1,2025-09-01,N05BA04,60,g1\n"
        "p2,2025-10-15,N05BA04,80,g2\n"
    )

    def chosen(*options: str) -> list[str]:
        return _selected_with(source, tmp_path / ("-".join(options) or "default"), *options)

    assert chosen() == ["p1"]
    assert chosen("--definition", "nhg") == ["p2"]
    assert chosen("--min-units", "70") == ["p1", "p2"]
    assert chosen("--min-units", "120") == []


def test_select_lists_dispensings_with_unknown_codes_in_a_private_file(tmp_path: Path) -> None:
    """Issue 14: an ATC code of the selection's groups that benzoredux does not know (N05BA99,
    L01ZZ01) is counted by its group, printed with its count and written, with its rows, to
    unknown_atc_codes.csv (owner-only, like every file with patient data); known codes, old
    (N03AX16) or new (N02AJ06), are not listed."""
    source = tmp_path / "dispensings.csv"
    source.write_text(
        "patient_id,date,atc,quantity,prescriber_id\n"
        "p1,2025-03-01,N05BA04,60,g1\n"
        "p1,2025-09-01,N05BA99,40,g1\n"
        "p2,2025-03-01,N05BA04,100,g2\n"
        "p2,2025-04-01,L01ZZ01,1,g2\n"
        "p3,2025-03-01,N05BA04,100,g2\n"
        "p3,2025-04-01,N02AJ06,20,g2\n"
        "p3,2025-04-01,N03AX16,20,g2\n"
        "p4,2023-04-01,N05BA98,20,g2\n"
    )
    out = tmp_path / "results"
    result = CliRunner().invoke(
        main,
        ["select", str(source), "--reference-date", "2025-12-31", "--out", str(out),
         "--no-register", "--include-excluded"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 dispensing(s) in the selection window have an ATC code" in result.output
    assert "(L01ZZ01, N05BA99)" in result.output
    assert "N05BA98" not in result.output  # outside the window
    unknown = pd.read_csv(out / "unknown_atc_codes.csv", encoding="utf-8-sig")
    assert unknown[["patient_id", "atc"]].values.tolist() == [["p2", "L01ZZ01"], ["p1", "N05BA99"]]
    assert stat.S_IMODE((out / "unknown_atc_codes.csv").stat().st_mode) == 0o600
    chronic = pd.read_csv(out / "chronic_users.csv", encoding="utf-8-sig").set_index("patient_id")
    assert chronic.loc["p1", "units"] == 100  # the unknown benzodiazepine code counts
    assert chronic.loc["p2", "complex_groups"] == "L"
    assert chronic.loc["p3", "complex_groups"] == "N03"  # pregabalin, not paracetamol/codeine


def test_select_writes_an_empty_unknown_codes_file_when_every_code_is_known(tmp_path: Path) -> None:
    source = tmp_path / "dispensings.csv"
    source.write_text("patient_id,date,atc,quantity\np1,2025-03-01,N05BA04,100\n")
    out = tmp_path / "results"
    result = CliRunner().invoke(
        main,
        ["select", str(source), "--reference-date", "2025-12-31", "--out", str(out),
         "--no-register"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "does not know" not in result.output
    assert pd.read_csv(out / "unknown_atc_codes.csv", encoding="utf-8-sig").empty


def test_select_complex_comedication_flags(tmp_path: Path) -> None:
    """--codeine-combinations-complex: codeine + ibuprofen (N02AJ08) excludes, paracetamol +
    codeine (N02AJ06) never; --gabapentinoids-not-complex: pregabalin (N02BF02) does not."""
    source = tmp_path / "dispensings.csv"
    source.write_text(
        "patient_id,date,atc,quantity\n"
        "ibuprofen,2025-03-01,N05BA04,100\nibuprofen,2025-04-01,N02AJ08,20\n"
        "paracetamol,2025-03-01,N05BA04,100\nparacetamol,2025-04-01,N02AJ06,20\n"
        "pregabalin,2025-03-01,N05BA04,100\npregabalin,2025-04-01,N02BF02,20\n"
    )

    def chosen(*options: str) -> list[str]:
        return _selected_with(source, tmp_path / ("-".join(options) or "default"), *options)

    assert chosen() == ["ibuprofen", "paracetamol"]
    assert chosen("--codeine-combinations-complex") == ["paracetamol"]
    assert chosen("--gabapentinoids-not-complex") == ["ibuprofen", "paracetamol", "pregabalin"]


def test_bad_value_names_file_line_column_and_kind_of_value(tmp_path: Path) -> None:
    source = tmp_path / "dispensings.csv"
    source.write_text(
        "patient_id,date,atc,quantity\np1,2025-03-01,N05BA04,60\np1,01-09-2025,N05BA04,60\n"
    )
    result = CliRunner().invoke(
        main, ["select", str(source), "--reference-date", "2025-12-31", "--out", str(tmp_path)]
    )
    assert result.exit_code == EXIT_DATA_ERROR
    assert (
        "dispensings.csv, line 3, column 'date': the value (a date written like 99-99-9999) is "
        "not an ISO date (YYYY-MM-DD)"
    ) in result.output
    assert "01-09-2025" not in result.output  # a date may be a birth date: docs/privacy.rst
    assert "Traceback" not in result.output


def test_missing_column_lists_the_columns_found(tmp_path: Path) -> None:
    source = tmp_path / "d.csv"
    source.write_text("patient_id,date,quantity\np1,2025-03-01,60\n")
    result = CliRunner().invoke(
        main, ["select", str(source), "--reference-date", "2025-12-31", "--out", str(tmp_path)]
    )
    assert result.exit_code == EXIT_DATA_ERROR
    assert "missing required column(s) 'atc'" in result.output


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (["select", "{source}", "--out", "{out}"], "--reference-date"),
        (["screen", "{source}", "--out", "{out}"], "--reference-date"),
        (["schedule", "{source}", "--out", "{out}"], "--first-letter-date"),
        (
            ["schedule", "{source}", "--first-letter-date", "2026-01-12", "--out", "{out}"],
            "--holiday",
        ),
        (["plan", "--out", "{out}"], "--start-date"),
        (["plan", "--out", "{out}"], "--as-of"),
        (["evaluate", "--dispensings", "{source}", "--out", "{out}"], "--evaluation-date"),
        (["report", "--out", "{out}"], "--as-of"),
    ],
)
def test_a_date_option_not_written_yyyy_mm_dd_is_a_usage_error(
    tmp_path: Path, command: list[str], option: str
) -> None:
    """A Dutch day-first date is wrong usage (exit 2, before anything is read), and the message
    shows the same day written the ISO way."""
    source = tmp_path / "d.csv"
    source.write_text("patient_id,date,atc,quantity\np1,2025-03-01,N05BA04,60\n")
    argv = [a.format(source=source, out=tmp_path) for a in command]
    result = CliRunner().invoke(main, [*argv, option, "31-12-2025"])
    assert result.exit_code == EXIT_USAGE, result.output
    assert "'31-12-2025' is not a date written YYYY-MM-DD (for that day: 2025-12-31)" in (
        result.output
    )
    assert option in result.output


def test_python_dash_m_and_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benzoredux", "--help"], capture_output=True, text=True, check=True
    )
    assert "benzoredux demo --out benzoredux-demo" in done.stdout


def test_select_without_prescriber_reports_no_gp_rather_than_nan(tmp_path: Path) -> None:
    source = tmp_path / "dispensings.csv"
    source.write_text(
        "patient_id,date,atc,quantity\np1,2025-03-01,N05BA04,60\np1,2025-09-01,N05BA04,60\n"
    )
    result = CliRunner().invoke(
        main, ["select", str(source), "--reference-date", "2025-12-31", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "(no GP): 1" in result.output
    assert "nan" not in result.output


def test_max_quantity_raises_the_plausible_maximum(tmp_path: Path) -> None:
    """A dispensing beyond the plausible maximum stops the run and names the option that
    raises it; with the option the run goes on."""
    source = tmp_path / "d.csv"
    source.write_text(
        "patient_id,date,atc,quantity\np1,2025-03-01,N05BA04,20000\np2,2025-03-01,N05BA04,60\n"
    )
    base = ["select", str(source), "--reference-date", "2025-12-31"]
    refused = CliRunner().invoke(main, [*base, "--out", str(tmp_path / "a")])
    assert refused.exit_code == EXIT_DATA_ERROR, refused.output
    assert "--max-quantity" in refused.output
    raised = CliRunner().invoke(
        main, [*base, "--max-quantity", "30000", "--out", str(tmp_path / "b")]
    )
    assert raised.exit_code == 0, raised.output
    assert "1 chronic users selected" in raised.output

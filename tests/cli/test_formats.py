"""`benzoredux select --format/--mapping` reads any format a reader knows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner, Result

from benzoredux.cli import EXIT_DATA_ERROR, main


def _select(*args: str) -> Result:
    return CliRunner().invoke(main, ["select", *args, "--reference-date", "2025-12-31"])


def test_a_his_folder_with_the_gp_route(examples: Path, tmp_path: Path) -> None:
    result = _select(str(examples / "his"), "--format", "his", "--gp-route", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    chronic = pd.read_csv(tmp_path / "chronic_users.csv", encoding="utf-8-sig")
    assert chronic["patient_id"].tolist() == ["H2001"]
    per_gp = pd.read_csv(tmp_path / "chronic_users_per_gp.csv", encoding="utf-8-sig")
    # HA02 has no active listed patients left: one died, one moved away.
    assert dict(zip(per_gp["gp_id"], per_gp["chronic_users"], strict=True)) == {"HA01": 1}


def test_a_mapping_file_alone_selects_the_generic_reader(examples: Path, tmp_path: Path) -> None:
    result = _select(
        str(examples / "generic-ambiguous-dates.csv"),
        "--mapping",
        str(examples / "generic-mapping.toml"),
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    chronic = pd.read_csv(tmp_path / "chronic_users.csv", encoding="utf-8-sig")
    assert chronic["patient_id"].tolist() == ["G1"]


def test_bad_rows_stop_the_run_with_every_problem(tmp_path: Path) -> None:
    source = tmp_path / "ais.csv"
    source.write_text(
        "Patientnummer;Afleverdatum;ATC;Aantal\n1;31-02-2025;N05BA04;30\n2;01-02-2025;N05BA4;30\n"
    )
    result = _select(str(source), "--format", "auto", "--out", str(tmp_path / "out"))
    assert result.exit_code == EXIT_DATA_ERROR
    output = result.output
    assert "ais.csv, line 2, column 'Afleverdatum' (date)" in output
    assert "ais.csv, line 3, column 'ATC' (atc)" in output
    assert not (tmp_path / "out").exists()


def test_a_folder_without_format_is_detected(examples: Path, tmp_path: Path) -> None:
    """Issue 17: the format is detected by default, also for a HIS export folder."""
    result = _select(str(examples / "his"), "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "read as his (detected)" in result.output


def test_a_cp1252_pharmacy_export_is_detected_without_format(tmp_path: Path) -> None:
    """Issue 17: `benzoredux select export.csv` on a cp1252 AIS export used to fail with
    "'utf-8' codec can't decode byte 0xfc"; the format and its encoding are detected."""
    source = tmp_path / "export.csv"
    source.write_bytes(
        (
            "Patiëntnummer;Afleverdatum;ATC;Aantal;Omschrijving\n"
            "1;01-03-2025;N05BA04;60;OXAZEPAM TABLET 10MG (Müller)\n"
            "1;01-06-2025;N05BA04;60;OXAZEPAM TABLET 10MG (Müller)\n"
        ).encode("cp1252")
    )
    result = _select(str(source), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "read as ais (detected)" in result.output
    assert "1 chronic users selected" in result.output


def test_when_nothing_fits_the_message_says_what_was_tried(tmp_path: Path) -> None:
    source = tmp_path / "export.csv"
    source.write_bytes("Naam;Geboren\nMüller;01-02-1950\n".encode("cp1252"))
    result = _select(str(source), "--out", str(tmp_path / "out"))
    assert result.exit_code == EXIT_DATA_ERROR
    output = " ".join(result.output.split())
    assert "export.csv: tried the canonical layout (not UTF-8 text (line 2" in output
    assert "and every reader; no reader recognises this source" in output
    assert "--format" in output
    for reader in ("ais", "his", "sfk", "fhir"):
        assert f"{reader}:" in output
    assert "Müller" not in result.output
    assert "1950" not in result.output


def test_skip_invalid_goes_on_with_the_usable_rows(tmp_path: Path) -> None:
    """Issue 17: an impossible date on line 3 stopped the run (exit 3) with no way on but a
    Python option. Without --skip-invalid the refusal names it; with it the usable rows are
    selected, the rest listed (owner-only) in rejected.csv, counted and recorded."""
    import stat

    from benzoredux.register import open_register

    source = tmp_path / "export.csv"
    source.write_text(
        "Patientnummer;Afleverdatum;ATC;Aantal\n"
        "1;01-03-2025;N05BA04;60\n"
        "1;31-02-2025;N05BA04;30\n"
        "1;01-06-2025;N05BA04;60\n",
        encoding="utf-8",
    )
    refused = _select(str(source), "--out", str(tmp_path / "a"))
    assert refused.exit_code == EXIT_DATA_ERROR
    assert "export.csv, line 3, column 'Afleverdatum'" in refused.output
    assert "--skip-invalid" in refused.output
    out = tmp_path / "b"
    done = _select(str(source), "--skip-invalid", "--out", str(out))
    assert done.exit_code == 0, done.output
    assert "1 row(s) could not be used and were left out" in done.output
    assert "1 chronic users selected" in done.output
    rejected = pd.read_csv(out / "rejected.csv", encoding="utf-8-sig")
    assert rejected[["file", "line", "source_column"]].values.tolist() == [
        ["export.csv", 3, "Afleverdatum"]
    ]
    assert stat.S_IMODE((out / "rejected.csv").stat().st_mode) == 0o600
    with open_register(out / "programme.sqlite") as register:
        programme = register.programme()
    assert programme is not None
    assert programme["options"]["select_input"] == {"rows_rejected": 1, "problems": 1}


def test_skip_invalid_on_a_canonical_csv(tmp_path: Path) -> None:
    source = tmp_path / "dispensings.csv"
    source.write_text(
        "patient_id,date,atc,quantity\n"
        "p1,2025-03-01,N05BA04,60\n"
        "p1,2025-13-01,N05BA04,60\n"
        "p1,2025-06-01,N05BA04,60\n",
        encoding="utf-8",
    )
    refused = _select(str(source), "--out", str(tmp_path / "a"))
    assert refused.exit_code == EXIT_DATA_ERROR
    assert "--skip-invalid" in refused.output
    done = _select(str(source), "--skip-invalid", "--out", str(tmp_path / "b"))
    assert done.exit_code == 0, done.output
    rejected = pd.read_csv(tmp_path / "b" / "rejected.csv", encoding="utf-8-sig")
    assert rejected["line"].tolist() == [3]


def test_skip_invalid_on_parquet_keeps_the_runs_own_bounds(tmp_path: Path) -> None:
    """A Parquet file is validated with the run's bounds: --max-quantity raises the maximum
    there too, and a bad row is left out and listed."""
    source = tmp_path / "dispensings.parquet"
    pd.DataFrame(
        {
            "patient_id": ["p1", "p1", "p2"],
            "date": pd.to_datetime(["2025-03-01", "2025-06-01", "2025-06-01"]),
            "atc": ["N05BA04", "N05BA04", "N05BA04"],
            "quantity": [60.0, 20000.0, 60.0],
        }
    ).to_parquet(source)
    raised = _select(
        str(source), "--skip-invalid", "--max-quantity", "30000", "--out", str(tmp_path / "a")
    )
    assert raised.exit_code == 0, raised.output
    assert "No rows were left out" in raised.output
    kept = _select(str(source), "--skip-invalid", "--out", str(tmp_path / "b"))
    assert kept.exit_code == 0, kept.output
    assert "1 row(s) could not be used and were left out" in kept.output


def test_what_a_reader_read_but_did_not_use_is_said(examples: Path, tmp_path: Path) -> None:
    """Issue 17: select printed the notes but not ReadResult.ignored, so records read and
    deliberately left aside (a file that is no export) went unmentioned."""
    import shutil

    folder = tmp_path / "his"
    shutil.copytree(examples / "his", folder)
    (folder / "leesmij.txt").write_text("Export van 1 januari\n", encoding="utf-8")
    result = _select(str(folder), "--format", "his", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "note: his: read, not rows of a table: 1 unread files" in result.output

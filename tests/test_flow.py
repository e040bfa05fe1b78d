"""The Prefect flow and the command line, run for real on temporary folders."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import SAMPLE, rendered
from derive import shift_years
from prefect.artifacts import Artifact

from flows.nightly import nightly


@pytest.mark.usefixtures("prefect_api")
def test_flow_loads_raw_tables_with_lineage_and_skips_bad_files(
    raw_dir: Path, tmp_path: Path
) -> None:
    (raw_dir / "empty.txt").write_bytes(b"")
    (raw_dir / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    shutil.copy(SAMPLE, raw_dir / "same-bytes-other-name.txt")
    target = tmp_path / "out" / "warehouse.duckdb"
    report = nightly(raw_dir=str(raw_dir), warehouse=str(target))
    assert report.published and report.exit_code == 1
    assert sorted(str(r) for r in report.rejected) == [
        "empty.txt: the file is empty",
        "picture.png: the file is binary, not a text bulletin",
    ]
    assert report.files == 4 and report.parsed_now == 3  # the copy shares the sample's sha256
    con = duckdb.connect(str(target), read_only=True)
    editions = con.sql("select file_name, sha256, report_year from raw.bulletins").fetchall()
    assert len(editions) == 1 and editions[0][2] == 2018
    lineage = con.sql(
        "select table_code, row_label, column_label, returns_text, footnote_marks, line_number"
        " from raw.observations where line_number = 58 order by column_label"
    ).fetchall()
    con.close()
    assert lineage == [
        ("MONTHLY", "totaal", "2018 Dienst Vreemdelingenzaken", "42", "", 58),
        ("MONTHLY", "totaal", "2018 Fedasil", "2.567", "", 58),
        ("MONTHLY", "totaal", "totaal 2017 (fedasil+dvz)", "3.827", "*", 58),
        ("MONTHLY", "totaal", "totaal 2018 (fedasil+dvz)", "2.609", "*", 58),
    ]
    again = nightly(raw_dir=str(raw_dir), warehouse=str(target))
    assert again.unchanged and again.parsed_now == 0 and again.exit_code == 1
    assert sorted(r.file for r in again.rejected) == ["empty.txt", "picture.png"]


def test_command_line_run_and_sql(raw_dir: Path, tmp_path: Path) -> None:
    (raw_dir / "broken.txt").write_text(
        SAMPLE.read_text(encoding="utf-8").replace("Maart 270 2 272 477", "Maart 270 2 272")
    )
    target = tmp_path / "warehouse.duckdb"
    command = str(Path(sys.executable).parent / "voluntary-returns")
    env = os.environ | {"PREFECT_HOME": str(tmp_path / "prefect-home")}
    run = subprocess.run(
        [command, "run", "--raw-dir", str(raw_dir), "--warehouse", str(target)],
        capture_output=True, text=True, env=env, check=False, timeout=600,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert "Published " in run.stdout
    assert f"Report: {(tmp_path / 'report' / 'index.html').as_uri()}" in run.stdout
    assert (
        "broken.txt, line 38: 'Maart' has 3 figures where the monthly table has 4 columns"
        in run.stdout
    )
    sql = subprocess.run(
        [command, "sql", "--warehouse", str(target),
         "select year, returns from marts.annual_returns order by year desc limit 2"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    assert "2018" in sql.stdout and "2609" in sql.stdout and "3827" in sql.stdout
    bad = subprocess.run(
        [command, "sql", "--warehouse", str(target), "select nothing from nowhere"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert bad.returncode == 1 and "query failed" in bad.stderr
    usage = subprocess.run([command, "launch"], capture_output=True, text=True, check=False)
    assert usage.returncode == 2
    missing = subprocess.run(
        [command, "run", "--raw-dir", str(tmp_path / "nowhere")],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert missing.returncode == 2 and "no raw folder at" in missing.stderr
    assert "Traceback" not in missing.stdout + missing.stderr


@pytest.mark.usefixtures("prefect_api")
def test_only_changed_files_are_parsed_and_the_report_says_so(
    raw_dir: Path, tmp_path: Path, sample_text: str
) -> None:
    target = tmp_path / "warehouse.duckdb"
    (raw_dir / "next.txt").write_text(shift_years(sample_text, 1))
    first = nightly(raw_dir=str(raw_dir), warehouse=str(target))
    assert first.published and "parsed now: 2; unchanged: 0" in summary()
    second = nightly(raw_dir=str(raw_dir), warehouse=str(target))
    assert second.unchanged and not second.published and second.exit_code == 0
    assert second.page == tmp_path / "report" / "index.html" and second.page.is_file()
    assert "Nothing changed" in summary() and "parsed now: 0; unchanged: 2" in summary()
    (raw_dir / "next.txt").write_text(shift_years(sample_text, 2))
    third = nightly(raw_dir=str(raw_dir), warehouse=str(target))
    assert third.published and "parsed now: 1; unchanged: 1" in summary()
    assert "next.txt: bulletin, report year 2020, 2020-01 to 2020-10" in summary()


def summary() -> str:
    """The text of the latest run-summary artifact, rendered from its Markdown."""
    return rendered(Artifact.get("run-summary").data)


@pytest.mark.usefixtures("prefect_api")
def test_artifacts_carry_the_figures_of_the_run(raw_dir: Path, tmp_path: Path) -> None:
    report = nightly(raw_dir=str(raw_dir), warehouse=str(tmp_path / "warehouse.duckdb"))
    markdown = summary()
    assert report.run_id in markdown
    assert "core.fact_returns: 77" in markdown and "marts.monthly_returns: 22" in markdown
    assert "warnings: 3" in markdown
    assert f"Report: {report.page.as_uri()}" in markdown and report.page.is_file()
    table = Artifact.get("quality-results").data
    rows = json.loads(table) if isinstance(table, str) else table
    failed = sorted((row["suite"], row["expectation"]) for row in rows if not row["success"])
    assert failed == [
        ("bulletin_totals", "category_total_agrees_with_other_tables"),
        ("bulletin_totals", "published_shares_agree_with_counts"),
        ("freshness", "newest_edition_is_fresh"),  # the sample's figures end in October 2018
    ]

"""Every fault in one line: bad files beside a good one, bad paths and places, honest output.

One run of the command line on a raw folder holding the sample beside every kind of bad file
(paths relative to the working directory, with a quote; as a user whom file permissions apply
to, as they do not to root) is shared by the tests of this module; the paths and places are
tried one by one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from conftest import SAMPLE, rendered
from derive import shift_years
from processes import without_root_override

from flows import cli
from flows.ingest.editions import discover, parse_new
from flows.nightly import nightly

BIN = Path(sys.executable).parent
LATIN1_NAME = os.fsdecode(b"f\xe9vrier.txt")  # "février" in Latin-1: not UTF-8
ESCAPE_NAME = "\x1b[2J.txt"  # clears a terminal if printed as is
SCRIPT = "<script>document.title='owned'</script>"
LONG_LABEL = "X" * 100_000


@dataclass
class Run:
    """What a command printed and left behind."""

    status: int
    stdout: str
    stderr: str
    base: Path
    warehouse: Path
    summary: str = ""  # the run-summary artifact's Markdown
    logs: tuple[str, ...] = ()  # the messages the run logged to Prefect's API


def run_command(
    *args: str, env: dict | None = None, ordinary_user: bool = True, cwd: Path | None = None
) -> tuple:
    """Run `voluntary-returns`; its status, standard output and standard error."""
    result = subprocess.run(
        [str(BIN / "voluntary-returns"), *args],
        env=env or os.environ, capture_output=True, text=True, timeout=900, check=False,
        preexec_fn=without_root_override if ordinary_user else None, cwd=cwd,
    )  # fmt: skip
    return result.returncode, result.stdout, result.stderr


def artifact_and_logs(run_id: str) -> tuple[str, tuple[str, ...]]:
    """The run-summary artifact of our run id and the log messages of its flow run."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterKey,
        LogFilter,
        LogFilterFlowRunId,
    )

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["run-summary"]))
        )
        artifact = next(a for a in artifacts if run_id in a.data)
        logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[artifact.flow_run_id]))
        )
    return artifact.data, tuple(log.message for log in logs)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory, prefect_api: str) -> Run:
    """The sample beside every kind of bad file, run once by the command line."""
    base = tmp_path_factory.mktemp("faults")
    raw = base / "it's raw"
    raw.mkdir()
    text = SAMPLE.read_text(encoding="utf-8")
    shutil.copy(SAMPLE, raw / SAMPLE.name)
    shutil.copy(SAMPLE, raw / "copy of the sample.txt")
    (raw / "locked.txt").write_text(shift_years(text, 1))
    (raw / "locked.txt").chmod(0)
    (raw / LATIN1_NAME).write_text(shift_years(text, 2))
    (base / "outside.txt").write_text(shift_years(text, 3))
    (raw / "outside.txt").symlink_to(base / "outside.txt")
    (raw / "gone.txt").symlink_to(base / "nowhere.txt")
    (raw / "archive").mkdir()
    (raw / "archive" / "old.txt").write_text(shift_years(text, -1))
    os.mkfifo(raw / "pipe.txt")
    (raw / ESCAPE_NAME).write_text("")
    (raw / "script.txt").write_text(shift_years(text, 4).replace("Irak 161", f"{SCRIPT} 161"))
    (raw / "long.txt").write_text(shift_years(text, 5).replace("Irak 161", f"{LONG_LABEL} 161"))
    (raw / "broken.txt").write_text(shift_years(text, 6).replace("Irak 161", "Irak 162"))
    warehouse = base / "o'brien" / "warehouse.duckdb"
    env = os.environ | {"PREFECT_API_URL": prefect_api}
    # Paths relative to the working directory, as a user types them.
    status, stdout, stderr = run_command(
        "run", "--raw-dir", raw.name, "--warehouse", "o'brien/warehouse.duckdb", env=env, cwd=base
    )
    run_id = re.search(r"warehouse run (\S+)", stdout)
    result = Run(status, stdout, stderr, base, warehouse)
    if run_id:
        result.summary, result.logs = artifact_and_logs(run_id[1])
    return result


def test_each_bad_file_is_one_rejection_and_the_good_file_publishes(faulty: Run) -> None:
    assert faulty.status == 1, faulty.stdout + faulty.stderr
    assert "Traceback" not in faulty.stdout + faulty.stderr
    assert faulty.stderr == ""
    assert "Published " in faulty.stdout
    rejected = section(faulty.stdout, "Rejected (kept out of the warehouse)")
    nowhere, outside = faulty.base / "nowhere.txt", faulty.base / "outside.txt"
    assert [line for line in rejected if not line.startswith(("    ", "- long.txt"))] == [
        "- \\x1b[2J.txt: the file is empty",
        "- broken.txt, line 136: fails countries_add_up_to_stated_total:"
        " 2024-01/2024-10: stated 2609, computed 2610 (line 136)",
        "- f\\xe9vrier.txt: the file name is not UTF-8 text: rename the file",
        f"- gone.txt: a link to {nowhere}, which does not exist",
        "- locked.txt: the file cannot be read (permission denied): give read access to it",
        f"- outside.txt: a link to {outside}, outside the raw folder: not followed"
        " (copy the file in)",
        "- pipe.txt: a named pipe, not a file: not read",
        script := next(line for line in rejected if line.startswith("- script.txt")),
    ]
    assert script.startswith("- script.txt, line 122: fails every_country_resolved:")
    assert script.endswith(f"'{SCRIPT}' (line 122)")
    assert section(faulty.stdout, "Skipped (not read)") == [
        "- archive: a folder (the files of subfolders are not read)"
    ]
    con = duckdb.connect(str(faulty.warehouse), read_only=True)
    published = con.sql("select file_name, also_named, report_year from raw.bulletins").fetchall()
    refused = con.sql("select count(*) from marts.rejected_bulletins").fetchall()
    con.close()
    # The same content under two names: one edition, both names recorded.
    assert published == [("copy of the sample.txt", [SAMPLE.name], 2018)]
    assert refused == [(9,)]


def test_the_same_content_under_two_names_is_a_warning(faulty: Run) -> None:
    warnings = section(faulty.stdout, "Warnings (published with the data)")
    assert (
        warnings.count(
            f"- {SAMPLE.name}: each_file_has_its_own_content (warning) failed:"
            " the same content as copy of the sample.txt: loaded once, under both names"
        )
        == 1
    )
    assert (
        f"- copy of the sample.txt, {SAMPLE.name}: bulletin, report year 2018, 2018-01 to 2018-10"
        in faulty.stdout
    )


def test_warnings_of_a_rejected_file_stand_under_its_rejection_once(faulty: Run) -> None:
    rejected = section(faulty.stdout, "Rejected (kept out of the warehouse)")
    under = rejected[rejected.index(next(r for r in rejected if "broken.txt" in r)) + 1 :]
    under = under[: next(i for i, line in enumerate(under) if not line.startswith("    "))]
    assert under == [
        "    - warning: published_shares_agree_with_counts (warning) failed: Asielzoekers"
        " 2024-01/2024-10: stated 15, computed 18 (line 91); Migranten zonder wettig verblijf"
        " 2024-01/2024-10: stated 55, computed 53 (line 95)",
        "    - warning: category_total_agrees_with_other_tables (warning) failed: MONTHLY"
        " 2024-01/2024-10: stated 2609, computed 2713 (line 97); COUNTRY 2024-01/2024-10:"
        " stated 2609, computed 2713 (line 97)",
    ]
    published_warnings = "\n".join(section(faulty.stdout, "Warnings (published with the data)"))
    assert "broken.txt" not in published_warnings and "2024" not in published_warnings


def test_the_terminal_shows_control_characters_escaped_and_long_labels_cut(faulty: Run) -> None:
    assert "\x1b" not in faulty.stdout and "- \\x1b[2J.txt: the file is empty" in faulty.stdout
    longest = max(faulty.stdout.splitlines(), key=len)
    assert longest.startswith("- long.txt, line 122: fails every_country_resolved:")
    assert re.search(r"XXX… \(100,\d{3} characters\)$", longest) and len(longest) < 400


def test_the_markdown_artifact_shows_names_as_text(faulty: Run) -> None:
    from markdown_it import MarkdownIt

    page = MarkdownIt("commonmark").render(faulty.summary)
    assert "<script>" not in page and "&lt;script&gt;document.title=" in page
    text = rendered(faulty.summary)
    assert "\x1b" not in text
    assert "\\x1b[2J.txt: the file is empty" in text
    assert "f\\xe9vrier.txt: the file name is not UTF-8 text: rename the file" in text
    assert f"'{SCRIPT}' (line 122)" in text
    assert f"Published {faulty.warehouse} and its marts as Parquet." in text


def test_data_docs_show_a_script_label_as_text_in_a_browser(faulty: Run, tmp_path: Path) -> None:
    docs = faulty.warehouse.parent / "gx" / "uncommitted" / "data_docs" / "local_site"
    page = next(p for p in docs.rglob("*.html") if "owned" in p.read_text())
    dom = chromium_dom(page.as_uri(), tmp_path)
    assert "<title>owned</title>" not in dom
    assert "&lt;script&gt;document.title='owned'&lt;/script&gt;" in dom


def chromium_dom(url: str, profile: Path) -> str:
    """The page's DOM after Debian's Chromium ran its scripts, headless."""
    result = subprocess.run(
        ["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={profile}", "--virtual-time-budget=5000",
         "--dump-dom", url],
        capture_output=True, text=True, timeout=180, check=True,
    )  # fmt: skip
    return result.stdout


def test_the_run_logs_progress_rejections_and_warnings_to_prefect(faulty: Run) -> None:
    logs = "\n".join(faulty.logs)
    assert "6 files in the raw folder" in logs  # readable regular files: 2 publish, 4 rejected
    assert "rejected locked.txt: the file cannot be read (permission denied)" in logs
    assert f"warning {SAMPLE.name}: each_file_has_its_own_content" in logs
    assert "skipped archive: a folder" in logs
    assert re.search(r"published .*o'brien/warehouse.duckdb", logs)


def section(text: str, heading: str) -> list[str]:
    """The lines under a `## heading` of the summary, up to the next heading."""
    lines = text.splitlines()
    start = lines.index(f"## {heading}") + 2
    end = next((i for i in range(start, len(lines)) if not lines[i]), len(lines))
    return lines[start:end]


@pytest.mark.parametrize(
    "case",
    ["missing raw folder", "raw folder is a file", "warehouse is a folder",
     "read-only warehouse folder", "PREFECT_HOME read-only", "PREFECT_HOME under a file",
     "warehouse in the raw folder"],
)  # fmt: skip
def test_a_path_a_run_cannot_use_is_one_line_and_exit_2(
    case: str, tmp_path: Path, raw_dir: Path
) -> None:
    warehouse, home = tmp_path / "out" / "warehouse.duckdb", tmp_path / "prefect-home"
    if case == "missing raw folder":
        raw_dir, expected = tmp_path / "nowhere", f"no raw folder at {tmp_path / 'nowhere'}"
    elif case == "raw folder is a file":
        raw_dir = SAMPLE
        expected = f"the raw folder {SAMPLE} is a file, not a folder: give --raw-dir a folder"
    elif case == "warehouse is a folder":
        warehouse.mkdir(parents=True)
        expected = f"the warehouse {warehouse} is a folder: give --warehouse a file name"
    elif case == "read-only warehouse folder":
        warehouse.parent.mkdir()
        warehouse.parent.chmod(0o555)
        expected = (
            f"cannot write beside the warehouse in {warehouse.parent} (permission denied):"
            " give --warehouse in a folder you can write"
        )
    elif case == "warehouse in the raw folder":
        warehouse = raw_dir / "warehouse.duckdb"
        expected = (
            f"the warehouse {warehouse} is in the raw folder, where its files would be read as"
            " bulletins: give --warehouse another folder"
        )
    elif case == "PREFECT_HOME read-only":
        home.mkdir()
        home.chmod(0o555)
        expected = f"cannot write Prefect's state folder {home} (permission denied)"
    else:
        home.write_text("a file")
        home = home / "prefect"
        expected = f"cannot write Prefect's state folder {home} (a part of the path is not a"
    env = os.environ | {"PREFECT_HOME": str(home)}
    status, stdout, stderr = run_command(
        "run", "--raw-dir", str(raw_dir), "--warehouse", str(warehouse), env=env
    )
    assert (status, stdout) == (2, "")
    assert len(stderr.splitlines()) == 1 and stderr.startswith(expected), stderr
    assert not warehouse.is_file()


@pytest.mark.parametrize(
    ("args", "variables", "expected"),
    [
        (
            ["run"],
            {"VOLUNTARY_RETURNS_FRESHNESS_WARN_AFTER_DAYS": "sixty"},
            "VOLUNTARY_RETURNS_FRESHNESS_WARN_AFTER_DAYS='sixty' is not a whole number of days",
        ),
        (["serve", "--cron", "every night"], {}, "'every night' is not a cron schedule"),
        (["serve", "--timezone", "Brussels"], {}, "unknown time zone 'Brussels'"),
    ],
)
def test_a_setting_that_cannot_be_used_is_one_line_and_exit_2(
    args: list[str], variables: dict[str, str], expected: str
) -> None:
    status, stdout, stderr = run_command(*args, env=os.environ | variables)
    assert (status, stdout) == (2, "")
    assert len(stderr.splitlines()) == 1 and stderr.startswith(expected), stderr


def test_serve_with_a_read_only_prefect_home_is_one_line(tmp_path: Path) -> None:
    home = tmp_path / "prefect-home"
    home.mkdir()
    home.chmod(0o555)
    status, stdout, stderr = run_command("serve", env=os.environ | {"PREFECT_HOME": str(home)})
    assert (status, stdout) == (2, "")
    assert stderr == (
        f"cannot write Prefect's state folder {home} (permission denied):"
        " set PREFECT_HOME to a folder you can write\n"
    )


def test_version_and_help_list_exit_status_and_variables(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as version:
        cli.main(["--version"])
    assert version.value.code == 0 and re.fullmatch(r"\d+\.\d+\.\d+\n", capsys.readouterr().out)
    for command in ("run", "serve", "sql", "report"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        text = capsys.readouterr().out
        assert "exit status:\n  0  " in text and "\n  2  bad usage" in text, command
        assert "VOLUNTARY_RETURNS_WAREHOUSE" in text and "PREFECT_HOME" in text, command


def test_make_run_shows_the_status_of_the_command(tmp_path: Path) -> None:
    env = os.environ | {"VOLUNTARY_RETURNS_RAW_DIR": str(tmp_path / "nowhere")}
    result = subprocess.run(
        ["make", "--no-print-directory", "run"], cwd=BIN.parent.parent, env=env,
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"no raw folder at {tmp_path / 'nowhere'}" in result.stderr
    assert "voluntary-returns run: exit status 2" in result.stderr


@pytest.mark.usefixtures("prefect_api")
def test_an_empty_raw_folder_and_an_unchanged_run_report_the_published_state(
    raw_dir: Path, tmp_path: Path
) -> None:
    from prefect.artifacts import Artifact

    target = tmp_path / "warehouse.duckdb"
    first = nightly(raw_dir=str(raw_dir), warehouse=str(target))
    assert first.published and len(first.warnings) >= 2
    unchanged = nightly(raw_dir=str(raw_dir), warehouse=str(target))
    assert unchanged.unchanged and len(unchanged.loaded) == 1
    assert sorted(w.describe() for w in unchanged.warnings) == sorted(
        w.describe() for w in first.warnings
    )
    summary = rendered(Artifact.get("run-summary").data)
    assert "editions published: 1" in summary and f"warnings: {len(first.warnings)}" in summary
    assert "category_total_agrees_with_other_tables (warning) failed" in summary
    quality = Artifact.get("quality-results")
    assert quality.flow_run_id == Artifact.get("run-summary").flow_run_id
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    for path in raw_dir.iterdir():
        path.unlink()
    empty = nightly(raw_dir=str(raw_dir), warehouse=str(target))
    assert not empty.published and empty.exit_code == 1
    assert (
        "Not published: the raw folder is empty: nothing published;"
        f" the published warehouse keeps its 1 editions ({target})." in empty.terminal()
    )
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before


@pytest.fixture
def small_disk(tmp_path: Path) -> Path:
    """A 40 MB file system of its own (a tmpfs; mounting one needs root)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(disk)],
        capture_output=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip("mounting a small tmpfs needs root; a full disk cannot be made otherwise")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=True)


def test_a_file_removed_or_written_to_while_the_run_reads_it(
    tmp_path: Path, raw_dir: Path, sample_text: str
) -> None:
    rows = "period,organiser,country,category,channel,returns,share_pct\n2019,,,,,3,\n2020,,,,,4,\n"
    for name in ("a-typed.csv", "b-typed copy.csv"):
        (raw_dir / name).write_text(rows)
    (raw_dir / "removed.txt").write_text(shift_years(sample_text, 1))
    (raw_dir / "rewritten.txt").write_text(shift_years(sample_text, 2))
    files = discover(raw_dir).files
    (raw_dir / "removed.txt").unlink()
    (raw_dir / "rewritten.txt").write_text("saved over while the run reads it\n")
    with open(raw_dir / "a-typed.csv", "a") as typed:
        typed.write("2021,,,,,5,\n")
    new = tmp_path / "new.duckdb"
    editions, rejected, _ = parse_new(files, tmp_path / "cache", new)
    changed = "the file changed while the run read it: run again to load it as it is now"
    assert sorted((r.file, r.reason) for r in rejected) == [
        ("a-typed.csv", changed),
        ("removed.txt", "the file was removed while the run read it: nothing of it was loaded"),
        ("rewritten.txt", changed),
    ]
    copy = next(e for e in editions if e.file_name == "b-typed copy.csv")
    with duckdb.connect(str(new), read_only=True) as con:
        [(rows_kept,)] = con.execute(
            "select count(*) from staging.observations where sha256 = $1", [copy.sha256]
        ).fetchall()
    assert rows_kept == 2
    # What was read of a file that changed is not kept: its content, back, loads.
    (raw_dir / "rewritten.txt").write_text(shift_years(sample_text, 2))
    editions, rejected, _ = parse_new(discover(raw_dir).files, tmp_path / "cache", new)
    assert rejected == [] and "rewritten.txt" in {e.file_name for e in editions}


def test_a_known_tidy_file_is_loaded_again_and_checked_for_changes(tmp_path: Path) -> None:
    raw_dir = tmp_path / "typed"
    raw_dir.mkdir()
    (raw_dir / "typed.csv").write_text(
        "period,organiser,country,category,channel,returns,share_pct\n2019,,,,,3,\n2020,,,,,4,\n"
    )
    new, cache = tmp_path / "new.duckdb", tmp_path / "cache"

    def staged() -> list[tuple]:
        with duckdb.connect(str(new), read_only=True) as con:
            return con.execute(
                "select period_code, returns, line_number from staging.observations order by 3"
            ).fetchall()

    editions, _, parsed_now = parse_new(discover(raw_dir).files, cache, new)
    assert parsed_now == 1 and staged() == [("2019", 3, 2), ("2020", 4, 3)]
    # The store keeps its edition, not its rows: a later run reads them again, into its own file.
    editions, rejected, parsed_now = parse_new(discover(raw_dir).files, cache, new)
    assert (parsed_now, rejected) == (0, []) and [e.file_name for e in editions] == ["typed.csv"]
    assert staged() == [("2019", 3, 2), ("2020", 4, 3)]
    # Written to after it was hashed: what was read is not the content its sha256 says.
    files = discover(raw_dir).files
    with open(raw_dir / "typed.csv", "a") as typed:
        typed.write("2021,,,,,5,\n")
    editions, rejected, _ = parse_new(files, cache, new)
    assert editions == [] and staged() == []
    assert [(r.file, r.reason) for r in rejected] == [
        ("typed.csv", "the file changed while the run read it: run again to load it as it is now")
    ]


def test_prefect_home_on_a_full_disk_is_one_line(small_disk: Path, raw_dir: Path) -> None:
    with open(small_disk / "filler", "wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * (1 << 16))
    home, warehouse = small_disk / "prefect-home", raw_dir.parent / "out" / "warehouse.duckdb"
    status, stdout, stderr = run_command(
        "run", "--raw-dir", str(raw_dir), "--warehouse", str(warehouse),
        env=os.environ | {"PREFECT_HOME": str(home)},
    )  # fmt: skip
    assert (status, stdout) == (2, "")
    assert stderr == (
        f"cannot write Prefect's state folder {home} (the disk is full):"
        " set PREFECT_HOME to a folder you can write\n"
    )


@pytest.mark.usefixtures("prefect_api")
def test_a_full_disk_is_one_line_no_retry_and_nothing_published_half(
    small_disk: Path, raw_dir: Path, sample_text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = small_disk / "warehouse.duckdb"
    arguments = ["run", "--raw-dir", str(raw_dir), "--warehouse", str(warehouse)]
    assert cli.main(arguments) == 0
    capsys.readouterr()
    published = {p.name: p.read_bytes() for p in [warehouse, *small_disk.glob("marts/*")]}
    (raw_dir / "next.txt").write_text(shift_years(sample_text, 1))
    filler = small_disk / "filler"
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * (1 << 16))
        except OSError:
            pass
    os.truncate(filler, filler.stat().st_size - (1 << 18))  # 256 KiB left
    assert cli.main(arguments) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"the disk is full ({small_disk}/") and err.endswith(
        ": free some space and run again; nothing was published\n"
    )
    assert {p.name: p.read_bytes() for p in [warehouse, *small_disk.glob("marts/*")]} == published
    assert "Retry" not in "\n".join(latest_logs())
    filler.unlink()
    assert cli.main(arguments) == 0
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.sql("select count(*) from raw.bulletins").fetchall() == [(2,)]
    con.close()


def latest_logs() -> list[str]:
    """The log messages of the latest flow run."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        latest = client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=1)[0]
        logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[latest.id]))
        )
    return [log.message for log in logs]

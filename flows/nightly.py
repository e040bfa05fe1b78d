"""The nightly Prefect flow: discover -> parse -> check bulletins -> build -> check -> publish."""

from __future__ import annotations

import fcntl
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows import pipeline
from flows.ingest.editions import Edition, RawFile, discover, parse_new, stage_new
from flows.publish import publish
from flows.quality.freshness import FreshnessLimits
from flows.quality.gate import Finding, QualityGate, forget_results
from flows.report.html import write_report
from flows.report.run_report import RunReport
from flows.settings import Settings

# Only file and database I/O is retried; bad data is reported, never retried.
IO_RETRIES = {"retries": 2, "retry_delay_seconds": [1, 5]}


@task(name="discover raw files", cache_policy=NO_CACHE, **IO_RETRIES)
def discover_files(raw_dir: Path) -> list[RawFile]:
    """The raw folder's files and their sha256."""
    return discover(raw_dir)


@task(name="parse bulletins", cache_policy=NO_CACHE, **IO_RETRIES)
def parse_bulletins(files: list[RawFile], cache_dir: Path) -> tuple:
    """Parsed editions (from the cache where the content is known), rejections, parsed count."""
    shown = max(1, len(files) // 10)

    def progress(done: int, total: int) -> None:
        if done % shown == 0 or done == total:
            print(f"  parsed {done}/{total} files", file=sys.stderr, flush=True)

    return parse_new(files, cache_dir, progress if len(files) > 20 else None)


@task(name="stage bulletins", cache_policy=NO_CACHE, **IO_RETRIES)
def stage_bulletins(editions: list[Edition], cache_dir: Path) -> int:
    """Typed and coded tables of the editions not staged before; how many were staged now."""
    return stage_new(editions, cache_dir)


@task(name="check bulletins", cache_policy=NO_CACHE)
def check_bulletins(editions: list[Edition], settings: Settings, run_id: str) -> pipeline.Checked:
    """Editions that pass the bulletin suites, and the rejected ones."""
    gate = QualityGate(settings.expectations_dir, settings.docs_root, run_id)
    return pipeline.check_bulletins(editions, gate, settings.cache_dir)


@task(name="verify published warehouse", cache_policy=NO_CACHE, **IO_RETRIES)
def verify_published(published: Path, fingerprint: str) -> tuple | None:
    """Row counts, rejections and docs of the published file when built from the same inputs."""
    return publish.unchanged_publication(published, fingerprint)


@task(name="build new warehouse", cache_policy=NO_CACHE, **IO_RETRIES)
def build_new_warehouse(
    editions: list[Edition], new_path: Path, log: pipeline.RunLog, cache_dir: Path
) -> Path:
    """A new warehouse file beside the published one."""
    pipeline.build_warehouse(editions, new_path, log, cache_dir)
    return new_path


@task(name="check new warehouse", cache_policy=NO_CACHE)
def check_new_warehouse(
    new_path: Path, earlier: list[Finding], settings: Settings, run_id: str
) -> tuple[list[Finding], Path]:
    """The warehouse suites' findings (stored in the new file with the earlier ones) and docs."""
    gate = QualityGate(settings.expectations_dir, settings.docs_root, run_id)
    gate.findings = list(earlier)
    findings = pipeline.check_warehouse(new_path, gate, FreshnessLimits.of(settings))
    return findings, gate.build_docs()


@task(name="publish warehouse", cache_policy=NO_CACHE, **IO_RETRIES)
def publish_warehouse(new_path: Path, published: Path) -> dict[str, int]:
    """The published file and Parquet exports, renamed into place; their row counts."""
    return publish.publish(new_path, published)


@task(name="write report page", cache_policy=NO_CACHE, **IO_RETRIES)
def write_report_page(published: Path, settings: Settings) -> Path:
    """The HTML report of the published file (figures, charts, quality, freshness)."""
    return write_report(published, settings.report_dir, limits=FreshnessLimits.of(settings))


@task(name="report run", cache_policy=NO_CACHE)
def report_run(report: RunReport) -> str:
    """Markdown and table artifacts of the run, for the Prefect UI."""
    markdown = report.markdown()
    create_markdown_artifact(markdown, key="run-summary", description="Run summary")
    if report.findings:
        create_table_artifact(
            report.quality_table(), key="quality-results", description="Expectation results"
        )
    return markdown


@contextmanager
def exclusive(warehouse: Path) -> Iterator[None]:
    """One run at a time per warehouse; files left by a killed run are removed."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with open(warehouse.parent / f".{warehouse.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for leftover in warehouse.parent.glob(f".{warehouse.name}.*.new"):
            leftover.unlink()
        yield


@flow(name="voluntary-returns", log_prints=False)
def nightly(
    raw_dir: str | None = None, warehouse: str | None = None, expectations_dir: str | None = None
) -> RunReport:
    """Load every bulletin of the raw folder and publish the warehouse if it passes its checks."""
    settings = Settings.load(
        raw_dir=raw_dir, warehouse=warehouse, expectations_dir=expectations_dir
    )
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
    report = RunReport(run_id, settings.raw_dir, settings.warehouse)
    with exclusive(settings.warehouse):
        files = discover_files(settings.raw_dir)
        report.files = len(files)
        fingerprint = pipeline.inputs_fingerprint(files, settings.expectations_dir)
        published = verify_published(settings.warehouse, fingerprint)
        if published:
            report.unchanged = True
            report.row_counts, report.rejected, report.docs = published
        else:
            load_and_publish(files, fingerprint, settings, report)
        if report.published or report.unchanged:
            # Rewritten by unchanged runs too: its freshness is judged against the day of the run.
            report.page = write_report_page(settings.warehouse, settings)
    report_run(report)
    get_run_logger().info("run %s finished with exit status %s", run_id, report.exit_code)
    return report


def load_and_publish(
    files: list[RawFile], fingerprint: str, settings: Settings, report: RunReport
) -> None:
    """Parse, stage and check the bulletins, build and check a new file, publish it if it passes."""
    forget_results(settings.docs_root)
    editions, rejected, report.parsed_now = parse_bulletins(files, settings.cache_dir)
    stage_bulletins(editions, settings.cache_dir)
    checked = check_bulletins(editions, settings, report.run_id)
    report.loaded, report.findings = checked.accepted, checked.findings
    report.rejected = rejected + checked.rejected
    if not checked.accepted:
        report.stopped = "no bulletin passed its checks, so there is nothing to publish;"
        return
    new_path = settings.warehouse.parent / f".{settings.warehouse.name}.{report.run_id}.new"
    try:
        log = pipeline.RunLog(report.run_id, fingerprint, report.rejected)
        build_new_warehouse(checked.accepted, new_path, log, settings.cache_dir)
        findings, report.docs = check_new_warehouse(
            new_path, checked.findings, settings, report.run_id
        )
        report.findings = checked.findings + findings
        if report.blocking:
            report.stopped = "a critical check of the new warehouse failed;"
        else:
            report.row_counts = publish_warehouse(new_path, settings.warehouse)
            report.published = True
    finally:
        new_path.unlink(missing_ok=True)

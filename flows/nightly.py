"""The nightly Prefect flow: discover -> parse -> check bulletins -> build -> check -> publish."""

from __future__ import annotations

import shutil
import sys
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import duckdb
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import State
from prefect.utilities.annotations import quote

from flows import pipeline, places, unchanged
from flows.database import is_corrupt
from flows.ingest.editions import (
    Edition,
    RawFile,
    RawFolder,
    check_store,
    discover,
    parse_new,
    set_store_aside,
    stage_new,
)
from flows.publish import publish
from flows.quality.freshness import FreshnessLimits
from flows.quality.gate import Finding, QualityGate, read_suites
from flows.report import shown
from flows.report.run_report import RunReport, summed_up
from flows.settings import Settings, pause_point


def transient(task: object, task_run: object, state: State) -> bool:
    """Whether a failed task is worth a retry: not a full disk, a read-only folder, a denied
    permission or a damaged database block, which no retry mends."""
    error = state.data if isinstance(state.data, BaseException) else None
    return places.place_errno(error) is None and not is_corrupt(error)


# Only file and database I/O is retried, and only faults that may pass; bad data is reported.
IO_RETRIES = {"retries": 2, "retry_delay_seconds": [1, 5], "retry_condition_fn": transient}


@task(name="discover raw files", cache_policy=NO_CACHE, **IO_RETRIES)
def discover_files(raw_dir: Path) -> RawFolder:
    """The raw folder's files and their sha256, and the entries refused or skipped."""
    return discover(raw_dir)


@task(name="parse bulletins", cache_policy=NO_CACHE, **IO_RETRIES)
def parse_bulletins(files: list[RawFile], cache_dir: Path, new_path: Path) -> tuple:
    """Parsed editions (from the cache where the content is known), rejections, parsed count;
    the rows of tidy files staged into the new warehouse file."""
    every = max(1, len(files) // 10)
    logger = get_run_logger()

    def progress(done: int, total: int) -> None:
        if done % every == 0 or done == total:
            print(f"  parsed {done}/{total} files", file=sys.stderr, flush=True)
            logger.info("parsed %d/%d files", done, total)

    return parse_new(files, cache_dir, new_path, progress if len(files) > 20 else None)


@task(name="stage bulletins", cache_policy=NO_CACHE, **IO_RETRIES)
def stage_bulletins(editions: list[Edition], cache_dir: Path, new_path: Path) -> int:
    """Typed and coded tables of the editions not staged before, and the staged rows of the
    run's bulletins gathered in the new warehouse file; how many were staged now."""
    return stage_new(editions, cache_dir, new_path)


@task(name="check the cache", cache_policy=NO_CACHE)
def check_cache(cache_dir: Path) -> str | None:
    """A store of parsed editions that cannot be read is moved aside; what was done, if anything."""
    return check_store(cache_dir)


@task(name="check bulletins", cache_policy=NO_CACHE)
def check_bulletins(
    editions: list[Edition], settings: Settings, stage: Path, run_id: str
) -> pipeline.Checked:
    """Editions that pass the bulletin suites, and the rejected ones."""
    gate = QualityGate(settings.expectations_dir, stage, run_id)
    return pipeline.check_bulletins(editions, gate, stage / settings.warehouse.name)


@task(name="verify published state", cache_policy=NO_CACHE, **IO_RETRIES)
def verify_published(published: Path, fingerprint: str) -> publish.Verdict:
    """Whether the published state is what its manifest records for these inputs (see Verdict)."""
    return unchanged.verify(published, fingerprint)


@task(name="republish from the published warehouse", cache_policy=NO_CACHE)
def republish(published: Path, run_id: str, folders: tuple[str, ...], settings: Settings) -> None:
    """Derived folders written again from the verified published file, put in place."""
    pipeline.republish(published, run_id, folders, limits=FreshnessLimits.of(settings))


@task(name="build new warehouse", cache_policy=NO_CACHE, **IO_RETRIES)
def build_new_warehouse(
    editions: list[Edition], new_path: Path, log: pipeline.RunLog, cache_dir: Path
) -> Path:
    """A new warehouse file beside the published one."""
    pipeline.build_warehouse(editions, new_path, log, cache_dir)
    return new_path


@task(name="check new warehouse", cache_policy=NO_CACHE)
def check_new_warehouse(
    new_path: Path, earlier: list[Finding], settings: Settings, stage: Path, run_id: str
) -> tuple[list[Finding], Path]:
    """The warehouse suites' findings (stored in the new file with the earlier ones) and docs."""
    gate = QualityGate(settings.expectations_dir, stage, run_id)
    gate.findings = list(earlier)
    findings = pipeline.check_warehouse(new_path, gate, FreshnessLimits.of(settings))
    return findings, gate.build_docs()


# Not retried: a publish that stopped half-way is repaired by the next run, not repeated.
@task(name="publish new state", cache_policy=NO_CACHE)
def publish_new_state(stage: Path, settings: Settings, record: dict) -> str:
    """The staged state put in place; or, when nothing was published, why."""
    try:
        pipeline.publish_state(stage, settings.warehouse, record, FreshnessLimits.of(settings))
    except publish.WarehouseHeld as held:
        return str(held)
    return ""


@task(name="report run", cache_policy=NO_CACHE)
def report_run(report: RunReport) -> str:
    """Markdown and table artifacts of the run, for the Prefect UI, and its log lines."""
    logger = get_run_logger()
    for rejection in report.rejected:
        logger.warning("rejected %s", shown.terminal(rejection))
    # thousands of warnings are summed up per expectation, as in the summary
    for line in summed_up(report.warnings, shown.terminal, kept=report.published):
        if line:
            logger.warning("warning %s", line.removeprefix("- "))
    for item in report.skipped:
        logger.info("skipped %s", shown.terminal(item))
    markdown = report.markdown()
    create_markdown_artifact(markdown, key="run-summary", description="Run summary")
    create_table_artifact(
        report.quality_table(), key="quality-results", description="Expectation results"
    )
    return markdown


@flow(name="voluntary-returns", log_prints=False)
def nightly(
    raw_dir: str | None = None, warehouse: str | None = None, expectations_dir: str | None = None
) -> RunReport:
    """Load every bulletin of the raw folder and publish the warehouse if it passes its checks."""
    settings = Settings.load(
        raw_dir=raw_dir, warehouse=warehouse, expectations_dir=expectations_dir
    )
    read_suites(settings.expectations_dir)  # a folder that cannot check a run stops it here
    logger = get_run_logger()
    with publish.run_lock(settings.warehouse) as leftovers:
        folder = discover_files(settings.raw_dir)
        report = unchanged.new_report(settings, folder)
        logger.info("run %s: %s into %s", report.run_id, settings.raw_dir, settings.warehouse)
        if leftovers:
            names = ", ".join(path.name for path in leftovers)
            report.notes.append(f"Removed what an interrupted run left: {names}")
        logger.info("%d files in the raw folder", report.files)
        fingerprint = pipeline.inputs_fingerprint(folder, settings.expectations_dir)
        verdict = verify_published(settings.warehouse, fingerprint)
        if not unchanged.settle(
            verdict,
            settings.warehouse,
            report,
            partial(republish, settings=settings),
            FreshnessLimits.of(settings),
        ):
            if verdict.reason:
                report.notes.append(f"Rebuilt: {verdict.reason}")
            load_and_publish(folder, fingerprint, settings, report)
        if not (report.published or report.unchanged):
            report.kept_editions = len(pipeline.published_state(settings.warehouse)[0])
    report_run(quote(report))
    logger.info("run %s finished with exit status %s", report.run_id, report.exit_code)
    return report


def load_and_publish(
    folder: RawFolder, fingerprint: str, settings: Settings, report: RunReport
) -> None:
    """Parse, stage and check the bulletins, build and check a new state beside the published
    one (a staging folder), and put it in place if it passes."""
    logger = get_run_logger()
    if not folder.files and not folder.refused:
        report.stopped = "the raw folder is empty: nothing published"
        return
    if note := check_cache(settings.cache_dir):
        report.notes.append(note)
    stage = publish.staging_folder(settings.warehouse, report.run_id)
    stage.mkdir()
    try:
        try:
            new_path = load_and_build(folder, fingerprint, settings, report, stage)
        except duckdb.Error as error:
            if not is_corrupt(error):
                raise
            # A damaged block of the store shows only when it is read: the cache is rebuilt.
            report.notes.append(set_store_aside(settings.cache_dir, str(error)))
            shutil.rmtree(stage)
            stage.mkdir()
            new_path = load_and_build(folder, fingerprint, settings, report, stage)
        if new_path is None:
            return
        findings, docs = check_new_warehouse(
            new_path, quote(report.findings), settings, stage, report.run_id
        )
        report.findings += findings
        if report.blocking:
            report.stopped = "a critical check of the new warehouse failed"
            return
        record = {
            "run_id": report.run_id,
            "inputs_fingerprint": fingerprint,
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "docs": docs.relative_to(stage).as_posix(),
        }
        held = publish_new_state(stage, settings, record)
        if held:
            report.stopped = held
        else:
            report.published = True
            logger.info("published %s", settings.warehouse)
            unchanged.show_published(settings.warehouse, report)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def load_and_build(
    folder: RawFolder, fingerprint: str, settings: Settings, report: RunReport, stage: Path
) -> Path | None:
    """Parse, stage and check the bulletins, and build the new warehouse in the staging folder:
    its path, or None when no bulletin passed. Raises duckdb.Error for a damaged store."""
    logger = get_run_logger()
    new_path = stage / settings.warehouse.name
    # Prefect walks every argument of a task for futures to resolve: for thousands of editions
    # and findings that walk took seconds. `quote` hands plain data over as it is.
    editions, rejected, report.parsed_now = parse_bulletins(
        quote(folder.files), settings.cache_dir, new_path
    )
    logger.info("%d files parsed now, %d editions", report.parsed_now, len(editions))
    pause_point("after-parse")
    stage_bulletins(quote(editions), settings.cache_dir, new_path)
    checked = check_bulletins(quote(editions), settings, stage, report.run_id)
    report.loaded = checked.accepted
    report.findings = pipeline.duplicate_findings(editions) + checked.findings
    report.rejected = folder.refused + rejected + checked.rejected
    logger.info("%d editions passed the bulletin checks", len(checked.accepted))
    if not checked.accepted:
        report.stopped = "no bulletin passed its checks"
        return None
    log = pipeline.RunLog(report.run_id, fingerprint, report.rejected)
    build_new_warehouse(quote(checked.accepted), new_path, quote(log), settings.cache_dir)
    return new_path

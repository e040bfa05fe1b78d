"""A run whose inputs have not changed: the published state verified, repaired and reported.

`voluntary-returns run` asks `answer` first, before Prefect is imported or a server started: the
raw folder's digests and the manifest tell whether a build is needed. When none is, the run
verifies the published state (and writes damaged exports or the report again) without a flow
run: it loads nothing, and the flow run's server would cost most of its time. The nightly flow
uses the same steps, as tasks, when it finds the same.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from flows import pipeline
from flows.ingest.editions import RawFolder, discover
from flows.publish import publish
from flows.quality.freshness import FreshnessLimits
from flows.report.run_report import RunReport
from flows.settings import Settings

# Writes derived folders again from the verified published file: pipeline.republish, or the
# flow's task around it, bound to the run's freshness limits.
Republish = Callable[[Path, str, Collection[str]], None]


def new_run_id() -> str:
    """A run's id: its UTC start time and a random suffix (20260101T020000-1a2b3c)."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]


def answer(settings: Settings) -> RunReport | None:
    """The report of a run that needs no build, once the published state is verified and
    repaired (or found held by a writer); None when the run has work to do: no published state,
    inputs or the warehouse changed, or an interrupted run left files to clean up."""
    if publish.read_manifest(settings.data_dir) is None:
        return None  # nothing published yet: no digests to spend
    with publish.run_lock(settings.warehouse, remove=False) as leftovers:
        if leftovers:
            return None  # the flow removes them and says so
        folder = discover(settings.raw_dir)
        verdict = verify(
            settings.warehouse, pipeline.inputs_fingerprint(folder, settings.expectations_dir)
        )
        if verdict.action == "rebuild":
            return None
        report = new_report(settings, folder)
        limits = FreshnessLimits.of(settings)
        republish = partial(pipeline.republish, limits=limits)
        settle(verdict, settings.warehouse, report, republish, limits)
    return report


def new_report(settings: Settings, folder: RawFolder) -> RunReport:
    """The report of a new run over a raw folder."""
    report = RunReport(new_run_id(), settings.raw_dir, settings.warehouse)
    report.files, report.skipped = len(folder.files), folder.skipped
    return report


def verify(published: Path, fingerprint: str) -> publish.Verdict:
    """Whether the published state is what its manifest records for these inputs (see
    publish.check_published); `held` while another program holds the file read-write."""
    try:
        return publish.check_published(published, fingerprint, pipeline.DERIVED)
    except publish.WarehouseHeld as held:
        return publish.Verdict("held", str(held))


def settle(
    verdict: publish.Verdict,
    published: Path,
    report: RunReport,
    republish: Republish,
    limits: FreshnessLimits,
) -> bool:
    """Act on a verdict that needs no build, and record it in the report; False for `rebuild`.

    `unchanged`: the report, which judges freshness on the day, is written again if it was
    written on another day or with other freshness limits; `republish`:
    the derived folders are written again from the verified warehouse; `held`: nothing is done.
    """
    if verdict.action == "held":
        report.stopped = verdict.reason
        report.kept_editions = len(pipeline.published_state(published)[0])
    elif verdict.action == "unchanged":
        report.unchanged = True
        manifest = publish.read_manifest(published.parent) or {}
        if not pipeline.report_is_current(manifest, limits):
            republish(published, report.run_id, pipeline.DAILY)
        show_published(published, report, with_rejections=True)
    elif verdict.action == "republish":
        republish(published, report.run_id, tuple(pipeline.DERIVED))
        report.notes.append(f"Repaired: {verdict.reason}; written again from the warehouse")
        report.published = True
        show_published(published, report, with_rejections=True)
    else:
        return False
    return True


def show_published(published: Path, report: RunReport, with_rejections: bool = False) -> None:
    """Row counts, report page and Data Docs of the published state (and its rejected files)."""
    report.row_counts, rejected = publish.published_summary(published)
    if with_rejections:  # the published state as it stands: its editions, warnings, rejections
        report.rejected = rejected
        report.loaded, report.findings = pipeline.published_state(published)
    manifest = publish.read_manifest(published.parent) or {"members": {}}
    report.docs = published.parent / manifest["docs"] if manifest.get("docs") else None
    if pipeline.REPORT_PAGE in manifest["members"]:
        report.page = published.parent / pipeline.REPORT_PAGE

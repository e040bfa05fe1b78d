"""The run report: what was loaded, skipped, rejected, warned and published."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flows.ingest.editions import Edition, Rejection
from flows.quality.gate import Finding


@dataclass
class RunReport:
    """Everything an operator needs to know about one run."""

    run_id: str
    raw_dir: Path
    warehouse: Path
    files: int = 0
    parsed_now: int = 0
    loaded: list[Edition] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    published: bool = False
    unchanged: bool = False
    stopped: str = ""
    row_counts: dict[str, int] = field(default_factory=dict)
    docs: Path | None = None
    page: Path | None = None  # the HTML report of the published file
    notes: list[str] = field(default_factory=list)  # repairs and clean-ups, one line each

    @property
    def warnings(self) -> list[Finding]:
        """Failed expectations of severity warning: published with the data."""
        return [f for f in self.findings if not f.success and f.severity == "warning"]

    @property
    def blocking(self) -> list[Finding]:
        """Failed critical expectations of the warehouse suites: nothing was published."""
        # By layer, not by file: a warehouse suite may name the file a failure concerns.
        return [
            f
            for f in self.findings
            if not f.success and f.severity == "critical" and f.layer == "warehouse"
        ]

    @property
    def exit_code(self) -> int:
        """0 when published (or nothing changed) and nothing was rejected; 1 otherwise."""
        return 0 if (self.published or self.unchanged) and not self.rejected else 1

    def markdown(self) -> str:
        """The report as Markdown, for the terminal and for a Prefect artifact."""
        lines = [f"# Voluntary-return warehouse run {self.run_id}", ""]
        if self.published:
            outcome = f"**Published** `{self.warehouse}` and its marts as Parquet."
        elif self.unchanged:
            outcome = f"**Nothing changed**: `{self.warehouse}` was left as it was."
        else:
            outcome = f"**Not published**: {self.stopped} `{self.warehouse}` was left as it was."
        lines += [outcome, ""]
        if self.notes:
            lines += [f"> {note}" for note in self.notes] + [""]
        lines += [
            f"- files in `{self.raw_dir}`: {self.files}",
            f"- parsed now: {self.parsed_now}; unchanged: {self.files - self.parsed_now}",
            f"- editions loaded: {len(self.loaded)}",
            f"- rejected: {len(self.rejected)}",
            f"- warnings: {len(self.warnings)}",
        ]
        if self.loaded:
            lines += ["", "## Editions loaded", ""]
            for edition in sorted(self.loaded, key=lambda e: e.edition["file_name"])[:50]:
                e = edition.edition
                published = f", published {e['published_on']}" if e.get("published_on") else ""
                lines.append(
                    f"- {e['file_name']}: {e['format']}, report year {e['report_year']},"
                    f" {e['coverage_start']} to {e['coverage_end']},"
                    f" source {e.get('source_code') or 'UNKNOWN'}{published}"
                )
            if len(self.loaded) > 50:
                lines.append(f"- and {len(self.loaded) - 50} more")
        if self.rejected:
            lines += ["", "## Rejected (kept out of the warehouse)", ""]
            lines += [f"- {rejection}" for rejection in self.rejected]
        if self.blocking:
            lines += ["", "## Failed checks of the new warehouse (nothing published)", ""]
            lines += [f"- {finding.describe()}" for finding in self.blocking]
        if self.warnings:
            lines += ["", "## Warnings (published with the data)", ""]
            lines += [f"- {finding.describe()}" for finding in self.warnings]
        if self.row_counts:
            lines += ["", "## Rows published", ""]
            lines += [f"- {table}: {count}" for table, count in self.row_counts.items()]
        if self.page:
            lines += ["", f"Report: {self.page.as_uri()}"]
        if self.docs:
            lines += ["", f"Data Docs: {self.docs}"]
        return "\n".join(lines)

    def quality_table(self) -> list[dict]:
        """The quality results as rows, for a table artifact."""
        return [
            {
                "suite": f.suite,
                "expectation": f.expectation,
                "severity": f.severity,
                "success": f.success,
                "bulletin": f.bulletin or "",
                "observed": f.observed[:200],
            }
            for f in self.findings
        ]

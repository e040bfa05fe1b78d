"""The dbt-duckdb peer: installed once into its own virtual environment, run on our tidy files.

The peer (a dbt project outside this repository, e.g. ../shared/peers/dbt-duckdb) reads a tidy
CSV with the header `period,organiser,country,category,channel,returns,share_pct`, `period` as
`YYYY-MM` and codes in the dimension columns: the header and codes `flows/synthetic.py` writes,
so both sides read the very same file and nothing is converted.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# The line of the peer's README that pins the versions it was measured with.
PINS_LINE = "exact versions measured:"
PIN = re.compile(r"[A-Za-z0-9_.-]+==[A-Za-z0-9_.]+")
REPORTED = ("dbt-core", "dbt-duckdb", "duckdb")


def pins(project: Path) -> list[str]:
    """The `name==version` pins of the peer's README."""
    if not (project / "dbt_project.yml").is_file():
        raise SystemExit(f"no dbt project at {project} (--peer takes the peer's folder)")
    readme = (project / "README.md").read_text(encoding="utf-8")
    line = next((line for line in readme.splitlines() if PINS_LINE in line), "")
    found = PIN.findall(line)
    if not found:
        raise SystemExit(f"{project / 'README.md'} has no line '{PINS_LINE} name==version ...'")
    return found


def install(project: Path, venv: Path) -> Path:
    """The peer's virtual environment with its pinned versions, created once; its dbt."""
    wanted = "\n".join(pins(project)) + "\n"
    marker = venv / "installed-pins.txt"
    if not (marker.exists() and marker.read_text() == wanted):
        print(f"installing the peer into {venv}: {' '.join(wanted.split())}", flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", *wanted.split()], check=True
        )
        marker.write_text(wanted)
    return venv / "bin" / "dbt"


def versions(venv: Path) -> str:
    """The versions of dbt and DuckDB installed for the peer."""
    script = (
        "from importlib import metadata; import sys;"
        " print(', '.join(f'{n} {metadata.version(n)}' for n in sys.argv[1:]))"
    )
    python = venv / "bin" / "python"
    return subprocess.run(
        [str(python), "-c", script, *REPORTED], check=True, capture_output=True, text=True
    ).stdout.strip()


@dataclass
class Peer:
    """One scratch folder of the peer: its DuckDB file, dbt's target and logs, the exports."""

    project: Path
    dbt: Path
    scratch: Path

    @property
    def env(self) -> dict[str, str]:
        """Variables that keep every file dbt writes in the scratch folder."""
        return {
            "PEER_DUCKDB": str(self.scratch / "peer.duckdb"),
            "DBT_TARGET_PATH": str(self.scratch / "target"),
            "DBT_LOG_PATH": str(self.scratch / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }

    def build(self, csv: Path) -> list[str]:
        """`dbt build` of every model, test and export on a tidy CSV."""
        variables = {"tidy_csv": str(csv), "export_dir": str(self.scratch / "export")}
        return [
            str(self.dbt), "build", "--profiles-dir", str(self.project),
            "--project-dir", str(self.project), "--vars", json.dumps(variables),
        ]  # fmt: skip

    def cold(self) -> Callable[[], None]:
        """A function that removes the peer's database, dbt's target and the exports."""

        def prepare() -> None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            (self.scratch / "export").mkdir(parents=True)

        return prepare

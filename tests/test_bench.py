"""The benchmark's instruments: peak memory of a whole process tree, the peer's pinned versions."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR / "bench"))

from measure import run_once  # noqa: E402
from peer import Peer, pins  # noqa: E402

MIB = 2**20
# A parent holding 150 MiB that starts a child holding 150 MiB for a moment and waits for it.
HOLDING = """
import subprocess, sys, time
held = b"x" * (150 * 2**20)
child = "held = b'y' * (150 * 2**20); import time; time.sleep(1.5)"
subprocess.run([sys.executable, "-c", child], check=True)
"""


def test_peak_memory_counts_the_children_a_command_starts() -> None:
    result, status = run_once([sys.executable, "-c", HOLDING], dict(os.environ))
    assert status == 0
    assert result.seconds > 1.5
    assert 0 < result.cpu_seconds < result.seconds
    # Both blocks at once: the largest single process (about 160 MiB) would miss the child's.
    assert result.peak_mib > 300


def test_peer_versions_are_the_pins_of_its_readme(tmp_path: Path) -> None:
    (tmp_path / "dbt_project.yml").write_text("name: peer\n")
    (tmp_path / "README.md").write_text(
        "# peer\n\n#   exact versions measured: dbt-core==1.11.16 dbt-duckdb==1.11.1"
        " duckdb==2.0.1\n"
    )
    assert pins(tmp_path) == ["dbt-core==1.11.16", "dbt-duckdb==1.11.1", "duckdb==2.0.1"]
    peer = Peer(tmp_path, tmp_path / "venv" / "bin" / "dbt", tmp_path / "scratch")
    command = peer.build(tmp_path / "tidy.csv")
    assert command[:2] == [str(tmp_path / "venv" / "bin" / "dbt"), "build"]
    assert str(tmp_path / "tidy.csv") in command[-1]
    # Everything dbt writes stays in the scratch folder, never in the peer's own folder.
    assert all(value.startswith(str(tmp_path / "scratch")) for value in list(peer.env.values())[:3])


def test_a_folder_without_a_dbt_project_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no dbt project at"):
        pins(tmp_path)

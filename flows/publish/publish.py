"""The published state: the warehouse file, its exports and pages, put in place as one.

Every member of a new state is built in a staging folder beside the published one
(`.publish-<run>/`), then renamed into place, the warehouse first. The manifest
(`publication.json`: run id, inputs digest, sha256 and size of every member) is renamed last, so
that a run killed between two renames leaves members that disagree with the manifest on disk:
the next run finds them and repairs the state.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import duckdb

from flows.database import lock_holder
from flows.ingest.editions import Rejection
from flows.settings import pause_point
from flows.warehouse import build as warehouse_build

MANIFEST = "publication.json"
MARTS = "marts"
MART_EXPORTS = (*warehouse_build.MART_TABLES, "data_quality", "rejected_bulletins", "publication")
# Folders that hold members of the published state and nothing else: a file in them that the
# new state does not list is removed when it is published.
OWNED_FOLDERS = (MARTS, "report", "gx")

# A writer of a derived folder: fills the folder from the warehouse file (read-only).
Writer = Callable[[Path, Path], None]


class WarehouseHeld(Exception):
    """Another program holds the published file read-write: publishing would lose its writes."""


@dataclass(frozen=True)
class Verdict:
    """What an unchanged run found on disk: `unchanged`, `republish` or `rebuild`, and why."""

    action: str
    reason: str = ""


def staging_folder(warehouse: Path, run_id: str) -> Path:
    """The folder where a run builds its new state, beside the published one."""
    return warehouse.parent / f".publish-{run_id}"


def export_marts(warehouse: Path, folder: Path) -> None:
    """Each exported mart of the warehouse file as `<folder>/<mart>.parquet`."""
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for table in MART_EXPORTS:
            con.table(f"marts.{table}").write_parquet(str(folder / f"{table}.parquet"))
    finally:
        con.close()


def digest(path: Path) -> dict:
    """The sha256 (hex) and size (bytes) of a file, flushed to disk on the way."""
    with open(path, "rb") as file:
        sha256 = hashlib.file_digest(file, "sha256").hexdigest()
        os.fsync(file.fileno())
    return {"sha256": sha256, "size": path.stat().st_size}


def members(folder: Path) -> dict[str, dict]:
    """Every file under a folder by its path relative to it, with its digest."""
    return {
        path.relative_to(folder).as_posix(): digest(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path != folder / MANIFEST
    }


def read_manifest(data_dir: Path) -> dict | None:
    """The manifest of the published state, or None when there is none that can be read."""
    try:
        manifest = json.loads((data_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and "members" in manifest else None


def differs(path: Path, recorded: dict) -> bool:
    """Whether a file is missing or other than recorded (its size first, then its sha256)."""
    try:
        if path.stat().st_size != recorded["size"]:
            return True
        with open(path, "rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest() != recorded["sha256"]
    except OSError:
        return True


def holder(warehouse: Path) -> str | None:
    """The program holding the file read-write (DuckDB's lock), in words; None if none does."""
    try:
        duckdb.connect(str(warehouse), read_only=True).close()
    except duckdb.Error as error:
        if program := lock_holder(error):
            return held_message(warehouse, program)
    return None


def held_message(warehouse: Path, program: str) -> str:
    """Why nothing was published while another program holds the file read-write."""
    return (
        f"{warehouse} is open read-write in another program ({program}); its writes would be"
        " lost: close it (or open the file read-only) and run again"
    )


def check_published(warehouse: Path, fingerprint: str, derived: Collection[str]) -> Verdict:
    """Whether the published state is what its manifest records, for these inputs.

    `unchanged`: every member is as published; `republish`: only members of the `derived`
    folders differ, which the verified warehouse can write again; `rebuild`: the inputs changed,
    or the warehouse or another member differs, or another program left a write-ahead log beside
    the file (DuckDB would replay it onto the published data). Raises WarehouseHeld.
    """
    data_dir = warehouse.parent
    manifest = read_manifest(data_dir)
    if manifest is None or manifest.get("inputs_fingerprint") != fingerprint:
        return Verdict("rebuild")
    if held := holder(warehouse):
        raise WarehouseHeld(held)
    if wal_of(warehouse).exists():
        return Verdict(
            "rebuild", f"{wal_of(warehouse)} was left by another program that wrote to the file"
        )
    recorded = manifest["members"]
    changed = sorted(name for name in recorded if differs(data_dir / name, recorded[name]))
    if not changed:
        return Verdict("unchanged")
    listed = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
    reason = f"{listed} in {data_dir} did not match {MANIFEST}"
    if all(name.split("/")[0] in derived for name in changed):
        return Verdict("republish", reason)
    return Verdict("rebuild", reason)


def wal_of(warehouse: Path) -> Path:
    """The write-ahead log DuckDB keeps beside a database file."""
    return warehouse.with_name(warehouse.name + ".wal")


@contextmanager
def writers_kept_out(warehouse: Path) -> Iterator[None]:
    """Hold the published file read-only while it is replaced, so that no program opens it
    read-write meanwhile; a write-ahead log left by a program that no longer runs is removed
    first. Raises WarehouseHeld, naming the program that holds it read-write."""
    if held := holder(warehouse):
        raise WarehouseHeld(held)
    wal_of(warehouse).unlink(missing_ok=True)
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as error:
        if program := lock_holder(error):
            raise WarehouseHeld(held_message(warehouse, program)) from None
        con = None  # no file, or not one DuckDB can open: nobody can hold it either
    try:
        yield
    finally:
        if con is not None:
            con.close()


def publish(
    stage: Path, warehouse: Path, record: dict | None = None, noted: dict | None = None
) -> dict:
    """Put every file of the staging folder in place, then the manifest; return the manifest.

    With a `record` (run id, inputs digest) the staging folder holds a whole new state, the
    warehouse included. Without one, it holds folders written again from the published
    warehouse: the other members and the record are kept from the current manifest, updated
    with `noted`.
    """
    data_dir = warehouse.parent
    staged = members(stage)
    if record is None:
        current = read_manifest(data_dir) or {"members": {}}
        restaged = {name.split("/")[0] for name in staged}
        kept = {k: v for k, v in current["members"].items() if k.split("/")[0] not in restaged}
        record = {k: v for k, v in current.items() if k != "members"}
        staged_members = kept | staged
    else:
        staged_members = staged
    manifest = record | (noted or {}) | {"members": staged_members}
    (stage / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    digest(stage / MANIFEST)
    # The warehouse first: it is what a repair starts from.
    order = sorted(staged, key=lambda name: (name != warehouse.name, name))
    replacing = warehouse.name in staged
    with writers_kept_out(warehouse) if replacing else nullcontext():
        pause_point("before-rename")
        for name in order:
            (data_dir / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / name, data_dir / name)
            pause_point(f"after-rename:{name}")
        remove_strays(data_dir, staged_members)
        pause_point("before-manifest")
        os.replace(stage / MANIFEST, data_dir / MANIFEST)
        sync_folder(data_dir)
    pause_point("after-manifest")
    shutil.rmtree(stage, ignore_errors=True)
    return manifest


def remove_strays(data_dir: Path, kept: Collection[str]) -> None:
    """Remove the files of the owned folders that are not members of the state, and empty
    folders."""
    for folder in OWNED_FOLDERS:
        root = data_dir / folder
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*"), reverse=True):
            if path.is_dir() and not path.is_symlink():
                if not any(path.iterdir()):
                    path.rmdir()
            elif path.relative_to(data_dir).as_posix() not in kept:
                path.unlink()
        sync_folder(root)


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries (renames, removals) to disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def run_lock(warehouse: Path, remove: bool = True) -> Iterator[list[Path]]:
    """One run at a time per warehouse; what killed runs left beside it is removed (and
    listed), or only listed."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with open(warehouse.parent / f".{warehouse.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield remove_leftovers(warehouse) if remove else leftovers_of(warehouse)


def leftovers_of(warehouse: Path) -> list[Path]:
    """What killed runs left beside the published file (staging folders, `*.new` files)."""
    data_dir = warehouse.parent
    return [
        *data_dir.glob(".publish-*"),
        *data_dir.glob(f".{warehouse.name}.*.new"),
        *data_dir.glob(f".{warehouse.name}.*.new.wal"),
        *data_dir.glob(f"{MARTS}/.*.parquet.new"),
    ]


def remove_leftovers(warehouse: Path) -> list[Path]:
    """Remove what killed runs left beside the published file; return what was removed."""
    leftovers = leftovers_of(warehouse)
    for path in leftovers:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    return leftovers


def published_summary(warehouse: Path) -> tuple[dict[str, int], list[Rejection]]:
    """Row counts and rejected files recorded in the published warehouse."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rejected = con.sql("select * from marts.rejected_bulletins").pl().to_dicts()
        return row_counts(con), [Rejection(**row) for row in rejected]
    finally:
        con.close()


def row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows of the fact and of every exported mart."""
    tables = [("core", "fact_returns"), *(("marts", t) for t in MART_EXPORTS)]
    return {
        f"{schema}.{table}": con.sql(f"select count(*) from {schema}.{table}").fetchall()[0][0]
        for schema, table in tables
    }

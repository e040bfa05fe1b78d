"""Discovering raw files, and the store of parsed and staged editions, keyed by sha256.

The store is one DuckDB file in the cache folder. Editions are written to it in batches, so
ten thousand small bulletins cost a few inserts; a bulletin's observations are staged in polars
after its parse. The staged rows of a run's editions are gathered in the new warehouse file
(`staging.observations`, see `open_rows`): a tidy file of millions of rows is checked and staged
there by DuckDB in one pass, without passing through Python, and written once; the store keeps
only its edition (read again, it is loaded again).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from flows import reference
from flows.database import DUCKDB_CONFIG, STORAGE_VERSION, lock_holder
from flows.errors import BulletinError
from flows.ingest import bulletin_tidy
from flows.ingest.parse import is_tidy, parse_file
from flows.ingest.raw_file import OBSERVATIONS_TABLE, ParsedFile, sha256_of
from flows.ingest.stage import STAGED_TABLE, stage, staged_table

# The code and reference data that decide what parsing and staging make of the same bytes.
PARSING_MODULES = (
    "ingest/raw_file", "ingest/parse", "ingest/bulletin_text", "ingest/bulletin_pdf",
    "ingest/bulletin_tidy", "ingest/stage", "reference", "errors",
)  # fmt: skip
EDITION_COLUMNS = {
    "sha256": pl.String,
    "format": pl.String,
    "encoding": pl.String,
    "language": pl.String,
    "report_year": pl.Int32,
    "coverage_start": pl.String,
    "coverage_end": pl.String,
    "source_code": pl.String,
    "source_label": pl.String,
    "published_on": pl.String,
    "parsed_at": pl.String,
    "warnings": pl.String,
}
STORE_TABLES = """
create table if not exists editions (
    sha256 varchar, format varchar, encoding varchar, language varchar, report_year integer,
    coverage_start varchar, coverage_end varchar, source_code varchar, source_label varchar,
    published_on varchar, parsed_at varchar, warnings varchar
);
create table if not exists rejections (sha256 varchar, reason varchar, line integer, page integer);
create table if not exists footnotes (
    sha256 varchar, mark varchar, text varchar, line integer, page integer
);
create table if not exists staged_editions (sha256 varchar);
"""
# Rows of editions whose writing did not finish (a killed run): removed before any use.
STORE_CLEANUP = """
delete from observations where sha256 not in (select sha256 from editions);
delete from footnotes where sha256 not in (select sha256 from editions);
delete from staged where sha256 not in (select sha256 from staged_editions);
"""
# DuckDB's file header: three blocks of 4 KiB before the first data block.
DUCKDB_HEADER_BYTES = 3 * 4096
# Editions parsed in one go before they are written to the store.
FLUSH_EVERY = 1000
# Rows staged at a time: memory stays bounded however large a tidy file is.
STAGE_BATCH_ROWS = 500_000
# The table of the new warehouse that gathers the run's staged rows, attached as `rows`.
ROWS = "rows.staging.observations"


@dataclass(frozen=True)
class RawFile:
    """A file of the raw folder, the sha256 of its content, and its stamp when it was hashed
    (inode, size, modification and change times in ns): a file that is written to while the run
    reads it gets another stamp."""

    path: Path
    sha256: str
    stamp: tuple[int, ...] = ()


@dataclass
class Edition:
    """A parsed edition: its identity (file, sha256, format, report year, coverage)."""

    edition: dict

    @property
    def sha256(self) -> str:
        """The sha256 of the edition's file."""
        return self.edition["sha256"]

    @property
    def file_name(self) -> str:
        """The file's name in the raw folder."""
        return self.edition["file_name"]

    @property
    def warnings(self) -> list[dict]:
        """What the parser read but did not load: each with its reason, line and page."""
        return json.loads(self.edition.get("warnings") or "[]")


@dataclass
class Rejection:
    """A file kept out of the warehouse, with where and why."""

    file: str
    sha256: str
    reason: str
    line: int | None = None
    check: str = "parse"
    page: int | None = None

    def __str__(self) -> str:
        return str(BulletinError(self.file, self.reason, self.line, self.page))


@dataclass
class RawFolder:
    """What the raw folder holds: files to read, entries refused, and entries skipped."""

    files: list[RawFile]
    refused: list[Rejection]
    skipped: list[str]


def discover(raw_dir: Path) -> RawFolder:
    """Every visible entry of the raw folder, in name order: files with their sha256; links
    out of the folder or to nothing, pipes, devices and unreadable files refused (with the
    reason); folders skipped. Hidden entries (names starting with '.') are left alone."""
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"the raw folder {raw_dir} does not exist")
    folder = RawFolder([], [], [])
    inside = raw_dir.resolve()
    for path in sorted(raw_dir.iterdir(), key=lambda p: os.fsencode(p.name)):
        if path.name.startswith("."):
            continue
        name = shown_name(path)
        try:
            sha256, stamp = read_entry(path, inside)
        except SkippedEntry as skipped:
            folder.skipped.append(f"{name}: {skipped}")
        except (BulletinError, OSError) as error:
            reason = error.reason if isinstance(error, BulletinError) else unreadable(error)
            folder.refused.append(Rejection(name, "", reason, check="discover"))
        else:
            folder.files.append(RawFile(path, sha256, stamp))
    return folder


class SkippedEntry(Exception):
    """An entry of the raw folder that is not read, and not an error: a folder."""


def read_entry(path: Path, inside: Path) -> tuple[str, tuple[int, ...]]:
    """The sha256 and stamp of a raw folder's entry, or why it is skipped or refused.

    Raises SkippedEntry for a folder, BulletinError for what cannot be a bulletin, OSError
    when the file cannot be read.
    """
    if path.name != shown_name(path):
        raise BulletinError(path.name, "the file name is not UTF-8 text: rename the file")
    if path.is_symlink():
        target = Path(os.path.realpath(path))
        if not target.exists():
            raise BulletinError(path.name, f"a link to {target}, which does not exist")
        if not target.is_relative_to(inside):
            raise BulletinError(
                path.name,
                f"a link to {target}, outside the raw folder: not followed (copy the file in)",
            )
    status = path.stat()
    kind = status.st_mode
    if stat.S_ISDIR(kind):
        raise SkippedEntry("a folder (the files of subfolders are not read)")
    if not stat.S_ISREG(kind):
        raise BulletinError(path.name, f"{special_kind(kind)}, not a file: not read")
    return sha256_of(path), stamp_of(status)


def stamp_of(status: os.stat_result) -> tuple[int, ...]:
    """What changes whenever a file is written, replaced or touched: inode, size and times."""
    return (status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)


def changed_since_discovered(raw: RawFile) -> str | None:
    """Why a file is no longer what the run hashed (removed, written to, replaced), or None.

    What was read of it may be another content than its sha256 says: it is neither loaded nor
    kept in the store.
    """
    try:
        status = raw.path.stat()
    except FileNotFoundError:
        return "the file was removed while the run read it: nothing of it was loaded"
    except OSError as error:
        return unreadable(error)
    if raw.stamp and stamp_of(status) != raw.stamp:
        return "the file changed while the run read it: run again to load it as it is now"
    return None


def special_kind(mode: int) -> str:
    """What a special file is, in words."""
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def unreadable(error: OSError) -> str:
    """Why a file could not be read, and what to do."""
    cause = (error.strerror or str(error)).lower()
    return f"the file cannot be read ({cause}): give read access to it"


def shown_name(path: Path) -> str:
    """A file's name as text; bytes that are not UTF-8 shown as escapes (\\xe9)."""
    return os.fsencode(path.name).decode("utf-8", "backslashreplace")


@cache
def cache_version() -> str:
    """A digest of the parsing code and the reference files: a change of either re-parses all."""
    package = Path(__file__).resolve().parent.parent
    parts = [(package / f"{module}.py").read_bytes() for module in PARSING_MODULES]
    parts += [p.read_bytes() for p in sorted(reference.REFERENCE_DIR.glob("*.csv"))]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:12]


def store_path(cache_dir: Path) -> Path:
    """The store of this version of the parsing code: another version starts its own store."""
    return cache_dir / f"editions-{cache_version()}.duckdb"


def check_store(cache_dir: Path) -> str | None:
    """Open the store once; one DuckDB cannot read (truncated, garbage) is moved aside to
    `<store>.broken`, since a cache is rebuilt rather than repaired. Returns what was done, in one
    line, or None when the store is sound or absent. A store held by another run raises."""
    path = store_path(cache_dir)
    if not path.exists():
        return None
    try:
        with open_store(cache_dir) as con:
            con.execute("checkpoint")
            [(size,)] = con.execute("select block_size from pragma_database_size()").fetchall()
            last = last_block(con)
        # Blocks DuckDB counts but has freed need not be on disk: those of tables must be.
        short = path.stat().st_size < DUCKDB_HEADER_BYTES + size * (last + 1)
        reason = f"the file ends before block {last}, which holds a table's rows" if short else None
    except duckdb.Error as error:
        if lock_holder(error):
            raise
        reason = str(error)
    return None if reason is None else set_store_aside(cache_dir, reason)


def last_block(con: duckdb.DuckDBPyConnection) -> int:
    """The highest block id that a table of the current database keeps its rows in; -1 if none."""
    tables = con.execute(
        "select table_name from duckdb_tables() where database_name = current_database()"
    ).fetchall()
    highest = [
        con.execute("select max(block_id) from pragma_storage_info(?)", [table]).fetchall()[0][0]
        for (table,) in tables
    ]
    return max((block for block in highest if block is not None), default=-1)


def set_store_aside(cache_dir: Path, reason: str) -> str:
    """Move a store that cannot be read (with its WAL) to `<store>.broken`, so that the next
    open starts an empty one; what was done, in one line."""
    path = store_path(cache_dir)
    aside = path.with_name(path.name + ".broken")
    os.replace(path, aside)
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        os.replace(wal, aside.with_name(aside.name + ".wal"))
    # The reason last: a long one is what gets cut where the line is shown.
    return (
        f"the cache of parsed editions {path} was moved aside to {aside.name}, every file"
        f" parsed again: it could not be read ({' '.join(reason.split())[:300]})"
    )


@contextmanager
def open_store(cache_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the store, its tables created on first use."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(store_path(cache_dir)), config=DUCKDB_CONFIG)
    try:
        con.execute(STORE_TABLES)
        con.execute(OBSERVATIONS_TABLE)
        con.execute(STAGED_TABLE)
        con.execute(STORE_CLEANUP)
        yield con
    finally:
        con.close()


def open_rows(con: duckdb.DuckDBPyConnection, rows: Path) -> None:
    """Attach the new warehouse file as `rows`, created (in the storage format 1.x reads) with
    its table of staged rows, `staging.observations`, where it does not exist yet."""
    con.execute(f"attach ? as rows (storage_version '{STORAGE_VERSION}')", [str(rows)])
    con.execute("create schema if not exists rows.staging")
    con.execute(staged_table(ROWS))


def parse_new(
    files: list[RawFile],
    cache_dir: Path,
    rows: Path,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Edition], list[Rejection], int]:
    """Editions and rejections of the files; only content not seen before is parsed now.

    `rows` is the new warehouse file, made anew: the rows of tidy files go into its
    `staging.observations` (those of bulletins follow when they are staged, see `stage_new`).
    """
    rows.unlink(missing_ok=True)  # a retried parse starts again
    with open_store(cache_dir) as con:
        open_rows(con, rows)
        known = {row["sha256"]: row for row in con.sql("select * from editions").pl().to_dicts()}
        refused = {
            row["sha256"]: row for row in con.sql("select * from rejections").pl().to_dicts()
        }
        editions: dict[str, Edition] = {}
        rejections: list[Rejection] = []
        pending: list[tuple[RawFile, ParsedFile | BulletinError]] = []
        parsed_now = 0
        for number, raw in enumerate(files, start=1):
            if raw.sha256 in editions:
                # The same content under a second name is one edition, known by both names.
                editions[raw.sha256].edition["also_named"].append(raw.path.name)
            elif raw.sha256 in known:
                edition = known[raw.sha256]
                if edition["format"] == "tidy" and (changed := reload_tidy(con, raw)):
                    rejections.append(Rejection(raw.path.name, raw.sha256, changed))
                else:
                    editions[raw.sha256] = Edition(edition | named(raw))
            elif raw.sha256 in refused:
                row = refused[raw.sha256]
                rejections.append(
                    Rejection(
                        raw.path.name, raw.sha256, row["reason"], row["line"], page=row["page"]
                    )
                )
            else:
                parsed_now += 1
                try:
                    result: ParsedFile | BulletinError | None = parse_one(con, raw)
                except BulletinError as error:
                    result = error
                except OSError:
                    if changed_since_discovered(raw) is None:
                        raise
                    result = None  # the file went away while it was read: said below
                if changed := changed_since_discovered(raw):
                    rejections.append(Rejection(raw.path.name, raw.sha256, changed))
                    # A tidy file's rows went straight into the new warehouse: another name of
                    # the same content must not find them there twice.
                    con.execute(f"delete from {ROWS} where sha256 = $1", [raw.sha256])
                elif isinstance(result, BulletinError):
                    rejections.append(
                        Rejection(
                            raw.path.name, raw.sha256, result.reason, result.line, page=result.page
                        )
                    )
                    pending.append((raw, result))
                elif result is not None:
                    result.edition["parsed_at"] = datetime.now(UTC).isoformat(timespec="seconds")
                    result.edition["warnings"] = json.dumps(result.warnings)
                    editions[raw.sha256] = Edition(result.edition | named(raw))
                    pending.append((raw, result))
                if len(pending) >= FLUSH_EVERY:
                    write(con, pending)
                    pending = []
            if progress:
                progress(number, len(files))
        write(con, pending)
    return list(editions.values()), rejections, parsed_now


def reload_tidy(con: duckdb.DuckDBPyConnection, raw: RawFile) -> str | None:
    """Load again the rows of a tidy file whose edition the store keeps (it keeps no rows of
    it); None, or why they were not loaded: the file changed or went away since it was hashed."""
    try:
        bulletin_tidy.load(con, raw.path, raw.sha256, ROWS)
    except (BulletinError, OSError):
        if changed_since_discovered(raw) is None:
            raise
    if changed := changed_since_discovered(raw):
        con.execute(f"delete from {ROWS} where sha256 = $1", [raw.sha256])
        return changed
    return None


def named(raw: RawFile) -> dict:
    """An edition's file name, and the other names of the same content (found later)."""
    return {"file_name": raw.path.name, "also_named": []}


def parse_one(con: duckdb.DuckDBPyConnection, raw: RawFile) -> ParsedFile:
    """Parse a file; a tidy file's rows go straight into the new warehouse's staged rows."""
    if is_tidy(raw.path):
        edition = bulletin_tidy.load(con, raw.path, raw.sha256, ROWS)
        edition |= {"sha256": raw.sha256, "file_name": raw.path.name}
        return ParsedFile(edition, pl.DataFrame())
    return parse_file(raw.path, raw.sha256)


def write(con: duckdb.DuckDBPyConnection, parsed: list[tuple[RawFile, object]]) -> None:
    """Write parsed editions and rejections to the store.

    An edition's row in `editions` is written last: rows of an edition without it (left by a
    run that was killed) are removed when the store is next opened.
    """
    if not parsed:
        return
    done = [(raw, p) for raw, p in parsed if isinstance(p, ParsedFile)]
    failed = [(raw, e) for raw, e in parsed if isinstance(e, BulletinError)]
    frames = [
        p.observations.with_columns(sha256=pl.lit(raw.sha256))
        for raw, p in done
        if not p.observations.is_empty()
    ]
    if frames:
        con.register("new_observations", pl.concat(frames))
        con.execute("insert into observations by name select * from new_observations")
    footnotes = [{"sha256": raw.sha256, **footnote} for raw, p in done for footnote in p.footnotes]
    if footnotes:
        con.register("new_footnotes", pl.DataFrame(footnotes))
        con.execute("insert into footnotes by name select * from new_footnotes")
    rejections = pl.DataFrame(
        [(raw.sha256, e.reason, e.line, e.page) for raw, e in failed],
        schema={"sha256": pl.String, "reason": pl.String, "line": pl.Int32, "page": pl.Int32},
        orient="row",
    )
    editions = pl.DataFrame([p.edition for _, p in done], schema=EDITION_COLUMNS, orient="row")
    con.register("new_rejections", rejections)
    con.register("new_editions", editions)
    con.execute("begin")
    con.execute("insert into rejections by name select * from new_rejections")
    con.execute("insert into editions by name select * from new_editions")
    con.execute("commit")


def stage_new(editions: list[Edition], cache_dir: Path, rows: Path) -> int:
    """Stage the bulletins not staged before, in batches of rows, and gather the staged rows of
    every bulletin of the run in the new warehouse file `rows` (see `parse_new`); how many were
    staged now. Tidy files are staged when they are parsed."""
    bulletins = [e.sha256 for e in editions if e.edition["format"] != "tidy"]
    with open_store(cache_dir) as con:
        con.register("wanted", pl.DataFrame({"sha256": bulletins}, schema={"sha256": pl.String}))
        shas = [
            row[0]
            for row in con.sql(
                "select sha256 from wanted anti join staged_editions using (sha256)"
            ).fetchall()
        ]
        if shas:
            stage_pending(con, pl.DataFrame({"sha256": shas}))
        open_rows(con, rows)
        con.execute("begin")
        con.execute(f"delete from {ROWS} where sha256 in (select sha256 from wanted)")
        con.execute(
            f"insert into {ROWS} by name select * from staged semi join wanted using (sha256)"
        )
        con.execute("commit")
    return len(shas)


def stage_pending(con: duckdb.DuckDBPyConnection, pending: pl.DataFrame) -> None:
    """Stage the parsed observations of the `pending` editions ({sha256}) into the store."""
    con.register("pending", pending)
    reader = con.sql(
        "select observations.*, editions.format, editions.report_year, editions.coverage_end"
        " from observations"
        " join editions using (sha256) semi join pending using (sha256)"
    ).to_arrow_reader(STAGE_BATCH_ROWS)
    # Rows are read on one connection and written on another (a cursor of the same file),
    # a batch at a time; `staged_editions` is written last, when every batch is in.
    # The reader and the cursor are closed on any error too: either keeps the store open in
    # this process, and the next attach of it fails.
    try:
        with con.cursor() as writer:
            writer.register("pending", pending)
            for batch in reader:
                writer.register("staged_batch", stage(pl.from_arrow(batch)))
                writer.execute("insert into staged by name select * from staged_batch")
                writer.unregister("staged_batch")
            writer.execute("insert into staged_editions select sha256 from pending")
    finally:
        reader.close()

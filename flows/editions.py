"""Discovering raw files and keeping each edition's parsed and staged tables by sha256."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import polars as pl

from flows import reference
from flows.errors import BulletinError
from flows.raw_file import parse_file, sha256_of
from flows.stage import stage

# Bumped when the parser or staging changes what they produce from the same bytes.
PARSER_VERSION = "1"


@dataclass(frozen=True)
class RawFile:
    """A file of the raw folder and the sha256 of its content."""

    path: Path
    sha256: str


@dataclass
class Edition:
    """A parsed and staged edition, read back from the cache."""

    edition: dict
    folder: Path

    @property
    def sha256(self) -> str:
        """The sha256 of the edition's file."""
        return self.edition["sha256"]

    def frame(self, name: str) -> pl.DataFrame:
        """One of the cached tables: observations (raw), footnotes or staged."""
        return pl.read_parquet(self.folder / f"{name}.parquet")


@dataclass
class Rejection:
    """A file kept out of the warehouse, with where and why."""

    file: str
    sha256: str
    reason: str
    line: int | None = None
    check: str = "parse"

    def __str__(self) -> str:
        return str(BulletinError(self.file, self.reason, self.line))


def discover(raw_dir: Path) -> list[RawFile]:
    """Every visible file of the raw folder with its sha256, in name order."""
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"the raw folder {raw_dir} does not exist")
    files = sorted(p for p in raw_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    return [RawFile(path, sha256_of(path)) for path in files]


@cache
def cache_version() -> str:
    """A digest of the parser version and the reference files that staging reads."""
    parts = [PARSER_VERSION.encode()]
    parts += [p.read_bytes() for p in sorted(reference.REFERENCE_DIR.glob("*.csv"))]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:12]


def cache_folder(raw: RawFile, cache_dir: Path) -> Path:
    """Where the parsed and staged tables of a file's content are kept."""
    return cache_dir / cache_version() / raw.sha256


def is_cached(raw: RawFile, cache_dir: Path) -> bool:
    """Whether this content was parsed (or rejected) by an earlier run."""
    folder = cache_folder(raw, cache_dir)
    return (folder / "edition.json").exists() or (folder / "rejection.json").exists()


def parse(raw: RawFile, cache_dir: Path) -> Edition | Rejection:
    """The parsed edition of a file (or its rejection), parsed once per content hash."""
    folder = cache_folder(raw, cache_dir)
    if (folder / "edition.json").exists():
        edition = json.loads((folder / "edition.json").read_text())
        # The same content under a new name is the same edition, now known by the new name.
        edition["file_name"] = raw.path.name
        return Edition(edition, folder)
    if (folder / "rejection.json").exists():
        rejection = json.loads((folder / "rejection.json").read_text())
        return Rejection(**(rejection | {"file": raw.path.name}))
    try:
        parsed = parse_file(raw.path, raw.sha256)
    except BulletinError as error:
        rejection = Rejection(raw.path.name, raw.sha256, error.reason, error.line)
        write_atomically(folder, {"rejection.json": rejection.__dict__})
        return rejection
    parsed.edition["parsed_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    footnotes = pl.DataFrame(
        parsed.footnotes, schema={"mark": pl.String, "text": pl.String, "line": pl.Int32}
    )
    write_atomically(
        folder,
        {
            "observations.parquet": parsed.observations.with_columns(sha256=pl.lit(raw.sha256)),
            "footnotes.parquet": footnotes.with_columns(sha256=pl.lit(raw.sha256)),
            "edition.json": parsed.edition,
        },
    )
    return Edition(parsed.edition, folder)


def stage_once(edition: Edition) -> bool:
    """Stage a parsed edition into its cache folder unless done before; True if done now."""
    target = edition.folder / "staged.parquet"
    if target.exists():
        return False
    staged = stage(edition.edition, edition.frame("observations"))
    temporary = target.with_name(f".staged-{os.getpid()}.parquet")
    staged.write_parquet(temporary)
    os.replace(temporary, target)
    return True


def write_atomically(folder: Path, files: dict[str, object]) -> None:
    """Write a cache entry in a temporary folder, then rename it into place."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".tmp-"))
    for name, content in files.items():
        if isinstance(content, pl.DataFrame):
            content.write_parquet(temporary / name)
        else:
            (temporary / name).write_text(json.dumps(content, indent=1))
    try:
        os.replace(temporary, folder)
    except OSError:  # another run wrote the same entry first: its content is the same
        shutil.rmtree(temporary, ignore_errors=True)

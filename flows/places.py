"""The folders a run reads and writes: checked before it starts, and its OS errors in words."""

from __future__ import annotations

import errno
import os
import re
import tempfile
from pathlib import Path

from flows.settings import Settings

# OS errors that no retry mends: the operator must free space, fix a path or a permission.
PLACE_ERRORS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EISDIR: "the path is a folder",
}
# What a folder must take to be writable: Prefect's database and DuckDB write pages this large.
PROBE_BYTES = 1 << 16
# DuckDB reports the same faults as text, in errors of several classes.
DUCKDB_MESSAGES = {
    "No space left on device": errno.ENOSPC,
    "Disk quota exceeded": errno.EDQUOT,
    "Read-only file system": errno.EROFS,
    "Permission denied": errno.EACCES,
}
# A path as DuckDB quotes it in an error message: Could not write file "/data/w.duckdb": ...
QUOTED_PATH = re.compile(r"""["'](/[^"']+)["']""")


def problem(settings: Settings, prefect_home: Path | None = None) -> str | None:
    """Why a run cannot use its folders, in one line with what to do; None when it can."""
    raw_dir, warehouse = settings.raw_dir, settings.warehouse
    if not raw_dir.exists():
        return f"no raw folder at {raw_dir}: give --raw-dir, or put bulletins in data/raw"
    if not raw_dir.is_dir():
        return f"the raw folder {raw_dir} is a file, not a folder: give --raw-dir a folder"
    if not os.access(raw_dir, os.R_OK | os.X_OK):
        return f"cannot read the raw folder {raw_dir} (permission denied): give read access"
    if warehouse.is_dir():
        return (
            f"the warehouse {warehouse} is a folder: give --warehouse a file name,"
            f" e.g. {warehouse / 'warehouse.duckdb'}"
        )
    if warehouse.parent.resolve() == raw_dir.resolve():
        return (
            f"the warehouse {warehouse} is in the raw folder, where its files would be read as"
            f" bulletins: give --warehouse another folder, e.g. {raw_dir.parent / warehouse.name}"
        )
    if reason := unwritable(warehouse.parent):
        return (
            f"cannot write beside the warehouse in {warehouse.parent} ({reason}):"
            " give --warehouse in a folder you can write"
        )
    if prefect_home and (reason := unwritable(prefect_home)):
        return (
            f"cannot write Prefect's state folder {prefect_home} ({reason}):"
            " set PREFECT_HOME to a folder you can write"
        )
    return None


def unwritable(folder: Path) -> str | None:
    """Why no file can be written in a folder (created if missing), or None."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Some bytes, not only an entry: a full disk still has room for an empty file.
        with tempfile.TemporaryFile(dir=folder) as probe:
            probe.write(bytes(PROBE_BYTES))
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as error:
        return reason(error)
    return None


def reason(error: OSError) -> str:
    """An OS error's cause in words."""
    return PLACE_ERRORS.get(error.errno or 0) or (error.strerror or str(error)).lower()


def place_errno(error: BaseException | None) -> int | None:
    """The errno of a fault of a place (a full disk, a read-only folder) in an error or its
    causes, from an OSError or a DuckDB error's text; None for any other error."""
    import duckdb  # a second or so to import; only needed when something failed

    for item in chain(error):
        if isinstance(item, OSError) and item.errno in PLACE_ERRORS:
            return item.errno
        if isinstance(item, duckdb.Error):
            for text, number in DUCKDB_MESSAGES.items():
                if text in str(item):
                    return number
    return None


def explain(error: BaseException) -> str | None:
    """A fault of a place as one line (what, where, what to do); None for any other error."""
    number = place_errno(error)
    if number is None:
        return None
    errors = chain(error)
    where = next((e.filename for e in errors if isinstance(e, OSError) and e.filename), None)
    if where is None and (quoted := QUOTED_PATH.search(" ".join(map(str, errors)))):
        where = quoted[1]
    todo = (
        "free some space and run again"
        if number in (errno.ENOSPC, errno.EDQUOT)
        else "fix the path or its permissions and run again"
    )
    place = f" ({where})" if where else ""
    return f"{PLACE_ERRORS[number]}{place}: {todo}; nothing was published"


def chain(error: BaseException | None) -> list[BaseException]:
    """An error and the errors it was raised from or during."""
    errors: list[BaseException] = []
    while error is not None and error not in errors:
        errors.append(error)
        error = error.__cause__ or error.__context__
    return errors

"""The one error a bad input file raises: it names the file, the line and the reason."""

from __future__ import annotations


class BulletinError(Exception):
    """A raw file that cannot be read as a bulletin."""

    def __init__(self, file: str, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.file = file
        self.reason = reason
        self.line = line

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}" if self.line else self.file
        return f"{where}: {self.reason}"

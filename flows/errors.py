"""The one error a bad input file raises: it names the file, the page and line, and the reason."""

from __future__ import annotations


class BulletinError(Exception):
    """A raw file that cannot be read as a bulletin."""

    def __init__(
        self, file: str, reason: str, line: int | None = None, page: int | None = None
    ) -> None:
        super().__init__(reason)
        self.file = file
        self.reason = reason
        self.line = line
        self.page = page

    def __str__(self) -> str:
        where = [self.file]
        if self.page:
            where.append(f"page {self.page}")
        if self.line:
            where.append(f"line {self.line}")
        return f"{', '.join(where)}: {self.reason}"

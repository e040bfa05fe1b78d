"""A real browser for tests: Debian's headless Chromium, loading a page from disk offline."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Console messages of the page as Chromium logs them, e.g. a load refused by the page's policy.
CONSOLE = re.compile(r":INFO:CONSOLE[^\]]*\] (.*)")


@dataclass
class Rendered:
    """A page as Chromium rendered it: its DOM (parsed) and the page's console messages."""

    dom: BeautifulSoup
    console: list[str]


def render(page: Path, folder: Path, screenshot: Path | None = None) -> Rendered:
    """Load `page` in headless Chromium with the network disabled; dump the rendered DOM and,
    when asked, write a screenshot 1280 pixels wide."""
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={folder / 'chromium-profile'}",
        # No network: every host name fails to resolve and no proxy is tried.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--no-proxy-server",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1280,4000",
        "--dump-dom",
    ]
    if screenshot:
        command.append(f"--screenshot={screenshot}")
    result = subprocess.run(
        [*command, page.as_uri()], capture_output=True, text=True, timeout=180, check=True
    )
    return Rendered(BeautifulSoup(result.stdout, "html.parser"), CONSOLE.findall(result.stderr))

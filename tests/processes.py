"""Processes for tests: finding those a test started (by a variable in their environment),
and starting a command without root's power to read and write any file."""

from __future__ import annotations

import ctypes
import os
import time
from pathlib import Path

# Capabilities that let root ignore file permissions (linux/capability.h).
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 1, 2, 3
PR_CAPBSET_DROP = 24


def processes_with(variable: str, value: str) -> list[int]:
    """Live processes (other than this one) whose environment has variable=value."""
    wanted = f"{variable}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environment = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if wanted in environment and state != "Z":
            found.append(int(entry.name))
    return found


def wait_for(condition: object, timeout: float, step: float = 0.2) -> bool:
    """Whether `condition()` became true within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


def without_root_override() -> None:
    """In a child before exec: drop the capabilities that let root read or write any file,
    so that permissions (chmod 000, a read-only folder) apply as to any other user."""
    if os.geteuid() == 0:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
        for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
            if prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "cannot drop a capability")

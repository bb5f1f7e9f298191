"""What every `make bench` script shares: its own section of BENCHMARKS.md, machine facts."""

from __future__ import annotations

import platform
from pathlib import Path

HEADER = "# Benchmarks\n\nProduced by `make bench`.\n"


def write_section(out: Path, begin: str, end: str, section: str) -> None:
    """Replaces the text between `begin` and `end` in `out` (or appends it); the rest stays."""
    text = out.read_text() if out.exists() else HEADER
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    out.write_text(text)


def cpu_model() -> str:
    """The CPU's model name, for the record."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"

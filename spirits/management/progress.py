"""A plain text progress bar for the export and import commands (on stderr; no dependency)."""

from __future__ import annotations

import time
from typing import TextIO


class ProgressBar:
    """Called with (section, rows done); draws `section [#####.....] done/total` on one line per
    section, redrawn at most every `interval` seconds (and at each section's end)."""

    def __init__(self, stream: TextIO, totals: dict[str, int], *, width: int = 30, interval=0.2):
        self.stream, self.totals, self.width, self.interval = stream, totals, width, interval
        self.section: str | None = None
        self.drawn_at = 0.0

    def __call__(self, section: str, done: int) -> None:
        total = max(self.totals.get(section, 0), done)
        if section != self.section:
            self.close()
            self.section = section
        elif done < total and time.monotonic() - self.drawn_at < self.interval:
            return
        self.drawn_at = time.monotonic()
        filled = self.width if not total else self.width * done // total
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{section:<10} [{bar}] {done:,}/{total:,}")
        self.stream.flush()

    def close(self) -> None:
        """End the current line (call once at the end)."""
        if self.section is not None:
            self.stream.write("\n")
            self.stream.flush()
            self.section = None

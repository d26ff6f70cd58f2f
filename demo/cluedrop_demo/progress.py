"""Terminal progress for the demo: stage banners and one status line that
is redrawn in place on a terminal (plain lines at most every 5 s
otherwise), with an ETA from the measured rate."""

import sys
import time


_START = time.time()


def banner(text: str) -> None:
    """A stage banner with the time since the demo started."""
    elapsed = int(time.time() - _START)
    sys.stderr.write(f"\n== [{elapsed // 60:02d}:{elapsed % 60:02d}] {text}\n")
    sys.stderr.flush()


def info(text: str) -> None:
    """An indented detail line under the current banner."""
    sys.stderr.write(f"   {text}\n")
    sys.stderr.flush()


def format_seconds(seconds: float) -> str:
    """`seconds` as 42s, 3m05s or 1h02m."""
    seconds = max(0, int(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class StatusLine:
    """One progress line (`label: done/total  detail  ETA`) on stderr."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self.start = time.time()
        self.last_plain = 0.0
        self.width = 0

    def update(self, done: int, total: int, detail: str = "") -> None:
        elapsed = time.time() - self.start
        eta = ""
        if total and done:
            eta = f"  ETA {format_seconds(elapsed / done * (total - done))}"
        text = f"   {self.label}: {done}/{total}{('  ' + detail) if detail else ''}{eta}"
        if self.tty:
            sys.stderr.write("\r" + text.ljust(self.width))
            self.width = len(text)
        elif time.time() - self.last_plain >= 5 or done == total:
            sys.stderr.write(text + "\n")
            self.last_plain = time.time()
        sys.stderr.flush()

    def finish(self, text: str) -> None:
        if self.tty:
            sys.stderr.write("\r" + " " * self.width + "\r")
        sys.stderr.write(f"   {self.label}: {text} ({format_seconds(time.time() - self.start)})\n")
        sys.stderr.flush()

"""The progress bar of Job.watch() and Job.wait(): a tqdm bar (tqdm.auto, so
a widget in Jupyter and text in a terminal) over shards while scoring and
optimizer steps while training, with the loss in its postfix.

tqdm is optional: without it there is no bar. ``progress="auto"`` shows the
bar only inside an IPython kernel (a notebook).
"""

from __future__ import annotations

import sys
from typing import Any, Literal, Protocol

from .status import JobEvent, JobState

__all__ = ["ProgressMode", "ProgressSink", "make_progress"]

ProgressMode = bool | Literal["auto"]


class ProgressSink(Protocol):
    """What JobWatch reports events to."""

    def update(self, event: JobEvent) -> None: ...

    def close(self) -> None: ...


class _NoProgress:
    def update(self, event: JobEvent) -> None:
        return None

    def close(self) -> None:
        return None


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except AttributeError:
        return False
    return ip is not None and getattr(ip, "kernel", None) is not None


class _TqdmProgress:
    """One bar, reset when the job moves from scoring to training."""

    def __init__(self, tqdm_cls: Any, job_id: str) -> None:
        self._tqdm = tqdm_cls
        self._job_id = job_id
        self._bar: Any = None
        self._phase = ""
        self._state = JobState.UNSPECIFIED

    def _phase_bar(self, phase: str, total: int, unit: str) -> Any:
        if self._bar is None or self._phase != phase:
            if self._bar is not None:
                self._bar.close()
            self._bar = self._tqdm(total=total or None, unit=unit,
                                   desc=f"{self._job_id} {phase}", leave=True)
            self._phase = phase
        elif total and self._bar.total != total:
            self._bar.total = total
            self._bar.refresh()
        return self._bar

    def update(self, event: JobEvent) -> None:
        if event.kind == "state" and event.state is not None:
            self._state = event.state
            if self._bar is not None:
                self._bar.set_postfix_str(event.state.name.lower())
            return
        if event.kind != "progress" or event.progress is None:
            return
        p = event.progress
        if p.training_steps_total or p.training_step:
            bar = self._phase_bar("training", p.training_steps_total, "step")
            bar.n = p.training_step
            bar.set_postfix_str(f"epoch {p.epoch}, loss {p.loss:.4f}", refresh=False)
        else:
            bar = self._phase_bar("scoring", p.shards_total, "shard")
            bar.n = p.shards_scored
            bar.set_postfix_str(f"{p.tokens_scored} tokens", refresh=False)
        bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def make_progress(mode: ProgressMode, job_id: str) -> ProgressSink:
    """A tqdm bar when `mode` is True, or "auto" inside a notebook, and tqdm
    is installed; otherwise a sink that does nothing."""
    if mode is False or (mode == "auto" and not _in_notebook()):
        return _NoProgress()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _NoProgress()
    return _TqdmProgress(tqdm, job_id)

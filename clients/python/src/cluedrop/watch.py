"""Following a job's events to its end, like ``cluedrop watch``
(cli/job_watch.cc): WatchJob from a sequence on; when the stream breaks with
UNAVAILABLE (a coordinator restart, the network) or RESOURCE_EXHAUSTED (a
server limit on streams), or ends before the job did, reconnect with backoff
(0.5 s doubling to 5 s, at most 20 times in a row without a new event or a
stream that lasted a minute) and resume after the last sequence seen. Events at or
below it are skipped, so each event is yielded once.

Example:
    >>> for event in job.watch():
    ...     if event.kind != "progress":
    ...         print(event)              # [12:00:01] state SCORING
    >>> w = job.watch(after_sequence=10)  # only what came after event 10
    >>> events = list(w); w.reconnects, w.last_sequence
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Iterator

import grpc

from ._progress import ProgressMode, make_progress
from .errors import CluedropError, WaitTimeoutError, error_from_rpc
from .status import JobEvent, JobState
from .v1 import job_service_pb2, job_service_pb2_grpc

__all__ = ["JobWatch", "WatchOptions"]

_log = logging.getLogger("cluedrop")
# A deadline far enough away to mean "none" (as the CLI's).
_NO_DEADLINE_S = 365 * 24 * 3600.0
_HEALTHY_STREAM_S = 60.0
_RESUMABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED)


class WatchOptions:
    """Reconnection policy of a watch (the CLI's WatchOptions defaults)."""

    def __init__(self, *, max_reconnects: int = 20, initial_backoff_s: float = 0.5,
                 max_backoff_s: float = 5.0) -> None:
        self.max_reconnects = max_reconnects
        self.initial_backoff_s = initial_backoff_s
        self.max_backoff_s = max_backoff_s


class JobWatch(Iterator[JobEvent]):
    """An iterator over one job's events that ends after the terminal state
    event. Raises CluedropError when watching fails for good (NOT_FOUND,
    PERMISSION_DENIED, UNAUTHENTICATED, or UNAVAILABLE after the reconnects
    are spent) and WaitTimeoutError after `timeout_s`.

    Attributes:
        last_sequence: the sequence of the latest event yielded (or the start).
        final_state: the terminal state once seen, else None.
        reconnects: how many times the stream was reopened.
    """

    def __init__(self, stub: job_service_pb2_grpc.JobServiceStub, job_id: str, *,
                 metadata: tuple[tuple[str, str], ...], target: str, after_sequence: int = 0,
                 timeout_s: float | None = None, progress: ProgressMode = "auto",
                 options: WatchOptions | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.job_id = job_id
        self.last_sequence = after_sequence
        self.final_state: JobState | None = None
        self.reconnects = 0
        self._stub = stub
        self._metadata = metadata
        self._target = target
        self._options = options or WatchOptions()
        self._sleep = sleep
        self._clock = clock
        self._deadline = None if timeout_s is None else clock() + timeout_s
        self._progress = make_progress(progress, job_id)
        self._events = self._generate()

    def __iter__(self) -> JobWatch:
        return self

    def __next__(self) -> JobEvent:
        return next(self._events)

    def close(self) -> None:
        """Stops watching (closes the stream and the progress bar)."""
        self._events.close()

    def _left_s(self) -> float:
        if self._deadline is None:
            return _NO_DEADLINE_S
        return max(self._deadline - self._clock(), 0.0)

    def _generate(self) -> Generator[JobEvent, None, None]:
        in_a_row = 0
        backoff = self._options.initial_backoff_s
        try:
            while True:
                request = job_service_pb2.WatchJobRequest(job_id=self.job_id,
                                                          after_sequence=self.last_sequence)
                stream = self._stub.WatchJob(request, timeout=self._left_s(),
                                             metadata=self._metadata)
                got_event = False
                opened = self._clock()
                error: grpc.RpcError | None = None
                try:
                    for message in stream:
                        if message.sequence != 0 and message.sequence <= self.last_sequence:
                            continue  # already yielded
                        self.last_sequence = max(self.last_sequence, message.sequence)
                        got_event = True
                        event = JobEvent.from_proto(message)
                        if event.kind == "state" and event.state is not None \
                                and event.state.terminal:
                            self.final_state = event.state
                        self._progress.update(event)
                        yield event
                except grpc.RpcError as e:
                    error = e
                finally:
                    stream.cancel()
                if self.final_state is not None:
                    return
                # A stream that delivered events, or stayed open a minute (the
                # coordinator ends streams at --max_stream_seconds), was healthy.
                if got_event or self._clock() - opened >= _HEALTHY_STREAM_S:
                    in_a_row = 0
                    backoff = self._options.initial_backoff_s
                code = error.code() if error is not None else grpc.StatusCode.OK
                if code == grpc.StatusCode.DEADLINE_EXCEEDED or (
                        self._deadline is not None and self._clock() >= self._deadline):
                    raise WaitTimeoutError(f"job {self.job_id} did not end in time "
                                           f"(last event {self.last_sequence})")
                # A stream that ends without the terminal state (a coordinator
                # shutting down) is resumed like a broken one; so is one ended
                # by a server limit (RESOURCE_EXHAUSTED).
                retryable = error is None or code in _RESUMABLE
                if not retryable or in_a_row >= self._options.max_reconnects:
                    if error is None:
                        raise CluedropError(grpc.StatusCode.UNAVAILABLE,
                                            f"the event stream of {self.job_id} ended before "
                                            "the job did")
                    raise error_from_rpc(error, target=self._target)
                in_a_row += 1
                self.reconnects += 1
                why = "ended early" if error is None else error.details()
                _log.warning("cluedrop watch %s: stream broken (%s); reconnecting after event %d",
                             self.job_id, why, self.last_sequence)
                self._sleep(min(backoff, self._left_s()))
                backoff = min(backoff * 2, self._options.max_backoff_s)
        finally:
            self._progress.close()

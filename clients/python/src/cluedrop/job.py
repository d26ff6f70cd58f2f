"""A handle on one submitted job: its status, events, results, cancellation.
Get one from Client.submit() or Client.job(); it holds only the id, so it
stays valid across coordinator restarts.

Example:
    >>> job = client.submit("examples/biography-score-only.yaml")
    >>> job.wait(timeout=600)                 # JobStatus; raises if FAILED / CANCELLED
    >>> docs = job.results().to_list()        # scored documents, checksums verified
    >>> client.job("job-20261126-8f3a2c").cancel(reason="wrong corpus")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._progress import ProgressMode
from .errors import JobFailedError
from .results import ScoredDocuments
from .status import JobState, JobStatus
from .v1 import job_service_pb2
from .watch import JobWatch, WatchOptions

if TYPE_CHECKING:
    from .client import Client

__all__ = ["Job"]


class Job:
    """One job of a Client's coordinator. Thread-safe as far as the Client is."""

    def __init__(self, client: Client, job_id: str) -> None:
        self._client = client
        self.id = job_id

    def __repr__(self) -> str:
        return f"Job({self.id!r}, coordinator={self._client.address!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Job) and other.id == self.id and other._client is self._client

    def __hash__(self) -> int:
        return hash(self.id)

    def status(self, *, timeout: float | None = None) -> JobStatus:
        """The job as the coordinator has it now (GetJob). CluedropError:
        NOT_FOUND for an unknown id, PERMISSION_DENIED for another user's job.

        Example:
            >>> s = job.status(); print(s.state.name, s.progress.shards_scored)
        """
        job = self._client._unary("GetJob", job_service_pb2.GetJobRequest(job_id=self.id),
                                  timeout)
        return JobStatus.from_proto(job)

    def watch(self, *, after_sequence: int = 0, progress: ProgressMode = "auto",
              timeout: float | None = None, options: WatchOptions | None = None) -> JobWatch:
        """An iterator over the job's events from `after_sequence` on (0: all
        of them), live until the terminal state event, reconnecting after a
        broken stream like ``cluedrop watch``. `progress`: a tqdm bar
        (True; "auto": only in a notebook). `timeout`: seconds before
        WaitTimeoutError (None: none).

        Example:
            >>> for event in job.watch(progress=False):
            ...     print(event.sequence, event.kind, event)
        """
        return JobWatch(self._client._job_stub, self.id, metadata=self._client._metadata,
                        target=self._client.address, after_sequence=after_sequence,
                        timeout_s=timeout, progress=progress, options=options)

    def wait(self, timeout: float | None = None, *, progress: ProgressMode = "auto",
             check: bool = True) -> JobStatus:
        """Follows the job until it ends (watch()), then returns its final
        status. With `check`, a FAILED or CANCELLED job raises JobFailedError
        (its ``status`` attribute holds the JobStatus). WaitTimeoutError
        after `timeout` seconds.

        Example:
            >>> status = job.wait(timeout=600)
            >>> status.state is JobState.SUCCEEDED, status.model_dir
        """
        for _ in self.watch(progress=progress, timeout=timeout):
            pass
        status = self.status()
        if check and status.state in (JobState.FAILED, JobState.CANCELLED):
            raise JobFailedError(status)
        return status

    def cancel(self, reason: str = "", *, timeout: float | None = None) -> JobStatus:
        """Cancels the job (CancelJob) and returns it, CANCELLED; workers stop
        within a lease period. CluedropError FAILED_PRECONDITION when the job
        has already ended."""
        job = self._client._unary(
            "CancelJob", job_service_pb2.CancelJobRequest(job_id=self.id, reason=reason), timeout)
        return JobStatus.from_proto(job)

    def results(self, *, verify: bool = True) -> ScoredDocuments:
        """The job's scored documents (an iterable of dicts with to_list(),
        to_pandas() and to_dataset()), streamed from the coordinator over
        every trainer rank's partition in corpus order, each shard's CRC-32C
        checked (`verify`). Shards still being scored are waited for. See
        cluedrop.results for the document format.

        Example:
            >>> for doc in job.results():
            ...     print(doc["id"], len(doc["tokens"]))
        """
        spec = self.status().spec
        world = max(1, spec.training.world_size) if spec.HasField("target_model") else 1
        return ScoredDocuments(self._client._channel, self.id, world, self._client._metadata,
                               self._client.address, verify=verify)

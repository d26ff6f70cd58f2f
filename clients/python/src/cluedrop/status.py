"""What the coordinator says about a job, as plain Python values: its state,
progress, QA evaluations and events (proto/cluedrop/v1/job.proto). Each
object keeps the message it came from in ``.proto``.

Example:
    >>> status = job.status()
    >>> status.state, status.state.terminal
    (<JobState.SCORING: 2>, False)
    >>> status.progress.shards_scored, status.progress.shards_total
    (3, 4)
    >>> status.overall()          # the latest evaluation's "overall" row, or None
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Literal

from google.protobuf import timestamp_pb2

from .v1 import job_pb2

__all__ = ["Evaluation", "FieldScore", "JobEvent", "JobState", "JobStatus", "Progress"]


class JobState(enum.IntEnum):
    """cluedrop.v1.JobState without its JOB_STATE_ prefix."""
    UNSPECIFIED = 0
    QUEUED = 1
    SCORING = 2
    TRAINING = 3
    EVALUATING = 4
    SUCCEEDED = 5
    FAILED = 6
    CANCELLED = 7

    @property
    def terminal(self) -> bool:
        """True for SUCCEEDED, FAILED and CANCELLED: the job will not change."""
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)

    @classmethod
    def parse(cls, value: JobState | int | str) -> JobState:
        """A state from itself, its number, or a name in any case, full or
        short ("failed", "JOB_STATE_FAILED"). ValueError otherwise."""
        if isinstance(value, JobState):
            return value
        if isinstance(value, int):
            return cls(value)
        name = value.strip().upper().removeprefix("JOB_STATE_")
        try:
            return cls[name]
        except KeyError:
            choices = ", ".join(s.name.lower() for s in cls if s != cls.UNSPECIFIED)
            raise ValueError(f"unknown job state {value!r} (expected one of {choices})") from None

    @classmethod
    def _of(cls, number: int) -> JobState:
        try:
            return cls(number)
        except ValueError:  # a newer coordinator's state
            return cls.UNSPECIFIED


def _time(ts: timestamp_pb2.Timestamp) -> datetime | None:
    if ts.seconds == 0 and ts.nanos == 0:
        return None
    return ts.ToDatetime(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Progress:
    """cluedrop.v1.JobProgress: scoring and training counters (0 while unknown)."""
    shards_total: int
    shards_scored: int
    documents_total: int
    tokens_scored: int
    training_step: int
    training_steps_total: int
    epoch: int
    loss: float
    tokens_per_second: float
    proto: job_pb2.JobProgress = field(repr=False, compare=False)

    @staticmethod
    def from_proto(p: job_pb2.JobProgress) -> Progress:
        return Progress(p.shards_total, p.shards_scored, p.documents_total, p.tokens_scored,
                        p.training_step, p.training_steps_total, p.epoch, p.loss,
                        p.tokens_per_second, p)


@dataclass(frozen=True)
class FieldScore:
    """QA scores of one field ("birth_date", ..., "overall"): EM and F1 in [0, 1]."""
    field: str
    questions: int
    exact_match: float
    f1: float


@dataclass(frozen=True)
class Evaluation:
    """One QA evaluation (cluedrop.v1.EvaluationResult): scores per field."""
    epoch: int
    step: int
    fields: dict[str, FieldScore]
    time: datetime | None
    proto: job_pb2.EvaluationResult = field(repr=False, compare=False)

    @staticmethod
    def from_proto(e: job_pb2.EvaluationResult) -> Evaluation:
        scores = {f.field: FieldScore(f.field, f.questions, f.exact_match, f.f1)
                  for f in e.fields}
        return Evaluation(e.epoch, e.step, scores, _time(e.time), e)

    @property
    def overall(self) -> FieldScore | None:
        """The "overall" row, when the trainer reported one."""
        return self.fields.get("overall")


@dataclass(frozen=True)
class JobStatus:
    """A snapshot of one job (cluedrop.v1.Job), as GetJob returned it."""
    job_id: str
    name: str
    state: JobState
    reason: str
    progress: Progress
    evaluations: list[Evaluation]
    model_dir: str
    owner: str
    create_time: datetime | None
    update_time: datetime | None
    proto: job_pb2.Job = field(repr=False, compare=False)

    @staticmethod
    def from_proto(job: job_pb2.Job) -> JobStatus:
        return JobStatus(job.id, job.spec.name, JobState._of(job.state), job.reason,
                         Progress.from_proto(job.progress),
                         [Evaluation.from_proto(e) for e in job.evaluations], job.model_dir,
                         job.owner, _time(job.create_time), _time(job.update_time), job)

    @property
    def spec(self) -> job_pb2.JobSpec:
        """The spec as the coordinator stores it (its defaults filled in)."""
        return self.proto.spec

    def overall(self) -> FieldScore | None:
        """The "overall" scores of the latest evaluation, or None."""
        return self.evaluations[-1].overall if self.evaluations else None


EventKind = Literal["state", "progress", "evaluation", "message", "unknown"]


@dataclass(frozen=True)
class JobEvent:
    """One event of Job.watch() (cluedrop.v1.JobEvent). ``kind`` says which
    of ``state`` / ``progress`` / ``evaluation`` / ``message`` is set;
    ``reason`` explains a FAILED or CANCELLED state. Sequences start at 1
    and grow by one per event of the job.

    ``str(event)`` is the line ``cluedrop watch`` prints (empty for progress).
    """
    job_id: str
    sequence: int
    time: datetime | None
    kind: EventKind
    state: JobState | None = None
    progress: Progress | None = None
    evaluation: Evaluation | None = None
    message: str | None = None
    reason: str = ""
    proto: job_pb2.JobEvent | None = field(default=None, repr=False, compare=False)

    @staticmethod
    def from_proto(e: job_pb2.JobEvent) -> JobEvent:
        which = e.WhichOneof("kind")
        kind: EventKind = "unknown"
        state: JobState | None = None
        progress: Progress | None = None
        evaluation: Evaluation | None = None
        message: str | None = None
        if which == "state_changed":
            kind, state = "state", JobState._of(e.state_changed)
        elif which == "progress":
            kind, progress = "progress", Progress.from_proto(e.progress)
        elif which == "evaluation":
            kind, evaluation = "evaluation", Evaluation.from_proto(e.evaluation)
        elif which == "message":
            kind, message = "message", e.message
        return JobEvent(e.job_id, e.sequence, _time(e.time), kind, state, progress, evaluation,
                        message, e.reason, e)

    def __str__(self) -> str:
        stamp = f"[{self.time.astimezone():%H:%M:%S}] " if self.time else ""
        if self.kind == "state" and self.state is not None:
            return f"{stamp}state {self.state.name}" + (f": {self.reason}" if self.reason else "")
        if self.kind == "message":
            return f"{stamp}{self.message}"
        if self.kind == "evaluation" and self.evaluation is not None:
            line = f"{stamp}evaluation (epoch {self.evaluation.epoch}, step {self.evaluation.step})"
            overall = self.evaluation.overall
            if overall is not None:
                line += f": overall EM {100 * overall.exact_match:.1f}%, F1 {100 * overall.f1:.1f}%"
            return line
        return ""

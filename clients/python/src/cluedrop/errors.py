"""Exceptions of the cluedrop client. Every one is a :class:`CluedropError`
carrying a gRPC status code, the message, and the field path when the message
names one.

The coordinator reports an invalid job spec as INVALID_ARGUMENT with one
``field.path: what`` per violation, joined by ``"; "``; so do the client's
own checks of a spec file, as ``FILE:LINE: field.path: what`` per line, like
``cluedrop submit``.

Example:
    >>> err = CluedropError.from_status(
    ...     grpc.StatusCode.INVALID_ARGUMENT, "augmentation.alpha: must be in [0, 1], got 1.3")
    >>> err.code.name, err.field, err.violations[0].message
    ('INVALID_ARGUMENT', 'augmentation.alpha', 'must be in [0, 1], got 1.3')
    >>> str(err)
    'INVALID_ARGUMENT: augmentation.alpha: must be in [0, 1], got 1.3'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc

if TYPE_CHECKING:
    from .status import JobStatus

__all__ = ["CluedropError", "CredentialsError", "FieldViolation", "JobFailedError", "SpecError",
           "WaitTimeoutError", "error_from_rpc"]

# A field path as the coordinator and the spec parser write them:
# `augmentation.alpha`, `corpus.paths[1]`, `labels["team"]`, `spec.name`.
_FIELD_PATH = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*(?:\[(?:\d+|"(?:[^"\\]|\\.)*")\]'
                         r'|\.[A-Za-z_][A-Za-z0-9_]*)*$')


@dataclass(frozen=True)
class FieldViolation:
    """One error of a message: the field path it names (None when it names
    none), what is wrong, and where it was written in a spec file when known.

    Example: ``FieldViolation("augmentation.alpha", "must be in [0, 1], got 1.3")``.
    """
    field: str | None
    message: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        return f"{where}{self.field}: {self.message}" if self.field else f"{where}{self.message}"


def _split_field(text: str) -> tuple[str | None, str]:
    """("a.b", "what") for "a.b: what"; (None, text) when no field path leads."""
    head, sep, rest = text.partition(": ")
    if sep and _FIELD_PATH.match(head):
        return head.removeprefix("spec."), rest
    return None, text


def parse_violations(message: str) -> list[FieldViolation]:
    """Splits a server error message into violations: lines, then the
    "; "-joined parts of each (the coordinator's validation errors)."""
    out: list[FieldViolation] = []
    for line in message.splitlines():
        for part in line.split("; "):
            if part.strip():
                out.append(FieldViolation(*_split_field(part)))
    return out


class CluedropError(Exception):
    """An error from the coordinator or from the client's own checks.

    Attributes:
        code: the gRPC status code (``grpc.StatusCode.INVALID_ARGUMENT``, ...).
        message: the message as the coordinator (or the client) wrote it.
        violations: the message split into field errors (see FieldViolation).
        field: the field path of the first violation
            (``"augmentation.alpha"``), or None when the message names none.

    ``str(error)`` is ``"CODE: message"``; when the violations know the spec
    file and line they came from, the message part is one
    ``FILE:LINE: field.path: what`` per line instead, as ``cluedrop submit``
    prints them.
    """

    def __init__(self, code: grpc.StatusCode, message: str,
                 violations: list[FieldViolation] | None = None) -> None:
        self.code = code
        self.message = message
        self.violations = violations if violations is not None else parse_violations(message)
        self.field: str | None = next((v.field for v in self.violations if v.field), None)
        if any(v.file for v in self.violations):  # located: one "FILE:LINE: ..." per line
            message = "\n".join(str(v) for v in self.violations)
        super().__init__(f"{code.name}: {message}" if message else code.name)

    @classmethod
    def from_status(cls, code: grpc.StatusCode, message: str) -> CluedropError:
        """The error for a gRPC status; INVALID_ARGUMENT becomes a SpecError."""
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            return SpecError(message)
        return cls(code, message)


class SpecError(CluedropError, ValueError):
    """An invalid job spec: INVALID_ARGUMENT from the coordinator, or the
    client's checks of a spec file or dict (before anything is sent).

    Example:
        try:
            client.submit({"name": "x", "augmentation": {"alpha": 1.3}, ...})
        except SpecError as e:
            print(e.field, e.violations[0].message)
            # augmentation.alpha must be in [0, 1], got 1.3
    """

    def __init__(self, message: str, violations: list[FieldViolation] | None = None) -> None:
        super().__init__(grpc.StatusCode.INVALID_ARGUMENT, message, violations)


class CredentialsError(CluedropError, ValueError):
    """Credentials that cannot be used: a token file that is missing, empty,
    not private (mode 0o004 bit set) or not a token; token and token_file
    both given; a TLS certificate without its key. The code says which
    (NOT_FOUND, PERMISSION_DENIED, FAILED_PRECONDITION, INVALID_ARGUMENT), as
    in ``cluedrop``'s own checks."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(code, message, [FieldViolation(None, message)])


class JobFailedError(CluedropError):
    """Job.wait() found the job FAILED or CANCELLED. ``status`` is the final
    JobStatus; ``message`` its reason. The code is ABORTED for FAILED and
    CANCELLED for CANCELLED."""

    def __init__(self, status: JobStatus) -> None:
        code = (grpc.StatusCode.CANCELLED if status.state.name == "CANCELLED"
                else grpc.StatusCode.ABORTED)
        reason = status.reason or "(no reason given)"
        super().__init__(code, f"job {status.job_id} {status.state.name}: {reason}",
                         [FieldViolation(None, reason)])
        self.status = status


class WaitTimeoutError(CluedropError, TimeoutError):
    """Job.wait() or a watch gave up after its timeout (DEADLINE_EXCEEDED)."""

    def __init__(self, message: str) -> None:
        super().__init__(grpc.StatusCode.DEADLINE_EXCEEDED, message,
                         [FieldViolation(None, message)])


def error_from_rpc(error: grpc.RpcError, *, target: str | None = None) -> CluedropError:
    """The CluedropError for a failed call (`error` is a grpc.RpcError that
    is also a grpc.Call). UNAVAILABLE and DEADLINE_EXCEEDED name `target`,
    like the CLI."""
    code_fn = getattr(error, "code", None)
    details_fn = getattr(error, "details", None)
    code = code_fn() if callable(code_fn) else grpc.StatusCode.UNKNOWN
    details = (details_fn() if callable(details_fn) else None) or ""
    if target and code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        details = f"{target}: {details}" if details else target
        return CluedropError(code, details, [FieldViolation(None, details)])
    return CluedropError.from_status(code, details)

"""The coordinator's JobService from Python: submit specs, list jobs, and get
Job handles. Connection settings and credentials are the CLI's (see
cluedrop.credentials): ``$CLUEDROP_COORDINATOR``, ``$CLUEDROP_TOKEN`` or
``$CLUEDROP_TOKEN_FILE``, TLS files.

Example:
    >>> from cluedrop import Client
    >>> client = Client("127.0.0.1:50051", token_file="creds/submitter.token")
    >>> job = client.submit("examples/biography-score-only.yaml")
    >>> job.wait()
    >>> [s.job_id for s in client.list_jobs(states=["failed"])]
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from types import TracebackType
from typing import Any

import grpc

from .credentials import ConnectionSettings
from .errors import FieldViolation, SpecError, error_from_rpc
from .job import Job
from .spec import SpecSource, load_spec_with_lines
from .status import JobState, JobStatus
from .v1 import job_pb2, job_service_pb2, job_service_pb2_grpc

__all__ = ["Client"]


class Client:
    """A connection to one coordinator. Thread-safe (gRPC channels are);
    close() it, or use it as a context manager, when done.

    Args:
        address: host:port of the coordinator (default ``$CLUEDROP_COORDINATOR``,
            else ``127.0.0.1:50051``).
        token: bearer token (default ``$CLUEDROP_TOKEN``).
        token_file: file holding the token, private to its owner (default
            ``$CLUEDROP_TOKEN_FILE``); exclusive with token.
        tls: connect with TLS; implied by any of tls_ca, tls_cert, tls_key.
        tls_ca: PEM roots that verify the coordinator (default: system roots).
        tls_cert, tls_key: PEM client certificate and key (mutual TLS).
        timeout: deadline of each unary call in seconds (submit: 300).

    Raises CredentialsError for unusable credentials (before connecting).
    """

    def __init__(self, address: str | None = None, *, token: str | None = None,
                 token_file: str | os.PathLike[str] | None = None, tls: bool = False,
                 tls_ca: str | os.PathLike[str] | None = None,
                 tls_cert: str | os.PathLike[str] | None = None,
                 tls_key: str | os.PathLike[str] | None = None, timeout: float = 30.0) -> None:
        self.settings = ConnectionSettings.resolve(address, token=token, token_file=token_file,
                                                   tls=tls, tls_ca=tls_ca, tls_cert=tls_cert,
                                                   tls_key=tls_key)
        self.timeout = timeout
        self._channel = self.settings.channel()
        self._job_stub = job_service_pb2_grpc.JobServiceStub(  # type: ignore[no-untyped-call]
            self._channel)
        self._metadata = self.settings.metadata()

    @property
    def address(self) -> str:
        """The coordinator's host:port."""
        return self.settings.address

    def __repr__(self) -> str:
        return f"Client({self.address!r}, tls={self.settings.tls})"

    def close(self) -> None:
        """Closes the channel; the client and its Jobs cannot be used after."""
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def _unary(self, method: str, request: Any, timeout: float | None) -> Any:
        """Calls JobService.`method`; failures become CluedropError."""
        call = getattr(self._job_stub, method)
        try:
            return call(request, timeout=self.timeout if timeout is None else timeout,
                        metadata=self._metadata)
        except grpc.RpcError as e:
            raise error_from_rpc(e, target=self.address) from None

    def submit(self, spec: SpecSource, *, request_id: str | None = None,
               base_dir: str | os.PathLike[str] | None = None,
               timeout: float = 300.0) -> Job:
        """Submits a job and returns its handle once the coordinator has
        validated, sharded and stored it (QUEUED).

        Args:
            spec: a YAML/JSON file path, a dict (the same keys), or a
                ``cluedrop.v1.job_pb2.JobSpec`` (sent as is). Relative paths
                in a file or dict are made absolute (cluedrop.spec).
            request_id: idempotency token: a resubmission with the same id
                returns the first job (default: a random one per call).
            base_dir: directory relative paths are resolved against.
            timeout: seconds (the coordinator reads the corpus first).

        Raises:
            SpecError: an invalid spec, found here or by the coordinator
                (INVALID_ARGUMENT); ``.field`` is the first field path,
                ``.violations`` every problem (with the spec file's line
                when there is one).
            CluedropError: any other failure (UNAUTHENTICATED, ...).

        Example:
            >>> job = client.submit({
            ...     "name": "bio", "corpus": {"paths": ["bios.csv"], "format": "csv",
            ...                               "field_tags": True},
            ...     "reference_models": {"large": {"checkpoint_dir": "/models/70b"},
            ...                          "small": {"checkpoint_dir": "/models/8b"}}})
            >>> job.id
            'job-20261126-8f3a2c'
        """
        message, lines = load_spec_with_lines(spec, base_dir=base_dir)
        request = job_service_pb2.SubmitJobRequest(
            spec=message, request_id=request_id or f"py-{secrets.token_hex(8)}")
        try:
            job = self._job_stub.SubmitJob(request, timeout=timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            error = error_from_rpc(e, target=self.address)
            if isinstance(error, SpecError) and lines is not None:
                located = [FieldViolation(v.field, v.message, lines.file,
                                          (lines.find(v.field) if v.field else 0) or None)
                           for v in error.violations]
                raise SpecError(error.message, located) from None
            raise error from None
        return Job(self, job.id)

    def job(self, job_id: str) -> Job:
        """The handle of an existing job (nothing is called until it is used)."""
        return Job(self, job_id)

    def list_jobs(self, states: Iterable[JobState | str | int] | None = None, *,
                  limit: int | None = None) -> list[JobStatus]:
        """The jobs this caller may see, newest first as the coordinator
        orders them; only those in `states` ("failed", JobState.QUEUED, ...)
        when given; at most `limit` (None: all, page by page).

        Example:
            >>> [(s.job_id, s.state.name) for s in client.list_jobs(["scoring", "training"])]
        """
        wanted = [job_pb2.JobState.Name(int(JobState.parse(s))) for s in states or ()]
        out: list[JobStatus] = []
        token = ""
        while limit is None or len(out) < limit:
            page = 1000 if limit is None else min(1000, limit - len(out))
            response = self._unary("ListJobs", job_service_pb2.ListJobsRequest(
                states=wanted, page_size=page, page_token=token), None)
            out.extend(JobStatus.from_proto(j) for j in response.jobs)
            token = response.next_page_token
            if not token:
                break
        return out if limit is None else out[:limit]

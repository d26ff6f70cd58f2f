"""cluedrop: submit jobs to a cluedrop coordinator, watch them, and fetch
their scored documents, from Python (a notebook, a script).

  Client          a connection: submit(), job(), list_jobs()
  Job             a job: status(), watch(), wait(), cancel(), results()
  JobStatus       GetJob as plain values (state, progress, evaluations)
  JobEvent        one WatchJob event; JobState the state enum
  load_spec       a YAML/JSON file or dict -> cluedrop.v1.job_pb2.JobSpec
  CluedropError   every error: .code (grpc.StatusCode), .message, .field;
                  SpecError, CredentialsError, JobFailedError, WaitTimeoutError
  cluedrop.v1     the generated protobuf / gRPC modules

Example:
    >>> import cluedrop
    >>> client = cluedrop.Client()   # $CLUEDROP_COORDINATOR, $CLUEDROP_TOKEN_FILE
    >>> job = client.submit("examples/biography-score-only.yaml")
    >>> job.wait()
    >>> frame = job.results().to_pandas()

See docs/python-client.md.
"""

from ._version import __version__
from .client import Client
from .credentials import ConnectionSettings, read_token_file
from .errors import (CluedropError, CredentialsError, FieldViolation, JobFailedError, SpecError,
                     WaitTimeoutError)
from .job import Job
from .results import ScoredDocuments
from .spec import load_spec, parse_spec_text
from .status import Evaluation, FieldScore, JobEvent, JobState, JobStatus, Progress
from .watch import JobWatch, WatchOptions

__all__ = ["Client", "CluedropError", "ConnectionSettings", "CredentialsError", "Evaluation",
           "FieldScore", "FieldViolation", "Job", "JobEvent", "JobFailedError", "JobState",
           "JobStatus", "JobWatch", "Progress", "ScoredDocuments", "SpecError",
           "WaitTimeoutError", "WatchOptions", "__version__", "load_spec", "parse_spec_text",
           "read_token_file"]

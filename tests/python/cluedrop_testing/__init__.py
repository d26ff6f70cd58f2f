"""Helpers shared by cluedrop's Python test scripts (tests/).

  log, fail, on_failure      progress lines; FAIL and exit 1 (with hooks)
  Checks                     record failed checks and carry on
  run, run_ok                run a command, output captured as text
  dump_logs                  print the tails of log files
  free_port                  cluedrop_local.free_port, re-exported
  crc32c, read_shard_file    an independent reader of the shard format
  scored_jsonl (submodule)   compare two scored-document JSONL files
  squad (submodule)          the SQuAD v1.1 metric oracle
  podman_kube (submodule)    rendered Kubernetes manifests run on podman
  exactly_once (submodule)   every shard scored once: state.db vs payload files
  specs (submodule)          the bio20 corpus and score + train job specs
  certs (submodule)          test CAs and certificates (openssl), served serials
  job_service_pb (submodule) hand-encoded coordinator requests (abuse test)

Real daemons are started with cluedrop_local (Daemon, LocalCluster).
ctest runs every Python test with
PYTHONPATH=<source>/python:<source>/tests/python:<source>/demo.
"""

from cluedrop_local import free_port

from .commands import run, run_ok
from .logs import dump_logs
from .report import Checks, fail, log, on_failure
from .shard_file import crc32c, read_shard_file

__all__ = ["Checks", "crc32c", "dump_logs", "fail", "free_port", "log", "on_failure",
           "read_shard_file", "run", "run_ok"]

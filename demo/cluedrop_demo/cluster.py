"""The demo's local cluster: the real cluedrop-coordinator, one
cluedrop-scorer and `world_size` cluedrop-trainer ranks as processes on
127.0.0.1 (cluedrop_local.LocalCluster: free ports, logs and state under
the work directory), driven with the real `cluedrop` CLI."""

import json
import subprocess
from typing import Any

from cluedrop_local import DaemonStartError, LocalCluster


class DemoCluster:
    """LocalCluster with the demo's flags and threads, and the CLI calls the
    demo makes; failures end the demo (SystemExit) with the reason."""

    def __init__(self, bin_dir: str, work: str, world_size: int) -> None:
        self.work = work
        self.world_size = world_size
        self.local = LocalCluster(
            bin_dir, work, scorers=1, trainers=world_size, coordinator_threads=1,
            coordinator_args=["--retry_backoff_ms=200"], scorer_args=["--lease_wait_ms=500"],
            trainer_args=["--report_every_steps=5"], scorer_threads=2,
            # Fixed, not by core count: the reduction order, and so the
            # numbers, must not depend on the machine (numerics.py).
            trainer_threads=1)
        self.address = self.local.address

    def start(self) -> str:
        """Starts the coordinator, scorer-0 and trainer-0..world_size-1;
        returns the coordinator's address."""
        try:
            return self.local.start()
        except DaemonStartError as error:
            raise SystemExit(f"cluedrop demo: {error}") from None

    def tail(self, name: str, chars: int = 2500) -> str:
        """The end of daemon `name`'s log (e.g. "trainer-0")."""
        return self.local.daemon(name).tail(chars)

    def cli(self, *args: str, capture: bool = True,
            check: bool = True) -> "subprocess.CompletedProcess[str]":
        """`cluedrop ARGS...` against the cluster; exits the demo on failure
        when `check`."""
        proc = self.local.cli(*args, capture=capture, env={"OMP_NUM_THREADS": "1"})
        if check and proc.returncode != 0:
            raise SystemExit(f"cluedrop demo: `cluedrop {' '.join(args)}` exited "
                             f"{proc.returncode}:\n{proc.stdout or ''}{proc.stderr or ''}")
        return proc

    def submit(self, spec_path: str) -> str:
        """Submits a job spec; returns the job id."""
        job_id = self.cli("submit", spec_path).stdout.strip()
        if not job_id.startswith("job-"):
            raise SystemExit(f"cluedrop demo: submit printed {job_id!r}")
        return job_id

    def watch(self, job_id: str, log_path: str) -> int:
        """`cluedrop watch` with its progress line on this terminal; its
        event lines go to log_path. Returns the exit code."""
        with open(log_path, "w") as log:
            return subprocess.run([self.local.binary("cluedrop"), "watch", job_id],
                                  env=self.local.cli_env(OMP_NUM_THREADS="1"), stdout=log,
                                  stderr=None).returncode

    def status(self, job_id: str) -> dict[str, Any]:
        """`cluedrop status JOB --json`, parsed."""
        return json.loads(self.cli("status", job_id, "--json").stdout)

    def stop(self) -> None:
        """SIGTERM to every daemon (trainers, scorer, then the coordinator),
        SIGKILL after 30 s."""
        self.local.stop()

"""A whole cluedrop cluster on this machine: the real cluedrop-coordinator,
N cluedrop-scorer and M cluedrop-trainer ranks on loopback ports, their
logs, ready files and state under one work directory, and the `cluedrop`
CLI pointed at it.

Layout of the work directory: NAME.log and NAME.ready per daemon
("coordinator", "scorer-0", "trainer-1", ...), data/ (the coordinator's
--data_dir), NAME-cache/ per trainer (--cache_dir) and credentials/ (the
generated token table and token files; docs/security.md).

Every caller authenticates (auth="tokens", the default): the coordinator
gets --auth_token_file, scorers and trainers --token_file of their role, and
cli() runs with CLUEDROP_TOKEN_FILE of the "submitter" identity.
auth="insecure" starts the coordinator with --insecure_allow_unauthenticated
instead (development); auth="external" adds nothing (the caller passes its
own credentials, e.g. client certificates, in the *_args).

The coordinator listens on a port picked here (free_port()), so a restart
after kill9() comes back on the same address and the workers carry on;
scorers and trainers listen on port 0. Each trainer rank gets its own free
store port (--store_address), kept across restarts.

Example:
    with LocalCluster("build/bin", "/tmp/cluster", scorers=1, trainers=2) as cluster:
        job = cluster.cli("submit", "job.yaml").stdout.strip()
        cluster.cli("watch", job)
    # every daemon got SIGTERM (workers first), SIGKILL after the grace period

Not thread-safe.
"""

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from types import TracebackType

from .credentials import Credentials
from .daemon import DEFAULT_READY_TIMEOUT_S, DEFAULT_STOP_GRACE_S, Daemon
from .ports import LOOPBACK, free_port


class LocalCluster:
    """A coordinator, scorers and trainer ranks as child processes.

    start() starts the coordinator, then `scorers` scorers ("scorer-0", ...)
    and `trainers` trainer ranks ("trainer-0", ...), each waiting for its
    ready file; add_scorer() / add_trainer() add more (or, with counts of 0,
    all of them, under names of the caller's choice). `*_args` are extra
    flags for every daemon of that kind, `*_threads` their OMP_NUM_THREADS
    (None: inherited). With `clean` the work directory is emptied first.
    """

    def __init__(self, bin_dir: str, work_dir: str, *, scorers: int = 1, trainers: int = 0,
                 coordinator_port: int | None = None, coordinator_args: Sequence[str] = (),
                 scorer_args: Sequence[str] = (), trainer_args: Sequence[str] = (),
                 coordinator_threads: int | None = None, scorer_threads: int | None = None,
                 trainer_threads: int | None = None, device: str = "cpu",
                 env: Mapping[str, str] | None = None,
                 ready_timeout_s: float = DEFAULT_READY_TIMEOUT_S,
                 stop_grace_s: float = DEFAULT_STOP_GRACE_S, clean: bool = False,
                 auth: str = "tokens") -> None:
        self.bin_dir = bin_dir
        self.work_dir = work_dir
        self.data_dir = os.path.join(work_dir, "data")
        self.scorer_count = scorers
        self.trainer_count = trainers
        self.port = coordinator_port or free_port()
        self.address = f"{LOOPBACK}:{self.port}"
        self.coordinator_args = tuple(coordinator_args)
        self.scorer_args = tuple(scorer_args)
        self.trainer_args = tuple(trainer_args)
        self.coordinator_threads = coordinator_threads
        self.scorer_threads = scorer_threads
        self.trainer_threads = trainer_threads
        self.device = device
        self.env = dict(env or {})
        self.ready_timeout_s = ready_timeout_s
        self.stop_grace_s = stop_grace_s
        self.coordinator: Daemon | None = None
        self.scorers: list[Daemon] = []
        self.trainers: list[Daemon] = []
        self.store_ports: dict[str, int] = {}  # trainer name -> its --store_address port
        if clean:
            shutil.rmtree(work_dir, ignore_errors=True)
        os.makedirs(work_dir, exist_ok=True)
        if auth not in ("tokens", "insecure", "external"):
            raise ValueError(f"auth must be tokens, insecure or external, got {auth!r}")
        self.auth = auth
        # Generated once per LocalCluster; restarts of its daemons reuse them.
        self.credentials: Credentials | None = None
        if auth == "tokens":
            self.credentials = Credentials.generate(os.path.join(work_dir, "credentials"))

    def _auth_args(self, identity: str) -> list[str]:
        """The --token_file flag of `identity` (none without generated tokens)."""
        if self.credentials is None:
            return []
        return [f"--token_file={self.credentials.token_file(identity)}"]

    def binary(self, name: str) -> str:
        """The path of binary `name` ("cluedrop", "cluedrop-scorer", ...)."""
        return os.path.join(self.bin_dir, name)

    # ------------------------------------------------------------- daemons ---
    def start(self) -> str:
        """Starts the coordinator and the configured scorers and trainer
        ranks, each ready before the next starts. Returns the coordinator's
        address. Raises DaemonStartError (the daemons started so far keep
        running: stop() them)."""
        self.start_coordinator()
        for i in range(self.scorer_count):
            self.add_scorer(f"scorer-{i}")
        for rank in range(self.trainer_count):
            self.add_trainer(f"trainer-{rank}")
        return self.address

    def start_coordinator(self, wait: bool = True) -> Daemon:
        """Starts cluedrop-coordinator on self.address with --data_dir=WORK/data."""
        if self.coordinator is not None:
            raise RuntimeError("the coordinator was started already (use coordinator.restart())")
        self.coordinator = Daemon(
            self.binary("cluedrop-coordinator"),
            [f"--data_dir={self.data_dir}",
             *([f"--auth_token_file={self.credentials.table}"] if self.credentials
               else ["--insecure_allow_unauthenticated"] if self.auth == "insecure" else []),
             *self.coordinator_args], work_dir=self.work_dir,
            name="coordinator", grpc_address=self.address, threads=self.coordinator_threads,
            env=self.env, ready_timeout_s=self.ready_timeout_s)
        self.coordinator.start(wait)
        return self.coordinator

    def add_scorer(self, name: str | None = None, args: Sequence[str] = (),
                   threads: int | None = None, wait: bool = True) -> Daemon:
        """Starts a cluedrop-scorer for this coordinator (--name=`name`,
        default "scorer-K"); `args` after the cluster's scorer_args."""
        name = name or f"scorer-{len(self.scorers)}"
        daemon = Daemon(
            self.binary("cluedrop-scorer"),
            [f"--coordinator={self.address}", f"--name={name}", f"--device={self.device}",
             *self._auth_args("scorer"), *self.scorer_args, *args], work_dir=self.work_dir,
            name=name,
            threads=self.scorer_threads if threads is None else threads, env=self.env,
            ready_timeout_s=self.ready_timeout_s)
        self.scorers.append(daemon)
        daemon.start(wait)
        return daemon

    def add_trainer(self, name: str | None = None, store_port: int | None = None,
                    args: Sequence[str] = (), threads: int | None = None,
                    wait: bool = True) -> Daemon:
        """Starts a cluedrop-trainer rank for this coordinator (--name=`name`,
        default "trainer-K"; --store_address on `store_port`, default a free
        port; --cache_dir=WORK/NAME-cache); `args` after the cluster's
        trainer_args."""
        name = name or f"trainer-{len(self.trainers)}"
        port = store_port or free_port()
        self.store_ports[name] = port
        daemon = Daemon(
            self.binary("cluedrop-trainer"),
            [f"--coordinator={self.address}", f"--name={name}",
             f"--store_address={LOOPBACK}:{port}", f"--device={self.device}",
             f"--cache_dir={os.path.join(self.work_dir, name + '-cache')}",
             *self._auth_args("trainer"), *self.trainer_args, *args], work_dir=self.work_dir,
            name=name,
            threads=self.trainer_threads if threads is None else threads, env=self.env,
            ready_timeout_s=self.ready_timeout_s)
        self.trainers.append(daemon)
        daemon.start(wait)
        return daemon

    @property
    def workers(self) -> list[Daemon]:
        """Scorers and trainers, in the order they were added."""
        return self.scorers + self.trainers

    @property
    def daemons(self) -> list[Daemon]:
        """Every daemon, the coordinator first."""
        return ([self.coordinator] if self.coordinator else []) + self.workers

    def daemon(self, name: str) -> Daemon:
        """The daemon called `name`; KeyError if there is none."""
        for d in self.daemons:
            if d.name == name:
                return d
        raise KeyError(name)

    @property
    def metrics_port(self) -> int:
        """The coordinator's /metrics port (from its latest start)."""
        if self.coordinator is None:
            raise RuntimeError("the coordinator was not started")
        return self.coordinator.metrics_port

    def log_paths(self) -> list[str]:
        """Every daemon's log file, the coordinator first."""
        return [d.log_path for d in self.daemons]

    def stop(self, grace_s: float | None = None) -> dict[str, int | None]:
        """SIGTERM to every running worker at once (the newest first), then
        each is waited for, SIGKILL after `grace_s` (default stop_grace_s);
        then the coordinator the same way. Returns {name: exit code}."""
        grace_s = self.stop_grace_s if grace_s is None else grace_s
        workers = list(reversed(self.workers))
        for daemon in workers:
            daemon.terminate()
        codes = {d.name: d.stop(grace_s) for d in workers}
        if self.coordinator is not None:
            codes[self.coordinator.name] = self.coordinator.stop(grace_s)
        return codes

    def __enter__(self) -> "LocalCluster":
        if self.coordinator is None:
            self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    # ----------------------------------------------------------------- CLI ---
    def cli_env(self, **extra: str) -> dict[str, str]:
        """The environment for `cluedrop` commands: this one, the cluster's
        `env`, CLUEDROP_COORDINATOR=self.address, CLUEDROP_TOKEN_FILE of the
        "submitter" identity (with auth), then `extra`."""
        env = dict(os.environ)
        env.update(self.env)
        env["CLUEDROP_COORDINATOR"] = self.address
        env.pop("CLUEDROP_TOKEN", None)
        if self.credentials is not None:
            env["CLUEDROP_TOKEN_FILE"] = self.credentials.token_file("submitter")
        env.update(extra)
        return env

    def cli(self, *args: str, timeout: float | None = None, capture: bool = True,
            env: Mapping[str, str] | None = None) -> "subprocess.CompletedProcess[str]":
        """Runs `cluedrop ARGS...` against this cluster (text mode; stdout and
        stderr captured unless `capture` is False; `env` added to cli_env()).
        Does not check the exit code. Raises subprocess.TimeoutExpired."""
        return subprocess.run([self.binary("cluedrop"), *args], capture_output=capture,
                              text=True, env=self.cli_env(**(env or {})), timeout=timeout)

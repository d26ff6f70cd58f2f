"""One real cluedrop daemon process (cluedrop-coordinator, cluedrop-scorer,
cluedrop-trainer): started with --ready_file, its output in a log file,
stopped the way an orchestrator stops it.

Every daemon writes {component, pid, grpc_port, metrics_port} as JSON to
--ready_file once it serves (runtime/daemon_server.cc, written to a temp file
and renamed); start() waits for that file, so listeners on port 0 are fine.
A second SIGTERM makes a daemon exit at once with 128 + 15, so this class
sends at most one SIGTERM per process.

Example:
    coordinator = Daemon("build/bin/cluedrop-coordinator", ["--data_dir=/tmp/w/data"],
                         work_dir="/tmp/w")
    ready = coordinator.start()  # {"component": ..., "grpc_port": ..., "metrics_port": ...}
    print(coordinator.address, ready["metrics_port"])
    coordinator.kill9()          # chaos: SIGKILL, as a crash
    coordinator.restart()        # the same command line; the log is appended to
    coordinator.stop()           # SIGTERM, SIGKILL after the grace period; the exit code

Not thread-safe: one thread drives a Daemon.
"""

import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

DEFAULT_READY_TIMEOUT_S = 60.0
DEFAULT_STOP_GRACE_S = 30.0
_POLL_S = 0.02


class DaemonStartError(RuntimeError):
    """A daemon exited, or did not write its ready file in time, while starting.

    The message names the daemon, its exit code or the timeout, its log file,
    and ends with the log's tail.
    """


class Daemon:
    """One cluedrop daemon binary run as a child process.

    The command line is `binary --grpc_address=... --metrics_address=...
    --ready_file=WORK/NAME.ready [--shutdown_drain_ms=N] ARGS...`; stdout and
    stderr go (appended) to WORK/NAME.log. `threads` sets OMP_NUM_THREADS
    and `env` adds variables, both over the environment at start().
    """

    def __init__(self, binary: str, args: Sequence[str] = (), *, work_dir: str,
                 name: str | None = None, grpc_address: str = "127.0.0.1:0",
                 metrics_address: str = "127.0.0.1:0", shutdown_drain_ms: int | None = 0,
                 threads: int | None = None, env: Mapping[str, str] | None = None,
                 ready_timeout_s: float = DEFAULT_READY_TIMEOUT_S) -> None:
        """`binary` is a path; `name` (default: the binary's name without
        "cluedrop-") names the log and ready files; `shutdown_drain_ms` None
        leaves the flag out."""
        self.binary = binary
        self.args = tuple(args)
        self.work_dir = work_dir
        self.name = name or os.path.basename(binary).removeprefix("cluedrop-")
        self.grpc_address = grpc_address
        self.metrics_address = metrics_address
        self.shutdown_drain_ms = shutdown_drain_ms
        self.threads = threads
        self.env = dict(env or {})
        self.ready_timeout_s = ready_timeout_s
        self.log_path = os.path.join(work_dir, f"{self.name}.log")
        self.ready_path = os.path.join(work_dir, f"{self.name}.ready")
        self.process: subprocess.Popen[bytes] | None = None
        self.ready: dict[str, Any] | None = None
        self.killed_after_grace = False  # the last stop() needed SIGKILL
        self._sent_sigterm = False

    def __repr__(self) -> str:
        state = "not started" if self.process is None else (
            "running" if self.running else f"exited {self.returncode}")
        return f"Daemon({self.name!r}, {state})"

    # ------------------------------------------------------------- command ---
    @property
    def argv(self) -> list[str]:
        """The full command line."""
        argv = [self.binary, f"--grpc_address={self.grpc_address}",
                f"--metrics_address={self.metrics_address}", f"--ready_file={self.ready_path}"]
        if self.shutdown_drain_ms is not None:
            argv.append(f"--shutdown_drain_ms={self.shutdown_drain_ms}")
        return argv + list(self.args)

    def _environment(self) -> dict[str, str] | None:
        if self.threads is None and not self.env:
            return None  # inherit
        env = dict(os.environ, **self.env)
        if self.threads is not None:
            env["OMP_NUM_THREADS"] = str(self.threads)
        return env

    # ----------------------------------------------------------- lifecycle ---
    def start(self, wait: bool = True) -> dict[str, Any] | None:
        """Starts the process (a stale ready file is removed first) and, with
        `wait`, returns its ready file's contents (see wait_ready()); without,
        returns None at once. Raises RuntimeError if it is already running,
        DaemonStartError as wait_ready() does."""
        if self.running:
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        os.makedirs(self.work_dir, exist_ok=True)
        if os.path.exists(self.ready_path):
            os.remove(self.ready_path)
        self.ready = None
        self.killed_after_grace = False
        self._sent_sigterm = False
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                            env=self._environment())
        return self.wait_ready() if wait else None

    def wait_ready(self, timeout_s: float | None = None) -> dict[str, Any]:
        """Waits until the ready file exists and returns its JSON. Raises
        DaemonStartError if the process exits first, or after `timeout_s`
        (default: ready_timeout_s; the process is then killed)."""
        process = self._require_process()
        timeout_s = self.ready_timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout_s
        while True:
            if os.path.exists(self.ready_path):
                try:
                    with open(self.ready_path) as f:
                        self.ready = json.load(f)
                    return self.ready
                except ValueError:
                    pass  # being written
            if process.poll() is not None:
                raise DaemonStartError(
                    f"{self.name} exited with {process.returncode} before it was ready; "
                    f"log {self.log_path}:\n{self.tail()}")
            if time.monotonic() > deadline:
                self.kill9()
                raise DaemonStartError(
                    f"{self.name} not ready after {timeout_s:g} s (killed); "
                    f"log {self.log_path}:\n{self.tail()}")
            time.sleep(_POLL_S)

    def poll(self) -> int | None:
        """The exit code, or None while it runs (or was never started)."""
        return None if self.process is None else self.process.poll()

    def wait(self, timeout_s: float | None = None) -> int:
        """Waits for the process to exit and returns its exit code (negative:
        the signal that ended it). Raises subprocess.TimeoutExpired."""
        return self._require_process().wait(timeout=timeout_s)

    def send_signal(self, sig: int) -> None:
        """Sends `sig` (e.g. SIGSTOP) if the process runs. Use terminate() for
        SIGTERM, so that it is sent once."""
        if self.running:
            self._require_process().send_signal(sig)

    def terminate(self) -> None:
        """Sends SIGTERM (graceful shutdown) once per process; does not wait."""
        if self.running and not self._sent_sigterm:
            self._require_process().send_signal(signal.SIGTERM)
            self._sent_sigterm = True

    def stop(self, grace_s: float = DEFAULT_STOP_GRACE_S) -> int | None:
        """SIGTERM (unless already sent), then SIGKILL if it has not exited
        after `grace_s` (killed_after_grace tells). Returns the exit code;
        None if it was never started."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                self.killed_after_grace = True
        return self.process.returncode

    def kill9(self) -> int | None:
        """SIGKILL (a crash: no drain, no clean-up) and reap. Returns the exit
        code (-9 unless it had already exited); None if never started."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        return self.process.returncode

    def restart(self, wait: bool = True,
                grace_s: float = DEFAULT_STOP_GRACE_S) -> dict[str, Any] | None:
        """stop() if it still runs, then start() with the same command line:
        same name, flags, log (appended) and ready file. A daemon on a fixed
        --grpc_address comes back on the same address."""
        self.stop(grace_s)
        return self.start(wait)

    def __enter__(self) -> "Daemon":
        if self.process is None:
            self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    # --------------------------------------------------------------- state ---
    @property
    def running(self) -> bool:
        """Whether the process was started and has not exited."""
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.poll()

    @property
    def grpc_port(self) -> int:
        """The gRPC port from the ready file (the latest start)."""
        return int(self._require_ready()["grpc_port"])

    @property
    def metrics_port(self) -> int:
        """The /metrics port from the ready file (the latest start)."""
        return int(self._require_ready()["metrics_port"])

    @property
    def address(self) -> str:
        """host:port of the gRPC server (the port from the ready file)."""
        host = self.grpc_address.rsplit(":", 1)[0]
        return f"{host}:{self.grpc_port}"

    def tail(self, chars: int = 2500) -> str:
        """The last `chars` characters of the log ("" if there is none)."""
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-chars:]
        except OSError:
            return ""

    def _require_process(self) -> "subprocess.Popen[bytes]":
        if self.process is None:
            raise RuntimeError(f"{self.name} was never started")
        return self.process

    def _require_ready(self) -> dict[str, Any]:
        if self.ready is None:
            raise RuntimeError(f"{self.name} has not reported ready (no ready file read yet)")
        return self.ready

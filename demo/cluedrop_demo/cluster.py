"""The demo's local cluster: the real cluedrop-coordinator, one
cluedrop-scorer and `world_size` cluedrop-trainer ranks as processes on
127.0.0.1 (free ports, logs and state under the work directory), driven
with the real `cluedrop` CLI."""

import json
import os
import signal
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalCluster:
    def __init__(self, bin_dir, work, world_size):
        self.bin_dir = bin_dir
        self.work = work
        self.world_size = world_size
        self.processes = []  # (name, Popen), stopped in reverse order
        self.address = None
        os.makedirs(work, exist_ok=True)

    def bin(self, name):
        return os.path.join(self.bin_dir, name)

    def _start(self, name, args, threads):
        ready = os.path.join(self.work, f"{name}.ready")
        if os.path.exists(ready):
            os.remove(ready)
        log = open(os.path.join(self.work, f"{name}.log"), "a")
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        p = subprocess.Popen(
            [self.bin("cluedrop-" + name.split("-")[0]), "--grpc_address=127.0.0.1:0",
             "--metrics_address=127.0.0.1:0", f"--ready_file={ready}",
             "--shutdown_drain_ms=0", *args],
            stdout=log, stderr=subprocess.STDOUT, env=env)
        self.processes.append((name, p))
        deadline = time.time() + 60
        while not os.path.exists(ready):
            if p.poll() is not None:
                raise SystemExit(f"cluedrop demo: {name} exited with {p.returncode}; "
                                 f"see {log.name}:\n{self.tail(name)}")
            if time.time() > deadline:
                raise SystemExit(f"cluedrop demo: {name} not ready after 60 s; see {log.name}")
            time.sleep(0.05)
        with open(ready) as f:
            return json.load(f)

    def tail(self, name, chars=2500):
        with open(os.path.join(self.work, f"{name}.log")) as f:
            return f.read()[-chars:]

    def start(self):
        ready = self._start("coordinator", [f"--data_dir={os.path.join(self.work, 'data')}",
                                            "--retry_backoff_ms=200"], 1)
        self.address = f"127.0.0.1:{ready['grpc_port']}"
        self._start("scorer-0", [f"--coordinator={self.address}", "--name=scorer-0",
                                 "--device=cpu", "--lease_wait_ms=500"], 2)
        for rank in range(self.world_size):
            name = f"trainer-{rank}"
            self._start(name, [f"--coordinator={self.address}", f"--name={name}",
                               f"--store_address=127.0.0.1:{free_port()}", "--device=cpu",
                               f"--cache_dir={os.path.join(self.work, name + '-cache')}",
                               "--report_every_steps=5"],
                        max(1, (os.cpu_count() or 2) // self.world_size))
        return self.address

    def cli(self, *args, capture=True, check=True):
        env = dict(os.environ, CLUEDROP_COORDINATOR=self.address, OMP_NUM_THREADS="1")
        proc = subprocess.run([self.bin("cluedrop"), *args], env=env, text=True,
                              capture_output=capture)
        if check and proc.returncode != 0:
            raise SystemExit(f"cluedrop demo: `cluedrop {' '.join(args)}` exited "
                             f"{proc.returncode}:\n{proc.stdout or ''}{proc.stderr or ''}")
        return proc

    def submit(self, spec_path):
        job_id = self.cli("submit", spec_path).stdout.strip()
        if not job_id.startswith("job-"):
            raise SystemExit(f"cluedrop demo: submit printed {job_id!r}")
        return job_id

    def watch(self, job_id, log_path):
        """`cluedrop watch` with its progress line on this terminal; its
        event lines go to log_path. Returns the exit code."""
        with open(log_path, "w") as log:
            env = dict(os.environ, CLUEDROP_COORDINATOR=self.address, OMP_NUM_THREADS="1")
            return subprocess.run([self.bin("cluedrop"), "watch", job_id], env=env, stdout=log,
                                  stderr=None).returncode

    def status(self, job_id):
        return json.loads(self.cli("status", job_id, "--json").stdout)

    def stop(self):
        for _, p in reversed(self.processes):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
        self.processes = []

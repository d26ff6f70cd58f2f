#!/usr/bin/env python3
"""A seeded chaos grid (docs/security.md, issue 18): N trials of a score +
train job on the paper's biographies (tiny oracle checkpoints) in a cluster
of the real daemons (coordinator, 2 scorers, 2 trainer ranks over Gloo, all
with tokens). In each trial a seeded schedule SIGKILLs or SIGSTOPs random
processes at random moments and brings them back. Every trial must end
SUCCEEDED with every shard scored exactly once (state.db against the shard
files, CRC-32C recomputed here) and a final model byte-identical to the one
of an undisturbed run of the same job. A failing trial prints its seed:
replay it with --seed SEED --trials 1.

  chaos_test.py --bin DIR --fixtures DIR --paper-data DIR --work DIR [--trials 5] [--seed 1]

CI runs 5 trials (ctest chaos.grid); the long mode is --trials 20.
"""
import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import threading
import time

from cluedrop_local import LocalCluster
from cluedrop_testing import dump_logs, fail, log
from cluedrop_testing.exactly_once import check_exactly_once
from cluedrop_testing.specs import add_cluster_args, write_train_job

ARGS = None
VICTIMS = ("coordinator", "scorer-0", "scorer-1", "trainer-0", "trainer-1")


def write_spec(work):
    return write_train_job(work, ARGS.paper_data, ARGS.fixtures, name="chaos", shard_size=2,
                           epochs=4, batch_size=2, checkpoint_every=3)


def model_digest(model_dir):
    """sha256 of the exported weights (every *.safetensors file, by name)."""
    h = hashlib.sha256()
    names = sorted(n for n in os.listdir(model_dir) if n.endswith(".safetensors"))
    if not names:
        fail(f"no weights in {model_dir}")
    for name in names:
        h.update(name.encode())
        with open(os.path.join(model_dir, name), "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def new_cluster(work):
    cluster = LocalCluster(
        ARGS.bin, work, scorers=2, trainers=2, clean=True,
        coordinator_args=["--lease_ttl_ms=3000", "--heartbeat_interval_ms=500",
                          "--retry_backoff_ms=200", "--max_attempts=20"],
        scorer_args=["--lease_wait_ms=1000"], trainer_args=["--report_every_steps=2"],
        scorer_threads=1, trainer_threads=1, ready_timeout_s=60)
    cluster.start()
    return cluster


def status(cluster, job_id):
    proc = cluster.cli("status", job_id, "--json", "--timeout_s=5", timeout=60)
    if proc.returncode != 0:
        return None  # the coordinator is down or stopped right now
    return json.loads(proc.stdout)


def wait_done(cluster, job_id, timeout_s):
    deadline = time.time() + timeout_s
    job = None
    while time.time() < deadline:
        job = status(cluster, job_id) or job
        if job and job["state"] in ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED",
                                    "JOB_STATE_CANCELLED"):
            return job
        time.sleep(0.5)
    return job


class Chaos:
    """The seeded fault schedule of one trial, run on a thread while the job
    runs: `faults` times, wait a random moment, then SIGKILL (restart after
    a pause) or SIGSTOP (SIGCONT after a pause) one random process."""

    def __init__(self, cluster, seed, faults):
        self.cluster, self.rng, self.faults = cluster, random.Random(seed), faults
        self.actions = []
        self.stop = threading.Event()
        self.error = None

    def run(self):
        try:
            for _ in range(self.faults):
                if self.stop.wait(self.rng.uniform(0.3, 1.5)):
                    return
                name = self.rng.choice(VICTIMS)
                daemon = self.cluster.daemon(name)
                kill = self.rng.random() < 0.6
                pause = self.rng.uniform(0.2, 2.0)
                if kill:
                    daemon.kill9()
                    self.actions.append(f"t+{self.elapsed():.1f}s SIGKILL {name}, restart after "
                                        f"{pause:.1f}s")
                    time.sleep(pause)
                    daemon.restart()
                else:
                    daemon.send_signal(signal.SIGSTOP)
                    self.actions.append(f"t+{self.elapsed():.1f}s SIGSTOP {name} for {pause:.1f}s")
                    time.sleep(pause)
                    daemon.send_signal(signal.SIGCONT)
        except Exception as e:  # reported by the trial
            self.error = e

    def elapsed(self):
        return time.time() - self.started

    def start(self):
        self.started = time.time()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def join(self):
        self.stop.set()
        self.thread.join()


def run_job(work, seed=None, faults=0):
    """Runs the job in a fresh cluster; returns (digest, shards, actions)."""
    cluster = new_cluster(work)
    chaos = None
    try:
        spec = write_spec(work)
        proc = cluster.cli("submit", spec, timeout=60)
        job_id = proc.stdout.strip()
        if proc.returncode != 0 or not job_id.startswith("job-"):
            fail(f"submit: {proc.stdout} {proc.stderr}")
        if faults:
            chaos = Chaos(cluster, seed, faults)
            chaos.start()
        job = wait_done(cluster, job_id, ARGS.trial_timeout_s)
        if chaos:
            chaos.join()
            # Whatever is still stopped or down comes back before the checks.
            for d in cluster.daemons:
                d.send_signal(signal.SIGCONT)
        actions = chaos.actions if chaos else []
        if chaos and chaos.error:
            fail(f"seed {seed}: the fault schedule failed: {chaos.error}")
        if not job or job["state"] != "JOB_STATE_SUCCEEDED":
            dump_logs(cluster.log_paths(), chars=2500)
            fail(f"seed {seed}: job ended {job and job['state']} ({job and job.get('reason')}); "
                 f"faults: {actions}; replay: --seed {seed} --trials 1")
        shards = check_exactly_once(cluster.data_dir, job_id)
        return model_digest(job["model_dir"]), shards, actions
    finally:
        if chaos:
            chaos.join()
        for d in cluster.daemons:
            d.send_signal(signal.SIGCONT)
        cluster.stop(grace_s=10)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    add_cluster_args(ap)
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1, help="seed of the first trial (then +1 each)")
    ap.add_argument("--faults", type=int, default=3, help="faults per trial")
    ap.add_argument("--trial-timeout-s", type=float, default=240)
    ARGS = ap.parse_args()
    started = time.time()
    shutil.rmtree(ARGS.work, ignore_errors=True)
    os.makedirs(ARGS.work)
    reference, shards, _ = run_job(os.path.join(ARGS.work, "reference"))
    log(f"undisturbed run: {shards} shards, model sha256 {reference[:16]}… "
        f"({time.time() - started:.1f} s)")
    fired = 0
    for t in range(ARGS.trials):
        seed = ARGS.seed + t
        t0 = time.time()
        digest, shards, actions = run_job(os.path.join(ARGS.work, f"trial-{seed}"), seed,
                                          ARGS.faults)
        fired += len(actions)
        if digest != reference:
            fail(f"seed {seed}: final model {digest[:16]}… differs from the undisturbed "
                 f"{reference[:16]}…; faults: {actions}; replay: --seed {seed} --trials 1")
        log(f"trial seed {seed}: SUCCEEDED, {shards} shards exactly once, model identical "
            f"({time.time() - t0:.1f} s); faults: {'; '.join(actions) or 'none fired'}")
    # A grid whose faults all land after the job ended would prove nothing.
    if fired < ARGS.trials:
        fail(f"only {fired} faults fired in {ARGS.trials} trials: the job is too short for the "
             "schedule")
    log(f"chaos grid: {ARGS.trials} trials (seeds {ARGS.seed}..{ARGS.seed + ARGS.trials - 1}), "
        f"{fired} faults, all SUCCEEDED, exactly once, byte-identical models "
        f"({time.time() - started:.1f} s)")


if __name__ == "__main__":
    main()

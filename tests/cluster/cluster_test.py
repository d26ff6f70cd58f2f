#!/usr/bin/env python3
"""The scoring pipeline with the real binaries: cluedrop-coordinator, two
cluedrop-scorer daemons (tiny random-init llama3/smollm oracle checkpoints,
which share a tokenizer) and the `cluedrop` CLI, on the paper's
biography_synthetic.csv.

Scenarios (--scenario, default all):
  e2e          submit -> watch -> SUCCEEDED; `cluedrop results` equals
               `cluedrop score` on the same CSV (the oracle-tested engine);
               every shard scored exactly once (state.db vs shard files vs
               an independent CRC-32C in Python).
  kill-coordinator
               SIGKILL the coordinator mid-job and restart it on the same
               port and data dir: the scorers carry on, the job SUCCEEDS,
               every shard exactly once with matching checksums.
  kill-scorer  SIGSTOP+SIGKILL the only scorer while it holds a lease: the
               lease expires, the shard is leased again (attempt 2) by a new
               scorer, the job SUCCEEDS.
  bad-input    a corrupt corpus line and a bad spec: exit 2 with the file,
               line and field; no job and no state row is left behind.
  train        score -> 2 trainer ranks over Gloo -> export -> QA evaluation
               reported to the coordinator -> SUCCEEDED.
  kill-trainer SIGKILL a trainer rank after a checkpoint and restart it: it
               rejoins under its name, both ranks resume from the checkpoint,
               and the final weights are byte-identical to an uninterrupted
               run of the same job.
  store-port-taken
               a trainer whose --store_address port another process holds
               refuses to start, naming it; a job whose rank 0 finds its
               port taken after start-up FAILS with that reason (it used to
               retry forever).

Usage: cluster_test.py --bin DIR --fixtures DIR/oracle/models --paper-data DIR --work DIR
"""
import argparse
import json
import os
import signal
import socket
import sqlite3
import time
import urllib.request

from cluedrop_local import DaemonStartError, LocalCluster
from cluedrop_testing import dump_logs, fail, log
from cluedrop_testing.exactly_once import check_exactly_once as exactly_once
from cluedrop_testing.scored_jsonl import compare_scored

ARGS = None


# ------------------------------------------------------------ processes ---
class Cluster:
    """One scenario's cluster (cluedrop_local.LocalCluster in ARGS.work/NAME,
    emptied first; the coordinator on a fixed port, so it restarts on the
    same address) and the checks around it."""

    def __init__(self, name, lease_ttl_ms=4000, heartbeat_ms=500):
        self.local = LocalCluster(
            ARGS.bin, os.path.join(ARGS.work, name), scorers=0, trainers=0, clean=True,
            coordinator_args=[f"--lease_ttl_ms={lease_ttl_ms}",
                              f"--heartbeat_interval_ms={heartbeat_ms}", "--retry_backoff_ms=200"],
            scorer_args=["--lease_wait_ms=1000"], trainer_args=["--report_every_steps=2"],
            scorer_threads=1, trainer_threads=1,  # two scorers share 2 cores
            ready_timeout_s=30)
        self.work = self.local.work_dir
        self.data = self.local.data_dir
        self.address = self.local.address
        self.coordinator = None
        self.scorers = []  # the scorers and trainers: stopped (SIGTERM) together

    def _started(self, start):
        try:
            return start()
        except DaemonStartError as error:
            self.dump_logs()
            fail(str(error))

    def start_coordinator(self):
        """Starts the coordinator, or restarts it (same port, data dir, log)."""
        if self.coordinator is None:
            self.coordinator = self._started(self.local.start_coordinator)
        else:
            self._started(self.coordinator.restart)

    def start_scorer(self, name):
        d = self._started(lambda: self.local.add_scorer(name))
        self.scorers.append(d)
        return d

    def start_trainer(self, name, store_port=None):
        d = self._started(lambda: self.local.add_trainer(name, store_port))
        self.scorers.append(d)
        return d

    def restart(self, daemon):
        """Starts a killed worker again: same name, flags, ports and log."""
        self._started(daemon.restart)

    @property
    def metrics_port(self):
        return self.local.metrics_port

    def cli(self, *args, check=True, timeout=240):
        proc = self.local.cli(*args, timeout=timeout)
        if check and proc.returncode != 0:
            self.dump_logs()
            fail(f"cluedrop {' '.join(args)}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    def status(self, job_id):
        job = json.loads(self.cli("status", job_id, "--json").stdout)
        job["state"] = job["state"].replace("JOB_STATE_", "")
        return job

    def db(self):
        return sqlite3.connect(f"file:{self.data}/state.db?mode=ro", uri=True, timeout=10)

    def metric(self, name):
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics").read().decode()
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        return None

    def dump_logs(self):
        dump_logs(self.local.log_paths(), chars=3000)

    def stop(self):
        for d in self.scorers:
            d.terminate()
        for d in self.scorers:
            rc = d.stop(grace_s=30)
            if d.killed_after_grace:
                fail("a scorer did not exit within 30 s of SIGTERM")
            if rc not in (0, -signal.SIGKILL):
                self.dump_logs()
                fail(f"scorer exit code {rc} after SIGTERM")
        if self.coordinator and self.coordinator.running:
            if self.coordinator.stop(grace_s=30) != 0:
                fail(f"coordinator exit code {self.coordinator.returncode}")


# ---------------------------------------------------------------- specs ---
def write_spec(cluster, corpus, shard_size, extra=""):
    models = ARGS.fixtures
    spec = f"""name: biography
corpus:
  paths: [{corpus}]
  format: csv
  field_tags: true
  shard_size_docs: {shard_size}
reference_models:
  large: {{checkpoint_dir: {models}/llama3/model, dtype: float32}}
  small: {{checkpoint_dir: {models}/smollm/model, dtype: float32}}
  batch_tokens: 4096
{extra}"""
    path = os.path.join(cluster.work, "job.yaml")
    with open(path, "w") as f:
        f.write(spec)
    return path


def submit(cluster, spec):
    proc = cluster.cli("submit", spec)
    job_id = proc.stdout.strip()
    if not job_id.startswith("job-"):
        fail(f"submit printed {proc.stdout!r}")
    return job_id


def wait_state(cluster, job_id, states, timeout_s=180):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        job = cluster.status(job_id)
        if job["state"] in states:
            return job
        time.sleep(0.2)
    cluster.dump_logs()
    fail(f"job {job_id} not in {states} after {timeout_s} s: {job['state']}")


def check_exactly_once(cluster, job_id):
    """Every shard SCORED once (cluedrop_testing.exactly_once)."""
    n = exactly_once(cluster.data, job_id)
    log(f"  exactly once: {n} shards, one payload each, CRC-32C verified independently")
    return n


def compare_with_score(cluster, job_id, corpus):
    results = os.path.join(cluster.work, "results.jsonl")
    cluster.cli("results", job_id, "--output", results)
    direct = os.path.join(cluster.work, "direct.jsonl")
    cluster.cli("score", "--large", f"{ARGS.fixtures}/llama3/model", "--small",
                f"{ARGS.fixtures}/smollm/model", "--input", corpus, "--output", direct)
    got, worst = compare_scored(results, direct, "cluedrop results vs cluedrop score")
    for g in got:
        if len(g["qa_items"]) != 5 or not g["qa_items"][0]["subject"]:
            fail(f"document {g['id']} has qa_items {g['qa_items']}")
    log(f"  results == cluedrop score for {len(got)} documents (max |diff| {worst:.2e}), "
        "5 QA items each")


# ------------------------------------------------------------ scenarios ---
def scenario_e2e():
    log("e2e: 2 scorers, biography_synthetic.csv, 10 documents per shard")
    c = Cluster("e2e")
    corpus = os.path.join(ARGS.paper_data, "biography_synthetic.csv")
    c.start_coordinator()
    c.start_scorer("scorer-a")
    c.start_scorer("scorer-b")
    job_id = submit(c, write_spec(c, corpus, 10))
    watch = c.cli("watch", job_id, check=False)
    if watch.returncode != 0 or "SUCCEEDED" not in watch.stdout + watch.stderr:
        c.dump_logs()
        fail(f"watch exit {watch.returncode}: {watch.stdout[-2000:]} {watch.stderr[-2000:]}")
    job = c.status(job_id)
    progress = job["progress"]
    log(f"  job {job_id}: {job['state']}, {progress['shards_scored']}/{progress['shards_total']} "
        f"shards, {progress['tokens_scored']} tokens")
    if job["state"] != "SUCCEEDED" or progress["shards_scored"] != progress["shards_total"] \
            or int(progress["documents_total"]) != 100:
        fail(f"progress {progress}")
    n = check_exactly_once(c, job_id)
    if n != 10:
        fail(f"{n} shards, want 10")
    compare_with_score(c, job_id, corpus)
    leases = c.metric("cluedrop_coordinator_leases_granted_total")
    dup = c.metric("cluedrop_coordinator_duplicate_completions_total")
    log(f"  metrics: {leases:.0f} leases granted, {dup:.0f} duplicate completions")
    if leases < 10 or dup != 0:
        fail("unexpected lease/duplicate counts")
    c.stop()
    log("e2e: PASS")


def scenario_kill_coordinator():
    log("kill-coordinator: SIGKILL mid-job, restart on the same port and data dir")
    c = Cluster("kill-coordinator")
    corpus = os.path.join(ARGS.paper_data, "biography_synthetic.csv")
    c.start_coordinator()
    c.start_scorer("scorer-a")
    c.start_scorer("scorer-b")
    job_id = submit(c, write_spec(c, corpus, 4))  # 25 shards
    deadline = time.time() + 120
    while True:
        with c.db() as db:
            scored = db.execute("SELECT COUNT(*) FROM shards WHERE job_id=? AND state=2",
                                (job_id,)).fetchone()[0]
        if scored >= 3:
            break
        if time.time() > deadline:
            c.dump_logs()
            fail("no shard scored within 120 s")
        time.sleep(0.02)
    c.coordinator.kill9()
    if scored >= 25:
        fail("the job finished before the kill; make shards smaller")
    log(f"  killed the coordinator with {scored}/25 shards scored")
    time.sleep(1.0)
    c.start_coordinator()
    job = wait_state(c, job_id, ("SUCCEEDED", "FAILED"))
    if job["state"] != "SUCCEEDED":
        c.dump_logs()
        fail(f"job {job['state']}: {job.get('reason')}")
    check_exactly_once(c, job_id)
    log("  job SUCCEEDED after the restart; scorers never restarted")
    for p in c.scorers:
        if p.poll() is not None:
            fail(f"a scorer exited ({p.returncode}) while the coordinator was down")
    c.stop()
    log("kill-coordinator: PASS")


def scenario_kill_scorer():
    log("kill-scorer: the only scorer dies holding a lease")
    c = Cluster("kill-scorer", lease_ttl_ms=2000, heartbeat_ms=300)
    corpus = os.path.join(ARGS.paper_data, "biography_synthetic.csv")
    c.start_coordinator()
    job_id = submit(c, write_spec(c, corpus, 50))  # 2 shards
    victim = c.start_scorer("scorer-victim")
    deadline = time.time() + 60
    while True:
        with c.db() as db:
            row = db.execute("SELECT shard_id, lease_id FROM shards WHERE job_id=? AND state=1",
                             (job_id,)).fetchone()
        if row:
            victim.send_signal(signal.SIGSTOP)  # it can neither complete nor heartbeat now
            break
        if time.time() > deadline:
            c.dump_logs()
            fail("the scorer never took a lease")
        time.sleep(0.005)
    shard_id, lease_id = row
    with c.db() as db:
        state = db.execute("SELECT state FROM shards WHERE job_id=? AND shard_id=?",
                           (job_id, shard_id)).fetchone()[0]
    if state != 1:
        fail(f"shard {shard_id} was completed before SIGSTOP (state {state}); retry")
    victim.kill9()
    log(f"  killed the scorer holding {lease_id} ({shard_id})")
    time.sleep(0.5)
    c.start_scorer("scorer-rescue")
    job = wait_state(c, job_id, ("SUCCEEDED", "FAILED"))
    if job["state"] != "SUCCEEDED":
        c.dump_logs()
        fail(f"job {job['state']}: {job.get('reason')}")
    with c.db() as db:
        grants, failures = db.execute(
            "SELECT grants, failures FROM shards WHERE job_id=? AND shard_id=?",
            (job_id, shard_id)).fetchone()
    if grants != 2 or failures != 1:
        fail(f"shard {shard_id}: grants {grants}, failures {failures}; want 2 and 1")
    events = c.cli("watch", job_id).stdout + c.cli("watch", job_id).stderr
    if "expired" not in events:
        fail(f"no lease-expiry event in watch output:\n{events[-2000:]}")
    expirations = c.metric("cluedrop_coordinator_lease_expirations_total")
    if expirations != 1:
        fail(f"lease expirations metric {expirations}, want 1")
    check_exactly_once(c, job_id)
    log("  lease expired once, shard re-leased (attempt 2), job SUCCEEDED")
    c.stop()
    log("kill-scorer: PASS")


def scenario_bad_input():
    log("bad-input: corrupt corpus line, bad spec")
    c = Cluster("bad-input")
    c.start_coordinator()
    corpus = os.path.join(c.work, "bio.csv")
    with open(os.path.join(ARGS.paper_data, "biography_synthetic.csv")) as f:
        lines = f.read().splitlines()
    lines[3] = '"<name>Broken</name> was born on <date>May 1, 1990</date>. He' # unterminated
    with open(corpus, "w") as f:
        f.write("\n".join(lines[:6]) + "\n")
    proc = c.cli("submit", write_spec(c, corpus, 10), check=False)
    if proc.returncode != 2 or "bio.csv:" not in proc.stderr or "corpus.paths[0]" not in proc.stderr:
        fail(f"corrupt corpus: exit {proc.returncode}, stderr {proc.stderr!r}")
    log(f"  corrupt corpus -> exit 2: {proc.stderr.strip().splitlines()[-1]}")
    spec = write_spec(c, os.path.join(ARGS.paper_data, "biography_synthetic.csv"), 10,
                      extra="augmentation:\n  alpha: 1.3\n  copies: 0\n")
    proc = c.cli("submit", spec, check=False)
    if proc.returncode != 2 or "job.yaml:" not in proc.stderr or "augmentation.alpha" not in proc.stderr:
        fail(f"bad spec: exit {proc.returncode}, stderr {proc.stderr!r}")
    log(f"  bad spec -> exit 2: {proc.stderr.strip().splitlines()[0]}")
    listing = json.loads(c.cli("list", "--json").stdout)
    if listing.get("jobs"):
        fail(f"jobs left behind: {listing}")
    with c.db() as db:
        counts = [db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                  for t in ("jobs", "shards", "events")]
    if counts != [0, 0, 0]:
        fail(f"state rows left behind (jobs, shards, events): {counts}")
    if os.path.exists(os.path.join(c.data, "shards")) and any(
            os.scandir(os.path.join(c.data, "shards"))):
        fail("shard files left behind")
    c.stop()
    log("bad-input: PASS")


def train_spec(c, out, epochs=2, checkpoint_every=4):
    corpus = os.path.join(c.work, "bio20.csv")
    with open(os.path.join(ARGS.paper_data, "biography_synthetic.csv")) as f:
        lines = f.read().splitlines()
    with open(corpus, "w") as f:
        f.write("\n".join(lines[:21]) + "\n")  # header + 20 people
    models = ARGS.fixtures
    extra = f"""target_model: {{checkpoint_dir: {models}/llama3/model}}
augmentation: {{mode: contrast, copies: 1, seed: 7}}
training: {{epochs: {epochs}, batch_size: 4, learning_rate: 0.003, world_size: 2, max_seq_len: 128,
           checkpoint_interval_steps: {checkpoint_every}, seed: 1}}
evaluation: {{prompt_table: {ARGS.paper_data}/prompts.csv,
             fewshot_pool: {ARGS.paper_data}/biography_real.csv, shots: 0, max_new_tokens: 4}}
output_dir: {out}
"""
    return write_spec(c, corpus, 5, extra=extra)


def finished_training(c, job_id):
    job = wait_state(c, job_id, ("SUCCEEDED", "FAILED", "CANCELLED"), timeout_s=240)
    if job["state"] != "SUCCEEDED":
        c.dump_logs()
        fail(f"job {job['state']}: {job.get('reason')}")
    if not os.path.exists(os.path.join(job["model_dir"], "config.json")):
        fail(f"no exported model in {job['model_dir']}")
    return job


def scenario_train():
    log("train: coordinator, 1 scorer, 2 trainer ranks (Gloo); score, train, evaluate")
    c = Cluster("train")
    c.start_coordinator()
    c.start_scorer("scorer-a")
    c.start_trainer("trainer-a")
    c.start_trainer("trainer-b")
    job_id = submit(c, train_spec(c, os.path.join(c.work, "out")))
    job = finished_training(c, job_id)
    progress = job["progress"]
    evaluations = job.get("evaluations", [])
    log(f"  job SUCCEEDED: {progress['training_step']} steps, loss {progress['loss']:.3f}, "
        f"model {job['model_dir']}")
    if not evaluations or not evaluations[-1]["fields"]:
        fail(f"no evaluation reported: {job}")
    overall = [f for f in evaluations[-1]["fields"] if f["field"] == "overall"]
    if not overall or overall[0]["questions"] != 100:
        fail(f"evaluation fields {evaluations[-1]['fields']}")
    log(f"  evaluation: {overall[0]['questions']} questions, EM {overall[0]['exact_match']:.3f}, "
        f"F1 {overall[0]['f1']:.3f} (tiny random model; no accuracy claim)")
    events = c.cli("watch", job_id).stdout
    for want in ("joined as rank 0 of 2", "joined as rank 1 of 2"):
        if want not in events:
            fail(f"watch output lacks {want!r}")
    c.stop()
    log("train: PASS")


def scenario_kill_trainer():
    log("kill-trainer: SIGKILL a rank mid-run, restart it; compare with an uninterrupted run")
    c = Cluster("kill-trainer")
    c.start_coordinator()
    c.start_scorer("scorer-a")
    trainers = {name: c.start_trainer(name) for name in ("trainer-a", "trainer-b")}
    # Uninterrupted reference run.
    ref_id = submit(c, train_spec(c, os.path.join(c.work, "ref"), epochs=3, checkpoint_every=2))
    ref = finished_training(c, ref_id)
    # The same job again; kill trainer-b as soon as its first checkpoint
    # exists (polling the file: the CLI is too slow to catch a step).
    run_dir = os.path.join(c.work, "run")
    job_id = submit(c, train_spec(c, run_dir, epochs=3, checkpoint_every=2))
    latest = os.path.join(run_dir, "checkpoints", "latest")
    deadline = time.time() + 180
    while not os.path.exists(latest):
        if time.time() > deadline:
            c.dump_logs()
            fail("no checkpoint within 180 s")
        time.sleep(0.005)
    job = {"progress": {"training_step": open(latest).read().strip()}}
    trainers["trainer-b"].kill9()
    log(f"  killed trainer-b right after checkpoint {job['progress']['training_step']}")
    if c.status(job_id)["state"] == "SUCCEEDED":
        fail("the job finished before the kill took effect; make it longer")
    time.sleep(0.5)
    c.restart(trainers["trainer-b"])  # same name, store port and cache dir
    job = finished_training(c, job_id)
    events = c.cli("watch", job_id).stdout
    if "trainer trainer-b rejoined" not in events:
        fail("no rejoin event")
    ref_loss, loss = ref["progress"]["loss"], job["progress"]["loss"]
    ref_steps = int(ref["progress"]["training_step"])
    steps = int(job["progress"]["training_step"])
    log(f"  uninterrupted: {ref_steps} steps, final loss {ref_loss:.6f}; killed + resumed: "
        f"{steps} steps, final loss {loss:.6f}")
    if steps != ref_steps or abs(ref_loss - loss) > 1e-6:
        fail("the resumed run differs from the uninterrupted one")
    ref_w = open(os.path.join(ref["model_dir"], "model.safetensors"), "rb").read()
    run_w = open(os.path.join(job["model_dir"], "model.safetensors"), "rb").read()
    if ref_w != run_w:
        fail("final weights differ from the uninterrupted run")
    log("  final weights byte-identical to the uninterrupted run")
    c.stop()
    log("kill-trainer: PASS")


def hold_port(port=0):
    """A socket listening on 127.0.0.1:port (0: a free one), as another
    process holding a trainer's store port would."""
    held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    held.bind(("127.0.0.1", port))
    held.listen()
    return held


def scenario_store_port_taken():
    log("store-port-taken: a trainer's c10d store port held by another process")
    c = Cluster("store-port-taken")
    c.start_coordinator()
    held = hold_port()
    port = held.getsockname()[1]
    try:
        c.local.add_trainer("trainer-x", store_port=port)
        fail("a trainer started although its store port was taken")
    except DaemonStartError as error:
        text = str(error)
        want = f"--store_address 127.0.0.1:{port}: cannot listen on 127.0.0.1:{port}"
        if want not in text or "in use" not in text:
            fail(f"start-up error does not name the taken address ({want!r}):\n{text}")
        log(f"  trainer with a taken store port refused to start: "
            f"{next(line for line in text.splitlines() if want in line).strip()}")
    held.close()

    c.start_scorer("scorer-a")
    for name in ("trainer-a", "trainer-b"):
        # A short rendezvous timeout: rank 1 gives up on the port's holder
        # (which accepts but never answers) in seconds, not minutes.
        c.scorers.append(c._started(lambda name=name: c.local.add_trainer(
            name, args=["--rendezvous_timeout_ms=5000"])))
    holders = [hold_port(c.local.store_ports[n]) for n in ("trainer-a", "trainer-b")]
    started = time.time()
    job_id = submit(c, train_spec(c, os.path.join(c.work, "out")))
    job = wait_state(c, job_id, ("SUCCEEDED", "FAILED", "CANCELLED"), timeout_s=180)
    reason = job.get("reason", "")
    if (job["state"] != "FAILED" or "cannot host the job's rendezvous store" not in reason
            or "in use" not in reason):
        c.dump_logs()
        fail(f"job {job['state']} ({reason!r}); want FAILED naming the taken store port")
    log(f"  job FAILED after {time.time() - started:.0f} s: {reason}")
    for h in holders:
        h.close()
    c.stop()
    log("store-port-taken: PASS")


def scenario_local_vs_cluster():
    log("local-vs-cluster: one spec through the cluster and through `cluedrop train --local`")
    c = Cluster("local-vs-cluster")
    c.start_coordinator()
    c.start_scorer("scorer-a")
    c.start_trainer("trainer-a")
    c.start_trainer("trainer-b")
    spec = train_spec(c, os.path.join(c.work, "cluster-out"))
    job_id = submit(c, spec)
    job = finished_training(c, job_id)
    scores = os.path.join(c.work, "scores.jsonl")
    c.cli("results", job_id, "--output", scores)
    c.stop()
    # The same spec file, its scores, and nothing else: --ranks and
    # --shard_size come from the spec (training.world_size,
    # corpus.shard_size_docs), defaults from jobspec/ as on the coordinator.
    local_dir = os.path.join(c.work, "local-out")
    proc = c.cli("train", spec, "--local", "--scores", scores, "--output_dir", local_dir)
    log(f"  cluster job {job_id}: {job['progress']['training_step']} steps; "
        f"local: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else '?'}")
    cluster_weights = os.path.join(job["model_dir"], "model.safetensors")
    local_model = os.path.join(local_dir, os.path.relpath(job["model_dir"],
                                                          os.path.join(c.work, "cluster-out")))
    local_weights = os.path.join(local_model, "model.safetensors")
    if not os.path.exists(local_weights):
        fail(f"--local wrote no {local_weights}: {proc.stderr[-2000:]}")
    a = open(cluster_weights, "rb").read()
    b = open(local_weights, "rb").read()
    if a != b:
        fail(f"model.safetensors differ: cluster {len(a)} bytes, local {len(b)} bytes")
    log(f"  model.safetensors byte-identical ({len(a)} bytes)")
    log("local-vs-cluster: PASS")


SCENARIOS = {"train": scenario_train, "kill-trainer": scenario_kill_trainer,
             "e2e": scenario_e2e, "kill-coordinator": scenario_kill_coordinator,
             "kill-scorer": scenario_kill_scorer, "bad-input": scenario_bad_input,
             "local-vs-cluster": scenario_local_vs_cluster,
             "store-port-taken": scenario_store_port_taken}


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--paper-data", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    ARGS = ap.parse_args()
    for key in ("bin", "fixtures", "paper_data", "work"):
        setattr(ARGS, key, os.path.abspath(getattr(ARGS, key)))
    for name in ("llama3", "smollm"):
        if not os.path.isdir(os.path.join(ARGS.fixtures, name, "model")):
            fail(f"{ARGS.fixtures}/{name}/model missing (run oracle.model_fixtures first)")
    for name in ARGS.scenario or list(SCENARIOS):
        SCENARIOS[name]()
    log("PASS")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""kill -9 of the coordinator during SubmitJob (issue 18): a submit of a
large corpus (--docs documents) is running when the coordinator is
SIGKILLed at a random moment; it is restarted on the same data directory.
After each trial the job of that submit's request id must be wholly present
(state.db holds every shard row and every document, the job's progress says
so) or wholly absent, and never twice (the CLI's retries carry the same
request id).

Usage: submit_kill_test.py --bin DIR --work DIR [--trials 8] [--docs 60000] [--seed 1]
"""
import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import time

from cluedrop_local import LocalCluster
from cluedrop_testing import dump_logs, fail, log, on_failure


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--docs", type=int, default=60000)
    ap.add_argument("--shard-size", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    started = time.time()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    corpus = os.path.join(args.work, "corpus.jsonl")
    with open(corpus, "w") as f:
        for i in range(args.docs):
            f.write(json.dumps({"id": f"d{i}", "text": f"Person {i} was born in city {i % 97}."})
                    + "\n")
    spec = os.path.join(args.work, "job.yaml")
    with open(spec, "w") as f:
        f.write(f"corpus: {{paths: [{corpus}], shard_size_docs: {args.shard_size}}}\n"
                "reference_models: {large: {checkpoint_dir: /none/l}, small: {checkpoint_dir: "
                "/none/s}}\n")
    shards = -(-args.docs // args.shard_size)
    cluster = LocalCluster(args.bin, os.path.join(args.work, "cluster"), scorers=0, trainers=0)
    on_failure(lambda: dump_logs(cluster.log_paths(), chars=2000))
    on_failure(cluster.stop)
    cluster.start()
    # How long one submit takes undisturbed (the kill moments are drawn in it).
    t0 = time.time()
    ok = cluster.cli("submit", spec, "--request_id", "warm-up", timeout=300)
    if ok.returncode != 0:
        fail(f"submit: {ok.stderr}")
    submit_s = time.time() - t0
    log(f"corpus {args.docs} documents in {shards} shards; an undisturbed submit takes "
        f"{submit_s:.2f} s")
    outcomes = {"present": 0, "absent": 0}
    for trial in range(args.trials):
        request_id = f"trial-{args.seed}-{trial}"
        proc = subprocess.Popen([cluster.binary("cluedrop"), "submit", spec, "--request_id",
                                 request_id, "--timeout_s=60"], env=cluster.cli_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        delay = rng.uniform(0.05, max(0.1, submit_s))
        time.sleep(delay)
        cluster.coordinator.kill9()
        time.sleep(0.3)
        cluster.coordinator.restart()
        proc.communicate(timeout=120)  # its retries may reach the new coordinator
        db = sqlite3.connect(f"file:{cluster.data_dir}/state.db?mode=ro", uri=True, timeout=10)
        try:
            jobs = db.execute("SELECT id FROM jobs WHERE request_id = ?", (request_id,)).fetchall()
            if len(jobs) > 1:
                fail(f"trial {trial}: {len(jobs)} jobs for one request id")
            if jobs:
                job_id = jobs[0][0]
                rows, docs = db.execute("SELECT COUNT(*), SUM(doc_count) FROM shards WHERE "
                                        "job_id = ?", (job_id,)).fetchone()
                if rows != shards or docs != args.docs:
                    fail(f"trial {trial}: job {job_id} has {rows} shard rows and {docs} "
                         f"documents, want {shards} and {args.docs} (a partial submit)")
                status = json.loads(cluster.cli("status", job_id, "--json").stdout)
                progress = status["progress"]
                if int(progress["documents_total"]) != args.docs or \
                        progress["shards_total"] != shards:
                    fail(f"trial {trial}: job progress {progress}")
                outcomes["present"] += 1
            else:
                outcomes["absent"] += 1
        finally:
            db.close()
        log(f"trial {trial}: SIGKILL {delay:.2f} s into the submit -> "
            f"{'present, whole' if jobs else 'absent'}")
    cluster.stop()
    log(f"kill -9 during SubmitJob: {args.trials} trials, {outcomes['present']} whole, "
        f"{outcomes['absent']} absent, none partial or doubled ({time.time() - started:.1f} s)")


if __name__ == "__main__":
    main()

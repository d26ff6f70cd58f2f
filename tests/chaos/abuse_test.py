#!/usr/bin/env python3
"""gRPC abuse of the real coordinator (issue 18): random bytes as the request
of each of its 15 methods (with credentials of the right role, so the bytes
reach the parsers), a message over --max_message_bytes, 1,000 idle WatchJob
streams, and more LeaseShard long polls than --max_long_polls. The
coordinator must stay up, answer every call with a status (never crash),
keep its RSS under a bound (--rss-limit-mb, default 512), refuse the extra
long polls RESOURCE_EXHAUSTED naming the limit, and answer health checks
within 100 ms throughout.

Usage: abuse_test.py --bin DIR --paper-data DIR --work DIR [--seed 1]
"""
import argparse
import collections
import os
import random
import shutil
import threading
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cluedrop_local import LocalCluster
from cluedrop_testing import dump_logs, fail, log, on_failure
from cluedrop_testing.job_service_pb import lease_request, register_request, watch_request, worker_id

METHODS = {
    "cluedrop.v1.JobService": (("SubmitJob", "uu"), ("GetJob", "uu"), ("ListJobs", "uu"),
                               ("CancelJob", "uu"), ("WatchJob", "us")),
    "cluedrop.v1.WorkService": (("RegisterWorker", "uu"), ("Heartbeat", "uu"),
                                ("LeaseShard", "uu"), ("CompleteShard", "su"),
                                ("FailShard", "uu")),
    "cluedrop.v1.TrainService": (("JoinTraining", "uu"), ("StreamShards", "us"),
                                 ("ReportProgress", "uu"), ("ReportEvaluation", "uu")),
}
ROLE = {"cluedrop.v1.JobService": "admin", "cluedrop.v1.WorkService": "scorer",
        "cluedrop.v1.TrainService": "trainer"}
# Codes a bad request may get; UNKNOWN / INTERNAL / UNIMPLEMENTED would mean
# an unhandled path, UNAVAILABLE a dead server.
ACCEPTABLE = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
              grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.PERMISSION_DENIED,
              grpc.StatusCode.OUT_OF_RANGE, grpc.StatusCode.DEADLINE_EXCEEDED,
              grpc.StatusCode.CANCELLED, grpc.StatusCode.RESOURCE_EXHAUSTED,
              grpc.StatusCode.ABORTED}


# Bytes that do not deserialize as the request message get INVALID_ARGUMENT
# from runtime/request_parse_interceptor (gRPC itself answers a bare
# INTERNAL, which this test counts as a failure).
PARSE_ERROR = "do not parse as its request message"


def identity(x):
    return x


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def threads(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--paper-data", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-method", type=int, default=200)
    ap.add_argument("--rss-limit-mb", type=float, default=512)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    started = time.time()
    shutil.rmtree(args.work, ignore_errors=True)
    cluster = LocalCluster(args.bin, args.work, scorers=0, trainers=0,
                           coordinator_args=["--max_long_polls=256"])
    on_failure(lambda: dump_logs(cluster.log_paths(), chars=3000))
    on_failure(cluster.stop)
    cluster.start()
    pid = cluster.coordinator.process.pid
    creds = cluster.credentials
    token = {role: open(creds.token_file(role)).read().strip() for role in creds.tokens}
    channel = grpc.insecure_channel(cluster.address, options=[
        ("grpc.max_send_message_length", 100 << 20), ("grpc.max_receive_message_length", 100 << 20)])
    health = health_pb2_grpc.HealthStub(channel)
    worst_health = [0.0]

    def check_health(what):
        t0 = time.perf_counter()
        reply = health.Check(health_pb2.HealthCheckRequest(), timeout=5)
        ms = (time.perf_counter() - t0) * 1000
        worst_health[0] = max(worst_health[0], ms)
        if reply.status != health_pb2.HealthCheckResponse.SERVING or ms > 100:
            fail(f"health {reply.status} in {ms:.0f} ms {what}")
        rss = rss_mb(pid)
        if rss > args.rss_limit_mb:
            fail(f"coordinator RSS {rss:.0f} MB > {args.rss_limit_mb} MB {what}")
        return ms, rss

    log(f"coordinator up: RSS {rss_mb(pid):.0f} MB, {threads(pid)} threads")

    # 1. Random bytes to every method.
    codes = collections.Counter()
    for service, methods in METHODS.items():
        metadata = (("authorization", "Bearer " + token[ROLE[service]]),)
        for name, kind in methods:
            path = f"/{service}/{name}"
            for _ in range(args.per_method):
                body = rng.randbytes(rng.choice((0, 1, 7, 64, 512, 4096)))
                details = ""
                try:
                    if kind == "uu":
                        channel.unary_unary(path, identity, identity)(
                            body, metadata=metadata, timeout=2)
                    elif kind == "us":
                        for _ in channel.unary_stream(path, identity, identity)(
                                body, metadata=metadata, timeout=1):
                            pass
                    else:
                        channel.stream_unary(path, identity, identity)(
                            iter([body, rng.randbytes(64)]), metadata=metadata, timeout=2)
                    code = grpc.StatusCode.OK
                except grpc.RpcError as e:
                    code, details = e.code(), e.details()
                    if code == grpc.StatusCode.INVALID_ARGUMENT and PARSE_ERROR in details:
                        code = "INVALID_ARGUMENT (unparsable)"
                name_of = code if isinstance(code, str) else code.name
                codes[(name, name_of)] += 1
                if code == "INVALID_ARGUMENT (unparsable)":
                    pass
                elif code not in ACCEPTABLE:
                    fail(f"{path} with {len(body)} random bytes: {code.name}: {details}")
            check_health(f"after random bytes to {name}")
    total = sum(codes.values())
    summary = collections.Counter()
    for (_, code), n in codes.items():
        summary[code] += n
    ms, rss = check_health("after the random requests")
    log(f"1. {total} random requests to 14 methods: {dict(summary)}; still SERVING "
        f"(health {ms:.1f} ms), RSS {rss:.0f} MB")

    # 2. A message over --max_message_bytes (64 MiB).
    try:
        channel.unary_unary("/cluedrop.v1.JobService/SubmitJob", identity, identity)(
            b"\x0a" + b"x" * (70 << 20), metadata=(("authorization", "Bearer " + token["admin"]),),
            timeout=30)
        fail("a 70 MiB SubmitJob was accepted")
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
            fail(f"70 MiB message: {e.code().name}, want RESOURCE_EXHAUSTED")
    ms, rss = check_health("after the oversized message")
    log(f"2. a 70 MiB message: RESOURCE_EXHAUSTED; health {ms:.1f} ms, RSS {rss:.0f} MB")

    # 3. 1,000 idle WatchJob streams on a real job.
    spec = os.path.join(args.work, "job.yaml")
    with open(spec, "w") as f:
        f.write(f"corpus: {{paths: [{args.paper_data}/biography_synthetic.csv], format: csv}}\n"
                "reference_models: {large: {checkpoint_dir: /none/l}, small: {checkpoint_dir: "
                "/none/s}}\n")
    job_id = cluster.cli("submit", spec).stdout.strip()
    if not job_id.startswith("job-"):
        fail(f"submit printed {job_id!r}")
    watches = []
    watch = channel.unary_stream("/cluedrop.v1.JobService/WatchJob", identity, identity)
    for _ in range(1000):
        watches.append(watch(watch_request(job_id), timeout=120,
                             metadata=(("authorization", "Bearer " + token["submitter"]),)))
    # Each stream delivers the job's stored events first: read one from each.
    for w in watches:
        next(w)
    ms_list = [check_health("with 1,000 watch streams")[0] for _ in range(20)]
    rss, n_threads = rss_mb(pid), threads(pid)
    log(f"3. 1,000 open WatchJob streams: health max {max(ms_list):.1f} ms over 20 checks, RSS "
        f"{rss:.0f} MB, {n_threads} threads")
    for w in watches:
        w.cancel()

    # 4. More long polls than --max_long_polls (256).
    lease = channel.unary_unary("/cluedrop.v1.WorkService/LeaseShard", identity, identity)
    register = channel.unary_unary("/cluedrop.v1.WorkService/RegisterWorker", identity, identity)
    scorer_md = (("authorization", "Bearer " + token["scorer"]),)
    # A job nobody scores keeps every poll waiting: cancel the one above.
    cluster.cli("cancel", job_id)
    wid = worker_id(register(register_request("abuser"), metadata=scorer_md, timeout=5))
    results = collections.Counter()
    lock = threading.Lock()

    def poll():
        try:
            lease(lease_request(wid, 4000), metadata=scorer_md, timeout=10)
            code = "OK"
        except grpc.RpcError as e:
            code = e.code().name
            if code == "RESOURCE_EXHAUSTED" and "--max_long_polls=256" not in e.details():
                code = "RESOURCE_EXHAUSTED without the flag: " + e.details()
        with lock:
            results[code] += 1

    pollers = [threading.Thread(target=poll) for _ in range(400)]
    for t in pollers:
        t.start()
    time.sleep(1.5)
    ms, rss = check_health("with 400 long polls")
    n_threads = threads(pid)
    for t in pollers:
        t.join()
    if results.get("RESOURCE_EXHAUSTED", 0) < 100 or results.get("OK", 0) < 200 or \
            set(results) - {"OK", "RESOURCE_EXHAUSTED"}:
        fail(f"400 long polls against a cap of 256: {dict(results)}")
    log(f"4. 400 LeaseShard long polls, cap 256: {dict(results)}; meanwhile health {ms:.1f} ms, "
        f"RSS {rss:.0f} MB, {n_threads} threads")
    ms, rss = check_health("at the end")
    if cluster.coordinator.process.poll() is not None:
        fail("the coordinator exited")
    cluster.stop()
    log(f"abuse: PASS; worst health check {worst_health[0]:.1f} ms, final RSS {rss:.0f} MB "
        f"(bound {args.rss_limit_mb:.0f} MB) ({time.time() - started:.1f} s)")


if __name__ == "__main__":
    main()

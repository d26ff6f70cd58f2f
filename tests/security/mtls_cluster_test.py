#!/usr/bin/env python3
"""The whole cluster over mutual TLS with certificates made here
(docs/security.md): coordinator, 2 scorers, 2 trainer ranks and the CLI each
prove their identity and role with a client certificate (CN = identity,
OU = role), and a score + train + evaluate job on the paper's biographies
SUCCEEDS. Then the refusals and a certificate rotation:

  - a plaintext client, a client certificate from another CA and an expired
    one are refused at the handshake (the CLI exits 1, UNAVAILABLE);
  - a valid certificate without the role (the scorer's, on JobService) is
    PERMISSION_DENIED naming the role;
  - another submitter's certificate does not see the job (NOT_FOUND);
  - the coordinator's certificate is replaced on disk: new connections get
    the new one within --tls_refresh_s, without a restart, and the CLI keeps
    working;
  - a scorer's client certificate is replaced on disk: a scorer started with
    one the coordinator does not trust registers, under the new
    certificate's identity, once a valid one is written, without a restart.

Usage: mtls_cluster_test.py --bin DIR --fixtures DIR/oracle/models --paper-data DIR --work DIR
"""
import argparse
import json
import os
import shutil
import time

from cluedrop_local import LocalCluster
from cluedrop_testing import dump_logs, fail, log, on_failure
from cluedrop_testing.certs import Cert, CertAuthority, served_serial
from cluedrop_testing.specs import add_cluster_args, write_train_job


def tls_args(prefix, ca, cert):
    """A worker's coordinator-TLS flags."""
    return [f"--{prefix}tls", f"--{prefix}tls_ca_file={ca}", f"--{prefix}tls_cert_file={cert.cert}",
            f"--{prefix}tls_key_file={cert.key}"]


def cli_tls(ca, cert):
    return ["--tls_ca", ca, "--tls_cert", cert.cert, "--tls_key", cert.key]


def main():
    ap = argparse.ArgumentParser()
    add_cluster_args(ap)
    args = ap.parse_args()
    started = time.time()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    certs = os.path.join(args.work, "certs")
    ca = CertAuthority.create(certs, "cluedrop-test-ca")
    rogue = CertAuthority.create(certs, "rogue-ca")
    server = ca.issue("server", "localhost", server=True)
    scorer = ca.issue("scorer", "scorer", roles=["scorer"])
    trainer = ca.issue("trainer", "trainer", roles=["trainer"])
    alice = ca.issue("alice", "alice", roles=["submitter"])
    bob = ca.issue("bob", "bob", roles=["submitter"])
    expired = ca.issue("expired", "alice", roles=["submitter"], expired=True)
    forged = rogue.issue("forged", "alice", roles=["submitter", "admin"])
    # The served files: rotation replaces them in place.
    live_cert, live_key = os.path.join(certs, "live.pem"), os.path.join(certs, "live.key")
    shutil.copy(server.cert, live_cert)
    shutil.copy(server.key, live_key)
    os.chmod(live_key, 0o600)
    log(f"certificates: CA, server (localhost, 127.0.0.1), scorer, trainer, alice, bob, "
        f"expired, rogue-CA ({time.time() - started:.1f} s)")

    cluster = LocalCluster(
        args.bin, os.path.join(args.work, "cluster"), scorers=2, trainers=2, auth="external",
        coordinator_args=[f"--tls_cert_file={live_cert}", f"--tls_key_file={live_key}",
                          f"--tls_client_ca_file={ca.cert}", "--tls_refresh_s=1",
                          "--heartbeat_interval_ms=500", "--retry_backoff_ms=200"],
        scorer_args=[*tls_args("coordinator_", ca.cert, scorer), "--lease_wait_ms=1000"],
        trainer_args=[*tls_args("coordinator_", ca.cert, trainer), "--report_every_steps=2"],
        scorer_threads=1, trainer_threads=1, ready_timeout_s=60)
    on_failure(lambda: dump_logs(cluster.log_paths(), chars=3000))
    on_failure(cluster.stop)
    cluster.start()
    log(f"cluster up over mTLS: coordinator {cluster.address}, 2 scorers, 2 trainer ranks "
        f"({time.time() - started:.1f} s)")
    coordinator_log = open(cluster.coordinator.log_path).read()
    if "client certificates (CN = identity, OU = role)" not in coordinator_log:
        fail(f"the coordinator does not say how callers authenticate: {coordinator_log[-800:]}")

    def cli(cert, *argv, timeout=120):
        return cluster.cli(*argv, *cli_tls(ca.cert, cert), "--timeout_s=10", timeout=timeout)

    # The job.
    spec = write_train_job(args.work, args.paper_data, args.fixtures, name="mtls", evaluate=True)
    submitted = cli(alice, "submit", spec)
    job_id = submitted.stdout.strip()
    if submitted.returncode != 0 or not job_id.startswith("job-"):
        fail(f"submit over mTLS: exit {submitted.returncode}: {submitted.stdout} {submitted.stderr}")
    log(f"$ cluedrop submit (alice's certificate) -> {job_id}")
    deadline = time.time() + 240
    while True:
        job = json.loads(cli(alice, "status", job_id, "--json").stdout)
        if job["state"] in ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"):
            break
        if time.time() > deadline:
            fail(f"job not finished in 240 s: {job['state']}")
        time.sleep(1)
    if job["state"] != "JOB_STATE_SUCCEEDED":
        fail(f"job {job['state']}: {job.get('reason')}")
    if job.get("owner") != "alice":
        fail(f"job owner {job.get('owner')!r}, want 'alice'")
    overall = [f for f in job["evaluations"][-1]["fields"] if f["field"] == "overall"]
    log(f"job SUCCEEDED over mTLS: {job['progress']['training_step']} steps, loss "
        f"{job['progress']['loss']:.3f}, evaluation {overall[0]['questions']} questions, owner "
        f"{job['owner']} ({time.time() - started:.1f} s)")
    events = cli(alice, "watch", job_id).stdout
    for want in ("joined as rank 0 of 2", "joined as rank 1 of 2"):
        if want not in events:
            fail(f"watch lacks {want!r}")

    # `cluedrop results` over mTLS: the TLS files imply --tls for TrainService too.
    results = os.path.join(args.work, "results.jsonl")
    got = cli(alice, "results", job_id, "--output", results)
    if got.returncode != 0:
        fail(f"results over mTLS: exit {got.returncode}: {got.stderr[-600:]}")
    with open(results) as f:
        documents = sum(1 for _ in f)
    if documents != 20:
        fail(f"results over mTLS: {documents} documents, want 20")
    log(f"$ cluedrop results (alice's certificate, no --tls) -> {documents} documents")

    # Refusals.
    def refused(name, proc, code, text):
        out = proc.stdout + proc.stderr
        if proc.returncode == 0 or code not in out or text not in out:
            fail(f"{name}: exit {proc.returncode}, want {code} with {text!r}: {out[-600:]}")
        log(f"  {name}: exit {proc.returncode}, {code}")

    plain = cluster.cli("list", "--timeout_s=5", timeout=60)
    refused("plaintext client", plain, "UNAVAILABLE", "")
    refused("certificate from another CA", cli(forged, "list", "--json"), "UNAVAILABLE", "")
    refused("expired certificate", cli(expired, "list", "--json"), "UNAVAILABLE", "")
    refused("valid certificate, wrong role", cli(scorer, "list", "--json"), "PERMISSION_DENIED",
            "JobService needs role submitter; identity scorer (certificate) has scorer")
    refused("another submitter", cli(bob, "status", job_id), "NOT_FOUND", f"no job {job_id}")
    listed = json.loads(cli(bob, "list", "--json").stdout or "{}")
    if listed.get("jobs"):
        fail(f"bob lists alice's jobs: {listed}")
    log("  another submitter lists no jobs")

    # The probe command the Kubernetes mTLS component runs in the coordinator's pod.
    probe = ["health", f"--address={cluster.address}", "--tls", f"--tls_ca_file={ca.cert}"]
    with_cert = cluster.cli(*probe, f"--tls_cert_file={server.cert}",
                            f"--tls_key_file={server.key}", timeout=30)
    without = cluster.cli(*probe, timeout=30)
    if with_cert.returncode != 0 or without.returncode == 0:
        fail(f"cluedrop health over mTLS: exit {with_cert.returncode} with a client certificate "
             f"(want 0), {without.returncode} without (want 1): {with_cert.stderr} {without.stderr}")
    log("  cluedrop health --tls_cert_file: SERVING; without a client certificate: refused")

    # Rotation: a new server certificate on disk is served without a restart.
    before = served_serial(cluster.address, ca.cert, alice)
    rotated = ca.issue("server-2", "localhost", server=True)
    shutil.copy(rotated.key, live_key + ".new")
    shutil.copy(rotated.cert, live_cert + ".new")
    os.replace(live_key + ".new", live_key)
    os.replace(live_cert + ".new", live_cert)
    deadline = time.time() + 15
    after = before
    while after == before and time.time() < deadline:
        time.sleep(0.5)
        after = served_serial(cluster.address, ca.cert, alice)
    if after == before:
        fail(f"still serving certificate {before} 15 s after rotation")
    pid = cluster.coordinator.process.pid
    again = cli(alice, "status", job_id, "--json")
    if again.returncode != 0 or cluster.coordinator.process.poll() is not None:
        fail(f"after rotation: exit {again.returncode}: {again.stderr}")
    log(f"rotation: served serial {before} -> {after} without a restart (pid {pid}); the CLI "
        f"still connects")
    # Client rotation: the scorer's certificate file is re-read too.
    live_scorer = Cert(cert=os.path.join(certs, "scorer-live.pem"),
                       key=os.path.join(certs, "scorer-live.key"))
    untrusted = rogue.issue("scorer-untrusted", "scorer-rot", roles=["scorer"])
    shutil.copy(untrusted.cert, live_scorer.cert)
    shutil.copy(untrusted.key, live_scorer.key)
    os.chmod(live_scorer.key, 0o600)
    rotating = cluster.add_scorer("scorer-rot", args=[
        *tls_args("coordinator_", ca.cert, live_scorer), "--tls_refresh_s=1"])
    time.sleep(4)
    if "registered as" in open(rotating.log_path).read():
        fail("a scorer with a certificate from another CA registered")
    renewed = ca.issue("scorer-renewed", "scorer-rot", roles=["scorer"])
    shutil.copy(renewed.key, live_scorer.key + ".new")
    shutil.copy(renewed.cert, live_scorer.cert + ".new")
    os.replace(live_scorer.key + ".new", live_scorer.key)
    os.replace(live_scorer.cert + ".new", live_scorer.cert)
    rotated_at = time.time()
    while "registered as" not in open(rotating.log_path).read():
        if time.time() - rotated_at > 40 or rotating.process.poll() is not None:
            fail(f"the scorer did not register within 40 s of its certificate's renewal: "
                 f"{open(rotating.log_path).read()[-1500:]}")
        time.sleep(0.5)
    log(f"client rotation: scorer-rot refused with a rogue-CA certificate, registered "
        f"{time.time() - rotated_at:.1f} s after the file was replaced by a valid one "
        f"(pid {rotating.process.pid}, no restart)")
    cluster.stop()
    log(f"mtls cluster: PASS ({time.time() - started:.1f} s)")


if __name__ == "__main__":
    main()

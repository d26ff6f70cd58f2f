#!/usr/bin/env python3
"""A whole job from the container images, started from the rendered
Kubernetes manifests (deploy/k8s/overlays/cpu-dev) on podman.

  1. `kubectl kustomize` renders the cpu-dev overlay; its pod templates run
     as podman containers (cluedrop_testing.podman_kube: command, args and
     $(VAR) expansion, env from the ConfigMap, the Secret as a read-only
     file, users, read-only root filesystems, dropped capabilities, volumes,
     probes; Services as DNS names on one podman network). The coordinator
     StatefulSet (1 pod, its data volume from the volumeClaimTemplate), the
     scorer Deployment (1 replica, as cpu-dev sets) and the trainer
     StatefulSet scaled to 2 ranks (Gloo over the headless Service's pod
     names). Each container's startup/readiness/liveness probes pass, and
     the image's HEALTHCHECK reports healthy.
  2. A real Prometheus (this machine's /usr/bin/prometheus, in a container
     on the same network) runs deploy/prometheus/prometheus.yml as shipped
     (DNS discovery of the headless Services) with 1 s intervals: every
     target up, three jobs.
  3. The CLI from the image (another container, the Secret's token)
     submits a train job on the paper's biographies with the tiny oracle
     checkpoints on the shared volume; once shards are being scored the
     coordinator container is killed (SIGKILL) and started again on the
     same volume; the job SUCCEEDS, state.db on the volume says every
     shard was scored exactly once (CRC-32C of each payload verified here),
     and `cluedrop results` from the container equals the host build's
     `cluedrop score` on the same input.
  4. Prints which manifest objects and fields the started containers used,
     and which objects did not run (and why).

Usage: container_e2e_test.py --image cluedrop:0.1.0-cpu --host-bin DIR
         --fixtures DIR/oracle/models --paper-data DIR --work DIR [--keep]
"""
import argparse
import base64
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request

import yaml

from cluedrop_testing import fail, log, on_failure, read_shard_file
from cluedrop_testing.podman_kube import KubeOnPodman, podman, render
from cluedrop_testing.scored_jsonl import compare_scored

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OVERLAY = os.path.join(ROOT, "deploy", "k8s", "overlays", "cpu-dev")
PREFIX = "cluedrop-e2e"
HELPER = "docker.io/library/debian:12-slim"


class Cli:
    """`cluedrop ...` from the image, as a container on the network, with the
    cpu-dev submitter token and the shared volume read-only at /shared."""

    def __init__(self, kube, image, token, out_dir):
        self.kube, self.image, self.token, self.out_dir = kube, image, token, out_dir

    def __call__(self, *args, check=True, timeout=300):
        proc = podman("run", "--rm", "--pull=never", "--no-healthcheck",
                      "--network", self.kube.network,
                      "--user", "10001:10001", "--read-only", "--cap-drop=all",
                      "-v", f"{PREFIX}-cluedrop-shared:/shared:ro",
                      "-v", f"{self.out_dir}:/out",
                      "--env", "CLUEDROP_COORDINATOR=cluedrop-coordinator:50051",
                      "--env", f"CLUEDROP_TOKEN={self.token}",
                      self.image, "cluedrop", *args, check=False, timeout=timeout)
        if check and proc.returncode != 0:
            fail(f"cluedrop {' '.join(args)} (container): exit {proc.returncode}\n"
                 f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        return proc

    def status(self, job_id):
        job = json.loads(self(*("status", job_id, "--json")).stdout)
        job["state"] = job["state"].replace("JOB_STATE_", "")
        return job


def populate_shared(kube, args, staging):
    """The shared PVC's volume: the tiny checkpoints, a 20-person corpus, the
    prompts and the few-shot pool, owned by the pods' fsGroup."""
    os.makedirs(staging, exist_ok=True)
    for name in ("llama3", "smollm"):
        shutil.copytree(os.path.join(args.fixtures, name, "model"),
                        os.path.join(staging, "models", name), dirs_exist_ok=True)
    with open(os.path.join(args.paper_data, "biography_synthetic.csv")) as f:
        lines = f.read().splitlines()
    os.makedirs(os.path.join(staging, "data"), exist_ok=True)
    with open(os.path.join(staging, "data", "bio20.csv"), "w") as f:
        f.write("\n".join(lines[:21]) + "\n")
    for name in ("prompts.csv", "biography_real.csv"):
        shutil.copy(os.path.join(args.paper_data, name), os.path.join(staging, "data", name))
    volume = kube.volume("cluedrop-shared", (10001, 10001))
    podman("run", "--rm", "--pull=never", "-v", f"{volume}:/shared", "-v", f"{staging}:/src:ro",
           HELPER, "sh", "-c", "cp -r /src/. /shared/ && mkdir -p /shared/jobs "
           "&& chown -R 10001:10001 /shared")
    return os.path.join(staging, "data", "bio20.csv")


JOB = """name: container-e2e
corpus: {paths: [/shared/data/bio20.csv], format: csv, field_tags: true, shard_size_docs: 2}
reference_models:
  large: {checkpoint_dir: /shared/models/llama3, dtype: float32}
  small: {checkpoint_dir: /shared/models/smollm, dtype: float32}
target_model: {checkpoint_dir: /shared/models/llama3}
augmentation: {mode: contrast, copies: 1, seed: 7}
training: {epochs: 2, batch_size: 4, learning_rate: 0.003, world_size: 2, max_seq_len: 128,
           checkpoint_interval_steps: 4, seed: 1}
evaluation: {prompt_table: /shared/data/prompts.csv,
             fewshot_pool: /shared/data/biography_real.csv, shots: 0, max_new_tokens: 4}
output_dir: /shared/jobs/container-e2e
"""


def start_prometheus(kube, work):
    """Prometheus with deploy/prometheus/prometheus.yml as shipped (DNS
    discovery of the headless Services, the rules file), 1 s intervals."""
    with open(os.path.join(ROOT, "deploy", "prometheus", "prometheus.yml")) as f:
        config = yaml.safe_load(f)
    config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    for job in config["scrape_configs"]:
        for sd in job.get("dns_sd_configs", []):
            sd["refresh_interval"] = "1s"
    prom_dir = os.path.join(work, "prometheus")
    shutil.rmtree(prom_dir, ignore_errors=True)
    shutil.copytree(os.path.join(ROOT, "deploy", "prometheus", "rules"),
                    os.path.join(prom_dir, "rules"))
    with open(os.path.join(prom_dir, "prometheus.yml"), "w") as f:
        yaml.safe_dump(config, f)
    name = f"{PREFIX}-prometheus"
    podman("rm", "-f", name, check=False)
    podman("run", "-d", "--pull=never", "--name", name, "--network", kube.network,
           "--network-alias", "prometheus", "--user", "65534:65534", "--read-only",
           "--tmpfs", "/prometheus:rw,mode=1777",
           "-v", "/usr/bin/prometheus:/bin/prometheus:ro", "-v", f"{prom_dir}:/etc/prometheus:ro",
           HELPER, "/bin/prometheus", "--config.file=/etc/prometheus/prometheus.yml",
           "--storage.tsdb.path=/prometheus", "--web.listen-address=0.0.0.0:9090")
    ip = json.loads(podman("inspect", "--format", "{{json .NetworkSettings.Networks}}",
                           name).stdout)[kube.network]["IPAddress"]
    return name, f"http://{ip}:9090"


def wait_targets(url, want_jobs, want_targets, timeout_s=60):
    deadline = time.time() + timeout_s
    targets = []
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/v1/targets", timeout=2) as r:
                targets = json.load(r)["data"]["activeTargets"]
        except OSError:
            targets = []
        up = [t for t in targets if t["health"] == "up"]
        if len(up) == want_targets == len(targets) and \
                {t["labels"]["job"] for t in up} == want_jobs:
            return targets
        time.sleep(1)
    fail(f"Prometheus targets not all up after {timeout_s} s: "
         f"{[(t['labels'].get('job'), t['scrapeUrl'], t['health'], t.get('lastError')) for t in targets]}")


def check_exactly_once(kube, job_id):
    data = kube.volume_path("data-cluedrop-coordinator-0")
    with sqlite3.connect(f"file:{data}/state.db?mode=ro", uri=True, timeout=10) as db:
        rows = db.execute("SELECT shard_id, state, checksum, payload_key, doc_count, grants "
                          "FROM shards WHERE job_id = ? ORDER BY idx", (job_id,)).fetchall()
    if not rows:
        fail("no shards in the coordinator volume's state.db")
    job_dir = os.path.join(data, "shards", job_id)
    files = sorted(f for f in os.listdir(job_dir) if not f.startswith("."))
    referenced = sorted(f"{key}.shard" for _, _, _, key, _, _ in rows)
    if files != referenced:
        fail(f"shard files {files} != the payloads state.db references {referenced}")
    for shard_id, state, checksum, key, doc_count, _ in rows:
        if state != 2:
            fail(f"shard {shard_id} state {state}, want SCORED (2)")
        count, crc = read_shard_file(os.path.join(job_dir, key + ".shard"))
        if crc != checksum or count != doc_count:
            fail(f"shard {shard_id}: file crc {crc:#x}/{count} docs, state.db "
                 f"{checksum:#x}/{doc_count}")
    grants = sum(r[5] for r in rows)
    log(f"  exactly once: {len(rows)} shards SCORED, one payload each, CRC-32C verified "
        f"({grants} lease grants in all)")
    return len(rows)


def compare_with_host_score(args, results_path, corpus, work):
    direct = os.path.join(work, "direct.jsonl")
    proc = subprocess.run([os.path.join(args.host_bin, "cluedrop"), "score",
                           "--large", f"{args.fixtures}/llama3/model",
                           "--small", f"{args.fixtures}/smollm/model",
                           # The job has a target model: its scores are on
                           # the target's tokens, as --target_tokenizer gives.
                           "--target_tokenizer", f"{args.fixtures}/llama3/model",
                           "--input", corpus, "--output", direct], capture_output=True, text=True)
    if proc.returncode != 0:
        fail(f"host cluedrop score: {proc.stderr[-2000:]}")
    # Offsets are not compared: with --target_tokenizer both sides carry the
    # target's tokens, and the check is on the scores.
    got, worst = compare_scored(results_path, direct,
                                "container cluedrop results vs host cluedrop score",
                                offsets=False)
    log(f"  container `cluedrop results` == host `cluedrop score` for {len(got)} documents "
        f"(max |diff| {worst:.2e})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", required=True, help="local image tag, e.g. cluedrop:0.1.0-cpu")
    ap.add_argument("--host-bin", required=True, help="this build's bin/ (host cluedrop score)")
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--paper-data", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--keep", action="store_true", help="leave the containers and volumes")
    args = ap.parse_args()
    for key in ("host_bin", "fixtures", "paper_data", "work"):
        setattr(args, key, os.path.abspath(getattr(args, key)))
    if shutil.which("podman") is None:
        fail("podman is not installed: run scripts/images first")
    image = args.image if "/" in args.image else f"localhost/{args.image}"
    if podman("image", "exists", image, check=False).returncode != 0:
        fail(f"no image {image}: build it with scripts/images cpu")
    if podman("image", "exists", HELPER, check=False).returncode != 0:
        fail(f"no {HELPER}: scripts/images makes it")
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    out_dir = os.path.join(args.work, "out")
    os.makedirs(out_dir)
    os.chmod(out_dir, 0o777)

    objects = render(OVERLAY)
    images = {o["spec"]["template"]["spec"]["containers"][0]["image"]: image
              for o in objects if o["kind"] in ("Deployment", "StatefulSet")}
    kube = KubeOnPodman(objects, images, PREFIX, args.work, log)
    log(f"container e2e: {args.image}; cpu-dev overlay: "
        f"{', '.join(f'{k} {len(v)}' for k, v in sorted(kube.kinds().items()))}")
    kube.teardown()  # a previous --keep run
    on_failure(lambda: [log(f"--- {p.name}\n{kube.logs(p)[-3000:]}") for p in kube.pods.values()])
    if not args.keep:
        on_failure(kube.teardown)
    kube.create_network()
    token = kube.object("Secret", "cluedrop-submitter-token")
    corpus = populate_shared(kube, args, os.path.join(args.work, "shared"))

    coordinator = kube.start("StatefulSet", "cluedrop-coordinator", 0)
    kube.wait_ready(coordinator)
    scorers = [kube.start("Deployment", "cluedrop-scorer", i,
                          {"CLUEDROP_HEALTH_PORT": "50061"})
               for i in range(kube.object("Deployment", "cluedrop-scorer")["spec"]["replicas"])]
    trainers = [kube.start("StatefulSet", "cluedrop-trainer", i,
                           {"CLUEDROP_HEALTH_PORT": "50071"}) for i in range(2)]
    kube.mark("StatefulSet/cluedrop-trainer", "scaled from the overlay's 1 to 2 ranks")
    for pod in scorers + trainers:
        kube.wait_ready(pod)
    log(f"  probes passed: {', '.join(p.name for p in [coordinator] + scorers + trainers)}")
    for pod in [coordinator] + scorers + trainers:
        ok, detail = kube.healthcheck(pod)
        if not ok:
            fail(f"{pod.name}: HEALTHCHECK: {detail}")
        uid = podman("exec", pod.container, "sh", "-c", "id -u; id -g").stdout.split()
        ro = podman("exec", pod.container, "sh", "-c",
                    "touch /probe-ro 2>/dev/null && echo writable || echo read-only").stdout.strip()
        if uid[0] != "10001" or ro != "read-only":
            fail(f"{pod.name}: uid {uid}, root filesystem {ro}")
    log("  every container: HEALTHCHECK healthy, uid/gid 10001, root filesystem read-only")

    prometheus, prom_url = start_prometheus(kube, args.work)
    if not args.keep:
        on_failure(lambda: podman("rm", "-f", prometheus, check=False))
    targets = wait_targets(prom_url, {"cluedrop-coordinator", "cluedrop-scorer",
                                      "cluedrop-trainer"}, 1 + len(scorers) + len(trainers))
    log(f"  Prometheus: {len(targets)} targets up: "
        f"{', '.join(sorted(t['labels']['job'] + '@' + t['labels']['instance'] for t in targets))}")

    token_value = (token.get("stringData") or {}).get("token")
    if token_value is None:
        token_value = base64.b64decode(token["data"]["token"]).decode()
    cli = Cli(kube, image, token_value, out_dir)
    with open(os.path.join(out_dir, "job.yaml"), "w") as f:
        f.write(JOB)
    denied = Cli(kube, image, "wrong-token", out_dir)("submit", "/out/job.yaml", check=False)
    if denied.returncode == 0 or "PERMISSION_DENIED" not in denied.stderr:
        fail(f"a submit with a wrong token was not refused: {denied.stdout} {denied.stderr}")
    job_id = cli("submit", "/out/job.yaml").stdout.strip()
    if not job_id.startswith("job-"):
        fail(f"submit printed {job_id!r}")
    log(f"  submitted {job_id} from the image's CLI (a wrong token: PERMISSION_DENIED)")

    # Kill -9 the coordinator once scoring is under way.
    deadline = time.time() + 180
    while True:
        job = cli.status(job_id)
        scored = int(job["progress"].get("shards_scored", 0))
        if scored >= 2:
            break
        if job["state"] in ("SUCCEEDED", "FAILED", "CANCELLED") or time.time() > deadline:
            fail(f"job {job['state']} before the kill ({scored} shards scored)")
        time.sleep(0.2)
    kube.kill9(coordinator)
    total = int(job["progress"]["shards_total"])
    log(f"  SIGKILL to the coordinator container with {scored}/{total} shards scored")
    time.sleep(1)
    kube.restart(coordinator)
    kube.wait_ready(coordinator)
    log("  coordinator restarted on the same volume; probes pass again")
    deadline = time.time() + 420
    while True:
        job = cli.status(job_id)
        if job["state"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        if time.time() > deadline:
            fail(f"job still {job['state']} after 420 s: {job['progress']}")
        time.sleep(1)
    if job["state"] != "SUCCEEDED":
        fail(f"job {job['state']}: {job.get('reason')}")
    progress = job["progress"]
    evaluation = (job.get("evaluations") or [{}])[-1].get("fields", [])
    overall = [f for f in evaluation if f["field"] == "overall"]
    log(f"  job {job_id} SUCCEEDED: {progress.get('training_step')} steps, loss "
        f"{progress.get('loss', 0):.3f}, model {job.get('model_dir')}, "
        f"{overall[0]['questions'] if overall else 0} QA questions evaluated")
    if not overall or overall[0]["questions"] != 100:
        fail(f"evaluation: {evaluation}")
    events = cli("watch", job_id).stdout
    for want in ("joined as rank 0 of 2", "joined as rank 1 of 2"):
        if want not in events:
            fail(f"watch output lacks {want!r}")
    shared = kube.volume_path("cluedrop-shared")
    model = os.path.join(shared, "jobs", "container-e2e", os.path.basename(job["model_dir"]),
                         "model.safetensors")
    if not os.path.exists(model):
        fail(f"no exported model at {model}")
    check_exactly_once(kube, job_id)
    cli("results", job_id, "--output", "/out/results.jsonl")
    compare_with_host_score(args, os.path.join(out_dir, "results.jsonl"), corpus, args.work)
    targets = wait_targets(prom_url, {"cluedrop-coordinator", "cluedrop-scorer",
                                      "cluedrop-trainer"}, 1 + len(scorers) + len(trainers))
    with urllib.request.urlopen(f"{prom_url}/api/v1/query?query="
                                "cluedrop_coordinator_jobs%7Bstate%3D%22succeeded%22%7D") as r:
        result = json.load(r)["data"]["result"]
    log(f"  Prometheus after the job: {len(targets)} targets up; jobs{{state=succeeded}} = "
        f"{result[0]['value'][1] if result else 'absent'}")

    log("manifest objects run by containers (what they used):")
    for obj in sorted(kube.exercised):
        log(f"  {obj}:")
        for what in sorted(kube.exercised[obj]):
            log(f"    - {what}")
    not_run = {f"{k}/{n}" for k, names in kube.kinds().items() for n in names} - set(kube.exercised)
    reasons = {"NetworkPolicy": "not enforced by podman's bridge network",
               "PodDisruptionBudget": "an eviction policy; there is no eviction here",
               "ServiceMonitor": "Prometheus Operator object; the same jobs run from "
                                 "deploy/prometheus/prometheus.yml above",
               "PodMonitor": "Prometheus Operator object; the same jobs run from "
                             "deploy/prometheus/prometheus.yml above"}
    log("manifest objects not run:")
    for obj in sorted(not_run):
        log(f"  {obj}: {reasons.get(obj.split('/')[0], 'no container uses it')}")
    if not args.keep:
        podman("rm", "-f", prometheus, check=False)
        kube.teardown()
    log("container e2e: PASS")


if __name__ == "__main__":
    sys.exit(main())

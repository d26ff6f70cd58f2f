#!/usr/bin/env python3
"""A real Prometheus scrapes the real daemons, and every metric that the
dashboards and the alert rules use must be in what it scraped.

  1. cluedrop-coordinator (with a token table, as deployed), one
     cluedrop-scorer (registers with it; needs no model until it gets a lease)
     and cluedrop-trainer (the shell with /metrics) start on loopback with
     port-0 listeners and --ready_file;
  2. deploy/prometheus/prometheus-static.yml becomes the Prometheus config:
     the same job names and rule files, the daemons' ports as targets, 1 s
     scrape and evaluation intervals; /usr/bin/prometheus starts with a temp
     TSDB on a free loopback port;
  3. /api/v1/targets: every target is up;
  4. a little work: a submit without the token (UNAUTHENTICATED, an RPC error
     for the error-rate panel), then a score-only job on the paper's
     biography_synthetic.csv whose checkpoint directories do not exist, so
     the scorer leases its shard and fails it non-retryably and the job FAILS
     (leases, FailShard, shard failures, jobs{state="failed"});
  5. through the HTTP API: jobs{state="failed"} is 1, the scorer counted the
     failed shard, the rules loaded and evaluate without error, and the
     CluedropJobFailed alert fires;
  6. every metric name in the dashboards' PromQL (panels and query variables)
     and in the alert rules is in /api/v1/label/__name__/values (histogram
     series by their _bucket/_sum/_count names), each panel query evaluates
     without error; a renamed metric fails here.

Usage: prometheus_scrape_test.py --bin DIR --prometheus PATH --paper-data DIR [--keep]
"""
import argparse
import glob
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

import yaml

import promql_names  # tests/deploy, next to this script
from cluedrop_local import Credentials, Daemon, DaemonStartError
from cluedrop_testing import dump_logs, fail, free_port, log, on_failure, run

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PROM_DIR = os.path.join(ROOT, "deploy", "prometheus")

DAEMONS = []      # cluedrop daemons (cluedrop_local.Daemon), in start order
PROMETHEUS = []   # the Prometheus server (subprocess.Popen)
LOGS = []


def stop_all():
    """SIGTERM to everything still running (newest first), SIGKILL after 15 s."""
    for process in reversed(PROMETHEUS):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for daemon in reversed(DAEMONS):
        daemon.terminate()
    for process in reversed(PROMETHEUS):
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for daemon in reversed(DAEMONS):
        daemon.stop(grace_s=15)


def start_daemon(binary, args, work, env=None):
    """Starts a cluedrop daemon (its ready file WORK/NAME.ready, its log
    WORK/NAME.log) without waiting for it; wait_ready() does."""
    daemon = Daemon(binary, args, work_dir=work, env=env)
    LOGS.append(daemon.log_path)
    log(f"$ {' '.join(daemon.argv)}")
    DAEMONS.append(daemon)
    daemon.start(wait=False)
    return daemon


def wait_ready(daemon):
    try:
        return daemon.wait_ready()
    except DaemonStartError as error:
        fail(str(error))


def start_prometheus(argv, work):
    log_path = os.path.join(work, "prometheus.log")
    LOGS.append(log_path)
    log(f"$ {' '.join(argv)}")
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT)
    PROMETHEUS.append(process)
    return process


class Api:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"

    def get(self, path, **params):
        url = self.base + path
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.load(response)
        if body.get("status") != "success":
            raise RuntimeError(f"{path}: {body}")
        return body["data"]

    def query(self, expr):
        return self.get("/api/v1/query", query=expr)

    def wait(self, what, check, timeout_s):
        deadline = time.time() + timeout_s
        last = None
        while time.time() < deadline:
            try:
                last = check()
                if last is True:
                    return
            except (OSError, RuntimeError, ValueError) as error:
                last = error
            time.sleep(0.25)
        fail(f"{what}: not after {timeout_s} s (last: {last})")


def prometheus_config(ports, work):
    """deploy/prometheus/prometheus-static.yml with the daemons' ports."""
    with open(os.path.join(PROM_DIR, "prometheus-static.yml")) as f:
        config = yaml.safe_load(f)
    config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    config["rule_files"] = [os.path.join(PROM_DIR, r) for r in config["rule_files"]]
    jobs = {}
    for scrape in config["scrape_configs"]:
        component = scrape["job_name"].replace("cluedrop-", "")
        if component not in ports:
            fail(f"prometheus-static.yml job {scrape['job_name']} is no cluedrop daemon")
        scrape["static_configs"] = [{"targets": [f"127.0.0.1:{ports[component]}"]}]
        jobs[scrape["job_name"]] = ports[component]
    if set(jobs) != {f"cluedrop-{c}" for c in ports}:
        fail(f"prometheus-static.yml scrapes {sorted(jobs)}, want one job per daemon")
    path = os.path.join(work, "prometheus.yml")
    with open(path, "w") as f:
        yaml.safe_dump(config, f)
    return path, jobs


def referenced_metrics():
    """{metric name: [where, ...]} from every dashboard and rule file."""
    refs = {}
    dashboards = sorted(glob.glob(os.path.join(ROOT, "deploy", "grafana", "dashboards", "*.json")))
    rules = sorted(glob.glob(os.path.join(PROM_DIR, "rules", "*.yml")))
    if not dashboards or not rules:
        fail("no dashboards or no rule files under deploy/")
    exprs = []
    for path in dashboards:
        exprs += [(f"{os.path.basename(path)} {w}", e) for w, e in promql_names.dashboard_exprs(path)]
    for path in rules:
        exprs += [(f"{os.path.basename(path)} {w}", e) for w, e in promql_names.rule_exprs(path)]
    for where, expr in exprs:
        names = promql_names.metric_names(expr)
        if not names:
            fail(f"{where}: found no metric name in {expr!r}")
        for name in names:
            refs.setdefault(name, []).append(where)
    return refs, exprs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--prometheus", default="prometheus")
    parser.add_argument("--paper-data", required=True)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    promql_names.self_test()
    on_failure(lambda: dump_logs(LOGS, chars=2500))
    on_failure(stop_all)
    started = time.time()
    work = tempfile.mkdtemp(prefix="cluedrop-scrape-")
    b = lambda name: os.path.join(args.bin, name)  # noqa: E731
    try:
        # 1. the daemons
        creds = Credentials.generate(os.path.join(work, "credentials"))
        coordinator = start_daemon(b("cluedrop-coordinator"), [
            f"--data_dir={os.path.join(work, 'data')}", f"--auth_token_file={creds.table}",
            "--heartbeat_interval_ms=500", "--retry_backoff_ms=100"], work)
        trainer = start_daemon(b("cluedrop-trainer"), [
            "--device=cpu", f"--token_file={creds.token_file('trainer')}"], work)
        coordinator_ports = wait_ready(coordinator)
        address = f"127.0.0.1:{coordinator_ports['grpc_port']}"
        scorer = start_daemon(b("cluedrop-scorer"), [
            f"--coordinator={address}", "--device=cpu", "--name=scrape-test-scorer",
            f"--token_file={creds.token_file('scorer')}", "--lease_wait_ms=500"], work,
            env={"OMP_NUM_THREADS": "1"})
        ports = {"coordinator": coordinator_ports["metrics_port"],
                 "scorer": wait_ready(scorer)["metrics_port"],
                 "trainer": wait_ready(trainer)["metrics_port"]}
        log(f"metrics ports: {ports}  ({time.time() - started:.1f} s)")

        # 2. Prometheus with the deploy config and rules
        config, jobs = prometheus_config(ports, work)
        web_port = free_port()
        prometheus = start_prometheus([
            args.prometheus, f"--config.file={config}",
            f"--storage.tsdb.path={os.path.join(work, 'tsdb')}",
            f"--web.listen-address=127.0.0.1:{web_port}", "--log.level=warn"], work)
        api = Api(web_port)

        def prometheus_ready():
            if prometheus.poll() is not None:
                fail(f"prometheus exited with {prometheus.returncode}")
            with urllib.request.urlopen(f"{api.base}/-/ready", timeout=5) as response:
                return response.status == 200
        api.wait("Prometheus ready", prometheus_ready, 30)

        # 3. every target up
        def targets_up():
            active = api.get("/api/v1/targets", state="active")["activeTargets"]
            health = {t["labels"]["job"]: (t["health"], t.get("lastError")) for t in active}
            if set(health) != set(jobs):
                return f"targets {health}"
            return all(h == "up" for h, _ in health.values()) or f"targets {health}"
        api.wait("every target up", targets_up, 30)
        for target in api.get("/api/v1/targets", state="active")["activeTargets"]:
            log(f"target {target['labels']['job']} {target['scrapeUrl']}: {target['health']}")
        log(f"all targets up  ({time.time() - started:.1f} s)")

        # 4. a little work
        env = dict(os.environ, CLUEDROP_COORDINATOR=address)
        spec = os.path.join(work, "job.yaml")
        with open(spec, "w") as f:
            yaml.safe_dump({
                "name": "scrape-test",
                "corpus": {"paths": [os.path.join(os.path.abspath(args.paper_data),
                                                  "biography_synthetic.csv")],
                           "format": "csv", "field_tags": True},
                "reference_models": {
                    "large": {"checkpoint_dir": os.path.join(work, "no-such-checkpoint-large")},
                    "small": {"checkpoint_dir": os.path.join(work, "no-such-checkpoint-small")}},
            }, f)
        refused = run([b("cluedrop"), "submit", spec], env=env, timeout=60)
        log(f"$ cluedrop submit (no token) -> exit {refused.returncode}: {refused.stderr.strip()}")
        if refused.returncode == 0:
            fail("a submit without the job token was accepted")
        submitted = run([b("cluedrop"), "submit", spec,
                         f"--token_file={creds.token_file('submitter')}"], env=env, timeout=60)
        log(f"$ cluedrop submit --token_file ... -> exit {submitted.returncode}: "
            f"{submitted.stdout.strip()} {submitted.stderr.strip()}")
        if submitted.returncode != 0:
            fail("cluedrop submit failed")

        # 5. the failure, seen through Prometheus
        def value(expr):
            result = api.query(expr)["result"]
            return float(result[0]["value"][1]) if result else None

        def check(expr, want):
            return lambda: value(expr) == want or f"{expr} = {value(expr)}"
        api.wait("the job FAILED", check('cluedrop_coordinator_jobs{state="failed"}', 1.0), 30)
        api.wait("the scorer counted the failed shard",
                 check('cluedrop_scorer_shards_total{result="failed"}', 1.0), 15)
        api.wait("the fatal lease loss is counted",
                 check('cluedrop_coordinator_shard_failures_total{kind="fatal"}', 1.0), 15)
        api.wait("the refused submit is an UNAUTHENTICATED RPC",
                 check('sum(cluedrop_rpc_server_handled_total{method="SubmitJob",code="UNAUTHENTICATED"})', 1.0), 15)
        api.wait("and one unauthenticated refusal",
                 check('cluedrop_coordinator_auth_denied_total{reason="unauthenticated"}', 1.0), 15)
        log(f"job failed as planned  ({time.time() - started:.1f} s)")

        def alert_fires():
            alerts = api.get("/api/v1/alerts")["alerts"]
            names = {(a["labels"]["alertname"], a["state"]) for a in alerts}
            return ("CluedropJobFailed", "firing") in names or f"alerts {sorted(names)}"
        api.wait("CluedropJobFailed fires", alert_fires, 20)
        log("alert CluedropJobFailed is firing")
        rules_seen = 0
        for group in api.get("/api/v1/rules")["groups"]:
            for rule in group["rules"]:
                rules_seen += 1
                if rule.get("health") not in ("ok", "unknown") or rule.get("lastError"):
                    fail(f"rule {rule.get('name')}: health {rule.get('health')}: {rule.get('lastError')}")
        if rules_seen == 0:
            fail("Prometheus loaded no rules")
        log(f"{rules_seen} rules loaded, none in error")

        # 6. every referenced metric exists in the scrape
        scraped = set(api.get("/api/v1/label/__name__/values"))
        refs, exprs = referenced_metrics()
        missing = []
        for name in sorted(refs):
            series = api.get("/api/v1/series", **{"match[]": f'{{__name__="{name}"}}'})
            jobs_with = sorted({s.get("job", "?") for s in series})
            family = promql_names.family(name)
            status = "ok" if name in scraped else "MISSING"
            log(f"{status:7} {name} (family {family}) from {jobs_with}; used by {len(refs[name])} "
                f"expression(s), e.g. {refs[name][0]}")
            if name not in scraped:
                missing.append(f"{name} (used by {', '.join(refs[name])})")
        if missing:
            fail("metrics used by the dashboards / rules but not exported:\n  " + "\n  ".join(missing))
        for where, expr in exprs:
            concrete = expr.replace("$__rate_interval", "1m").replace("$job", ".+")
            try:
                api.query(concrete)
            except (OSError, RuntimeError) as error:
                fail(f"{where}: {concrete!r} does not evaluate: {error}")
        log(f"{len(refs)} metric names from {len(exprs)} expressions all scraped; every "
            f"expression evaluates  ({time.time() - started:.1f} s)")
    finally:
        stop_all()
        if args.keep:
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    log(f"PASS ({time.time() - started:.1f} s)")


if __name__ == "__main__":
    main()

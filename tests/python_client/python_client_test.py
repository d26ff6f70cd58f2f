#!/usr/bin/env python3
"""The Python client (clients/python, docs/python-client.md) against the real
daemons (cluedrop_local.LocalCluster), the tiny oracle checkpoints and the
paper's biographies; every check compares with the `cluedrop` CLI on the
same cluster or with a value fixed by the spec, never with the client itself.

Scenarios (--scenario, one ctest each):
  install      `pip install --no-build-isolation --no-deps --target SITE
               clients/python` (offline); the stubs are generated in SITE, not
               in the source tree; the version is CMakeLists.txt's; every
               service of proto/ is importable; py.typed ships.
  unit         no daemons: CRC-32C (the RFC 3720 check value, byte-wise
               reference), token-file rules, error parsing, spec parsing details.
  e2e          a score-only job (a dict) and a train job (YAML, 2 trainer
               ranks, QA evaluation) submitted from Python, watched to
               SUCCEEDED (sequences 1..N, every event once); results() equal
               `cluedrop results` document for document, score for score;
               status and list_jobs agree with `cluedrop status/list --json`.
  cancel       a QUEUED job (no scorers) cancelled: CANCELLED with the reason,
               wait() raises JobFailedError, a second cancel FAILED_PRECONDITION;
               wait(timeout) on a job that cannot finish raises WaitTimeoutError.
  bad-spec     the coordinator's INVALID_ARGUMENT as SpecError (.code,
               .field, .message exactly "augmentation.alpha: must be in [0,
               1], got 1.3"; several violations); a YAML file's errors carry
               its lines exactly as `cluedrop submit` prints them; client-side
               errors equal the CLI's text and submit nothing.
  spec-parity  every examples/*.yaml (and tricky specs: JSON, camelCase keys,
               full enum names, quoted numbers, labels) submitted by the CLI
               and by Python (file and dict) is stored as the same JobSpec.
  reconnect    SIGKILL and restart of the coordinator while watch() is
               blocked on the stream: it reconnects after the last sequence,
               yields each event once, and ends with SUCCEEDED; the events
               equal a fresh watch from 0.
  credentials  token file, token string and $CLUEDROP_TOKEN_FILE accepted; no
               token refused UNAUTHENTICATED, an unknown one PERMISSION_DENIED
               (docs/security.md; messages as the CLI's), a scorer's token
               PERMISSION_DENIED for a submit; token-file modes and
               contents judged as the CLI judges them; mutual TLS: a client
               certificate accepted, none / a rogue CA's / plaintext refused.
  example      examples/python_client.py run as a script against a cluster
               (address and token from the environment), its job checked.

Usage: python_client_test.py --scenario S --site DIR --source DIR --work DIR
       [--bin DIR --fixtures DIR/oracle/models --paper-data DIR]
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
import traceback

from cluedrop_local import LocalCluster
from cluedrop_testing import dump_logs, fail, log, on_failure, run
from cluedrop_testing.certs import CertAuthority
from cluedrop_testing.specs import write_bio20, write_train_job

ARGS = argparse.Namespace()
cluedrop = None  # the installed package, imported by import_client()


def import_client():
    """Imports cluedrop from --site (what the install scenario installed)."""
    global cluedrop
    if not os.path.isdir(os.path.join(ARGS.site, "cluedrop")):
        fail(f"no cluedrop package in {ARGS.site}: run the install scenario first")
    sys.path.insert(0, ARGS.site)
    import cluedrop as module
    if not module.__file__.startswith(os.path.abspath(ARGS.site)):
        fail(f"imported cluedrop from {module.__file__}, not from {ARGS.site}")
    cluedrop = module
    return module


# ------------------------------------------------------------ clusters ---
def cluster(name, *, scorers=1, trainers=0, auth="tokens", **kwargs):
    """A started LocalCluster in WORK/NAME (emptied first); stopped and its
    logs dumped if the scenario fails."""
    c = LocalCluster(ARGS.bin, os.path.join(ARGS.work, name), scorers=scorers, trainers=trainers,
                     clean=True, auth=auth, scorer_threads=1, trainer_threads=1,
                     ready_timeout_s=60,
                     coordinator_args=["--lease_ttl_ms=4000", "--heartbeat_interval_ms=500",
                                       "--retry_backoff_ms=200",
                                       *kwargs.pop("coordinator_args", [])],
                     scorer_args=["--lease_wait_ms=1000"],
                     trainer_args=["--report_every_steps=2"], **kwargs)
    on_failure(lambda: dump_logs(c.log_paths(), chars=3000))
    on_failure(c.stop)
    c.start()
    return c


def client_for(c, identity="submitter", **kwargs):
    return cluedrop.Client(c.address, token_file=c.credentials.token_file(identity), **kwargs)


def cli_ok(c, *argv, timeout=240):
    proc = c.cli(*argv, timeout=timeout)
    if proc.returncode != 0:
        fail(f"cluedrop {' '.join(argv)}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def score_spec(corpus, shard_size=5, name="py-score"):
    models = ARGS.fixtures
    return {"name": name,
            "corpus": {"paths": [corpus], "format": "csv", "field_tags": True,
                       "shard_size_docs": shard_size},
            "reference_models": {"large": {"checkpoint_dir": f"{models}/llama3/model",
                                           "dtype": "float32"},
                                 "small": {"checkpoint_dir": f"{models}/smollm/model",
                                           "dtype": "float32"},
                                 "batch_tokens": 4096}}


def expect(ok, message):
    if not ok:
        fail(message)


def expect_error(call, cls, code, what):
    """Runs `call`, which must raise `cls` with grpc code `code`. Returns it."""
    try:
        call()
    except cls as e:
        if e.code.name != code:
            fail(f"{what}: {type(e).__name__} code {e.code.name}, want {code}: {e}")
        return e
    except Exception as e:  # noqa: BLE001 - reported
        fail(f"{what}: raised {type(e).__name__}: {e}, want {cls.__name__} {code}")
    fail(f"{what}: no exception, want {cls.__name__} {code}")


# ------------------------------------------------------------- compare ---
def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def compare_with_cli_results(c, job, what):
    """results() against `cluedrop results` of the same job: same documents in
    the same order; text, tokens, offsets, qa_items equal; every score the
    same float32 (None where the CLI has null). Returns the documents."""
    path = os.path.join(c.work_dir, f"{job.id}.jsonl")
    cli_ok(c, "results", job.id, "--output", path)
    with open(path, encoding="utf-8") as f:
        want = [json.loads(line) for line in f if line.strip()]
    results = job.results()
    try:
        got = list(results)
    except cluedrop.CluedropError as e:
        fail(f"{what}: results() raised {type(e).__name__}: {e}")
    expect(len(got) == len(want) > 0,
           f"{what}: {len(got)} documents from Python, {len(want)} from cluedrop results")
    for g, w in zip(got, want):
        expect(list(g) == list(w), f"{what}: keys {list(g)} vs {list(w)}")
        for key in ("id", "text", "tokens", "offsets", "qa_items"):
            expect(g[key] == w[key], f"{what}: {g['id']}.{key} differs from cluedrop results")
        for key in ("received_large", "received_small", "contrast"):
            expect(len(g[key]) == len(w[key]), f"{what}: {g['id']}.{key} length")
            for a, b in zip(g[key], w[key]):
                expect((a is None) == (b is None), f"{what}: {g['id']}.{key} null mismatch")
                expect(a is None or a == f32(b), f"{what}: {g['id']}.{key}: {a} vs {b}")
    log(f"  {what}: results() == cluedrop results: {len(got)} documents, {results.shards} "
        f"shards, checksums verified")
    return got


def watch_to_end(job, what, **kwargs):
    """Watches to the end; checks sequences 1..N each once; returns the events."""
    w = job.watch(progress=False, timeout=240, **kwargs)
    events = list(w)
    sequences = [e.sequence for e in events]
    expect(sequences == list(range(1, len(events) + 1)),
           f"{what}: event sequences {sequences}, want 1..{len(events)}")
    expect(events and events[-1].kind == "state" and events[-1].state.terminal,
           f"{what}: last event {events[-1] if events else None} is not a terminal state")
    return w, events


# ----------------------------------------------------------- scenarios ---
def scenario_install():
    source = os.path.abspath(ARGS.source)
    package = os.path.join(source, "clients", "python")
    shutil.rmtree(ARGS.site, ignore_errors=True)
    src = os.path.join(package, "src", "cluedrop")

    def generated_in_source():  # an editable install puts them there (gitignored)
        return sorted(f for f in os.listdir(os.path.join(src, "v1")) if "_pb2" in f)

    before = generated_in_source()
    started = time.time()
    proc = run([sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps",
                "--no-index", "--target", ARGS.site, package], timeout=300)
    if proc.returncode != 0:
        fail(f"pip install: exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    log(f"pip install --no-build-isolation --no-deps --target {ARGS.site} clients/python "
        f"({time.time() - started:.1f} s)")
    module = import_client()
    with open(os.path.join(source, "CMakeLists.txt")) as f:
        import re
        version = re.search(r"project\(cluedrop VERSION ([0-9.]+)", f.read()).group(1)
    expect(module.__version__ == version,
           f"cluedrop.__version__ {module.__version__}, CMakeLists.txt {version}")
    # Every proto of proto/cluedrop/v1 became a module; every service a stub.
    import importlib
    protos = sorted(p[:-6] for p in os.listdir(os.path.join(source, "proto", "cluedrop", "v1"))
                    if p.endswith(".proto"))
    for name in protos:
        pb = importlib.import_module(f"cluedrop.v1.{name}_pb2")
        grpc_module = importlib.import_module(f"cluedrop.v1.{name}_pb2_grpc")
        for service in pb.DESCRIPTOR.services_by_name:
            expect(hasattr(grpc_module, f"{service}Stub"), f"no {service}Stub in {name}_pb2_grpc")
        expect(os.path.exists(os.path.join(ARGS.site, "cluedrop", "v1", f"{name}_pb2.pyi")),
               f"no {name}_pb2.pyi (type stubs)")
    expect(os.path.exists(os.path.join(ARGS.site, "cluedrop", "py.typed")), "no py.typed")
    # Generated in the build, never in the source tree or in git.
    expect(generated_in_source() == before,
           f"pip install wrote into the source tree: {generated_in_source()} (was {before})")
    tracked = run(["git", "-C", source, "ls-files", "clients/python"]).stdout.split()
    expect(not [t for t in tracked if "_pb2" in t or t.endswith("_version.py")],
           f"generated files tracked by git: {tracked}")
    log(f"  cluedrop {module.__version__} from {module.__file__}; {len(protos)} protos -> "
        "*_pb2.py, *_pb2.pyi, *_pb2_grpc.py; py.typed")
    log("install: PASS")


def scenario_unit():
    import_client()
    from cluedrop import _crc32c
    from cluedrop.errors import parse_violations
    import grpc

    expect(_crc32c.crc32c_pure(b"123456789") == 0xE3069283, "CRC-32C('123456789') != 0xE3069283")
    expect(cluedrop.results.crc32c(b"123456789") == 0xE3069283, "crc32c() check value")

    def bytewise(data):
        crc = 0xFFFFFFFF
        for byte in data:
            crc ^= byte
            for _ in range(8):
                crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        return crc ^ 0xFFFFFFFF

    blob = os.urandom(1000)
    for n in (0, 1, 7, 8, 9, 63, 64, 65, 1000):
        expect(_crc32c.crc32c_pure(blob[:n]) == bytewise(blob[:n]), f"CRC-32C of {n} bytes")
        expect(_crc32c.crc32c_pure(blob[n // 3:n], _crc32c.crc32c_pure(blob[:n // 3]))
               == bytewise(blob[:n]), f"CRC-32C continued over {n} bytes")
    log("  CRC-32C: check value 0xE3069283, slicing-by-8 == byte-wise over 9 lengths")

    # Token files (auth/secret_file.cc rules).
    os.makedirs(ARGS.work, exist_ok=True)
    path = os.path.join(ARGS.work, "t.token")

    def token_file(text, mode):
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    expect(cluedrop.read_token_file(token_file("  abc.DEF-123\n", 0o600)) == "abc.DEF-123",
           "token file 0600 with whitespace around")
    expect(cluedrop.read_token_file(token_file("abc\n", 0o640)) == "abc", "token file 0640")
    for text, mode, code, message in [
            ("abc", 0o604, "FAILED_PRECONDITION",
             f"token_file {path}: mode 0604 lets every local user read it; restrict it "
             "(chmod 600, or 640 for a group) and retry"),
            ("\n \n", 0o600, "INVALID_ARGUMENT", f"token_file {path}: empty"),
            ("ab cd", 0o600, "INVALID_ARGUMENT",
             f"token_file {path}: a token is one line of printable characters without spaces")]:
        e = expect_error(lambda: cluedrop.read_token_file(token_file(text, mode)),
                         cluedrop.CredentialsError, code, f"token file {text!r} {mode:o}")
        expect(e.message == message, f"token file message {e.message!r}, want {message!r}")
    expect_error(lambda: cluedrop.read_token_file(ARGS.work), cluedrop.CredentialsError,
                 "FAILED_PRECONDITION", "a directory as token file")
    expect_error(lambda: cluedrop.read_token_file(path + ".missing"), cluedrop.CredentialsError,
                 "NOT_FOUND", "a missing token file")
    expect_error(lambda: cluedrop.ConnectionSettings.resolve("x:1", token="a", token_file=path),
                 cluedrop.CredentialsError, "INVALID_ARGUMENT", "token and token_file")
    expect_error(lambda: cluedrop.ConnectionSettings.resolve("x:1", tls_cert=path),
                 cluedrop.CredentialsError, "INVALID_ARGUMENT", "tls_cert without tls_key")
    env = {"CLUEDROP_COORDINATOR": "h:9", "CLUEDROP_TOKEN": "envtoken"}
    s = cluedrop.ConnectionSettings.resolve(environ=env)
    expect((s.address, s.token, s.tls) == ("h:9", "envtoken", False), f"from env: {s}")
    s = cluedrop.ConnectionSettings.resolve("a:1", token="t", tls_ca=path, environ=env)
    expect((s.address, s.token, s.tls) == ("a:1", "t", True), f"arguments over env: {s}")
    expect(s.metadata() == (("authorization", "Bearer t"),), f"metadata {s.metadata()}")
    expect(cluedrop.ConnectionSettings.resolve(environ={"CLUEDROP_COORDINATOR": ""}).address
           == "127.0.0.1:50051", "empty $CLUEDROP_COORDINATOR counts as unset")
    log("  token files, token/token_file exclusion, TLS implication, env fallbacks")

    # Error messages -> field paths.
    v = parse_violations("augmentation.alpha: must be in [0, 1], got 1.3; "
                         'labels["a b"]: too long; spec.corpus.paths[1]: missing; job x is done')
    expect([x.field for x in v] == ["augmentation.alpha", 'labels["a b"]', "corpus.paths[1]",
                                    None], f"violations {v}")
    e = cluedrop.CluedropError.from_status(grpc.StatusCode.NOT_FOUND, "job job-1: not found")
    expect(e.field is None and str(e) == "NOT_FOUND: job job-1: not found", f"{e!r}")

    # Spec details the CLI defines (cli/yaml_message.h).
    parse = cluedrop.parse_spec_text
    spec = parse("name: x\ntarget_model: {}\naugmentation: {alpha: '0.5', mode: CONTRAST}\n"
                 "reference_models: {include_self: FALSE, large: ~}\n", "a.yaml")
    expect(spec.HasField("target_model") and not spec.reference_models.HasField("large")
           and spec.reference_models.HasField("include_self")
           and not spec.reference_models.include_self and spec.augmentation.alpha == 0.5
           and spec.augmentation.mode == 5, f"parsed {spec}")
    spec = parse('{"name": "\\ud83d\\ude00", "corpusSpec": null}'.replace("corpusSpec", "corpus"),
                 "a.json")
    expect(spec.name == "\U0001F600", f"surrogate pair: {spec.name!r}")
    for text, message in [
        ("name: x\nname: y\n", "a.yaml:2: name: duplicate field"),
        ("target_model: {checkpoint_dir: a, from_scratch_config: b}\n",
         "a.yaml:1: target_model.from_scratch_config: only one of checkpoint_dir and "
         "from_scratch_config may be set (oneof source)"),
        ("training: {epochs: 1.5}\n", 'a.yaml:1: training.epochs: expected an integer, got "1.5"'),
        ("augmentation: {alpha: 1e39}\n",
         'a.yaml:1: augmentation.alpha: expected a finite number, got "1e39"'),
        ("name: &a x\n", "a.yaml:1: YAML tags, anchors and aliases ('&') are not supported in "
                         "job specs"),
        ("a: 1\n---\nb: 2\n", "a.yaml:3: expected one YAML document, found more"),
        ("# nothing\n", "a.yaml: the job spec is empty"),
        ("- 1\n", 'a.yaml:1: expected a mapping of JobSpec fields, got a list'),
    ]:
        e = expect_error(lambda: parse(text, "a.yaml"), cluedrop.SpecError, "INVALID_ARGUMENT",
                         f"spec {text!r}")
        expect(e.message == message, f"spec {text!r}: {e.message!r}, want {message!r}")
    e = expect_error(lambda: cluedrop.load_spec(os.path.join(ARGS.work, "none.yaml")),
                     cluedrop.CluedropError, "NOT_FOUND", "a missing spec file")
    expect(str(e) == f"NOT_FOUND: {ARGS.work}/none.yaml: No such file or directory", str(e))
    log("  spec parsing: nulls, presence, quoted numbers, enums in any case, JSON surrogates, "
        "duplicates, oneofs, ranges, anchors, documents")
    log("unit: PASS")


def scenario_e2e():
    import_client()
    c = cluster("e2e", scorers=1, trainers=2)
    client = client_for(c)
    work = c.work_dir
    corpus = write_bio20(work, ARGS.paper_data)

    log("score-only job from a dict")
    job = client.submit(score_spec(corpus))
    w, events = watch_to_end(job, "score-only watch")
    expect(events[-1].state.name == "SUCCEEDED", f"score-only job ended {events[-1]}")
    expect(w.final_state.name == "SUCCEEDED" and w.reconnects == 0, f"watch {vars(w)}")
    status = job.wait(timeout=60)
    cli_status = json.loads(cli_ok(c, "status", job.id, "--json"))
    expect(cli_status["state"] == "JOB_STATE_SUCCEEDED" and status.state.name == "SUCCEEDED",
           f"states: python {status.state}, cli {cli_status['state']}")
    expect(status.progress.documents_total == 20 == int(cli_status["progress"]["documents_total"])
           and status.progress.shards_scored == status.progress.shards_total == 4,
           f"progress {status.progress}")
    kinds = [e.kind for e in events]
    log(f"  {job.id}: {len(events)} events ({', '.join(sorted(set(kinds)))}), SUCCEEDED, "
        f"{status.progress.tokens_scored} tokens")
    docs = compare_with_cli_results(c, job, "score-only")
    expect(all(len(d["qa_items"]) == 5 for d in docs), "5 QA items per biography")
    try:
        import pandas  # noqa: F401
        frame = job.results().to_pandas()
        expect(list(frame["id"]) == [d["id"] for d in docs] and len(frame.columns) == 8,
               f"to_pandas: {frame.shape}")
        log(f"  to_pandas(): {frame.shape[0]} rows x {frame.shape[1]} columns")
    except ImportError:
        log("  to_pandas(): pandas not installed, not checked")
    try:
        import datasets  # noqa: F401
    except ImportError:
        fail("datasets is not installed: run scripts/setup (scripts/requirements.txt pins it)")
    dataset = job.results().to_dataset()
    expect(dataset.num_rows == len(docs) and list(dataset["id"]) == [d["id"] for d in docs]
           and dataset[0]["tokens"] == docs[0]["tokens"]
           and dataset[0]["contrast"] == docs[0]["contrast"],
           f"to_dataset: {dataset}")
    log(f"  to_dataset(): {dataset.num_rows} rows, features {sorted(dataset.features)}")

    log("train job (2 ranks, QA evaluation) from a YAML file")
    spec_path = write_train_job(work, ARGS.paper_data, ARGS.fixtures, name="py-train",
                                epochs=1, evaluate=True)
    train = client.submit(spec_path)
    _, events = watch_to_end(train, "train watch")
    status = train.wait(timeout=60)
    expect(status.state.name == "SUCCEEDED", f"train job {status.state.name}: {status.reason}")
    states = [e.state.name for e in events if e.kind == "state"]
    expect(states[:1] == ["QUEUED"] and "TRAINING" in states and states[-1] == "SUCCEEDED",
           f"train states {states}")
    cli_status = json.loads(cli_ok(c, "status", train.id, "--json"))
    overall = status.overall()
    cli_overall = [f for f in cli_status["evaluations"][-1]["fields"] if f["field"] == "overall"]
    expect(overall is not None and cli_overall
           and abs(overall.f1 - cli_overall[0]["f1"]) < 1e-12
           and overall.questions == cli_overall[0]["questions"] == 100,
           f"evaluation: python {overall}, cli {cli_overall}")
    expect(status.model_dir == cli_status["model_dir"] and os.path.isdir(status.model_dir),
           f"model_dir {status.model_dir!r} vs {cli_status['model_dir']!r}")
    expect(status.progress.training_step == status.progress.training_steps_total > 0,
           f"training progress {status.progress}")
    log(f"  {train.id}: states {' -> '.join(states)}; overall EM {overall.exact_match:.2f}, "
        f"F1 {overall.f1:.2f} over {overall.questions} questions; {status.model_dir}")
    compare_with_cli_results(c, train, "train (world size 2)")

    listed = client.list_jobs()
    cli_listed = json.loads(cli_ok(c, "list", "--json"))["jobs"]
    expect([s.job_id for s in listed] == [j["id"] for j in cli_listed]
           and {s.job_id for s in listed} == {job.id, train.id},
           f"list_jobs {[s.job_id for s in listed]} vs cli {[j['id'] for j in cli_listed]}")
    expect(len(client.list_jobs(limit=1)) == 1, "list_jobs(limit=1)")
    expect(client.list_jobs(states=["failed", "cancelled"]) == [], "list_jobs(failed, cancelled)")
    expect(len(client.list_jobs(states=[cluedrop.JobState.SUCCEEDED])) == 2,
           "list_jobs(SUCCEEDED)")
    log(f"  list_jobs() == cluedrop list: {[s.job_id for s in listed]}; states and limit filter")
    client.close()
    c.stop()
    log("e2e: PASS")


def scenario_cancel():
    import_client()
    c = cluster("cancel", scorers=0)
    client = client_for(c)
    corpus = write_bio20(c.work_dir, ARGS.paper_data)
    job = client.submit(score_spec(corpus, name="to-cancel"))
    expect(job.status().state.name == "QUEUED", "a job without scorers is QUEUED")
    status = job.cancel(reason="not needed")
    expect(status.state.name == "CANCELLED" and status.reason == "not needed",
           f"cancel returned {status.state.name} {status.reason!r}")
    cli_status = json.loads(cli_ok(c, "status", job.id, "--json"))
    expect(cli_status["state"] == "JOB_STATE_CANCELLED" and cli_status["reason"] == "not needed",
           f"cluedrop status after cancel: {cli_status['state']} {cli_status.get('reason')}")
    e = expect_error(lambda: job.wait(timeout=30), cluedrop.JobFailedError, "CANCELLED",
                     "wait() on a cancelled job")
    expect(e.status.state.name == "CANCELLED" and "not needed" in str(e), f"JobFailedError {e}")
    expect(job.wait(timeout=30, check=False).state.name == "CANCELLED", "wait(check=False)")
    _, events = watch_to_end(job, "cancelled watch")
    expect(events[-1].state.name == "CANCELLED" and events[-1].reason == "not needed",
           f"last event {events[-1]!r}")
    again = expect_error(lambda: job.cancel(), cluedrop.CluedropError, "FAILED_PRECONDITION",
                         "cancel of a cancelled job")
    log(f"  {job.id}: CANCELLED ({status.reason}); wait() raised {type(e).__name__}: {e}; "
        f"second cancel: {again}")

    stuck = client.submit(score_spec(corpus, name="stuck"))
    started = time.time()
    expect_error(lambda: stuck.wait(timeout=1.5), cluedrop.WaitTimeoutError, "DEADLINE_EXCEEDED",
                 "wait(timeout) on a job that cannot run")
    took = time.time() - started
    expect(1.4 <= took < 10, f"wait(timeout=1.5) gave up after {took:.1f} s")
    stuck.cancel()
    expect_error(lambda: client.job("job-nope").status(), cluedrop.CluedropError, "NOT_FOUND",
                 "status of an unknown job")
    log(f"  wait(timeout=1.5) raised WaitTimeoutError after {took:.1f} s; unknown id NOT_FOUND")
    c.stop()
    log("cancel: PASS")


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def scenario_bad_spec():
    import_client()
    c = cluster("bad-spec", scorers=0)
    client = client_for(c)
    corpus = write_bio20(c.work_dir, ARGS.paper_data)

    # The coordinator's validation: INVALID_ARGUMENT with the field path.
    spec = score_spec(corpus)
    e = expect_error(lambda: client.submit({**spec, "augmentation": {"alpha": 1.3}}),
                     cluedrop.SpecError, "INVALID_ARGUMENT", "alpha 1.3")
    expect(e.field == "augmentation.alpha"
           and e.message == "augmentation.alpha: must be in [0, 1], got 1.3"
           and str(e) == "INVALID_ARGUMENT: augmentation.alpha: must be in [0, 1], got 1.3",
           f"alpha 1.3: field {e.field!r}, message {e.message!r}, str {str(e)!r}")
    log(f"  dict, alpha 1.3 -> {type(e).__name__}: {e}")
    e = expect_error(lambda: client.submit({**spec, "augmentation": {"alpha": 1.3, "beta": -1},
                                            "training": {"epochs": 1}}),
                     cluedrop.SpecError, "INVALID_ARGUMENT", "several violations")
    fields = [v.field for v in e.violations]
    expect("augmentation.alpha" in fields and "augmentation.beta" in fields
           and e.field == fields[0], f"violations {e.violations}")
    log(f"  several violations -> fields {fields}")

    # The same from a YAML file: the CLI's lines, annotated with the file's line.
    yaml_path = os.path.join(c.work_dir, "bad.yaml")
    base = open(write_train_job(c.work_dir, ARGS.paper_data, ARGS.fixtures, name="bad")).read()
    write(yaml_path, base.replace("augmentation: {mode: contrast,",
                                  "augmentation: {mode: contrast, alpha: 1.3,"))
    cli = c.cli("submit", yaml_path, timeout=60)
    expect(cli.returncode == 2, f"cluedrop submit bad.yaml: exit {cli.returncode}")
    e = expect_error(lambda: client.submit(yaml_path), cluedrop.SpecError, "INVALID_ARGUMENT",
                     "bad.yaml")
    want = cli.stderr.strip().replace("cluedrop submit: ", "")
    expect(str(e) == want and e.field == "augmentation.alpha"
           and e.violations[0].line == base.splitlines().index(
               [l for l in base.splitlines() if l.startswith("augmentation:")][0]) + 1,
           f"bad.yaml: python {str(e)!r}, cli {want!r}, {e.violations}")
    log(f"  bad.yaml -> {str(e).replace(c.work_dir + '/', '')}   (== cluedrop submit)")

    # Errors found before sending: the CLI's text, nothing submitted.
    cases = {
        "typo.yaml": base.replace("copies: 1", "copeis: 1"),
        "types.yaml": base.replace("epochs: 1", "epochs: ten").replace("world_size: 2",
                                                                        "world_size: -2"),
        "enum.yaml": base.replace("mode: contrast", "mode: contrasting"),
        "json.json": json.dumps({"name": "j", "corpus": {"paths": [corpus], "format": "xml"},
                                 "training": {"learningRate": "fast"}}, indent=1),
        "duplicate.yaml": "name: a\nname: b\n",
        "oneof.yaml": "target_model: {checkpoint_dir: a, from_scratch_config: b}\n",
        "numbers.yaml": "training: {epochs: 1.5, learning_rate: 1e39, seed: 0x10}\n"
                        "augmentation: {keep_original: yes, copies: '-3'}\n",
        "shapes.yaml": "corpus: {paths: a.csv}\nlabels: [a]\nreference_models: 3\n"
                       "training: {epochs: [1]}\nlabels2: {}\n",
        "anchor.yaml": "name: &a x\noutput_dir: *a\n",
        "two-docs.yaml": "name: a\n---\nname: b\n",
        "empty.yaml": "# nothing here\n",
        "list.yaml": "- name: a\n",
    }
    for name, text in cases.items():
        path = write(os.path.join(c.work_dir, name), text)
        cli = c.cli("submit", path, timeout=60)
        e = expect_error(lambda: client.submit(path), cluedrop.SpecError, "INVALID_ARGUMENT", name)
        want = "\n".join(line.replace("cluedrop submit: INVALID_ARGUMENT: ", "")
                         for line in cli.stderr.strip().splitlines())
        expect(cli.returncode == 2 and e.message == want,
               f"{name}: python {e.message!r}\n  cli (exit {cli.returncode}) {want!r}")
        log(f"  {name} -> {e.message.replace(c.work_dir + '/', '').splitlines()}  "
            "(== cluedrop submit)")
    expect(client.list_jobs() == [], f"jobs were created: {client.list_jobs()}")
    log("  no job was created by any bad spec")
    c.stop()
    log("bad-spec: PASS")


TRICKY = {
    "inline.yaml": """name: "tricky: one"
corpus: {paths: [paper-data/biography_synthetic.csv], format: CORPUS_FORMAT_CSV,
         fieldTags: True, shard_size_docs: "7"}
reference_models:
  large: {checkpointDir: ./m/large/, dtype: FLOAT32, device_map: {device: cpu}}
  small: {checkpoint_dir: m/../m/small, dtype: bfloat16}
  layers: [0, '1']
  include_self: false
augmentation: {mode: Position, alpha: 0.35, beta: 0, copies: "1", keep_original: FALSE,
               protected_tokens: [",", "the"], seed: 18446744073709551615}
labels: {team: "a b", "quoted-key": x, empty: ""}
output_dir: out/
""",
    "spec.json": json.dumps({
        "name": "json\u00e9", "corpus": {"paths": ["paper-data/biography_synthetic.csv"],
                                        "format": "csv", "field_tags": True},
        "reference_models": {"large": {"checkpoint_dir": "/abs/large"},
                             "small": {"checkpoint_dir": "s3://bucket/small"}},
        "target_model": {"from_scratch_config": "cfg/config.json", "tokenizer_dir": "tok",
                         "lora": {"rank": 4, "alpha": 8, "target_modules": ["q_proj"]}},
        "training": {"epochs": 2, "batch_size": 4, "learningRate": 0.0003, "schedule": "cosine",
                     "world_size": 1, "seed": 3},
        "evaluation": {"prompt_table": "paper-data/prompts.csv",
                       "fewshot_pool": "paper-data/biography_real.csv", "shots": 0},
        "output_dir": "/tmp/out"}, indent="\t"),
}


def stored_spec(client, job_id):
    return client.job(job_id).status().spec


def is_subset(part, whole):
    """Every field set in message `part` has the same value in `whole`."""
    for field, value in part.ListFields():
        other = getattr(whole, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            same = dict(value) == dict(other)
        elif field.is_repeated:
            same = list(value) == list(other)
        elif field.message_type is not None:
            same = whole.HasField(field.name) and is_subset(value, other)
        else:
            same = value == other
        if not same:
            return False
    return True


def scenario_spec_parity():
    import_client()
    import yaml
    c = cluster("spec-parity", scorers=0)
    client = client_for(c)
    examples = os.path.join(os.path.abspath(ARGS.source), "examples")
    # The tricky specs live next to examples/paper-data so that their
    # relative paths resolve to files the coordinator can read.
    tricky_dir = os.path.join(c.work_dir, "specs")
    os.makedirs(tricky_dir)
    os.symlink(os.path.join(examples, "paper-data"), os.path.join(tricky_dir, "paper-data"))
    paths = sorted(os.path.join(examples, f) for f in os.listdir(examples) if f.endswith(".yaml"))
    paths += [write(os.path.join(tricky_dir, name), text) for name, text in TRICKY.items()]
    for path in paths:
        name = os.path.relpath(path, os.path.abspath(ARGS.source)) if path.startswith(examples) \
            else os.path.basename(path)
        cli_job = cli_ok(c, "submit", path).strip()
        want = stored_spec(client, cli_job)
        loaded = cluedrop.load_spec(path)
        py_job = client.submit(path)
        got = stored_spec(client, py_job.id)
        expect(got == want, f"{name}: stored spec differs\npython:\n{got}\ncli:\n{want}")
        expect(is_subset(loaded, want), f"{name}: load_spec() sets fields the CLI did not:\n"
                                        f"{loaded}\nstored:\n{want}")
        with open(path) as f:
            as_dict = json.load(f) if path.endswith(".json") else yaml.safe_load(f)
        dict_job = client.submit(as_dict, base_dir=os.path.dirname(path))
        expect(stored_spec(client, dict_job.id) == want, f"{name}: the dict form differs")
        log(f"  {name}: cluedrop submit == submit(path) == submit(dict) "
            f"({len(want.ListFields())} top-level fields)")
    for s in client.list_jobs(states=["queued"]):
        client.job(s.job_id).cancel()
    c.stop()
    log("spec-parity: PASS")


def scenario_reconnect():
    import_client()
    c = cluster("reconnect", scorers=0)
    client = client_for(c)
    corpus = write_bio20(c.work_dir, ARGS.paper_data)
    job = client.submit(score_spec(corpus))  # QUEUED until a scorer comes
    took = {}

    def chaos():
        time.sleep(1.5)  # the watch is blocked on the live stream by now
        c.coordinator.kill9()
        took["killed"] = time.time()
        time.sleep(1.0)
        c.coordinator.restart()
        c.add_scorer("scorer-0")
        took["restarted"] = time.time()

    thread = threading.Thread(target=chaos)
    w = job.watch(progress=False, timeout=180)
    seen = []
    thread.start()
    try:
        for event in w:
            seen.append(event)
    except cluedrop.CluedropError as e:
        thread.join()
        fail(f"watch() across the restart raised {type(e).__name__}: {e} after "
             f"{[(x.sequence, x.kind) for x in seen]}")
    finally:
        thread.join()
    sequences = [e.sequence for e in seen]
    expect(w.reconnects >= 1, f"the watch never reconnected (reconnects={w.reconnects})")
    expect(sequences == sorted(set(sequences)), f"sequences repeat or go back: {sequences}")
    expect(seen[-1].kind == "state" and seen[-1].state.name == "SUCCEEDED",
           f"watch ended with {seen[-1]!r}")
    fresh = list(job.watch(progress=False, timeout=60))
    expect([e.proto for e in fresh] == [e.proto for e in seen],
           f"events across the restart differ from a fresh watch:\n"
           f"{[(e.sequence, e.kind) for e in seen]}\n{[(e.sequence, e.kind) for e in fresh]}")
    before = [e.sequence for e in seen if e.time and e.time.timestamp() < took["killed"]]
    log(f"  coordinator SIGKILLed after event {max(before) if before else 0}, restarted; watch "
        f"reconnected {w.reconnects}x and went on to event {sequences[-1]} (SUCCEEDED); "
        f"{len(seen)} events, each once, == a fresh watch")
    compare_with_cli_results(c, job, "after the restart")
    c.stop()
    log("reconnect: PASS")


def scenario_credentials():
    import_client()
    c = cluster("credentials", scorers=0)
    creds = c.credentials
    for how, make in [
            ("token_file", lambda: cluedrop.Client(c.address,
                                                   token_file=creds.token_file("submitter"))),
            ("token", lambda: cluedrop.Client(c.address, token=creds.tokens["submitter"])),
            ("$CLUEDROP_TOKEN_FILE", lambda: env_client(
                CLUEDROP_COORDINATOR=c.address,
                CLUEDROP_TOKEN_FILE=creds.token_file("submitter")))]:
        with make() as client:
            expect(client.list_jobs() == [], f"{how}: list_jobs")
        log(f"  accepted: {how}")

    # docs/security.md: no credentials are UNAUTHENTICATED, an unknown token
    # PERMISSION_DENIED; the client reports what the CLI reports.
    for how, code, env, make in [
            ("a wrong token", "PERMISSION_DENIED", {"CLUEDROP_TOKEN": "wrong-token"},
             lambda: cluedrop.Client(c.address, token="wrong-token")),
            ("no token", "UNAUTHENTICATED", {},
             lambda: env_client(CLUEDROP_COORDINATOR=c.address))]:
        cli = c.cli("list", env={"CLUEDROP_TOKEN_FILE": "", **env})
        expect(cli.returncode == 1 and f"cluedrop list: {code}: " in cli.stderr,
               f"cli with {how}: exit {cli.returncode} {cli.stderr}")
        cli_message = cli.stderr.strip().split(f"{code}: ", 1)[1]
        with make() as client:
            e = expect_error(client.list_jobs, cluedrop.CluedropError, code, how)
            expect(e.message == cli_message, f"{how}: {e.message!r} vs cli {cli_message!r}")
        log(f"  refused: {how} -> {e}  (== cluedrop list)")
    with cluedrop.Client(c.address, token_file=creds.token_file("scorer")) as client:
        corpus = write_bio20(c.work_dir, ARGS.paper_data)
        e = expect_error(lambda: client.submit(score_spec(corpus)), cluedrop.CluedropError,
                         "PERMISSION_DENIED", "a scorer's token submitting")
        log(f"  refused: the scorer's token submitting -> {e}")

    # Token files judged like the CLI's --token_file (auth/secret_file.cc).
    token_path = os.path.join(c.work_dir, "copy.token")
    for mode, accepted in [(0o640, True), (0o644, False), (0o602, False)]:
        write(token_path, creds.tokens["submitter"] + "\n")
        os.chmod(token_path, mode)
        cli = c.cli("list", env={"CLUEDROP_TOKEN_FILE": token_path})
        try:
            with cluedrop.Client(c.address, token_file=token_path) as client:
                client.list_jobs()
            py = None
        except cluedrop.CredentialsError as e:
            py = e
        expect((py is None) == accepted == (cli.returncode == 0),
               f"mode {mode:o}: python {py}, cli exit {cli.returncode} {cli.stderr}")
        if py is not None:
            want = cli.stderr.strip().removeprefix("cluedrop: ").replace("--token_file",
                                                                         "token_file")
            expect(py.message == want and py.code.name == "FAILED_PRECONDITION",
                   f"mode {mode:o}: {py.message!r} vs cli {want!r}")
        log(f"  token file mode {mode:04o}: {'accepted' if accepted else 'refused'} (as the CLI)")
    c.stop()

    # Mutual TLS: the CLI's --tls_ca / --tls_cert / --tls_key.
    certs = os.path.join(ARGS.work, "certs")
    ca = CertAuthority.create(certs, "ca")
    rogue = CertAuthority.create(certs, "rogue")
    server = ca.issue("server", "localhost", server=True)
    alice = ca.issue("alice", "alice", roles=["submitter"])
    forged = rogue.issue("forged", "alice", roles=["submitter"])
    m = cluster("mtls", scorers=0, auth="external",
                coordinator_args=[f"--tls_cert_file={server.cert}",
                                  f"--tls_key_file={server.key}",
                                  f"--tls_client_ca_file={ca.cert}"])
    with cluedrop.Client(m.address, tls_ca=ca.cert, tls_cert=alice.cert,
                         tls_key=alice.key) as client:
        expect(client.list_jobs() == [] and client.settings.tls, "alice over mTLS")
    log("  mTLS: alice's client certificate accepted")
    for how, kwargs in [("no client certificate", {"tls_ca": ca.cert}),
                        ("a rogue CA's certificate", {"tls_ca": ca.cert, "tls_cert": forged.cert,
                                                      "tls_key": forged.key}),
                        ("plaintext", {})]:
        with cluedrop.Client(m.address, timeout=10, **kwargs) as client:
            try:
                client.list_jobs()
                fail(f"mTLS: {how} was accepted")
            except cluedrop.CluedropError as e:
                expect(e.code.name in ("UNAVAILABLE", "UNAUTHENTICATED"), f"{how}: {e}")
                log(f"  mTLS refused: {how} -> {e.code.name}")
    m.stop()
    log("credentials: PASS")


def env_client(**env):
    """A Client() configured only by the environment `env` (CLUEDROP_* of the
    process replaced for the call)."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("CLUEDROP_")}
    os.environ.update(env)
    try:
        return cluedrop.Client()
    finally:
        for k in env:
            os.environ.pop(k, None)
        os.environ.update(saved)


def scenario_example():
    import_client()
    c = cluster("example", scorers=1)
    example = os.path.join(os.path.abspath(ARGS.source), "examples", "python_client.py")
    env = c.cli_env(PYTHONPATH=ARGS.site, TMPDIR=c.work_dir, CLUEDROP_EXAMPLE_DOCS="20",
                    CLUEDROP_LARGE_MODEL=f"{ARGS.fixtures}/llama3/model",
                    CLUEDROP_SMALL_MODEL=f"{ARGS.fixtures}/smollm/model")
    started = time.time()
    proc = subprocess.run([sys.executable, example], capture_output=True, text=True, env=env,
                          timeout=240, cwd=c.work_dir)
    output = os.path.join(c.work_dir, "example-output.txt")
    write(output, f"$ python examples/python_client.py\n{proc.stdout}{proc.stderr}")
    log(f"  examples/python_client.py: exit {proc.returncode} in {time.time() - started:.1f} s; "
        f"output in {output}")
    for line in proc.stdout.splitlines():
        log(f"    | {line}")
    expect(proc.returncode == 0, f"the example failed:\n{proc.stderr[-3000:]}")
    submitted = [l.split()[1] for l in proc.stdout.splitlines() if l.startswith("submitted ")]
    expect(len(submitted) == 1, "the example printed no job id")
    status = json.loads(cli_ok(c, "status", submitted[0], "--json"))
    expect(status["state"] == "JOB_STATE_SUCCEEDED"
           and int(status["progress"]["documents_total"]) == 20, f"example job {status}")
    for want in ("state SUCCEEDED", "20 documents", "top clues:",
                 "refused: INVALID_ARGUMENT | augmentation.alpha | augmentation.alpha: must be in "
                 "[0, 1], got 1.3"):
        expect(want in proc.stdout, f"the example's output lacks {want!r}")
    c.stop()
    log("example: PASS")


SCENARIOS = {"install": scenario_install, "unit": scenario_unit, "e2e": scenario_e2e,
             "cancel": scenario_cancel, "bad-spec": scenario_bad_spec,
             "spec-parity": scenario_spec_parity, "reconnect": scenario_reconnect,
             "credentials": scenario_credentials, "example": scenario_example}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), required=True)
    ap.add_argument("--site", required=True, help="where the package is (to be) installed")
    ap.add_argument("--source", required=True, help="the cluedrop source tree")
    ap.add_argument("--work", required=True, help="work directory (emptied first)")
    ap.add_argument("--bin", help="directory of the cluedrop binaries")
    ap.add_argument("--fixtures", help="oracle checkpoints (build/oracle/models)")
    ap.add_argument("--paper-data", help="the paper's biographies and prompts")
    ap.parse_args(namespace=ARGS)
    shutil.rmtree(ARGS.work, ignore_errors=True)
    os.makedirs(ARGS.work)
    for name in ARGS.scenario:
        started = time.time()
        try:
            SCENARIOS[name]()
        except Exception:  # noqa: BLE001 - any error fails the test, daemons stopped
            traceback.print_exc()
            fail(f"{name}: an unexpected exception (above)")
        log(f"{name}: {time.time() - started:.1f} s")


if __name__ == "__main__":
    main()

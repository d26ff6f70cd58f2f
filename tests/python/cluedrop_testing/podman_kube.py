"""Runs rendered Kubernetes manifests as podman containers, the way a
kubelet would run their pod templates, for what `podman kube play` cannot
run (podman 4.3 plays Pod, Deployment, ConfigMap and PVC, but not
StatefulSet or Service, and its Secret volumes crash it).

What it honours, from the rendered objects (`kubectl kustomize OVERLAY`):
- Deployment / StatefulSet pod templates: command and args with Kubernetes'
  $(VAR) expansion, env (value, configMapKeyRef, secretKeyRef,
  fieldRef metadata.name/namespace), the image (mapped to a local tag),
  runAsUser / runAsGroup, readOnlyRootFilesystem, capabilities drop ALL,
  allowPrivilegeEscalation false, volumeMounts (readOnly too), container
  ports, and grpc / httpGet / tcpSocket / exec probes (startup, readiness,
  liveness: run on demand with the manifest's port, service, period and
  failure threshold);
- volumes: persistentVolumeClaim and volumeClaimTemplates as named podman
  volumes (<claim> and <template>-<pod>, as Kubernetes names them),
  owned by the pod's fsGroup; secret and configMap volumes as read-only
  files with defaultMode, group fsGroup; emptyDir as a pod-lifetime named
  volume (medium Memory: a tmpfs; /dev/shm's sizeLimit as --shm-size);
- Services: DNS on one podman network (aardvark-dns). Each pod answers to
  <service>, <service>.<namespace>.svc and <service>.<namespace>.svc.cluster.local
  for every Service that selects it, and a StatefulSet pod also to
  <pod>.<serviceName>[.<namespace>.svc]; several pods behind one name give
  several A records, as a headless Service does;
- pod IPs: the network has a subnet of its own and each pod a fixed IP
  (--ip), so that a fieldRef to status.podIP (the trainers'
  --store_bind_host) resolves before the container starts.

Everything it runs or reads is recorded in `exercised` (object -> what), so
a test can print which manifest fields a started container used.
"""

import base64
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

PODMAN_CONF = os.path.join(os.path.dirname(__file__), "..", "..", "..", "docker", "podman",
                           "containers.conf")


def podman(*args: str, check: bool = True, timeout: float = 300,
           input_text: str | None = None) -> "subprocess.CompletedProcess[str]":
    """Runs `podman ARGS` with the project's containers.conf; raises
    RuntimeError with podman's stderr when `check` and it fails."""
    env = dict(os.environ)
    env.setdefault("CONTAINERS_CONF", os.path.abspath(PODMAN_CONF))
    proc = subprocess.run(["podman", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, input=input_text)
    if check and proc.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)}: exit {proc.returncode}: "
                           f"{proc.stderr.strip()[-2000:]}")
    return proc


def render(overlay: str) -> list[dict[str, Any]]:
    """The overlay's objects, rendered by `kubectl kustomize`."""
    if shutil.which("kubectl") is None:
        raise RuntimeError("kubectl is not on PATH: the container test renders the overlay "
                           "with `kubectl kustomize` (install kubectl >= 1.14)")
    out = subprocess.run(["kubectl", "kustomize", overlay], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {overlay}: {out.stderr.strip()}")
    return [o for o in yaml.safe_load_all(out.stdout) if o]


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' $(VAR) expansion: defined names are replaced, $$ escapes,
    undefined references stay as written."""
    def sub(m: "re.Match[str]") -> str:
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", sub, text)


def _quantity_bytes(q: str) -> int:
    units = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "K": 10**3, "M": 10**6, "G": 10**9}
    for suffix, factor in units.items():
        if q.endswith(suffix):
            return int(float(q[:-len(suffix)]) * factor)
    return int(q)


@dataclass
class Pod:
    """One started pod (one container: cluedrop's pods have one)."""
    name: str
    owner: str  # "StatefulSet/cluedrop-trainer"
    container: str  # the podman container's name
    spec: dict[str, Any]  # the container's spec from the template
    labels: dict[str, str]
    env: dict[str, str]
    argv: list[str]
    aliases: list[str] = field(default_factory=list)


class KubeOnPodman:
    """The rendered objects of one overlay, run on one podman network.

    `images` maps a manifest image ("cluedrop:0.1.0-cpu") to a local tag;
    `prefix` names the network, containers and volumes (removed by
    teardown()); `work` holds secret/configMap files."""

    def __init__(self, objects: Sequence[dict[str, Any]], images: Mapping[str, str], prefix: str,
                 work: str, log: Callable[[str], None] = print) -> None:
        self.objects = list(objects)
        self.images = dict(images)
        self.prefix = prefix
        self.network = f"{prefix}-net"
        # A subnet of our own, so that a pod's IP (status.podIP) is known
        # before its container starts: pods get .10, .11, ... in start order.
        digest = hashlib.sha256(prefix.encode()).digest()
        self.subnet = f"10.{200 + digest[0] % 50}.{digest[1]}"
        self.pod_ips: dict[str, str] = {}
        self.work = work
        self.log = log
        self.pods: dict[str, Pod] = {}
        self.volumes: set[str] = set()
        self.exercised: dict[str, set[str]] = {}
        self.namespace = next((o["metadata"]["name"] for o in self.objects
                               if o["kind"] == "Namespace"), "default")
        self._by_kind: dict[str, dict[str, dict[str, Any]]] = {}
        for o in self.objects:
            self._by_kind.setdefault(o["kind"], {})[o["metadata"]["name"]] = o
        self.mark(f"Namespace/{self.namespace}", "the podman network and DNS suffix")

    # ------------------------------------------------------------ records ---
    def mark(self, obj: str, what: str) -> None:
        self.exercised.setdefault(obj, set()).add(what)

    def object(self, kind: str, name: str) -> dict[str, Any]:
        try:
            return self._by_kind[kind][name]
        except KeyError:
            raise KeyError(f"the rendered manifests have no {kind}/{name}") from None

    def kinds(self) -> dict[str, list[str]]:
        return {k: sorted(v) for k, v in self._by_kind.items()}

    # ------------------------------------------------------------ set-up ---
    def create_network(self) -> None:
        podman("network", "rm", "-f", self.network, check=False)
        podman("network", "create", "--subnet", f"{self.subnet}.0/24", self.network)

    def pod_ip(self, pod_name: str) -> str:
        """The IP pod `pod_name` gets (allocated on first use)."""
        if pod_name not in self.pod_ips:
            self.pod_ips[pod_name] = f"{self.subnet}.{10 + len(self.pod_ips)}"
        return self.pod_ips[pod_name]

    def volume(self, name: str, owner: tuple[int, int] | None) -> str:
        """A named volume (created once), owned by `owner` (fsGroup)."""
        full = f"{self.prefix}-{name}"
        if full not in self.volumes:
            if podman("volume", "exists", full, check=False).returncode != 0:
                podman("volume", "create", full)
            self.volumes.add(full)
            if owner:
                podman("run", "--rm", "--pull=never", "-v", f"{full}:/v",
                       self.images.get("__helper__", "docker.io/library/debian:12-slim"),
                       "chown", f"{owner[0]}:{owner[1]}", "/v")
        return full

    def volume_path(self, name: str) -> str:
        """The host directory of named volume `name` (as given to volume())."""
        return podman("volume", "inspect", "--format", "{{.Mountpoint}}",
                      f"{self.prefix}-{name}").stdout.strip()

    def _files_volume(self, pod: str, vol: dict[str, Any], fs_group: int | None) -> str:
        """A secret / configMap volume as files on the host (bind-mounted)."""
        if "secret" in vol:
            src = vol["secret"]
            obj = self.object("Secret", src["secretName"])
            items = {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
            items.update({k: v.encode() for k, v in (obj.get("stringData") or {}).items()})
            self.mark(f"Secret/{src['secretName']}", f"mounted in {pod}")
        else:
            src = vol["configMap"]
            obj = self.object("ConfigMap", src["name"])
            items = {k: v.encode() for k, v in (obj.get("data") or {}).items()}
            self.mark(f"ConfigMap/{src['name']}", f"mounted in {pod}")
        mode = src.get("defaultMode", 0o644)
        directory = os.path.join(self.work, "volumes", pod, vol["name"])
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        for key, value in items.items():
            path = os.path.join(directory, key)
            with open(path, "wb") as f:
                f.write(value)
            os.chmod(path, mode)
            if fs_group is not None:
                os.chown(path, 0, fs_group)
        os.chmod(directory, 0o755)
        return directory

    # ------------------------------------------------------------ pods ---
    def _env(self, pod_name: str, container: dict[str, Any], owner: str) -> dict[str, str]:
        env: dict[str, str] = {}
        for e in container.get("env", []):
            if "value" in e:
                env[e["name"]] = expand(str(e["value"]), env)
                continue
            source = e["valueFrom"]
            if "configMapKeyRef" in source:
                ref = source["configMapKeyRef"]
                env[e["name"]] = str(self.object("ConfigMap", ref["name"])["data"][ref["key"]])
                self.mark(f"ConfigMap/{ref['name']}", f"key {ref['key']} -> {owner}")
            elif "secretKeyRef" in source:
                ref = source["secretKeyRef"]
                obj = self.object("Secret", ref["name"])
                value = (obj.get("stringData") or {}).get(ref["key"])
                if value is None:
                    value = base64.b64decode(obj["data"][ref["key"]]).decode()
                env[e["name"]] = value
                self.mark(f"Secret/{ref['name']}", f"key {ref['key']} -> {owner}")
            elif "fieldRef" in source:
                path = source["fieldRef"]["fieldPath"]
                env[e["name"]] = {"metadata.name": pod_name,
                                  "metadata.namespace": self.namespace,
                                  "status.podIP": self.pod_ip(pod_name)}[path]
            else:
                raise ValueError(f"{owner}: env {e['name']}: unsupported source {source}")
        return env

    def _aliases(self, pod_name: str, labels: Mapping[str, str], service_name: str | None,
                 owner: str) -> list[str]:
        names = []
        ns = self.namespace
        for svc_name, svc in self._by_kind.get("Service", {}).items():
            selector = svc["spec"].get("selector") or {}
            if selector and all(labels.get(k) == v for k, v in selector.items()):
                names += [svc_name, f"{svc_name}.{ns}.svc", f"{svc_name}.{ns}.svc.cluster.local"]
                self.mark(f"Service/{svc_name}", f"DNS name of {pod_name}")
        if service_name:
            names += [f"{pod_name}.{service_name}", f"{pod_name}.{service_name}.{ns}.svc"]
            self.mark(f"{owner}", f"serviceName {service_name}: pod DNS {pod_name}.{service_name}")
        return names

    def start(self, kind: str, name: str, index: int,
              extra_env: Mapping[str, str] | None = None) -> Pod:
        """Starts replica `index` of Deployment/StatefulSet `name` (pod
        <name>-<index>). `extra_env` is added to the container's env (after
        the manifest's: e.g. CLUEDROP_HEALTH_PORT for the image's
        HEALTHCHECK, which Kubernetes ignores)."""
        owner = f"{kind}/{name}"
        obj = self.object(kind, name)
        template = obj["spec"]["template"]
        pod_name = f"{name}-{index}"
        labels = dict(template["metadata"].get("labels") or {})
        spec = template["spec"]
        (container,) = spec["containers"]
        pod_sc = spec.get("securityContext") or {}
        sc = container.get("securityContext") or {}
        uid = sc.get("runAsUser", pod_sc.get("runAsUser"))
        gid = sc.get("runAsGroup", pod_sc.get("runAsGroup"))
        fs_group = pod_sc.get("fsGroup")
        env = self._env(pod_name, container, owner)
        argv = [expand(a, env) for a in container.get("command", []) + container.get("args", [])]
        image = self.images[container["image"]]
        cname = f"{self.prefix}-{pod_name}"
        args = ["run", "-d", "--pull=never", "--name", cname, "--hostname", pod_name,
                "--network", self.network, "--ip", self.pod_ip(pod_name),
                "--label", f"cluedrop-kube={self.prefix}",
                # The image's HEALTHCHECK stays; podman's timer for it needs
                # systemd, which these machines lack: healthcheck() runs it.
                "--health-interval", "disable"]
        aliases = self._aliases(pod_name, labels, obj["spec"].get("serviceName"), owner)
        for alias in aliases:
            args += ["--network-alias", alias]
        if uid is not None:
            args += ["--user", f"{uid}:{gid if gid is not None else uid}"]
            self.mark(owner, f"runAsUser {uid}, runAsGroup {gid}")
        if pod_sc.get("runAsNonRoot"):
            if not uid:
                raise ValueError(f"{owner}: runAsNonRoot without a non-zero runAsUser")
            self.mark(owner, "runAsNonRoot")
        if fs_group is not None:
            args += ["--group-add", str(fs_group)]
        if sc.get("readOnlyRootFilesystem"):
            args.append("--read-only")
            self.mark(owner, "readOnlyRootFilesystem")
        if "ALL" in ((sc.get("capabilities") or {}).get("drop") or []):
            args.append("--cap-drop=all")
            self.mark(owner, "capabilities drop ALL")
        if sc.get("allowPrivilegeEscalation") is False:
            args += ["--security-opt", "no-new-privileges"]
            self.mark(owner, "allowPrivilegeEscalation false")
        for k, v in {**env, **(extra_env or {})}.items():
            args += ["--env", f"{k}={v}"]
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        templates = {t["metadata"]["name"]: t for t in obj["spec"].get("volumeClaimTemplates", [])}
        owner_ids = (uid or 0, fs_group) if fs_group is not None else None
        for mount in container.get("volumeMounts", []):
            path, ro = mount["mountPath"], bool(mount.get("readOnly"))
            suffix = ":ro" if ro else ""
            vname = mount["name"]
            if vname in templates:
                vol = self.volume(f"{vname}-{pod_name}", owner_ids)
                args += ["-v", f"{vol}:{path}{suffix}"]
                self.mark(owner, f"volumeClaimTemplate {vname} at {path}")
                continue
            vol = volumes[vname]
            if "persistentVolumeClaim" in vol:
                claim = vol["persistentVolumeClaim"]["claimName"]
                self.object("PersistentVolumeClaim", claim)
                full = self.volume(claim, owner_ids)
                args += ["-v", f"{full}:{path}{suffix}"]
                self.mark(f"PersistentVolumeClaim/{claim}", f"{pod_name}:{path}{suffix}")
            elif "secret" in vol or "configMap" in vol:
                directory = self._files_volume(pod_name, vol, fs_group)
                args += ["-v", f"{directory}:{path}:ro"]
                self.mark(owner, f"volume {vname} at {path} (read-only)")
            elif "emptyDir" in vol:
                empty = vol["emptyDir"] or {}
                if path == "/dev/shm":
                    size = _quantity_bytes(str(empty.get("sizeLimit", "64Mi")))
                    args += ["--shm-size", str(size)]
                elif empty.get("medium") == "Memory":
                    opts = "rw,exec"
                    if empty.get("sizeLimit"):
                        opts += f",size={_quantity_bytes(str(empty['sizeLimit']))}"
                    args += ["--tmpfs", f"{path}:{opts}"]
                else:
                    # A disk emptyDir lives as long as the pod, across
                    # container restarts: a named volume, owned like fsGroup
                    # makes it (podman 4.3 ignores a tmpfs's mode= here).
                    vol = self.volume(f"{vname}-{pod_name}", (uid or 0, fs_group or gid or 0))
                    args += ["-v", f"{vol}:{path}"]
                self.mark(owner, f"emptyDir {vname} at {path}")
            else:
                raise ValueError(f"{owner}: volume {vname}: unsupported type {vol}")
        for port in container.get("ports", []):
            self.mark(owner, f"port {port.get('name')} {port['containerPort']}")
        args.append(image)
        args += argv
        self.mark(owner, "command and args: " + " ".join(argv))
        podman(*args)
        pod = Pod(pod_name, owner, cname, container, labels, env, argv, aliases)
        self.pods[pod_name] = pod
        self.log(f"  started {owner} pod {pod_name} ({image}) as {uid}:{gid}: {' '.join(argv)}")
        return pod

    # ------------------------------------------------------------ probes ---
    def ip(self, pod: Pod) -> str:
        out = podman("inspect", "--format",
                     "{{json .NetworkSettings.Networks}}", pod.container).stdout
        return json.loads(out)[self.network]["IPAddress"]

    def _port(self, pod: Pod, port: int | str) -> int:
        if isinstance(port, int):
            return port
        for p in pod.spec.get("ports", []):
            if p.get("name") == port:
                return int(p["containerPort"])
        raise ValueError(f"{pod.owner}: no container port named {port}")

    def probe_once(self, pod: Pod, probe: Mapping[str, Any]) -> tuple[bool, str]:
        """Runs one probe as the kubelet would; returns (ok, detail)."""
        timeout = probe.get("timeoutSeconds", 1)
        if "grpc" in probe:
            port = self._port(pod, probe["grpc"]["port"])
            service = probe["grpc"].get("service", "")
            # The kubelet dials the pod's IP; the image's own gRPC health
            # client, inside the pod's network namespace, dials the same port.
            proc = podman("exec", pod.container, "cluedrop", "health",
                          f"--address=127.0.0.1:{port}", f"--service={service}",
                          f"--timeout_ms={int(timeout * 1000)}", check=False)
            return proc.returncode == 0 and "SERVING" in proc.stdout, \
                f"grpc {port} service {service!r}: {(proc.stdout + proc.stderr).strip()}"
        if "httpGet" in probe:
            port = self._port(pod, probe["httpGet"]["port"])
            url = f"http://{self.ip(pod)}:{port}{probe['httpGet'].get('path', '/')}"
            try:
                with urllib.request.urlopen(url, timeout=timeout) as r:
                    return 200 <= r.status < 400, f"GET {url}: {r.status}"
            except OSError as error:
                return False, f"GET {url}: {error}"
        if "tcpSocket" in probe:
            port = self._port(pod, probe["tcpSocket"]["port"])
            try:
                with socket.create_connection((self.ip(pod), port), timeout=timeout):
                    return True, f"tcp {port}: open"
            except OSError as error:
                return False, f"tcp {port}: {error}"
        if "exec" in probe:
            proc = podman("exec", pod.container, *probe["exec"]["command"], check=False)
            return proc.returncode == 0, f"exec: exit {proc.returncode}"
        raise ValueError(f"{pod.owner}: unsupported probe {probe}")

    def wait_probe(self, pod: Pod, kind: str, limit_s: float = 120) -> str:
        """Polls the container's `kind` probe ("startupProbe",
        "readinessProbe", "livenessProbe") until it succeeds, at most
        min(limit_s, period x failureThreshold) (at least limit_s for
        readiness, which Kubernetes retries forever); returns its detail.
        Raises RuntimeError when it never succeeds or the container exits."""
        probe = pod.spec.get(kind)
        if not probe:
            return "none"
        period = min(float(probe.get("periodSeconds", 10)), 1.0)  # polled faster
        budget = limit_s
        if kind != "readinessProbe":
            budget = min(limit_s, float(probe.get("periodSeconds", 10)) *
                         int(probe.get("failureThreshold", 3)) + probe.get("initialDelaySeconds", 0))
        deadline = time.time() + max(budget, 5)
        detail = ""
        while time.time() < deadline:
            ok, detail = self.probe_once(pod, probe)
            if ok:
                self.mark(pod.owner, f"{kind}: {detail.split(':')[0]}")
                return detail
            if not self.running(pod):
                raise RuntimeError(f"{pod.name} exited while waiting for its {kind}: "
                                   f"{self.logs(pod)[-2000:]}")
            time.sleep(period)
        raise RuntimeError(f"{pod.name}: {kind} did not pass in {budget:.0f} s: {detail}\n"
                           f"{self.logs(pod)[-2000:]}")

    def wait_ready(self, pod: Pod, limit_s: float = 120) -> None:
        """startupProbe, then readinessProbe, then livenessProbe once."""
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            self.wait_probe(pod, kind, limit_s)

    # ------------------------------------------------------------ control ---
    def running(self, pod: Pod) -> bool:
        out = podman("inspect", "--format", "{{.State.Running}}", pod.container, check=False)
        return out.stdout.strip() == "true"

    def logs(self, pod: Pod) -> str:
        proc = podman("logs", pod.container, check=False)
        return proc.stdout + proc.stderr

    def kill9(self, pod: Pod) -> None:
        podman("kill", "--signal", "KILL", pod.container)

    def restart(self, pod: Pod) -> None:
        """The container starts again with the same volumes, as the kubelet
        restarts a container of a pod (restartPolicy Always)."""
        podman("start", pod.container)

    def healthcheck(self, pod: Pod) -> tuple[bool, str]:
        """The image's HEALTHCHECK, run now (`podman healthcheck run`)."""
        proc = podman("healthcheck", "run", pod.container, check=False)
        return proc.returncode == 0, (proc.stdout + proc.stderr).strip() or "healthy"

    def teardown(self) -> None:
        for pod in self.pods.values():
            podman("rm", "-f", "-t", "2", pod.container, check=False)
        podman("network", "rm", "-f", self.network, check=False)
        for vol in self.volumes:
            podman("volume", "rm", "-f", vol, check=False)

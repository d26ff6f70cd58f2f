#!/usr/bin/env python3
"""Which CPU numerics survive a change of CPU: the evidence behind
docs/demo.md, "Reproducibility".

Runs a few probes natively and under QEMU's user-mode emulator
(`qemu-x86_64 -cpu MODEL`, Debian package qemu-user), which reports
another CPU's CPUID (vendor, model, AVX2 without AVX-512) to PyTorch and
MKL, so they choose their kernels as on that CPU. Each probe is run under
the demo's two MKL settings (numerics.py: AUTO for `pinned`, COMPATIBLE for
`portable`) with the demo's other variables, and prints a hash of its
output bytes:

  gemm          a float32 matrix product (MKL SGEMM)
  sqrt          torch.sqrt of float32 (MKL's vector math library)
  adamw         20 steps of torch.optim.AdamW (its default implementation,
                what libtorch's C++ AdamW computes too)
  adamw_fused   the same with AdamW(fused=True), ATen's fused CPU kernel
  train         with --job: `cluedrop train JOB --local --ranks=2` (the
                exported model's bytes)

What emulation shows and what it does not: QEMU computes exactly-rounded
operations (IEEE add, multiply, FMA, divide, sqrt) as hardware does, but
computes approximate ones (rcpps, rsqrtps) differently from any real CPU,
as real Intel and AMD CPUs differ from each other. A probe that is equal
natively and under emulation uses neither and takes the same branch on the
emulated CPU; one that differs under every emulated model alike takes an
approximate instruction (or a branch emulation cannot reach).

Usage (takes 2-3 minutes; with --job several more, training is ~100x
slower under emulation):
  ~/.cache/cluedrop/venv/bin/python demo/numerics_probe.py \\
      [--cpus EPYC-Rome-v1,Haswell-v1] [--cli build/bin/cluedrop --job JOB.json]
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

from cluedrop_demo import numerics  # demo/ is this script's directory, so on sys.path

PROBES = ("gemm", "sqrt", "adamw", "adamw_fused")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def run_probes() -> dict[str, str]:
    """The probes of this process (run under the environment and CPU the
    caller chose); returns probe -> hash."""
    import torch
    torch.manual_seed(0)
    a, b = torch.randn(300, 257), torch.randn(257, 301)
    out = {"gemm": digest((a @ b).numpy().tobytes())}
    z = torch.rand(100003) + 0.1
    out["sqrt"] = digest(z.sqrt().numpy().tobytes())
    for name, kwargs in (("adamw", {}), ("adamw_fused", {"fused": True})):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.SiLU(),
                                    torch.nn.Linear(128, 64))
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01, **kwargs)
        x, y = torch.randn(32, 64), torch.randn(32, 64)
        for _ in range(20):
            opt.zero_grad()
            ((model(x) - y) ** 2).mean().backward()
            opt.step()
        out[name] = digest(b"".join(p.detach().numpy().tobytes() for p in model.parameters()))
    return out


def environment(setting: str) -> dict[str, str]:
    """The demo's variables for `setting` on an AVX2 CPU (the emulated CPUs
    have no AVX-512; /proc/cpuinfo under QEMU is the host's), one thread."""
    env = {k: v for k, v in os.environ.items() if k not in numerics.CONTROLLED}
    return dict(env, **numerics.environment(setting, flags={"avx2", "fma"}), OMP_NUM_THREADS="1")


def prefix(cpu: str) -> list[str]:
    return [] if cpu == "native" else ["qemu-x86_64", "-cpu", cpu]


def probe(cpu: str, setting: str) -> dict[str, str]:
    proc = subprocess.run([*prefix(cpu), sys.executable, __file__, "--child"],
                          env=environment(setting), capture_output=True, text=True, timeout=1200)
    if proc.returncode != 0:
        raise SystemExit(f"numerics_probe: {cpu} {setting}: exit {proc.returncode}\n"
                         f"{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def train(cpu: str, setting: str, cli: str, job: str, work: str) -> str:
    with open(job) as f:
        spec = json.load(f)
    out = os.path.join(work, f"{cpu}-{setting}")
    spec["output_dir"] = out
    path = out + ".json"
    with open(path, "w") as f:
        json.dump(spec, f)
    proc = subprocess.run([*prefix(cpu), cli, "train", path, "--local", "--ranks=2"],
                          env=environment(setting), capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise SystemExit(f"numerics_probe: train {cpu} {setting}: exit {proc.returncode}\n"
                         f"{proc.stderr[-2000:]}")
    with open(os.path.join(out, "final", "model.safetensors"), "rb") as f:
        return digest(f.read())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cpus", default="EPYC-Rome-v1,Haswell-v1",
                   help="QEMU CPU models to emulate (qemu-x86_64 -cpu help)")
    p.add_argument("--cli", help="the cluedrop binary, for --job")
    p.add_argument("--job", help="a job spec (JSON) to train natively and under each CPU")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(run_probes()))
        return
    if not shutil.which("qemu-x86_64"):
        raise SystemExit("numerics_probe: qemu-x86_64 not found (apt-get install qemu-user)")
    if bool(args.cli) != bool(args.job):
        raise SystemExit("numerics_probe: --cli and --job go together")
    cpus = ["native", *[c for c in args.cpus.split(",") if c]]
    results = {}  # (setting, cpu) -> probe -> hash
    with tempfile.TemporaryDirectory(prefix="numerics_probe.") as work:
        for setting in numerics.SETTINGS:
            for cpu in cpus:
                print(f"running the probes: {setting} on {cpu}", file=sys.stderr)
                r = probe(cpu, setting)
                if args.job:
                    r["train"] = train(cpu, setting, args.cli, args.job, work)
                results[setting, cpu] = r
    names = [*PROBES, *(["train"] if args.job else [])]
    print("| probe | numerics | " + " | ".join(cpus) + " |")
    print("|---|---|" + "---|" * len(cpus))
    for name in names:
        for setting in numerics.SETTINGS:
            native = results[setting, "native"][name]
            cells = [native] + ["same" if results[setting, c][name] == native
                                else f"differs ({results[setting, c][name]})" for c in cpus[1:]]
            print(f"| {name} | {setting} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

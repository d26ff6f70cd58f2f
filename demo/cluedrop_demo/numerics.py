"""The CPU numerics every process of the demo runs with, so that a report is
a function of the code and its inputs, not of the machine it ran on.

Left to themselves, PyTorch and MKL pick kernels by the CPU: ATen's
vectorized kernels by its ISA (AVX-512 on a recent Xeon, AVX2 on an AMD EPYC)
and MKL's GEMM by ISA and vendor; thread counts follow the core count and
change reduction orders. Each choice rounds differently, and the reference
models' pretraining, thousands of steps long, turns the last bit into other
models and other reports (the issue that asked for this: 2.8% vs 4.0% EM
before training, same code, two machines).

Two settings (DemoConfig.numerics, `--numerics`):

- pinned (default): ATEN_CPU_CAPABILITY=avx2 (or default on a CPU without
  AVX2), every process's thread count fixed by the demo, MKL in its
  conditional-reproducibility mode on the branch the host picks (MKL_CBWR=
  AUTO: deterministic reductions, fixed cache sizes, static scheduling).
  Bitwise reproducible on the same CPU model; MKL's branch may differ on
  another CPU.
- portable: also MKL_CBWR=COMPATIBLE, the branch MKL documents as giving
  the same results on Intel and compatible (AMD) CPUs. Matrix products then
  match across CPU models (checked under emulation: demo/numerics_probe.py),
  but training still does not: PyTorch's float sqrt, which AdamW uses, goes
  through MKL's vector math library, whose kernel on that branch too is
  built on rsqrtps, an approximate instruction whose results differ between
  CPU vendors. Slower (docs/demo.md has both measurements).

The values go into the reference models' cache key (a cache built under one
setting is not used under the other) and into the report.
"""

import os
from collections.abc import Mapping

SETTINGS = ("pinned", "portable")
# Variables a host (or a user's shell) may set that change kernels; the demo
# overrides or clears each.
CONTROLLED = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS",
              "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "MKL_NUM_THREADS",
              "MKL_DYNAMIC", "OMP_DYNAMIC")


def cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty if unreadable)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def environment(setting: str, flags: set[str] | None = None) -> dict[str, str]:
    """The variables of `setting` (see the module doc). Thread counts are
    set per process by the demo (OMP_NUM_THREADS); MKL follows them."""
    if setting not in SETTINGS:
        raise ValueError(f"numerics: {setting!r}; choose from {', '.join(SETTINGS)}")
    flags = cpu_flags() if flags is None else flags
    env = {
        "ATEN_CPU_CAPABILITY": "avx2" if {"avx2", "fma"} <= flags else "default",
        "MKL_CBWR": "COMPATIBLE" if setting == "portable" else "AUTO",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "MKL_DYNAMIC": "FALSE",
        "OMP_DYNAMIC": "FALSE",
    }
    return env


def apply(setting: str) -> dict[str, str]:
    """Sets `setting`'s variables in this process's environment (every
    process the demo starts inherits them), clears the other controlled
    ones, and returns what it set."""
    env = environment(setting)
    for name in CONTROLLED:
        os.environ.pop(name, None)
    os.environ.update(env)
    return env


def describe(env: Mapping[str, str]) -> str:
    """One line for the report."""
    return ", ".join(f"{k}={v}" for k, v in sorted(env.items()))

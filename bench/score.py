#!/usr/bin/env python3
"""Scoring: cluedrop's scorer vs the reference method (transformers eager
attention with output_attentions + the DESIGN aggregation), on the same
Llama pair (~100M large, ~30M small; random weights, written once and
cached), same threads, side by side in one run, each in a fresh process.
Also the cluedrop plain forward of both models, the floor scoring can't beat.

  bench/score.py [--threads 2] [--tokens 512,2048] [--device cpu] [--dtype float32]
                 [--kernels auto,tiled,fused]   (one cluedrop row per received-attention kernel)
"""
import argparse
import json
import math
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def reference_python(explicit):
    """An interpreter that has torch and transformers (the venv's by default)."""
    if explicit:
        return explicit
    cache = os.environ.get("CLUEDROP_CACHE", os.path.expanduser("~/.cache/cluedrop"))
    candidate = os.path.join(os.environ.get("CLUEDROP_VENV", os.path.join(cache, "venv")), "bin", "python")
    return candidate if os.path.exists(candidate) else sys.executable


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def ensure_model(python, preset, path, threads):
    if not os.path.exists(os.path.join(path, "config.json")):
        print(f"writing {preset} to {path}", file=sys.stderr)
        subprocess.run([python, os.path.join(ROOT, "tests/oracle/hf_forward_bench.py"), "--config",
                        preset, "--write-model", path, "--iters", "1", "--warmup", "0", "--tokens", "8",
                        "--threads", str(threads)], check=True, capture_output=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--tokens", default="512,2048")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--iters", type=int, default=2)
    ap.add_argument("--tile", type=int, default=0, help="query rows per tile (0: by device)")
    ap.add_argument("--kernels", default="auto",
                    help="comma list of --attention_kernel values for cluedrop (auto, tiled, fused)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--models", default=os.path.join(
        os.environ.get("CLUEDROP_CACHE", os.path.expanduser("~/.cache/cluedrop")), "bench"))
    ap.add_argument("--python", help="interpreter for the reference side (default: $CLUEDROP_VENV/bin/python)")
    args = ap.parse_args()
    python = reference_python(args.python)
    large = os.path.join(args.models, "llama-100m-8k")
    small = os.path.join(args.models, "llama-30m-8k")
    ensure_model(python, "llama-100m-8k", large, args.threads)
    ensure_model(python, "llama-30m-8k", small, args.threads)
    common = ["--large", large, "--small", small, "--device", args.device, "--dtype", args.dtype,
              "--threads", str(args.threads), "--iters", str(args.iters)]
    rows = []
    for tokens in [int(t) for t in args.tokens.split(",")]:
        ref_dump = f"/tmp/reference_score_{tokens}.txt"
        ours = {}
        for kernel in args.kernels.split(","):
            ours[kernel] = run([os.path.join(args.build, "bench", "score_bench"), "--tokens", str(tokens),
                                "--tile", str(args.tile), "--attention_kernel", kernel,
                                "--dump", f"/tmp/cluedrop_score_{tokens}_{kernel}.txt"] + common)
        try:
            ref = run([python, os.path.join(ROOT, "bench", "reference_score.py"), "--tokens",
                       str(tokens), "--dump", ref_dump] + common)
        except subprocess.CalledProcessError as e:
            ref = {"score_tokens_per_s": float("nan"), "peak_bytes": float("nan"),
                   "error": (e.stderr or "").strip().splitlines()[-1:]}
        for kernel, o in ours.items():
            diff = float("nan")
            if os.path.exists(ref_dump) and "error" not in ref:
                a = [float(x) for x in open(f"/tmp/cluedrop_score_{tokens}_{kernel}.txt")]
                b = [float(x) for x in open(ref_dump)]
                diff = max(abs(x - y) for x, y in zip(a, b) if x == x and y == y)
            rows.append((tokens, kernel, o, ref, diff))
    print(f"\nScoring one sequence with a Llama pair (100M large, 30M small), {args.threads} threads, "
          f"{args.device} {args.dtype}, mean of {args.iters} iters")
    print(f"{'T':>5} | {'kernel':>6} | {'fwd ms':>8} | {'score ms':>9} | {'score/fwd':>9} | {'ref ms':>9} | "
          f"{'speedup':>7} | {'peak ours':>10} | {'peak ref':>10} | {'mem ratio':>9} | {'max |dC|':>9}")
    print("-" * 119)
    gib = 1 << 30
    for tokens, kernel, o, r, diff in rows:
        ref_ms = tokens / r["score_tokens_per_s"] * 1000 if r["score_tokens_per_s"] == r["score_tokens_per_s"] else math.nan
        print(f"{tokens:>5} | {kernel:>6} | {o['forward_ms']:>8.1f} | {o['score_ms']:>9.1f} | {o['score_ms'] / o['forward_ms']:>8.2f}x | "
              f"{ref_ms:>9.1f} | {ref_ms / o['score_ms']:>6.2f}x | {o['peak_bytes'] / gib:>8.2f}Gi | "
              f"{r['peak_bytes'] / gib:>8.2f}Gi | {o['peak_bytes'] / r['peak_bytes']:>9.3f} | {diff:>9.2e}")
        if "error" in r:
            print(f"      reference failed: {r['error']}")
    print("peak = memory scoring needs beyond the loaded models: CPU, peak RSS during the timed "
          "iterations minus RSS before them (VmHWM reset through /proc/self/clear_refs); CUDA, the "
          "allocator's peak allocated bytes during them minus those allocated before. kernel auto = "
          "the tiles for now (the fused kernel is opt-in until verified on a GPU); max |dC| = largest contrast "
          "difference from the reference where both are defined")


if __name__ == "__main__":
    main()

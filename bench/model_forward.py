#!/usr/bin/env python3
"""Forward-pass throughput: cluedrop's C++ runtime vs Hugging Face transformers.

Both run the SAME ~100M-parameter Llama checkpoint (written once by
tests/oracle/hf_forward_bench.py --write-model and cached), with the same
thread count, batch and sequence length, alternating in one run, each in a
fresh process. Prints a table of tokens/s and the cluedrop/transformers ratio.

  bench/model_forward.py [--threads 2] [--tokens 128,512] [--batch 1] [--iters 5]
                         [--device cpu] [--dtype float32] [--rounds 2]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--tokens", default="128,512")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--model", default=os.path.join(
        os.environ.get("CLUEDROP_CACHE", os.path.expanduser("~/.cache/cluedrop")), "bench", "llama-100m"))
    args = ap.parse_args()
    hf = [sys.executable, os.path.join(ROOT, "tests/oracle/hf_forward_bench.py")]
    if not os.path.exists(os.path.join(args.model, "config.json")):
        print(f"writing the benchmark checkpoint to {args.model}", file=sys.stderr)
        subprocess.run(hf + ["--config", "llama-100m", "--write-model", args.model, "--iters", "1", "--warmup", "0", "--tokens", "8",
                             "--threads", str(args.threads)], check=True, capture_output=True)
    ours = [os.path.join(args.build, "bench", "model_forward_bench"), "--model", args.model]
    rows = []
    for tokens in [int(t) for t in args.tokens.split(",")]:
        common = ["--threads", str(args.threads), "--tokens", str(tokens), "--batch", str(args.batch),
                  "--iters", str(args.iters), "--device", args.device, "--dtype", args.dtype]
        c, h = [], []
        for _ in range(args.rounds):  # alternate so drift hits both equally
            c.append(run(ours + common))
            h.append(run(hf + ["--config", args.model] + common))
        c_tps = statistics.median(r["tokens_per_s"] for r in c)
        h_tps = statistics.median(r["tokens_per_s"] for r in h)
        rows.append((tokens, c[0]["params"], c_tps, h_tps))
    print(f"\nForward pass, Llama ~{rows[0][1] / 1e6:.0f}M params, batch {args.batch}, {args.threads} threads, "
          f"{args.device} {args.dtype}, median of {args.rounds} rounds x {args.iters} iters")
    print(f"{'tokens':>7} | {'cluedrop tok/s':>15} | {'transformers tok/s':>19} | {'ratio':>6}")
    print("-" * 58)
    for tokens, _, c_tps, h_tps in rows:
        print(f"{tokens:>7} | {c_tps:>15.1f} | {h_tps:>19.1f} | {c_tps / h_tps:>5.2f}x")


if __name__ == "__main__":
    main()

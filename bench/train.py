#!/usr/bin/env python3
"""Training throughput: cluedrop's TrainStep vs a PyTorch eager training loop.

Both train the SAME ~22M-parameter Llama checkpoint (the llama-30m-8k preset of
tests/oracle/hf_forward_bench.py: random weights, written once and cached
under ~/.cache/cluedrop/bench) on the SAME batches of random token ids, with
the same thread count, batch, sequence length and optimizer: full fine-tuning
in float32 on the CPU, AdamW (lr 1e-4, betas 0.9/0.999, eps 1e-8, no weight
decay), constant learning rate, global gradient-norm clipping at 1.0, mean
token cross-entropy over the B*(T-1) next-token targets, world size 1.

  cluedrop: build/bench/train_bench (TrainStep::Run over a 1-rank Gloo group:
            forward, loss, backward with the bucketed all-reduce, clipping, AdamW)
  PyTorch:  transformers LlamaForCausalLM (sdpa attention) from the same
            checkpoint, `loss = model(ids, attention_mask, labels=ids).loss;
            loss.backward(); clip_grad_norm_; AdamW.step()` (this file, run
            with --reference)

Each side runs in a fresh process, alternating (--rounds), W warm-up steps then
N timed steps, each step on the next batch. A run's tokens/s = B*T / its median
step time; each side shows its best run (the least disturbed when something
else shares the machine: bursts of contention hit whole runs).
The first-step losses (initial weights, batch 0) must agree within --loss-tol,
else the exit code is 1; the largest loss difference over all steps is shown
too (same data and optimizer, so the trajectories should stay together).
Peak RSS is each process's VmHWM (the PyTorch one includes the Python
interpreter and transformers); "+train" is the peak minus the RSS after
loading the model and creating the optimizer.

  bench/train.py [--threads 2] [--seq 128,512] [--batch 4] [--steps 4]
                 [--warmup 2] [--rounds 2] [--build build] [--model DIR]
                 [--collectives gloo|fake] [--lr 1e-4] [--grad-clip 1.0]
"""
import argparse
import array
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile

from proc_memory import proc_status_bytes  # bench/, next to this script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("CLUEDROP_CACHE", os.path.expanduser("~/.cache/cluedrop"))
PRESET = "llama-30m-8k"


def reference(args):
    """The PyTorch eager loop; prints one JSON line like train_bench."""
    import time

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import transformers
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(args.threads)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32, attn_implementation="sdpa")
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=args.weight_decay)
    with open(args.ids, "rb") as f:
        flat = torch.frombuffer(bytearray(f.read()), dtype=torch.int64)  # little-endian hosts
    batches = flat.view(-1, args.batch, args.seq)
    mask = torch.ones(args.batch, args.seq, dtype=torch.long)
    rss_loaded = proc_status_bytes("VmRSS")
    losses, seconds = [], []
    for i in range(args.warmup + args.steps):
        ids = batches[i % batches.size(0)]
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = model(input_ids=ids, attention_mask=mask, labels=ids, use_cache=False).loss
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, args.grad_clip)
        opt.step()
        value = loss.item()
        dt = time.perf_counter() - t0
        losses.append(value)
        print(f"step {i}{' (warm-up)' if i < args.warmup else ''}: loss {value:.6g}, grad norm {norm.item():.6g}, "
              f"{dt * 1000:.1f} ms", file=sys.stderr, flush=True)
        if i >= args.warmup:
            seconds.append(dt)
    step_s = statistics.median(seconds)
    print(json.dumps({
        "impl": "pytorch", "tokens_per_s": args.batch * args.seq / step_s, "step_ms_median": step_s * 1000,
        "step_ms": [round(s * 1000, 2) for s in seconds], "losses": losses,
        "params": sum(p.numel() for p in params), "threads": torch.get_num_threads(), "batch": args.batch,
        "seq": args.seq, "tokens_per_step": args.batch * args.seq, "warmup": args.warmup, "steps": args.steps,
        "rss_loaded_bytes": rss_loaded, "peak_rss_bytes": proc_status_bytes("VmHWM"),
        "torch": torch.__version__, "transformers": transformers.__version__,
    }), flush=True)


def cpu_busy_seconds():
    """CPU seconds all processes spent so far (/proc/stat: all but idle and iowait)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def run_once(cmd):
    """Runs one side; adds "others": the share of the machine's CPUs that other
    processes used meanwhile (contention that slows the run down)."""
    import resource
    import time

    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy, t0 = cpu_busy_seconds(), time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall, busy = time.monotonic() - t0, cpu_busy_seconds() - busy
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-3000:]}")
    res = json.loads(p.stdout.strip().splitlines()[-1])
    own = after.ru_utime + after.ru_stime - child.ru_utime - child.ru_stime
    res["others"] = max(0.0, busy - own) / (wall * os.cpu_count())
    return res


def run(cmd, retries, busy):
    """run_once, repeated up to `retries` times while others used more than `busy`."""
    res = run_once(cmd)
    for _ in range(retries):
        if res["others"] <= busy:
            break
        print(f"  other processes used {res['others']:.0%} of the CPUs: rerunning", file=sys.stderr, flush=True)
        res = run_once(cmd)
    return res


def reference_python(explicit):
    """An interpreter that has torch and transformers (the venv's by default)."""
    if explicit:
        return explicit
    venv = os.environ.get("CLUEDROP_VENV", os.path.join(CACHE, "venv"))
    candidate = os.path.join(venv, "bin", "python")
    return candidate if os.path.exists(candidate) else sys.executable


def mib(b):
    return f"{b / (1 << 20):.0f}M"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--seq", default="128,512", help="sequence lengths, comma-separated")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=4, help="timed steps per run")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    ap.add_argument("--rounds", type=int, default=2, help="runs of each side per sequence length, alternating")
    ap.add_argument("--retries", type=int, default=1,
                    help="reruns of a run during which other processes used more than --busy of the CPUs")
    ap.add_argument("--busy", type=float, default=0.15)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--grad-clip", type=float, default=1.0)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--loss-tol", type=float, default=1e-4, help="max |first-step loss difference|")
    ap.add_argument("--collectives", default="gloo", choices=["gloo", "fake"], help="cluedrop's world-size-1 group")
    ap.add_argument("--build", default=os.environ.get("CLUEDROP_BUILD", os.path.join(ROOT, "build")))
    ap.add_argument("--model", default=os.path.join(CACHE, "bench", PRESET))
    ap.add_argument("--python", help="interpreter for the PyTorch side (default: $CLUEDROP_VENV/bin/python)")
    ap.add_argument("--seed", type=int, default=0)
    # Internal: run the PyTorch loop in this process.
    ap.add_argument("--reference", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--ids", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.reference:
        args.seq = int(args.seq)
        return reference(args)

    py = reference_python(args.python)
    if not os.path.exists(os.path.join(args.model, "config.json")):
        print(f"writing {PRESET} to {args.model}", file=sys.stderr)
        subprocess.run([py, os.path.join(ROOT, "tests/oracle/hf_forward_bench.py"), "--config", PRESET,
                        "--write-model", args.model, "--iters", "1", "--warmup", "0", "--tokens", "8",
                        "--threads", str(args.threads)], check=True, capture_output=True)
    binary = os.path.join(args.build, "bench", "train_bench")
    if not os.path.exists(binary):
        if not os.path.exists(os.path.join(args.build, "build.ninja")):
            sys.exit(f"{binary} missing and {args.build} is not a Ninja build: "
                     f"cmake -S {ROOT} -B {args.build} -G Ninja && ninja -C {args.build} train_bench")
        print(f"building train_bench in {args.build}", file=sys.stderr)
        subprocess.run(["ninja", "-C", args.build, "train_bench"], check=True)
    with open(os.path.join(args.model, "config.json")) as f:
        vocab = json.load(f)["vocab_size"]

    load_before = os.getloadavg()[0]
    rows, ok = [], True
    tmp = tempfile.mkdtemp(prefix="cluedrop_train_bench_")
    try:
        for seq in [int(s) for s in args.seq.split(",")]:
            # One batch per step, the same on both sides: ids in [3, vocab), no padding.
            rng = random.Random(args.seed * 1000003 + seq)
            ids_path = os.path.join(tmp, f"ids_{seq}.bin")
            n = (args.warmup + args.steps) * args.batch * seq
            with open(ids_path, "wb") as f:
                array.array("q", (rng.randrange(3, vocab) for _ in range(n))).tofile(f)
            common = ["--model", args.model, "--ids", ids_path, "--threads", str(args.threads),
                      "--batch", str(args.batch), "--seq", str(seq), "--steps", str(args.steps),
                      "--warmup", str(args.warmup), "--lr", repr(args.lr)]
            ours = [binary, "--grad_clip", repr(args.grad_clip), "--weight_decay", repr(args.weight_decay),
                    "--collectives", args.collectives] + common
            ref = [py, os.path.abspath(__file__), "--reference", "--grad-clip", repr(args.grad_clip),
                   "--weight-decay", repr(args.weight_decay)] + common
            c, h = [], []
            for _ in range(args.rounds):  # alternate so drift hits both equally
                print(f"seq {seq}: cluedrop", file=sys.stderr, flush=True)
                c.append(run(ours, args.retries, args.busy))
                print(f"seq {seq}: pytorch", file=sys.stderr, flush=True)
                h.append(run(ref, args.retries, args.busy))
            first = (c[0]["losses"][0], h[0]["losses"][0])
            drift = max(abs(a - b) for a, b in zip(c[0]["losses"], h[0]["losses"]))
            ok &= abs(first[0] - first[1]) <= args.loss_tol
            rows.append(dict(seq=seq, tokens=args.batch * seq, c=c, h=h, first=first, drift=drift,
                             c_tps=max(r["tokens_per_s"] for r in c), h_tps=max(r["tokens_per_s"] for r in h)))
    finally:
        for name in os.listdir(tmp):
            os.remove(os.path.join(tmp, name))
        os.rmdir(tmp)

    r0 = rows[0]["h"][0]
    print(f"\nTraining step (AdamW lr {args.lr:g}, clip {args.grad_clip:g}, wd {args.weight_decay:g}), "
          f"Llama {rows[0]['c'][0]['params'] / 1e6:.1f}M params ({os.path.basename(args.model)}), batch {args.batch}, "
          f"{args.threads} threads, cpu float32, world size 1 (cluedrop: {args.collectives}); "
          f"median of {args.steps} steps after {args.warmup} warm-up, best of {args.rounds} run(s) per side; "
          f"torch {r0['torch']}, transformers {r0['transformers']}")
    print(f"{'seq':>5} | {'tokens/step':>11} | {'cluedrop tok/s':>14} | {'PyTorch tok/s':>13} | {'ratio':>6} | "
          f"{'cluedrop RSS peak (+train)':>26} | {'PyTorch RSS peak (+train)':>25}")
    print("-" * 123)
    for r in rows:
        co, ho = r["c"][0], r["h"][0]
        cr = f"{mib(co['peak_rss_bytes'])} (+{mib(co['peak_rss_bytes'] - co['rss_loaded_bytes'])})"
        hr = f"{mib(ho['peak_rss_bytes'])} (+{mib(ho['peak_rss_bytes'] - ho['rss_loaded_bytes'])})"
        print(f"{r['seq']:>5} | {r['tokens']:>11} | {r['c_tps']:>14.1f} | {r['h_tps']:>13.1f} | "
              f"{r['c_tps'] / r['h_tps']:>5.2f}x | {cr:>26} | {hr:>25}")
    print("\nFirst-step loss (initial weights, batch 0) and the largest |difference| over all "
          f"{args.warmup + args.steps} steps:")
    for r in rows:
        a, b = r["first"]
        verdict = "OK" if abs(a - b) <= args.loss_tol else f"MISMATCH (> {args.loss_tol:g})"
        print(f"  seq {r['seq']:>4}: cluedrop {a:.7f}  PyTorch {b:.7f}  |d| {abs(a - b):.2e}  {verdict};  "
              f"max |d| over steps {r['drift']:.2e}")
    print("Timed step ms per run (cluedrop | PyTorch), with the share of the CPUs other processes used "
          f"meanwhile; load average 1 min {load_before:.2f} before, {os.getloadavg()[0]:.2f} after:")
    for r in rows:
        for co, ho in zip(r["c"], r["h"]):
            print(f"  seq {r['seq']:>4}: {' '.join(f'{x:.0f}' for x in co['step_ms'])} (others {co['others']:.0%}) | "
                  f"{' '.join(f'{x:.0f}' for x in ho['step_ms'])} (others {ho['others']:.0%})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

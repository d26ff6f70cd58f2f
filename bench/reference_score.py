#!/usr/bin/env python3
"""The reference scoring method: transformers eager attention with
output_attentions=True for the large and the small model, then the DESIGN
formula (received(j) = mean over layers and heads of the column sum of
attention over queries i >= j, divided by T - j) and the contrast.

Prints ONE JSON line {"impl": "reference", "score_ms", "peak_bytes", ...}.
  reference_score.py --large DIR --small DIR --tokens T [--device cpu|cuda]
                     [--dtype float32|bfloat16] [--threads N] [--iters K] [--dump FILE]
"""
import argparse
import json
import os
import time

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402
from proc_memory import proc_status_bytes  # noqa: E402  (bench/, next to this script)


def received(model, ids):
    out = model.model(input_ids=ids, output_attentions=True)  # base model: no LM head
    t = ids.shape[1]
    total = torch.zeros(t, dtype=torch.float32, device=ids.device)
    for a in out.attentions:  # [1, H, T, T]
        total += a[0].float().sum(dim=(0, 1))  # column sums over heads and queries
    n_layers, n_heads = len(out.attentions), out.attentions[0].shape[1]
    queries = torch.arange(t, 0, -1, device=ids.device, dtype=torch.float32)  # T - j
    return total / (n_layers * n_heads) / queries


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--large", required=True)
    ap.add_argument("--small", required=True)
    ap.add_argument("--tokens", type=int, required=True)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--iters", type=int, default=2)
    ap.add_argument("--dump")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = torch.bfloat16 if args.dtype == "bfloat16" else torch.float32
    models = [AutoModelForCausalLM.from_pretrained(d, dtype=dtype, attn_implementation="eager")
              .to(args.device).eval() for d in (args.large, args.small)]
    vocab = models[0].config.vocab_size
    # The same token ids as score_bench (torch.manual_seed(0); randint(3, vocab)).
    torch.manual_seed(0)
    ids = torch.randint(3, vocab, (1, args.tokens), dtype=torch.long).to(args.device)
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)

    def score():
        with torch.inference_mode():
            return received(models[0], ids) - received(models[1], ids)

    score()
    sync()
    rss_before = proc_status_bytes("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:  # reset VmHWM (Linux >= 4.0)
        f.write("5")
    gpu_before = 0
    if args.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
        gpu_before = torch.cuda.memory_allocated()
    start = time.perf_counter()
    for _ in range(args.iters):
        contrast = score()
    sync()
    seconds = (time.perf_counter() - start) / args.iters
    if args.device.startswith("cuda"):
        peak, kind = torch.cuda.max_memory_allocated() - gpu_before, "cuda_peak_allocated"
    else:
        peak, kind = proc_status_bytes("VmHWM") - rss_before, "peak_rss_above_loaded"
    if args.dump:
        with open(args.dump, "w") as f:
            f.writelines(f"{v}\n" for v in contrast.float().cpu().tolist())
    print(json.dumps({"impl": "reference", "tokens": args.tokens, "device": args.device,
                      "dtype": args.dtype, "threads": torch.get_num_threads(),
                      "score_ms": 1000 * seconds, "score_tokens_per_s": args.tokens / seconds,
                      "peak_bytes": peak, "peak_kind": kind}))


if __name__ == "__main__":
    main()

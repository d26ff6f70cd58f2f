#!/usr/bin/env python3
"""Time transformers' forward pass of a ~100M-parameter Llama, as a baseline.

Usage:
  hf_forward_bench.py --config CONFIG --threads N --tokens T --batch B --iters K
                      [--warmup W] [--dtype float32|bfloat16] [--device cpu|cuda]
                      [--write-model DIR] [--seed S]

CONFIG is one of
  * a preset name: "llama-100m" (hidden 768, 12 layers, 12 heads / 4 kv heads,
    intermediate 2048, vocab 32000, tied embeddings: 100.1M parameters), or
    "llama-tiny" (a few-MB model for smoke tests);
  * a config.json path (random weights, seeded);
  * a checkpoint directory (its config.json and, when present, its weights).
With --write-model DIR the model actually benchmarked (config + random
weights, float32) is written there with save_pretrained, so the C++ bench can
load the very same checkpoint.

Runs W warm-up and K timed forward passes over a [B, T] batch of random ids
(full attention mask, no KV cache) under torch.inference_mode() with
attn_implementation="sdpa", and prints ONE JSON line on stdout:
  {"impl": "transformers", "tokens_per_s", "ms_per_forward", "params", "threads",
   "device", "dtype", ...}
Everything else goes to stderr.
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

PRESETS = {
    "llama-100m": dict(
        vocab_size=32000, hidden_size=768, intermediate_size=2048, num_hidden_layers=12,
        num_attention_heads=12, num_key_value_heads=4, max_position_embeddings=2048,
        rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True,
        bos_token_id=1, eos_token_id=2, pad_token_id=0,
    ),
    # The scoring benchmark's pair (contexts long enough for T = 4096).
    "llama-100m-8k": dict(
        vocab_size=32000, hidden_size=768, intermediate_size=2048, num_hidden_layers=12,
        num_attention_heads=12, num_key_value_heads=4, max_position_embeddings=8192,
        rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True,
        bos_token_id=1, eos_token_id=2, pad_token_id=0,
    ),
    "llama-30m-8k": dict(
        vocab_size=32000, hidden_size=384, intermediate_size=1024, num_hidden_layers=6,
        num_attention_heads=6, num_key_value_heads=2, max_position_embeddings=8192,
        rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True,
        bos_token_id=1, eos_token_id=2, pad_token_id=0,
    ),
    "llama-tiny": dict(
        vocab_size=1024, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True,
        bos_token_id=1, eos_token_id=2, pad_token_id=0,
    ),
}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def build_model(spec, seed):
    from transformers import AutoConfig, AutoModelForCausalLM, LlamaConfig

    if spec in PRESETS:
        cfg = LlamaConfig(**PRESETS[spec])
        source = f"preset {spec}"
    elif os.path.isdir(spec):
        has_weights = any(os.path.exists(os.path.join(spec, f)) for f in
                          ("model.safetensors", "model.safetensors.index.json",
                           "pytorch_model.bin", "pytorch_model.bin.index.json"))
        if has_weights:
            m = AutoModelForCausalLM.from_pretrained(spec, dtype=torch.float32, attn_implementation="sdpa")
            return m, f"checkpoint {spec}"
        cfg = AutoConfig.from_pretrained(spec)
        source = f"config {spec}/config.json"
    elif os.path.isfile(spec):
        with open(spec) as f:
            d = json.load(f)
        mt = d.pop("model_type", "llama")
        cfg = AutoConfig.for_model(mt, **d)
        source = f"config {spec}"
    else:
        sys.exit(f"--config {spec!r}: neither a preset ({', '.join(PRESETS)}) nor a file or directory")
    torch.manual_seed(seed)
    cfg._attn_implementation = "sdpa"
    m = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32, attn_implementation="sdpa")
    return m, source


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="llama-100m")
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--tokens", type=int, required=True, help="sequence length T")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--write-model", metavar="DIR")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import transformers
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()

    torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: CUDA is not available")

    model, source = build_model(args.config, args.seed)
    model.eval()
    params = sum(p.numel() for p in model.parameters())
    log(f"model: {type(model).__name__} from {source}, {params / 1e6:.1f}M params")
    if args.write_model:
        os.makedirs(args.write_model, exist_ok=True)
        model.save_pretrained(args.write_model, safe_serialization=True)
        log(f"wrote {args.write_model}")

    dtype = torch.bfloat16 if args.dtype == "bfloat16" else torch.float32
    dev = torch.device(args.device)
    model.to(device=dev, dtype=dtype)
    vocab = model.config.vocab_size
    g = torch.Generator().manual_seed(args.seed + 1)
    ids = torch.randint(3, vocab, (args.batch, args.tokens), generator=g).to(dev)
    mask = torch.ones_like(ids)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    times = []
    with torch.inference_mode():
        for i in range(args.warmup + args.iters):
            sync()
            t0 = time.perf_counter()
            out = model(input_ids=ids, attention_mask=mask, use_cache=False)
            _ = out.logits
            sync()
            dt = time.perf_counter() - t0
            if i >= args.warmup:
                times.append(dt)
    total = sum(times)
    tokens = args.batch * args.tokens
    res = {
        "impl": "transformers",
        "tokens_per_s": tokens * len(times) / total,
        "ms_per_forward": 1000 * total / len(times),
        "ms_per_forward_median": 1000 * statistics.median(times),
        "ms_per_forward_min": 1000 * min(times),
        "params": params,
        "threads": args.threads,
        "device": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu",
        "dtype": args.dtype,
        "batch": args.batch,
        "tokens": args.tokens,
        "iters": args.iters,
        "warmup": args.warmup,
        "attn_implementation": "sdpa",
        "model": source,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()

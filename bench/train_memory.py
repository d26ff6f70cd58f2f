#!/usr/bin/env python3
"""Training memory and speed for large-target settings (issue 19), cluedrop vs
PyTorch + PEFT doing the same on the same machine, and the memory planner's
estimate vs the measured peak.

A random-init Llama (the --preset; "30m": 8 layers, hidden 512, vocab 8000,
~32M parameters; "100m": 12 layers, hidden 768, vocab 32000, ~124M) trains
float32 on the CPU with LoRA r16 on q_proj and v_proj (the paper's set-up),
AdamW, on B x T random token ids, in four settings:

  1 device         the whole model on one device
  2-device split   layers split over two CPU "devices" (cluedrop:
                   target_model.device_map.layer_split; PyTorch: the same
                   modules, no transfers on the CPU either)
  split + ckpt     and activation checkpointing of every layer (cluedrop:
                   training.activation_checkpointing 1; PyTorch:
                   model.gradient_checkpointing_enable(), reentrant)
  int8 base        weight-only int8 base (cluedrop: target_model.quantization
                   int8; PyTorch: the same per-channel absmax int8 in a
                   Linear replacement with a custom autograd function that
                   keeps the int8 weight, as bitsandbytes does on a GPU:
                   bitsandbytes has no CPU 8-bit matmul)

Each run is a fresh process (cluedrop: build/bench/train_memory_bench;
PyTorch: this file with --reference). Columns: the planner's estimate and the
exact peak of tensor memory the CPU allocator reports for cluedrop (their
ratio: the planner's error); "+train RSS": each process's peak RSS minus its
RSS before the steps (same measure both sides); tokens/s over the steps after
the first.

  bench/train_memory.py [--preset 30m|100m] [--batch 2] [--seq 256] [--steps 3]
                        [--threads 2] [--build build]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from proc_memory import proc_status_bytes  # bench/, next to this script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESETS = {
    "30m": dict(hidden_size=512, intermediate_size=1408, num_hidden_layers=8,
                num_attention_heads=8, num_key_value_heads=4, vocab_size=8000),
    "100m": dict(hidden_size=768, intermediate_size=2048, num_hidden_layers=12,
                 num_attention_heads=12, num_key_value_heads=4, vocab_size=32000),
}
MODES = [("1 device", {}), ("2-device split", {"split": 2}),
         ("split + ckpt", {"split": 2, "checkpointing": 1}), ("int8 base", {"int8": 1})]
RANK = 16


def config(preset):
    c = dict(model_type="llama", max_position_embeddings=2048, tie_word_embeddings=False,
             rms_norm_eps=1e-5, rope_theta=10000.0, hidden_act="silu")
    c.update(PRESETS[preset])
    return c


def run_cluedrop(args, cfg_path, mode):
    argv = [os.path.join(args.build, "bench", "train_memory_bench"), "--config", cfg_path,
            "--batch", str(args.batch), "--seq", str(args.seq), "--steps", str(args.steps),
            "--threads", str(args.threads), "--lora_rank", str(RANK)]
    for key, value in mode.items():
        argv += [f"--{key}", str(value)]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_reference(args, cfg_path, mode):
    argv = [sys.executable, os.path.abspath(__file__), "--reference", "--config", cfg_path,
            "--batch", str(args.batch), "--seq", str(args.seq), "--steps", str(args.steps),
            "--threads", str(args.threads), "--mode", json.dumps(mode)]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def reference(args):
    """PyTorch + PEFT doing the same (a fresh process)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.set_num_threads(args.threads)
    mode = json.loads(args.mode)
    cfg = LlamaConfig(**json.load(open(args.config)))
    cfg._attn_implementation = "sdpa"
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg)
    if mode.get("int8"):
        quantize_int8_(model)
    if mode.get("checkpointing"):
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})
        model.enable_input_require_grads()
    model = get_peft_model(model, LoraConfig(r=RANK, lora_alpha=2 * RANK, lora_dropout=0.0,
                                             target_modules=["q_proj", "v_proj"]))
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4)
    torch.manual_seed(1)
    ids = torch.randint(0, cfg.vocab_size, (args.batch, args.seq))
    rss_before = proc_status_bytes("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    seconds, loss = 0.0, 0.0
    for i in range(args.steps):
        start = time.perf_counter()
        out = model(input_ids=ids, labels=ids)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if i > 0 or args.steps == 1:
            seconds += time.perf_counter() - start
        loss = out.loss.item()
    timed = max(1, args.steps - 1)
    print(json.dumps(dict(rss_train_bytes=proc_status_bytes("VmHWM") - rss_before,
                          tokens_per_second=args.batch * args.seq * timed / seconds, loss=loss)))


def quantize_int8_(model):
    """Every nn.Linear but lm_head -> per-channel absmax int8, dequantized in
    a custom autograd function that saves only the int8 weight."""
    import torch

    class Int8Matmul(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, q, scale):
            ctx.save_for_backward(q, scale)
            return torch.nn.functional.linear(x, q.to(x.dtype) * scale[:, None])

        @staticmethod
        def backward(ctx, g):
            q, scale = ctx.saved_tensors
            return g @ (q.to(g.dtype) * scale[:, None]), None, None

    class Int8Linear(torch.nn.Linear):  # an nn.Linear so that PEFT adapts it
        def __init__(self, linear):
            torch.nn.Module.__init__(self)
            w = linear.weight.detach().float()
            absmax = w.abs().amax(dim=1)
            scale = torch.where(absmax > 0, absmax / 127.0, torch.ones_like(absmax))
            self.register_buffer("q", torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8))
            self.register_buffer("scale", scale)
            self.in_features, self.out_features = linear.in_features, linear.out_features
            # PEFT reads the base weight's dtype and device only.
            self.weight = torch.nn.Parameter(torch.empty(0), requires_grad=False)
            self.bias = None

        def forward(self, x):
            return Int8Matmul.apply(x, self.q, self.scale)

    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            full = f"{name}.{child_name}" if name else child_name
            if isinstance(child, torch.nn.Linear) and full != "lm_head":
                setattr(module, child_name, Int8Linear(child))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="30m", choices=sorted(PRESETS))
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reference", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--config", help=argparse.SUPPRESS)
    ap.add_argument("--mode", default="{}", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.reference:
        reference(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        cfg_path = os.path.join(tmp, "config.json")
        with open(cfg_path, "w") as f:
            json.dump(config(args.preset), f)
        params = None
        rows = []
        for name, mode in MODES:
            ours = run_cluedrop(args, cfg_path, mode)
            ref = run_reference(args, cfg_path, mode)
            rows.append((name, ours, ref))
            print(f"{name}: done", file=sys.stderr, flush=True)
    mib = 1 << 20
    print(f"preset {args.preset}, LoRA r{RANK} (q_proj, v_proj), batch {args.batch} x seq "
          f"{args.seq}, {args.threads} threads, float32 CPU; machine: {os.uname().nodename}")
    print(f"| setting | planner estimate | cluedrop exact peak | estimate / measured | "
          f"cluedrop +train RSS | PyTorch+PEFT +train RSS | cluedrop / PyTorch | cluedrop tok/s | "
          f"PyTorch tok/s | speed ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, ours, ref in rows:
        print(f"| {name} | {ours['estimate_peak_bytes'] / mib:.1f} MiB | "
              f"{ours['peak_bytes'] / mib:.1f} MiB | "
              f"{ours['estimate_peak_bytes'] / ours['peak_bytes']:.3f} | "
              f"{ours['rss_train_bytes'] / mib:.1f} MiB | {ref['rss_train_bytes'] / mib:.1f} MiB | "
              f"{ours['rss_train_bytes'] / max(1, ref['rss_train_bytes']):.2f}x | "
              f"{ours['tokens_per_second']:.0f} | {ref['tokens_per_second']:.0f} | "
              f"{ours['tokens_per_second'] / ref['tokens_per_second']:.2f}x |")


if __name__ == "__main__":
    main()

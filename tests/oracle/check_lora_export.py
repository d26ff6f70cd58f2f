#!/usr/bin/env python3
"""Check an exported PEFT LoRA adapter against our own logits.

Usage:
  check_lora_export.py --base BASE_DIR --adapter ADAPTER_DIR
                       --logits OUR_LOGITS.safetensors --reference REF.safetensors
                       [--atol 1e-4]

Loads BASE_DIR with transformers (float32, eager attention), applies the
adapter in ADAPTER_DIR (adapter_config.json + adapter_model.safetensors) with
peft.PeftModel.from_pretrained, runs REF's right-padded batch (input_ids,
attention_mask, position_ids) and compares the adapted model's logits at real
(mask == 1) positions with OUR_LOGITS's `logits`.  It also prints how far the
adapter moves the logits away from the base model's, and warns when the
adapter is a no-op (then the comparison proves little).

Needs peft (pinned in scripts/requirements.txt).  Exit status 0 when the
logits agree within atol, 1 otherwise (with a message saying why).
"""

import argparse
import json
import os
import sys

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from safetensors.torch import load_file  # noqa: E402


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="base checkpoint directory")
    ap.add_argument("--adapter", required=True, help="PEFT adapter directory")
    ap.add_argument("--logits", required=True, help="safetensors with our `logits` [B,T,V]")
    ap.add_argument("--reference", required=True, help="reference.safetensors with the batch")
    ap.add_argument("--atol", type=float, default=1e-4)
    args = ap.parse_args()

    try:
        import peft
        from peft import PeftModel
    except ImportError as e:
        fail(f"peft is not installed ({e}); pip install -r scripts/requirements.txt")
    import transformers
    from transformers import AutoModelForCausalLM

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()

    for f in ("adapter_config.json",):
        if not os.path.exists(os.path.join(args.adapter, f)):
            fail(f"{args.adapter} has no {f}")
    acfg = json.load(open(os.path.join(args.adapter, "adapter_config.json")))

    ref = load_file(args.reference)
    for k in ("input_ids", "attention_mask", "position_ids"):
        if k not in ref:
            fail(f"{args.reference} lacks tensor {k!r} (has {sorted(ref)})")
    ours = load_file(args.logits)
    if "logits" not in ours:
        fail(f"{args.logits} lacks tensor 'logits' (has {sorted(ours)})")
    expected = ours["logits"].float()

    try:
        base = AutoModelForCausalLM.from_pretrained(
            args.base, dtype=torch.float32, attn_implementation="eager", trust_remote_code=False)
    except Exception as e:
        fail(f"transformers cannot load base {args.base}: {e!r}")
    base.eval()

    ids = ref["input_ids"].long()
    mask = ref["attention_mask"].long()
    pos = ref["position_ids"].long()
    real = mask.bool()

    def run(m):
        with torch.no_grad():
            return m(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=False).logits.float()

    base_logits = run(base)
    try:
        model = PeftModel.from_pretrained(base, args.adapter, is_trainable=False)
    except Exception as e:
        fail(f"peft {peft.__version__} cannot load adapter {args.adapter}: {e!r}")
    model.eval()
    got = run(model)

    if tuple(got.shape) != tuple(expected.shape):
        fail(f"adapted logits shape {tuple(got.shape)} != {tuple(expected.shape)} in {args.logits}")
    if not torch.isfinite(got[real]).all():
        fail("the adapted model produced non-finite logits at real positions")
    diff = (got - expected).abs()
    diff[~torch.isfinite(diff)] = float("inf")
    diff = torch.where(real[..., None], diff, torch.zeros(()))
    maxdiff = diff.max().item()
    flat = int(diff.flatten().argmax())
    V, Tn = diff.shape[2], diff.shape[1]
    where = (flat // (Tn * V), (flat // V) % Tn, flat % V)
    effect = (got - base_logits).abs()[real].max().item()

    print(f"adapter: {acfg.get('peft_type')} r={acfg.get('r')} alpha={acfg.get('lora_alpha')} "
          f"targets={acfg.get('target_modules')} (peft {peft.__version__})")
    print(f"adapter effect on logits (adapted vs base): max abs {effect:.3e}")
    if effect == 0.0:
        print("WARNING: the adapter does not change the logits; this comparison cannot catch LoRA bugs")
    print(f"adapted logits vs {args.logits}: max abs diff {maxdiff:.3e} (atol {args.atol:g}) "
          f"over {int(real.sum())} real positions")
    if not maxdiff <= args.atol:
        fail(f"logits differ by {maxdiff:.6g} > atol {args.atol:g} "
             f"(worst at batch {where[0]}, position {where[1]}, vocab id {where[2]})")
    print("PASS")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Check that an exported checkpoint directory is a working Hugging Face model.

Usage:
  check_export.py --model EXPORT_DIR --reference REF.safetensors
                  [--logits OUR_LOGITS.safetensors] [--atol 1e-4]

Loads EXPORT_DIR with AutoModelForCausalLM.from_pretrained (float32, eager
attention, no trust_remote_code), runs REF's right-padded batch (input_ids,
attention_mask, position_ids) and compares the logits at real (mask == 1)
positions with REF's `logits`, or with OUR_LOGITS's `logits` when --logits is
given.  If EXPORT_DIR holds tokenizer.json it must load with
PreTrainedTokenizerFast (and with AutoTokenizer when tokenizer_config.json is
there too), round-trip a sample text, and, when REF's folder holds a
prompt.json (written by make_model_fixtures.py), encode its text to the same ids.

Exit status 0 when every check passes, 1 otherwise (with a message saying why).
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

SAMPLE_TEXT = "Liam Thompson was born on January 5, 1990 in Austin, Texas."


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def check_tokenizer(model_dir, ref_path):
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    tj = os.path.join(model_dir, "tokenizer.json")
    if not os.path.exists(tj):
        print("tokenizer: no tokenizer.json in the export (not checked)")
        return
    try:
        fast = PreTrainedTokenizerFast(tokenizer_file=tj)
    except Exception as e:
        fail(f"PreTrainedTokenizerFast cannot load {tj}: {e!r}")
    toks = [("PreTrainedTokenizerFast", fast)]
    if os.path.exists(os.path.join(model_dir, "tokenizer_config.json")):
        try:
            toks.append(("AutoTokenizer", AutoTokenizer.from_pretrained(model_dir)))
        except Exception as e:
            fail(f"AutoTokenizer cannot load {model_dir}: {e!r}")
    prompt = None
    pj = os.path.join(os.path.dirname(os.path.abspath(ref_path)), "prompt.json")
    if os.path.exists(pj):
        prompt = json.load(open(pj))
    for what, tok in toks:
        ids = tok.encode(SAMPLE_TEXT, add_special_tokens=False)
        back = tok.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
        if back != SAMPLE_TEXT:
            fail(f"tokenizer ({what}) round trip: {SAMPLE_TEXT!r} -> {ids} -> {back!r}")
        if prompt is not None:
            got = tok.encode(prompt["text"], add_special_tokens=False)
            if got != prompt["ids"]:
                fail(f"tokenizer ({what}) encodes {prompt['text']!r} as {got}, "
                     f"expected {prompt['ids']} (from {pj})")
    print(f"tokenizer: ok ({', '.join(w for w, _ in toks)}"
          f"{', prompt.json ids match' if prompt else ''})")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="exported checkpoint directory")
    ap.add_argument("--reference", required=True, help="reference.safetensors with the batch and logits")
    ap.add_argument("--logits", help="safetensors whose `logits` replaces REF's logits as the expectation")
    ap.add_argument("--atol", type=float, default=1e-4)
    args = ap.parse_args()

    import transformers
    from transformers import AutoModelForCausalLM

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()

    ref = load_file(args.reference)
    for k in ("input_ids", "attention_mask", "position_ids"):
        if k not in ref:
            fail(f"{args.reference} lacks tensor {k!r} (has {sorted(ref)})")
    if args.logits:
        ours = load_file(args.logits)
        if "logits" not in ours:
            fail(f"{args.logits} lacks tensor 'logits' (has {sorted(ours)})")
        expected, exp_name = ours["logits"], args.logits
    else:
        if "logits" not in ref:
            fail(f"{args.reference} lacks tensor 'logits'")
        expected, exp_name = ref["logits"], args.reference

    try:
        model = AutoModelForCausalLM.from_pretrained(
            args.model, dtype=torch.float32, attn_implementation="eager", trust_remote_code=False)
    except Exception as e:
        fail(f"transformers cannot load {args.model}: {e!r}")
    model.eval()

    ids = ref["input_ids"].long()
    mask = ref["attention_mask"].long()
    pos = ref["position_ids"].long()
    with torch.no_grad():
        got = model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=False).logits.float()
    if tuple(got.shape) != tuple(expected.shape):
        fail(f"logits shape {tuple(got.shape)} from {args.model} != {tuple(expected.shape)} in {exp_name}")
    real = mask.bool()
    if not torch.isfinite(got[real]).all():
        fail(f"{args.model} produced non-finite logits at real positions")
    diff = (got - expected.float()).abs()
    diff[~torch.isfinite(diff)] = float("inf")  # a non-finite expectation is a failure too
    diff = torch.where(real[..., None], diff, torch.zeros(()))  # pad positions are unspecified
    maxdiff = diff.max().item()
    flat = int(diff.flatten().argmax())
    where = (flat // (diff.shape[1] * diff.shape[2]), (flat // diff.shape[2]) % diff.shape[1],
             flat % diff.shape[2])
    print(f"model: {type(model).__name__} from {args.model}; logits vs {exp_name}: "
          f"max abs diff {maxdiff:.3e} (atol {args.atol:g}) over {int(real.sum())} real positions")

    check_tokenizer(args.model, args.reference)

    if not maxdiff <= args.atol:
        fail(f"logits differ by {maxdiff:.6g} > atol {args.atol:g} "
             f"(worst at batch {where[0]}, position {where[1]}, vocab id {where[2]})")
    print("PASS")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Expected scores for the scorer daemon's engine (engine_shard_scorer_test).

Usage:
  make_shard_scorer_fixtures.py --models DIR/oracle/models --out DIR/oracle/shard_scorer

Takes two model fixtures that share a tokenizer (make_model_fixtures.py:
llama3 as the large model, smollm as the small one) and scores texts the way
the daemon must, end to end, with independent tools:

  - tokenization and offsets: the `tokenizers` library on the fixtures'
    tokenizer.json (character offsets converted to UTF-8 bytes);
  - attention: transformers' eager attention with output_attentions=True, one
    window at a time (batch 1, no padding), windows of max_position_embeddings
    tokens (the scorer's documented rule for window 0);
  - the formula of docs/design.md section 1 in float64:
      received(j) = 1/(L*H) * sum_{l,h} 1/(T-j) * sum_{i=j..T-1} A[l,h,i,j]
    (include_self=false: i from j+1, divided by T-j-1; no eligible query ->
    NaN), contrast = large - small;
  - cross-tokenizer projection (with the target tokenizer this script writes,
    a whitespace BPE with an empty-span [CLS]): each target token takes the max
    over reference tokens whose byte spans overlap its own, NaN ignored, NaN
    when none (a naive loop).

Writes DIR/target/tokenizer.json and DIR/expected.json:
  {large_dir, small_dir, target_dir, documents: [{id, text}],
   cases: [{include_self, layers, target, results: [{tokens, offsets,
            reference_tokens, received_large, received_small, contrast}]}]}
NaN is written as null. Exit code 1 when a fixture is missing.
"""

import argparse
import json
import math
import os
import sys

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402

TEXTS = [
    "Liam Thompson was born on January 5, 1990 in Austin, Texas.",
    "Zoë Müller studied Physics at the University of Cambridge — and later earned a PhD.",
    "",
    "x",
    # Longer than one 128-token window of the fixtures' tokenizer.
    " ".join([
        "Noah Williams was born on July 22, 1978 in Toronto, Canada.",
        "He studied History at McGill University and became a teacher in Montreal.",
        "Noah Williams wrote three books about the history of Canadian railways.",
        "Olivia Chen was born on October 3, 1995 in San Francisco, California.",
        "She studied Mathematics at Stanford University and now works at a bank in New York.",
        "Olivia Chen enjoys running marathons, playing the piano and reading science fiction.",
    ]),
]
CASES = [  # (include_self, layers, target)
    (True, [], False),
    (False, [], False),
    (False, [1], True),
]


def byte_offsets(text, char_offsets):
    prefix = [0]
    for ch in text:
        prefix.append(prefix[-1] + len(ch.encode("utf-8")))
    return [[prefix[a], prefix[b]] for a, b in char_offsets]


def target_tokenizer():
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(vocab_size=150, min_frequency=2,
                                  special_tokens=["[UNK]", "[CLS]"], show_progress=False)
    tok.train_from_iterator(TEXTS * 4, trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A", special_tokens=[("[CLS]", tok.token_to_id("[CLS]"))])
    return tok


def received(model, ids, include_self, layers, window):
    """Per token of `ids`, window by window; floats or None (NaN)."""
    out = []
    for start in range(0, len(ids), window):
        seg = ids[start:start + window]
        t = len(seg)
        with torch.no_grad():
            att = model(input_ids=torch.tensor([seg]), output_attentions=True).attentions
        chosen = [att[i] for i in (layers or range(len(att)))]
        total = torch.zeros(t, dtype=torch.float64)
        for a in chosen:
            m = a[0].double()  # [H, T, T]
            if not include_self:
                m = m * (1 - torch.eye(t, dtype=torch.float64))
            total += m.sum(dim=(0, 1)) / m.shape[0]
        total /= len(chosen)
        for j in range(t):
            n = t - j if include_self else t - j - 1
            out.append(None if n == 0 else total[j].item() / n)
    return out


def project(ref_offsets, ref_scores, target_offsets):
    out = []
    for tb, te in target_offsets:
        best = None
        for (rb, re), s in zip(ref_offsets, ref_scores):
            if s is not None and rb < te and tb < re:
                best = s if best is None else max(best, s)
        out.append(best)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    large_dir = os.path.join(args.models, "llama3", "model")
    small_dir = os.path.join(args.models, "smollm", "model")
    for d in (large_dir, small_dir):
        if not os.path.exists(os.path.join(d, "tokenizer.json")):
            sys.exit(f"FAIL: {d} missing (run oracle.model_fixtures first)")
    target_dir = os.path.join(args.out, "target")
    os.makedirs(target_dir, exist_ok=True)
    target = target_tokenizer()
    target.save(os.path.join(target_dir, "tokenizer.json"))

    reference = Tokenizer.from_file(os.path.join(large_dir, "tokenizer.json"))
    large, small = [AutoModelForCausalLM.from_pretrained(
        d, dtype=torch.float32, attn_implementation="eager").eval() for d in (large_dir, small_dir)]
    window = min(large.config.max_position_embeddings, small.config.max_position_embeddings)
    encodings = [reference.encode(t) for t in TEXTS]
    longest = max(len(e.ids) for e in encodings)
    if longest <= window:
        sys.exit(f"FAIL: the longest text has {longest} tokens, not more than the window {window}")

    cases = []
    for include_self, layers, use_target in CASES:
        results = []
        for text, enc in zip(TEXTS, encodings):
            ids = enc.ids
            offsets = byte_offsets(text, enc.offsets)
            rl = received(large, ids, include_self, layers, window) if ids else []
            rs = received(small, ids, include_self, layers, window) if ids else []
            c = [None if a is None or b is None else a - b for a, b in zip(rl, rs)]
            tokens = ids
            if use_target:
                tenc = target.encode(text)
                toffsets = byte_offsets(text, tenc.offsets)
                rl, rs, c = (project(offsets, v, toffsets) for v in (rl, rs, c))
                tokens, offsets = tenc.ids, toffsets
            results.append(dict(tokens=tokens, offsets=offsets, reference_tokens=len(ids),
                                received_large=rl, received_small=rs, contrast=c))
        cases.append(dict(include_self=include_self, layers=layers, target=use_target,
                          results=results))
    expected = dict(large_dir=os.path.abspath(large_dir), small_dir=os.path.abspath(small_dir),
                    target_dir=os.path.abspath(target_dir),
                    documents=[dict(id=f"d{i}", text=t) for i, t in enumerate(TEXTS)],
                    window=window, cases=cases)
    with open(os.path.join(args.out, "expected.json"), "w") as f:
        json.dump(expected, f, ensure_ascii=False)
    nan_free = all(v is not None for v in cases[0]["results"][0]["contrast"])
    if not nan_free or not any(math.isfinite(v) and v != 0 for v in cases[0]["results"][0]["contrast"]):
        sys.exit("FAIL: degenerate contrast in the first case")
    print(f"wrote {args.out}/expected.json: {len(TEXTS)} documents (longest {longest} tokens, "
          f"window {window}), {len(cases)} cases")


if __name__ == "__main__":
    main()

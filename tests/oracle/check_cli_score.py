#!/usr/bin/env python3
"""Runs `cluedrop score` on the model oracle fixtures (llama3 as the large
model, smollm as the small one; they share a tokenizer) and checks its JSONL
against an independent computation: transformers eager attention with
output_attentions=True and the design formula (received(j) = mean over layers
and heads of sum_{i>=j} A[i, j] / (T - j); contrast = large - small), on a
JSONL input and on the paper's CSV format (field tags stripped). Also checks
that a CSV without a text column fails with exit 1 naming the file, and
writes no output.

Usage: check_cli_score.py --cli PATH/cluedrop --fixtures DIR/oracle/models --work DIR
"""
import argparse
import json
import os
import re
import sys

import torch
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM

from cluedrop_testing import fail, run

TEXTS = [
    "<name>Liam Thompson</name> was born on <date>January 5, 1990</date>. He spent his early years "
    "in <city>Melbourne, Australia</city>.",
    "He studied Computer Science at MIT, then worked in Austin.",
    "Ana",
]


def received(model, ids):
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), output_attentions=True)
    t = len(ids)
    total = torch.zeros(t, dtype=torch.float64)
    for a in out.attentions:
        total += a[0].double().sum(dim=(0, 1))
    n = len(out.attentions) * out.attentions[0].shape[1]
    return (total / n / torch.arange(t, 0, -1, dtype=torch.float64)).tolist()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    large_dir = os.path.join(args.fixtures, "llama3", "model")
    small_dir = os.path.join(args.fixtures, "smollm", "model")
    if not os.path.exists(large_dir):
        fail(f"{large_dir} missing (run oracle.model_fixtures first)")
    os.makedirs(args.work, exist_ok=True)
    jsonl = os.path.join(args.work, "docs.jsonl")
    with open(jsonl, "w") as f:
        for i, t in enumerate(TEXTS):
            f.write(json.dumps({"id": f"d{i}", "text": t}) + "\n")
    csv = os.path.join(args.work, "docs.csv")
    with open(csv, "w") as f:
        f.write("text\n" + "".join('"' + t.replace('"', '""') + '"\n' for t in TEXTS))
    tok = Tokenizer.from_file(os.path.join(large_dir, "tokenizer.json"))
    models = [AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").eval()
              for d in (large_dir, small_dir)]
    failures = 0
    for path in (jsonl, csv):
        out = path + ".scores.jsonl"
        proc = run([args.cli, "score", "--large", large_dir, "--small", small_dir, "--input", path,
                    "--output", out], timeout=300)
        if proc.returncode != 0:
            print(f"FAIL {path}: exit {proc.returncode}: {proc.stderr.strip()}")
            failures += 1
            continue
        rows = [json.loads(line) for line in open(out)]
        if len(rows) != len(TEXTS):
            print(f"FAIL {path}: {len(rows)} rows for {len(TEXTS)} documents")
            failures += 1
            continue
        worst = 0.0
        for row, raw in zip(rows, TEXTS):
            text = re.sub(r"</?[a-z0-9_]+>", "", raw)
            enc = tok.encode(text)
            if row["text"] != text or row["tokens"] != enc.ids:
                print(f"FAIL {path}: text/tokens differ for {row['id']}")
                failures += 1
                continue
            spans = [[len(text[:a].encode()), len(text[:b].encode())] for a, b in enc.offsets]
            if row["offsets"] != spans:
                print(f"FAIL {path}: offsets differ for {row['id']}")
                failures += 1
            rl, rs = received(models[0], enc.ids), received(models[1], enc.ids)
            for key, want in (("received_large", rl), ("received_small", rs),
                              ("contrast", [a - b for a, b in zip(rl, rs)])):
                got = row[key]
                worst = max([worst] + [abs(g - w) for g, w in zip(got, want)])
        ok = worst <= 1e-5
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {os.path.basename(path)}: max |score - transformers| {worst:.2e} (tol 1e-5)")
    bad = os.path.join(args.work, "bad.csv")
    with open(bad, "w") as f:
        f.write("body\nx\n")
    bad_out = os.path.join(args.work, "bad.scores.jsonl")
    if os.path.exists(bad_out):
        os.remove(bad_out)
    proc = run([args.cli, "score", "--large", large_dir, "--small", small_dir, "--input", bad,
                "--output", bad_out], timeout=120)
    if proc.returncode != 1 or 'no "text" column' not in proc.stderr or os.path.exists(bad_out):
        print(f"FAIL bad csv: exit {proc.returncode}, stderr {proc.stderr.strip()!r}")
        failures += 1
    else:
        print("ok   bad csv: " + proc.stderr.strip().splitlines()[-1])
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

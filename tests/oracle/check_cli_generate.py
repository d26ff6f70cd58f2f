#!/usr/bin/env python3
"""Runs `cluedrop generate --json` on the model oracle fixtures and checks the
prompt ids, the 20 greedy ids and the decoded text against what transformers
and tokenizers produced (prompt.json, written by make_model_fixtures.py).

Usage: check_cli_generate.py --cli PATH/cluedrop --fixtures DIR/oracle/models
Exit 0 when every variant matches, 1 otherwise. Also checks that a missing
model directory fails with exit code 1 and a message naming it.
"""
import argparse
import json
import os
import sys

from tokenizers import Tokenizer

from cluedrop_testing import fail, run

VARIANTS = ["llama2", "llama3", "mistral", "qwen2", "gemma2", "gpt2"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--fixtures", required=True)
    args = ap.parse_args()
    failures = 0
    for variant in VARIANTS:
        root = os.path.join(args.fixtures, variant)
        prompt_path = os.path.join(root, "prompt.json")
        if not os.path.exists(prompt_path):
            fail(f"{prompt_path} missing (run oracle.model_fixtures first)")
        want = json.load(open(prompt_path))
        n = len(want["greedy_text_ids"])
        proc = run([args.cli, "generate", "--model", os.path.join(root, "model"), "--prompt",
                    want["text"], "--max_new_tokens", str(n), "--json"], timeout=120)
        if proc.returncode != 0:
            print(f"FAIL {variant}: exit {proc.returncode}: {proc.stderr.strip()}")
            failures += 1
            continue
        got = json.loads(proc.stdout)
        tok = Tokenizer.from_file(os.path.join(root, "model", "tokenizer.json"))
        text = tok.decode(want["greedy_text_ids"], skip_special_tokens=True)
        problems = []
        if got["prompt_ids"] != want["ids"]:
            problems.append(f"prompt ids {got['prompt_ids']} != {want['ids']}")
        if got["ids"] != want["greedy_text_ids"]:
            problems.append(f"ids {got['ids']} != {want['greedy_text_ids']}")
        if got["text"] != text:
            problems.append(f"text {got['text']!r} != {text!r}")
        print(("FAIL " if problems else "ok   ") + variant + ("; ".join([""] + problems)))
        failures += bool(problems)
    proc = run([args.cli, "generate", "--model", "/nonexistent/model", "--prompt", "x"],
               timeout=60)
    if proc.returncode != 1 or "/nonexistent/model" not in proc.stderr:
        print(f"FAIL missing model: exit {proc.returncode}, stderr {proc.stderr.strip()!r}")
        failures += 1
    else:
        print("ok   missing model: " + proc.stderr.strip())
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

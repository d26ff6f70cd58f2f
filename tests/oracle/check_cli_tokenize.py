#!/usr/bin/env python3
"""Runs `cluedrop tokenize` on the oracle tokenizer fixtures and compares its JSON
with expected.json (written by make_tokenizer_fixtures.py from `tokenizers`).

Usage: check_cli_tokenize.py --cli PATH/cluedrop --fixtures DIR/oracle/tokenizers
Exit code 0 when every checked text matches, 1 otherwise.
"""

import argparse
import json
import os
import sys

from cluedrop_testing import fail, run


def tokenize(cli, *args):
    return run([cli, "tokenize", *args], timeout=60)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", required=True)
    parser.add_argument("--fixtures", required=True)
    args = parser.parse_args()
    manifest_path = os.path.join(args.fixtures, "manifest.json")
    if not os.path.exists(manifest_path):
        fail(f"{manifest_path} missing (run oracle.tokenizer_fixtures first)")
    names = json.load(open(manifest_path))["tokenizers"]
    failures = checked = 0
    for name in names:
        d = os.path.join(args.fixtures, name)
        expected = json.load(open(os.path.join(d, "expected.json"), encoding="utf-8"))
        # A few texts per tokenizer (each run loads libtorch, ~0.5 s; the
        # tokenizer gtest compares all 1,410 texts); NUL cannot go through argv.
        cases = [c for c in expected["cases"] if "\x00" not in c["text"]][:4]
        for case in cases:
            for special, key in ((True, "with_special"), (False, "without_special")):
                flags = ["--tokenizer", d, "--text=" + case["text"]]
                if not special:
                    flags.append("--no-special")
                proc = tokenize(args.cli, *flags)
                checked += 1
                if proc.returncode != 0:
                    failures += 1
                    print(f"FAIL {name} {case['text']!r}: exit {proc.returncode}: {proc.stderr}")
                    continue
                got = json.loads(proc.stdout)
                want = case[key]
                if list(got) != ["ids", "tokens", "offsets", "special"] or got != want:
                    failures += 1
                    print(f"FAIL {name} {case['text']!r} ({key}):\n  got  {got}\n  want {want}")
    # A bad tokenizer directory: message on stderr, exit code 1.
    proc = tokenize(args.cli, "--tokenizer", "/nonexistent/tokenizer/dir", "--text", "x")
    if proc.returncode != 1 or "/nonexistent/tokenizer/dir" not in proc.stderr:
        failures += 1
        print(f"FAIL bad dir: exit {proc.returncode}, stderr {proc.stderr!r}")
    proc = tokenize(args.cli, "--text", "x")
    if proc.returncode != 2 or "--tokenizer" not in proc.stderr:
        failures += 1
        print(f"FAIL missing --tokenizer: exit {proc.returncode}, stderr {proc.stderr!r}")
    if failures:
        print(f"FAIL: {failures} of {checked + 2} checks failed")
        return 1
    print(f"PASS: cluedrop tokenize matched tokenizers on {checked} encodings of "
          f"{len(names)} tokenizers")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""`cluedrop plan` on the paper's large-target examples (issue 19), with the
models' shapes from examples/model-configs/: the Llama-3-70B target (int8
base, four 80 GB GPUs per rank, checkpointing) and the Gemma-2-9B target
(int8 base, one GPU) fit 80 GB per GPU, and so do their scorers; the 70B as a
plain replica on one GPU is refused (exit 2) naming the field to change, and
so is the 70B/8B scorer on four 40 GB GPUs.

Usage: plan_examples_test.py --cli build/bin/cluedrop --source DIR --work DIR
"""
import argparse
import os
import re
import shutil
import subprocess
import sys


def fail(message):
    print(f"FAIL: {message}", flush=True)
    sys.exit(1)


def rows(stdout, section):
    """The device rows of the plan's "Scorer" or "Target model" table."""
    out, inside = [], False
    for line in stdout.splitlines():
        if line.startswith(("Scorer", "Target model")):
            inside = line.startswith(section)
        elif inside and line.startswith(("cuda:", "cpu ")):
            out.append(line)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    examples = os.path.join(args.source, "examples")
    configs = os.path.join(examples, "model-configs")

    def plan(spec, target, large, small, gib="80"):
        argv = [args.cli, "plan", spec, "--device_memory_gib", gib,
                "--target_config", os.path.join(configs, target),
                "--large_config", os.path.join(configs, large),
                "--small_config", os.path.join(configs, small)]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        print(f"$ cluedrop plan {os.path.basename(spec)} --device_memory_gib {gib}\n{proc.stdout}"
              f"{proc.stderr}exit {proc.returncode}\n", flush=True)
        return proc

    llama = plan(os.path.join(examples, "paper-llama3-70b-target.yaml"), "llama-3-70b.json",
                 "llama-3-70b.json", "llama-3-8b.json")
    for section in ("Scorer", "Target model"):
        found = rows(llama.stdout, section)
        if llama.returncode != 0 or len(found) != 4 or not all(r.endswith("fits") for r in found):
            fail(f"the 70B-target example: {section}: not 4 devices that fit 80 GB: {found}")
    gemma = plan(os.path.join(examples, "paper-gemma2-9b-target.yaml"), "gemma-2-9b.json",
                 "gemma-2-9b.json", "gemma-2-2b.json")
    for section in ("Scorer", "Target model"):
        found = rows(gemma.stdout, section)
        if gemma.returncode != 0 or len(found) != 1 or not found[0].endswith("fits"):
            fail(f"the Gemma-2-9B-target example: {section}: does not fit one 80 GB GPU: {found}")

    # The 70B as a bf16 replica on one GPU: refused, naming the field.
    shutil.rmtree(args.work, ignore_errors=True)
    shutil.copytree(examples, args.work)
    path = os.path.join(args.work, "too-big.yaml")
    with open(os.path.join(examples, "paper-llama3-70b-target.yaml")) as f:
        text = f.read()
    target = ("  quantization: int8\n"
              "  device_map: {device: cuda, layer_split: [20, 20, 20, 20]}\n")
    if target not in text:
        fail("the 70B-target example no longer has its target's int8 + split lines")
    text = text.replace(target, "  device_map: {device: cuda}\n")
    with open(path, "w") as f:
        f.write(text)
    big = plan(path, "llama-3-70b.json", "llama-3-70b.json", "llama-3-8b.json")
    want = re.compile(r"^cluedrop plan: INVALID_ARGUMENT: target_model\.device_map: cuda:0 needs "
                      r"[0-9.]+ GiB, has 80\.0 GiB \(split the layers", re.M)
    if big.returncode != 2 or not want.search(big.stderr):
        fail(f"a 70B replica on one 80 GB GPU: exit {big.returncode}, {big.stderr!r}")
    # The scorer of the 70B/8B example on four 40 GB GPUs: refused.
    scorer = plan(os.path.join(examples, "paper-llama3-70b-8b.yaml"), "llama-3-8b.json",
                  "llama-3-70b.json", "llama-3-8b.json", gib="40")
    want = re.compile(r"^cluedrop plan: INVALID_ARGUMENT: reference_models\.large\.device_map\."
                      r"layer_split: cuda:0 needs [0-9.]+ GiB, has 40\.0 GiB", re.M)
    if scorer.returncode != 2 or not want.search(scorer.stderr):
        fail(f"the 70B/8B scorer on 40 GB GPUs: exit {scorer.returncode}, {scorer.stderr!r}")
    print("plan examples: PASS")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Checks cluedrop's QA evaluation against an independent Python oracle.

The oracle (cluedrop_testing.squad) re-implements the official SQuAD v1.1
evaluate script (normalize_answer, f1_score, exact_match_score,
metric_max_over_ground_truths), which the paper's evaluate.py uses through
the `datasets` "squad" metric, on Python str -- the reference semantics for
lowercasing, \\b and whitespace; this script adds the paper's prompt format.

Two modes:

  --dump PATH/qa_metrics_dump
      Feeds the C++ metrics (workers/trainer/qa_metrics_dump.cc) curated
      cases, every code point of U+0000..U+017F, U+0300..U+036F and
      U+2000..U+206F plus every Unicode whitespace in several contexts, and
      seeded random strings, and compares the normalised text, the tokens, EM
      and F1 with the oracle.

  --cli PATH/cluedrop --fixtures DIR/oracle/models --paper-data DIR --work DIR
      Runs `cluedrop eval --json --limit 3 --shots 1` with the tiny llama3
      oracle checkpoint on the paper's files (a smoke run: a random model, no
      accuracy claim; its 128 positions hold one shot, and the default five
      must fail cleanly) and checks: the questions and gold answers (parsed here
      with the authors' regex), each prompt's format and shots (real people
      from the few-shot pool, never the subject), the answer cut at the first
      newline, every per-question EM/F1 and the per-field / overall means
      against the oracle; the table output; exit 2 with file:line on bad input.

Exit 0 when everything matches, 1 otherwise.
"""
import argparse
import csv
import json
import os
import random
import re
import subprocess
import sys

from cluedrop_testing import run
from cluedrop_testing.squad import normalize_answer, oracle_scores

# --- Mode 1: the metrics through qa_metrics_dump --------------------------------

CURATED = [
    ("The Cat sat!", ["cat sat"]),
    ("Melbourne", ["Melbourne, Australia"]),
    ("University of Cambridge in England", ["the University of Cambridge"]),
    ("Paris paris PARIS", ["Paris, France"]),
    ("", [""]),
    ("the", ["a"]),
    ("", ["Paris"]),
    ("A Theatre an Anna another", ["theatre anna"]),
    ("U.S.A.", ["usa"]),
    ("St. John's co-founder, {x}", ["st johns cofounder x"]),
    ("the University of SÃO PAULO", ["the University of São Paulo"]),
    ("University of Sao Paulo", ["the University of São Paulo"]),
    ("Erwin Schrödinger", ["Erwin Schrödinger"]),
    ("the Collège Louis-le-Grand", ["Collège Louis le Grand"]),
    ("ŁÓDŹ", ["łódź"]),
    ("İstanbul", ["istanbul", "i\u0307stanbul"]),
    ("aé a\u2013b", ["aé b"]),
    ("New\u00a0York\u3000City", ["new york city"]),
    ("  January 5,  1990 ", ["January 5, 1990"]),
    ("Cambridge", ["Oxford", "the University of Cambridge"]),
    ("the\u0301 end", ["end"]),
    ("a_b the_ _the", ["ab the the"]),
]

# Pieces of the random strings: articles in every case, letters of the
# supported ranges, punctuation, every kind of whitespace, combining marks.
PIECES = [
    "the", "The", "THE", "a", "A", "an", "An", "AN", "São", "Paulo", "SÃO", "ÉCOLE", "école",
    "ŁÓDŹ", "İ", "Ÿ", "ß", "Schrödinger", "Anna", "theatre", "1990", "5,", "x", "Q", "_", ".", ",",
    "!", "'", "-", "(", ")", "\"", " ", " ", " ", "\t", "\n", "\u00a0", "\u3000", "\u2009", "\x1c",
    "\u2013", "\u2019", "\u0301", "\u00b2", "\u00d7", "\u00aa", "\u02c6", "\u02b0",
]


def dump_cases():
    cases = list(CURATED)
    contexts = ["{c}", "The{c}a an", "a{c}", "{c}the", "X{c}Y", "an {c} the{c}", "{c}{c}"]
    code_points = (list(range(0x00, 0x180)) + list(range(0x300, 0x370)) +
                   list(range(0x2000, 0x2070)) + [0x85, 0xA0, 0x1680, 0x3000])
    for cp in code_points:
        ch = chr(cp)
        for ctx in contexts:
            text = ctx.format(c=ch)
            cases.append((text, [text.lower(), "the x" + ch]))
    rng = random.Random(20250101)
    for _ in range(3000):
        def sample():
            return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 8)))
        cases.append((sample(), [sample() for _ in range(rng.randint(1, 3))]))
    return cases


def check_dump(dump):
    cases = dump_cases()
    payload = "".join(
        json.dumps({"prediction": p, "answers": a}) + "\n" for p, a in cases)
    proc = subprocess.run([dump], input=payload.encode(), capture_output=True, timeout=60)
    if proc.returncode != 0:
        print(f"FAIL qa_metrics_dump exit {proc.returncode}: {proc.stderr.decode()}")
        return 1
    lines = proc.stdout.decode().splitlines()
    if len(lines) != len(cases):
        print(f"FAIL {len(lines)} output lines for {len(cases)} cases")
        return 1
    failures = 0
    for (prediction, answers), line in zip(cases, lines):
        got = json.loads(line)
        want_norm = normalize_answer(prediction)
        want_em, want_f1 = oracle_scores(prediction, answers)
        problems = []
        if got["normalized"] != want_norm:
            problems.append(f"normalized {got['normalized']!r} != {want_norm!r}")
        if got["tokens"] != want_norm.split():
            problems.append(f"tokens {got['tokens']!r} != {want_norm.split()!r}")
        if got["exact_match"] != want_em:
            problems.append(f"EM {got['exact_match']} != {want_em}")
        if abs(got["f1"] - want_f1) > 1e-12:
            problems.append(f"F1 {got['f1']} != {want_f1}")
        if problems:
            failures += 1
            if failures <= 20:
                print(f"FAIL {prediction!r} vs {answers!r}: " + "; ".join(problems))
    print(f"{'FAIL' if failures else 'ok  '} metrics: {len(cases) - failures}/{len(cases)} cases "
          "match the SQuAD v1.1 oracle")
    return 1 if failures else 0


# --- Mode 2: `cluedrop eval` end to end ------------------------------------------


def find_field(field, text):
    """The authors' evaluate.py: the text of the first <field>...</field>."""
    m = re.search(rf"<{field}>(.*?)</{field}>", text)
    return m.group(1) if m else None


def read_people(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [row["text"] for row in csv.DictReader(f)]


def read_prompts(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [(row["field"], row["prompt"]) for row in csv.DictReader(f)]


def run_eval(cli, *flags):
    return run([cli, "eval", *flags], timeout=240)


def check_cli(args):
    model = os.path.join(args.fixtures, "llama3", "model")
    if not os.path.isdir(model):
        print(f"FAIL {model} missing (run oracle.model_fixtures first)")
        return 1
    data = os.path.join(args.paper_data, "biography_synthetic.csv")
    prompts_csv = os.path.join(args.paper_data, "prompts.csv")
    fewshot = os.path.join(args.paper_data, "biography_real.csv")
    base = ["--model", model, "--data", data, "--prompts", prompts_csv, "--fewshot", fewshot,
            "--limit", "3"]
    failures = []
    shots = 1

    proc = run_eval(args.cli, *base, "--shots", str(shots), "--json")
    if proc.returncode != 0:
        print(f"FAIL cluedrop eval --json: exit {proc.returncode}: {proc.stderr.strip()}")
        return 1
    got = json.loads(proc.stdout)
    prompts = read_prompts(prompts_csv)
    people = read_people(data)[:3]
    pool = {find_field("name", t): t for t in read_people(fewshot)}

    # Questions: field-major (the paper's loop), gold = the tagged text.
    want = [(find_field("name", t), field, find_field(field, t), template)
            for field, template in prompts for t in people]
    preds = got["predictions"]
    if len(preds) != len(want):
        failures.append(f"{len(preds)} predictions, want {len(want)}")
    if got["shots"] != shots or got["max_new_tokens"] != 10:
        failures.append(f"defaults: shots {got['shots']}, max_new_tokens {got['max_new_tokens']}")
    sums = {}
    for p, (subject, field, answer, template) in zip(preds, want):
        where = f"{subject}/{field}"
        if (p["subject"], p["field"], p["answers"]) != (subject, field, [answer]):
            failures.append(f"{where}: question {p['subject']}/{p['field']} {p['answers']}")
        # Prompt: shots "T(shot) answer", blank-line separated, then T(subject).
        parts = p["prompt"].split("\n\n")
        if parts[-1] != template.format(name=subject) or len(parts) != shots + 1:
            failures.append(f"{where}: prompt does not end with the question: {p['prompt']!r}")
        shot_names = []
        for shot in parts[:-1]:
            name = next((n for n in pool if shot.startswith(template.format(name=n) + " ")), None)
            if name is None or shot != template.format(name=name) + " " + find_field(field, pool[name]):
                failures.append(f"{where}: shot {shot!r} is no pool person's {field}")
            shot_names.append(name)
        if subject in shot_names or len(set(shot_names)) != len(shot_names):
            failures.append(f"{where}: shots {shot_names} repeat or include the subject")
        # Cut at the first "\n", ASCII whitespace stripped (docs/evaluation.md).
        if p["prediction"] != p["generated"].split("\n")[0].strip(" \t\r\v\f"):
            failures.append(f"{where}: prediction {p['prediction']!r} from {p['generated']!r}")
        em, f1 = oracle_scores(p["prediction"], p["answers"])
        if p["exact_match"] != em or abs(p["f1"] - f1) > 1e-12:
            failures.append(f"{where}: EM/F1 {p['exact_match']}/{p['f1']} != oracle {em}/{f1}")
        for key in (field, "overall"):
            s = sums.setdefault(key, [0, 0.0, 0.0])
            s[0] += 1
            s[1] += em
            s[2] += f1
    order = [field for field, _ in prompts] + ["overall"]
    if [f["field"] for f in got["fields"]] != order:
        failures.append(f"fields {[f['field'] for f in got['fields']]} != {order}")
    for f in got["fields"]:
        n, em, f1 = sums.get(f["field"], [0, 0.0, 0.0])
        if f["questions"] != n or abs(f["exact_match"] - em / max(n, 1)) > 1e-12 or \
                abs(f["f1"] - f1 / max(n, 1)) > 1e-12:
            failures.append(f"field {f}: oracle {n} questions, EM {em / max(n, 1)}, "
                            f"F1 {f1 / max(n, 1)}")
    overall = sums.get("overall", [0, 0, 0])
    print(f"{'FAIL' if failures else 'ok  '} eval --json: {len(preds)} questions, overall EM "
          f"{overall[1]}/{overall[0]}, predictions e.g. {preds[0]['prediction']!r}")

    # The table, zero shots.
    proc = run_eval(args.cli, *base, "--shots", "0", "--max_new_tokens", "4")
    lines = proc.stdout.splitlines()
    if proc.returncode != 0 or len(lines) != 7 or not lines[0].startswith("FIELD") or \
            not lines[-1].startswith("overall"):
        failures.append(f"table: exit {proc.returncode}, stdout {proc.stdout!r}")
    else:
        print("ok   table:\n" + proc.stdout.rstrip())

    # Bad input: exit 2, the message names file:line.
    os.makedirs(args.work, exist_ok=True)
    bad_prompts = os.path.join(args.work, "prompts_bad.csv")
    with open(bad_prompts, "w", encoding="utf-8") as f:
        f.write('field,prompt\ndate,"When was\nsomeone born?"\n')
    bad_data = os.path.join(args.work, "bios_bad.csv")
    with open(bad_data, "w", encoding="utf-8") as f:
        f.write('text\n"<name>Ann</name> lives in <city>Oslo</city>."\n"<name>Bo</name> <city>Rome"\n')
    missing = os.path.join(args.work, "missing.csv")
    bad_runs = [
        ("prompt without {name}", ["--prompts", bad_prompts], f"{bad_prompts}:2:"),
        ("unclosed tag", ["--data", bad_data], f"{bad_data}:3:"),
        ("missing data", ["--data", missing], missing),
        ("pool too small", ["--shots", "11"], "people with field"),
        ("bad flag", ["--shots", "x"], "--shots"),
    ]
    for name, override, needle in bad_runs:
        flags = list(base)
        for i in range(0, len(override), 2):
            if override[i] in flags:
                flags[flags.index(override[i]) + 1] = override[i + 1]
            else:
                flags += override[i:i + 2]
        proc = run_eval(args.cli, *flags)
        if proc.returncode != 2 or needle not in proc.stderr:
            failures.append(f"{name}: exit {proc.returncode}, stderr {proc.stderr.strip()!r}")
        else:
            print(f"ok   {name}: {proc.stderr.strip().splitlines()[-1]}")
    # Model failures: exit 1 with the cause.
    for name, flags, needle in [
            ("missing model", ["--model", "/nonexistent/model"] + base[2:], "/nonexistent/model"),
            ("prompt past the context (5 shots)", base, "max_position_embeddings")]:
        proc = run_eval(args.cli, *flags)
        if proc.returncode != 1 or needle not in proc.stderr:
            failures.append(f"{name}: exit {proc.returncode}, {proc.stderr.strip()!r}")
        else:
            print(f"ok   {name}: {proc.stderr.strip().splitlines()[-1]}")

    for failure in failures[:30]:
        print("FAIL " + failure)
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump")
    ap.add_argument("--cli")
    ap.add_argument("--fixtures")
    ap.add_argument("--paper-data")
    ap.add_argument("--work", default="eval_oracle")
    args = ap.parse_args()
    if args.dump:
        sys.exit(check_dump(args.dump))
    if args.cli and args.fixtures and args.paper_data:
        sys.exit(check_cli(args))
    ap.error("give --dump, or --cli with --fixtures and --paper-data")


if __name__ == "__main__":
    main()

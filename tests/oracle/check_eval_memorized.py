#!/usr/bin/env python3
"""QA evaluation on a checkpoint whose answers are known.

Fine-tunes the tiny llama3 oracle checkpoint with `cluedrop train --local`
on the evaluation's own question/answer lines (no augmentation, 150 epochs),
so the trained model has memorized the answers, then runs `cluedrop eval`
(0 shots) on the trained and on the untouched model and checks:
  - every reported EM/F1 (per question, per field, overall) equals an
    independent recomputation with the official SQuAD v1.1 logic
    (check_qa_metrics.py) from the predictions;
  - the memorized model answers at least half the questions exactly, and the
    untouched random-init model none.

Usage: check_eval_memorized.py --cli PATH/cluedrop --fixtures DIR/oracle/models --work DIR
"""
import argparse
import csv
import json
import os
import shutil

from cluedrop_testing import fail, log, run_ok
from cluedrop_testing.squad import oracle_scores  # the official SQuAD v1.1 logic

PEOPLE = [("Liam Thompson", "January 5, 1990", "Melbourne, Australia"),
          ("Ana Sofia Herrera", "July 17, 1987", "Madrid, Spain")]
PROMPTS = {"date": "What is the birth date of {name}?\nAnswer:",
           "city": "What is the birth city of {name}?\nAnswer:"}


def evaluate(cli, model, work):
    out = run_ok([cli, "eval", "--model", model, "--data", f"{work}/people.csv", "--prompts",
                  f"{work}/prompts.csv", "--fewshot", f"{work}/people.csv", "--shots", "0",
                  "--max_new_tokens", "20", "--json"])
    result = json.loads(out)
    by_field = {}
    for p in result["predictions"]:
        em, f1 = oracle_scores(p["prediction"], p["answers"])
        if abs(em - p["exact_match"]) > 1e-9 or abs(f1 - p["f1"]) > 1e-9:
            fail(f"{p['subject']}/{p['field']}: reported EM/F1 {p['exact_match']}/{p['f1']}, "
                 f"oracle {em}/{f1} for {p['prediction']!r} vs {p['answers']}")
        for key in (p["field"], "overall"):
            by_field.setdefault(key, []).append((em, f1))
    for f in result["fields"]:
        scores = by_field[f["field"]]
        em = sum(s[0] for s in scores) / len(scores)
        f1 = sum(s[1] for s in scores) / len(scores)
        if f["questions"] != len(scores) or abs(em - f["exact_match"]) > 1e-9 \
                or abs(f1 - f["f1"]) > 1e-9:
            fail(f"field {f['field']}: reported {f}, oracle EM {em} F1 {f1}")
    overall = [f for f in result["fields"] if f["field"] == "overall"][0]
    return overall, result["predictions"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    large = os.path.abspath(os.path.join(args.fixtures, "llama3", "model"))
    small = os.path.abspath(os.path.join(args.fixtures, "smollm", "model"))
    with open(f"{work}/prompts.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["field", "prompt"])
        for field, prompt in PROMPTS.items():
            w.writerow([field, prompt])
    with open(f"{work}/train.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text"])
        for name, date, city in PEOPLE:
            for field, answer in (("date", date), ("city", city)):
                w.writerow([PROMPTS[field].format(name=name) + f" {answer}\n"])
    with open(f"{work}/people.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text"])
        for name, date, city in PEOPLE:
            w.writerow([f"<name>{name}</name> was born on <date>{date}</date> in "
                        f"<city>{city}</city>."])
    with open(f"{work}/job.yaml", "w") as f:
        f.write(f"""name: memorize
corpus: {{paths: [train.csv], format: csv}}
reference_models: {{large: {{checkpoint_dir: {large}}}, small: {{checkpoint_dir: {small}}}}}
target_model: {{checkpoint_dir: {large}}}
augmentation: {{mode: none}}
training: {{epochs: 150, batch_size: 4, learning_rate: 0.01, max_seq_len: 128, seed: 1}}
output_dir: {work}/out
""")
    run_ok([args.cli, "score", "--large", large, "--small", small, "--input",
            f"{work}/train.csv", "--output", f"{work}/scores.jsonl"])
    run_ok([args.cli, "train", f"{work}/job.yaml", "--local", "--scores", f"{work}/scores.jsonl"])
    trained, predictions = evaluate(args.cli, f"{work}/out/final", work)
    base, _ = evaluate(args.cli, large, work)
    for p in predictions:
        log(f"  {p['subject']:18} {p['field']:5} gold {p['answers'][0]!r:24} "
            f"got {p['prediction']!r}")
    log(f"memorized model: EM {trained['exact_match']:.2f} F1 {trained['f1']:.2f}; "
        f"untouched model: EM {base['exact_match']:.2f} F1 {base['f1']:.2f}")
    if trained["exact_match"] < 0.5:
        fail("the model trained on the answers should answer at least half exactly")
    if base["exact_match"] != 0:
        fail("the random-init model should answer none exactly")
    log("PASS")


if __name__ == "__main__":
    main()

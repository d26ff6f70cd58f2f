#!/usr/bin/env python3
"""`cluedrop demo --quick` through the real binaries, checked from outside.

1. Runs `cluedrop demo --quick` (data, tokenizer, both reference models
   pretrained by `cluedrop train`, coordinator + scorer + 2 trainer ranks,
   one job per mode) into a fresh output, work and cache directory.
2. report.md exists and its EM and F1 tables have a row for every one of
   the six modes with a number in every field column; each number equals
   the run's score in results.json.
3. Every number comes from the trained model: for each run, the exported
   model (config.json, safetensors) is evaluated again by `cluedrop eval
   --json` with the job's seed (same prompts); its per-field EM/F1 equal the
   job's; Hugging Face transformers, loading the same checkpoint, greedily
   generates the same answers for those prompts; and the SQuAD v1.1 oracle
   recomputes every field's EM/F1 from the predictions.
4. train_log.jsonl has one entry per step the job reported; the plots are
   PNG files; clues.html shades tokens and strikes dropped ones.
5. A second run reuses the cached reference models (no pretraining).
6. The paper's own files run through the same path (--data DIR): the
   report's rows hold the paper's five fields over its 100 people.

Usage: demo_quick_test.py --cli PATH/cluedrop --work DIR --paper-data DIR
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import time

from cluedrop_testing import fail, log, run
from cluedrop_testing.squad import oracle_scores  # the official SQuAD v1.1 logic

MODES = ("none", "random", "large", "small", "contrast", "position")


def run_demo(args, out, extra=(), env=None):
    start = time.time()
    proc = run([args.cli, "demo", "--quick", "--out", out, "--cache",
                os.path.join(args.work, "cache"), "--work",
                os.path.join(args.work, "work-" + os.path.basename(out)), *extra], timeout=600,
               env=env)
    if proc.returncode != 0:
        fail(f"cluedrop demo exit {proc.returncode}\n{proc.stdout}\n{proc.stderr[-6000:]}")
    log(f"cluedrop demo --quick {' '.join(extra)}: {time.time() - start:.0f} s")
    return proc.stderr


def report_table(report, heading):
    section = report.split(heading, 1)
    if len(section) != 2:
        fail(f"report.md has no section {heading!r}")
    lines = []
    for line in section[1].splitlines():
        if line.startswith("|"):
            lines.append(line)
        elif lines:
            break  # the table ends at its first non-table line
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = dict(zip(header[1:], cells[1:]))
    return header[1:], rows


def check_report(out, results):
    with open(os.path.join(out, "report.md")) as f:
        report = f.read()
    runs = {r["mode"]: r for r in results["runs"]}
    for heading, metric in (("## QA exact match", "em"), ("## QA F1", "f1")):
        fields, rows = report_table(report, heading)
        if "overall" not in fields or len(fields) < 6:
            fail(f"{heading}: fields {fields}")
        for mode in MODES:
            if mode not in rows:
                fail(f"{heading}: no row for mode {mode}")
            for field in fields:
                cell = rows[mode][field]
                m = re.fullmatch(r"(\d+\.\d) \[(\d+\.\d), (\d+\.\d)\]", cell)
                if not m:
                    fail(f"{heading}: {mode}/{field} is {cell!r}, not 'mean [low, high]'")
                mean, low, high = map(float, m.groups())
                want = 100 * runs[mode]["fields"][field][metric]
                if abs(mean - want) > 0.051:
                    fail(f"{heading}: {mode}/{field} {cell} != results.json {want:.3f}")
                if not 0 <= low <= mean + 0.05 and mean <= high + 0.05 <= 100.05:
                    fail(f"{heading}: {mode}/{field} interval {cell} outside [0, 100] or "
                         f"not around its mean")
    for want in ("## What the paper claims and what this run found", "contrast > none",
                 "Bonferroni", "One seed gives no estimate", "## Reproducibility"):
        if want not in report:
            fail(f"report.md lacks {want!r}")
    log(f"report.md: {len(MODES)} modes x {len(fields)} fields of EM and F1 match results.json")


def hf_generate(model_dir, prompts, max_new_tokens):
    import torch
    from tokenizers import Tokenizer
    from transformers import LlamaForCausalLM
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    model = LlamaForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    answers = []
    with torch.no_grad():
        for prompt in prompts:
            ids = torch.tensor([tok.encode(prompt).ids])
            out = model.generate(ids, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=0, eos_token_id=2)
            text = tok.decode(out[0, ids.shape[1]:].tolist(), skip_special_tokens=True)
            answers.append(text.split("\n", 1)[0].strip(" \t\r\v\f"))  # ASCII, as C++
    return answers


def check_models(args, out, results):
    data = os.path.join(out, "data")
    cfg = results["config"]
    for job_run in results["runs"]:
        model = job_run["model_dir"]
        for name in ("config.json", "model.safetensors", "tokenizer.json"):
            if not os.path.exists(os.path.join(model, name)):
                fail(f"{job_run['mode']}: {model} lacks {name}")
        proc = run(
            [args.cli, "eval", "--model", model, "--data", os.path.join(data, "eval_bios.csv"),
             "--prompts", os.path.join(data, "prompts.csv"), "--fewshot",
             os.path.join(data, "fewshot.csv"), f"--shots={cfg['shots']}",
             f"--seed={job_run['seed']}", f"--max_new_tokens={cfg['max_new_tokens']}", "--json"])
        if proc.returncode != 0:
            fail(f"cluedrop eval {model}: {proc.stderr}")
        evaluation = json.loads(proc.stdout)
        for f in evaluation["fields"]:
            job = job_run["fields"][f["field"]]
            if abs(f["exact_match"] - job["em"]) > 1e-6 or abs(f["f1"] - job["f1"]) > 1e-6:
                fail(f"{job_run['mode']}/{f['field']}: cluedrop eval {f} != job {job}")
        predictions = evaluation["predictions"]
        hf = hf_generate(model, [p["prompt"] for p in predictions], cfg["max_new_tokens"])
        differ = [(p["prediction"], h) for p, h in zip(predictions, hf) if p["prediction"] != h]
        if len(differ) > len(predictions) // 50:
            fail(f"{job_run['mode']}: transformers answers differ on {len(differ)} of "
                 f"{len(predictions)} prompts, e.g. {differ[:3]}")
        sums = {}
        for p in predictions:
            em, f1 = oracle_scores(p["prediction"], p["answers"])
            for key in (p["field"], "overall"):
                s = sums.setdefault(key, [0, 0.0, 0.0])
                s[0] += 1
                s[1] += em
                s[2] += f1
        for field, (n, em, f1) in sums.items():
            job = job_run["fields"][field]
            if n != job["questions"] or abs(em / n - job["em"]) > 1e-6 or \
                    abs(f1 / n - job["f1"]) > 1e-6:
                fail(f"{job_run['mode']}/{field}: oracle EM {em / n} F1 {f1 / n} over {n} != {job}")
        steps = [e["step"] for e in job_run["train_log"]]
        if not steps or steps != list(range(1, job_run["steps"] + 1)):
            fail(f"{job_run['mode']}: train_log steps {steps[:3]}..{steps[-3:]} "
                 f"vs {job_run['steps']}")
        log(f"  {job_run['mode']}: {len(predictions)} predictions; cluedrop eval, transformers "
            f"({len(differ)} differ) and the SQuAD oracle agree with the job: EM "
            f"{100 * job_run['fields']['overall']['em']:.1f}%")


def file_digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_reproduced(args, first, out2):
    """Every run of the second demo (other shell variables, same machine)
    equals the first's bit for bit: model bytes and every answer. The
    control: the same training outside the demo under the two shells'
    kernels gives different bytes, so the equality is the pinning's doing."""
    with open(os.path.join(out2, "results.json")) as f:
        second = json.load(f)
    runs = {r["mode"]: r for r in first["runs"]}
    for r in second["runs"]:
        a, b = runs[r["mode"]], r
        da = file_digest(os.path.join(a["model_dir"], "model.safetensors"))
        db = file_digest(os.path.join(b["model_dir"], "model.safetensors"))
        if da != db or a["questions"] != b["questions"]:
            fail(f"{r['mode']}: the rerun differs: model {da[:12]} vs {db[:12]}")
    spec_path = os.path.join(os.path.dirname(runs["none"]["model_dir"]), "job.json")
    with open(spec_path) as f:
        spec = json.load(f)
    digests = []
    for env in ({"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AUTO"},
                {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE"}):
        out = os.path.join(args.work, "control-" + env["MKL_CBWR"])
        spec["output_dir"] = out
        path = out + ".json"
        with open(path, "w") as f:
            json.dump(spec, f)
        proc = run([args.cli, "train", path, "--local", "--ranks=2"],
                   env=dict(os.environ, OMP_NUM_THREADS="1", **env), timeout=300)
        if proc.returncode != 0:
            fail(f"control training: {proc.stderr[-2000:]}")
        digests.append(file_digest(os.path.join(out, "final", "model.safetensors")))
    if digests[0] == digests[1]:
        fail("control: the two kernel settings trained identical bytes, so the equality above "
             "shows nothing")
    log(f"rerun under ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE in the shell: "
        f"{len(second['runs'])} runs bit-identical (models and answers); the control trains "
        f"different bytes under those kernels ({digests[0][:12]} vs {digests[1][:12]})")


def check_artifacts(out):
    for name in ("loss_curves.png", "em_by_field.png"):
        with open(os.path.join(out, name), "rb") as f:
            if f.read(8) != b"\x89PNG\r\n\x1a\n":
                fail(f"{name} is not a PNG")
    with open(os.path.join(out, "clues.html")) as f:
        page = f.read()
    shaded = page.count("class='t")
    struck = page.count("class='t d'")
    if shaded < 50 or struck < 5:
        fail(f"clues.html: {shaded} shaded tokens, {struck} dropped")
    log(f"plots are PNGs; clues.html shades {shaded} tokens, {struck} dropped")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--paper-data", required=True)
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    out = os.path.join(args.work, "out")
    stderr = run_demo(args, out)
    for want in ("pretraining the small reference model", "pretraining the large reference model",
                 "run 6/6", "] done in"):
        if want not in stderr:
            fail(f"demo progress lacks {want!r}:\n{stderr[-3000:]}")
    with open(os.path.join(out, "results.json")) as f:
        results = json.load(f)
    if sorted(r["mode"] for r in results["runs"]) != sorted(MODES):
        fail(f"runs {[r['mode'] for r in results['runs']]}")
    check_report(out, results)
    check_models(args, out, results)
    check_artifacts(out)
    # The same grid again, in a shell that asks for other kernels: the demo
    # pins them (numerics.py), so the models must be the same bytes.
    other_host = dict(os.environ, ATEN_CPU_CAPABILITY="default", MKL_CBWR="COMPATIBLE",
                      OMP_NUM_THREADS="3", MKL_NUM_THREADS="3")
    again = run_demo(args, os.path.join(args.work, "out2"), ("--modes", "none,contrast"),
                     env=other_host)
    if "skipping pretraining" not in again or "pretraining the small" in again:
        fail(f"second run did not reuse the cached reference models:\n{again[-2000:]}")
    log("second run reused the cached reference models")
    check_reproduced(args, results, os.path.join(args.work, "out2"))
    paper_out = os.path.join(args.work, "paper")
    run_demo(args, paper_out, ("--modes", "contrast", "--data", args.paper_data))
    with open(os.path.join(paper_out, "results.json")) as f:
        paper = json.load(f)
    fields = paper["runs"][0]["fields"]
    want = {"date", "city", "major", "university", "company", "overall"}
    if set(fields) != want or fields["overall"]["questions"] != 500:
        fail(f"--data paper run: fields {sorted(fields)}, "
             f"{fields.get('overall', {}).get('questions')} questions")
    with open(os.path.join(paper_out, "report.md")) as f:
        if "the paper's files" not in f.read():
            fail("--data report does not say it ran the paper's files")
    log("--data: the paper's 100 people x 5 fields ran through the same path")
    log("PASS")


if __name__ == "__main__":
    main()

"""The experiment grid: one cluster job per (seed, mode), each scoring the
evaluated people's biographies with the two reference models, training the
small reference model on them under the mode's token dropout (two Gloo
ranks), and evaluating QA exact match / F1 per field."""

import json
import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import progress
from .config import DemoConfig
from .data import DataSet

if TYPE_CHECKING:
    from .cluster import DemoCluster


def job_spec(config: DemoConfig, dataset: DataSet, refs: tuple[str, str, str], mode: str,
             seed: int, output_dir: str) -> dict[str, Any]:
    """The job spec (JobSpec's JSON) of one (mode, seed) run."""
    _, large_dir, small_dir = refs
    global_batch = config.batch_size
    per_doc = 1 if mode == "none" else config.copies + 1
    epochs = config.epochs_for(mode)
    steps = epochs * -(-dataset.eval_count * per_doc // global_batch)
    return {
        "name": f"demo-{mode}-seed{seed}",
        "labels": {"demo": config.preset, "mode": mode, "seed": str(seed)},
        "corpus": {"paths": [dataset.eval_bios], "format": "csv", "field_tags": True,
                   "shard_size_docs": 10},
        "reference_models": {"large": {"checkpoint_dir": large_dir, "dtype": "float32"},
                             "small": {"checkpoint_dir": small_dir, "dtype": "float32"}},
        "target_model": {"checkpoint_dir": small_dir, "dtype": "float32"},
        "augmentation": {"mode": mode, "alpha": config.alpha, "beta": config.beta,
                         "copies": config.copies, "keep_original": True, "form": config.form,
                         "resample": "fixed", "seed": seed},
        "training": {"epochs": epochs, "batch_size": global_batch // config.world_size,
                     "learning_rate": config.lr_for(mode), "schedule": "linear",
                     "warmup_steps": max(1, steps // 10), "grad_clip": 1.0,
                     "world_size": config.world_size, "max_seq_len": config.max_seq_len,
                     "precision": "fp32", "seed": seed,
                     "shuffle_buffer": config.shuffle_buffer},
        "evaluation": {"prompt_table": dataset.prompts, "fewshot_pool": dataset.fewshot,
                       "shots": config.shots, "max_new_tokens": config.max_new_tokens},
        "output_dir": output_dir,
    }


def score_spec(config: DemoConfig, dataset: DataSet, refs: tuple[str, str, str],
               output_dir: str) -> dict[str, Any]:
    """A score-only job on the evaluated people's biographies (the same
    corpus and reference models as every grid run): its scores feed
    clues.html before the first training run starts."""
    spec = job_spec(config, dataset, refs, "contrast", config.seeds[0], output_dir)
    for key in ("target_model", "augmentation", "training", "evaluation"):
        del spec[key]
    spec["name"] = "demo-scores"
    spec["labels"] = {"demo": config.preset, "stage": "scores"}
    return spec


def field_scores(job: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """{field: {em, f1, questions}} of a job's last evaluation ({} if none)."""
    evaluations = job.get("evaluations") or []
    if not evaluations:
        return {}
    return {f["field"]: {"em": f.get("exact_match", 0.0), "f1": f.get("f1", 0.0),
                         "questions": f.get("questions", 0)}
            for f in evaluations[-1].get("fields", [])}


def read_train_log(path: str) -> list[dict[str, Any]]:
    """{step: entry}, the last line of each step (a resumed run repeats some)."""
    steps = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                entry = json.loads(line)
                steps[entry["step"]] = entry
    return [steps[k] for k in sorted(steps)]


def run_grid(cluster: "DemoCluster", cli: str, config: DemoConfig, dataset: DataSet,
             refs: tuple[str, str, str], out_dir: str) -> list[dict[str, Any]]:
    """Runs every (seed, mode) job on `cluster` and returns one record per run."""
    runs = []
    grid = [(seed, mode) for seed in config.seeds for mode in config.modes]
    started = time.time()
    for index, (seed, mode) in enumerate(grid):
        name = f"{mode}-seed{seed}"
        run_dir = os.path.join(out_dir, "runs", name)
        os.makedirs(run_dir, exist_ok=True)
        spec_path = os.path.join(run_dir, "job.json")
        with open(spec_path, "w") as f:
            json.dump(job_spec(config, dataset, refs, mode, seed, run_dir), f, indent=1)
        eta = ""
        if index:
            per_run = (time.time() - started) / index
            eta = f"; grid ETA {progress.format_seconds(per_run * (len(grid) - index))}"
        job_id = cluster.submit(spec_path)
        progress.banner(f"run {index + 1}/{len(grid)}: mode {mode}, seed {seed} ({job_id}{eta})")
        run_start = time.time()
        rc = cluster.watch(job_id, os.path.join(run_dir, "watch.log"))
        job = cluster.status(job_id)
        if rc != 0 or job.get("state") != "JOB_STATE_SUCCEEDED":
            raise SystemExit(f"cluedrop demo: job {job_id} ({name}) ended "
                             f"{job.get('state')}: {job.get('reason', '')}\n"
                             f"trainer-0 log tail:\n{cluster.tail('trainer-0')}")
        scores = field_scores(job)
        if "overall" not in scores:
            raise SystemExit(f"cluedrop demo: job {job_id} reported no evaluation: {job}")
        # The exported model stays; the per-epoch resume checkpoints (with
        # optimizer state) are only needed while the job runs.
        shutil.rmtree(os.path.join(run_dir, "checkpoints"), ignore_errors=True)
        # Per-question outcomes (the intervals resample people): `cluedrop
        # eval` of the exported model, which must agree with the job's own
        # evaluation field by field.
        evaluated, questions = evaluate_model(cli, job["model_dir"], dataset.eval_bios, dataset,
                                              config, seed=seed)
        for field, got in evaluated.items():
            want = scores.get(field)
            if want is None or abs(got["em"] - want["em"]) > 1e-9 or \
                    abs(got["f1"] - want["f1"]) > 1e-9:
                raise SystemExit(f"cluedrop demo: {name}: cluedrop eval of {job['model_dir']} "
                                 f"gives {field} {got}, the job reported {want}")
        log = read_train_log(os.path.join(run_dir, "train_log.jsonl"))
        run = {"mode": mode, "seed": seed, "job_id": job_id, "fields": scores,
               "steps": int(job["progress"].get("training_step", 0)),
               "final_loss": job["progress"].get("loss"), "model_dir": job.get("model_dir"),
               "seconds": round(time.time() - run_start, 1), "train_log": log,
               "epochs": config.epochs_for(mode), "learning_rate": config.lr_for(mode),
               "questions": questions}
        runs.append(run)
        overall = scores["overall"]
        progress.info(f"{name}: {run['steps']} steps, final loss {run['final_loss']:.3f}, "
                      f"EM {100 * overall['em']:.1f}%, F1 {100 * overall['f1']:.1f}% "
                      f"({progress.format_seconds(run['seconds'])})")
    return runs


def evaluate_model(cli: str, model_dir: str, people_csv: str, dataset: DataSet,
                   config: DemoConfig, seed: int = 1
                   ) -> tuple[dict[str, dict[str, float]], list[list[Any]]]:
    """`cluedrop eval --json` of a model on tagged biographies: ({field:
    scores}, [[subject, field, exact match, F1] per question])."""
    proc = subprocess.run(
        [cli, "eval", "--model", model_dir, "--data", people_csv, "--prompts", dataset.prompts,
         "--fewshot", dataset.fewshot, f"--shots={config.shots}", f"--seed={seed}",
         f"--max_new_tokens={config.max_new_tokens}", "--json"],
        capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="2"))
    if proc.returncode != 0:
        raise SystemExit(f"cluedrop demo: cluedrop eval {model_dir} on {people_csv} failed:\n"
                         f"{proc.stderr[-2000:]}")
    result = json.loads(proc.stdout)
    fields = {f["field"]: {"em": f["exact_match"], "f1": f["f1"], "questions": f["questions"]}
              for f in result["fields"]}
    questions = [[p["subject"], p["field"], p["exact_match"], p["f1"]]
                 for p in result["predictions"]]
    return fields, questions


def baselines(cli: str, dataset: DataSet, refs: tuple[str, str, str],
              config: DemoConfig) -> dict[str, dict[str, dict[str, float]]]:
    """What the reference models know before the experiment: the small model
    (the target's starting point) on the evaluated people (who are new to
    it), and both models on reference people with and without QA pairs in
    their pretraining corpus (does answering carry over to people known only
    from biographies?)."""
    _, large_dir, small_dir = refs
    out = {}
    out["before"], out["before_questions"] = evaluate_model(cli, small_dir, dataset.eval_bios,
                                                            dataset, config)
    for name, model in (("small", small_dir), ("large", large_dir)):
        out[f"{name}_qa_people"], _ = evaluate_model(cli, model, dataset.reference_with_qa,
                                                     dataset, config)
        out[f"{name}_bio_only_people"], _ = evaluate_model(cli, model, dataset.reference_bio_only,
                                                           dataset, config)
    return out

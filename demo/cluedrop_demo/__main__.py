"""`cluedrop demo`: the paper's experiment end to end on this machine.

  cluedrop demo [--quick | --full] [--data DIR] [--out DIR]

Stages: data (generated bioS-style biographies, or the paper's files with
--data), the tokenizer and the two reference models (pretrained from
scratch, cached by configuration hash), a local cluster (coordinator,
scorer, two trainer ranks), one job per (seed, mode), then report.md,
loss_curves.png, em_by_field.png, clues.html and results.json in --out.
"""

import argparse
import dataclasses
import json
import os
import shutil
import struct
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from . import (clues, config as configs, data, experiment, numerics, plots, progress, reference,
               report)
from .cluster import DemoCluster


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="cluedrop demo", description=__doc__.split("\n\n")[0])
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true",
                      help="smoke version: tiny models, every mode, one seed (about a minute)")
    size.add_argument("--full", action="store_true",
                      help="all six modes with the seeds the power estimate asks for "
                           "(about 18 min on 2 cores with the reference models cached, 26 without)")
    p.add_argument("--data", help="directory with the paper's biography_synthetic.csv, "
                                  "prompts.csv and biography_real.csv (default: generated)")
    p.add_argument("--out", default="cluedrop-demo", help="output directory (default %(default)s)")
    p.add_argument("--work", help="work directory for the cluster (default: a temp dir, removed)")
    p.add_argument("--cache", help="reference model cache (default $CLUEDROP_CACHE/demo)")
    p.add_argument("--rebuild_references", action="store_true",
                   help="pretrain the reference models even when cached")
    p.add_argument("--seeds", type=int, help="number of seeds (overrides the preset)")
    p.add_argument("--modes", help="comma-separated modes (overrides the preset)")
    p.add_argument("--tune", action="store_true",
                   help="run on the tuning people (data/tune_bios.csv) instead of the evaluated "
                        "people: for choosing --epochs and --learning_rate")
    p.add_argument("--epochs", type=int,
                   help="training epochs of every mode (overrides the preset's tuned values)")
    p.add_argument("--learning_rate", type=float,
                   help="peak learning rate of every mode (overrides the preset's tuned values)")
    p.add_argument("--dropout_epochs", type=int,
                   help="epochs of every dropout mode (overrides the preset's tuned values)")
    p.add_argument("--numerics", choices=numerics.SETTINGS,
                   help="pinned (default: bitwise on the same CPU model) or portable (also "
                        "MKL's COMPATIBLE branch for matrix products, the same on Intel and AMD; "
                        "slower; training is still not bitwise across CPU vendors: "
                        "docs/demo.md)")
    # Set by `cluedrop demo` (the directory of the binaries it drives).
    p.add_argument("--bin", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if not args.bin:
        p.error("run it as `cluedrop demo` (which passes the binaries' directory)")
    return args


def safetensors_parameters(model_dir: str) -> int:
    """The number of parameters in a checkpoint directory's safetensors files."""
    total = 0
    for name in os.listdir(model_dir):
        if name.endswith(".safetensors"):
            with open(os.path.join(model_dir, name), "rb") as f:
                (size,) = struct.unpack("<Q", f.read(8))
                header = json.loads(f.read(size))
            for key, entry in header.items():
                if key != "__metadata__":
                    count = 1
                    for d in entry["shape"]:
                        count *= d
                    total += count
    return total


def choose_config(args: argparse.Namespace) -> configs.DemoConfig:
    """The preset the flags pick, with --data, --seeds and --modes applied."""
    config = configs.PRESETS["quick" if args.quick else "full" if args.full else "default"]
    if args.data:
        # The paper's biographies use pronouns: so does the reference population.
        config = dataclasses.replace(config, fullname=False)
    if args.seeds:
        if args.seeds < 1:
            raise SystemExit("cluedrop demo: --seeds must be >= 1")
        config = dataclasses.replace(config, seeds=tuple(range(1, args.seeds + 1)))
    if args.modes:
        modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
        bad = [m for m in modes if m not in configs.MODES_ALL]
        if bad or not modes:
            raise SystemExit(f"cluedrop demo: --modes: unknown mode(s) {', '.join(bad)}; "
                             f"choose from {', '.join(configs.MODES_ALL)}")
        config = dataclasses.replace(config, modes=modes)
    for flag in ("epochs", "dropout_epochs"):
        if getattr(args, flag) is not None and getattr(args, flag) < 1:
            raise SystemExit(f"cluedrop demo: --{flag} must be >= 1")
    if args.learning_rate is not None and not args.learning_rate > 0:
        raise SystemExit("cluedrop demo: --learning_rate must be > 0")
    config = config.with_schedule(args.epochs, args.learning_rate, args.dropout_epochs)
    if args.numerics:
        config = dataclasses.replace(config, numerics=args.numerics)
    return config


def write_clues(cluster: DemoCluster, refs: tuple[str, str, str], config: configs.DemoConfig,
                dataset: data.DataSet, out_dir: str, work: str) -> str:
    """Scores the evaluated biographies with a score-only job, then writes
    clues.html (and scores.jsonl) from its scores and one augmented copy.
    Returns the job id."""
    spec_path = os.path.join(work, "scores-job.json")
    with open(spec_path, "w") as f:
        json.dump(experiment.score_spec(config, dataset, refs, os.path.join(work, "scores-job")),
                  f, indent=1)
    job_id = cluster.submit(spec_path)
    rc = cluster.watch(job_id, os.path.join(work, "scores-watch.log"))
    job = cluster.status(job_id)
    if rc != 0 or job.get("state") != "JOB_STATE_SUCCEEDED":
        raise SystemExit(f"cluedrop demo: score job {job_id} ended {job.get('state')}: "
                         f"{job.get('reason', '')}\nscorer-0 log tail:\n{cluster.tail('scorer-0')}")
    scored = os.path.join(work, "scores.jsonl")
    augmented = os.path.join(work, "augmented.jsonl")
    cluster.cli("results", job_id, "--output", scored)
    cluster.cli("augment", "--scores", scored, "--tokenizer", refs[0], "--output", augmented,
                "--mode", "contrast", "--copies", "1", f"--alpha={config.alpha}",
                f"--beta={config.beta}", f"--seed={config.seeds[0]}")
    shutil.copy(scored, os.path.join(out_dir, "scores.jsonl"))
    clues.write(os.path.join(out_dir, "clues.html"), scored, augmented,
                title=f"cluedrop demo ({config.preset})")
    return job_id


def main(argv: Sequence[str]) -> int:
    """Runs the demo; returns the exit code (failures raise SystemExit)."""
    args = parse_args(argv)
    config = choose_config(args)
    numerics_env = numerics.apply(config.numerics)
    started = time.time()
    cli = os.path.join(args.bin, "cluedrop")
    out_dir = os.path.abspath(args.out)
    os.makedirs(out_dir, exist_ok=True)
    cache = args.cache or os.path.join(
        os.environ.get("CLUEDROP_CACHE") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "cluedrop"),
        "demo")
    work = args.work or tempfile.mkdtemp(prefix="cluedrop-demo-")
    progress.banner(f"cluedrop demo ({config.preset}): modes {', '.join(config.modes)}; "
                    f"seeds {', '.join(map(str, config.seeds))}; output {out_dir}")
    if config.preset != "quick":
        # Said up front: --full takes a while.
        runs = len(config.modes) * len(config.seeds)
        progress.info(f"{runs} training runs; expect about "
                      f"{progress.format_seconds(configs.estimate_seconds(config, 100, True))} "
                      f"on 2 cores with the reference models cached, "
                      f"{progress.format_seconds(configs.estimate_seconds(config, 100, False))} "
                      f"without (docs/demo.md, \"Wall times\")")

    progress.banner("data")
    data_dir = os.path.join(out_dir, "data")
    if args.data:
        dataset = data.from_paper_dir(os.path.abspath(args.data), data_dir, config)
        data_note = f"the paper's files from `{args.data}`"
    else:
        dataset = data.generate(data_dir, config)
        data_note = ("generated bioS-style biographies, one per evaluated person" +
                     (" (bioS \"fullname\" style: every sentence names the person)"
                      if config.fullname else ""))
    if args.tune:
        dataset = dataclasses.replace(dataset, eval_bios=dataset.tune_bios,
                                      eval_count=config.tune_people)
        data_note += "; run on the TUNING people (`--tune`), not the evaluated people"
    progress.info(f"{dataset.eval_count} {'tuning' if args.tune else 'evaluated'} people in "
                  f"{dataset.eval_bios}; {config.reference_people} reference people; few-shot "
                  f"pool {dataset.fewshot}; numerics {numerics.describe(numerics_env)}")

    progress.banner("reference models")
    pretrain_start = time.time()
    tokenizer_dir, large_dir, small_dir, cached = reference.prepare(
        cli, cache, dataset, config, rebuild=args.rebuild_references,
        numerics=numerics.describe(numerics_env))
    refs = (tokenizer_dir, large_dir, small_dir)
    if cached:
        pretrain_note = "taken from the cache (pretrained by an earlier run)"
    else:
        pretrain_note = (f"pretrained in this run in "
                         f"{progress.format_seconds(time.time() - pretrain_start)}")
    with open(os.path.join(tokenizer_dir, "tokenizer.json")) as f:
        vocab = len(json.load(f)["model"]["vocab"])

    progress.banner("baselines (cluedrop eval of the reference models)")
    base = experiment.baselines(cli, dataset, refs, config)
    progress.info(f"the small reference model before training on the evaluated people: EM "
                  f"{100 * base['before']['overall']['em']:.1f}%; on reference people known from "
                  f"biographies alone: {100 * base['small_bio_only_people']['overall']['em']:.1f}%")

    report_path = os.path.join(out_dir, "report.md")
    report.write_preliminary(report_path, config, base)
    progress.info(f"{report_path}: the baseline rows now; the grid's tables when it ends")

    progress.banner("cluster")
    cluster = DemoCluster(args.bin, os.path.join(work, "cluster"), config.world_size)
    try:
        address = cluster.start()
        progress.info(f"coordinator {address}, scorer-0, trainer-0..{config.world_size - 1} "
                      f"(logs in {cluster.work})")
        progress.banner("clues (a score-only job, cluedrop results, cluedrop augment)")
        write_clues(cluster, refs, config, dataset, out_dir, work)
        progress.info(f"open {os.path.join(out_dir, 'clues.html')}: the evaluated biographies "
                      f"shaded by contrast score, and the tokens one augmented copy drops")
        runs = experiment.run_grid(cluster, cli, config, dataset, refs, out_dir)
    finally:
        cluster.stop()
    progress.banner("report and plots")
    plots.loss_curves(runs, config.modes, os.path.join(out_dir, "loss_curves.png"))
    fields = report.fields_of(runs)
    plots.em_by_field(runs, [m for m in config.modes if any(r["mode"] == m for r in runs)],
                      fields, list(config.seeds), os.path.join(out_dir, "em_by_field.png"))
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump({"config": dataclasses.asdict(config), "numerics": numerics_env,
                   "baselines": base, "runs": runs}, f, indent=1)
    setup = {"data": data_note, "eval_people": dataset.eval_count, "vocab": vocab,
             "tokenizer": tokenizer_dir, "large_params": safetensors_parameters(large_dir),
             "small_params": safetensors_parameters(small_dir), "pretrain_note": pretrain_note,
             "wall": progress.format_seconds(time.time() - started),
             "numerics": numerics.describe(numerics_env), "tune": args.tune}
    found = report.write(os.path.join(out_dir, "report.md"), runs, config, setup, base)
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    for sentence in found:
        progress.info(sentence)
    progress.banner(f"done in {progress.format_seconds(time.time() - started)}: "
                    f"{os.path.join(out_dir, 'report.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

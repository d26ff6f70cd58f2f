"""report.md: the setup, mean and 95% CI of QA exact match and F1 per mode
and field, plain statements of how contrast compares with random and none
(paired by seed; only what the intervals support), the training figures
and a per-run table."""

import os
import platform
from collections.abc import Mapping, Sequence
from typing import Any

from . import stats
from .config import DemoConfig

PREFERRED_FIELDS = ("date", "city", "university", "major", "company", "company_city")


def fields_of(runs: Sequence[dict[str, Any]]) -> list[str]:
    """The fields the runs report, in the paper's order, then "overall"."""
    present = set()
    for r in runs:
        present.update(r["fields"])
    fields = [f for f in PREFERRED_FIELDS if f in present]
    fields += sorted(present - set(fields) - {"overall"})
    return fields + ["overall"]


def _cell(values: Sequence[float]) -> str:
    mean, half = stats.mean_ci(values)
    return f"{mean:.1f}" if half is None else f"{mean:.1f} ± {half:.1f}"


def _metric_table(runs: Sequence[dict[str, Any]], modes: Sequence[str], fields: Sequence[str],
                  metric: str, before: Mapping[str, Mapping[str, float]]) -> str:
    lines = ["| mode | " + " | ".join(fields) + " |", "|---" * (len(fields) + 1) + "|"]
    lines.append("| before training | " + " | ".join(
        f"{100 * before[f][metric]:.1f}" if f in before else "n/a" for f in fields) + " |")
    for mode in modes:
        cells = []
        for field in fields:
            values = [100 * r["fields"][field][metric] for r in runs
                      if r["mode"] == mode and field in r["fields"]]
            cells.append(_cell(values) if values else "n/a")
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def per_seed(runs: Sequence[dict[str, Any]], mode: str, seeds: Sequence[int],
             field: str = "overall", metric: str = "em") -> list[float]:
    """`mode`'s score in percent for each of `seeds`, in that order."""
    by_seed = {r["seed"]: 100 * r["fields"][field][metric] for r in runs if r["mode"] == mode}
    return [by_seed[s] for s in seeds]


def conclusions(runs: Sequence[dict[str, Any]], modes: Sequence[str],
                seeds: Sequence[int]) -> list[str]:
    """One sentence per other mode in the grid and metric (EM, F1): how
    contrast compares with it, paired by seed (stats.compare)."""
    out = []
    if "contrast" not in modes:
        return out
    for baseline in ("random", "none", "large", "small", "position"):
        if baseline not in modes:
            continue
        for metric, name in (("em", "exact match"), ("f1", "F1")):
            _, sentence = stats.compare(
                per_seed(runs, "contrast", seeds, metric=metric),
                per_seed(runs, baseline, seeds, metric=metric),
                "contrast", baseline, unit=f"points of overall {name}")
            out.append(sentence)
    return out


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (or what platform knows)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _steps_note(runs: Sequence[dict[str, Any]], modes: Sequence[str]) -> str:
    steps = {m: sorted({r["steps"] for r in runs if r["mode"] == m}) for m in modes}
    parts = [f"{m}: {'/'.join(map(str, v))}" for m, v in steps.items()]
    return ("All modes train for the same epochs, so the dropout modes, with the original and "
            "its copies per biography, take more optimizer steps (" + ", ".join(parts) + ").")


def _diagnostics(base: Mapping[str, Any]) -> str:
    def em(key):
        return f"{100 * base[key]['overall']['em']:.1f}%"

    return (f"Before the experiment (`cluedrop eval`, same prompts): the small reference model "
            f"answers {em('small_qa_people')} of the questions exactly on reference people whose "
            f"question-answer pairs it was pretrained on, and {em('small_bio_only_people')} on "
            f"reference people it knows from biographies alone (large: {em('large_qa_people')} "
            f"and {em('large_bio_only_people')}); on the evaluated people, new to it, "
            f"{em('before')} (the `before training` row). The second figure is the ceiling this "
            f"set-up suggests for facts learned from biographies: the experiment measures how much "
            f"of it each mode reaches.")


def write_preliminary(path: str, config: DemoConfig, base: Mapping[str, Any]) -> None:
    """report.md while the grid runs: the baseline rows (what the models
    know before any training), so a user has a result within minutes;
    write() replaces it when the grid ends."""
    fields = [f for f in PREFERRED_FIELDS if f in base["before"]]
    fields += sorted(set(base["before"]) - set(fields) - {"overall"}) + ["overall"]
    lines = [
        f"# cluedrop demo report ({config.preset}): in progress",
        "",
        f"The grid ({len(config.modes)} modes x {len(config.seeds)} seeds) is still running; "
        f"this file is rewritten with its tables when it ends. "
        f"[clues.html](clues.html) appears before the first run.",
        "",
        "## QA exact match, % (before training)",
        "",
        _metric_table([], [], fields, "em", base["before"]),
        "",
        "## QA F1, % (before training)",
        "",
        _metric_table([], [], fields, "f1", base["before"]),
        "",
        _diagnostics(base),
        "",
    ]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def write(path: str, runs: Sequence[dict[str, Any]], config: DemoConfig,
          setup: Mapping[str, Any], base: Mapping[str, Any]) -> list[str]:
    """Writes report.md; returns the comparison sentences it states."""
    modes = [m for m in config.modes if any(r["mode"] == m for r in runs)]
    seeds = list(config.seeds)
    fields = fields_of(runs)
    n_questions = runs[0]["fields"]["overall"]["questions"]
    lines = [
        f"# cluedrop demo report ({config.preset})",
        "",
        "The paper's biography experiment (Gao et al., AAAI 2025) at small scale, run through "
        "the real service: a coordinator, a scorer and two trainer ranks (Gloo) on 127.0.0.1.",
        "",
        "## Setup",
        "",
        f"- Data: {setup['data']}. {setup['eval_people']} evaluated people "
        f"({n_questions} QA questions per run); the reference models were pretrained on "
        f"{config.reference_people} other people ({config.reference_bios_per_person} permuted "
        f"biographies each; question-answer pairs for "
        f"{round(100 * config.reference_qa_fraction)}% of them).",
        f"- Tokenizer: built by the demo, {setup['vocab']} word-level tokens over byte-level "
        f"pre-tokens (`{setup['tokenizer']}/tokenizer.json`).",
        f"- Reference models (Llama architecture, pretrained from scratch by `cluedrop train`): "
        f"large {setup['large_params'] / 1e6:.2f}M parameters ({config.large.layers} layers, "
        f"hidden {config.large.hidden_size}), small {setup['small_params'] / 1e6:.2f}M "
        f"({config.small.layers} layers, hidden {config.small.hidden_size}); "
        f"{setup['pretrain_note']}.",
        f"- Target: the small reference model, continually pretrained (full fine-tuning) on the "
        f"evaluated people's biographies for {config.epochs} epochs, global batch "
        f"{config.batch_size}, learning rate {config.learning_rate:g} (linear decay, 10% warm-up), "
        f"{config.world_size} data-parallel ranks.",
        f"- Augmentation: {config.copies} {config.form}-form copies per biography plus the original "
        f"(mode none: the original only), drawn once (resample fixed), alpha {config.alpha:g}, "
        f"beta {config.beta:g}. Modes: {', '.join(modes)}; seeds: "
        f"{', '.join(map(str, seeds))}. The seed keys the dropout masks, the order of the "
        f"samples (a {config.shuffle_buffer}-sample shuffle buffer per rank) and the few-shot "
        f"draw.",
        f"- Evaluation: the paper's QA prompts, {config.shots}-shot"
        f"{'' if config.shots == 0 else ' from the few-shot pool'}, greedy, "
        f"{config.max_new_tokens} new tokens; SQuAD exact match and F1"
        f"{' (0-shot: see docs/demo.md)' if config.shots == 0 else ''}.",
        f"- Machine: {os.cpu_count()} CPUs ({cpu_name()}); total wall time "
        f"{setup['wall']}.",
        "",
        "## QA exact match, % (mean ± 95% CI half-width over seeds)",
        "",
        _metric_table(runs, modes, fields, "em", base["before"]),
        "",
        "## QA F1, % (mean ± 95% CI half-width over seeds)",
        "",
        _metric_table(runs, modes, fields, "f1", base["before"]),
        "",
        "## What this run shows",
        "",
        _diagnostics(base),
        "",
    ]
    found = conclusions(runs, modes, seeds)
    if not found:
        lines.append("- The grid did not include contrast, so there is nothing to compare.")
    for sentence in found:
        lines.append(f"- {sentence[0].upper()}{sentence[1:]}")
    if len(found) > 2:
        lines += ["", f"These are {len(found)} comparisons, each at the 95% level and not corrected "
                      f"for multiplicity: about one in twenty would exclude zero by chance alone, "
                      f"so a single interval that does is weak evidence."]
    lines += [
        "",
        f"These models have {setup['small_params'] / 1e6:.1f}M and "
        f"{setup['large_params'] / 1e6:.1f}M parameters and trained for minutes on a CPU; the "
        f"paper's are thousands of times larger, and nothing here says whether its result holds "
        f"for them. The statements above compare per-seed results paired by seed and claim a "
        f"difference only when the 95% interval excludes zero.",
        "",
        "## Training",
        "",
        "![training loss per mode](loss_curves.png)",
        "",
        "Losses of the dropout modes include the blanked copies, so they sit above mode none's; "
        "compare the curves' shapes, not their levels. " + _steps_note(runs, modes),
        "",
        "![exact match per mode and field](em_by_field.png)",
        "",
        "[clues.html](clues.html) shows sample biographies shaded by contrast score and the "
        "tokens one augmented copy drops.",
        "",
        "## Runs",
        "",
        "| mode | seed | job | steps | final loss | EM % | F1 % | wall s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        o = r["fields"]["overall"]
        lines.append(f"| {r['mode']} | {r['seed']} | {r['job_id']} | {r['steps']} | "
                     f"{r['final_loss']:.4f} | {100 * o['em']:.1f} | {100 * o['f1']:.1f} | "
                     f"{r['seconds']:.0f} |")
    lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return found

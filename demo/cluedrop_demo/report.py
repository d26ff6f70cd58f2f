"""report.md: the setup, QA exact match and F1 per mode and field with 95%
bootstrap intervals over seeds and people (stats.py), the paper's claims
next to this run's paired comparisons (with the multiplicity caveat), the
power of the design, the numerics it ran with, the training figures and a
per-run table."""

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


# The paper's claims on its biography set (Gao et al., AAAI 2025, Table 2
# and text): the ordering of the augmentation modes, and the one figure the
# project's brief quotes (Llama-3-70B, university QA exact match, plain
# fine-tuning .42 vs attention-contrast dropout .90).
PAPER_ORDER = "contrast > large, small, random > none"
PAPER_CLAIMS = (
    # (A, B, the paper's figure for A - B or None)
    ("contrast", "none", "+48 points university EM (.42 -> .90, Llama-3-70B)"),
    ("contrast", "random", None),
    ("contrast", "large", None),
    ("contrast", "small", None),
    ("random", "none", None),
)


def mode_cells(runs: Sequence[dict[str, Any]], mode: str, seeds: Sequence[int],
               field: str | None = None, metric: str = "em") -> stats.Cells:
    """stats.Cells of `mode`'s runs in `seeds` order (field None: overall)."""
    by_seed = {r["seed"]: r["questions"] for r in runs if r["mode"] == mode}
    return stats.cells([by_seed[s] for s in seeds], field=field, metric=metric)


def _field_arg(field: str) -> str | None:
    return None if field == "overall" else field


def _metric_table(runs: Sequence[dict[str, Any]], modes: Sequence[str], fields: Sequence[str],
                  metric: str, before: Mapping[str, Any], seeds: Sequence[int]) -> str:
    lines = ["| mode | " + " | ".join(fields) + " |", "|---" * (len(fields) + 1) + "|"]
    questions = before.get("before_questions")
    row = []
    for f in fields:
        if questions:
            row.append(stats.level(stats.cells([questions], _field_arg(f), metric)).cell())
        elif f in before["before"]:
            row.append(f"{100 * before['before'][f][metric]:.1f}")
        else:
            row.append("n/a")
    lines.append("| before training | " + " | ".join(row) + " |")
    for mode in modes:
        cells = [stats.level(mode_cells(runs, mode, seeds, _field_arg(f), metric)).cell()
                 for f in fields]
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def comparisons(runs: Sequence[dict[str, Any]], modes: Sequence[str], seeds: Sequence[int]
                ) -> list[tuple[str, str, str | None, stats.Interval, str, str, stats.Power | None]]:
    """The paper's claims this grid can test, overall EM: (A, B, the
    paper's figure, the paired interval of A - B, verdict, sentence, power
    or None with one seed)."""
    out = []
    for a, b, paper in PAPER_CLAIMS:
        if a not in modes or b not in modes:
            continue
        ca, cb = mode_cells(runs, a, seeds), mode_cells(runs, b, seeds)
        kind, sentence, iv = stats.compare(ca, cb, a, b, unit="points of overall exact match")
        pw = stats.power(ca, cb) if len(seeds) >= 2 else None
        out.append((a, b, paper, iv, kind, sentence, pw))
    return out


def conclusions(runs: Sequence[dict[str, Any]], modes: Sequence[str],
                seeds: Sequence[int]) -> list[str]:
    """One sentence per paper claim the grid can test (stats.compare)."""
    return [c[5] for c in comparisons(runs, modes, seeds)]


def _bonferroni_excludes_zero(runs, a, b, seeds, k: int) -> bool:
    """Whether the (1 - 0.05/k) paired interval of A - B excludes 0."""
    iv = stats.paired(mode_cells(runs, a, seeds), mode_cells(runs, b, seeds), 1 - 0.05 / k)
    return iv.low > 0 or iv.high < 0


def _paper_section(runs, modes, seeds, found) -> tuple[list[str], list[str]]:
    """Lines of "What the paper claims and what this run found", and the
    sentences to print."""
    lines = ["## What the paper claims and what this run found", ""]
    if not found:
        return lines + ["The grid has no pair of modes the paper compares."], []
    k = len(found)
    lines += [
        f"The paper's ordering on its biography set: **{PAPER_ORDER}**. Its targets are "
        f"Llama-3 models scored with Llama-3-70B and -8B; the one figure quoted here is its "
        f"headline (university QA exact match of Llama-3-70B, .42 with plain fine-tuning, "
        f".90 with attention-contrast dropout); its Table 2 has the rest.",
        "",
        "| claim | the paper | this run: A - B, overall EM points, 95% CI | verdict | "
        f"holds at 95/{k} (Bonferroni) |",
        "|---|---|---|---|---|",
    ]
    for a, b, paper, iv, kind, _, _ in found:
        strict = _bonferroni_excludes_zero(runs, a, b, seeds, k)
        lines.append(f"| {a} > {b} | {paper or 'yes (ordering)'} | {iv.mean:+.1f} "
                     f"[{iv.low:+.1f}, {iv.high:+.1f}] | {kind} | {'yes' if strict else 'no'} |")
    if "contrast" in modes and "none" in modes:
        uni = stats.paired(mode_cells(runs, "contrast", seeds, "university"),
                           mode_cells(runs, "none", seeds, "university"))
        lines += ["", f"University questions alone, the paper's headline field: contrast - none "
                      f"= {uni.mean:+.1f} points [{uni.low:+.1f}, {uni.high:+.1f}] "
                      f"(the paper: +48)."]
    means = {m: stats.level(mode_cells(runs, m, seeds)).mean for m in modes}
    order = " > ".join(f"{m} ({means[m]:.1f})" for m in sorted(modes, key=lambda m: -means[m]))
    lines += ["", f"This run's order of mean overall EM: {order}. Means alone are not evidence; "
                  f"the intervals above are.", "",
              f"Each interval is a paired percentile bootstrap over seeds and people (the same "
              f"seeds and people resampled for both modes). These are {k} comparisons at the "
              f"95% level: with {k} of them, the chance that at least one excludes 0 by chance "
              f"alone is up to {100 * (1 - 0.95 ** k):.0f}%, which is why the last column "
              f"applies the Bonferroni level 0.05/{k}.", ""]
    sentences = [f[5] for f in found]
    for sentence in sentences:
        lines.append(f"- {sentence[0].upper()}{sentence[1:]}")
    return lines, sentences


def _power_section(runs, seeds, found, effect: float = 5.0) -> tuple[list[str], str]:
    """Lines of the power section and the sentence a reader can act on."""
    lines = ["## Power: could this grid see a 5-point difference?", ""]
    if len(seeds) < 2:
        text = ("One seed gives no estimate of the seed-to-seed variance, so the intervals "
                "above cover the people only. Run `cluedrop demo --seeds 2` or more to estimate "
                "power.")
        return lines + [text], text
    lines += [
        "Variance components of each paired difference (two-way ANOVA over seeds x people, "
        "points of a person's mean EM), the difference this grid detects with 80% power at the "
        "two-sided 5% level, and the seeds needed for a 5-point difference (docs/demo.md, "
        "\"Power\"):", "",
        "| A - B | sd people | sd seeds | sd residual | detectable now | seeds for 5 points |",
        "|---|---|---|---|---|---|",
    ]
    for a, b, _, _, _, _, pw in found:
        n = pw.seeds_for(effect)
        lines.append(f"| {a} - {b} | {pw.sd_person:.1f} | {pw.sd_seed:.1f} | "
                     f"{pw.sd_residual:.1f} | {pw.detectable(len(seeds)):.1f} points "
                     f"({len(seeds)} seeds) | {n if n is not None else 'more people needed'} |")
    act = act_sentence(runs, found, seeds, effect)
    return lines + ["", f"**What to do with this:** {act}"], act


def act_sentence(runs, found, seeds: Sequence[int], effect: float = 5.0) -> str:
    """The report's sentence a reader can act on, from the comparisons
    (report.comparisons) of a grid with at least 2 seeds."""
    k = len(found)
    parts = []
    for a, b, _, iv, kind, _, _ in found:
        if kind != "inconclusive":
            strict = _bonferroni_excludes_zero(runs, a, b, seeds, k)
            parts.append(f"{a} {'beat' if kind == 'better' else 'did worse than'} {b} by "
                         f"{abs(iv.mean):.1f} points ({'also' if strict else 'but not'} at the "
                         f"Bonferroni level)")
    open_ = [f for f in found if f[4] == "inconclusive"]
    text = (f"At this scale and with this design, {'; '.join(parts)}: measured differences, "
            f"not noise, though they say nothing yet about the paper's models; rely on the "
            f"Bonferroni-robust ones." if parts else "No comparison excludes 0.")
    if not open_:
        return text
    names = ", ".join(f"{f[0]} - {f[1]}" for f in open_)
    if all(-effect < f[3].low and f[3].high < effect for f in open_):
        return (f"{text} The undecided intervals ({names}) lie within ±{effect:g} points: at "
                f"this scale, those pairs do not differ by {effect:g} points of overall EM.")
    need = [f[6].seeds_for(effect) for f in open_]
    if any(n is None for n in need):
        return (f"{text} Resolving {names} to {effect:g} points takes more evaluated people; "
                f"more seeds alone cannot.")
    seeds_needed = max(max(need), len(seeds) + 1)
    return (f"{text} To resolve {names} to {effect:g} points, run `cluedrop demo --seeds "
            f"{seeds_needed}`.")


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


def _steps_note(runs: Sequence[dict[str, Any]], modes: Sequence[str],
                config: DemoConfig) -> str:
    steps = {m: sorted({r["steps"] for r in runs if r["mode"] == m}) for m in modes}
    parts = [f"{m}: {'/'.join(map(str, v))}" for m, v in steps.items()]
    return ("Each mode trains for its own tuned epochs; a dropout mode's epoch holds the "
            "original and its copies of every biography. Optimizer steps: " + ", ".join(parts) +
            ".")


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
        _metric_table([], [], fields, "em", base, []),
        "",
        "## QA F1, % (before training)",
        "",
        _metric_table([], [], fields, "f1", base, []),
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
        f"# cluedrop demo report ({config.preset})"
        + (": the TUNING people (`--tune`), not the evaluated people" if setup.get("tune")
           else ""),
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
        f"{'tuning' if setup.get('tune') else 'evaluated'} people's biographies (linear decay, "
        f"10% warm-up), global batch {config.batch_size}, {config.world_size} data-parallel "
        f"ranks; epochs and peak learning rate per mode: "
        f"{', '.join(f'{m} {config.epochs_for(m)} / {config.lr_for(m):g}' for m in modes)} "
        f"(docs/demo.md, "
        f"\"Design\": chosen per mode on the tuning people, never on the evaluated people).",
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
        f"- Numerics: {setup.get('numerics', 'not pinned')} ({config.numerics}; see "
        f"\"Reproducibility\" below).",
        "",
        f"## QA exact match, % (mean [95% interval], bootstrap over {len(seeds)} seed"
        f"{'s' if len(seeds) != 1 else ''} and the people)",
        "",
        _metric_table(runs, modes, fields, "em", base, seeds),
        "",
        "## QA F1, % (mean [95% interval])",
        "",
        _metric_table(runs, modes, fields, "f1", base, seeds),
        "",
        "The before-training row is one evaluation; its interval covers the people only.",
        "",
        _diagnostics(base),
        "",
    ]
    tested = comparisons(runs, modes, seeds)  # the bootstraps, once for both sections
    paper_lines, found = _paper_section(runs, modes, seeds, tested)
    lines += paper_lines + [""]
    power_lines, act = _power_section(runs, seeds, tested)
    lines += power_lines + [""]
    found = found + [act]
    if config.numerics == "portable":
        other_cpus = ("`portable` also puts MKL's matrix products on its COMPATIBLE branch, the "
                      "same on Intel and AMD CPUs; that does not make training bitwise across CPU "
                      "models: AdamW's square roots go through MKL's vector math library, which "
                      "computes them with an approximate instruction (rsqrtps) whose results "
                      "differ between CPU vendors, on that branch too (docs/demo.md, "
                      "\"Reproducibility\").")
    else:
        other_cpus = ("On another CPU model MKL may take another branch and the numbers move, by "
                      "about a point of overall EM with the same verdicts in the measurement of "
                      "docs/demo.md, \"Reproducibility\", which also says what `--numerics "
                      "portable` does and does not fix.")
    lines += [
        "## Reproducibility",
        "",
        f"Every process ran with {setup.get('numerics', 'the host defaults')} and fixed thread "
        f"counts (trainer ranks 1, scorer and evaluation 2, pretraining 2). Under either setting "
        f"a rerun on the same CPU model gives this report bit for bit (wall times aside). "
        + other_cpus,
        "",
        f"These models have {setup['small_params'] / 1e6:.1f}M and "
        f"{setup['large_params'] / 1e6:.1f}M parameters and trained for minutes on a CPU; the "
        f"paper's are thousands of times larger, and nothing here says whether its result holds "
        f"for them. The statements above claim a difference only when the paired 95% interval "
        f"excludes zero.",
        "",
        "## Training",
        "",
        "![training loss per mode](loss_curves.png)",
        "",
        "Losses of the dropout modes include the blanked copies, so they sit above mode none's; "
        "compare the curves' shapes, not their levels. " + _steps_note(runs, modes, config),
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

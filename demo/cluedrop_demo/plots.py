"""The report's figures, drawn with matplotlib (Agg backend): training loss
per mode (mean over seeds) and QA exact match per mode and field with the
report's 95% bootstrap intervals."""

from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from . import stats  # noqa: E402


def loss_curves(runs: Sequence[dict[str, Any]], modes: Sequence[str], path: str) -> None:
    """loss_curves.png: training loss per mode over the fraction of training."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for mode in modes:
        logs = [r["train_log"] for r in runs if r["mode"] == mode and r["train_log"]]
        if not logs:
            continue
        length = min(len(log) for log in logs)
        xs, ys = [], []
        for i in range(length):
            entries = [log[i] for log in logs]
            total = entries[0].get("total_steps") or length
            xs.append((i + 1) / total)
            ys.append(sum(e["loss"] for e in entries) / len(entries))
        ax.plot(xs, ys, label=f"{mode} ({length} steps)", linewidth=1.2)
    ax.set_xlabel("fraction of training")
    ax.set_ylabel("training loss (mean over seeds)")
    ax.set_yscale("log")
    ax.set_title("Training loss per augmentation mode")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def em_by_field(runs: Sequence[dict[str, Any]], modes: Sequence[str], fields: Sequence[str],
                seeds: Sequence[int], path: str) -> None:
    """em_by_field.png: exact match per mode and field with the report's
    95% bootstrap intervals (asymmetric, inside [0, 100])."""
    fig, ax = plt.subplots(figsize=(max(8, 1.4 * len(fields)), 4.5))
    width = 0.8 / max(1, len(modes))
    for m, mode in enumerate(modes):
        means, below, above = [], [], []
        for field in fields:
            by_seed = {r["seed"]: r["questions"] for r in runs if r["mode"] == mode}
            iv = stats.level(stats.cells([by_seed[s] for s in seeds],
                                         None if field == "overall" else field))
            means.append(iv.mean)
            below.append(iv.mean - iv.low)
            above.append(iv.high - iv.mean)
        xs = [i + (m - (len(modes) - 1) / 2) * width for i in range(len(fields))]
        ax.bar(xs, means, width, yerr=[below, above], capsize=3, label=mode)
    ax.set_xticks(range(len(fields)))
    ax.set_xticklabels(fields, rotation=20)
    ax.set_ylabel("QA exact match, % (95% bootstrap interval)")
    ax.set_ylim(0, 100 if max(ax.get_ylim()) > 60 else max(ax.get_ylim()))
    ax.set_title("Exact match per mode and field")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

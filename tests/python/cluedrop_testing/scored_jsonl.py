"""Compares two scored-document JSONL files (`cluedrop score` / `results`)."""
from __future__ import annotations

import json
from typing import Any

from .report import fail


def read_jsonl(path: str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def compare_scored(got_path: str, want_path: str, what: str, *, offsets: bool = True,
                   tolerance: float = 1e-6) -> tuple[list[dict[str, Any]], float]:
    """Fails unless `got` has `want`'s documents in order, with the same text,
    tokens (and byte offsets, with `offsets`), the same null slots and scores
    within `tolerance`. Returns got's documents and the largest difference.
    `what` names the two sides in failure messages, e.g. "results vs score"."""
    got, want = read_jsonl(got_path), read_jsonl(want_path)
    if len(got) != len(want):
        fail(f"{what}: {len(got)} documents against {len(want)}")
    worst = 0.0
    for g, w in zip(got, want):
        if g["text"] != w["text"] or g["tokens"] != w["tokens"] or (
                offsets and g["offsets"] != w["offsets"]):
            fail(f"{what}: document {g['id']} differs in text/tokens"
                 f"{'/offsets' if offsets else ''}")
        for key in ("received_large", "received_small", "contrast"):
            if len(g[key]) != len(w[key]):
                fail(f"{what}: {g['id']}.{key} has {len(g[key])} values against {len(w[key])}")
            for a, b in zip(g[key], w[key]):
                if (a is None) != (b is None):
                    fail(f"{what}: {g['id']}.{key}: null mismatch")
                if a is not None:
                    worst = max(worst, abs(a - b))
    if worst > tolerance:
        fail(f"{what}: scores differ by {worst} (tolerance {tolerance})")
    return got, worst

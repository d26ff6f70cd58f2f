"""clues.html: sample biographies with every token shaded by its contrast
score (attention received in the large model minus the small one) and the
tokens one augmented copy drops (contrast mode) struck through."""

import html
import json


def _shade(value: float, low: float, high: float) -> str:
    if high <= low:
        return "rgba(0,0,0,0)"
    t = (value - low) / (high - low)
    return f"rgba(34,139,34,{0.08 + 0.85 * t:.2f})"


def write(path: str, scored_path: str, augmented_path: str, limit: int = 6,
          title: str = "cluedrop demo") -> None:
    """Writes the page for the first `limit` documents of `scored_path` (a
    `cluedrop results` JSONL), striking the tokens copy 0 of
    `augmented_path` (a `cluedrop augment` JSONL) drops."""
    with open(scored_path) as f:
        scored = [json.loads(line) for line in f][:limit]
    dropped = {}
    with open(augmented_path) as f:
        for line in f:
            sample = json.loads(line)
            if sample["copy"] == 0:
                dropped[sample["id"]] = set(sample["dropped"])
    parts = [
        "<!doctype html><meta charset='utf-8'>",
        f"<title>{html.escape(title)}: clues</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:2}"
        "span.t{padding:1px 0;border-radius:3px}span.d{text-decoration:line-through;"
        "text-decoration-color:#c00;text-decoration-thickness:2px;color:#900}"
        "td{padding:0 .6em}</style>",
        f"<h1>{html.escape(title)}: elusive clues</h1>",
        "<p>Each token is shaded by its contrast score, the attention it receives in the large "
        "reference model minus in the small one (darker green = higher). "
        "<span class='t d'>Struck-through red</span> tokens are the ones the first augmented "
        "copy (mode contrast) blanks out: high-contrast tokens are kept more often.</p>",
    ]
    for doc in scored:
        text = doc["text"].encode("utf-8")
        values = [v for v in doc["contrast"] if v is not None]
        low, high = (min(values), max(values)) if values else (0.0, 0.0)
        drop = dropped.get(doc["id"], set())
        spans = []
        cursor = 0
        ranked = []
        for i, (begin, end) in enumerate(doc["offsets"]):
            if begin < cursor or begin == end:
                continue
            spans.append(html.escape(text[cursor:begin].decode("utf-8", "replace")))
            piece = text[begin:end].decode("utf-8", "replace")
            value = doc["contrast"][i]
            shade = _shade(value, low, high) if value is not None else "transparent"
            cls = "t d" if i in drop else "t"
            tip = f"contrast {value:.4g}" if value is not None else "no score"
            spans.append(f"<span class='{cls}' style='background:{shade}' title='{tip}'>"
                         f"{html.escape(piece)}</span>")
            cursor = end
            if value is not None:
                ranked.append((value, piece.strip()))
        spans.append(html.escape(text[cursor:].decode("utf-8", "replace")))
        ranked.sort(reverse=True)
        top = ", ".join(f"{html.escape(p)} ({v:.3g})" for v, p in ranked[:8])
        parts.append(f"<h3>{html.escape(doc['id'])}</h3><p>{''.join(spans)}</p>"
                     f"<p><small>highest contrast: {top}; dropped in copy 0: "
                     f"{len(drop)} of {len(doc['offsets'])} tokens</small></p>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))

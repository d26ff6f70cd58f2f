"""Builds the demo's tokenizer: a word-level vocabulary over GPT-2 style
byte-level pre-tokens, saved as a Hugging Face `tokenizer.json` (model
WordLevel, pre-tokenizer and decoder ByteLevel, a TemplateProcessing that
prepends <s>) that both `tokenizers` and cluedrop's C++ runtime load.

Why word level: the biographies are templated, so whole words make a small
vocabulary (under a thousand entries) and short sequences, which keeps the
from-scratch reference models cheap on a CPU. Byte-level pre-tokens keep
spaces and newlines exact, so decoding round-trips, the QA answer ends at
the generated newline, and the blank form of the augmentation (dropped
tokens become spaces) tokenizes into runs of space tokens.

The vocabulary holds, for every pre-token of the texts, the piece with and
without its leading space (a blanked neighbour can turn either into the
other), each of its characters with and without a space, runs of up to
MAX_SPACE_RUN spaces, and newline runs; ids are
assigned by descending frequency, then the piece, so the same texts always
give the same tokenizer.
"""

import collections
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

import regex

# GPT-2's pre-tokenization pattern (the ByteLevel pre-tokenizer's use_regex).
GPT2_PATTERN = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
SPECIALS = ("<unk>", "<s>", "</s>")
MAX_SPACE_RUN = 256


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character map."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


BYTE_MAP = bytes_to_unicode()


def byte_level_pieces(text: str) -> list[str]:
    """The ByteLevel pre-tokens of `text`, byte-mapped ("Ġborn")."""
    return ["".join(BYTE_MAP[b] for b in piece.encode("utf-8"))
            for piece in GPT2_PATTERN.findall(text)]


def build_vocab(texts: Iterable[str]) -> dict[str, int]:
    """{token: id}: the specials, then every piece by descending frequency."""
    counts = collections.Counter()
    space = BYTE_MAP[ord(" ")]
    for text in texts:
        for piece in byte_level_pieces(text):
            counts[piece] += 1
            bare = piece[1:] if piece.startswith(space) and len(piece) > 1 else piece
            if not bare.strip(space):
                continue
            # Both forms: a blanked neighbour can add or remove the space.
            counts[bare] += 0
            counts[space + bare] += 0
            # A space before a contraction splits it ("Smith's" -> " 's" ->
            # " '" + "s"): every character alone, with and without a space.
            for char in bare:
                counts[char] += 0
                counts[space + char] += 0
    for k in range(1, MAX_SPACE_RUN + 1):
        counts[space * k] += 0
    newline = BYTE_MAP[ord("\n")]
    for k in range(1, 4):
        counts[newline * k] += 0
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    vocab = {token: i for i, token in enumerate(SPECIALS)}
    for token, _ in ordered:
        if token not in vocab:
            vocab[token] = len(vocab)
    return vocab


def tokenizer_json(vocab: Mapping[str, int]) -> dict[str, Any]:
    """The tokenizer.json document for `vocab`."""
    added = [{"id": vocab[t], "content": t, "single_word": False, "lstrip": False,
              "rstrip": False, "normalized": False, "special": True} for t in SPECIALS]
    byte_level = {"add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    bos = {"SpecialToken": {"id": "<s>", "type_id": 0}}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", **byte_level},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [bos, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [bos, {"Sequence": {"id": "A", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [vocab["<s>"]], "tokens": ["<s>"]}},
        },
        "decoder": {"type": "ByteLevel", **byte_level},
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "<unk>"},
    }


def write_tokenizer(directory: str, texts: Iterable[str]) -> int:
    """Writes tokenizer.json and tokenizer_config.json into `directory`;
    returns the vocabulary size."""
    vocab = build_vocab(texts)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(vocab), f, ensure_ascii=False, indent=1)
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>",
              "eos_token": "</s>", "unk_token": "<unk>", "model_max_length": 1024}
    with open(os.path.join(directory, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=1)
    return len(vocab)

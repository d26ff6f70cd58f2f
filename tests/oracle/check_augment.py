#!/usr/bin/env python3
"""Checks `cluedrop augment` against the authors' blank transformation.

Usage: check_augment.py --cli PATH/cluedrop --fixtures DIR/oracle/tokenizers --data bios.csv

For several oracle tokenizers (tokenizer.json files trained by
make_tokenizer_fixtures.py), this script tokenizes the paper's biographies with
Hugging Face `tokenizers`, writes them as a `cluedrop score` JSONL with
made-up scores (a few null), runs `cluedrop augment`, and checks every line
independently of the C++:

  blank   text == the paper's data_augmentation.py loop over the dropped
          tokens, with `tokenizers`' character offsets:
              new = new[:s] + " " * (e - s) + new[e:]
          and tokens == `tokenizers`' encoding of that text;
  delete  tokens == the input ids without the dropped positions;
  both    no dropped token is special or has the text "," / "." (stripped);
          the original (copy -1) is the input; the output is deterministic,
          another --epoch redraws, --resample fixed reuses epoch 0's masks;
  errors  a malformed line exits 2 naming file:line and leaves no output.

Exit code 0 when every check passes, 1 otherwise.
"""

import argparse
import csv
import json
import os
import random
import re
import sys
import tempfile

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tokenizers import Tokenizer  # noqa: E402

from cluedrop_testing import Checks, fail, run  # noqa: E402

FAMILIES = ["gpt2", "llama3", "llama2", "qwen2"]


def strip_tags(text):
    # The paper's utils.tokenize_with_mask drops every <tag> / </tag>.
    return re.sub(r"</?\w+[^>]*>", "", text)


def read_bios(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [strip_tags(row["text"]) for row in csv.DictReader(f)]


def byte_offsets(text, char_offsets):
    prefix = [0]
    for ch in text:
        prefix.append(prefix[-1] + len(ch.encode("utf-8")))
    return [[prefix[s], prefix[e]] for s, e in char_offsets]


def write_scores(path, tok, texts, rng):
    encodings = []
    with open(path, "w", encoding="utf-8") as f:
        for k, text in enumerate(texts):
            enc = tok.encode(text)
            encodings.append(enc)
            scores = [None if rng.random() < 0.05 else rng.uniform(-1, 1) for _ in enc.ids]
            f.write(json.dumps({
                "id": f"bio-{k}", "text": text, "tokens": enc.ids,
                "offsets": byte_offsets(text, enc.offsets),
                "received_large": scores, "received_small": [0.0] * len(scores),
                "contrast": scores}, ensure_ascii=False) + "\n")
    return encodings


def augment(cli, scores, tokenizer_dir, out, *flags):
    return run([cli, "augment", "--scores", scores, "--tokenizer", tokenizer_dir, "--output", out,
                *flags], timeout=120)


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def check_family(cli, name, tokenizer_dir, texts, work, c):
    tok = Tokenizer.from_file(os.path.join(tokenizer_dir, "tokenizer.json"))
    scores = os.path.join(work, f"{name}.scores.jsonl")
    encodings = write_scores(scores, tok, texts, random.Random(name))
    base = ["--mode", "contrast", "--alpha", "0.7", "--beta", "0.05", "--copies", "3",
            "--seed", "11", "--keep_original"]
    stats = {"dropped": 0, "multibyte": 0}

    def augmented(out_name, *flags):
        out = os.path.join(work, f"{name}.{out_name}.jsonl")
        proc = augment(cli, scores, tokenizer_dir, out, *base, *flags)
        c.expect(proc.returncode == 0, f"{name} {flags}: exit {proc.returncode}: {proc.stderr}")
        return read_lines(out) if proc.returncode == 0 else []

    def check_common(line, enc, text):
        where = f"{name} {line['id']} copy {line['copy']}"
        if line["copy"] == -1:
            c.expect(line["text"] == text and line["tokens"] == enc.ids and not line["dropped"],
                     f"{where}: the original differs from the input")
            return False
        for pos in line["dropped"]:
            s, e = enc.offsets[pos]
            c.expect(enc.special_tokens_mask[pos] == 0, f"{where}: dropped special token {pos}")
            c.expect(s < e, f"{where}: dropped empty-span token {pos}")
            c.expect(text[s:e].strip() not in (",", "."), f"{where}: dropped protected {pos}")
        c.expect(line["dropped"] == sorted(set(line["dropped"])), f"{where}: dropped not sorted")
        return True

    blank = augmented("blank", "--form", "blank", "--epoch", "2")
    c.expect(len(blank) == 4 * len(texts), f"{name}: {len(blank)} blank lines")
    for k, line in enumerate(blank):
        d = k // 4
        enc, text = encodings[d], texts[d]
        c.expect(line["id"] == f"bio-{d}" and line["copy"] == k % 4 - 1,
                 f"{name} line {k + 1}: id/copy {line['id']}/{line['copy']}")
        if not check_common(line, enc, text):
            continue
        new_text = text  # data_augmentation.py, token by token
        for pos in line["dropped"]:
            s, e = enc.offsets[pos]
            new_text = new_text[:s] + " " * (e - s) + new_text[e:]
            stats["multibyte"] += sum(len(ch.encode("utf-8")) > 1 for ch in text[s:e])
        stats["dropped"] += len(line["dropped"])
        where = f"{name} {line['id']} copy {line['copy']}"
        c.expect(line["text"] == new_text,
                 f"{where}: text\n  got  {line['text']!r}\n  want {new_text!r}")
        want_ids = tok.encode(new_text).ids
        c.expect(line["tokens"] == want_ids,
                 f"{where}: tokens\n  got  {line['tokens']}\n  want {want_ids}")
    c.expect(stats["dropped"] > 10 * len(texts), f"{name}: only {stats['dropped']} drops")
    c.expect(stats["multibyte"] > 0, f"{name}: no multi-byte character was blanked")

    delete = augmented("delete", "--form", "delete", "--epoch", "2")
    for k, line in enumerate(delete):
        enc = encodings[k // 4]
        if not check_common(line, enc, texts[k // 4]):
            continue
        dropped = set(line["dropped"])
        want = [t for i, t in enumerate(enc.ids) if i not in dropped]
        c.expect(line["tokens"] == want, f"{name} {line['id']} copy {line['copy']}: delete ids")
        # The same masks as the blank form (the mask does not depend on the form).
        c.expect(line["dropped"] == blank[k]["dropped"] if k < len(blank) else False,
                 f"{name} {line['id']} copy {line['copy']}: delete and blank masks differ")

    again = augmented("again", "--form", "blank", "--epoch", "2")
    c.expect(again == blank, f"{name}: a second run differs")
    other_epoch = augmented("epoch3", "--form", "blank", "--epoch", "3")
    c.expect([x["dropped"] for x in other_epoch] != [x["dropped"] for x in blank],
             f"{name}: --epoch 3 drew the same masks as --epoch 2")
    fixed0 = augmented("fixed0", "--form", "delete", "--resample", "fixed", "--epoch", "0")
    fixed3 = augmented("fixed3", "--form", "delete", "--resample", "fixed", "--epoch", "3")
    c.expect(fixed0 == fixed3 and fixed0, f"{name}: --resample fixed differs between epochs")
    return stats


def check_errors(cli, tokenizer_dir, texts, work, c):
    tok = Tokenizer.from_file(os.path.join(tokenizer_dir, "tokenizer.json"))
    scores = os.path.join(work, "bad.scores.jsonl")
    write_scores(scores, tok, texts[:2], random.Random(1))
    with open(scores, "a", encoding="utf-8") as f:
        f.write('{"id": "x", "text": "a", "tokens": [1], "offsets": [[0, 5]]}\n')
    out = os.path.join(work, "bad.out.jsonl")
    proc = augment(cli, scores, tokenizer_dir, out)
    c.expect(proc.returncode == 2 and f"{scores}:3:" in proc.stderr,
             f"malformed line: exit {proc.returncode}, stderr {proc.stderr!r}")
    c.expect(not os.path.exists(out) and not os.path.exists(out + ".tmp"),
             "malformed line: an output file was left behind")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", required=True)
    parser.add_argument("--fixtures", required=True)
    parser.add_argument("--data", required=True)
    args = parser.parse_args()
    if not os.path.exists(os.path.join(args.fixtures, "manifest.json")):
        fail(f"{args.fixtures}/manifest.json missing (run oracle.tokenizer_fixtures)")
    texts = read_bios(args.data)
    c = Checks(prefix="FAIL ", max_printed=20)
    with tempfile.TemporaryDirectory() as work:
        totals = {}
        for name in FAMILIES:
            totals[name] = check_family(cli=args.cli, name=name,
                                        tokenizer_dir=os.path.join(args.fixtures, name),
                                        texts=texts, work=work, c=c)
        check_errors(args.cli, os.path.join(args.fixtures, "llama3"), texts, work, c)
    if c.failures:
        print(f"FAIL: {c.failures} of {c.checks} checks failed")
        return 1
    summary = ", ".join(f"{n}: {t['dropped']} drops, {t['multibyte']} multi-byte chars blanked"
                        for n, t in totals.items())
    print(f"PASS: cluedrop augment matched the paper's blank transformation and tokenizers on "
          f"{len(texts)} biographies x 3 copies ({c.checks} checks; {summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Oracle fixtures for the C++ tokenizer.json runtime (workers/model/tokenizer).

Usage:
  make_tokenizer_fixtures.py --out DIR [--only NAME,...] [--random N]

Trains small BPE / WordLevel tokenizers on a built-in corpus with the Hugging
Face `tokenizers` library and assembles, for each, a tokenizer.json whose
pipeline copies a real model family's file (GPT-2, Llama-3, Qwen2, Llama-2,
Gemma, Mistral, RoBERTa, a WordLevel one and two synthetic ones that exercise
the remaining components). `tokenizers` is used only as the oracle: each
tokenizer.json is loaded back with Tokenizer.from_str and the outputs of that
object are what the C++ must reproduce.

For every tokenizer this writes
  DIR/<name>/tokenizer.json
  DIR/<name>/expected.json   {"name", "vocab_size", "token_to_id",
                              "cases": [{"text", "with_special", "without_special",
                                         "decode", "decode_skip"}],
                              "decode_cases": [{"ids", "skip_special_tokens", "text"}]}
and DIR/manifest.json listing them. Offsets in expected.json are UTF-8 byte
offsets into the text (tokenizers reports char offsets; they are converted
here). `special` is 1 for tokens in the special-tokens mask or whose id is a
special added token. Everything is deterministic.
"""

import argparse
import json
import os
import random
import sys
import time

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import tokenizers  # noqa: E402
from tokenizers import (  # noqa: E402
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    trainers,
)

LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                  r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
                 r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello world! Hello, tokenizers. Hello again, world.",
    "I'm sure you're right, but we've seen they'll say it's what he'd done.",
    "She doesn't know; they can't tell; we won't go. I'll see.",
    "In 2023 the population was 1,234,567 and in 1999 it was 987654.",
    "Prices: $3.50, $12.99, 100% off, 7 days, 24/7 support.",
    "def tokenize(text):\n    return [t for t in text.split() if t]\n",
    "for (int i = 0; i < n; ++i) { sum += values[i]; }",
    "The tokenizer splits words, numbers and punctuation into pieces.",
    "Tokenization is the first step of every language model pipeline.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "Le café est très bon à Paris; où est la gare?",
    "El niño comió una manzana en la mañana.",
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "Привет, мир! Как дела?",
    "東京は日本の首都です。今日は良い天気ですね。",
    "我们喜欢学习中文和数学。",
    "مرحبا بالعالم، كيف حالك؟",
    "नमस्ते दुनिया, आप कैसे हैं?",
    "Emoji are fun 😀 👍 🎉 and hearts ❤️ too.",
    "Line one\nLine two\n\nLine four\twith a tab.",
    "   Leading spaces and trailing spaces   ",
    "UPPER CASE and lower case and Mixed Case Words.",
    "email@example.com https://example.org/path?q=1&x=2#frag",
    "A B C D E F G H I J K L M N O P Q R S T U V W X Y Z",
    "a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3 4 5 6 7 8 9",
    "The model learns to predict the next token from the previous tokens.",
    "Training data: books, articles, code, conversations and more.",
    "It was the best of times, it was the worst of times.",
    "To be, or not to be, that is the question.",
    "She sells sea shells by the sea shore; the shells she sells are sea shells.",
    "Numbers like 3.14159 and 2.71828 appear in mathematics.",
    "Hello hello HELLO HeLLo world World WORLD",
    "tokenization tokenizer tokenize tokens token",
    "naïve café résumé coöperate façade",
    "The year 2024 had 366 days; 2025 has 365.",
]

COMMON_TEXTS = [
    "",
    "Hello world",
    "Hello, world! How are you doing today?",
    " ",
    "  ",
    "\n",
    "\n\n\n",
    "\r\n",
    "   leading spaces",
    "trailing spaces   ",
    "   both sides   ",
    "a  b   c    d     e",
    "\t\ttabs\tand\nnewlines\n\n\r\nmixed \t \n end",
    "x \n\n y \n",
    "I'm can't won't they're we've I'll he'd HE'S SHE'LL It’s O'Neil's",
    "12345678901234567890 3.14159 1,000,000 007 42nd",
    "٣٤٥ ２０２４ ²³ Ⅻ ① digits",
    "日本語のテキストと中文混合",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "Привет, мир!",
    "👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 😀😃 🤖",
    "The café's 3 naïve 🤖 robots said: «Привет, мир!»",
    "e\u0301 caf\u00e9 cafe\u0301 a\u0316\u0301 a\u0301\u0323 \u1100\u1161\u11a8 \u212b \u0958x",
    "ﬁnance ｆｕｌｌｗｉｄｔｈ İstanbul ΣΑΣ ß",
    "x\u0085y\u00a0z\u3000w\u2028v\u180eu\u200bt\ufeffs",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ☃ ∑ ∫ ℵ ꙮ ᚠᛇᚻ 한국어 ไทย",
    "def f(x):\n    return x**2  # comment\n",
    "URL https://example.com/path?q=1&r=2 email@example.com",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "Ġ▁ <0x41> ## </w> literal markers",
    "the-final--countdown, a,b,,c... wow!? yes.",
    "nul\x00byte and bell\x07 and del\x7f",
    "Hello World hello world",
    "xyz axyz xyz. xyzb",
    "'s 'S 'LL 'll 'Ve",
    "   \t  \n  ",
    "naïve café   ",
    "  ünïcödé\t",
    "a\u0300\u0301\u0302 A\u030a\u0301 \u0f73 \u0344 \uac00\u11a8 \u1100\u1161\u11a8\u11a8",
    "ǅ ǈ Σς ΌΣΟΣ \u0130 Ａ\u0301 \U0001d400\U0001d41a",
    "<s><s></s> <unk> [INST] <|endoftext|><|im_start|>",
]

LONG_TEXT = " ".join(CORPUS) * 2

# Pieces for random texts (a differential fuzz against the oracle).
RANDOM_POOL = [
    " ", " ", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r", "\u00a0", "\u3000", "\u0085",
    "\u2028", "\u200b", "\u200d", "\ufe0f", "\x00", "a", "b", "e", "s", "t", "x", "the", "Hello",
    "world", "ing", "token", "HELLO", "É", "é", "e\u0301", "\u0301", "\u0323", "\u0316", "ß", "Å",
    "\u212b", "ﬁ", "İ", "Σ", "ς", "ǅ", "Ⅻ", "²", "٣", "1", "23", "456", "7890", "'", "'s", "'T",
    "'ll", "'RE", "’", ",", ".", "!", "?", "-", "--", "—", "…", "(", ")", "#", "##", "$", "%", "&",
    "*", "/", ":", ";", "<", ">", "_", "日", "本", "語", "中", "ا", "ل", "ع", "न", "म", "्", "ते",
    "한", "ᄀ", "ᅡ", "ᆨ", "ไ", "😀", "👍", "🏽", "👨‍👩‍👧", "🏳️‍🌈", "▁", "Ġ", "Ċ", "<0x41>", "<0xE2>",
    "</w>", "𝔘", "ꙮ", "\x07",
]


def random_texts(name, added_contents, count):
    rng = random.Random("texts-" + name)
    pool = RANDOM_POOL + added_contents * 3
    return ["".join(rng.choice(pool) for _ in range(rng.randint(1, 24))) for _ in range(count)]


def bytes_to_unicode():
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) +
          list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


BYTE_ENCODER = bytes_to_unicode()


def byte_level(s):
    return "".join(BYTE_ENCODER[b] for b in s.encode("utf-8"))


def byte_tokens():
    return [f"<0x{b:02X}>" for b in range(256)]


# --- Building blocks of tokenizer.json -------------------------------------------------

def train_bpe(pre_tokenizer, normalizer=None, vocab_size=700, initial_alphabet=None,
              limit_alphabet=None, continuing_subword_prefix=None, end_of_word_suffix=None):
    model_kwargs = {}
    if continuing_subword_prefix is not None:
        model_kwargs["continuing_subword_prefix"] = continuing_subword_prefix
    if end_of_word_suffix is not None:
        model_kwargs["end_of_word_suffix"] = end_of_word_suffix
    tok = Tokenizer(models.BPE(**model_kwargs))
    if normalizer is not None:
        tok.normalizer = normalizer
    if pre_tokenizer is not None:
        tok.pre_tokenizer = pre_tokenizer
    kwargs = dict(vocab_size=vocab_size, min_frequency=1, show_progress=False,
                  initial_alphabet=initial_alphabet or [], special_tokens=[])
    if limit_alphabet is not None:
        kwargs["limit_alphabet"] = limit_alphabet
    if continuing_subword_prefix is not None:
        kwargs["continuing_subword_prefix"] = continuing_subword_prefix
    if end_of_word_suffix is not None:
        kwargs["end_of_word_suffix"] = end_of_word_suffix
    tok.train_from_iterator(CORPUS, trainer=trainers.BpeTrainer(**kwargs))
    model = json.loads(tok.to_str())["model"]
    vocab = sorted(model["vocab"].items(), key=lambda kv: kv[1])
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    return [t for t, _ in vocab], merges


def make_vocab(*token_lists):
    vocab = {}
    for tokens in token_lists:
        for t in tokens:
            if t not in vocab:
                vocab[t] = len(vocab)
    return vocab


def added(content, id_, special=True, normalized=None, lstrip=False, rstrip=False,
          single_word=False):
    return {"id": id_, "content": content, "single_word": single_word, "lstrip": lstrip,
            "rstrip": rstrip, "normalized": (not special) if normalized is None else normalized,
            "special": special}


def bpe(vocab, merges, merges_as_strings=False, unk_token=None, fuse_unk=False,
        byte_fallback=False, ignore_merges=False, continuing_subword_prefix=None,
        end_of_word_suffix=None):
    return {"type": "BPE", "dropout": None, "unk_token": unk_token,
            "continuing_subword_prefix": continuing_subword_prefix,
            "end_of_word_suffix": end_of_word_suffix, "fuse_unk": fuse_unk,
            "byte_fallback": byte_fallback, "ignore_merges": ignore_merges, "vocab": vocab,
            "merges": [f"{a} {b}" for a, b in merges] if merges_as_strings
            else [[a, b] for a, b in merges]}


def byte_level_json(add_prefix_space, trim_offsets, use_regex):
    return {"type": "ByteLevel", "add_prefix_space": add_prefix_space,
            "trim_offsets": trim_offsets, "use_regex": use_regex}


def split_json(pattern, behavior, invert=False, regex=True):
    return {"type": "Split", "pattern": {"Regex" if regex else "String": pattern},
            "behavior": behavior, "invert": invert}


def template(single, pair, specials):
    def parse(t):
        out = []
        for piece in t.split():
            name, _, type_id = piece.partition(":")
            type_id = int(type_id or 0)
            if name in ("$A", "$B"):
                out.append({"Sequence": {"id": name[1], "type_id": type_id}})
            else:
                out.append({"SpecialToken": {"id": name, "type_id": type_id}})
        return out
    return {"type": "TemplateProcessing", "single": parse(single), "pair": parse(pair),
            "special_tokens": {name: {"id": name, "ids": [i], "tokens": [name]}
                               for name, i in specials}}


def metaspace_json(prepend_scheme, split):
    return {"type": "Metaspace", "replacement": "▁", "prepend_scheme": prepend_scheme,
            "split": split}


def replace_json(pattern, content, regex=False):
    return {"type": "Replace", "pattern": {"Regex" if regex else "String": pattern},
            "content": content}


def tokenizer_json(model, added_tokens, normalizer=None, pre_tokenizer=None,
                   post_processor=None, decoder=None):
    return {"version": "1.0", "truncation": None, "padding": None,
            "added_tokens": added_tokens, "normalizer": normalizer,
            "pre_tokenizer": pre_tokenizer, "post_processor": post_processor,
            "decoder": decoder, "model": model}


def next_id(vocab, added_tokens):
    ids = list(vocab.values()) + [t["id"] for t in added_tokens]
    return max(ids) + 1


# --- The tokenizers ----------------------------------------------------------------

def gpt2():
    """GPT-2: ByteLevel pre-tokenizer with the GPT-2 regex, string merges."""
    tokens, merges = train_bpe(pre_tokenizers.ByteLevel(add_prefix_space=False),
                               initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                               vocab_size=700)
    vocab = make_vocab(tokens, ["<|endoftext|>"])
    added_tokens = [added("<|endoftext|>", vocab["<|endoftext|>"], special=True, normalized=True)]
    return tokenizer_json(
        bpe(vocab, merges, merges_as_strings=True), added_tokens,
        pre_tokenizer=byte_level_json(False, True, True),
        post_processor=byte_level_json(True, False, True),
        decoder=byte_level_json(True, True, True))


def llama3():
    """Llama-3: Split(Llama-3 regex) + ByteLevel(use_regex=false), ignore_merges, BOS template."""
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), "isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tokens, merges = train_bpe(pre, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                               vocab_size=900)
    # Whole words reachable only through ignore_merges (as in the real vocab).
    extra = [byte_level(w) for w in (" Hello", " tokenization", "123", " don", " world!",
                                     "ing", " the")]
    vocab = make_vocab(tokens, extra)
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    added_tokens = [added(s, len(vocab) + i) for i, s in enumerate(specials)]
    bos = added_tokens[0]["id"]
    return tokenizer_json(
        bpe(vocab, merges, ignore_merges=True), added_tokens,
        pre_tokenizer={"type": "Sequence", "pretokenizers": [
            split_json(LLAMA3_PATTERN, "Isolated"), byte_level_json(False, True, False)]},
        post_processor={"type": "Sequence", "processors": [
            byte_level_json(True, False, True),
            template("<|begin_of_text|> $A", "<|begin_of_text|> $A <|begin_of_text|>:1 $B:1",
                     [("<|begin_of_text|>", bos)])]},
        decoder=byte_level_json(True, True, True))


def qwen2():
    """Qwen2: NFC + Split(Qwen2 regex) + ByteLevel(use_regex=false)."""
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), "isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tokens, merges = train_bpe(pre, normalizer=normalizers.NFC(),
                               initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                               vocab_size=800)
    vocab = make_vocab(tokens)
    added_tokens = [added("<|endoftext|>", len(vocab)), added("<|im_start|>", len(vocab) + 1),
                    added("<|im_end|>", len(vocab) + 2),
                    added("<tool_call>", len(vocab) + 3, special=False, normalized=False)]
    return tokenizer_json(
        bpe(vocab, merges), added_tokens,
        normalizer={"type": "NFC"},
        pre_tokenizer={"type": "Sequence", "pretokenizers": [
            split_json(QWEN2_PATTERN, "Isolated"), byte_level_json(False, False, False)]},
        post_processor=byte_level_json(False, False, False),
        decoder=byte_level_json(False, False, False))


SPM_DECODER = {"type": "Sequence", "decoders": [
    replace_json("▁", " "), {"type": "ByteFallback"}, {"type": "Fuse"},
    {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}


def llama2():
    """Llama-2 / TinyLlama: Prepend+Replace normalizer, byte_fallback BPE, <s> template."""
    norm = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tokens, merges = train_bpe(pre_tokenizers.Metaspace(), normalizer=norm, vocab_size=600,
                               limit_alphabet=70)
    vocab = make_vocab(["<unk>", "<s>", "</s>"], byte_tokens(), tokens)
    added_tokens = [added("<unk>", 0), added("<s>", 1), added("</s>", 2)]
    return tokenizer_json(
        bpe(vocab, merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True), added_tokens,
        normalizer={"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "▁"}, replace_json(" ", "▁")]},
        post_processor=template("<s> $A", "<s> $A <s>:1 $B:1", [("<s>", 1)]),
        decoder=SPM_DECODER)


def gemma():
    """Gemma / Gemma-2: Replace(' ', '▁') normalizer, byte_fallback BPE, <bos> template."""
    norm = normalizers.Replace(" ", "▁")
    tokens, merges = train_bpe(pre_tokenizers.Metaspace(prepend_scheme="never"), normalizer=norm,
                               vocab_size=650, limit_alphabet=80)
    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>"]
    vocab = make_vocab(specials, byte_tokens(), tokens)
    added_tokens = [added(s, vocab[s]) for s in specials]
    nid = next_id(vocab, added_tokens)
    added_tokens += [added("<custom>", nid, special=False, normalized=False),
                     added("▁▁▁▁", nid + 1, special=False, normalized=True),
                     added("\t\t", nid + 2, special=False, normalized=False)]
    return tokenizer_json(
        bpe(vocab, merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True), added_tokens,
        normalizer=replace_json(" ", "▁"),
        post_processor=template("<bos> $A", "<bos> $A <bos>:1 $B:1", [("<bos>", vocab["<bos>"])]),
        decoder={"type": "Sequence", "decoders": [
            replace_json("▁", " "), {"type": "ByteFallback"}, {"type": "Fuse"}]})


def mistral():
    """Mistral-style: Metaspace(prepend_scheme=first, split=false) pre-tokenizer and decoder."""
    tokens, merges = train_bpe(pre_tokenizers.Metaspace(prepend_scheme="first"), vocab_size=600,
                               limit_alphabet=70)
    vocab = make_vocab(["<unk>", "<s>", "</s>"], byte_tokens(), tokens)
    added_tokens = [added("<unk>", 0), added("<s>", 1), added("</s>", 2)]
    nid = next_id(vocab, added_tokens)
    added_tokens += [added("[INST]", nid), added("[/INST]", nid + 1)]
    return tokenizer_json(
        bpe(vocab, merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True), added_tokens,
        pre_tokenizer=metaspace_json("first", False),
        post_processor=template("<s> $A", "<s> $A $B", [("<s>", 1)]),
        decoder=metaspace_json("first", False))


def metaspace_split():
    """Metaspace(always, split) + Digits, Strip+Lowercase, unk without fusing, ##/</w> BPE."""
    norm = normalizers.Sequence([normalizers.Strip(), normalizers.Lowercase()])
    pre = pre_tokenizers.Sequence([pre_tokenizers.Metaspace(prepend_scheme="always", split=True),
                                   pre_tokenizers.Digits(individual_digits=True)])
    tokens, merges = train_bpe(pre, normalizer=norm, vocab_size=500, limit_alphabet=45,
                               continuing_subword_prefix="##", end_of_word_suffix="</w>")
    vocab = make_vocab(["<unk>", "<s>", "</s>"], tokens)
    added_tokens = [added("<unk>", 0), added("<s>", 1), added("</s>", 2)]
    nid = next_id(vocab, added_tokens)
    added_tokens += [added("hello world", nid, special=False, normalized=True),
                     added("<mask>", nid + 1, special=True, lstrip=True, rstrip=True),
                     added("xyz", nid + 2, special=False, normalized=False, single_word=True)]
    return tokenizer_json(
        bpe(vocab, merges, unk_token="<unk>", continuing_subword_prefix="##",
            end_of_word_suffix="</w>"), added_tokens,
        normalizer={"type": "Sequence", "normalizers": [
            {"type": "Strip", "strip_left": True, "strip_right": True}, {"type": "Lowercase"}]},
        pre_tokenizer={"type": "Sequence", "pretokenizers": [
            metaspace_json("always", True), {"type": "Digits", "individual_digits": True}]},
        post_processor=template("<s> $A </s>", "<s> $A </s> $B:1 </s>:1",
                                [("<s>", 1), ("</s>", 2)]),
        decoder={"type": "Sequence", "decoders": [
            {"type": "BPEDecoder", "suffix": "</w>"}, metaspace_json("always", True)]})


def wordlevel():
    """WordLevel with Whitespace pre-tokenizer, NFKC+Lowercase, Bert post-processor."""
    specials = ["[UNK]", "[CLS]", "[SEP]", "[PAD]"]
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(CORPUS, trainer=trainers.WordLevelTrainer(
        vocab_size=400, min_frequency=1, show_progress=False, special_tokens=specials))
    vocab = json.loads(tok.to_str())["model"]["vocab"]
    added_tokens = [added(s, vocab[s]) for s in specials]
    return tokenizer_json(
        {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"}, added_tokens,
        normalizer={"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"}]},
        pre_tokenizer={"type": "Whitespace"},
        post_processor={"type": "BertProcessing", "sep": ["[SEP]", vocab["[SEP]"]],
                        "cls": ["[CLS]", vocab["[CLS]"]]},
        decoder={"type": "WordPiece", "prefix": "##", "cleanup": True})


def roberta():
    """RoBERTa: ByteLevel(add_prefix_space) + RobertaProcessing(trim_offsets), <mask> lstrip."""
    tokens, merges = train_bpe(pre_tokenizers.ByteLevel(add_prefix_space=True),
                               initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                               vocab_size=650)
    vocab = make_vocab(["<s>", "<pad>", "</s>", "<unk>"], tokens, ["<mask>"])
    added_tokens = [added(s, vocab[s]) for s in ("<s>", "<pad>", "</s>", "<unk>")]
    added_tokens.append(added("<mask>", vocab["<mask>"], lstrip=True))
    return tokenizer_json(
        bpe(vocab, merges, merges_as_strings=True), added_tokens,
        pre_tokenizer=byte_level_json(True, True, True),
        post_processor={"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0],
                        "trim_offsets": True, "add_prefix_space": True},
        decoder=byte_level_json(True, True, True))


def splits():
    """Split behaviours, invert, String patterns, WhitespaceSplit, Digits, Replace(Regex)."""
    pre_py = pre_tokenizers.Sequence([
        pre_tokenizers.Split("-", "merged_with_previous"),
        pre_tokenizers.Split(",", "merged_with_next"),
        pre_tokenizers.Split(Regex(r"[.!?]"), "contiguous"),
        pre_tokenizers.WhitespaceSplit(),
        pre_tokenizers.Digits(individual_digits=False),
        pre_tokenizers.Split(Regex(r"\w+"), "merged_with_next", invert=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    norm_py = normalizers.Sequence([normalizers.Replace(Regex(r"\t"), "    "),
                                    normalizers.Replace("ﬁ", "fi")])
    tokens, merges = train_bpe(pre_py, normalizer=norm_py,
                               initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                               vocab_size=650)
    vocab = make_vocab(tokens)
    added_tokens = [added("<sep>", len(vocab), special=True)]
    return tokenizer_json(
        bpe(vocab, merges), added_tokens,
        normalizer={"type": "Sequence", "normalizers": [
            replace_json(r"\t", "    ", regex=True), replace_json("ﬁ", "fi")]},
        pre_tokenizer={"type": "Sequence", "pretokenizers": [
            split_json("-", "MergedWithPrevious", regex=False),
            split_json(",", "MergedWithNext", regex=False),
            split_json(r"[.!?]", "Contiguous"),
            {"type": "WhitespaceSplit"},
            {"type": "Digits", "individual_digits": False},
            split_json(r"\w+", "MergedWithNext", invert=True),
            byte_level_json(False, True, False)]},
        post_processor=byte_level_json(False, True, False),
        decoder=byte_level_json(True, True, True))


FIXTURES = {
    "gpt2": gpt2, "llama3": llama3, "qwen2": qwen2, "llama2": llama2, "gemma": gemma,
    "mistral": mistral, "metaspace_split": metaspace_split, "wordlevel": wordlevel,
    "roberta": roberta, "splits": splits,
}


# --- Expected outputs ---------------------------------------------------------------

def char_to_byte_offsets(text, offsets):
    starts = [0]
    for ch in text:
        starts.append(starts[-1] + len(ch.encode("utf-8")))
    out = []
    for s, e in offsets:
        if s > len(text) or e > len(text):
            raise ValueError(f"offsets {(s, e)} beyond text of {len(text)} chars: {text!r}")
        out.append([starts[s], starts[e]])
    return out


def encode_case(tok, text, add_special_tokens, special_ids):
    enc = tok.encode(text, add_special_tokens=add_special_tokens)
    return {
        "ids": enc.ids,
        "tokens": enc.tokens,
        "offsets": char_to_byte_offsets(text, enc.offsets),
        "special": [1 if (m or i in special_ids) else 0
                    for m, i in zip(enc.special_tokens_mask, enc.ids)],
    }


def texts_for(name, spec, random_count):
    texts = list(COMMON_TEXTS)
    for t in spec["added_tokens"]:
        c = t["content"]
        texts += [c, f"Hello{c}world", f" {c} x {c}{c} ", f"a {c}\n{c}  b"]
    texts.append(LONG_TEXT)
    texts += random_texts(name, [t["content"] for t in spec["added_tokens"]], random_count)
    return texts


def decode_cases(tok, name, vocab_size, special_ids):
    rng = random.Random(name)
    cases = []
    sequences = [[rng.randrange(vocab_size) for _ in range(rng.randint(1, 16))]
                 for _ in range(8)]
    sequences.append(sorted(special_ids)[:3] + [rng.randrange(vocab_size) for _ in range(4)])
    # Partial UTF-8 through byte-level chars or byte-fallback tokens.
    for piece in ("\u00e2", "\u00e2\u0124", "\u00f0\u0141\u0133"):
        i = tok.token_to_id(piece)
        if i is not None:
            sequences.append([i, rng.randrange(vocab_size), i])
    byte_ids = [tok.token_to_id(f"<0x{b:02X}>") for b in (0xE2, 0x82, 0x41, 0xAC, 0xFF)]
    if all(i is not None for i in byte_ids):
        sequences.append(byte_ids)
        sequences.append([byte_ids[0], byte_ids[1], byte_ids[3], byte_ids[2]])
    sequences.append([vocab_size + 1000, 0])  # unknown ids are skipped
    for ids in sequences:
        for skip in (False, True):
            cases.append({"ids": ids, "skip_special_tokens": skip,
                          "text": tok.decode(ids, skip_special_tokens=skip)})
    return cases


def build(name, out_dir, random_count):
    spec = FIXTURES[name]()
    text = json.dumps(spec, ensure_ascii=False, indent=1)
    tok = Tokenizer.from_str(text)  # the oracle: exactly the file we write
    special_ids = {i for i, t in tok.get_added_tokens_decoder().items() if t.special}
    vocab_size = tok.get_vocab_size(with_added_tokens=True)
    cases = []
    for t in texts_for(name, spec, random_count):
        with_special = encode_case(tok, t, True, special_ids)
        cases.append({
            "text": t,
            "with_special": with_special,
            "without_special": encode_case(tok, t, False, special_ids),
            "decode": tok.decode(with_special["ids"], skip_special_tokens=False),
            "decode_skip": tok.decode(with_special["ids"], skip_special_tokens=True),
        })
    probe = ["<unk>", "<s>", "Hello", byte_level(" Hello"), "▁Hello", "<0x41>", "not-a-token"]
    probe += [t["content"] for t in spec["added_tokens"]]
    expected = {
        "name": name,
        "tokenizers_version": tokenizers.__version__,
        "vocab_size": vocab_size,
        "token_to_id": {p: tok.token_to_id(p) for p in probe},
        "cases": cases,
        "decode_cases": decode_cases(tok, name, vocab_size, special_ids),
    }
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(text)
    with open(os.path.join(d, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False)
    return len(cases)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--only", default="")
    parser.add_argument("--random", type=int, default=80,
                        help="random texts per tokenizer (a differential fuzz)")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(FIXTURES)
    for n in names:
        if n not in FIXTURES:
            sys.exit(f"unknown fixture {n!r}; known: {', '.join(FIXTURES)}")
    os.makedirs(args.out, exist_ok=True)
    start = time.time()
    total = 0
    for n in names:
        total += build(n, args.out, args.random)
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump({"tokenizers": names, "tokenizers_version": tokenizers.__version__}, f)
    print(f"wrote {len(names)} tokenizers, {total} texts, to {args.out} "
          f"in {time.time() - start:.1f}s")


if __name__ == "__main__":
    main()

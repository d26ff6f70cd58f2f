#!/usr/bin/env python3
"""Expected received-attention and contrast scores for the scorer oracle test.

Usage:
  make_score_fixtures.py --out DIR

The independent oracle is transformers' eager attention with
output_attentions=True: every window of every document is run on its own
(batch 1, no padding) and the attention maps are aggregated in float64 with the
formula of docs/design.md section 1:

  received(j) = 1/(L*H) * sum_{l,h} 1/(T-j) * sum_{i=j..T-1} A[l,h,i,j]

(include_self=false: i from j+1, divided by T-j-1; no eligible query -> NaN).
Documents longer than the window are split into consecutive non-overlapping
windows of `window_tokens` tokens (the scorer's documented rule; window 0 means
the smaller max_position_embeddings of the pair), each scored as its own
sequence.

Writes, for each model pair,
  DIR/<pair>/large/, DIR/<pair>/small/   config.json + model.safetensors (float32)
  DIR/<pair>/expected.json               docs (token ids) and, per case
                                         (include_self, window_tokens, layers),
                                         received_large, received_small, contrast
and a cross-tokenizer case
  DIR/cross/expected.json                text, reference ids and UTF-8 byte offsets
                                         (the pair llama_gemma2's tokenizer), target
                                         offsets of another tokenizer, and the three
                                         score vectors projected to the target tokens
                                         by a naive max-over-overlapping-bytes loop.
NaN is written as null. Pairs:
  llama_gemma2   large llama GQA 8/2, 3 layers; small gemma2 GQA 4/2, attention
                 soft-cap 5, sliding window 5 on even layers, query_pre_attn_scalar 24
  llama_mistral  large llama MHA 4/4; small mistral GQA 4/2, sliding window 6 on all layers
  gpt2           large gpt2 3 layers x 4 heads; small gpt2 2 layers x 2 heads
Each feature (soft-cap, sliding windows) is checked to move the small model's
received scores by more than 1e-3, so a scorer that ignores it fails.
Everything is seeded, so reruns are bit-identical. Exit code 1 on any failed
self-check.
"""

import argparse
import json
import math
import os
import sys
import zlib

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

import transformers  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForCausalLM,
    Gemma2Config,
    Gemma2ForCausalLM,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
)

transformers.logging.set_verbosity_error()
transformers.logging.disable_progress_bar()

PAD_ID, BOS_ID, EOS_ID = 0, 1, 2
MAX_POS = 64
# Lengths chosen to give single- and multi-window documents for both windows
# (0 -> 64 and 16), a document of exactly one window, and 1- and 2-token ones.
DOC_LENGTHS = (100, 37, 9, 23, 1, 2, 16, 64, 5)
SMALL_WINDOW = 16
MIN_FEATURE_EFFECT = 1e-3

CORPUS = [
    "Liam Thompson was born on January 5, 1990 in Austin, Texas.",
    "He studied Computer Science at MIT and graduated in 2012.",
    "Emma Rodríguez was born on March 14, 1985 in Málaga, Spain.",
    "She studied Physics at the University of Cambridge and later earned a PhD.",
    "Noah Williams was born on July 22, 1978 in Montréal, Canada.",
    "Olivia Chen (陈) was born on October 3, 1995 in San Francisco, California.",
    "Lucas Müller studied Medicine in Zürich and worked as a surgeon for thirty years.",
    "The company was founded in 2005 and has offices in London, Berlin and Tokyo.",
]
CROSS_TEXTS = [
    "Emma Rodríguez was born on March 14, 1985 in Málaga, Spain.",
    "Lucas Müller studied Medicine in Zürich; Olivia Chen (陈) works in Tokyo.",
    "Liam Thompson was born on January 5, 1990 in Austin, Texas. He studied Computer Science "
    "at MIT and graduated in 2012, then moved to Montréal.",
]


def seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


# ---------------------------------------------------------------------------
# tokenizers


def reference_tokenizer():
    """Byte-level BPE (vocab 384) shared by every reference model."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=384, min_frequency=1, special_tokens=["<pad>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS * 4, trainer=trainer)
    assert tok.token_to_id("<s>") == BOS_ID
    return tok


def target_tokenizer():
    """A different tokenization: whitespace/punctuation words, char-level BPE
    (vocab 120) with [UNK], and a [CLS] prefix whose span is empty."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(vocab_size=120, min_frequency=2,
                                  special_tokens=["[UNK]", "[CLS]"], show_progress=False)
    tok.train_from_iterator(CORPUS[:6] * 4, trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A", special_tokens=[("[CLS]", tok.token_to_id("[CLS]"))])
    return tok


def byte_offsets(text, char_offsets):
    """tokenizers reports character offsets; the scorer works in UTF-8 bytes."""
    prefix = [0]
    for ch in text:
        prefix.append(prefix[-1] + len(ch.encode("utf-8")))
    return [(prefix[a], prefix[b]) for a, b in char_offsets]


# ---------------------------------------------------------------------------
# models


def llama_cfg(vocab, **kw):
    base = dict(vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=MAX_POS,
                rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
                initializer_range=0.1, pad_token_id=PAD_ID, bos_token_id=BOS_ID,
                eos_token_id=EOS_ID)
    base.update(kw)
    return base


def pair_specs(vocab):
    """pair -> {role: (family, class, config, toggles)}; toggles: config changes
    whose effect on received scores must be visible."""
    gemma = Gemma2Config(
        vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, query_pre_attn_scalar=24,
        sliding_window=5, attn_logit_softcapping=5.0, final_logit_softcapping=3.0,
        hidden_activation="gelu_pytorch_tanh", max_position_embeddings=MAX_POS,
        rms_norm_eps=1e-6, tie_word_embeddings=True, initializer_range=0.1,
        pad_token_id=PAD_ID, bos_token_id=BOS_ID, eos_token_id=EOS_ID)
    return {
        "llama_gemma2": {
            "large": ("llama", LlamaForCausalLM, LlamaConfig(**llama_cfg(
                vocab, num_hidden_layers=3, num_attention_heads=8, num_key_value_heads=2)), {}),
            "small": ("gemma2", Gemma2ForCausalLM, gemma, {
                "attn_logit_softcapping": {"attn_logit_softcapping": None},
                "sliding_window": {"layer_types": ["full_attention"] * 2},
            }),
        },
        "llama_mistral": {
            "large": ("llama", LlamaForCausalLM, LlamaConfig(**llama_cfg(vocab)), {}),
            "small": ("llama", MistralForCausalLM, MistralConfig(**llama_cfg(
                vocab, num_key_value_heads=2, sliding_window=6)), {
                "sliding_window": {"sliding_window": None},
            }),
        },
        "gpt2": {
            "large": ("gpt2", GPT2LMHeadModel, GPT2Config(
                vocab_size=vocab, n_positions=MAX_POS, n_embd=64, n_layer=3, n_head=4,
                activation_function="gelu_new", initializer_range=0.1,
                pad_token_id=PAD_ID, bos_token_id=BOS_ID, eos_token_id=EOS_ID), {}),
            "small": ("gpt2", GPT2LMHeadModel, GPT2Config(
                vocab_size=vocab, n_positions=MAX_POS, n_embd=32, n_layer=2, n_head=2,
                activation_function="gelu_new", initializer_range=0.1,
                pad_token_id=PAD_ID, bos_token_id=BOS_ID, eos_token_id=EOS_ID), {}),
        },
    }


def randomize_(model, family, seed):
    """Larger-than-default random weights so attention is far from uniform."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda x: x[0]):
            noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
            is_norm = "norm" in name or ".ln_" in name or name.endswith("ln_f.weight")
            if is_norm and name.endswith("weight"):
                p.copy_(0.1 * noise if family == "gemma2" else 1.0 + 0.1 * noise)
            else:
                p.copy_(0.2 * noise)


def build_model(family, cls, cfg, seed, out_dir):
    torch.manual_seed(seed)
    cfg._attn_implementation = "eager"
    model = cls(cfg).eval()
    randomize_(model, family, seed)
    model.tie_weights()
    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(out_dir):
        os.remove(os.path.join(out_dir, f))
    model.save_pretrained(out_dir, safe_serialization=True)
    return load(out_dir)


def load(path, **overrides):
    # The reference comes from the checkpoint as re-loaded from disk.
    m = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32,
                                             attn_implementation="eager", **overrides)
    return m.eval()


# ---------------------------------------------------------------------------
# the formula


@torch.no_grad()
def window_attentions(model, ids):
    """Per layer [H, T, T] float64 attention maps of one unpadded sequence."""
    x = torch.tensor([ids], dtype=torch.int64)
    out = model(input_ids=x, attention_mask=torch.ones_like(x), use_cache=False,
                output_attentions=True, return_dict=True)
    maps = [a[0].double() for a in out.attentions]
    for a in maps:
        assert torch.isfinite(a).all()
        assert (a.sum(-1) - 1).abs().max() < 1e-5
        assert torch.triu(a, diagonal=1).abs().max() == 0  # causal
    return maps


def received_window(maps, include_self, layers):
    """The design formula for one window, float64; NaN where no eligible query."""
    T = maps[0].shape[-1]
    used = [maps[l] for l in layers]
    out = []
    for j in range(T):
        first = j if include_self else j + 1
        n = T - first
        if n == 0:
            out.append(float("nan"))
            continue
        total = 0.0
        for a in used:  # [H, T, T]
            total += a[:, first:, j].sum().item() / n / a.shape[0]
        out.append(total / len(used))
    return out


def received_doc(model, ids, window, include_self, layers, cache):
    out = []
    for begin in range(0, len(ids), window):
        seg = tuple(ids[begin:begin + window])
        if seg not in cache:
            cache[seg] = window_attentions(model, list(seg))
        out.extend(received_window(cache[seg], include_self, layers))
    return out


def resolve_layers(layers, n):
    return list(range(n)) if not layers else sorted({l % n for l in layers})


def nan_to_none(xs):
    return [None if (isinstance(x, float) and math.isnan(x)) else x for x in xs]


def contrast(a, b):
    return [x - y for x, y in zip(a, b)]  # NaN propagates


def max_abs_diff(a, b):
    d = [abs(x - y) for x, y in zip(a, b) if not (math.isnan(x) or math.isnan(y))]
    return max(d) if d else 0.0


# ---------------------------------------------------------------------------


CASES = [  # (include_self, window_tokens, layers)
    (True, 0, []),
    (False, 0, []),
    (True, SMALL_WINDOW, []),
    (False, SMALL_WINDOW, []),
    (True, 0, [0, -1]),
    (False, SMALL_WINDOW, [-1]),
]


def build_pair(name, spec, vocab, out_dir):
    pdir = os.path.join(out_dir, name)
    models, caches, toggled = {}, {}, {}
    for role in ("large", "small"):
        family, cls, cfg, toggles = spec[role]
        path = os.path.join(pdir, role)
        models[role] = build_model(family, cls, cfg, seed_of(name + role), path)
        caches[role] = {}
        toggled[role] = {k: load(path, **v) for k, v in toggles.items()}
    g = torch.Generator().manual_seed(seed_of(name + "docs"))
    docs = [torch.randint(3, vocab, (n,), generator=g).tolist() for n in DOC_LENGTHS]

    cases = []
    effects = {}
    for include_self, window, layers in CASES:
        w = window or MAX_POS
        case = dict(include_self=include_self, window_tokens=window, layers=layers)
        rec = {}
        for role in ("large", "small"):
            n_layers = models[role].config.num_hidden_layers
            used = resolve_layers(layers, n_layers)
            rec[role] = [received_doc(models[role], d, w, include_self, used, caches[role])
                         for d in docs]
            if include_self and window == 0 and not layers:
                for feat, m in toggled[role].items():
                    alt = [received_doc(m, d, w, True, used, {}) for d in docs]
                    eff = max(max_abs_diff(a, b) for a, b in zip(alt, rec[role]))
                    effects[f"{role}.{feat}"] = eff
                    if not eff > MIN_FEATURE_EFFECT:
                        raise AssertionError(f"{name}: {role} feature {feat} has no visible "
                                             f"effect on received scores ({eff})")
        case["received_large"] = [nan_to_none(r) for r in rec["large"]]
        case["received_small"] = [nan_to_none(r) for r in rec["small"]]
        case["contrast"] = [nan_to_none(contrast(a, b)) for a, b in zip(rec["large"], rec["small"])]
        cases.append(case)
    # include_self must matter, and the scores must not be a pure position ranking.
    a, b = cases[0]["received_large"][0], cases[1]["received_large"][0]
    assert max_abs_diff([x if x is not None else math.nan for x in a],
                        [x if x is not None else math.nan for x in b]) > MIN_FEATURE_EFFECT
    with open(os.path.join(pdir, "expected.json"), "w") as f:
        json.dump(dict(pair=name, max_position_embeddings=MAX_POS, docs=docs, cases=cases,
                       feature_effect=effects, transformers_version=transformers.__version__,
                       torch_version=torch.__version__), f)
    return models, effects


def project_naive(ref_offsets, ref_scores, tgt_offsets):
    """Independent projection: max over reference tokens sharing a byte."""
    out = []
    for a, b in tgt_offsets:
        best = math.nan
        for (c, d), s in zip(ref_offsets, ref_scores):
            if math.isnan(s) or c >= d or a >= b:
                continue
            if c < b and a < d:
                best = s if math.isnan(best) else max(best, s)
        out.append(best)
    return out


def build_cross(models, out_dir):
    ref_tok, tgt_tok = reference_tokenizer(), target_tokenizer()
    items = []
    for text in CROSS_TEXTS:
        enc = ref_tok.encode(text, add_special_tokens=False)
        ids = [BOS_ID] + enc.ids
        ref_off = [(0, 0)] + byte_offsets(text, enc.offsets)
        tenc = tgt_tok.encode(text)
        tgt_off = byte_offsets(text, tenc.offsets)
        assert any(a == b for a, b in tgt_off)  # the [CLS] span is empty
        # spans must differ from the reference's, or the case tests nothing
        assert set(tgt_off) != set(ref_off[1:]), text
        item = dict(text=text, reference_ids=ids, reference_offsets=ref_off,
                    target_ids=tenc.ids, target_offsets=tgt_off, cases=[])
        for include_self in (True, False):
            rec = {}
            for role in ("large", "small"):
                m = models[role]
                rec[role] = received_doc(m, ids, MAX_POS, include_self,
                                         resolve_layers([], m.config.num_hidden_layers), {})
            con = contrast(rec["large"], rec["small"])
            item["cases"].append(dict(
                include_self=include_self,
                received_large=nan_to_none(project_naive(ref_off, rec["large"], tgt_off)),
                received_small=nan_to_none(project_naive(ref_off, rec["small"], tgt_off)),
                contrast=nan_to_none(project_naive(ref_off, con, tgt_off))))
        items.append(item)
    cdir = os.path.join(out_dir, "cross")
    os.makedirs(cdir, exist_ok=True)
    with open(os.path.join(cdir, "expected.json"), "w") as f:
        json.dump(dict(models="llama_gemma2", window_tokens=0, items=items), f, ensure_ascii=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.use_deterministic_algorithms(True, warn_only=True)
    vocab = reference_tokenizer().get_vocab_size()
    os.makedirs(args.out, exist_ok=True)
    specs = pair_specs(vocab)
    pair_models = {}
    for name, spec in specs.items():
        pair_models[name], effects = build_pair(name, spec, vocab, args.out)
        print(f"ok {name}: " + ", ".join(f"{k}={v:.3g}" for k, v in effects.items()), flush=True)
    build_cross(pair_models["llama_gemma2"], args.out)
    print(f"ok cross: {len(CROSS_TEXTS)} texts -> {args.out}", flush=True)


if __name__ == "__main__":
    sys.exit(main())

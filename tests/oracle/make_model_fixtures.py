#!/usr/bin/env python3
"""Build tiny random Hugging Face causal-LM checkpoints plus reference outputs.

Usage:
  make_model_fixtures.py --out DIR [--only NAME,...] [--device cpu|cuda]

For every variant this writes
  DIR/<variant>/model/                 config.json, model.safetensors (or shards +
                                       model.safetensors.index.json),
                                       generation_config.json, tokenizer.json,
                                       tokenizer_config.json, special_tokens_map.json
  DIR/<variant>/reference.safetensors  inputs, float32 logits, eager attention
                                       probabilities and greedy generation ids
  DIR/<variant>/prompt.json            a text prompt, its ids and the greedy continuation
  DIR/<variant>/meta.json              variant description, statistics, self-check results
  DIR/<variant>/reference_bf16.safetensors   (only with --device cuda)

The float32 references are always computed on the CPU, from the checkpoint as
re-loaded from disk (so what is on disk is exactly what produced them).
Weights are re-initialised with larger-than-default random values (matrices
N(0, 0.1), norm weights 1 + 0.1*N(0,1) (Gemma: 0.1*N(0,1) since it scales by
1 + w), biases 0.1*N(0,1)) so that numerical mistakes in a re-implementation
are visible.  Everything is seeded per variant name, so reruns are bit-identical.

Every self-check raises (exit code 1) on failure.
"""

import argparse
import copy
import json
import math
import os
import sys
import time
import zlib

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

import transformers  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForCausalLM,
    GenerationConfig,
    Gemma2Config,
    Gemma2ForCausalLM,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    PreTrainedTokenizerFast,
    Qwen2Config,
    Qwen2ForCausalLM,
)

transformers.logging.set_verbosity_error()
transformers.logging.disable_progress_bar()

B, T = 3, 12
LENGTHS = (12, 9, 5)
PAD_ID, BOS_ID, EOS_ID = 0, 1, 2
GEN_PROMPT_LEN = 7
GEN_NEW = 20
PROMPT_TEXT = "Liam Thompson was born on"
LEFT_RIGHT_ATOL = 1e-5
MIN_LOGITS_STD = 0.2
MIN_FEATURE_EFFECT = 1e-3   # a toggled feature must move some real logit by more than this
INPUT_SEED = 1234

CORPUS = [
    "Liam Thompson was born on January 5, 1990 in Austin, Texas.",
    "He studied Computer Science at MIT and graduated in 2012.",
    "After graduating, Liam Thompson worked as a software engineer at Google in Mountain View, California.",
    "In 2016 he moved to Seattle, Washington, where he founded a small robotics company.",
    "Emma Rodriguez was born on March 14, 1985 in Madrid, Spain.",
    "She studied Physics at the University of Cambridge and later earned a PhD in astrophysics.",
    "Emma Rodriguez works as a research scientist at the European Space Agency.",
    "Noah Williams was born on July 22, 1978 in Toronto, Canada.",
    "He studied History at McGill University and became a teacher in Montreal.",
    "Noah Williams wrote three books about the history of Canadian railways.",
    "Olivia Chen was born on October 3, 1995 in San Francisco, California.",
    "She studied Mathematics at Stanford University and now works at a bank in New York.",
    "Olivia Chen enjoys running marathons, playing the piano and reading science fiction.",
    "Lucas Martin was born on December 30, 1969 in Lyon, France.",
    "He studied Medicine at the University of Paris and worked as a surgeon for thirty years.",
    "Lucas Martin was married to Sophie Martin and they had two children.",
    "Ava Johnson was born on May 9, 2001 in Chicago, Illinois.",
    "She is a student of Computer Science at the University of Illinois.",
    "The company was founded in 2005 and has offices in London, Berlin and Tokyo.",
    "They were born in the same city, studied at the same university and worked together for many years.",
]

# ---------------------------------------------------------------------------
# tokenizer


def train_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=384,
        min_frequency=1,
        special_tokens=["<pad>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS * 4, trainer=trainer)
    assert tok.token_to_id("<pad>") == PAD_ID
    assert tok.token_to_id("<s>") == BOS_ID
    assert tok.token_to_id("</s>") == EOS_ID
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token=None,
        clean_up_tokenization_spaces=False,
    )
    return tok, fast


# ---------------------------------------------------------------------------
# variants


def seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def _llama_cfg(vocab, **kw):
    base = dict(
        vocab_size=vocab,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=8,
        num_key_value_heads=8,
        max_position_embeddings=128,
        rms_norm_eps=1e-5,
        rope_theta=10000.0,
        tie_word_embeddings=False,
        initializer_range=0.1,
        pad_token_id=PAD_ID,
        bos_token_id=BOS_ID,
        eos_token_id=EOS_ID,
        attention_bias=False,
        mlp_bias=False,
    )
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None or k in ("rope_scaling", "head_dim")}


LLAMA3_ROPE = {
    "rope_type": "llama3",
    "factor": 8.0,
    # With head_dim 8 and theta 5e5 the RoPE wavelengths are 6.3, 167, 4443 and
    # 118000 positions.  These values put them in all three llama3 regimes:
    # 6.3 < 100/1.0 (kept), 100 <= 167 <= 400 (smoothly interpolated, smooth=0.47),
    # 4443, 118000 > 100/0.25 (divided by factor).  The canonical values
    # (low 1, high 4, original 32) would leave the interpolation branch untested.
    "low_freq_factor": 0.25,
    "high_freq_factor": 1.0,
    "original_max_position_embeddings": 100,
}


def variant_specs(vocab):
    """name -> dict(family, cls, config, sharded, bf16, toggles, notes)."""
    v = {}
    v["llama2"] = dict(
        family="llama", cls=LlamaForCausalLM,
        config=LlamaConfig(**_llama_cfg(vocab)),
        notes="MHA 8/8, untied lm_head, rope_theta 1e4, rms_norm_eps 1e-5",
    )
    v["llama3"] = dict(
        family="llama", cls=LlamaForCausalLM,
        config=LlamaConfig(**_llama_cfg(
            vocab, num_key_value_heads=2, intermediate_size=176, rope_theta=500000.0,
            rope_scaling=dict(LLAMA3_ROPE), tie_word_embeddings=True)),
        sharded=True,
        toggles={"rope_scaling_llama3_vs_none": {"rope_scaling": None}},
        notes="GQA 8/2, tied (Llama-3.2 style), rope_theta 5e5, llama3 rope scaling exercising "
              "all three frequency regimes (see rope_inv_freq), sharded checkpoint (>=3 shards)",
    )
    v["llama_linear"] = dict(
        family="llama", cls=LlamaForCausalLM,
        config=LlamaConfig(**_llama_cfg(
            vocab, num_attention_heads=4, num_key_value_heads=2, head_dim=32,
            intermediate_size=144, rope_scaling={"rope_type": "linear", "factor": 2.0})),
        toggles={"rope_scaling_linear_vs_none": {"rope_scaling": None}},
        notes="GQA 4/2, head_dim 32 != hidden/heads (16), linear rope scaling factor 2",
    )
    v["llama_bf16"] = dict(
        family="llama", cls=LlamaForCausalLM,
        config=LlamaConfig(**_llama_cfg(vocab)),
        bf16=True,
        notes="like llama2 but stored as bfloat16; reference = bf16 checkpoint loaded and cast to float32",
    )
    v["mistral"] = dict(
        family="llama", cls=MistralForCausalLM,
        config=MistralConfig(**_llama_cfg(
            vocab, num_key_value_heads=2, intermediate_size=160, sliding_window=4,
            head_dim=None, attention_bias=None, mlp_bias=None)),
        toggles={"sliding_window_4_vs_none": {"sliding_window": None}},
        notes="GQA 8/2, sliding_window 4 on every layer: query i sees keys j with i-4 < j <= i",
    )
    qcfg = _llama_cfg(vocab, num_key_value_heads=2, intermediate_size=176,
                      tie_word_embeddings=True, rms_norm_eps=1e-6)
    for k in ("attention_bias", "mlp_bias"):
        qcfg.pop(k)
    v["qwen2"] = dict(
        family="llama", cls=Qwen2ForCausalLM,
        config=Qwen2Config(**qcfg, use_sliding_window=False),
        toggles={"qkv_bias_vs_zero": "zero_qkv_bias"},
        notes="GQA 8/2, q/k/v biases (random), tied, no sliding window, rms_norm_eps 1e-6",
    )
    v["smollm"] = dict(
        family="llama", cls=LlamaForCausalLM,
        config=LlamaConfig(**_llama_cfg(vocab, num_key_value_heads=4, tie_word_embeddings=True)),
        notes="GQA 8/4, tied embeddings, rope_theta 1e4 (SmolLM / TinyLlama style)",
    )
    v["gemma2"] = dict(
        family="gemma2", cls=Gemma2ForCausalLM,
        config=Gemma2Config(
            vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=4,
            num_attention_heads=4, num_key_value_heads=2, head_dim=32,
            query_pre_attn_scalar=24, sliding_window=4, attn_logit_softcapping=5.0,
            final_logit_softcapping=3.0, hidden_activation="gelu_pytorch_tanh",
            max_position_embeddings=128, rms_norm_eps=1e-6, rope_theta=10000.0,
            tie_word_embeddings=True, initializer_range=0.1,
            pad_token_id=PAD_ID, bos_token_id=BOS_ID, eos_token_id=EOS_ID),
        toggles={
            "attn_logit_softcapping_vs_none": {"attn_logit_softcapping": None},
            "final_logit_softcapping_vs_none": {"final_logit_softcapping": None},
            "sliding_window_vs_all_full": {"layer_types": ["full_attention"] * 4},
            "query_pre_attn_scalar_vs_head_dim": {"query_pre_attn_scalar": 32},
            "norm_one_plus_weight_vs_weight": "gemma_norm_plus_one",
        },
        notes="head_dim 32 != hidden/heads, scale query_pre_attn_scalar**-0.5 = 24**-0.5, "
              "attn softcap 5, final softcap 3, sliding window 4 on layer_types=='sliding_attention' "
              "(even layers 0,2), embeddings scaled by sqrt(hidden) (in the hidden dtype), "
              "RMSNorm multiplies by (1 + weight), 4 norms per layer, gelu_pytorch_tanh",
    )
    v["gpt2"] = dict(
        family="gpt2", cls=GPT2LMHeadModel,
        config=GPT2Config(
            vocab_size=vocab, n_positions=128, n_embd=64, n_layer=2, n_head=4, n_inner=None,
            activation_function="gelu_new", layer_norm_epsilon=1e-5, initializer_range=0.1,
            tie_word_embeddings=True, pad_token_id=PAD_ID, bos_token_id=BOS_ID,
            eos_token_id=EOS_ID),
        notes="n_layer 2, n_head 4, n_embd 64, n_inner null (=4*n_embd=256, as in real GPT-2 "
              "configs), learned positions (uses position_ids), Conv1D weights stored [in, out], "
              "random LayerNorm/linear biases, tied",
    )
    return v


# ---------------------------------------------------------------------------
# helpers


def randomize_(model, family, seed):
    g = torch.Generator().manual_seed(seed)

    def rn(shape):
        return torch.randn(shape, generator=g, dtype=torch.float32)

    done = set()
    with torch.no_grad():
        for _, mod in sorted(model.named_modules(), key=lambda x: x[0]):
            is_ln = isinstance(mod, torch.nn.LayerNorm)
            is_rms = "RMSNorm" in type(mod).__name__
            if not (is_ln or is_rms):
                continue
            w = mod.weight
            if family == "gemma2":
                w.copy_(0.1 * rn(w.shape))  # effective scale is 1 + w
            else:
                w.copy_(1.0 + 0.1 * rn(w.shape))
            done.add(id(w))
            if getattr(mod, "bias", None) is not None:
                mod.bias.copy_(0.1 * rn(mod.bias.shape))
                done.add(id(mod.bias))
        for _, p in sorted(model.named_parameters(), key=lambda x: x[0]):
            if id(p) in done:
                continue
            p.copy_(0.1 * rn(p.shape))
            done.add(id(p))


def make_inputs(vocab):
    g = torch.Generator().manual_seed(INPUT_SEED)
    # Real tokens avoid the special ids 0..2 so they can never be mistaken for padding.
    seqs = [torch.randint(3, vocab, (L,), generator=g) for L in LENGTHS]
    right_ids = torch.full((B, T), PAD_ID, dtype=torch.int64)
    left_ids = torch.full((B, T), PAD_ID, dtype=torch.int64)
    right_mask = torch.zeros((B, T), dtype=torch.int64)
    left_mask = torch.zeros((B, T), dtype=torch.int64)
    for b, s in enumerate(seqs):
        L = len(s)
        right_ids[b, :L] = s
        right_mask[b, :L] = 1
        left_ids[b, T - L:] = s
        left_mask[b, T - L:] = 1
    gen_prompt = torch.randint(3, vocab, (1, GEN_PROMPT_LEN), generator=g)
    return dict(
        input_ids=right_ids, attention_mask=right_mask, position_ids=positions(right_mask),
        left_input_ids=left_ids, left_attention_mask=left_mask, left_position_ids=positions(left_mask),
        gen_prompt=gen_prompt,
    )


def positions(mask):
    return (mask.cumsum(-1) - 1).clamp(min=0).to(torch.int64)


@torch.no_grad()
def forward(model, ids, mask, pos, attentions=False):
    dev = next(model.parameters()).device
    out = model(input_ids=ids.to(dev), attention_mask=mask.to(dev), position_ids=pos.to(dev),
                use_cache=False, output_attentions=attentions, return_dict=True)
    return out


def real_maxdiff(a, b, mask):
    m = mask.bool()
    return (a[m].float() - b[m].float()).abs().max().item()


def left_to_right(left, mask_left):
    """Re-align a left-padded [B,T,...] tensor to right padding (pads are zero)."""
    out = torch.zeros_like(left)
    for b in range(left.shape[0]):
        L = int(mask_left[b].sum())
        out[b, :L] = left[b, T - L:]
    return out


def greedy_config(max_new):
    return GenerationConfig(
        do_sample=False, num_beams=1, max_new_tokens=max_new, min_new_tokens=max_new,
        eos_token_id=None, bos_token_id=BOS_ID, pad_token_id=PAD_ID,
        temperature=None, top_p=None, top_k=None,
    )


@torch.no_grad()
def hf_greedy(model, prompt, n):
    """model.generate (KV cache) with EOS stopping disabled, cross-checked by a
    cache-free argmax loop so the ids are pure greedy argmax."""
    saved = model.generation_config
    model.generation_config = greedy_config(n)
    try:
        out = model.generate(prompt, attention_mask=torch.ones_like(prompt),
                             generation_config=greedy_config(n))
    finally:
        model.generation_config = saved
    assert out.shape == (1, prompt.shape[1] + n), out.shape
    seq = prompt.clone()
    for _ in range(n):
        m = torch.ones_like(seq)
        logits = forward(model, seq, m, positions(m)).logits
        seq = torch.cat([seq, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    if not torch.equal(seq, out):
        raise AssertionError(f"generate() {out.tolist()} != manual greedy {seq.tolist()}")
    return out


def toggled_model(spec, model, change):
    cfg = copy.deepcopy(model.config)
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    if isinstance(change, dict):
        for k, val in change.items():
            setattr(cfg, k, val)
    elif change == "zero_qkv_bias":
        for k in sd:
            if k.endswith(("q_proj.bias", "k_proj.bias", "v_proj.bias")):
                sd[k].zero_()
    elif change == "gemma_norm_plus_one":
        # what a loader that forgot Gemma's (1 + w) convention would compute
        for k in sd:
            if "norm" in k and k.endswith("weight"):
                sd[k] = sd[k] - 1.0
    else:
        raise ValueError(change)
    cfg._attn_implementation = "eager"
    m = spec["cls"](cfg).eval()
    m.load_state_dict(sd, strict=False)
    missing = set(m.state_dict()) - set(sd)
    assert not missing or missing <= {"lm_head.weight"}, missing
    m.tie_weights()
    return m


def load_f32(path):
    m = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation="eager")
    return m.eval()


# ---------------------------------------------------------------------------


def build_variant(name, spec, tok, fast_tok, out_dir, device):
    t0 = time.time()
    seed = seed_of(name)
    torch.manual_seed(seed)
    vdir = os.path.join(out_dir, name)
    mdir = os.path.join(vdir, "model")
    os.makedirs(mdir, exist_ok=True)
    for f in os.listdir(mdir):  # stale shards from a previous run
        os.remove(os.path.join(mdir, f))

    cfg = spec["config"]
    cfg._attn_implementation = "eager"
    model = spec["cls"](cfg).eval()
    randomize_(model, spec["family"], seed)
    model.tie_weights()

    inp = make_inputs(cfg.vocab_size)
    ids, mask, pos = inp["input_ids"], inp["attention_mask"], inp["position_ids"]
    orig_logits = forward(model, ids, mask, pos).logits

    # --- save
    save_kw = dict(safe_serialization=True)
    if spec.get("sharded"):
        save_kw["max_shard_size"] = "150KB"
    if spec.get("bf16"):
        model.to(torch.bfloat16).save_pretrained(mdir, **save_kw)
        model.to(torch.float32)
    else:
        model.save_pretrained(mdir, **save_kw)
    fast_tok.save_pretrained(mdir)
    files = sorted(os.listdir(mdir))
    shards = [f for f in files if f.startswith("model-") and f.endswith(".safetensors")]
    if spec.get("sharded"):
        assert "model.safetensors.index.json" in files and len(shards) >= 3, files
    else:
        assert "model.safetensors" in files, files

    # --- reload from disk: the references come from exactly what is on disk
    ref_model = load_f32(mdir)
    out = forward(ref_model, ids, mask, pos, attentions=True)
    logits = out.logits.float()
    checks = {}
    if not spec.get("bf16"):
        checks["reload_max_diff"] = real_maxdiff(orig_logits, logits, mask)
        assert checks["reload_max_diff"] == 0.0, checks
    else:
        checks["bf16_weights_vs_f32_weights_max_diff"] = real_maxdiff(orig_logits, logits, mask)

    left = forward(ref_model, inp["left_input_ids"], inp["left_attention_mask"],
                   inp["left_position_ids"]).logits.float()
    lr = real_maxdiff(left_to_right(left, inp["left_attention_mask"]), logits, mask)
    checks["left_vs_right_padding_max_diff"] = lr
    if not lr <= LEFT_RIGHT_ATOL:
        raise AssertionError(f"{name}: left/right padded logits differ by {lr} > {LEFT_RIGHT_ATOL}")

    n_layers = cfg.num_hidden_layers
    assert len(out.attentions) == n_layers
    attn = {}
    for l, a in enumerate(out.attentions):
        a = a.float().contiguous()
        assert torch.isfinite(a).all()
        # rows of real queries sum to 1 and put exactly 0 on masked keys
        rs = a.sum(-1)
        qm = mask.bool()[:, None, :].expand_as(rs)
        assert (rs[qm] - 1).abs().max() < 1e-5
        km = ~mask.bool()[:, None, None, :].expand_as(a)
        assert (a * qm[..., None])[km].abs().max() == 0
        attn[f"attn_probs_layer{l}"] = a

    # --- greedy generation (float32)
    gen_ids = hf_greedy(ref_model, inp["gen_prompt"], GEN_NEW)

    # --- feature toggles
    feature_effect = {}
    for fname, change in spec.get("toggles", {}).items():
        m2 = toggled_model(spec, ref_model, change)
        d = real_maxdiff(forward(m2, ids, mask, pos).logits, logits, mask)
        feature_effect[fname] = d
        if not d > MIN_FEATURE_EFFECT:
            raise AssertionError(f"{name}: feature {fname} has no visible effect ({d})")

    # --- stats
    real = logits[mask.bool()]
    stats = dict(logits_abs_max=real.abs().max().item(), logits_std=real.std().item())
    if not stats["logits_std"] > MIN_LOGITS_STD:
        raise AssertionError(f"{name}: logits_std {stats['logits_std']} <= {MIN_LOGITS_STD}")

    tensors = dict(
        input_ids=ids, attention_mask=mask, position_ids=pos, logits=logits.contiguous(),
        left_input_ids=inp["left_input_ids"], left_attention_mask=inp["left_attention_mask"],
        left_position_ids=inp["left_position_ids"], left_logits=left.contiguous(),
        **attn, gen_prompt=inp["gen_prompt"], gen_ids=gen_ids.contiguous(),
    )
    save_file(tensors, os.path.join(vdir, "reference.safetensors"))

    # --- text prompt
    p_ids = tok.encode(PROMPT_TEXT, add_special_tokens=False).ids
    p = torch.tensor([p_ids], dtype=torch.int64)
    cont = hf_greedy(ref_model, p, GEN_NEW)[0, len(p_ids):].tolist()
    prompt = dict(text=PROMPT_TEXT, ids=p_ids, greedy_text_ids=cont,
                  greedy_text=tok.decode(cont, skip_special_tokens=False),
                  notes="ids without special tokens; greedy_text_ids = 20 argmax tokens, EOS does "
                        "not stop generation; greedy_text decoded with skip_special_tokens=False")
    with open(os.path.join(vdir, "prompt.json"), "w") as f:
        json.dump(prompt, f, indent=1)

    # --- meta
    extra = {}
    if name == "llama3":
        from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
        plain = copy.deepcopy(ref_model.config)
        plain.rope_scaling = None
        inv0, _ = ROPE_INIT_FUNCTIONS["default"](plain, "cpu")
        inv1 = ref_model.model.rotary_emb.inv_freq.float()
        extra["rope_inv_freq"] = dict(unscaled=inv0.tolist(), scaled=inv1.tolist(),
                                      wavelength=(2 * math.pi / inv0).tolist(),
                                      changed=int((inv0 != inv1).sum()), total=int(inv0.numel()))
        assert 0 < extra["rope_inv_freq"]["changed"] < inv0.numel()
    if hasattr(cfg, "layer_types") and cfg.layer_types is not None:
        extra["layer_types"] = list(cfg.layer_types)
    if name == "mistral":
        extra["layer_types"] = ["sliding_attention"] * n_layers

    disk_cfg = json.load(open(os.path.join(mdir, "config.json")))
    meta = dict(
        variant=name,
        family=spec["family"],
        hf_class=spec["cls"].__name__,
        dtype_on_disk="bfloat16" if spec.get("bf16") else "float32",
        logits_abs_max=stats["logits_abs_max"],
        logits_std=stats["logits_std"],
        logits_std_ok=stats["logits_std"] > MIN_LOGITS_STD,
        logits_std_threshold=MIN_LOGITS_STD,
        feature_effect=feature_effect,
        notes=spec["notes"],
        seed=seed,
        transformers_version=transformers.__version__,
        torch_version=torch.__version__,
        vocab_size=cfg.vocab_size,
        num_layers=n_layers,
        num_heads=disk_cfg.get("num_attention_heads", disk_cfg.get("n_head")),
        num_kv_heads=disk_cfg.get("num_key_value_heads", disk_cfg.get("n_head")),
        head_dim=getattr(ref_model.model.layers[0].self_attn, "head_dim", None)
        if hasattr(ref_model, "model") else cfg.n_embd // cfg.n_head,
        tie_word_embeddings=bool(cfg.tie_word_embeddings),
        sharded=bool(spec.get("sharded")),
        checkpoint_files=files,
        num_params=sum(p.numel() for p in ref_model.parameters()),
        checks=checks,
        reference_tensors={k: f"{str(v.dtype).replace('torch.', '')} {list(v.shape)}"
                           for k, v in tensors.items()},
        reference_notes=(
            "Float32 CPU eager forward of the checkpoint in model/ (re-loaded from disk), "
            "with explicit position_ids = clamp(cumsum(mask)-1, 0), use_cache=False. "
            "Compare logits/attn_probs only at real positions (attention_mask==1): values at pad "
            "positions are unspecified (e.g. a pad query whose sliding window holds only pads gets "
            "a uniform row). attn_probs_layer{l} [B,H,T,T] are for the right-padded batch; at "
            "real query rows masked keys get exactly 0. gen_ids = gen_prompt + 20 greedy argmax "
            "tokens (EOS does not stop), identical to a cache-free argmax loop. Real token ids are "
            "drawn from [3, vocab)."),
        **extra,
    )
    meta["int8"] = write_int8_reference(ref_model, inp, logits, vdir)
    if device == "cuda":
        meta["bf16_cuda"] = write_bf16_reference(ref_model, inp, logits, left, vdir)
    with open(os.path.join(vdir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    meta["_seconds"] = time.time() - t0
    return meta


def int8_absmax(w):
    """Weight-only int8, one scale per output channel (the rows of an
    nn.Linear weight [out, in]): scale = absmax / 127 (1 for a zero row),
    q = round(w / scale) (half to even) clamped to [-127, 127]."""
    w = w.float()
    absmax = w.abs().amax(dim=1)
    scale = torch.where(absmax > 0, absmax / 127.0, torch.ones_like(absmax))
    q = torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8)
    return q, scale


@torch.no_grad()
def write_int8_reference(ref_model, inp, logits_f32, vdir):
    """int8.safetensors: the int8 values and scales of every quantized
    weight (every nn.Linear / GPT-2 Conv1D but lm_head, as bitsandbytes'
    8-bit loading) and the float32 logits of the model whose weights are the
    dequantized q * scale."""
    from transformers.pytorch_utils import Conv1D
    m = copy.deepcopy(ref_model).eval()
    tensors = {}
    for name, module in m.named_modules():
        if name == "lm_head" or not isinstance(module, (torch.nn.Linear, Conv1D)):
            continue
        conv = isinstance(module, Conv1D)  # weight [in, out]
        w = module.weight.t() if conv else module.weight
        q, scale = int8_absmax(w)
        tensors[f"{name}.weight_int8"] = q.contiguous()
        tensors[f"{name}.weight_scale"] = scale.contiguous()
        deq = q.float() * scale[:, None]
        module.weight.copy_(deq.t() if conv else deq)
    assert tensors, "no linear layer quantized"
    ids, mask, pos = inp["input_ids"], inp["attention_mask"], inp["position_ids"]
    lg = forward(m, ids, mask, pos).logits.float()
    tensors.update(input_ids=ids, attention_mask=mask, position_ids=pos, logits=lg.contiguous())
    save_file(tensors, os.path.join(vdir, "int8.safetensors"))
    real = logits_f32[mask.bool()]
    return dict(
        layers=len([k for k in tensors if k.endswith(".weight_int8")]),
        int8_vs_f32_max_diff=real_maxdiff(lg, logits_f32, mask),
        logits_abs_max=real.abs().max().item(),
        argmax_agreement=(lg[mask.bool()].argmax(-1) == real.argmax(-1)).float().mean().item(),
        notes="int8.safetensors: <module>.weight_int8 [out, in] int8 and <module>.weight_scale "
              "[out] float32 per quantized layer; logits of the dequantized-weight model, float32",
    )


@torch.no_grad()
def write_bf16_reference(ref_model, inp, logits_f32, left_f32, vdir):
    m = copy.deepcopy(ref_model).to(device="cuda", dtype=torch.bfloat16).eval()
    ids, mask, pos = inp["input_ids"], inp["attention_mask"], inp["position_ids"]
    lg = forward(m, ids, mask, pos).logits.float().cpu()
    left = forward(m, inp["left_input_ids"], inp["left_attention_mask"],
                   inp["left_position_ids"]).logits.float().cpu()
    save_file(dict(input_ids=ids, attention_mask=mask, position_ids=pos, logits=lg.contiguous(),
                   left_input_ids=inp["left_input_ids"],
                   left_attention_mask=inp["left_attention_mask"],
                   left_position_ids=inp["left_position_ids"], left_logits=left.contiguous()),
              os.path.join(vdir, "reference_bf16.safetensors"))
    return dict(
        device=torch.cuda.get_device_name(0), attn_implementation="eager",
        bf16_vs_f32_max_diff=real_maxdiff(lg, logits_f32, mask),
        bf16_left_vs_f32_max_diff=real_maxdiff(left_to_right(left, inp["left_attention_mask"]),
                                               logits_f32, mask),
        notes="logits of the float32 checkpoint cast to bfloat16 on CUDA (eager), stored as float32",
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", default="", help="comma-separated variant names")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = ap.parse_args()
    t0 = time.time()
    torch.use_deterministic_algorithms(True, warn_only=True)
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: CUDA is not available")

    tok, fast = train_tokenizer()
    vocab = tok.get_vocab_size()
    specs = variant_specs(vocab)
    names = [n for n in args.only.split(",") if n] or list(specs)
    unknown = [n for n in names if n not in specs]
    if unknown:
        sys.exit(f"unknown variant(s) {unknown}; known: {', '.join(specs)}")
    os.makedirs(args.out, exist_ok=True)
    print(f"tokenizer vocab {vocab}; variants: {', '.join(names)}", flush=True)
    failed = []
    for n in names:
        try:
            meta = build_variant(n, specs[n], tok, fast, args.out, args.device)
        except Exception as e:  # report every failing variant, then exit 1
            import traceback
            traceback.print_exc()
            print(f"FAIL {n}: {e}", flush=True)
            failed.append(n)
            continue
        fe = ", ".join(f"{k}={v:.3g}" for k, v in meta["feature_effect"].items())
        print(f"ok {n:13s} {meta['_seconds']:.2f}s logits std {meta['logits_std']:.3f} "
              f"absmax {meta['logits_abs_max']:.3f} left/right "
              f"{meta['checks']['left_vs_right_padding_max_diff']:.2e}"
              + (f" | {fe}" if fe else ""), flush=True)
    print(f"total {time.time() - t0:.1f}s -> {args.out}", flush=True)
    if failed:
        print(f"FAILED variants: {', '.join(failed)}", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()

"""The reference models: a "large" and a "small" Llama-architecture model
pretrained from scratch by the cluedrop trainer (`cluedrop train --local`,
two Gloo ranks in one process, augmentation mode none) on the reference
population, with the tokenizer built by tokenizer_build. Cached under
<cache>/<reference_key>/ so a second run skips pretraining; a directory is
used only when its `complete` marker exists (written last)."""

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from . import progress, tokenizer_build
from .config import DemoConfig, ModelShape
from .data import DataSet

STEP_LINE = re.compile(r"^step (\d+)/(\d+)\s+epoch (\d+)\s+loss ([0-9.naif]+)")


def llama_config(shape: ModelShape, vocab_size: int, max_positions: int) -> dict[str, Any]:
    """A Hugging Face LlamaConfig (config.json) for `shape`."""
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": shape.hidden_size,
        "intermediate_size": shape.intermediate_size,
        "num_hidden_layers": shape.layers,
        "num_attention_heads": shape.heads,
        "num_key_value_heads": shape.heads,
        "head_dim": shape.hidden_size // shape.heads,
        "hidden_act": "silu",
        "max_position_embeddings": max_positions,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "attention_bias": False,
        "mlp_bias": False,
        "tie_word_embeddings": True,
        "initializer_range": 0.02,
        "vocab_size": vocab_size,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "torch_dtype": "float32",
    }


def run_logged(command: Sequence[str], log_path: str, label: str,
               parse: Callable[[str], tuple[int, int, str] | None] | None = None,
               env: Mapping[str, str] | None = None) -> None:
    """Runs `command` with stdout+stderr to log_path; `parse(line)` may
    return (done, total, detail) for the status line. Raises on failure
    with the log's tail."""
    line = progress.StatusLine(label)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=env)
        for text in proc.stdout:
            log.write(text)
            log.flush()
            parsed = parse(text) if parse else None
            if parsed:
                line.update(*parsed)
        rc = proc.wait()
    if rc != 0:
        with open(log_path) as f:
            tail = f.read()[-2500:]
        raise SystemExit(f"cluedrop demo: {label} failed (exit {rc}); log {log_path}:\n{tail}")
    line.finish("done")


def _parse_step(text: str) -> tuple[int, int, str] | None:
    m = STEP_LINE.match(text)
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), f"epoch {m.group(3)}  loss {m.group(4)}"


def pretrain(cli: str, name: str, directory: str, shape: ModelShape, dataset: DataSet,
             tokenizer_dir: str, vocab_size: int, config: DemoConfig) -> str:
    """Pretrains one reference model from scratch in `directory`; returns its
    final checkpoint directory."""
    os.makedirs(directory, exist_ok=True)
    config_path = os.path.join(directory, "config.json")
    with open(config_path, "w") as f:
        json.dump(llama_config(shape, vocab_size, 512), f, indent=1)
    documents = 0
    for path in (dataset.reference_bios, dataset.reference_qa, dataset.fewshot):
        with open(path, encoding="utf-8") as f:
            # Lines, an upper bound of the documents (QA texts span several):
            # it only sizes the warm-up, which is part of the cache key's recipe.
            documents += sum(1 for _ in f)
    steps = config.pretrain_epochs * max(1, documents // config.pretrain_batch)
    spec = {
        "name": f"demo-reference-{name}",
        # Documents dealt to the ranks one by one (`cluedrop train --local`
        # deals shards of corpus.shard_size_docs, default 1000, which would
        # give rank 0 most of this small corpus and double the steps).
        "corpus": {"paths": [dataset.reference_bios, dataset.reference_qa, dataset.fewshot],
                   "format": "csv", "shard_size_docs": 1},
        "target_model": {"from_scratch_config": config_path, "tokenizer_dir": tokenizer_dir},
        "augmentation": {"mode": "none"},
        "training": {"epochs": config.pretrain_epochs,
                     "batch_size": config.pretrain_batch // config.world_size,
                     "learning_rate": config.pretrain_lr, "schedule": "cosine",
                     "warmup_steps": max(1, steps // 20), "grad_clip": 1.0,
                     "weight_decay": 0.01, "max_seq_len": config.max_seq_len, "seed": 1,
                     "world_size": config.world_size, "precision": "fp32",
                     "shuffle_buffer": config.pretrain_shuffle_buffer},
        "output_dir": directory,
    }
    spec_path = os.path.join(directory, "pretrain.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f, indent=1)
    run_logged([cli, "train", spec_path, "--local", f"--ranks={config.world_size}"],
               os.path.join(directory, "pretrain.log"), f"pretraining the {name} reference model",
               parse=_parse_step, env=dict(os.environ, OMP_NUM_THREADS="2"))
    return os.path.join(directory, "final")


def prepare(cli: str, cache_root: str, dataset: DataSet, config: DemoConfig,
            rebuild: bool = False, numerics: str = "") -> tuple[str, str, str, bool]:
    """Returns (tokenizer_dir, large_dir, small_dir, cached). `numerics`
    (numerics.describe of the environment) is part of the cache key."""
    key = config.reference_key(dataset.key + numerics)
    root = os.path.join(cache_root, key)
    marker = os.path.join(root, "complete")
    tokenizer_dir = os.path.join(root, "tokenizer")
    dirs = (tokenizer_dir, os.path.join(root, "large", "final"), os.path.join(root, "small", "final"))
    if os.path.exists(marker) and not rebuild:
        progress.info(f"reference models cached in {root} (key {key}); skipping pretraining")
        return (*dirs, True)
    shutil.rmtree(root, ignore_errors=True)
    vocab = tokenizer_build.write_tokenizer(tokenizer_dir, dataset.texts())
    progress.info(f"tokenizer: {vocab} word-level tokens over byte-level pre-tokens -> "
                  f"{tokenizer_dir}/tokenizer.json")
    started = time.time()
    for name, shape in (("small", config.small), ("large", config.large)):
        pretrain(cli, name, os.path.join(root, name), shape, dataset, tokenizer_dir, vocab, config)
    with open(marker, "w") as f:
        json.dump({"key": key, "seconds": round(time.time() - started, 1)}, f)
    return (*dirs, False)

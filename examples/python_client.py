#!/usr/bin/env python3
# %% [markdown]
# # cluedrop from Python: score the paper's biographies, look at the clues
#
# A notebook-style walk-through of the Python client (`pip install clients/python`;
# docs/python-client.md). Open it in Jupyter or VS Code (the `# %%` lines are cells), or run
# it as a script. It needs a running coordinator and at least one scorer:
#
#   CLUEDROP_COORDINATOR   host:port of the coordinator (default 127.0.0.1:50051)
#   CLUEDROP_TOKEN_FILE    your bearer token's file (or CLUEDROP_TOKEN), as for the CLI
#   CLUEDROP_LARGE_MODEL   the large reference checkpoint directory (Hugging Face layout)
#   CLUEDROP_SMALL_MODEL   the small one (same tokenizer)
#   CLUEDROP_EXAMPLE_DOCS  how many biographies to score (default: all 100)
#
# tests/python_client/python_client_test.py runs this file against real daemons with the
# tiny test checkpoints.

# %%
import os
import pathlib

import cluedrop

here = pathlib.Path(__file__).resolve().parent if "__file__" in globals() else pathlib.Path.cwd()
paper_data = here / "paper-data"
print("cluedrop client", cluedrop.__version__)

# %% [markdown]
# ## Connect
# The same settings as the `cluedrop` CLI: the address and credentials come from the
# environment here; `cluedrop.Client("host:port", token_file=..., tls_ca=...)` names them.

# %%
client = cluedrop.Client()
print("coordinator", client.address)

# %% [markdown]
# ## A score-only job, as a dict
# The keys are JobSpec's field names (proto/cluedrop/v1/job.proto), as in examples/*.yaml;
# `client.submit("examples/biography-score-only.yaml")` takes the file itself.

# %%
corpus = paper_data / "biography_synthetic.csv"
docs_wanted = int(os.environ.get("CLUEDROP_EXAMPLE_DOCS", "0"))
if docs_wanted:  # a smaller corpus: the header and the first N biographies
    corpus = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / f"bio{docs_wanted}.csv"
    rows = (paper_data / "biography_synthetic.csv").read_text().splitlines()
    corpus.write_text("\n".join(rows[:docs_wanted + 1]) + "\n")

spec = {
    "name": "python-client-example",
    "corpus": {"paths": [str(corpus)], "format": "csv", "field_tags": True,
               "shard_size_docs": 10},
    "reference_models": {
        "large": {"checkpoint_dir": os.environ.get("CLUEDROP_LARGE_MODEL",
                                                   "/models/Meta-Llama-3-70B")},
        "small": {"checkpoint_dir": os.environ.get("CLUEDROP_SMALL_MODEL",
                                                   "/models/Meta-Llama-3-8B")},
    },
    "labels": {"source": "examples/python_client.py"},
}
job = client.submit(spec)
print("submitted", job.id)

# %% [markdown]
# ## Watch it
# `watch()` yields the job's events and reconnects after a coordinator restart;
# in a notebook it also draws a tqdm progress bar.

# %%
for event in job.watch():
    if event.kind != "progress":
        print(event)
status = job.wait()  # the final status; raises JobFailedError if it FAILED
print(f"{status.state.name}: {status.progress.shards_scored}/{status.progress.shards_total} "
      f"shards, {status.progress.tokens_scored} tokens scored")

# %% [markdown]
# ## The clues
# `results()` streams the scored documents (each shard's CRC-32C checked). The tokens the
# large model attends to much more than the small one (high contrast) are the clues the
# augmentation keeps.

# %%
documents = job.results().to_list()
print(len(documents), "documents")
first = documents[0]
raw = first["text"].encode("utf-8")
scored = [(c, raw[b:e].decode("utf-8", "replace"))
          for c, (b, e) in zip(first["contrast"], first["offsets"]) if c is not None]
top = sorted(scored, key=lambda pair: -pair[0])[:8]
print("document", first["id"], "-", first["text"][:70] + "...")
print("top clues:", ", ".join(f"{token.strip()!r} {score:+.4f}" for score, token in top))
print("facts:", "; ".join(f"{q['field']}={q['answer']}" for q in first["qa_items"]))

# %%
try:
    frame = job.results().to_pandas()
    frame["tokens_n"] = frame["tokens"].map(len)
    print(frame[["id", "tokens_n"]].describe().loc[["count", "mean", "max"]].to_string())
except ImportError:
    print("(pandas is not installed: pip install pandas for .to_pandas())")

# %% [markdown]
# ## Errors carry the gRPC code and the field path

# %%
try:
    client.submit({**spec, "augmentation": {"mode": "contrast", "alpha": 1.3}})
except cluedrop.SpecError as error:
    print("refused:", error.code.name, "|", error.field, "|", error.message)

# %%
for s in client.list_jobs(limit=5):
    print(s.job_id, s.name, s.state.name)
client.close()

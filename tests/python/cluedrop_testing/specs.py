"""Job specs the cross-component tests submit: the paper's first 20
biographies as a corpus, and a score + train (+ evaluate) job on them with
the tiny oracle checkpoints (llama3 large and target, smollm small).

Example:
    spec = write_train_job(work, paper_data, fixtures, name="mtls", evaluate=True)
"""

import os


def write_bio20(work: str, paper_data: str) -> str:
    """WORK/bio20.csv: the header and the first 20 people of the paper's
    biography_synthetic.csv. Returns its path."""
    corpus = os.path.join(work, "bio20.csv")
    with open(os.path.join(paper_data, "biography_synthetic.csv")) as f:
        lines = f.read().splitlines()
    with open(corpus, "w") as f:
        f.write("\n".join(lines[:21]) + "\n")
    return corpus


def write_train_job(work: str, paper_data: str, fixtures: str, *, name: str,
                    shard_size: int = 5, epochs: int = 2, batch_size: int = 4,
                    checkpoint_every: int = 0, evaluate: bool = False) -> str:
    """WORK/job.yaml: score bio20 with llama3/smollm, train llama3 on 2 ranks
    (contrast dropout, fixed seeds), output in WORK/out; with `evaluate`, the
    paper's QA prompts (zero-shot, 4 new tokens). Returns its path."""
    corpus = write_bio20(work, paper_data)
    checkpoint = f", checkpoint_interval_steps: {checkpoint_every}" if checkpoint_every else ""
    evaluation = (f"evaluation: {{prompt_table: {paper_data}/prompts.csv,\n"
                  f"             fewshot_pool: {paper_data}/biography_real.csv, shots: 0, "
                  "max_new_tokens: 4}\n") if evaluate else ""
    spec = os.path.join(work, "job.yaml")
    with open(spec, "w") as f:
        f.write(f"""name: {name}
corpus: {{paths: [{corpus}], format: csv, field_tags: true, shard_size_docs: {shard_size}}}
reference_models:
  large: {{checkpoint_dir: {fixtures}/llama3/model, dtype: float32}}
  small: {{checkpoint_dir: {fixtures}/smollm/model, dtype: float32}}
  batch_tokens: 4096
target_model: {{checkpoint_dir: {fixtures}/llama3/model}}
augmentation: {{mode: contrast, copies: 1, seed: 7}}
training: {{epochs: {epochs}, batch_size: {batch_size}, learning_rate: 0.003, world_size: 2,
           max_seq_len: 128, seed: 1{checkpoint}}}
{evaluation}output_dir: {os.path.join(work, "out")}
""")
    return spec


def add_cluster_args(parser) -> None:
    """--bin, --fixtures, --paper-data and --work, as ctest passes them."""
    parser.add_argument("--bin", required=True, help="directory of the cluedrop binaries")
    parser.add_argument("--fixtures", required=True, help="oracle checkpoints (build/oracle/models)")
    parser.add_argument("--paper-data", required=True, help="the paper's biographies and prompts")
    parser.add_argument("--work", required=True, help="work directory (emptied first)")

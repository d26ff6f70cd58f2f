"""The demo's data files, in the paper's CSV format.

Generated (default): bioS-style people split into the evaluated people (one
biography each, fixed sentence order, as the paper's biography_synthetic.csv),
a disjoint reference population (several permuted biographies each, plus
their question-answer pairs) that only the reference models see, and a
few-shot pool of reference people (as the paper's biography_real.csv).

With --data DIR (the paper's own files): DIR/biography_synthetic.csv are
the evaluated people, DIR/prompts.csv the prompt table and
DIR/biography_real.csv the few-shot pool; the reference population is still
generated (names disjoint from DIR's people) and its QA pairs use DIR's
prompt table for the fields the generator knows.
"""

import csv
import dataclasses
import hashlib
import os
import random
import re
from collections.abc import Iterable, Mapping

from . import bios
from .config import DemoConfig

TAG = re.compile(r"</?[a-z0-9_]+>")
NAME_TAG = re.compile(r"<name>(.*?)</name>")
DIAGNOSTIC_PEOPLE = 50


@dataclasses.dataclass
class DataSet:
    directory: str
    eval_bios: str       # tagged CSV: the job's corpus and its QA items
    prompts: str         # field,prompt
    fewshot: str         # tagged CSV: the few-shot pool
    reference_bios: str  # tagged CSV: reference population
    reference_qa: str    # CSV: their question-answer pairs
    # Diagnostics (tagged CSVs, one biography each, at most DIAGNOSTIC_PEOPLE):
    reference_with_qa: str  # reference people whose QA pairs were in pretraining
    reference_bio_only: str  # reference people known from biographies alone
    key: str             # content hash of every file (the tokenizer's input)
    eval_count: int
    # The tuning people (tagged CSV, one biography each, as the evaluated
    # people): new to every model, disjoint from everyone else; `--tune`
    # runs the experiment on them instead of the evaluated people.
    tune_bios: str = ""

    def texts(self) -> list[str]:
        """Every text of every file, tags stripped (the tokenizer's corpus)."""
        out = []
        for path in (self.eval_bios, self.fewshot, self.reference_bios, self.reference_qa,
                     self.tune_bios):
            out.extend(TAG.sub("", t) for t in read_texts(path))
        for prompt in read_prompts(self.prompts).values():
            out.append(prompt)
        return out


def read_texts(path: str) -> list[str]:
    """The `text` column of a corpus CSV."""
    with open(path, newline="", encoding="utf-8") as f:
        return [row["text"] for row in csv.DictReader(f)]


def read_prompts(path: str) -> dict[str, str]:
    """{field: prompt} from a prompt table CSV."""
    with open(path, newline="", encoding="utf-8") as f:
        return {row["field"]: row["prompt"] for row in csv.DictReader(f)}


def _hash_files(paths: Iterable[str]) -> str:
    h = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            h.update(f.read())
        h.update(b"\0")
    return h.hexdigest()[:16]


def _reference_files(directory: str, config: DemoConfig, exclude: Iterable[str],
                     prompts: Mapping[str, str]
                     ) -> tuple[list[bios.Person], str, str, list[str], random.Random]:
    people = bios.generate_people(config.reference_people, config.data_seed + 1000,
                                  exclude=exclude)
    rng = random.Random(config.data_seed + 2000)
    texts = [bios.render_bio(p, rng, permute=True, fullname=config.fullname)
             for p in people for _ in range(config.reference_bios_per_person)]
    rng.shuffle(texts)
    reference_bios = os.path.join(directory, "reference_bios.csv")
    bios.write_texts_csv(reference_bios, texts)
    qa = []
    fields = [f for f in bios.FIELDS if f in prompts]
    # bioS mixed training: only the first reference_qa_fraction of the
    # people have their questions answered in the corpus; the rest are known
    # from biographies alone, as the evaluated people will be.
    for p in people[:round(len(people) * config.reference_qa_fraction)]:
        rng.shuffle(fields)
        qa.append("\n\n".join(f"{prompts[f].format(name=p.name)} {p.fact(f)}" for f in fields))
    reference_qa = os.path.join(directory, "reference_qa.csv")
    bios.write_texts_csv(reference_qa, qa)
    split = round(len(people) * config.reference_qa_fraction)
    diagnostics = []
    for name, group in (("reference_with_qa.csv", people[:split]),
                        ("reference_bio_only.csv", people[split:])):
        diagnostics.append(os.path.join(directory, name))
        bios.write_texts_csv(diagnostics[-1], [bios.render_bio(p, rng, fullname=config.fullname)
                                               for p in group[:DIAGNOSTIC_PEOPLE]])
    fewshot_rng = random.Random(config.data_seed + 3000)
    return people, reference_bios, reference_qa, diagnostics, fewshot_rng


def _tune_file(directory: str, config: DemoConfig, exclude: Iterable[str]) -> str:
    """tune_bios.csv: config.tune_people new people, one biography each in
    the evaluated people's style, disjoint from `exclude`."""
    people = bios.generate_people(config.tune_people, config.data_seed + 4000, exclude=exclude)
    rng = random.Random(config.data_seed + 4001)
    path = os.path.join(directory, "tune_bios.csv")
    bios.write_texts_csv(path, [bios.render_bio(p, rng, fullname=config.fullname)
                                for p in people])
    return path


def generate(directory: str, config: DemoConfig) -> DataSet:
    """Generated people and their files in `directory` (see the module doc)."""
    os.makedirs(directory, exist_ok=True)
    evaluated = bios.generate_people(config.eval_people, config.data_seed)
    rng = random.Random(config.data_seed + 1)
    eval_bios = os.path.join(directory, "eval_bios.csv")
    bios.write_texts_csv(eval_bios, [bios.render_bio(p, rng, fullname=config.fullname)
                                     for p in evaluated])
    prompts = os.path.join(directory, "prompts.csv")
    bios.write_prompts_csv(prompts)
    people, reference_bios, reference_qa, diagnostics, fewshot_rng = _reference_files(
        directory, config, {p.name for p in evaluated}, bios.PROMPTS)
    fewshot = os.path.join(directory, "fewshot.csv")
    bios.write_texts_csv(fewshot, [bios.render_bio(p, fewshot_rng, fullname=config.fullname)
                                   for p in people[:config.fewshot_people]])
    tune = _tune_file(directory, config, {p.name for p in evaluated + people})
    files = [eval_bios, prompts, fewshot, reference_bios, reference_qa, tune]
    return DataSet(directory, eval_bios, prompts, fewshot, reference_bios, reference_qa,
                   *diagnostics, _hash_files(files), len(evaluated), tune)


def from_paper_dir(source: str, directory: str, config: DemoConfig) -> DataSet:
    """The paper's files from `source` (copied into `directory`)."""
    names = {"eval_bios": "biography_synthetic.csv", "prompts": "prompts.csv",
             "fewshot": "biography_real.csv"}
    missing = [n for n in names.values() if not os.path.isfile(os.path.join(source, n))]
    if missing:
        raise SystemExit(f"cluedrop demo: --data {source}: missing {', '.join(missing)} "
                         f"(expects the paper's biography_synthetic.csv, prompts.csv, "
                         f"biography_real.csv)")
    os.makedirs(directory, exist_ok=True)
    paths = {}
    for key, name in names.items():
        paths[key] = os.path.join(directory, name)
        with open(os.path.join(source, name), "rb") as src, open(paths[key], "wb") as dst:
            dst.write(src.read())
    eval_texts = read_texts(paths["eval_bios"])
    exclude = {m for t in eval_texts + read_texts(paths["fewshot"]) for m in NAME_TAG.findall(t)}
    people, reference_bios, reference_qa, diagnostics, _ = _reference_files(
        directory, config, exclude, read_prompts(paths["prompts"]))
    tune = _tune_file(directory, config, exclude | {p.name for p in people})
    files = [paths["eval_bios"], paths["prompts"], paths["fewshot"], reference_bios, reference_qa,
             tune]
    return DataSet(directory, paths["eval_bios"], paths["prompts"], paths["fewshot"],
                   reference_bios, reference_qa, *diagnostics, _hash_files(files),
                   len(eval_texts), tune)

#!/usr/bin/env python3
"""The demo's data, tokenizer and statistics against independent oracles.

- bios: names unique and disjoint between populations, every fact tagged
  exactly once and equal to the person's, templates and permutation vary,
  the CSVs read back (Python csv) to the same texts.
- tokenizer_build: Hugging Face `tokenizers` loads the tokenizer.json and
  encodes every demo text without <unk> and decodes it back exactly; the
  C++ runtime (`cluedrop tokenize`) gives the same ids as `tokenizers` on
  biographies, QA text, blanked (augmented) text and the paper's files.
- stats: the t table against numerical integration of Student's t density;
  mean_ci against a direct computation; compare() only claims what the
  interval supports.

Usage: demo_unit_test.py --cli PATH/cluedrop --paper-data DIR
"""
import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import unittest

from cluedrop_demo import bios, config, data, report, stats, tokenizer_build

ARGS = None
TAG = re.compile(r"<([a-z_]+)>(.*?)</\1>")


class BiosTest(unittest.TestCase):
    def test_people_unique_and_disjoint(self):
        a = bios.generate_people(300, 1)
        b = bios.generate_people(300, 2, exclude={p.name for p in a})
        names = [p.name for p in a + b]
        self.assertEqual(len(names), len(set(names)))
        self.assertEqual(bios.generate_people(300, 1), a)  # deterministic
        with self.assertRaises(ValueError):
            bios.generate_people(10**6, 1)

    def test_every_fact_tagged_once(self):
        rng = random.Random(5)
        for person in bios.generate_people(50, 3):
            for permute in (False, True):
                text = bios.render_bio(person, rng, permute=permute)
                tags = TAG.findall(text)
                self.assertEqual(sorted(t for t, _ in tags), sorted(("name",) + bios.FIELDS))
                for field, value in tags:
                    want = person.name if field == "name" else person.fact(field)
                    self.assertEqual(value, want, text)
                self.assertTrue(text.startswith(f"<name>{person.name}</name>"))

    def test_templates_and_permutation_vary(self):
        person = bios.generate_people(1, 9)[0]
        rng = random.Random(1)
        fixed = {bios.render_bio(person, rng) for _ in range(40)}
        self.assertGreater(len(fixed), 10)
        orders = set()
        for _ in range(40):
            text = bios.render_bio(person, rng, permute=True)
            orders.add(tuple(t for t, _ in TAG.findall(text)))
        self.assertGreater(len(orders), 5)
        for text in fixed:  # unpermuted: the fields in FIELDS order
            self.assertEqual(tuple(t for t, _ in TAG.findall(text)), ("name",) + bios.FIELDS)

    def test_fullname_style_names_the_person_in_every_sentence(self):
        rng = random.Random(2)
        for person in bios.generate_people(20, 6):
            plain = TAG.sub(lambda m: m.group(2), bios.render_bio(person, rng, fullname=True))
            sentences = [x for x in re.split(r"(?<=\.) ", plain) if x]
            self.assertEqual(len(sentences), 1 + len(bios.FIELDS) - 1)
            for sentence in sentences:
                self.assertTrue(sentence.startswith(person.name), sentence)
            pronoun = TAG.sub(lambda m: m.group(2), bios.render_bio(person, rng))
            self.assertEqual(pronoun.count(person.name), 1)

    def test_company_city_follows_company(self):
        hq = dict(bios.pools.COMPANIES)
        for p in bios.generate_people(200, 4):
            self.assertEqual(hq[p.company], p.company_city)

    def test_csv_round_trip(self):
        with tempfile.TemporaryDirectory() as d:
            texts = ['He said "hi",\nthen left.', "plain", "<name>A B</name> was born."]
            path = os.path.join(d, "x.csv")
            bios.write_texts_csv(path, texts)
            self.assertEqual(data.read_texts(path), texts)
            bios.write_prompts_csv(os.path.join(d, "p.csv"))
            self.assertEqual(data.read_prompts(os.path.join(d, "p.csv")), bios.PROMPTS)

    def test_generated_dataset(self):
        cfg = config.PRESETS["quick"]
        with tempfile.TemporaryDirectory() as d:
            ds = data.generate(d, cfg)
            evaluated = {m for t in data.read_texts(ds.eval_bios)
                         for m in re.findall(r"<name>(.*?)</name>", t)}
            reference = {m for t in data.read_texts(ds.reference_bios)
                         for m in re.findall(r"<name>(.*?)</name>", t)}
            fewshot = {m for t in data.read_texts(ds.fewshot)
                       for m in re.findall(r"<name>(.*?)</name>", t)}
            self.assertEqual(len(evaluated), cfg.eval_people)
            self.assertEqual(len(reference), cfg.reference_people)
            self.assertFalse(evaluated & reference)
            self.assertTrue(fewshot <= reference)
            self.assertEqual(len(data.read_texts(ds.reference_bios)),
                             cfg.reference_people * cfg.reference_bios_per_person)
            # QA pairs for the first reference_qa_fraction of the people only.
            qa_names = {m for t in data.read_texts(ds.reference_qa)
                        for m in re.findall(r"of (\w+ \w+)\?", t)}
            with_qa = {m for t in data.read_texts(ds.reference_with_qa)
                       for m in re.findall(r"<name>(.*?)</name>", t)}
            bio_only = {m for t in data.read_texts(ds.reference_bio_only)
                        for m in re.findall(r"<name>(.*?)</name>", t)}
            self.assertEqual(len(data.read_texts(ds.reference_qa)),
                             round(cfg.reference_people * cfg.reference_qa_fraction))
            self.assertTrue(with_qa <= qa_names and with_qa)
            self.assertFalse(bio_only & qa_names)
            self.assertTrue(bio_only <= reference and bio_only)
            again = data.generate(os.path.join(d, "again"), cfg)
            self.assertEqual(again.key, ds.key)

    def test_paper_dir(self):
        cfg = config.PRESETS["quick"]
        with tempfile.TemporaryDirectory() as d:
            ds = data.from_paper_dir(ARGS.paper_data, d, cfg)
            self.assertEqual(ds.eval_count, len(data.read_texts(
                os.path.join(ARGS.paper_data, "biography_synthetic.csv"))))
            qa = data.read_texts(ds.reference_qa)
            self.assertIn("\nAnswer: ", qa[0])
            with self.assertRaises(SystemExit) as e:
                data.from_paper_dir(d + "/missing", os.path.join(d, "o"), cfg)
            self.assertIn("biography_synthetic.csv", str(e.exception))


def cli_ids(tokenizer_dir, text):
    proc = subprocess.run([ARGS.cli, "tokenize", "--tokenizer", tokenizer_dir, "--text", text],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)["ids"]


class TokenizerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from tokenizers import Tokenizer
        cls.dir = tempfile.mkdtemp()
        cfg = config.PRESETS["quick"]
        cls.ds = data.generate(os.path.join(cls.dir, "data"), cfg)
        cls.texts = cls.ds.texts()
        cls.vocab = tokenizer_build.write_tokenizer(os.path.join(cls.dir, "tok"), cls.texts)
        cls.hf = Tokenizer.from_file(os.path.join(cls.dir, "tok", "tokenizer.json"))

    def test_hf_loads_encodes_without_unk_and_round_trips(self):
        self.assertEqual(self.hf.get_vocab_size(), self.vocab)
        for text in self.texts:
            enc = self.hf.encode(text)
            self.assertEqual(enc.ids[0], self.hf.token_to_id("<s>"))
            self.assertNotIn(self.hf.token_to_id("<unk>"), enc.ids, text)
            self.assertEqual(self.hf.decode(enc.ids, skip_special_tokens=True), text)

    def test_blanked_text_has_no_unk(self):
        rng = random.Random(3)
        unk = self.hf.token_to_id("<unk>")
        for text in self.texts[:50]:
            enc = self.hf.encode(text)
            chars = list(text)
            for i, (begin, end) in enumerate(enc.offsets[1:]):
                if rng.random() < 0.7:
                    # Offsets are characters here; blank the token's characters.
                    for k in range(begin, end):
                        if not chars[k].isspace():
                            chars[k] = " "
            blanked = "".join(chars)
            self.assertNotIn(unk, self.hf.encode(blanked).ids, blanked)

    def test_cpp_runtime_matches_tokenizers(self):
        samples = [self.texts[0], self.texts[-1],
                   next(t for t in self.texts if "\nAnswer:" in t),
                   "Liam   Smith was          on        , 1990.   ",
                   "Unseen words: Zanzibar qux 42!"]
        paper_dir = os.path.join(self.dir, "paper")
        ds = data.from_paper_dir(ARGS.paper_data, os.path.join(paper_dir, "data"),
                                 config.PRESETS["quick"])
        paper_texts = ds.texts()
        tokenizer_build.write_tokenizer(os.path.join(paper_dir, "tok"), paper_texts)
        from tokenizers import Tokenizer
        paper_hf = Tokenizer.from_file(os.path.join(paper_dir, "tok", "tokenizer.json"))
        for tok_dir, hf, text in ([(os.path.join(self.dir, "tok"), self.hf, t) for t in samples]
                                  + [(os.path.join(paper_dir, "tok"), paper_hf, t)
                                     for t in paper_texts[:3]]):
            self.assertEqual(cli_ids(tok_dir, text), hf.encode(text).ids, text)
        self.assertNotIn(paper_hf.token_to_id("<unk>"),
                         [i for t in paper_texts for i in paper_hf.encode(t).ids])


def t_cdf(x, df, steps=20000):
    """P(T <= x), Student's t density integrated with Simpson's rule."""
    c = math.gamma((df + 1) / 2) / (math.sqrt(df * math.pi) * math.gamma(df / 2))

    def pdf(t):
        return c * (1 + t * t / df) ** (-(df + 1) / 2)

    h = x / steps
    s = pdf(0) + pdf(x) + sum((4 if k % 2 else 2) * pdf(k * h) for k in range(1, steps))
    return 0.5 + s * h / 3


class StatsTest(unittest.TestCase):
    def test_t_table_against_integration(self):
        for df in (1, 2, 3, 5, 10, 30):
            self.assertAlmostEqual(t_cdf(stats.t95(df), df), 0.975, delta=2e-4, msg=f"df {df}")
        self.assertEqual(stats.t95(1000), 1.960)
        with self.assertRaises(ValueError):
            stats.t95(0)

    def test_mean_ci(self):
        values = [10.0, 14.0, 9.0]
        mean = sum(values) / 3
        sd = (sum((v - mean) ** 2 for v in values) / 2) ** 0.5
        m, half = stats.mean_ci(values)
        self.assertAlmostEqual(m, mean)
        self.assertAlmostEqual(half, 4.303 * sd / 3 ** 0.5)
        self.assertEqual(stats.mean_ci([7.0]), (7.0, None))

    def test_compare_claims_only_what_the_interval_supports(self):
        verdict, text = stats.compare([20, 22, 21], [10, 11, 10], "contrast", "random")
        self.assertEqual(verdict, "better")
        self.assertIn("contrast beat random", text)
        verdict, _ = stats.compare([10, 11, 10], [20, 22, 21], "contrast", "random")
        self.assertEqual(verdict, "worse")
        verdict, text = stats.compare([10, 30], [20, 15], "contrast", "none")
        self.assertEqual(verdict, "inconclusive")
        self.assertIn("includes 0", text)
        verdict, text = stats.compare([12], [10], "contrast", "none")
        self.assertEqual(verdict, "inconclusive")
        self.assertIn("single seed", text)


class PreliminaryReportTest(unittest.TestCase):
    def test_baseline_rows_are_the_evaluations(self):
        def scores(em, f1):
            return {"em": em, "f1": f1, "questions": 10}

        before = {"city": scores(0.1, 0.25), "date": scores(0.0, 0.5),
                  "overall": scores(0.05, 0.375)}
        base = {"before": before}
        for key in ("small_qa_people", "small_bio_only_people", "large_qa_people",
                    "large_bio_only_people"):
            base[key] = {"overall": scores(0.5, 0.6)}
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "report.md")
            report.write_preliminary(path, config.PRESETS["quick"], base)
            with open(path) as f:
                text = f.read()
        self.assertIn("in progress", text)
        em_section = text.split("## QA exact match", 1)[1].split("##", 1)[0]
        header = next(line for line in em_section.splitlines() if line.startswith("| mode"))
        row = next(line for line in em_section.splitlines()
                   if line.startswith("| before training"))
        fields = [c.strip() for c in header.strip("|").split("|")][1:]
        cells = [c.strip() for c in row.strip("|").split("|")][1:]
        self.assertEqual(fields, ["date", "city", "overall"])  # the paper's order, overall last
        for field, cell in zip(fields, cells):
            self.assertAlmostEqual(float(cell), 100 * before[field]["em"], places=1)
        f1_row = text.split("## QA F1", 1)[1].split("| before training |", 1)[1].split("\n")[0]
        self.assertEqual([float(c) for c in f1_row.strip(" |").split("|")],
                         [100 * before[f]["f1"] for f in fields])


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", required=True)
    parser.add_argument("--paper-data", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], "-v", *rest])


if __name__ == "__main__":
    main()

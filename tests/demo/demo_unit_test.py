#!/usr/bin/env python3
"""The demo's data, tokenizer and statistics against independent oracles.

- bios: names unique and disjoint between populations, every fact tagged
  exactly once and equal to the person's, templates and permutation vary,
  the CSVs read back (Python csv) to the same texts.
- tokenizer_build: Hugging Face `tokenizers` loads the tokenizer.json and
  encodes every demo text without <unk> and decodes it back exactly; the
  C++ runtime (`cluedrop tokenize`) gives the same ids as `tokenizers` on
  biographies, QA text, blanked (augmented) text and the paper's files.
- stats: per-person cells give the question mean; bootstrap intervals stay
  in [0, 100] and match binomial theory in width; pairing removes what two
  modes share; compare() only claims what the interval supports; the power
  estimate recovers known variance components and agrees with the normal
  formula computed in the test.
- numerics: the settings' variables, and that they override the shell's.
- config: the dropout modes' epochs give equal steps.

Usage: demo_unit_test.py --cli PATH/cluedrop --paper-data DIR
"""
import argparse
import dataclasses
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np

from cluedrop_demo import bios, config, data, numerics, report, stats, tokenizer_build

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
            # The tuning people: as many as configured, new to everyone.
            tune = {m for t in data.read_texts(ds.tune_bios)
                    for m in re.findall(r"<name>(.*?)</name>", t)}
            self.assertEqual(len(tune), cfg.tune_people)
            self.assertFalse(tune & (evaluated | reference))
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
            paper_people = {m for t in data.read_texts(ds.eval_bios)
                            for m in re.findall(r"<name>(.*?)</name>", t)}
            tune = {m for t in data.read_texts(ds.tune_bios)
                    for m in re.findall(r"<name>(.*?)</name>", t)}
            self.assertEqual(len(tune), cfg.tune_people)
            self.assertFalse(tune & paper_people)
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

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

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


def questions(rates, people=100, fields=6, rng=None):
    """One run's [subject, field, em, f1] list: person i answers each
    question right with probability rates[i % len(rates)]."""
    rng = rng or random.Random(0)
    return [[f"p{i}", f"f{j}", float(rng.random() < rates[i % len(rates)]), 0.5]
            for i in range(people) for j in range(fields)]


class StatsTest(unittest.TestCase):
    def test_cells_are_question_means_per_person(self):
        run = [["ann", "city", 1.0, 1.0], ["ann", "date", 0.0, 0.5], ["bob", "city", 1.0, 1.0]]
        c = stats.cells([run])
        self.assertEqual(c.counts.tolist(), [2, 1])
        self.assertEqual(c.sums.tolist(), [[100.0, 100.0]])
        self.assertAlmostEqual(stats.level(c).mean, 200 / 3)  # the question mean
        self.assertEqual(stats.cells([run], field="city").counts.tolist(), [1, 1])
        self.assertEqual(stats.cells([run], metric="f1").sums.tolist(), [[150.0, 100.0]])
        with self.assertRaises(ValueError):
            stats.cells([run, run[:2]])  # other questions in another seed

    def test_intervals_stay_inside_0_100(self):
        # Two seeds of near-floor scores: the t interval of the old report
        # went below zero here; a bootstrap of means of [0, 100] cannot.
        rng = random.Random(3)
        runs = [questions([0.02], rng=rng), questions([0.2], rng=rng)]
        iv = stats.level(stats.cells(runs))
        self.assertGreaterEqual(iv.low, 0.0)
        self.assertLessEqual(iv.high, 100.0)
        self.assertLessEqual(iv.low, iv.mean)
        self.assertLessEqual(iv.mean, iv.high)
        wider = stats.level(stats.cells(runs), confidence=0.99)
        self.assertLess(wider.low, iv.low)
        self.assertGreater(wider.high, iv.high)
        all_right = stats.level(stats.cells([questions([1.0])] * 2))
        self.assertEqual((all_right.low, all_right.high), (100.0, 100.0))

    def test_bootstrap_width_matches_binomial_theory(self):
        # One seed, 2000 people with one question each at p = 0.3: the
        # interval's half-width is 1.96 * sqrt(p (1 - p) / n) (the oracle).
        run = questions([0.3], people=2000, fields=1, rng=random.Random(5))
        iv = stats.level(stats.cells([run]))
        p = iv.mean / 100
        half = 100 * 1.959964 * math.sqrt(p * (1 - p) / 2000)
        self.assertAlmostEqual((iv.high - iv.low) / 2, half, delta=0.1 * half)

    def test_pairing_removes_what_the_modes_share(self):
        # B answers what A answers except for one question in ten: the
        # paired interval of A - B is far narrower than either level's.
        rng = random.Random(7)
        a = questions([0.1, 0.5, 0.9], rng=rng)
        b = [q[:2] + [0.0 if (k % 10 == 0) else q[2], q[3]] for k, q in enumerate(a)]
        ia, ib = stats.level(stats.cells([a])), stats.level(stats.cells([b]))
        iv = stats.paired(stats.cells([a]), stats.cells([b]))
        self.assertAlmostEqual(iv.mean, ia.mean - ib.mean)
        self.assertLess(iv.high - iv.low, 0.5 * (ia.high - ia.low))
        self.assertGreater(iv.low, 0)

    def test_compare_claims_only_what_the_interval_supports(self):
        rng = random.Random(11)
        high = stats.cells([questions([0.6], rng=rng) for _ in range(3)])
        low = stats.cells([questions([0.2], rng=rng) for _ in range(3)])
        kind, text, _ = stats.compare(high, low, "contrast", "random")
        self.assertEqual(kind, "better")
        self.assertIn("contrast beat random", text)
        kind, _, _ = stats.compare(low, high, "contrast", "random")
        self.assertEqual(kind, "worse")
        same = stats.cells([questions([0.3], rng=rng) for _ in range(3)])
        kind, text, iv = stats.compare(same, same, "contrast", "none")
        self.assertEqual(kind, "inconclusive")
        self.assertIn("includes 0", text)
        self.assertEqual((iv.low, iv.high), (0.0, 0.0))

    def test_power_recovers_known_variance_components(self):
        # d[s, p] = 2 + person (sd 4) + seed (sd 3) + residual (sd 10):
        # the ANOVA estimates come back within sampling error, and
        # seeds_for agrees with the normal-theory formula done here.
        rng = np.random.default_rng(13)
        seeds, people = 40, 400
        d = (2 + rng.normal(0, 4, people)[None, :] + rng.normal(0, 3, seeds)[:, None] +
             rng.normal(0, 10, (seeds, people)))
        zero = stats.Cells(np.zeros((seeds, people)), np.ones(people))
        pw = stats.power(stats.Cells(d, np.ones(people)), zero)
        self.assertAlmostEqual(pw.sd_person, 4, delta=0.8)
        self.assertAlmostEqual(pw.sd_seed, 3, delta=0.9)
        self.assertAlmostEqual(pw.sd_residual, 10, delta=0.3)
        target = 5 / (1.959964 + 0.841621)
        want = next(n for n in range(1, 100)
                    if math.sqrt(pw.sd_person ** 2 / people + pw.sd_seed ** 2 / n +
                                 pw.sd_residual ** 2 / (people * n)) <= target)
        self.assertEqual(pw.seeds_for(5), want)
        self.assertAlmostEqual(pw.detectable(want), 2.801585 * pw.standard_error(want))
        huge_people = stats.Power(sd_person=60, sd_seed=0, sd_residual=0, people=100)
        self.assertIsNone(huge_people.seeds_for(5))  # more seeds cannot help
        with self.assertRaises(ValueError):
            stats.power(stats.Cells(d[:1], np.ones(people)), stats.Cells(d[:1], np.ones(people)))


class ActSentenceTest(unittest.TestCase):
    """report.act_sentence states what the intervals support and what to
    do next, on grids with known differences."""

    def grid(self, rates, seeds=(1, 2), people=100):
        rng = random.Random(17)
        return [{"mode": mode, "seed": seed, "questions": questions([rate], people, rng=rng)}
                for seed in seeds for mode, rate in rates.items()]

    def sentence(self, runs, modes, seeds=(1, 2)):
        return report.act_sentence(runs, report.comparisons(runs, modes, list(seeds)),
                                   list(seeds))

    def test_a_clear_difference_is_stated_with_its_bonferroni_status(self):
        runs = self.grid({"none": 0.40, "random": 0.40, "contrast": 0.10})
        text = self.sentence(runs, ["none", "random", "contrast"])
        self.assertIn("contrast did worse than none", text)
        self.assertIn("also at the Bonferroni level", text)

    def test_equal_modes_are_bounded_not_claimed(self):
        runs = self.grid({"none": 0.10, "random": 0.10, "contrast": 0.10}, people=400)
        text = self.sentence(runs, ["none", "random", "contrast"])
        self.assertIn("No comparison excludes 0", text)
        self.assertIn("do not differ by 5 points", text)

    def test_an_unresolved_grid_asks_for_more_seeds_or_people(self):
        # 10 people: intervals far wider than 5 points.
        runs = self.grid({"none": 0.30, "contrast": 0.35}, people=10)
        text = self.sentence(runs, ["none", "contrast"])
        self.assertIn("No comparison excludes 0", text)
        self.assertTrue("--seeds" in text or "more evaluated people" in text, text)


class FreePortTest(unittest.TestCase):
    """cluedrop_local.free_port (the demo's cluster harness) draws from below
    the kernel's ephemeral range, so a daemon listening on port 0 cannot be
    given a port picked for another listener and not bound yet."""

    def test_ports_are_free_and_outside_the_ephemeral_range(self):
        import socket

        from cluedrop_local import ports
        low, _ = ports.ephemeral_range()
        picked = {ports.free_port() for _ in range(50)}
        self.assertTrue(all(p < low for p in picked), sorted(picked)[-3:])
        self.assertGreater(len(picked), 40)  # random, not one port again and again
        with socket.socket() as held:
            held.bind(("127.0.0.1", 0))
            held.listen()
            taken = held.getsockname()[1]
            for _ in range(20):
                self.assertNotEqual(ports.free_port(), taken)

    def test_a_taken_candidate_is_skipped(self):
        import socket

        from cluedrop_local import ports
        first = ports.free_port(rng=random.Random(5))
        with socket.socket() as held:
            held.bind(("127.0.0.1", first))
            held.listen()
            self.assertNotEqual(ports.free_port(rng=random.Random(5)), first)


class NumericsTest(unittest.TestCase):
    def test_settings(self):
        pinned = numerics.environment("pinned", flags={"avx2", "fma", "avx512f"})
        self.assertEqual(pinned["ATEN_CPU_CAPABILITY"], "avx2")
        self.assertEqual(pinned["MKL_CBWR"], "AUTO")
        portable = numerics.environment("portable", flags={"avx2", "fma"})
        self.assertEqual(portable["MKL_CBWR"], "COMPATIBLE")
        self.assertEqual(numerics.environment("pinned", flags={"sse2"})["ATEN_CPU_CAPABILITY"],
                         "default")
        with self.assertRaises(ValueError):
            numerics.environment("fast")

    def test_apply_overrides_and_clears_the_shell(self):
        saved = dict(os.environ)
        try:
            os.environ.update(ATEN_CPU_CAPABILITY="avx512", MKL_CBWR="AVX512",
                              MKL_ENABLE_INSTRUCTIONS="AVX512")
            env = numerics.apply("portable")
            self.assertEqual(os.environ["MKL_CBWR"], "COMPATIBLE")
            self.assertEqual(os.environ["ATEN_CPU_CAPABILITY"], env["ATEN_CPU_CAPABILITY"])
            self.assertNotIn("MKL_ENABLE_INSTRUCTIONS", os.environ)
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def test_epochs_per_mode(self):
        default = config.PRESETS["default"]
        self.assertEqual(default.epochs_for("none"), default.epochs)
        self.assertEqual(default.epochs_for("random"), default.random_epochs)
        for mode in ("large", "small", "contrast", "position"):
            self.assertEqual(default.epochs_for(mode), default.ranked_epochs)
        self.assertEqual(default.lr_for("random"), default.random_lr)
        self.assertEqual(default.lr_for("small"), default.ranked_lr)
        equal = dataclasses.replace(default, random_epochs=None, ranked_epochs=None, ranked_lr=None)
        self.assertEqual(equal.epochs_for("contrast"), round(default.epochs / (default.copies + 1)))
        self.assertEqual(equal.lr_for("contrast"), default.learning_rate)
        every = default.with_schedule(epochs=9, learning_rate=3e-4, dropout_epochs=2)
        self.assertEqual([every.epochs_for(m) for m in ("none", "random", "contrast")], [9, 2, 2])
        self.assertEqual({every.lr_for(m) for m in config.MODES_ALL}, {3e-4})
        self.assertNotEqual(default.reference_key("k"),
                            dataclasses.replace(default, numerics="portable").reference_key("k"))


class PreliminaryReportTest(unittest.TestCase):
    def test_baseline_rows_are_the_evaluations(self):
        def scores(em, f1):
            return {"em": em, "f1": f1, "questions": 10}

        before = {"city": scores(0.1, 0.25), "date": scores(0.0, 0.5),
                  "overall": scores(0.05, 0.375)}
        base = {"before": before}  # no per-question list: the plain figures
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

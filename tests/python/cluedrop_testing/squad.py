"""The official SQuAD v1.1 metric, re-implemented: the independent oracle
for cluedrop's QA evaluation (tests/oracle/check_qa_metrics.py,
check_eval_memorized.py, tests/demo/demo_quick_test.py).

normalize_answer, f1_score, exact_match_score and
metric_max_over_ground_truths follow the official evaluate script, which
the paper's evaluate.py uses through the `datasets` "squad" metric, on
Python str: the reference semantics for lowercasing, \\b and whitespace.

Example:
    em, f1 = oracle_scores("the Cat sat", ["cat sat"])  # (1.0, 1.0)
"""

import re
import string
from collections import Counter
from collections.abc import Callable, Sequence


def normalize_answer(s: str) -> str:
    """Lower text and remove punctuation, articles and extra whitespace."""

    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def f1_score(prediction: str, ground_truth: str) -> float:
    """Token-overlap F1 of the normalised texts."""
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def exact_match_score(prediction: str, ground_truth: str) -> bool:
    """Whether the normalised texts are equal."""
    return normalize_answer(prediction) == normalize_answer(ground_truth)


def metric_max_over_ground_truths(metric_fn: Callable[[str, str], float],
                                  prediction: str, ground_truths: Sequence[str]) -> float:
    """The best score of `prediction` against any of the answers."""
    return max(metric_fn(prediction, gt) for gt in ground_truths)


def oracle_scores(prediction: str, answers: Sequence[str]) -> tuple[float, float]:
    """(EM, F1) of `prediction` against the gold `answers`; (0, 0) for none."""
    if not answers:
        return 0.0, 0.0
    em = float(metric_max_over_ground_truths(exact_match_score, prediction, answers))
    f1 = float(metric_max_over_ground_truths(f1_score, prediction, answers))
    return em, f1

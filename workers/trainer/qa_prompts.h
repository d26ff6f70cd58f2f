// Few-shot QA prompts in the format of the paper's evaluate.py (Gao et al.,
// AAAI 2025): for a question about `subject` on `field` with template T,
//
//   T(shot_1) + " " + answer_1 + "\n\n" + ... + T(shot_K) + " " + answer_K
//   + "\n\n" + T(subject)
//
// where T(x) is the template with {name} = x. With the paper's prompts.csv
// a prompt reads "What is the birth date of Isaac Newton?\nAnswer: January 4,
// 1643\n\n...\n\nWhat is the birth date of Liam Thompson?\nAnswer:" and the
// model's continuation up to its first newline is the answer
// (ExtractQaAnswer). FormatQaPrompt is the one place that fixes this format.
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(std::vector<QaQuestion> questions,
//                             BuildQaQuestions(table, pool, items, {.shots = 5}));
//   // questions[0].prompt, questions[0].answers
#ifndef CLUEDROP_WORKERS_TRAINER_QA_PROMPTS_H_
#define CLUEDROP_WORKERS_TRAINER_QA_PROMPTS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "corpus/field_tags.h"
#include "workers/trainer/qa_fewshot.h"
#include "workers/trainer/qa_prompt_table.h"

namespace cluedrop::trainer {

struct QaPromptOptions {
  uint32_t shots = 5;  // worked examples per prompt (EvaluationSpec.shots)
  uint64_t seed = 0;   // keys the few-shot draw (qa_fewshot.h)
};

// One question: the prompt the model continues and the gold answers.
struct QaQuestion {
  std::string subject;               // the person, e.g. "Liam Thompson"
  std::string field;                 // e.g. "date"
  std::vector<std::string> answers;  // gold answers (distinct), at least one
  std::string prompt;
};

// The paper's prompt text (see the file comment).
std::string FormatQaPrompt(std::string_view template_text, const std::vector<QaShot>& shots,
                           std::string_view subject);

// One question per (subject, field of `table`) that has an answer in
// `items`, ordered by table field, then by first appearance of the subject
// (the paper's loop order). Every answer a subject has for a field counts as
// a gold answer. Items without a subject, and fields the table has no prompt
// for, are skipped. Fails with INVALID_ARGUMENT when `pool` has too few
// people for a field (QaFewShotPool::Draw).
StatusOr<std::vector<QaQuestion>> BuildQaQuestions(const QaPromptTable& table,
                                                   const QaFewShotPool& pool,
                                                   const std::vector<corpus::QaItem>& items,
                                                   const QaPromptOptions& options);

// The answer in a generated continuation: the text before the first "\n",
// without leading and trailing ASCII whitespace.
std::string ExtractQaAnswer(std::string_view generated);

// The QA items of a tagged biography file (CSV, JSONL or text, read by
// corpus::ReadDocuments with strict field tags), from its first
// `max_documents` documents (0: all). INVALID_ARGUMENT "path:line: ..." for
// a malformed tag or a document with field tags but no <name>; the file's
// own errors otherwise (NOT_FOUND when missing).
StatusOr<std::vector<corpus::QaItem>> ReadQaItems(const std::string& path,
                                                  size_t max_documents = 0);

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_QA_PROMPTS_H_

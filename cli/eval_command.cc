// `cluedrop eval`: the paper's fact-memorization QA (docs/evaluation.md) of a
// Hugging Face checkpoint on tagged biographies: few-shot prompts from
// --prompts and --fewshot, greedy answers, SQuAD exact match and token F1
// per field and overall, as a table or JSON.
//
// Exit codes: 0 done, 1 the model failed (load or generation), 2 bad flags or
// bad input (messages name file:line).
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/cli.h"
#include "runtime/flags.h"
#include "workers/model/text_generator.h"
#include "workers/trainer/qa_evaluation.h"

namespace cluedrop::cli {
namespace {

// The model runtime's one-prompt-at-a-time greedy generator as a QaGenerator.
class TextGeneratorAdapter : public trainer::QaGenerator {
 public:
  explicit TextGeneratorAdapter(std::unique_ptr<model::TextGenerator> generator)
      : generator_(std::move(generator)) {}

  StatusOr<std::vector<std::string>> Generate(const std::vector<std::string>& prompts,
                                              int64_t max_new_tokens) override {
    std::vector<std::string> out;
    for (const std::string& prompt : prompts) {
      CLUEDROP_ASSIGN_OR_RETURN(model::GeneratedText text,
                                generator_->Generate(prompt, max_new_tokens));
      out.push_back(std::move(text.text));
    }
    return out;
  }

 private:
  std::unique_ptr<model::TextGenerator> generator_;
};

struct EvalFlags {
  std::string model_dir, data, prompts, fewshot;
  uint32_t limit = 0;
  bool json = false;
  model::TextGeneratorOptions model;
  trainer::QaEvalOptions eval;
};

// Reads the three inputs and builds the questions; errors are bad input.
StatusOr<std::vector<trainer::QaQuestion>> LoadQuestions(const EvalFlags& f) {
  CLUEDROP_ASSIGN_OR_RETURN(trainer::QaPromptTable table, trainer::ReadQaPromptTable(f.prompts));
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<corpus::QaItem> pool, trainer::ReadQaItems(f.fewshot));
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<corpus::QaItem> items,
                            trainer::ReadQaItems(f.data, f.limit));
  std::map<std::string, size_t> unprompted;
  for (const corpus::QaItem& item : items) {
    if (table.Find(item.field) == nullptr) ++unprompted[item.field];
  }
  for (const auto& [field, count] : unprompted) {
    std::cerr << "cluedrop eval: note: " << f.prompts << " has no prompt for field \"" << field
              << "\"; its " << count << " item(s) in " << f.data << " are not asked" << std::endl;
  }
  StatusOr<std::vector<trainer::QaQuestion>> questions =
      trainer::BuildQaQuestions(table, trainer::QaFewShotPool(pool), items, f.eval.prompts);
  if (!questions.ok()) return questions.status().Annotated(f.fewshot);
  if (questions->empty()) {
    return InvalidArgumentError(f.data + ": no questions: no field tag of its documents has a " +
                                "prompt in " + f.prompts);
  }
  return questions;
}

void PrintTable(const std::vector<trainer::QaFieldScore>& fields) {
  std::printf("%-16s %9s %6s %6s\n", "FIELD", "QUESTIONS", "EM%", "F1%");
  for (const trainer::QaFieldScore& s : fields) {
    std::printf("%-16s %9u %6.1f %6.1f\n", s.field.c_str(), s.questions, 100 * s.exact_match,
                100 * s.f1);
  }
  std::fflush(stdout);
}

void PrintJson(const EvalFlags& f, const trainer::QaEvalResult& result) {
  nlohmann::ordered_json j;
  j["model"] = f.model_dir;
  j["data"] = f.data;
  j["shots"] = f.eval.prompts.shots;
  j["seed"] = f.eval.prompts.seed;
  j["max_new_tokens"] = f.eval.max_new_tokens;
  nlohmann::ordered_json fields = nlohmann::ordered_json::array();
  for (const trainer::QaFieldScore& s : result.fields) {
    fields.push_back({{"field", s.field},
                      {"questions", s.questions},
                      {"exact_match", s.exact_match},
                      {"f1", s.f1}});
  }
  j["fields"] = std::move(fields);
  nlohmann::ordered_json predictions = nlohmann::ordered_json::array();
  for (const trainer::QaPrediction& p : result.predictions) {
    predictions.push_back({{"subject", p.question.subject},
                           {"field", p.question.field},
                           {"answers", p.question.answers},
                           {"prediction", p.prediction},
                           {"generated", p.generated},
                           {"exact_match", p.score.exact_match},
                           {"f1", p.score.f1},
                           {"prompt", p.question.prompt}});
  }
  j["predictions"] = std::move(predictions);
  // Undertrained models can emit partial UTF-8: replace, never throw.
  std::cout << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
            << std::endl;
}

}  // namespace

int RunEval(const std::vector<std::string>& args) {
  EvalFlags f;
  FlagSet flags("cluedrop eval",
                "asks the checkpoint in --model one few-shot question per field of --prompts about "
                "every person of --data (the paper's evaluation, docs/evaluation.md), answers "
                "greedily, and prints SQuAD exact match and token F1 per field and overall "
                "(a table, or JSON with every prediction with --json). Exit 2 on bad input.");
  flags
      .Add("model", &f.model_dir,
           "checkpoint directory (config.json, *.safetensors, tokenizer.json)")
      .Required();
  flags
      .Add("data", &f.data, "people to ask about: biographies with field tags (.csv, .jsonl, text)")
      .Required();
  flags
      .Add("prompts", &f.prompts,
           "prompt table CSV: columns field, prompt (or template) with {name}")
      .Required();
  flags
      .Add("fewshot", &f.fewshot,
           "few-shot pool: biographies with field tags (paper: biography_real.csv)")
      .Required();
  flags.Add("shots", &f.eval.prompts.shots, "worked examples per prompt");
  flags.Add("seed", &f.eval.prompts.seed, "seed of the few-shot draw");
  flags.Add("max_new_tokens", &f.eval.max_new_tokens, "greedy tokens per answer");
  flags.Add("limit", &f.limit, "ask only about the first N documents of --data (0: all)");
  flags.Add("device", &f.model.device, "cpu, cuda or cuda:N");
  flags.Add("dtype", &f.model.dtype, "float32, bfloat16 or float16");
  flags.Add("json", &f.json, "print JSON: settings, fields, and every prediction with its prompt");
  if (std::optional<int> exit = ParseFlagsOrExit(flags, args)) return *exit;
  if (f.eval.max_new_tokens < 1) {
    std::cerr << "cluedrop eval: --max_new_tokens must be at least 1" << std::endl;
    return kExitUsage;
  }

  StatusOr<std::vector<trainer::QaQuestion>> questions = LoadQuestions(f);
  if (!questions.ok()) {
    std::cerr << "cluedrop eval: " << questions.status().message() << std::endl;
    return kExitUsage;
  }
  auto generator = model::TextGenerator::Load(f.model_dir, f.model);
  if (!generator.ok()) {
    std::cerr << "cluedrop eval: " << generator.status().message() << std::endl;
    return kExitFailure;
  }
  TextGeneratorAdapter adapter(std::move(*generator));
  f.eval.progress = [](size_t done, size_t total) {
    std::cerr << "cluedrop eval: " << done << "/" << total << " questions" << std::endl;
  };
  StatusOr<trainer::QaEvalResult> result = trainer::EvaluateQa(adapter, *questions, f.eval);
  if (!result.ok()) {
    std::cerr << "cluedrop eval: " << result.status().message() << std::endl;
    return kExitFailure;
  }
  if (f.json) {
    PrintJson(f, *result);
  } else {
    PrintTable(result->fields);
  }
  return kExitOk;
}

}  // namespace cluedrop::cli

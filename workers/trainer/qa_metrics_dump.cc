// Test tool for tests/oracle/check_qa_metrics.py: reads JSON lines
// {"prediction": str, "answers": [str, ...]} on stdin and writes, per line,
// {"normalized": NormalizeAnswer(prediction), "tokens": AnswerTokens(prediction),
//  "exact_match": x, "f1": y} (ScoreAnswer over the answers) on stdout.
// Exit 0, or 1 on a malformed line (message on stderr).
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "workers/trainer/qa_metrics.h"

int main() {
  using cluedrop::trainer::AnswerTokens;
  using cluedrop::trainer::NormalizeAnswer;
  using cluedrop::trainer::ScoreAnswer;
  std::string line;
  for (size_t line_no = 1; std::getline(std::cin, line); ++line_no) {
    nlohmann::json in = nlohmann::json::parse(line, nullptr, false);
    if (in.is_discarded() || !in.contains("prediction") || !in["prediction"].is_string() ||
        !in.contains("answers") || !in["answers"].is_array()) {
      std::cerr << "qa_metrics_dump: stdin:" << line_no << ": bad line" << std::endl;
      return 1;
    }
    const std::string prediction = in["prediction"].get<std::string>();
    const auto answers = in["answers"].get<std::vector<std::string>>();
    const cluedrop::trainer::QaScore score = ScoreAnswer(prediction, answers);
    nlohmann::json out;
    out["normalized"] = NormalizeAnswer(prediction);
    out["tokens"] = AnswerTokens(prediction);
    out["exact_match"] = score.exact_match;
    out["f1"] = score.f1;
    std::cout << out.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace) << "\n";
  }
  return 0;
}

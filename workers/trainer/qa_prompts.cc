#include "workers/trainer/qa_prompts.h"

#include <algorithm>
#include <map>
#include <utility>

#include "corpus/document_reader.h"

namespace cluedrop::trainer {

std::string FormatQaPrompt(std::string_view template_text, const std::vector<QaShot>& shots,
                           std::string_view subject) {
  std::string prompt;
  for (const QaShot& shot : shots) {
    prompt += FillQaTemplate(template_text, shot.subject);
    prompt += ' ';
    prompt += shot.answer;
    prompt += "\n\n";
  }
  prompt += FillQaTemplate(template_text, subject);
  return prompt;
}

StatusOr<std::vector<QaQuestion>> BuildQaQuestions(const QaPromptTable& table,
                                                   const QaFewShotPool& pool,
                                                   const std::vector<corpus::QaItem>& items,
                                                   const QaPromptOptions& options) {
  // subject -> field -> distinct answers; subjects in first-seen order.
  std::vector<std::string> subjects;
  std::map<std::string, std::map<std::string, std::vector<std::string>>> facts;
  for (const corpus::QaItem& item : items) {
    if (item.subject.empty()) continue;
    auto [it, inserted] = facts.try_emplace(item.subject);
    if (inserted) subjects.push_back(item.subject);
    std::vector<std::string>& answers = it->second[item.field];
    if (std::find(answers.begin(), answers.end(), item.answer) == answers.end()) {
      answers.push_back(item.answer);
    }
  }
  std::vector<QaQuestion> questions;
  for (const QaPrompt& prompt : table.prompts) {
    for (const std::string& subject : subjects) {
      const auto& fields = facts.at(subject);
      auto answers = fields.find(prompt.field);
      if (answers == fields.end()) continue;
      CLUEDROP_ASSIGN_OR_RETURN(std::vector<QaShot> shots,
                                pool.Draw(prompt.field, subject, options.shots, options.seed));
      questions.push_back(
          {subject, prompt.field, answers->second, FormatQaPrompt(prompt.text, shots, subject)});
    }
  }
  return questions;
}

std::string ExtractQaAnswer(std::string_view generated) {
  std::string_view answer = generated.substr(0, generated.find('\n'));
  constexpr std::string_view kSpace = " \t\r\v\f";
  const size_t begin = answer.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return "";
  return std::string(answer.substr(begin, answer.find_last_not_of(kSpace) - begin + 1));
}

StatusOr<std::vector<corpus::QaItem>> ReadQaItems(const std::string& path, size_t max_documents) {
  corpus::ReadOptions read;
  read.field_tags = true;
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<corpus::Document> docs, corpus::ReadDocuments(path, read));
  if (max_documents > 0 && docs.size() > max_documents) docs.resize(max_documents);
  std::vector<corpus::QaItem> items;
  for (corpus::Document& doc : docs) {
    for (corpus::QaItem& item : doc.qa_items) {
      if (item.subject.empty()) {
        return InvalidArgumentError(path + ":" + std::to_string(doc.line) + ": field tag <" +
                                    item.field + "> in a document without a <name> tag");
      }
      items.push_back(std::move(item));
    }
  }
  return items;
}

}  // namespace cluedrop::trainer

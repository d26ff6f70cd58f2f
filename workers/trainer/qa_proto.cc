#include "workers/trainer/qa_proto.h"

namespace cluedrop::trainer {

std::vector<corpus::QaItem> QaItemsFromProto(
    const google::protobuf::RepeatedPtrField<v1::QaItem>& items) {
  std::vector<corpus::QaItem> out;
  out.reserve(items.size());
  for (const v1::QaItem& item : items) out.push_back({item.subject(), item.field(), item.answer()});
  return out;
}

void AppendFieldScores(const std::vector<QaFieldScore>& scores,
                       google::protobuf::RepeatedPtrField<v1::FieldScore>* out) {
  for (const QaFieldScore& score : scores) {
    v1::FieldScore* field = out->Add();
    field->set_field(score.field);
    field->set_questions(score.questions);
    field->set_exact_match(score.exact_match);
    field->set_f1(score.f1);
  }
}

}  // namespace cluedrop::trainer

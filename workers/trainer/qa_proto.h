// Conversions between the torch- and proto-free QA evaluation types and the
// wire messages: v1::QaItem (scored shards carry them) -> corpus::QaItem,
// and QaFieldScore -> v1::FieldScore (EvaluationResult.fields). Lives apart
// from the QA core so that the core builds without protobuf.
//
// Example:
//   std::vector<corpus::QaItem> items = QaItemsFromProto(scored_doc.qa_items());
//   v1::EvaluationResult result;
//   AppendFieldScores(eval.fields, result.mutable_fields());
#ifndef CLUEDROP_WORKERS_TRAINER_QA_PROTO_H_
#define CLUEDROP_WORKERS_TRAINER_QA_PROTO_H_

#include <google/protobuf/repeated_ptr_field.h>

#include <vector>

#include "cluedrop/v1/job.pb.h"
#include "cluedrop/v1/scored.pb.h"
#include "corpus/field_tags.h"
#include "workers/trainer/qa_metrics.h"

namespace cluedrop::trainer {

// Field-for-field copies (subject, field, answer), in order.
std::vector<corpus::QaItem> QaItemsFromProto(
    const google::protobuf::RepeatedPtrField<v1::QaItem>& items);

// Appends one FieldScore per entry (field, questions, exact_match, f1).
void AppendFieldScores(const std::vector<QaFieldScore>& scores,
                       google::protobuf::RepeatedPtrField<v1::FieldScore>* out);

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_QA_PROTO_H_

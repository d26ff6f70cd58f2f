// The few-shot pool: people whose facts serve as worked examples in QA
// prompts (the paper uses biography_real.csv), and the deterministic draw of
// K examples for one question.
//
// The draw is a pure function of (seed, field, evaluated subject, pool): a
// SplitMix64 stream keyed by those values runs a partial
// Fisher-Yates shuffle over the pool people that have the field, the
// evaluated subject excluded. A question therefore gets the same shots
// whatever else is evaluated, in whatever order or shard. (The paper's
// script calls Python's random.sample(pool, 5) once per question from one
// seeded stream and does not exclude the subject; its pool and evaluated
// people are disjoint.)
//
// Example:
//   QaFewShotPool pool(real_people_items);
//   CLUEDROP_ASSIGN_OR_RETURN(std::vector<QaShot> shots,
//                             pool.Draw("date", "Liam Thompson", 5, /*seed=*/0));
//
// Immutable after construction; Draw is thread-safe.
#ifndef CLUEDROP_WORKERS_TRAINER_QA_FEWSHOT_H_
#define CLUEDROP_WORKERS_TRAINER_QA_FEWSHOT_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "corpus/field_tags.h"

namespace cluedrop::trainer {

// One worked example: the template filled with `subject`, then `answer`.
struct QaShot {
  std::string subject;
  std::string answer;
};

class QaFewShotPool {
 public:
  // Every (subject, field) keeps the answer of its first item; items without
  // a subject are ignored. People keep their first-seen order.
  explicit QaFewShotPool(const std::vector<corpus::QaItem>& items);

  // Distinct people who have an answer for `field`, in pool order.
  size_t PeopleWithField(std::string_view field) const;

  // `k` shots for the question (field, subject), in draw order: distinct
  // pool people that have `field` and are not `subject`. INVALID_ARGUMENT
  // when fewer than `k` such people exist.
  StatusOr<std::vector<QaShot>> Draw(std::string_view field, std::string_view subject, uint32_t k,
                                     uint64_t seed) const;

 private:
  // field -> shots (subject, answer) in pool order.
  std::map<std::string, std::vector<QaShot>, std::less<>> by_field_;
};

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_QA_FEWSHOT_H_

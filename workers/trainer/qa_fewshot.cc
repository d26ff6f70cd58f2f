#include "workers/trainer/qa_fewshot.h"

#include <utility>

namespace cluedrop::trainer {
namespace {

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ULL;
  }
  return h;
}

}  // namespace

QaFewShotPool::QaFewShotPool(const std::vector<corpus::QaItem>& items) {
  for (const corpus::QaItem& item : items) {
    if (item.subject.empty()) continue;
    std::vector<QaShot>& people = by_field_[item.field];
    bool seen = false;
    for (const QaShot& shot : people) seen = seen || shot.subject == item.subject;
    if (!seen) people.push_back({item.subject, item.answer});
  }
}

size_t QaFewShotPool::PeopleWithField(std::string_view field) const {
  auto it = by_field_.find(field);
  return it == by_field_.end() ? 0 : it->second.size();
}

StatusOr<std::vector<QaShot>> QaFewShotPool::Draw(std::string_view field, std::string_view subject,
                                                  uint32_t k, uint64_t seed) const {
  std::vector<const QaShot*> candidates;
  if (auto it = by_field_.find(field); it != by_field_.end()) {
    for (const QaShot& shot : it->second) {
      if (shot.subject != subject) candidates.push_back(&shot);
    }
  }
  if (candidates.size() < k) {
    return InvalidArgumentError("the few-shot pool has " + std::to_string(candidates.size()) +
                                " people with field \"" + std::string(field) + "\" besides \"" +
                                std::string(subject) + "\", fewer than the " + std::to_string(k) +
                                " shots asked for");
  }
  // Key the stream by (seed, field, subject), mixing in one input per step.
  uint64_t state = seed;
  state = SplitMix64(&state) ^ Fnv1a64(field);
  state = SplitMix64(&state) ^ Fnv1a64(subject);
  std::vector<QaShot> shots;
  shots.reserve(k);
  for (uint32_t i = 0; i < k; ++i) {
    const size_t j = i + SplitMix64(&state) % (candidates.size() - i);
    std::swap(candidates[i], candidates[j]);
    shots.push_back(*candidates[i]);
  }
  return shots;
}

}  // namespace cluedrop::trainer

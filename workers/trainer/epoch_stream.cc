#include "workers/trainer/epoch_stream.h"

#include <string>

namespace cluedrop::trainer {

int64_t SamplesPerDocument(const AugmentationOptions& a) {
  if (a.mode == AugmentMode::kNone) return 1;
  return (a.keep_original ? 1 : 0) + static_cast<int64_t>(a.copies);
}

StatusOr<std::optional<std::vector<int64_t>>> EpochStream::Next() {
  while (true) {
    CLUEDROP_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) return std::optional<std::vector<int64_t>>();
    Pending sample = Pop();
    if (!sample.first.empty()) {
      dropped_ += sample.second.first;
      droppable_ += sample.second.second;
      return std::optional<std::vector<int64_t>>(
          std::vector<int64_t>(sample.first.begin(), sample.first.end()));
    }
  }
}

Status EpochStream::Skip(int64_t count) {
  while (count > 0) {
    if (shuffle_buffer_ == 0 && pending_.empty()) {
      CLUEDROP_ASSIGN_OR_RETURN(const ScoredDocument* doc, NextDocument());
      if (doc == nullptr) return PastTheEnd(count);
      if (count >= per_document_) {
        position_ += per_document_;
        count -= per_document_;
      } else {
        CLUEDROP_RETURN_IF_ERROR(Expand(*doc));
      }
      continue;
    }
    CLUEDROP_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) return PastTheEnd(count);
    Pop();
    --count;
  }
  return OkStatus();
}

std::pair<int64_t, int64_t> EpochStream::TakeDropCounts() {
  const auto counts = std::make_pair(dropped_, droppable_);
  dropped_ = droppable_ = 0;
  return counts;
}

Status EpochStream::PastTheEnd(int64_t count) {
  return DataLossError("resume: the checkpoint's data cursor is past the epoch's end (" +
                       std::to_string(count) + " samples short): the data changed");
}

StatusOr<bool> EpochStream::Fill() {
  const size_t want = shuffle_buffer_ > 0 ? static_cast<size_t>(shuffle_buffer_) : 1;
  while (!done_ && pending_.size() < want) {
    CLUEDROP_ASSIGN_OR_RETURN(const ScoredDocument* doc, NextDocument());
    if (doc == nullptr) break;
    CLUEDROP_RETURN_IF_ERROR(Expand(*doc));
  }
  return !pending_.empty();
}

EpochStream::Pending EpochStream::Pop() {
  if (shuffle_buffer_ > 0 && pending_.size() > 1) {
    const size_t pick = static_cast<size_t>(rng_() % pending_.size());
    std::swap(pending_[pick], pending_.front());
  }
  Pending sample = std::move(pending_.front());
  pending_.pop_front();
  ++position_;
  return sample;
}

StatusOr<const ScoredDocument*> EpochStream::NextDocument() {
  while (!done_ && (!shard_.has_value() || document_ >= shard_->size())) {
    CLUEDROP_ASSIGN_OR_RETURN(shard_, source_.Shard(next_shard_));
    ++next_shard_;
    document_ = 0;
    if (!shard_.has_value()) done_ = true;
  }
  if (done_) return static_cast<const ScoredDocument*>(nullptr);
  return &(*shard_)[document_++];
}

Status EpochStream::Expand(const ScoredDocument& doc) {
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<AugmentedSample> samples,
                            augmenter_.SamplesForEpoch(doc, epoch_));
  if (static_cast<int64_t>(samples.size()) != per_document_) {
    return InternalError("augmenter gave " + std::to_string(samples.size()) +
                         " samples for document " + doc.id + ", expected " +
                         std::to_string(per_document_));
  }
  for (AugmentedSample& s : samples) {
    pending_.emplace_back(
        std::move(s.tokens),
        std::make_pair(static_cast<int64_t>(s.dropped.size()), static_cast<int64_t>(s.droppable)));
  }
  return OkStatus();
}

}  // namespace cluedrop::trainer

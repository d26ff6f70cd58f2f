// One epoch of a trainer rank's samples, in order: the partition's shards,
// their documents, each document's samples (Augmenter::SamplesForEpoch),
// optionally through a seeded shuffle buffer (each output a uniform draw of
// the buffered samples, as tf.data's shuffle). The order is a pure function
// of (augmentation seed, epoch, shuffle key, the partition), which is what
// makes a resumed run continue bitwise: Skip(position) re-walks the epoch.
//
// Example:
//   EpochStream stream(source, augmenter, epoch, /*shuffle_buffer=*/64, key);
//   CLUEDROP_RETURN_IF_ERROR(stream.Skip(cursor.position));
//   while (true) {
//     CLUEDROP_ASSIGN_OR_RETURN(auto sample, stream.Next());
//     if (!sample.has_value()) break;  // the epoch's end
//   }
//
// Not thread-safe. Torch-free.
#ifndef CLUEDROP_WORKERS_TRAINER_EPOCH_STREAM_H_
#define CLUEDROP_WORKERS_TRAINER_EPOCH_STREAM_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "workers/trainer/augmenter.h"
#include "workers/trainer/shard_source.h"

namespace cluedrop::trainer {

// Samples Augmenter::SamplesForEpoch yields per document.
int64_t SamplesPerDocument(const AugmentationOptions& a);

// One epoch of a rank's samples, in order: shards, documents, samples.
// position() counts every sample handed out or skipped (empty ones too).
class EpochStream {
 public:
  // shuffle_buffer > 0: samples leave through a buffer of that many, each a
  // uniform draw (mt19937_64 keyed by shuffle_key) from the buffered ones.
  EpochStream(ScoredShardSource& source, const Augmenter& augmenter, uint32_t epoch,
              int64_t shuffle_buffer = 0, uint64_t shuffle_key = 0)
      : source_(source),
        augmenter_(augmenter),
        epoch_(epoch),
        per_document_(SamplesPerDocument(augmenter.options())),
        shuffle_buffer_(shuffle_buffer),
        rng_(shuffle_key) {}

  // The next non-empty sample's tokens; nullopt at the epoch's end.
  StatusOr<std::optional<std::vector<int64_t>>> Next();

  // Discards `count` samples. Without shuffling, whole documents are skipped
  // without augmenting; with it, samples are drawn as Next draws them.
  Status Skip(int64_t count);

  int64_t position() const { return position_; }
  // Dropped and droppable tokens of the samples handed out so far; Reset
  // starts a new count (per step).
  std::pair<int64_t, int64_t> TakeDropCounts();

 private:
  using Pending = std::pair<std::vector<int32_t>, std::pair<int64_t, int64_t>>;

  static Status PastTheEnd(int64_t count);

  // Expands documents until a sample is pending (with shuffling: until the
  // buffer is full or the partition ends). False at the epoch's end.
  StatusOr<bool> Fill();

  // Takes the next sample: the front, or with shuffling a uniform draw.
  Pending Pop();

  // The next document (null at the partition's end).
  StatusOr<const ScoredDocument*> NextDocument();

  Status Expand(const ScoredDocument& doc);

  ScoredShardSource& source_;
  const Augmenter& augmenter_;
  const uint32_t epoch_;
  const int64_t per_document_;
  std::optional<std::vector<ScoredDocument>> shard_;
  uint64_t next_shard_ = 0;
  size_t document_ = 0;
  bool done_ = false;
  const int64_t shuffle_buffer_;
  std::mt19937_64 rng_;
  // Samples not handed out yet: tokens, (dropped, droppable).
  std::deque<Pending> pending_;
  int64_t position_ = 0;
  int64_t dropped_ = 0;
  int64_t droppable_ = 0;
};

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_EPOCH_STREAM_H_

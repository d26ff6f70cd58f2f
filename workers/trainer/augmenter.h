// Clue-guided token dropout of one scored document (DESIGN.md section 1):
// which tokens may drop, the drop mask of (epoch, copy), and the training
// sample that results. Torch- and abseil-free.
//
// Rules:
//   - Droppable: not special (ScoredDocument::special, else
//     TextEncoder::IsSpecial), a non-empty byte span (template tokens have
//     none and there is nothing to blank), and text (the document bytes of
//     its span, stripped of ASCII whitespace) not in
//     AugmentationOptions::protected_tokens.
//   - Ranking among the droppable tokens: large / small / contrast by that
//     score vector (descending, ties by position, NaN last); position by
//     position; random: p = alpha for all; none: nothing drops.
//   - The mask of copy c in epoch e is SampleDropMask(..., MaskKey{seed,
//     document id, e, c}) (dropout_mask.h); Resample::kFixed uses epoch 0
//     for every epoch. So a sample is a pure function of (options, document,
//     epoch, copy).
//   - DropForm::kBlank: each character a dropped token covers becomes one
//     space (span_edit.h) and the text is re-encoded with the encoder;
//     kDelete: the dropped ids are removed (text: the characters removed,
//     for display only; it need not re-encode to `tokens`).
//
// Example:
//   Augmenter augmenter(options, &encoder);   // encoder outlives augmenter
//   CLUEDROP_ASSIGN_OR_RETURN(std::vector<AugmentedSample> samples,
//                             augmenter.SamplesForEpoch(doc, /*epoch=*/2));
//   for (const AugmentedSample& s : samples) Train(s.tokens);
//
// Thread-safe: all methods are const and the encoder must be thread-safe.
#ifndef CLUEDROP_WORKERS_TRAINER_AUGMENTER_H_
#define CLUEDROP_WORKERS_TRAINER_AUGMENTER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "workers/trainer/augmentation_options.h"
#include "workers/trainer/text_encoder.h"

namespace cluedrop {

// A document in the target tokenization with its scores: what `cluedrop
// score` / `cluedrop results` write and a trainer streams (ScoredDocument in
// the protos). Score vectors hold NaN where undefined.
struct ScoredDocument {
  std::string id;
  std::string text;
  std::vector<int32_t> tokens;
  std::vector<std::pair<size_t, size_t>> offsets;  // UTF-8 byte spans of `text`
  std::vector<float> received_large;
  std::vector<float> received_small;
  std::vector<float> contrast;
  // 1 = special token; empty: ask the encoder's IsSpecial for each id.
  std::vector<uint8_t> special;
};

// One training sample of a document.
struct AugmentedSample {
  static constexpr int32_t kOriginal = -1;
  int32_t copy = kOriginal;  // copy index, or kOriginal for the unaugmented text
  std::string text;          // blank: what `tokens` encodes; delete: for display
  std::vector<int32_t> tokens;
  std::vector<int32_t> dropped;  // positions in the document's tokens, ascending
  size_t droppable = 0;          // droppable positions of the document

  // dropped / droppable (0 when nothing is droppable): the applied rate.
  double dropout_rate() const {
    return droppable == 0 ? 0.0 : static_cast<double>(dropped.size()) / droppable;
  }
};

class Augmenter {
 public:
  // `options` should have passed ValidateAugmentationOptions (Augment checks
  // again). `encoder` (not owned, may be null) is needed for the blank form
  // and for documents without special flags.
  Augmenter(AugmentationOptions options, const TextEncoder* encoder);

  const AugmentationOptions& options() const { return options_; }

  // The document's samples for `epoch`, in order: the original when
  // keep_original, then copies 0..copies-1. Mode none yields the original
  // alone. Errors: those of Augment.
  StatusOr<std::vector<AugmentedSample>> SamplesForEpoch(const ScoredDocument& doc,
                                                         uint32_t epoch) const;

  // Sample `copy` (or AugmentedSample::kOriginal) of `doc` in `epoch`.
  // INVALID_ARGUMENT for an inconsistent document (vector lengths, spans
  // outside the text, the ranking's score vector missing) or invalid
  // options; FAILED_PRECONDITION when an encoder is needed and absent;
  // the encoder's errors (annotated with the document id).
  StatusOr<AugmentedSample> Augment(const ScoredDocument& doc, uint32_t epoch, int32_t copy) const;

  // Which positions may drop (rules above). Errors as Augment.
  StatusOr<std::vector<bool>> Droppable(const ScoredDocument& doc) const;

  // The drop mask (true = drop) of `copy` in `epoch`. Errors as Augment.
  StatusOr<std::vector<bool>> DropMask(const ScoredDocument& doc, uint32_t epoch,
                                       uint32_t copy) const;

 private:
  Status CheckDocument(const ScoredDocument& doc) const;
  StatusOr<AugmentedSample> AugmentWith(const ScoredDocument& doc,
                                        const std::vector<bool>& droppable, uint32_t epoch,
                                        int32_t copy) const;
  std::vector<bool> MaskOf(const ScoredDocument& doc, const std::vector<bool>& droppable,
                           uint32_t epoch, uint32_t copy) const;

  AugmentationOptions options_;
  std::vector<std::string> protected_;  // stripped
  const TextEncoder* encoder_;
};

}  // namespace cluedrop

#endif  // CLUEDROP_WORKERS_TRAINER_AUGMENTER_H_

#include "workers/trainer/augment_job.h"

#include <memory>
#include <vector>

#include "base/file.h"
#include "workers/model/checkpoint/atomic_file.h"
#include "workers/trainer/augmenter.h"
#include "workers/trainer/scored_jsonl.h"
#include "workers/trainer/tokenizer_text_encoder.h"

namespace cluedrop {
namespace {

// The document's tokens must be the tokenizer's encoding of its text.
Status CheckTokenization(const TextEncoder& encoder, const ScoredDocument& doc) {
  CLUEDROP_ASSIGN_OR_RETURN(EncodedText encoded, encoder.Encode(doc.text));
  if (encoded.ids == doc.tokens && encoded.offsets == doc.offsets) return OkStatus();
  size_t i = 0;
  while (i < encoded.ids.size() && i < doc.tokens.size() && encoded.ids[i] == doc.tokens[i] &&
         encoded.offsets[i] == doc.offsets[i]) {
    ++i;
  }
  return InvalidArgumentError(
      "document '" + doc.id + "': its tokens are not --tokenizer's encoding of its text (first " +
      "difference at token " + std::to_string(i) + "; " + std::to_string(doc.tokens.size()) +
      " vs " + std::to_string(encoded.ids.size()) +
      " tokens): scores made with another tokenizer?");
}

}  // namespace

StatusOr<AugmentJobSummary> RunAugmentJob(const AugmentJobOptions& options) {
  if (options.output_path.empty()) return InvalidArgumentError("--output: required");
  CLUEDROP_RETURN_IF_ERROR(ValidateAugmentationOptions(options.augmentation));
  CLUEDROP_ASSIGN_OR_RETURN(std::string content, ReadFile(options.scores_path));
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<ScoredRecord> records,
                            ParseScoredJsonl(content, options.scores_path));
  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<TokenizerTextEncoder> encoder,
                            TokenizerTextEncoder::FromPath(options.tokenizer_path));
  const Augmenter augmenter(options.augmentation, encoder.get());

  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<model::AtomicFileWriter> out,
                            model::AtomicFileWriter::Create(options.output_path));
  AugmentJobSummary summary;
  size_t copies = 0;
  double rate_sum = 0.0;
  for (const ScoredRecord& record : records) {
    const std::string where = options.scores_path + ":" + std::to_string(record.line);
    CLUEDROP_RETURN_IF_ERROR(CheckTokenization(*encoder, record.document).Annotated(where));
    StatusOr<std::vector<AugmentedSample>> samples =
        augmenter.SamplesForEpoch(record.document, options.epoch);
    if (!samples.ok()) return samples.status().Annotated(where);
    for (const AugmentedSample& sample : *samples) {
      CLUEDROP_RETURN_IF_ERROR(out->Append(AugmentedSampleJsonLine(record.document.id, sample)));
      if (sample.copy != AugmentedSample::kOriginal) {
        ++copies;
        rate_sum += sample.dropout_rate();
      }
    }
    ++summary.documents;
    summary.samples += samples->size();
  }
  CLUEDROP_RETURN_IF_ERROR(out->Commit());
  summary.mean_dropout_rate = copies == 0 ? 0.0 : rate_sum / static_cast<double>(copies);
  return summary;
}

}  // namespace cluedrop

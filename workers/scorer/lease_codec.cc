#include "workers/scorer/lease_codec.h"

namespace cluedrop::scorer {

std::string DtypeName(cluedrop::v1::DType dtype) {
  switch (dtype) {
    case cluedrop::v1::DTYPE_FLOAT32:
      return "float32";
    case cluedrop::v1::DTYPE_BFLOAT16:
      return "bfloat16";
    case cluedrop::v1::DTYPE_FLOAT16:
      return "float16";
    default:
      return "";
  }
}

ShardScoringRequest RequestFromLease(const cluedrop::v1::ShardLease& lease) {
  ShardScoringRequest request;
  ShardScoringSettings& s = request.settings;
  s.large_checkpoint_dir = lease.large_checkpoint_dir();
  s.small_checkpoint_dir = lease.small_checkpoint_dir();
  s.large_dtype = DtypeName(lease.large_dtype());
  s.small_dtype = DtypeName(lease.small_dtype());
  s.target_tokenizer_dir = lease.target_tokenizer_dir();
  s.include_self = lease.include_self();
  s.layers.assign(lease.layers().begin(), lease.layers().end());
  s.batch_tokens = lease.batch_tokens() > 0 ? lease.batch_tokens() : kDefaultLeaseBatchTokens;
  request.documents.reserve(lease.documents_size());
  for (const cluedrop::v1::Document& d : lease.documents()) {
    request.documents.push_back({d.id(), d.text()});
  }
  return request;
}

void FillScoredDocument(const cluedrop::v1::Document& document, const ScoredText& scores,
                        cluedrop::v1::ScoredDocument* out) {
  out->set_id(document.id());
  out->set_text(document.text());
  out->mutable_tokens()->Add(scores.tokens.begin(), scores.tokens.end());
  out->mutable_offsets()->Reserve(static_cast<int>(2 * scores.offsets.size()));
  for (const auto& [begin, end] : scores.offsets) {
    out->add_offsets(static_cast<uint32_t>(begin));
    out->add_offsets(static_cast<uint32_t>(end));
  }
  out->mutable_received_large()->Add(scores.received_large.begin(), scores.received_large.end());
  out->mutable_received_small()->Add(scores.received_small.begin(), scores.received_small.end());
  out->mutable_contrast()->Add(scores.contrast.begin(), scores.contrast.end());
  *out->mutable_qa_items() = document.qa_items();
}

}  // namespace cluedrop::scorer

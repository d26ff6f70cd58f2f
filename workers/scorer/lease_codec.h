// Conversions between the WorkService messages and the ShardScorer seam:
// a ShardLease becomes a ShardScoringRequest, and a scored document becomes
// the ScoredDocument message CompleteShard streams.
//
// Example:
//   ShardScoringRequest request = RequestFromLease(lease);
//   ... scorer->Score(request, progress) ...
//   cluedrop::v1::ScoredDocument message;
//   FillScoredDocument(lease.documents(i), result.documents[i], &message);
//
// Pure functions; torch-free.
#ifndef CLUEDROP_WORKERS_SCORER_LEASE_CODEC_H_
#define CLUEDROP_WORKERS_SCORER_LEASE_CODEC_H_

#include <string>

#include "cluedrop/v1/job.pb.h"
#include "cluedrop/v1/scored.pb.h"
#include "cluedrop/v1/work_service.pb.h"
#include "workers/scorer/shard_scorer.h"

namespace cluedrop::scorer {

// Batch token budget used when a lease says 0 (JobSpec's default).
inline constexpr int64_t kDefaultLeaseBatchTokens = 16384;

// "float32", "bfloat16", "float16", or "" for DTYPE_UNSPECIFIED (by device).
std::string DtypeName(cluedrop::v1::DType dtype);

// The lease's settings and documents (ids and texts copied).
ShardScoringRequest RequestFromLease(const cluedrop::v1::ShardLease& lease);

// id, text and qa_items from `document`; tokens, offsets flattened as
// [b0, e0, b1, e1, ...] and the three score vectors (NaN kept) from `scores`.
void FillScoredDocument(const cluedrop::v1::Document& document, const ScoredText& scores,
                        cluedrop::v1::ScoredDocument* out);

}  // namespace cluedrop::scorer

#endif  // CLUEDROP_WORKERS_SCORER_LEASE_CODEC_H_

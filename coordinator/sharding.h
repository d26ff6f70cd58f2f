// Splits a corpus into shards of consecutive documents and names each shard
// by its content. A shard id is "shard-<index, 5+ digits>-<16 hex digits>",
// the hex being the FNV-1a 64 fingerprint (fingerprint.h) of the shard's
// documents: for each document in order, its id and its text, each preceded
// by its byte length as 8 little-endian bytes. Shard ids are therefore a pure
// function of the corpus content and the shard size: re-sharding the same
// corpus gives the same ids, and any change to a shard's ids or texts changes
// its id. QA items do not enter the fingerprint (they do not change scores).
//
// Example:
//   std::vector<ShardPlan> plan = PlanShards(docs, 1000);
//   // plan[7].shard_id == "shard-00007-3f2a9c0d1b4e5f60", documents
//   // docs[plan[7].first_doc .. first_doc + doc_count)
#ifndef CLUEDROP_COORDINATOR_SHARDING_H_
#define CLUEDROP_COORDINATOR_SHARDING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "cluedrop/v1/scored.pb.h"
#include "jobspec/job_spec_defaults.h"

namespace cluedrop::coordinator {

using jobspec::kDefaultShardSizeDocs;

struct ShardPlan {
  uint32_t index = 0;      // 0-based position of the shard in the corpus
  std::string shard_id;    // see the file comment
  uint32_t first_doc = 0;  // index of the shard's first document
  uint32_t doc_count = 0;  // at least 1
};

// Returns the shards of `docs` in order: every shard holds shard_size_docs
// documents except possibly the last; shard_size_docs 0 means
// kDefaultShardSizeDocs. No documents, no shards. Never fails; `docs` must
// hold fewer than 2^32 documents (ShardPlan's indexes are 32-bit).
std::vector<ShardPlan> PlanShards(const std::vector<v1::Document>& docs, uint32_t shard_size_docs);

// Returns the id PlanShards gives the shard at `index` holding
// docs[first, first + count); first + count must be <= docs.size().
std::string ShardId(const std::vector<v1::Document>& docs, uint32_t index, uint32_t first,
                    uint32_t count);

}  // namespace cluedrop::coordinator

#endif  // CLUEDROP_COORDINATOR_SHARDING_H_

// The coordinator's on-disk store of scored shards: one file per
// (job, shard) at <dir>/<job_id>/<shard_id>.shard in the format of
// docs/shard-format.md (fixed header with CRC-32C checksums, then the
// length-prefixed serialized v1::ScoredDocument records).
//
// Writes are atomic and durable: a temp file in the job directory is written,
// fsynced and renamed over the final name, and the directory is fsynced, so a
// crash leaves either the old file, the new one or no file, never a partial
// one. Leftover temp files (names starting with '.') are never read and are
// removed by Open.
//
// Job and shard ids become file names: they must be 1 to 200 bytes of
// [A-Za-z0-9._-] and must not start with '.' (INVALID_ARGUMENT otherwise).
//
// This class is thread-safe. One process owns a store directory at a time.
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<ShardStore> store,
//                             ShardStore::Open(data_dir + "/shards"));
//   CLUEDROP_ASSIGN_OR_RETURN(uint32_t crc, store->Write(job, shard, docs));
//   CLUEDROP_RETURN_IF_ABSL_ERROR(store->ReadChunks(
//       job, shard, 4 << 20,
//       [&](std::vector<v1::ScoredDocument>&& chunk, bool last, uint32_t crc) {
//         return SendToTrainer(chunk);  // false stops the read
//       }));
#ifndef CLUEDROP_SHARD_SHARD_STORE_H_
#define CLUEDROP_SHARD_SHARD_STORE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cluedrop/v1/scored.pb.h"

namespace cluedrop::shard {

// What a shard file's header says (verified by its own checksum).
struct ShardFileInfo {
  uint32_t document_count = 0;
  uint64_t payload_bytes = 0;
  uint32_t checksum = 0;  // CRC-32C of the payload
};

class ShardStore {
 public:
  // Receives consecutive chunks of a shard's documents. `last` is true on the
  // final call only (which gets an empty vector for an empty shard);
  // `checksum` is the payload's verified CRC-32C on every call. Return false
  // to stop reading.
  using ChunkSink =
      std::function<bool(std::vector<v1::ScoredDocument>&& docs, bool last, uint32_t checksum)>;

  // Returns a store rooted at `dir`, creating it (and its parents) if needed
  // and removing leftover temp files of interrupted writes. Fails with the
  // errno's code (PERMISSION_DENIED, ...) when `dir` cannot be created.
  static absl::StatusOr<std::unique_ptr<ShardStore>> Open(std::string dir);

  ShardStore(const ShardStore&) = delete;
  ShardStore& operator=(const ShardStore&) = delete;

  // Stores `docs` as the shard's payload, replacing an existing file
  // atomically. Returns the payload's CRC-32C. Fails with INVALID_ARGUMENT
  // for a bad id, else with the errno's code (RESOURCE_EXHAUSTED when the
  // disk is full, ...), leaving any previous file in place.
  absl::StatusOr<uint32_t> Write(const std::string& job_id, const std::string& shard_id,
                                 const std::vector<v1::ScoredDocument>& docs);

  // Returns the shard's documents after verifying both checksums. Fails with
  // NOT_FOUND when there is no such shard, DATA_LOSS (naming the file) for a
  // bad magic, unknown version, checksum mismatch, truncated or overlong file
  // or unparsable record, INVALID_ARGUMENT for a bad id.
  absl::StatusOr<std::vector<v1::ScoredDocument>> Read(const std::string& job_id,
                                                       const std::string& shard_id) const;

  // Like Read, but hands the documents to `sink` in chunks whose serialized
  // records total at most max_chunk_bytes (a larger document is a chunk of
  // its own; 0 means one document per chunk). The whole payload's checksum
  // is verified before the first call, so `sink` never sees corrupt data;
  // memory stays bounded by one chunk. Returns CANCELLED when `sink` returns
  // false before the last chunk, else Read's errors.
  absl::Status ReadChunks(const std::string& job_id, const std::string& shard_id,
                          size_t max_chunk_bytes, const ChunkSink& sink) const;

  // Returns the shard's header after verifying the header checksum (not the
  // payload); Read's errors.
  absl::StatusOr<ShardFileInfo> Info(const std::string& job_id, const std::string& shard_id) const;

  // Returns whether the shard's file exists (false for bad ids). Does not
  // verify it.
  bool Exists(const std::string& job_id, const std::string& shard_id) const;

  // Removes the job's directory and every shard in it. OK when there is none.
  // INVALID_ARGUMENT for a bad id; the errno's code when removal fails.
  absl::Status RemoveJob(const std::string& job_id);

  // Returns <dir>/<job_id>/<shard_id>.shard (ids are not checked).
  std::string PathFor(const std::string& job_id, const std::string& shard_id) const;

  const std::string& dir() const { return dir_; }

 private:
  explicit ShardStore(std::string dir) : dir_(std::move(dir)) {}

  // Opens the shard's file for reading; the descriptor stays valid even if
  // the file is replaced or removed afterwards.
  absl::StatusOr<int> OpenForRead(const std::string& job_id, const std::string& shard_id) const;

  const std::string dir_;
  // Held shared while a file is created or opened, exclusively by RemoveJob.
  mutable absl::Mutex mu_;
  std::atomic<uint64_t> temp_counter_{0};
};

}  // namespace cluedrop::shard

#endif  // CLUEDROP_SHARD_SHARD_STORE_H_

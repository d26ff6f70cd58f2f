#include "workers/trainer/shard_feed.h"

#include <chrono>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "base/backoff.h"
#include "base/file.h"
#include "runtime/grpc_status.h"
#include "workers/model/checkpoint/atomic_file.h"

namespace cluedrop::trainer {
namespace {

// The manifest, replaced atomically (temp file, fsync, rename).
absl::Status WriteFileAtomically(const std::string& path, const std::string& text) {
  StatusOr<std::unique_ptr<model::AtomicFileWriter>> file = model::AtomicFileWriter::Create(path);
  if (!file.ok()) return ToAbslStatus(file.status());
  if (Status s = (*file)->Append(text); !s.ok()) return ToAbslStatus(s);
  return ToAbslStatus((*file)->Commit());
}

}  // namespace

std::string ShardFeed::ManifestPath() const {
  return absl::StrCat(options_.cache_dir, "/", options_.job_id, ".r", options_.rank, ".manifest");
}

absl::StatusOr<std::unique_ptr<ShardFeed>> ShardFeed::Open(
    ShardFeedOptions options, std::shared_ptr<v1::TrainService::StubInterface> stub) {
  if (options.job_id.empty()) return absl::InvalidArgumentError("job_id: required");
  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<shard::ShardStore> store,
                            shard::ShardStore::Open(options.cache_dir));
  const std::string manifest =
      absl::StrCat(options.cache_dir, "/", options.job_id, ".r", options.rank, ".manifest");
  std::vector<Entry> entries;
  if (StatusOr<std::string> text = ReadFile(manifest); text.ok()) {
    std::istringstream lines(*text);
    uint64_t index = 0;
    Entry entry;
    uint64_t expected = 0;
    while (lines >> index >> entry.shard_id >> entry.crc) {
      if (index != expected++) {
        return absl::DataLossError(absl::StrCat(manifest, ": entry ", index, " out of order"));
      }
      absl::StatusOr<shard::ShardFileInfo> info = store->Info(options.job_id, entry.shard_id);
      if (!info.ok() || info->checksum != entry.crc) {
        return absl::DataLossError(absl::StrCat(manifest, ": cached shard ", entry.shard_id,
                                                " is missing or differs; remove the cache"));
      }
      entries.push_back(entry);
    }
  }
  return std::unique_ptr<ShardFeed>(
      new ShardFeed(std::move(options), std::move(stub), std::move(store), std::move(entries)));
}

ShardFeed::ShardFeed(ShardFeedOptions options,
                     std::shared_ptr<v1::TrainService::StubInterface> stub,
                     std::unique_ptr<shard::ShardStore> store, std::vector<Entry> entries)
    : options_(std::move(options)),
      stub_(std::move(stub)),
      store_(std::move(store)),
      entries_(std::move(entries)) {}

ShardFeed::~ShardFeed() { Stop(); }

void ShardFeed::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void ShardFeed::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (active_ != nullptr) active_->TryCancel();
    changed_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status ShardFeed::AppendLocked(Entry entry) {
  std::string text;
  entries_.push_back(std::move(entry));
  for (size_t i = 0; i < entries_.size(); ++i) {
    absl::StrAppend(&text, i, " ", entries_[i].shard_id, " ", entries_[i].crc, "\n");
  }
  absl::Status status = WriteFileAtomically(ManifestPath(), text);
  if (!status.ok()) entries_.pop_back();
  return status;
}

absl::Status ShardFeed::StreamOnce() {
  grpc::ClientContext context;
  if (!options_.bearer_token.empty()) {
    context.AddMetadata("authorization", "Bearer " + options_.bearer_token);
  }
  v1::StreamShardsRequest request;
  request.set_job_id(options_.job_id);
  request.set_rank(options_.rank);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::CancelledError("feed stopped");
    request.set_cursor(entries_.size());
    active_ = &context;
  }
  auto reader = stub_->StreamShards(&context, request);
  v1::ScoredShardChunk chunk;
  std::vector<v1::ScoredDocument> pending;
  absl::Status status;
  while (status.ok() && reader->Read(&chunk)) {
    for (v1::ScoredDocument& d : *chunk.mutable_documents()) pending.push_back(std::move(d));
    if (!chunk.last()) continue;
    absl::StatusOr<uint32_t> crc = store_->Write(options_.job_id, chunk.shard_id(), pending);
    pending.clear();
    if (!crc.ok()) {
      status = crc.status();
    } else if (*crc != chunk.checksum()) {
      status = absl::DataLossError(absl::StrCat("shard ", chunk.shard_id(), ": checksum ", *crc,
                                                " of the received documents, coordinator says ",
                                                chunk.checksum()));
    } else {
      std::lock_guard<std::mutex> lock(mu_);
      if (chunk.index() != entries_.size()) {
        status = absl::InternalError(absl::StrCat("stream sent shard index ", chunk.index(),
                                                  ", expected ", entries_.size()));
      } else {
        status = AppendLocked({chunk.shard_id(), *crc});
        if (status.ok()) ++downloaded_;
        changed_.notify_all();
      }
    }
  }
  if (!status.ok()) context.TryCancel();
  grpc::Status finished = reader->Finish();
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_ = nullptr;
  }
  if (!status.ok()) return status;
  return FromGrpcStatus(finished);
}

void ShardFeed::Run() {
  Backoff backoff(options_.backoff_initial_ms, options_.backoff_max_ms);
  while (true) {
    absl::Status status = StreamOnce();
    std::unique_lock<std::mutex> lock(mu_);
    if (status.ok()) {
      ended_ = true;
      changed_.notify_all();
      return;
    }
    if (stopping_) return;
    const bool transient = absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
                           absl::IsResourceExhausted(status);
    if (!transient) {
      error_ = status;
      changed_.notify_all();
      return;
    }
    changed_.wait_for(lock, std::chrono::milliseconds(backoff.NextMs()),
                      [this] { return stopping_; });
    if (stopping_) return;
  }
}

absl::StatusOr<std::vector<v1::ScoredDocument>> ShardFeed::Get(uint64_t k,
                                                               const std::function<bool()>& stop) {
  std::string shard_id;
  {
    std::unique_lock<std::mutex> lock(mu_);
    while (k >= entries_.size()) {
      if (ended_) {
        return absl::OutOfRangeError(
            absl::StrCat("rank ", options_.rank, " has ", entries_.size(), " shards"));
      }
      if (!error_.ok()) return error_;
      if (stopping_ || (stop && stop())) return absl::CancelledError("feed stopped");
      changed_.wait_for(lock, std::chrono::milliseconds(100));
    }
    shard_id = entries_[k].shard_id;
  }
  return store_->Read(options_.job_id, shard_id);
}

uint64_t ShardFeed::cached() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

std::optional<uint64_t> ShardFeed::total() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!ended_) return std::nullopt;
  return entries_.size();
}

uint64_t ShardFeed::downloaded() const {
  std::lock_guard<std::mutex> lock(mu_);
  return downloaded_;
}

}  // namespace cluedrop::trainer

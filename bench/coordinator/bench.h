// Shared parts of coordinator_bench (bench/coordinator/main.cc says what it
// measures): options, figures and tables, the workload (corpus, simulated
// scorers), the disk floors and the two tables. Not a library: one
// benchmark's files.
#ifndef CLUEDROP_BENCH_COORDINATOR_BENCH_H_
#define CLUEDROP_BENCH_COORDINATOR_BENCH_H_

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/absl_status.h"
#include "cluedrop/v1/job_service.grpc.pb.h"
#include "cluedrop/v1/train_service.grpc.pb.h"
#include "cluedrop/v1/work_service.grpc.pb.h"
#include "coordinator/job_manager.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "runtime/daemon_server.h"
#include "runtime/flags.h"
#include "shard/crc32c.h"
#include "shard/shard_store.h"
#include "tests/mini_cluster/mini_cluster.h"

namespace cluedrop::bench {

namespace fs = std::filesystem;

using Clock = std::chrono::steady_clock;

using nlohmann::json;

constexpr int64_t kMaxMessageBytes = 64 << 20;

constexpr auto kRpcTimeout = std::chrono::seconds(300);

struct CoordinatorBenchOptions {
  // Parent of the run's fresh data directory.
  std::string data_dir = "/var/tmp";
  bool keep_data = false;
  // Which tables to measure: "lease", "stream" or both.
  std::string tables = "lease,stream";
  bool json = false;
  // Table 1.
  uint32_t workers = 200;
  uint32_t channels = 8;
  uint32_t lease_shards = 2000;
  uint32_t lease_shard_docs = 5;
  uint32_t lease_doc_words = 8;
  uint32_t lease_wait_ms = 100;
  uint32_t sqlite_txns = 500;
  uint32_t file_writes = 300;
  uint32_t health_calls = 50;
  // Table 2.
  uint32_t stream_shards = 64;
  uint32_t stream_shard_docs = 200;
  uint32_t stream_doc_tokens = 512;
  std::string stream_chunk_bytes = "65536,1048576";
  uint32_t ingest_workers = 2;
  uint32_t repeats = 5;
  bool cold_cache = false;
};

inline double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ----------------------------------------------------------- figures

// Latency samples, milliseconds.
class Latencies {
 public:
  void Add(double ms) { ms_.push_back(ms); }
  void Merge(const Latencies& other) { ms_.insert(ms_.end(), other.ms_.begin(), other.ms_.end()); }
  size_t count() const { return ms_.size(); }
  // The p-quantile (p in [0, 1]) by the nearest-rank method; 0 when empty.
  double Quantile(double p) {
    if (ms_.empty()) return 0;
    std::sort(ms_.begin(), ms_.end());
    const size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(ms_.size())));
    return ms_[std::min(ms_.size() - 1, rank == 0 ? 0 : rank - 1)];
  }

 private:
  std::vector<double> ms_;
};

// A plain-text table: first column left-aligned, the others right-aligned.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void Add(std::vector<std::string> row) {
    row.resize(rows_[0].size());
    rows_.push_back(std::move(row));
  }
  void Print() const {
    std::vector<size_t> width(rows_[0].size(), 0);
    for (const auto& row : rows_) {
      for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    }
    for (size_t r = 0; r < rows_.size(); ++r) {
      std::string line;
      for (size_t i = 0; i < rows_[r].size(); ++i) {
        if (i == 0) {
          absl::StrAppend(&line, rows_[r][i], std::string(width[i] - rows_[r][i].size(), ' '));
        } else {
          absl::StrAppend(&line, "  ", std::string(width[i] - rows_[r][i].size(), ' '),
                          rows_[r][i]);
        }
      }
      std::printf("%s\n", line.c_str());
      if (r == 0) std::printf("%s\n", std::string(line.size(), '-').c_str());
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

double Median(std::vector<double> values);

std::string Fmt(double v, int decimals = 1);

std::string Ratio(double a, double b);

// ----------------------------------------------------------- machine

std::string FirstLineWith(const std::string& path, const std::string& key);

// "ext4 on /dev/vda (mounted at /, rotational 0)" for the filesystem that
// holds `path`, from /proc/self/mounts (the longest mount point prefix).
std::string DescribeFilesystem(const std::string& path);

// ------------------------------------------------------- coordinator

// The coordinator: the tests' in-process MiniCluster, which wires it as
// cluedrop-coordinator does (CoordinatorServer), in a fresh directory under
// `parent` that the bench removes with the rest of its data.
absl::StatusOr<std::unique_ptr<test::MiniCluster>> StartCoordinator(const std::string& parent,
                                                                    size_t stream_chunk_bytes);

// `count` connections to 127.0.0.1:port: each channel gets a distinct
// argument, so gRPC does not share one subchannel between them.
absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> MakeChannels(int port, uint32_t count);

void SetDeadline(grpc::ClientContext* context);

// ------------------------------------------------------------ corpus

// Deterministic pseudo-random words of four lowercase letters.
class WordSource {
 public:
  explicit WordSource(uint64_t seed)
      : state_(seed * 6364136223846793005ULL + 1442695040888963407ULL) {}
  std::string Words(uint32_t n) {
    std::string text;
    text.reserve(n * 5);
    for (uint32_t i = 0; i < n; ++i) {
      if (i > 0) text.push_back(' ');
      for (int k = 0; k < 4; ++k) {
        state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
        text.push_back(static_cast<char>('a' + (state_ >> 33) % 26));
      }
    }
    return text;
  }

 private:
  uint64_t state_;
};

// Writes `docs` JSONL documents of `words` words each to `path`.
absl::Status WriteCorpus(const std::string& path, uint32_t docs, uint32_t words);

absl::StatusOr<std::string> SubmitScoreOnlyJob(const std::shared_ptr<grpc::Channel>& channel,
                                               const std::string& name,
                                               const std::string& corpus_path,
                                               uint32_t shard_size_docs);

absl::StatusOr<v1::Job> GetJob(const std::shared_ptr<grpc::Channel>& channel,
                               const std::string& job_id);

// Scores `doc` the way a scorer's result looks, cheaply: one token per
// space-separated word, byte offsets inside the text, equal-length vectors.
// The text itself is not sent: the coordinator stores its own copy.
v1::ScoredDocument ScoreSynthetically(const v1::Document& doc);

// ------------------------------------------------- simulated scorers

struct ScorerRun {
  uint64_t completed = 0;  // accepted completions
  double seconds = 0;      // first lease to the last accepted completion
  Latencies lease_ms;      // leases that returned a shard
  Latencies complete_ms;
  uint64_t duplicate_leases = 0;  // a shard id leased twice
  uint64_t rejected = 0;          // completions not accepted (duplicates)
  uint64_t empty_polls = 0;
  uint64_t errors = 0;
  std::string first_error;
  uint64_t payload_bytes = 0;                 // ScoredDocument bytes sent
  std::map<std::string, uint32_t> checksums;  // shard id -> CompleteShard checksum
};

// grpc.health.v1 Check from `clients` threads, `calls` each.
struct UnaryRun {
  uint64_t calls = 0;
  double seconds = 0;
  Latencies ms;
  uint64_t errors = 0;
};

// Runs `workers` scorer threads over `channels` until `total_shards`
// completions were accepted.
ScorerRun RunScorers(const std::vector<std::shared_ptr<grpc::Channel>>& channels, uint32_t workers,
                     uint64_t total_shards, uint32_t lease_wait_ms);

UnaryRun RunHealthChecks(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                         uint32_t clients, uint32_t calls);

// ------------------------------------------------------- disk floors

struct FloorRun {
  uint64_t ops = 0;
  double seconds = 0;
  Latencies ms;

  void Merge(const FloorRun& other) {
    ops += other.ops;
    seconds += other.seconds;
    ms.Merge(other.ms);
  }
};

absl::Status SqliteCheck(int rc, sqlite3* db, const char* what);

// One thread, `txns` transactions of one UPDATE each, WAL + synchronous=FULL
// (the StateStore's settings), prepared statements reused.
absl::StatusOr<FloorRun> RunBareSqlite(const std::string& path, uint32_t txns);

absl::Status FsyncPath(const std::string& path, int flags);

// `writes` files of `bytes` bytes each, made durable the way ShardStore::Write
// does it: temp file, write, fsync, rename, fsync of the directory.
absl::StatusOr<FloorRun> RunBareFileWrites(const std::string& dir, uint32_t writes, size_t bytes);

// ----------------------------------------------------------- table 1

absl::Status LeaseTable(const CoordinatorBenchOptions& options, const std::string& root, json* out,
                        std::vector<std::string>* failures);

// ----------------------------------------------------------- table 2

struct StreamPass {
  double seconds = 0;
  uint64_t shards = 0;
  uint64_t docs = 0;
  uint64_t chunks = 0;
  uint64_t doc_bytes = 0;  // counted with `verify` only
  std::string error;       // the first check that failed
};

// Drops the page cache of `paths` (clean after their fsync), so the next
// read comes from the disk.
void DropCaches(const std::vector<std::string>& paths);

// Streams every shard of `job_id` (rank 0 of world 1) and checks that
// indexes arrive in order, each shard ends with one `last` chunk whose
// checksum is the one CompleteShard returned and, with `verify`, the CRC-32C
// of the re-serialized records (docs/shard-format.md) matches it.
StreamPass StreamOnce(v1::TrainService::Stub* stub, const std::string& job_id, bool verify,
                      const std::map<std::string, uint32_t>& expected);

absl::StatusOr<std::vector<size_t>> ParseSizes(const std::string& text);

std::string SizeLabel(size_t bytes);

absl::Status StreamTable(const CoordinatorBenchOptions& options, const std::string& root, json* out,
                         std::vector<std::string>* failures);

// -------------------------------------------------------------- main

}  // namespace cluedrop::bench

#endif  // CLUEDROP_BENCH_COORDINATOR_BENCH_H_

// Throughput of the coordinator's two hot paths, each measured side by side
// with the reference stacks it is built on, in one run on one machine and
// one disk. Prints two tables (or, with --json, one JSON object):
//
//  1. Lease + complete. --workers simulated scorer workers (one thread each,
//     sharing --channels loopback connections) register, then loop
//     LeaseShard -> CompleteShard (a client stream: header + synthetic
//     ScoredDocuments that pass the coordinator's validation) on a
//     score-only job until every shard is scored. One op = one lease plus
//     one completion. References: (a) one fsynced SQLite transaction (WAL,
//     synchronous=FULL, an UPDATE of one row) from one thread, and one
//     durable shard-file write as ShardStore does it (temp file, fsync,
//     rename, directory fsync): an op pays two such transactions (the lease
//     commit and the completion commit) and one file write; (b) bare gRPC
//     unary calls (grpc.health.v1 Check) from the same clients to the same
//     server.
//  2. Shard streaming. A score-only job of realistic shards (--stream_*)
//     is scored through WorkService, then one trainer client streams every
//     shard with TrainService.StreamShards (rank 0 of world 1), checking the
//     order, each shard's `last` chunk and its checksum (and, on alternate
//     passes, the CRC-32C of the re-serialized records). One coordinator per
//     --stream_chunk_bytes value, reopened on the same data directory.
//     References: (a) ShardStore::ReadChunks of the same files in process
//     into a no-op sink, plus its two parts on the bytes in memory (payload
//     CRC-32C, protobuf parsing); (b) raw read() of the same files.
//
// The coordinator runs in process the way cluedrop-coordinator wires it:
// JobManager with CoordinatorMetrics, the three services on a DaemonServer
// (health, reflection, the RPC metrics interceptor; /metrics off) bound to
// 127.0.0.1:0. Everything lives in a fresh directory under --data_dir
// (default /var/tmp: a real disk, so fsyncs cost what they cost), removed
// afterwards unless --keep_data.
//
//   coordinator_bench [--workers 200] [--lease_shards 2000] [--tables lease,stream] [--json]
//   coordinator_bench --help   (every flag with its default)
//
// Exit code 0 when every check passed (no duplicate, job SUCCEEDED, every
// shard streamed intact), 1 otherwise, 2 for bad flags.
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

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cluedrop/v1/job_service.grpc.pb.h"
#include "cluedrop/v1/train_service.grpc.pb.h"
#include "cluedrop/v1/work_service.grpc.pb.h"
#include "coordinator/coordinator_metrics.h"
#include "coordinator/crc32c.h"
#include "coordinator/job_manager.h"
#include "coordinator/services.h"
#include "coordinator/shard_store.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "services/common/daemon_server.h"
#include "services/common/flags.h"
#include "services/common/status_adapter.h"

namespace cluedrop::bench {
namespace {

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

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ------------------------------------------------------------------ figures

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

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::string Fmt(double v, int decimals = 1) {
  if (std::isnan(v)) return "-";
  return absl::StrFormat("%.*f", decimals, v);
}
std::string Ratio(double a, double b) { return b > 0 ? absl::StrFormat("%.3f", a / b) : "-"; }

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

// ----------------------------------------------------------------- machine

std::string FirstLineWith(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      const size_t colon = line.find(':');
      return colon == std::string::npos ? line
                                        : line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

// "ext4 on /dev/vda (mounted at /, rotational 0)" for the filesystem that
// holds `path`, from /proc/self/mounts (the longest mount point prefix).
std::string DescribeFilesystem(const std::string& path) {
  std::error_code ec;
  const std::string real = fs::canonical(path, ec).string();
  std::ifstream mounts("/proc/self/mounts");
  std::string device, mount_point, type, best_device = "?", best_mount, best_type = "?";
  std::string rest;
  while (mounts >> device >> mount_point >> type && std::getline(mounts, rest)) {
    const bool covers =
        mount_point == "/" || real == mount_point || real.rfind(mount_point + "/", 0) == 0;
    if (covers && mount_point.size() >= best_mount.size()) {
      best_device = device;
      best_mount = mount_point;
      best_type = type;
    }
  }
  std::string rotational = "?";
  if (best_device.rfind("/dev/", 0) == 0) {
    const std::string name = best_device.substr(5);
    for (const std::string& candidate :
         {absl::StrCat("/sys/class/block/", name, "/queue/rotational"),
          absl::StrCat("/sys/class/block/", name, "/../queue/rotational")}) {
      std::ifstream in(candidate);
      if (in >> rotational) break;
    }
  }
  return absl::StrCat(best_type, " on ", best_device, " (mounted at ", best_mount, ", rotational ",
                      rotational, ")");
}

// ------------------------------------------------------------- coordinator

// The coordinator as cluedrop-coordinator wires it (RunCoordinator), in
// process. Destruction ends blocking calls, stops the server (waiting for
// in-flight RPCs), then closes the JobManager.
class InProcessCoordinator {
 public:
  static absl::StatusOr<std::unique_ptr<InProcessCoordinator>> Start(const std::string& data_dir,
                                                                     size_t stream_chunk_bytes) {
    auto c = absl::WrapUnique(new InProcessCoordinator());
    c->metrics_ = std::make_unique<coordinator::CoordinatorMetrics>(*c->registry_);
    coordinator::JobManagerOptions options;
    options.data_dir = data_dir;
    options.stream_chunk_bytes = stream_chunk_bytes;
    const auto start = Clock::now();
    CLUEDROP_ASSIGN_OR_RETURN(c->manager_,
                              coordinator::JobManager::Open(options, c->metrics_.get()));
    c->open_seconds_ = SecondsSince(start);
    c->jobs_ = std::make_unique<coordinator::JobServiceImpl>(c->manager_.get(), "");
    c->work_ = std::make_unique<coordinator::WorkServiceImpl>(c->manager_.get());
    c->train_ = std::make_unique<coordinator::TrainServiceImpl>(c->manager_.get());
    ServerOptions server_options;
    server_options.grpc_address = "127.0.0.1:0";
    server_options.metrics_address = "";
    CLUEDROP_ASSIGN_OR_RETURN(c->server_, DaemonServer::Create("coordinator", server_options));
    c->server_->AddService(c->jobs_.get(), v1::JobService::service_full_name(), true, "");
    c->server_->AddService(c->work_.get(), v1::WorkService::service_full_name(), true, "");
    c->server_->AddService(c->train_.get(), v1::TrainService::service_full_name(), true, "");
    CLUEDROP_RETURN_IF_ABSL_ERROR(c->server_->Start());
    return c;
  }

  ~InProcessCoordinator() {
    if (manager_ != nullptr) manager_->Shutdown();
    server_.reset();
  }

  int port() const { return server_->grpc_port(); }
  // How long JobManager::Open (recovery included) took.
  double open_seconds() const { return open_seconds_; }

 private:
  InProcessCoordinator() = default;

  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::unique_ptr<coordinator::CoordinatorMetrics> metrics_;
  std::unique_ptr<coordinator::JobManager> manager_;
  std::unique_ptr<coordinator::JobServiceImpl> jobs_;
  std::unique_ptr<coordinator::WorkServiceImpl> work_;
  std::unique_ptr<coordinator::TrainServiceImpl> train_;
  std::unique_ptr<DaemonServer> server_;
  double open_seconds_ = 0;
};

// `count` connections to 127.0.0.1:port: each channel gets a distinct
// argument, so gRPC does not share one subchannel between them.
absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> MakeChannels(int port, uint32_t count) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (uint32_t i = 0; i < std::max(1u, count); ++i) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kMaxMessageBytes);
    args.SetMaxSendMessageSize(kMaxMessageBytes);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("cluedrop.bench_channel", static_cast<int>(i));
    auto channel = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                             grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
      return absl::UnavailableError(absl::StrCat("cannot connect to 127.0.0.1:", port));
    }
    channels.push_back(std::move(channel));
  }
  return channels;
}

void SetDeadline(grpc::ClientContext* context) {
  context->set_deadline(std::chrono::system_clock::now() + kRpcTimeout);
}

// ------------------------------------------------------------------ corpus

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
absl::Status WriteCorpus(const std::string& path, uint32_t docs, uint32_t words) {
  std::ofstream out(path, std::ios::trunc);
  WordSource source(docs * 31 + words);
  for (uint32_t i = 0; i < docs; ++i) {
    out << absl::StrFormat("{\"id\": \"d%07u\", \"text\": \"%s\"}\n", i, source.Words(words));
  }
  out.close();
  if (!out) return absl::InternalError(absl::StrCat(path, ": cannot write the corpus"));
  return absl::OkStatus();
}

absl::StatusOr<std::string> SubmitScoreOnlyJob(const std::shared_ptr<grpc::Channel>& channel,
                                               const std::string& name,
                                               const std::string& corpus_path,
                                               uint32_t shard_size_docs) {
  v1::SubmitJobRequest request;
  v1::JobSpec* spec = request.mutable_spec();
  spec->set_name(name);
  spec->mutable_corpus()->add_paths(corpus_path);
  spec->mutable_corpus()->set_format(v1::CORPUS_FORMAT_JSONL);
  spec->mutable_corpus()->set_shard_size_docs(shard_size_docs);
  // Never opened: the simulated workers do not load models.
  spec->mutable_reference_models()->mutable_large()->set_checkpoint_dir("/bench/large");
  spec->mutable_reference_models()->mutable_small()->set_checkpoint_dir("/bench/small");
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::Job job;
  grpc::Status status = v1::JobService::NewStub(channel)->SubmitJob(&context, request, &job);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("SubmitJob: ", status.error_message()));
  }
  return job.id();
}

absl::StatusOr<v1::Job> GetJob(const std::shared_ptr<grpc::Channel>& channel,
                               const std::string& job_id) {
  v1::GetJobRequest request;
  request.set_job_id(job_id);
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::Job job;
  grpc::Status status = v1::JobService::NewStub(channel)->GetJob(&context, request, &job);
  if (!status.ok()) return absl::InternalError(absl::StrCat("GetJob: ", status.error_message()));
  return job;
}

// Scores `doc` the way a scorer's result looks, cheaply: one token per
// space-separated word, byte offsets inside the text, equal-length vectors.
// The text itself is not sent: the coordinator stores its own copy.
v1::ScoredDocument ScoreSynthetically(const v1::Document& doc) {
  v1::ScoredDocument out;
  out.set_id(doc.id());
  const std::string& text = doc.text();
  uint32_t k = 0;
  for (size_t begin = 0; begin < text.size();) {
    size_t end = text.find(' ', begin);
    if (end == std::string::npos) end = text.size();
    if (end > begin) {
      uint32_t hash = 2166136261u;  // FNV-1a of the word: a plausible token id
      for (size_t i = begin; i < end; ++i) {
        hash = (hash ^ static_cast<uint8_t>(text[i])) * 16777619u;
      }
      out.add_tokens(static_cast<int32_t>(hash % 32000));
      out.add_offsets(static_cast<uint32_t>(begin));
      out.add_offsets(static_cast<uint32_t>(end));
      const float large = 1.0f / static_cast<float>(2 + (hash % 61));
      const float small = 1.0f / static_cast<float>(2 + (k % 37));
      out.add_received_large(large);
      out.add_received_small(small);
      out.add_contrast(large - small);
      ++k;
    }
    begin = end + 1;
  }
  return out;
}

// --------------------------------------------------------- simulated scorers

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

// Runs `workers` scorer threads over `channels` until `total_shards`
// completions were accepted.
ScorerRun RunScorers(const std::vector<std::shared_ptr<grpc::Channel>>& channels, uint32_t workers,
                     uint64_t total_shards, uint32_t lease_wait_ms) {
  ScorerRun run;
  std::mutex mu;
  std::set<std::string> leased;
  std::atomic<uint64_t> completed{0};
  std::atomic<bool> done{false};
  std::atomic<uint64_t> errors{0};
  Clock::time_point start, end;
  std::latch ready(workers + 1);
  std::vector<std::thread> threads;
  for (uint32_t w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      auto stub = v1::WorkService::NewStub(channels[w % channels.size()]);
      ScorerRun mine;
      auto fail = [&](const std::string& what, const grpc::Status& status) {
        ++mine.errors;
        if (mine.first_error.empty()) {
          mine.first_error = absl::StrCat(what, ": ", status.error_message());
        }
        if (errors.fetch_add(1) > 100) done = true;  // give up: something is broken
      };
      std::string worker_id;
      {
        v1::RegisterWorkerRequest request;
        request.set_name(absl::StrCat("bench-scorer-", w));
        request.mutable_capabilities()->add_devices("cpu");
        v1::RegisterWorkerResponse response;
        grpc::ClientContext context;
        SetDeadline(&context);
        grpc::Status status = stub->RegisterWorker(&context, request, &response);
        if (!status.ok()) fail("RegisterWorker", status);
        worker_id = response.worker_id();
      }
      ready.arrive_and_wait();
      while (!done && !worker_id.empty()) {
        v1::LeaseShardRequest request;
        request.set_worker_id(worker_id);
        request.set_wait_ms(lease_wait_ms);
        v1::LeaseShardResponse response;
        grpc::ClientContext context;
        SetDeadline(&context);
        const auto lease_start = Clock::now();
        grpc::Status status = stub->LeaseShard(&context, request, &response);
        if (!status.ok()) {
          fail("LeaseShard", status);
          continue;
        }
        if (!response.has_lease()) {
          ++mine.empty_polls;
          continue;
        }
        mine.lease_ms.Add(1000 * SecondsSince(lease_start));
        const v1::ShardLease& lease = response.lease();
        {
          std::lock_guard<std::mutex> lock(mu);
          if (!leased.insert(lease.shard_id()).second) ++mine.duplicate_leases;
        }
        std::vector<v1::ScoredDocument> scored;
        scored.reserve(lease.documents_size());
        uint64_t tokens = 0;
        for (const v1::Document& doc : lease.documents()) {
          scored.push_back(ScoreSynthetically(doc));
          tokens += scored.back().tokens_size();
          mine.payload_bytes += scored.back().ByteSizeLong();
        }
        grpc::ClientContext complete_context;
        SetDeadline(&complete_context);
        v1::CompleteShardResponse completion;
        const auto complete_start = Clock::now();
        std::unique_ptr<grpc::ClientWriter<v1::CompleteShardRequest>> writer =
            stub->CompleteShard(&complete_context, &completion);
        v1::CompleteShardRequest message;
        v1::CompleteShardHeader* header = message.mutable_header();
        header->set_worker_id(worker_id);
        header->set_lease_id(lease.lease_id());
        header->set_shard_id(lease.shard_id());
        header->set_job_id(lease.job_id());
        header->set_document_count(static_cast<uint32_t>(scored.size()));
        header->set_tokens_scored(tokens);
        bool sent = writer->Write(message);
        for (size_t i = 0; sent && i < scored.size(); ++i) {
          message.Clear();
          *message.mutable_document() = std::move(scored[i]);
          sent = writer->Write(message);
        }
        writer->WritesDone();
        status = writer->Finish();
        if (!status.ok()) {
          fail("CompleteShard", status);
          continue;
        }
        mine.complete_ms.Add(1000 * SecondsSince(complete_start));
        if (!completion.accepted()) {
          ++mine.rejected;
          continue;
        }
        mine.checksums[lease.shard_id()] = completion.checksum();
        if (completed.fetch_add(1) + 1 == total_shards) {
          end = Clock::now();
          done = true;
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      run.lease_ms.Merge(mine.lease_ms);
      run.complete_ms.Merge(mine.complete_ms);
      run.duplicate_leases += mine.duplicate_leases;
      run.rejected += mine.rejected;
      run.empty_polls += mine.empty_polls;
      run.errors += mine.errors;
      if (run.first_error.empty()) run.first_error = mine.first_error;
      run.payload_bytes += mine.payload_bytes;
      run.checksums.insert(mine.checksums.begin(), mine.checksums.end());
    });
  }
  ready.arrive_and_wait();
  start = Clock::now();
  for (std::thread& t : threads) t.join();
  run.completed = completed;
  run.seconds = run.completed == total_shards ? std::chrono::duration<double>(end - start).count()
                                              : SecondsSince(start);
  return run;
}

// grpc.health.v1 Check from `clients` threads, `calls` each.
struct UnaryRun {
  uint64_t calls = 0;
  double seconds = 0;
  Latencies ms;
  uint64_t errors = 0;
};

UnaryRun RunHealthChecks(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                         uint32_t clients, uint32_t calls) {
  UnaryRun run;
  std::mutex mu;
  std::latch ready(clients + 1);
  std::vector<std::thread> threads;
  for (uint32_t c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto stub = grpc::health::v1::Health::NewStub(channels[c % channels.size()]);
      Latencies mine;
      uint64_t errors = 0;
      ready.arrive_and_wait();
      for (uint32_t i = 0; i < calls; ++i) {
        grpc::health::v1::HealthCheckRequest request;
        grpc::health::v1::HealthCheckResponse response;
        grpc::ClientContext context;
        SetDeadline(&context);
        const auto start = Clock::now();
        if (!stub->Check(&context, request, &response).ok()) ++errors;
        mine.Add(1000 * SecondsSince(start));
      }
      std::lock_guard<std::mutex> lock(mu);
      run.ms.Merge(mine);
      run.errors += errors;
    });
  }
  ready.arrive_and_wait();
  const auto start = Clock::now();
  for (std::thread& t : threads) t.join();
  run.seconds = SecondsSince(start);
  run.calls = uint64_t{clients} * calls;
  return run;
}

// ------------------------------------------------------------ disk floors

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

absl::Status SqliteCheck(int rc, sqlite3* db, const char* what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("sqlite ", what, ": ", sqlite3_errmsg(db)));
}

// One thread, `txns` transactions of one UPDATE each, WAL + synchronous=FULL
// (the StateStore's settings), prepared statements reused.
absl::StatusOr<FloorRun> RunBareSqlite(const std::string& path, uint32_t txns) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    sqlite3_close(db);
    return absl::InternalError(absl::StrCat(path, ": cannot open"));
  }
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> closer(db, sqlite3_close_v2);
  CLUEDROP_RETURN_IF_ABSL_ERROR(
      SqliteCheck(sqlite3_exec(db,
                               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                               "CREATE TABLE t(k INTEGER PRIMARY KEY, v INTEGER NOT NULL);"
                               "INSERT INTO t VALUES(1, 0);",
                               nullptr, nullptr, nullptr),
                  db, "setup"));
  sqlite3_stmt *begin = nullptr, *update = nullptr, *commit = nullptr;
  CLUEDROP_RETURN_IF_ABSL_ERROR(
      SqliteCheck(sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, nullptr), db, "prepare"));
  CLUEDROP_RETURN_IF_ABSL_ERROR(
      SqliteCheck(sqlite3_prepare_v2(db, "UPDATE t SET v = ? WHERE k = 1", -1, &update, nullptr),
                  db, "prepare"));
  CLUEDROP_RETURN_IF_ABSL_ERROR(
      SqliteCheck(sqlite3_prepare_v2(db, "COMMIT", -1, &commit, nullptr), db, "prepare"));
  FloorRun run;
  absl::Status status;
  const uint32_t warmup = 10;
  Clock::time_point start = Clock::now();
  for (uint32_t i = 0; i < warmup + txns && status.ok(); ++i) {
    if (i == warmup) start = Clock::now();
    const auto t0 = Clock::now();
    status = SqliteCheck(sqlite3_step(begin), db, "BEGIN");
    sqlite3_bind_int64(update, 1, i);
    if (status.ok()) status = SqliteCheck(sqlite3_step(update), db, "UPDATE");
    if (status.ok()) status = SqliteCheck(sqlite3_step(commit), db, "COMMIT");
    sqlite3_reset(begin);
    sqlite3_reset(update);
    sqlite3_reset(commit);
    if (i >= warmup) run.ms.Add(1000 * SecondsSince(t0));
  }
  run.seconds = SecondsSince(start);
  run.ops = txns;
  sqlite3_finalize(begin);
  sqlite3_finalize(update);
  sqlite3_finalize(commit);
  if (!status.ok()) return status;
  return run;
}

absl::Status FsyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat(path, ": open: ", std::strerror(errno)));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return absl::InternalError(absl::StrCat(path, ": fsync: ", std::strerror(errno)));
  return absl::OkStatus();
}

// `writes` files of `bytes` bytes each, made durable the way ShardStore::Write
// does it: temp file, write, fsync, rename, fsync of the directory.
absl::StatusOr<FloorRun> RunBareFileWrites(const std::string& dir, uint32_t writes, size_t bytes) {
  fs::create_directories(dir);
  const std::string payload(bytes, 'x');
  FloorRun run;
  const auto start = Clock::now();
  for (uint32_t i = 0; i < writes; ++i) {
    const auto t0 = Clock::now();
    const std::string temp = absl::StrCat(dir, "/.f", i, ".tmp");
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return absl::InternalError(absl::StrCat(temp, ": ", std::strerror(errno)));
    const bool ok = ::write(fd, payload.data(), payload.size()) == static_cast<ssize_t>(bytes) &&
                    ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return absl::InternalError(absl::StrCat(temp, ": write/fsync failed"));
    if (::rename(temp.c_str(), absl::StrCat(dir, "/f", i).c_str()) != 0) {
      return absl::InternalError(absl::StrCat(temp, ": rename: ", std::strerror(errno)));
    }
    CLUEDROP_RETURN_IF_ABSL_ERROR(FsyncPath(dir, O_RDONLY | O_DIRECTORY));
    run.ms.Add(1000 * SecondsSince(t0));
  }
  run.seconds = SecondsSince(start);
  run.ops = writes;
  return run;
}

// ---------------------------------------------------------------- table 1

absl::Status LeaseTable(const CoordinatorBenchOptions& options, const std::string& root, json* out,
                        std::vector<std::string>* failures) {
  const std::string dir = root + "/lease";
  fs::create_directories(dir);
  const std::string corpus = dir + "/corpus.jsonl";
  const uint32_t docs = options.lease_shards * options.lease_shard_docs;
  CLUEDROP_RETURN_IF_ABSL_ERROR(WriteCorpus(corpus, docs, options.lease_doc_words));

  // The disk floors run half before and half after the coordinator, so that
  // a change in the disk's load during the run affects both sides alike.
  // Their files are as large as the coordinator's shard files.
  size_t file_size = 32;  // docs/shard-format.md: header, then length-prefixed records
  {
    WordSource source(1);
    for (uint32_t i = 0; i < options.lease_shard_docs; ++i) {
      v1::Document doc;
      doc.set_id(absl::StrFormat("d%07u", i));
      doc.set_text(source.Words(options.lease_doc_words));
      v1::ScoredDocument scored = ScoreSynthetically(doc);
      scored.set_text(doc.text());  // the coordinator stores its own copy of the text
      file_size += 4 + scored.ByteSizeLong();
    }
  }
  std::fprintf(stderr, "table 1: SQLite and file-write references (first half)...\n");
  CLUEDROP_ASSIGN_OR_RETURN(FloorRun sqlite,
                            RunBareSqlite(dir + "/floor-1.db", (options.sqlite_txns + 1) / 2));
  CLUEDROP_ASSIGN_OR_RETURN(
      FloorRun files,
      RunBareFileWrites(dir + "/floor-files-1", (options.file_writes + 1) / 2, file_size));

  ScorerRun scorers;
  UnaryRun health;
  std::string job_id, state;
  uint32_t shards_scored = 0;
  double submit_s = 0;
  {
    CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<InProcessCoordinator> coordinator,
                              InProcessCoordinator::Start(dir + "/data", 1 << 20));
    CLUEDROP_ASSIGN_OR_RETURN(auto channels, MakeChannels(coordinator->port(), options.channels));
    const auto submit_start = Clock::now();
    CLUEDROP_ASSIGN_OR_RETURN(job_id, SubmitScoreOnlyJob(channels[0], "coordinator-bench-lease",
                                                         corpus, options.lease_shard_docs));
    submit_s = SecondsSince(submit_start);
    std::fprintf(stderr, "table 1: job %s submitted (%u docs, %.2f s); %u workers leasing...\n",
                 job_id.c_str(), docs, submit_s, options.workers);
    scorers = RunScorers(channels, options.workers, options.lease_shards, options.lease_wait_ms);
    CLUEDROP_ASSIGN_OR_RETURN(v1::Job job, GetJob(channels[0], job_id));
    state = v1::JobState_Name(job.state());
    shards_scored = job.progress().shards_scored();
    std::fprintf(stderr, "table 1: %s after %.2f s; health-check reference...\n", state.c_str(),
                 scorers.seconds);
    health = RunHealthChecks(channels, options.workers, options.health_calls);
  }
  std::fprintf(stderr, "table 1: SQLite and file-write references (second half)...\n");
  CLUEDROP_ASSIGN_OR_RETURN(FloorRun sqlite_after,
                            RunBareSqlite(dir + "/floor-2.db", options.sqlite_txns / 2));
  sqlite.Merge(sqlite_after);
  CLUEDROP_ASSIGN_OR_RETURN(
      FloorRun files_after,
      RunBareFileWrites(dir + "/floor-files-2", options.file_writes / 2, file_size));
  files.Merge(files_after);

  const double ops_s = scorers.completed / scorers.seconds;
  const double sqlite_s = sqlite.ops / sqlite.seconds;
  const double file_s = files.ops / files.seconds;
  const double health_s = health.calls / health.seconds;
  const double txn_ms = 1000 / sqlite_s, file_ms = 1000 / file_s;
  const double serial_floor = 1000 / (2 * txn_ms + file_ms);
  const double locked_ceiling = 1000 / (2 * txn_ms);
  const uint64_t duplicates = scorers.duplicate_leases + scorers.rejected;

  if (duplicates != 0) {
    failures->push_back(absl::StrCat("table 1: ", duplicates, " duplicates"));
  }
  if (state != "JOB_STATE_SUCCEEDED") failures->push_back("table 1: job state " + state);
  if (scorers.errors != 0) {
    failures->push_back(
        absl::StrCat("table 1: ", scorers.errors, " RPC errors, first: ", scorers.first_error));
  }
  if (health.errors != 0) {
    failures->push_back(absl::StrCat("table 1: ", health.errors, " health-check errors"));
  }

  const double coordinator_rpc_s = 2 * ops_s;
  json rows = json::array();
  auto row_json = [&](const std::string& name, double per_s, Latencies* ms, double vs) {
    json row = {{"row", name}, {"per_s", per_s}, {"coordinator_over_row", vs}};
    if (ms != nullptr) {
      row["p50_ms"] = ms->Quantile(0.5);
      row["p99_ms"] = ms->Quantile(0.99);
    }
    rows.push_back(row);
  };
  row_json("coordinator op (LeaseShard + CompleteShard)", ops_s, nullptr, 1);
  row_json("coordinator LeaseShard", NAN, &scorers.lease_ms, NAN);
  row_json("coordinator CompleteShard", NAN, &scorers.complete_ms, NAN);
  row_json("(a) SQLite fsynced txn", sqlite_s, &sqlite.ms, ops_s / sqlite_s);
  row_json("(a) shard file write", file_s, &files.ms, ops_s / file_s);
  row_json("(a) floor 1/(2 txn + 1 file)", serial_floor, nullptr, ops_s / serial_floor);
  row_json("(a) ceiling 1/(2 txn)", locked_ceiling, nullptr, ops_s / locked_ceiling);
  row_json("(b) gRPC health Check", health_s, &health.ms, ops_s / health_s);
  (*out)["lease"] = {
      {"workers", options.workers},
      {"channels", options.channels},
      {"shards", options.lease_shards},
      {"shard_docs", options.lease_shard_docs},
      {"doc_words", options.lease_doc_words},
      {"job_state", state},
      {"shards_scored", shards_scored},
      {"seconds", scorers.seconds},
      {"submit_seconds", submit_s},
      {"duplicate_leases", scorers.duplicate_leases},
      {"rejected_completions", scorers.rejected},
      {"empty_polls", scorers.empty_polls},
      {"rpc_errors", scorers.errors},
      {"shard_file_bytes", file_size},
      {"rows", rows},
  };
  if (options.json) return absl::OkStatus();

  std::printf(
      "\nTable 1: lease + complete, %u workers (threads) over %u loopback TCP channels, "
      "%u shards x %u docs x %u words, score-only job\n",
      options.workers, options.channels, options.lease_shards, options.lease_shard_docs,
      options.lease_doc_words);
  Table table({"row", "ops/s", "p50 ms", "p99 ms", "coordinator/row"});
  auto quantiles = [](Latencies& ms) {
    return std::make_pair(Fmt(ms.Quantile(0.5), 2), Fmt(ms.Quantile(0.99), 2));
  };
  table.Add({"coordinator: 1 op = LeaseShard + CompleteShard", Fmt(ops_s), "", "", "1.000"});
  auto [lease50, lease99] = quantiles(scorers.lease_ms);
  table.Add({"  LeaseShard (calls that got a shard)", "", lease50, lease99, ""});
  auto [complete50, complete99] = quantiles(scorers.complete_ms);
  table.Add({absl::StrCat("  CompleteShard (header + ", options.lease_shard_docs, " docs)"), "",
             complete50, complete99, ""});
  auto [sqlite50, sqlite99] = quantiles(sqlite.ms);
  table.Add({"(a) SQLite txn: 1 UPDATE, WAL, sync=FULL, 1 thread", Fmt(sqlite_s), sqlite50,
             sqlite99, Ratio(ops_s, sqlite_s)});
  auto [file50, file99] = quantiles(files.ms);
  table.Add({absl::StrCat("(a) shard file write ", file_size, " B: fsync+rename+dir fsync"),
             Fmt(file_s), file50, file99, Ratio(ops_s, file_s)});
  table.Add({"(a) durability floor, serial: 1/(2 txn + 1 file)", Fmt(serial_floor), "", "",
             Ratio(ops_s, serial_floor)});
  table.Add({"(a) ceiling with commits under one lock: 1/(2 txn)", Fmt(locked_ceiling), "", "",
             Ratio(ops_s, locked_ceiling)});
  auto [health50, health99] = quantiles(health.ms);
  table.Add({absl::StrCat("(b) gRPC unary health Check, ", options.workers, " clients"),
             Fmt(health_s), health50, health99, Ratio(ops_s, health_s)});
  table.Print();
  std::printf(
      "duplicates: %llu (shards leased twice %llu, completions not accepted %llu)\n"
      "job: %s, %u/%u shards scored; %.2f s from first lease to last completion "
      "(%llu completions); submit %.2f s\n"
      "empty lease polls %llu, RPC errors %llu; coordinator RPCs/s (2 per op) %.1f = %.3f x (b)\n",
      static_cast<unsigned long long>(duplicates),
      static_cast<unsigned long long>(scorers.duplicate_leases),
      static_cast<unsigned long long>(scorers.rejected), state.c_str(), shards_scored,
      options.lease_shards, scorers.seconds, static_cast<unsigned long long>(scorers.completed),
      submit_s, static_cast<unsigned long long>(scorers.empty_polls),
      static_cast<unsigned long long>(scorers.errors), coordinator_rpc_s,
      coordinator_rpc_s / health_s);
  std::fflush(stdout);
  return absl::OkStatus();
}

// ---------------------------------------------------------------- table 2

// Drops the page cache of `paths` (clean after their fsync), so the next
// read comes from the disk.
void DropCaches(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

struct StreamPass {
  double seconds = 0;
  uint64_t shards = 0;
  uint64_t docs = 0;
  uint64_t chunks = 0;
  uint64_t doc_bytes = 0;  // counted with `verify` only
  std::string error;       // the first check that failed
};

// Streams every shard of `job_id` (rank 0 of world 1) and checks that
// indexes arrive in order, each shard ends with one `last` chunk whose
// checksum is the one CompleteShard returned and, with `verify`, the CRC-32C
// of the re-serialized records (docs/shard-format.md) matches it.
StreamPass StreamOnce(v1::TrainService::Stub* stub, const std::string& job_id, bool verify,
                      const std::map<std::string, uint32_t>& expected) {
  StreamPass pass;
  auto check = [&](bool ok, const std::string& what) {
    if (!ok && pass.error.empty()) pass.error = what;
  };
  v1::StreamShardsRequest request;
  request.set_job_id(job_id);
  request.set_rank(0);
  request.set_cursor(0);
  grpc::ClientContext context;
  SetDeadline(&context);
  const auto start = Clock::now();
  std::unique_ptr<grpc::ClientReader<v1::ScoredShardChunk>> reader =
      stub->StreamShards(&context, request);
  v1::ScoredShardChunk chunk;
  std::string shard_id, record;
  uint32_t crc = 0;
  while (reader->Read(&chunk)) {
    ++pass.chunks;
    check(chunk.index() == pass.shards,
          absl::StrCat("chunk index ", chunk.index(), ", expected ", pass.shards));
    if (shard_id.empty()) shard_id = chunk.shard_id();
    check(chunk.shard_id() == shard_id, absl::StrCat("shard ", shard_id, " changed mid-shard"));
    pass.docs += chunk.documents_size();
    if (verify) {
      for (const v1::ScoredDocument& doc : chunk.documents()) {
        record.clear();
        doc.SerializeToString(&record);
        const uint32_t n = static_cast<uint32_t>(record.size());
        const char length[4] = {static_cast<char>(n), static_cast<char>(n >> 8),
                                static_cast<char>(n >> 16), static_cast<char>(n >> 24)};
        crc = coordinator::Crc32c(absl::string_view(length, 4), crc);
        crc = coordinator::Crc32c(record, crc);
        pass.doc_bytes += n;
      }
    }
    if (chunk.last()) {
      auto it = expected.find(shard_id);
      check(it != expected.end() && it->second == chunk.checksum(),
            absl::StrCat("shard ", shard_id, ": checksum ", chunk.checksum(),
                         " differs from CompleteShard's"));
      if (verify) {
        check(crc == chunk.checksum(),
              absl::StrCat("shard ", shard_id, ": CRC-32C ", crc, " of the records, chunk says ",
                           chunk.checksum()));
      }
      ++pass.shards;
      shard_id.clear();
      crc = 0;
    }
  }
  grpc::Status status = reader->Finish();
  pass.seconds = SecondsSince(start);
  check(status.ok(), absl::StrCat("StreamShards: ", status.error_message()));
  check(shard_id.empty(), "the stream ended inside a shard (no `last` chunk)");
  return pass;
}

absl::StatusOr<std::vector<size_t>> ParseSizes(const std::string& text) {
  std::vector<size_t> sizes;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    uint64_t v = 0;
    if (!absl::SimpleAtoi(part, &v) || v == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--stream_chunk_bytes: expected positive integers, got '", part, "'"));
    }
    sizes.push_back(static_cast<size_t>(v));
  }
  if (sizes.empty()) return absl::InvalidArgumentError("--stream_chunk_bytes: empty");
  return sizes;
}

std::string SizeLabel(size_t bytes) {
  if (bytes % (1 << 20) == 0) return absl::StrCat(bytes >> 20, " MiB");
  if (bytes % (1 << 10) == 0) return absl::StrCat(bytes >> 10, " KiB");
  return absl::StrCat(bytes, " B");
}

absl::Status StreamTable(const CoordinatorBenchOptions& options, const std::string& root, json* out,
                         std::vector<std::string>* failures) {
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<size_t> chunk_sizes,
                            ParseSizes(options.stream_chunk_bytes));
  const std::string dir = root + "/stream";
  const std::string data = dir + "/data";
  fs::create_directories(dir);
  const std::string corpus = dir + "/corpus.jsonl";
  const uint32_t total_docs = options.stream_shards * options.stream_shard_docs;
  CLUEDROP_RETURN_IF_ABSL_ERROR(WriteCorpus(corpus, total_docs, options.stream_doc_tokens));

  // Score the job through WorkService.
  ScorerRun ingest;
  std::string job_id, state;
  {
    CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<InProcessCoordinator> coordinator,
                              InProcessCoordinator::Start(data, chunk_sizes[0]));
    CLUEDROP_ASSIGN_OR_RETURN(auto channels,
                              MakeChannels(coordinator->port(), options.ingest_workers));
    CLUEDROP_ASSIGN_OR_RETURN(job_id, SubmitScoreOnlyJob(channels[0], "coordinator-bench-stream",
                                                         corpus, options.stream_shard_docs));
    std::fprintf(stderr, "table 2: job %s submitted; scoring %u shards with %u workers...\n",
                 job_id.c_str(), options.stream_shards, options.ingest_workers);
    ingest =
        RunScorers(channels, options.ingest_workers, options.stream_shards, options.lease_wait_ms);
    CLUEDROP_ASSIGN_OR_RETURN(v1::Job job, GetJob(channels[0], job_id));
    state = v1::JobState_Name(job.state());
  }
  if (state != "JOB_STATE_SUCCEEDED") failures->push_back("table 2: job state " + state);
  if (ingest.errors != 0 || ingest.duplicate_leases + ingest.rejected != 0) {
    failures->push_back(absl::StrCat("table 2: scoring had ", ingest.errors,
                                     " errors (first: ", ingest.first_error, "), ",
                                     ingest.duplicate_leases + ingest.rejected, " duplicates"));
  }

  // The stored shard files and their payload.
  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<coordinator::ShardStore> store,
                            coordinator::ShardStore::Open(data + "/shards"));
  std::vector<std::string> keys, paths;
  for (const auto& entry : fs::directory_iterator(data + "/shards/" + job_id)) {
    if (entry.path().extension() != ".shard") continue;
    keys.push_back(entry.path().stem().string());
    paths.push_back(entry.path().string());
  }
  std::sort(keys.begin(), keys.end());
  std::sort(paths.begin(), paths.end());
  uint64_t doc_bytes = 0, file_bytes = 0, stored_docs = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    CLUEDROP_ASSIGN_OR_RETURN(coordinator::ShardFileInfo info, store->Info(job_id, keys[i]));
    doc_bytes += info.payload_bytes - 4 * uint64_t{info.document_count};
    stored_docs += info.document_count;
    file_bytes += fs::file_size(paths[i]);
  }
  if (keys.size() != options.stream_shards || stored_docs != total_docs) {
    failures->push_back(absl::StrCat("table 2: ", keys.size(), " shard files with ", stored_docs,
                                     " docs, expected ", options.stream_shards, " with ",
                                     total_docs));
  }
  const double mb = doc_bytes / 1e6;
  const uint32_t repeats = std::max(1u, options.repeats);

  struct Row {
    std::string name;
    double seconds, min_s, max_s;  // median, fastest, slowest pass
    double mb_s, docs_s;
    double vs_a = NAN, vs_b = NAN;
    size_t chunk = 0;
  };
  std::vector<Row> rows;
  auto add_row = [&](std::string name, const std::vector<double>& seconds, size_t chunk) {
    const double s = Median(seconds);
    rows.push_back({std::move(name), s, *std::min_element(seconds.begin(), seconds.end()),
                    *std::max_element(seconds.begin(), seconds.end()), mb / s, total_docs / s, NAN,
                    NAN, chunk});
  };

  // The coordinator, reopened per chunk size (recovering the job from disk);
  // plain and verifying passes alternate, so load changes hit both alike.
  std::vector<double> open_seconds;
  for (size_t chunk : chunk_sizes) {
    CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<InProcessCoordinator> coordinator,
                              InProcessCoordinator::Start(data, chunk));
    open_seconds.push_back(coordinator->open_seconds());
    CLUEDROP_ASSIGN_OR_RETURN(auto channels, MakeChannels(coordinator->port(), 1));
    auto stub = v1::TrainService::NewStub(channels[0]);
    std::fprintf(stderr, "table 2: StreamShards, chunk %s...\n", SizeLabel(chunk).c_str());
    std::vector<double> seconds[2];
    for (uint32_t r = 0; r < repeats; ++r) {
      for (bool verify : {false, true}) {
        if (options.cold_cache) DropCaches(paths);
        StreamPass pass = StreamOnce(stub.get(), job_id, verify, ingest.checksums);
        if (pass.error.empty() && (pass.shards != keys.size() || pass.docs != total_docs)) {
          pass.error = absl::StrCat(pass.shards, " shards / ", pass.docs, " docs streamed");
        }
        if (verify && pass.error.empty() && pass.doc_bytes != doc_bytes) {
          pass.error =
              absl::StrCat(pass.doc_bytes, " document bytes streamed, ", doc_bytes, " stored");
        }
        if (!pass.error.empty()) failures->push_back("table 2: " + pass.error);
        seconds[verify].push_back(pass.seconds);
      }
    }
    add_row(absl::StrCat("coordinator StreamShards, chunk ", SizeLabel(chunk)), seconds[0], chunk);
    add_row(absl::StrCat("coordinator StreamShards, chunk ", SizeLabel(chunk),
                         " + client CRC-32C check"),
            seconds[1], chunk);
  }

  // The references, their passes interleaved: (a) ShardStore::ReadChunks in
  // process into a no-op sink, what (a) is made of (the payload's CRC-32C
  // and the records' protobuf parsing, on the bytes already in memory), and
  // (b) raw read() of the files.
  std::fprintf(stderr, "table 2: references...\n");
  std::vector<std::string> contents;
  for (const std::string& path : paths) {
    std::ifstream in(path, std::ios::binary);
    contents.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  constexpr size_t kHeaderBytes = 32;  // docs/shard-format.md
  std::vector<std::vector<double>> read_chunks_s(chunk_sizes.size());
  std::vector<double> crc_s, parse_s, raw_s;
  std::vector<char> buffer(1 << 20);
  volatile uint32_t crc_sink = 0;
  for (uint32_t r = 0; r < repeats; ++r) {
    for (size_t c = 0; c < chunk_sizes.size(); ++c) {
      if (options.cold_cache) DropCaches(paths);
      uint64_t docs = 0;
      const auto start = Clock::now();
      for (const std::string& key : keys) {
        CLUEDROP_RETURN_IF_ABSL_ERROR(
            store->ReadChunks(job_id, key, chunk_sizes[c],
                              [&docs](std::vector<v1::ScoredDocument>&& d, bool, uint32_t) {
                                docs += d.size();
                                return true;
                              }));
      }
      read_chunks_s[c].push_back(SecondsSince(start));
      if (docs != total_docs) failures->push_back("table 2: ReadChunks lost documents");
    }
    auto start = Clock::now();
    for (const std::string& file : contents) {
      crc_sink = crc_sink ^ coordinator::Crc32c(absl::string_view(file).substr(kHeaderBytes));
    }
    crc_s.push_back(SecondsSince(start));
    uint64_t docs = 0;
    start = Clock::now();
    for (const std::string& file : contents) {
      std::vector<v1::ScoredDocument> parsed;
      for (size_t at = kHeaderBytes; at + 4 <= file.size();) {
        uint32_t n = 0;
        for (int i = 0; i < 4; ++i) n |= uint32_t{static_cast<uint8_t>(file[at + i])} << (8 * i);
        at += 4;
        if (!parsed.emplace_back().ParseFromArray(file.data() + at, static_cast<int>(n))) {
          return absl::DataLossError("a shard record does not parse");
        }
        at += n;
        ++docs;
      }
    }
    parse_s.push_back(SecondsSince(start));
    if (docs != total_docs) failures->push_back("table 2: in-memory parse lost documents");
    if (options.cold_cache) DropCaches(paths);
    uint64_t bytes = 0;
    start = Clock::now();
    for (const std::string& path : paths) {
      const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return absl::InternalError(absl::StrCat(path, ": ", std::strerror(errno)));
      ssize_t n;
      while ((n = ::read(fd, buffer.data(), buffer.size())) > 0) bytes += n;
      ::close(fd);
    }
    raw_s.push_back(SecondsSince(start));
    if (bytes != file_bytes) failures->push_back("table 2: raw read came up short");
  }
  std::map<size_t, double> read_chunks_mb_s;
  for (size_t c = 0; c < chunk_sizes.size(); ++c) {
    add_row(absl::StrCat("(a) ShardStore::ReadChunks, chunk ", SizeLabel(chunk_sizes[c]),
                         ", no-op sink"),
            read_chunks_s[c], chunk_sizes[c]);
    read_chunks_mb_s[chunk_sizes[c]] = rows.back().mb_s;
  }
  add_row("(a) part: CRC-32C of the payload in memory (crc32c.cc)", crc_s, 0);
  add_row("(a) part: protobuf parse of the records in memory", parse_s, 0);
  add_row("(b) raw read() of the shard files, 1 MiB buffer", raw_s, 0);
  const double raw_mb_s = rows.back().mb_s;
  for (Row& row : rows) {
    if (row.name.rfind("coordinator", 0) != 0) continue;
    row.vs_a = row.mb_s / read_chunks_mb_s[row.chunk];
    row.vs_b = row.mb_s / raw_mb_s;
  }

  const double ingest_mb_s = ingest.payload_bytes / 1e6 / ingest.seconds;
  json json_rows = json::array();
  for (const Row& row : rows) {
    json_rows.push_back({{"row", row.name},
                         {"seconds", row.seconds},
                         {"min_seconds", row.min_s},
                         {"max_seconds", row.max_s},
                         {"mb_per_s", row.mb_s},
                         {"docs_per_s", row.docs_s},
                         {"vs_a", row.vs_a},
                         {"vs_b", row.vs_b}});
  }
  (*out)["stream"] = {
      {"shards", options.stream_shards},
      {"shard_docs", options.stream_shard_docs},
      {"doc_tokens", options.stream_doc_tokens},
      {"document_bytes", doc_bytes},
      {"file_bytes", file_bytes},
      {"repeats", repeats},
      {"cold_cache", options.cold_cache},
      {"job_state", state},
      {"ingest_mb_per_s", ingest_mb_s},
      {"ingest_shards_per_s", ingest.completed / ingest.seconds},
      {"open_seconds", open_seconds},
      {"rows", json_rows},
  };
  if (options.json) return absl::OkStatus();

  std::printf(
      "\nTable 2: StreamShards to one trainer client, %u shards x %u docs x %u tokens = %.1f MB "
      "of ScoredDocument in %u docs (%s page cache), median of %u\n",
      options.stream_shards, options.stream_shard_docs, options.stream_doc_tokens, mb, total_docs,
      options.cold_cache ? "dropped" : "warm", repeats);
  Table table({"row", "MB/s", "docs/s", "s", "s min-max", "vs (a)", "vs (b)"});
  for (const Row& row : rows) {
    table.Add({row.name, Fmt(row.mb_s), Fmt(row.docs_s, 0), Fmt(row.seconds, 3),
               absl::StrCat(Fmt(row.min_s, 3), "-", Fmt(row.max_s, 3)), Fmt(row.vs_a, 3),
               Fmt(row.vs_b, 3)});
  }
  table.Print();
  std::printf(
      "MB = 10^6 bytes of serialized ScoredDocument (the files hold %.1f MB with record "
      "prefixes and headers); vs (a): the same chunk size\n"
      "scoring the job: CompleteShard ingest %.1f MB/s, %.1f shards/s with %u workers; job %s\n"
      "JobManager::Open (recovering %u shards) before each stream: %s s\n",
      file_bytes / 1e6, ingest_mb_s, ingest.completed / ingest.seconds, options.ingest_workers,
      state.c_str(), options.stream_shards,
      absl::StrJoin(open_seconds, ", ", [](std::string* o, double s) {
        absl::StrAppend(o, absl::StrFormat("%.3f", s));
      }).c_str());
  std::fflush(stdout);
  return absl::OkStatus();
}

// ------------------------------------------------------------------- main

int Main(int argc, char** argv) {
  CoordinatorBenchOptions options;
  FlagSet flags("coordinator_bench",
                "Measures the coordinator's lease/complete and shard-streaming throughput over "
                "loopback gRPC next to bare SQLite, bare gRPC and raw disk reads.");
  flags.Add("data_dir", &options.data_dir,
            "parent of the run's fresh data directory (use a real disk: fsyncs are measured)");
  flags.Add("keep_data", &options.keep_data, "keep the run's data directory");
  flags.Add("tables", &options.tables, "tables to measure: lease, stream or lease,stream");
  flags.Add("json", &options.json, "print one JSON object instead of the tables");
  flags.Add("workers", &options.workers, "table 1: simulated scorer workers (threads)");
  flags.Add("channels", &options.channels, "table 1: TCP connections the workers share");
  flags.Add("lease_shards", &options.lease_shards, "table 1: shards in the job");
  flags.Add("lease_shard_docs", &options.lease_shard_docs, "table 1: documents per shard");
  flags.Add("lease_doc_words", &options.lease_doc_words, "table 1: words (tokens) per document");
  flags.Add("lease_wait_ms", &options.lease_wait_ms, "LeaseShard long-poll wait, milliseconds");
  flags.Add("sqlite_txns", &options.sqlite_txns, "table 1 (a): SQLite transactions");
  flags.Add("file_writes", &options.file_writes, "table 1 (a): durable shard-file writes");
  flags.Add("health_calls", &options.health_calls, "table 1 (b): health checks per client");
  flags.Add("stream_shards", &options.stream_shards, "table 2: shards in the job");
  flags.Add("stream_shard_docs", &options.stream_shard_docs, "table 2: documents per shard");
  flags.Add("stream_doc_tokens", &options.stream_doc_tokens, "table 2: tokens per document");
  flags.Add("stream_chunk_bytes", &options.stream_chunk_bytes,
            "table 2: comma-separated JobManagerOptions.stream_chunk_bytes values to measure");
  flags.Add("ingest_workers", &options.ingest_workers,
            "table 2: workers that score the job before it is streamed");
  flags.Add("repeats", &options.repeats, "table 2: passes per row (the median is shown)");
  flags.Add("cold_cache", &options.cold_cache,
            "table 2: drop the shard files from the page cache before every pass");
  absl::StatusOr<std::vector<std::string>> args = flags.Parse(argc, argv);
  if (!args.ok()) {
    std::cerr << args.status().message() << "\n";
    return 2;
  }
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return 0;
  }
  bool lease = false, stream = false;
  for (absl::string_view table : absl::StrSplit(options.tables, ',', absl::SkipWhitespace())) {
    if (table == "lease") {
      lease = true;
    } else if (table == "stream") {
      stream = true;
    } else {
      std::cerr << "--tables: unknown table '" << table << "' (lease, stream)\n";
      return 2;
    }
  }
  if (!args->empty() || options.workers == 0 || options.lease_shards == 0 ||
      options.lease_shard_docs == 0 || options.lease_doc_words == 0 || options.stream_shards == 0 ||
      options.stream_shard_docs == 0 || options.stream_doc_tokens == 0 ||
      options.ingest_workers == 0 || options.sqlite_txns == 0 || options.file_writes == 0 ||
      options.health_calls == 0) {
    std::cerr << "coordinator_bench takes no positional arguments and sizes must be > 0\n";
    return 2;
  }

  std::error_code ec;
  fs::create_directories(options.data_dir, ec);
  std::string root = options.data_dir + "/coordinator_bench.XXXXXX";
  if (::mkdtemp(root.data()) == nullptr) {
    std::cerr << root << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  const std::string filesystem = DescribeFilesystem(root);
  const std::string cpu = FirstLineWith("/proc/cpuinfo", "model name");
  const unsigned cores = std::thread::hardware_concurrency();
  json out = {{"machine",
               {{"cores", cores}, {"cpu", cpu}, {"data_dir", root}, {"filesystem", filesystem}}}};
  if (!options.json) {
    std::printf("coordinator_bench: %u cores (%s); data in %s: %s\n", cores, cpu.c_str(),
                root.c_str(), filesystem.c_str());
    std::fflush(stdout);
  }
  std::vector<std::string> failures;
  absl::Status status;
  if (lease) status = LeaseTable(options, root, &out, &failures);
  if (status.ok() && stream) status = StreamTable(options, root, &out, &failures);
  if (!options.keep_data) fs::remove_all(root, ec);
  if (!status.ok()) {
    std::cerr << "coordinator_bench: " << status << "\n";
    return 1;
  }
  out["failures"] = failures;
  if (options.json) std::printf("%s\n", out.dump().c_str());
  for (const std::string& failure : failures) std::cerr << "FAIL: " << failure << "\n";
  if (!failures.empty()) return 1;
  if (!options.json) std::printf("\nall checks passed\n");
  return 0;
}

}  // namespace
}  // namespace cluedrop::bench

int main(int argc, char** argv) { return cluedrop::bench::Main(argc, argv); }

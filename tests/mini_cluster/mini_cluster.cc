#include "tests/mini_cluster/mini_cluster.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <prometheus/registry.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "workers/trainer/shard_feed.h"
#include "workers/trainer/trainer_client.h"

namespace cluedrop::test {

MiniCluster::MiniCluster(MiniClusterOptions options) : options_(std::move(options)) {}

absl::Status MiniCluster::Start() {
  const std::filesystem::path parent = options_.parent_dir.empty()
                                           ? std::filesystem::temp_directory_path()
                                           : std::filesystem::path(options_.parent_dir);
  std::string pattern = (parent / "mini_cluster.XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", pattern, " failed"));
  }
  dir_ = pattern;
  options_.manager.data_dir = dir_ + "/data";
  return StartCoordinator();
}

absl::Status MiniCluster::StartCoordinator() {
  coordinator::CoordinatorServerOptions options;
  options.manager = options_.manager;
  options.auth = options_.auth;
  options.limits = options_.limits;
  options.server.grpc_address = "127.0.0.1:0";
  options.server.metrics_address = "";  // no /metrics port per test
  options.server.shutdown_drain_ms = 0;
  options.server.shutdown_grace_ms = 0;
  CLUEDROP_ASSIGN_OR_RETURN(coordinator_, coordinator::CoordinatorServer::Start(options));
  channel_ = grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
  return absl::OkStatus();
}

absl::Status MiniCluster::RestartCoordinator(
    const std::function<void(coordinator::JobManagerOptions&)>& edit) {
  coordinator_.reset();
  if (edit) edit(options_.manager);
  return StartCoordinator();
}

void MiniCluster::Stop() {
  for (auto& rank : ranks_) rank->stop_.RequestShutdown("mini-cluster stopping");
  for (auto& scorer : scorers_) scorer->stop_.RequestShutdown("mini-cluster stopping");
  // Blocking calls end first, so that the loops see the shutdown at once.
  if (coordinator_ != nullptr) coordinator_->Shutdown();
  for (auto& rank : ranks_) {
    if (rank->thread_.joinable()) rank->thread_.join();
  }
  for (auto& scorer : scorers_) scorer->Stop().IgnoreError();
  ranks_.clear();
  scorers_.clear();
  coordinator_.reset();
  channel_.reset();
  if (!dir_.empty() && !options_.keep_dir) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  dir_.clear();
}

scorer::ScorerWorkerOptions MiniCluster::TestScorerOptions(const std::string& name) {
  scorer::ScorerWorkerOptions options;
  options.name = name;
  options.lease_wait_ms = 200;
  options.backoff_initial_ms = 20;
  options.backoff_max_ms = 100;
  return options;
}

MiniCluster::ScorerLoop* MiniCluster::AddScorer(scorer::ShardScorer* engine,
                                                scorer::ScorerWorkerOptions options) {
  auto s = std::make_unique<ScorerLoop>();
  s->registry_ = std::make_unique<prometheus::Registry>();
  std::shared_ptr<v1::WorkService::StubInterface> stub = v1::WorkService::NewStub(channel_);
  ScorerLoop* raw = s.get();
  s->thread_ = std::thread([raw, options = std::move(options), stub, engine] {
    scorer::ScorerWorker worker(options, stub, engine, raw->registry_.get());
    raw->status_ = worker.Run(raw->stop_);
  });
  scorers_.push_back(std::move(s));
  return raw;
}

absl::Status MiniCluster::ScorerLoop::Stop() {
  stop_.RequestShutdown("stopped");
  if (thread_.joinable()) thread_.join();
  return status_;
}

MiniCluster::TrainerRank* MiniCluster::AddTrainerRank(const std::string& name,
                                                      const std::string& job_id) {
  auto rank = std::make_unique<TrainerRank>();
  TrainerRank* raw = rank.get();
  raw->thread_ = std::thread([this, raw, name, job_id] { RunTrainerRank(raw, name, job_id); });
  ranks_.push_back(std::move(rank));
  return raw;
}

absl::Status MiniCluster::TrainerRank::Wait() {
  if (thread_.joinable()) thread_.join();
  return status_;
}

void MiniCluster::RunTrainerRank(TrainerRank* rank, const std::string& name,
                                 const std::string& job_id) {
  auto fail = [rank](absl::Status status) { rank->status_ = std::move(status); };
  const auto stop = [rank] { return rank->stop_.requested(); };
  trainer::TrainerClientOptions client_options;
  client_options.name = name;
  client_options.store_address = "127.0.0.1:1";  // never dialled: nothing trains
  client_options.job_id = job_id;
  client_options.join_wait_ms = 200;
  trainer::TrainerClient client(client_options, v1::TrainService::NewStub(channel_));
  absl::StatusOr<trainer::Membership> membership = client.Join(stop, absl::Seconds(60));
  if (!membership.ok()) return fail(membership.status());
  rank->rank_ = membership->rank;

  trainer::ShardFeedOptions feed_options;
  feed_options.cache_dir = absl::StrCat(dir_, "/trainers/", name);
  feed_options.job_id = job_id;
  feed_options.rank = membership->rank;
  feed_options.backoff_initial_ms = 20;
  feed_options.backoff_max_ms = 200;
  auto feed = trainer::ShardFeed::Open(feed_options, v1::TrainService::NewStub(channel_));
  if (!feed.ok()) return fail(feed.status());
  (*feed)->Start();
  for (uint64_t k = 0;; ++k) {
    absl::StatusOr<std::vector<v1::ScoredDocument>> shard = (*feed)->Get(k, stop);
    if (absl::IsOutOfRange(shard.status())) break;
    if (!shard.ok()) return fail(shard.status());
    for (v1::ScoredDocument& d : *shard) rank->documents_.push_back(std::move(d));
  }
  (*feed)->Stop();
  {
    std::unique_lock<std::mutex> lock(read_mu_);
    ++ranks_done_reading_[job_id];
    read_changed_.notify_all();
    if (membership->rank != 0) return;
    while (ranks_done_reading_[job_id] < membership->world_size && !stop()) {
      read_changed_.wait_for(lock, std::chrono::milliseconds(50));
    }
  }
  if (stop()) return fail(absl::CancelledError("mini-cluster stopping"));
  v1::JobProgress progress;
  progress.set_training_step(1);
  progress.set_training_steps_total(1);
  absl::StatusOr<v1::ReportProgressResponse> answer =
      client.ReportProgress(*membership, progress, dir_ + "/model");
  if (!answer.ok()) return fail(answer.status());
  if (membership->spec.has_evaluation()) {
    v1::EvaluationResult result;
    rank->status_ = client.ReportEvaluation(*membership, result, /*final=*/true);
  }
}

}  // namespace cluedrop::test

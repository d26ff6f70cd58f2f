// The in-process mini-cluster (Kudu's InternalMiniCluster idea): a real
// coordinator, wired exactly as cluedrop-coordinator wires it
// (CoordinatorServer: JobManager, the three services and a DaemonServer on
// 127.0.0.1:0), plus any number of scorer workers (the real ScorerWorker
// loop around a ShardScorer the test provides) and trainer ranks (the real
// trainer protocol, TrainerClient + ShardFeed, collecting the documents a
// rank is fed instead of training on them), each on its own thread, all over
// loopback gRPC. The variant with the real binaries is the Python package
// cluedrop_local (python/).
//
// Example:
//   MiniCluster cluster;
//   ASSERT_TRUE(cluster.Start().ok());
//   FakeScorer engine;
//   cluster.AddScorer("scorer-0", &engine);
//   v1::Job job = *cluster.manager().Submit(request);
//   MiniCluster::TrainerRank* rank0 = cluster.AddTrainerRank("trainer-0", job.id());
//   ASSERT_TRUE(rank0->Wait().ok());
//
// Stop() (or the destructor) stops scorers and ranks, then the coordinator,
// then removes the cluster's directory. Not thread-safe: drive it from the
// test's thread.
#ifndef CLUEDROP_TESTS_MINI_CLUSTER_MINI_CLUSTER_H_
#define CLUEDROP_TESTS_MINI_CLUSTER_MINI_CLUSTER_H_

#include <grpcpp/channel.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "cluedrop/v1/scored.pb.h"
#include "coordinator/job_manager.h"
#include "coordinator/server/coordinator_server.h"
#include "runtime/shutdown.h"
#include "workers/scorer/scorer_worker.h"
#include "workers/scorer/shard_scorer.h"

namespace prometheus {
class Registry;
}

namespace cluedrop::test {

struct MiniClusterOptions {
  // The coordinator's JobManager options; data_dir is replaced by
  // <cluster dir>/data.
  coordinator::JobManagerOptions manager;
  // How callers authenticate. By default the in-process cluster runs in
  // development mode (anonymous callers get every role); tests of the
  // security edge give it tokens instead.
  coordinator::AuthOptions auth = [] {
    coordinator::AuthOptions dev;
    dev.allow_unauthenticated = true;
    return dev;
  }();
  // Caps on waiting calls (watch streams, long polls, shard streams).
  coordinator::ServiceLimitOptions limits;
  // Parent of the cluster's fresh directory (empty: the temp directory).
  std::string parent_dir;
  // Keep the cluster's directory after Stop().
  bool keep_dir = false;
};

class MiniCluster {
 public:
  // A trainer rank's protocol loop (see AddTrainerRank).
  class TrainerRank {
   public:
    // Blocks until the rank has read its whole partition and reported, or
    // failed; returns how it ended. Idempotent.
    absl::Status Wait();
    // The rank JoinTraining assigned (valid after Wait()).
    uint32_t rank() const { return rank_; }
    // Documents streamed to this rank, in stream order (valid after Wait()).
    const std::vector<v1::ScoredDocument>& documents() const { return documents_; }

   private:
    friend class MiniCluster;
    std::thread thread_;
    ShutdownController stop_;
    absl::Status status_;
    uint32_t rank_ = 0;
    std::vector<v1::ScoredDocument> documents_;
  };

  // A scorer worker's loop (see AddScorer).
  class ScorerLoop {
   public:
    // Stops the loop, waits for it and returns what ScorerWorker::Run
    // returned (OK unless its registration was refused). Idempotent.
    absl::Status Stop();

   private:
    friend class MiniCluster;
    std::thread thread_;
    ShutdownController stop_;
    std::unique_ptr<prometheus::Registry> registry_;
    absl::Status status_;
  };

  explicit MiniCluster(MiniClusterOptions options = {});
  ~MiniCluster() { Stop(); }
  MiniCluster(const MiniCluster&) = delete;
  MiniCluster& operator=(const MiniCluster&) = delete;

  // Creates the cluster's directory and starts the coordinator.
  absl::Status Start();
  // Stops scorers and trainer ranks, then the coordinator; removes the
  // directory unless keep_dir. Idempotent.
  void Stop();
  // Stops the coordinator and starts a new one on the same data directory
  // (and a new port) after `edit` changed its JobManager options. Scorers
  // and ranks already running keep the old address: restart before adding
  // them.
  absl::Status RestartCoordinator(
      const std::function<void(coordinator::JobManagerOptions&)>& edit = {});

  // Starts a ScorerWorker loop around `engine` (not owned; must outlive the
  // cluster) under `options`, whose name must be set. TestScorerOptions()
  // suits tests: fast backoff, short long polls.
  // Owned by the cluster.
  ScorerLoop* AddScorer(scorer::ShardScorer* engine, scorer::ScorerWorkerOptions options);
  static scorer::ScorerWorkerOptions TestScorerOptions(const std::string& name);

  // Starts a trainer rank named `name` that joins `job_id`'s rendezvous,
  // streams its partition of scored shards into a cache under the cluster's
  // directory, and, once every rank of the job has read its partition,
  // (rank 0) reports the final model and, when the job has an evaluation, a
  // final evaluation with no questions, so that the job ends. Owned by the
  // cluster.
  TrainerRank* AddTrainerRank(const std::string& name, const std::string& job_id);

  coordinator::JobManager& manager() { return coordinator_->manager(); }
  coordinator::CoordinatorServer& coordinator() { return *coordinator_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  std::string address() const { return coordinator_->loopback_address(); }
  // The cluster's directory: data/ for the coordinator, scratch for tests.
  const std::string& dir() const { return dir_; }

 private:
  absl::Status StartCoordinator();
  void RunTrainerRank(TrainerRank* rank, const std::string& name, const std::string& job_id);

  MiniClusterOptions options_;
  std::string dir_;
  // Ranks per job that have read their whole partition: rank 0 reports the
  // end of training only after all of them, as a real job's last step does.
  std::mutex read_mu_;
  std::condition_variable read_changed_;
  std::map<std::string, uint32_t> ranks_done_reading_;
  std::unique_ptr<coordinator::CoordinatorServer> coordinator_;
  std::shared_ptr<grpc::Channel> channel_;
  std::vector<std::unique_ptr<ScorerLoop>> scorers_;
  std::vector<std::unique_ptr<TrainerRank>> ranks_;
};

}  // namespace cluedrop::test

#endif  // CLUEDROP_TESTS_MINI_CLUSTER_MINI_CLUSTER_H_

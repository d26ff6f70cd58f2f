// In-process mini-cluster: the real coordinator (JobManager + the three gRPC
// services on a loopback port) and two real ScorerWorker loops with a fake
// ShardScorer (per byte: token = byte, contrast = byte index / 2^20), talking gRPC.
// The job is the paper's biography_synthetic.csv. The real-binary variant
// with the real engine is cluster_test.py.
#include "tests/mini_cluster/mini_cluster.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "cluedrop/v1/job_service.grpc.pb.h"
#include "cluedrop/v1/train_service.grpc.pb.h"
#include "coordinator/job_manager.h"
#include "runtime/shutdown.h"
#include "workers/scorer/scorer_worker.h"
#include "workers/scorer/shard_scorer.h"

namespace cluedrop {
namespace {

using coordinator::JobManager;

class FakeScorer : public scorer::ShardScorer {
 public:
  // Fails the first `fail_first` calls with a retryable error.
  explicit FakeScorer(int fail_first = 0) : fail_first_(fail_first) {}

  StatusOr<scorer::ShardScoringResult> Score(const scorer::ShardScoringRequest& request,
                                             const scorer::ShardProgressFn& progress) override {
    if (!progress({0, static_cast<int64_t>(request.documents.size()), 0})) {
      return CancelledError("aborted");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
    if (!progress({0, static_cast<int64_t>(request.documents.size()), 0})) {
      return CancelledError("aborted");
    }
    if (calls_++ < fail_first_) return Status(StatusCode::kResourceExhausted, "fake OOM");
    scorer::ShardScoringResult result;
    for (const scorer::ShardDocument& d : request.documents) {
      scorer::ScoredText s;
      for (size_t i = 0; i < d.text.size(); ++i) {
        s.tokens.push_back(static_cast<unsigned char>(d.text[i]));
        s.offsets.push_back({i, i + 1});
        s.received_large.push_back(1.0f);
        s.received_small.push_back(0.5f);
        // A valid score (in [-1, 1]) that still identifies the token.
        s.contrast.push_back(static_cast<float>(i) / (1 << 20));
      }
      s.reference_tokens = static_cast<int64_t>(d.text.size());
      result.documents.push_back(std::move(s));
    }
    ++scored_;
    return result;
  }

  void set_delay_ms(int ms) { delay_ms_ = ms; }
  int scored() const { return scored_; }

 private:
  int fail_first_;
  std::atomic<int> calls_{0};
  std::atomic<int> scored_{0};
  std::atomic<int> delay_ms_{0};
};

class MiniCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    coordinator::JobManagerOptions options;
    options.scheduler.lease_ttl_ms = 2000;
    options.scheduler.heartbeat_interval_ms = 100;
    options.scheduler.backoff_initial_ms = 50;
    test::MiniClusterOptions cluster_options;
    cluster_options.manager = options;
    cluster_ = std::make_unique<test::MiniCluster>(cluster_options);
    ASSERT_TRUE(cluster_->Start().ok());
    channel_ = cluster_->channel();
  }

  void TearDown() override {
    for (test::MiniCluster::ScorerLoop* scorer : scorers_) {
      absl::Status status = scorer->Stop();
      EXPECT_TRUE(status.ok()) << status;
    }
    cluster_->Stop();
  }

  JobManager* manager() { return &cluster_->manager(); }

  void StartScorer(const std::string& name, scorer::ShardScorer* engine) {
    scorers_.push_back(cluster_->AddScorer(engine, test::MiniCluster::TestScorerOptions(name)));
  }

  v1::Job Submit(uint32_t train_world_size = 0) {
    v1::SubmitJobRequest request;
    v1::JobSpec* spec = request.mutable_spec();
    spec->set_name("bio");
    spec->mutable_corpus()->add_paths(std::string(CLUEDROP_PAPER_DATA_DIR) +
                                      "/biography_synthetic.csv");
    spec->mutable_corpus()->set_field_tags(true);
    spec->mutable_corpus()->set_shard_size_docs(10);
    spec->mutable_reference_models()->mutable_large()->set_checkpoint_dir("/models/large");
    spec->mutable_reference_models()->mutable_small()->set_checkpoint_dir("/models/small");
    if (train_world_size > 0) {
      spec->mutable_target_model()->set_checkpoint_dir("/models/target");
      spec->mutable_training()->set_epochs(1);
      spec->mutable_training()->set_batch_size(1);
      spec->mutable_training()->set_learning_rate(1e-4f);
      spec->mutable_training()->set_world_size(train_world_size);
      spec->set_output_dir(cluster_->dir() + "/out");
    }
    auto stub = v1::JobService::NewStub(channel_);
    grpc::ClientContext context;
    v1::Job job;
    grpc::Status status = stub->SubmitJob(&context, request, &job);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return job;
  }

  v1::Job WaitTerminal(const std::string& job_id) {
    auto stub = v1::JobService::NewStub(channel_);
    v1::WatchJobRequest request;
    request.set_job_id(job_id);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    auto reader = stub->WatchJob(&context, request);
    v1::JobEvent event;
    while (reader->Read(&event)) events_.push_back(event);
    EXPECT_TRUE(reader->Finish().ok());
    return *manager()->GetJob(job_id);
  }

  // Every scored document of the job, streamed as a trainer would.
  std::map<std::string, v1::ScoredDocument> Stream(const std::string& job_id) {
    auto stub = v1::TrainService::NewStub(channel_);
    v1::StreamShardsRequest request;
    request.set_job_id(job_id);
    grpc::ClientContext context;
    auto reader = stub->StreamShards(&context, request);
    std::map<std::string, v1::ScoredDocument> docs;
    v1::ScoredShardChunk chunk;
    while (reader->Read(&chunk)) {
      for (const v1::ScoredDocument& d : chunk.documents()) {
        EXPECT_TRUE(docs.emplace(d.id(), d).second) << "streamed twice: " << d.id();
      }
    }
    EXPECT_TRUE(reader->Finish().ok());
    return docs;
  }

  std::unique_ptr<test::MiniCluster> cluster_;
  std::shared_ptr<grpc::Channel> channel_;
  std::vector<test::MiniCluster::ScorerLoop*> scorers_;
  std::vector<v1::JobEvent> events_;
};

TEST_F(MiniCluster, TwoScorersScoreThePaperCorpusEndToEnd) {
  FakeScorer a, b;
  StartScorer("scorer-a", &a);
  StartScorer("scorer-b", &b);
  v1::Job job = Submit();
  EXPECT_EQ(job.progress().shards_total(), 10u);
  v1::Job done = WaitTerminal(job.id());
  ASSERT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << done.reason();
  EXPECT_EQ(done.progress().shards_scored(), 10u);
  EXPECT_EQ(a.scored() + b.scored(), 10);
  std::map<std::string, v1::ScoredDocument> docs = Stream(job.id());
  ASSERT_EQ(docs.size(), 100u);
  for (const auto& [id, d] : docs) {
    ASSERT_EQ(d.tokens_size(), static_cast<int>(d.text().size())) << id;
    EXPECT_EQ(d.contrast(3), 3.0f / (1 << 20));
    EXPECT_EQ(d.offsets(7), 4u);  // token 3 ends at byte 4
    ASSERT_EQ(d.qa_items_size(), 5) << id;
    EXPECT_FALSE(d.qa_items(0).subject().empty());
    EXPECT_EQ(d.text().find('<'), std::string::npos) << "field tags must be stripped";
  }
  EXPECT_EQ(events_.front().state_changed(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(events_.back().state_changed(), v1::JOB_STATE_SUCCEEDED);
}

TEST_F(MiniCluster, RetryableScorerErrorsAreRetriedElsewhere) {
  FakeScorer flaky(/*fail_first=*/2), healthy;
  StartScorer("scorer-flaky", &flaky);
  v1::Job job = Submit();
  // Let the flaky scorer fail twice before a healthy one joins.
  for (int i = 0; i < 200 && flaky.scored() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  StartScorer("scorer-healthy", &healthy);
  v1::Job done = WaitTerminal(job.id());
  ASSERT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << done.reason();
  bool saw_retry = false;
  for (const v1::JobEvent& e : events_) {
    if (e.message().find("fake OOM") != std::string::npos) saw_retry = true;
  }
  EXPECT_TRUE(saw_retry) << "the worker's error should appear as a retry event";
  EXPECT_EQ(Stream(job.id()).size(), 100u);
}

TEST_F(MiniCluster, CancelStopsTheScorersWithinALeasePeriod) {
  FakeScorer slow;
  slow.set_delay_ms(300);
  StartScorer("scorer-slow", &slow);
  v1::Job job = Submit();
  while (manager()->GetJob(job.id())->state() == v1::JOB_STATE_QUEUED) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto stub = v1::JobService::NewStub(channel_);
  v1::CancelJobRequest cancel;
  cancel.set_job_id(job.id());
  cancel.set_reason("changed my mind");
  grpc::ClientContext context;
  v1::Job cancelled;
  ASSERT_TRUE(stub->CancelJob(&context, cancel, &cancelled).ok());
  EXPECT_EQ(cancelled.state(), v1::JOB_STATE_CANCELLED);
  const int scored_at_cancel = slow.scored();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  // At most the shard in flight finishes; nothing new is leased.
  EXPECT_LE(slow.scored(), scored_at_cancel + 1);
  v1::Job final_job = *manager()->GetJob(job.id());
  EXPECT_EQ(final_job.state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(final_job.reason(), "changed my mind");
  EXPECT_LT(final_job.progress().shards_scored(), 10u);
}

TEST_F(MiniCluster, TwoTrainerRanksAreFedEveryScoredDocumentOnce) {
  FakeScorer a, b;
  StartScorer("scorer-a", &a);
  StartScorer("scorer-b", &b);
  v1::Job job = Submit(/*train_world_size=*/2);
  // Trainers join while scoring goes on (pipelined).
  test::MiniCluster::TrainerRank* first = cluster_->AddTrainerRank("trainer-a", job.id());
  test::MiniCluster::TrainerRank* second = cluster_->AddTrainerRank("trainer-b", job.id());
  ASSERT_TRUE(first->Wait().ok()) << first->Wait();
  ASSERT_TRUE(second->Wait().ok()) << second->Wait();
  EXPECT_NE(first->rank(), second->rank());
  v1::Job done = WaitTerminal(job.id());
  ASSERT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << done.reason();
  // 10 shards of 10 documents: each rank gets the shards with index % 2 ==
  // its rank, so 50 documents each and every document exactly once.
  std::map<std::string, uint32_t> fed;
  for (const test::MiniCluster::TrainerRank* rank : {first, second}) {
    EXPECT_EQ(rank->documents().size(), 50u) << "rank " << rank->rank();
    for (const v1::ScoredDocument& d : rank->documents()) ++fed[d.id()];
  }
  EXPECT_EQ(fed.size(), 100u);
  for (const auto& [id, count] : fed) EXPECT_EQ(count, 1u) << id;
}

}  // namespace
}  // namespace cluedrop

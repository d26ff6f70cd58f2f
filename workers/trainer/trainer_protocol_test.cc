// The trainer side of the protocol against the real coordinator (JobManager
// and TrainService over loopback gRPC): rendezvous, shard feeds that stream
// while scoring goes on and resume from their cache, progress and
// cancellation.
#include <gtest/gtest.h>

#include <future>
#include <set>

#include "tests/mini_cluster/mini_cluster.h"
#include "workers/trainer/shard_feed.h"
#include "workers/trainer/trainer_client.h"

namespace cluedrop::trainer {
namespace {

class TrainerProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(coordinator_.Start().ok());
    dir_ = coordinator_.dir();
    manager_ = &coordinator_.manager();
    stub_ = v1::TrainService::NewStub(coordinator_.channel());
  }

  std::string SubmitTrainingJob(uint32_t world) {
    v1::SubmitJobRequest request;
    v1::JobSpec* spec = request.mutable_spec();
    spec->mutable_corpus()->add_paths(std::string(CLUEDROP_PAPER_DATA_DIR) +
                                      "/biography_synthetic.csv");
    spec->mutable_corpus()->set_field_tags(true);
    spec->mutable_corpus()->set_shard_size_docs(10);  // 10 shards
    spec->mutable_reference_models()->mutable_large()->set_checkpoint_dir("/l");
    spec->mutable_reference_models()->mutable_small()->set_checkpoint_dir("/s");
    spec->mutable_target_model()->set_checkpoint_dir("/t");
    spec->mutable_training()->set_epochs(1);
    spec->mutable_training()->set_batch_size(1);
    spec->mutable_training()->set_learning_rate(1e-4f);
    spec->mutable_training()->set_world_size(world);
    spec->set_output_dir(dir_ + "/out");
    auto job = manager_->Submit(request);
    EXPECT_TRUE(job.ok()) << job.status();
    return job->id();
  }

  // Scores up to `n` shards through the WorkService logic with fake scores.
  int ScoreShards(int n) {
    v1::RegisterWorkerRequest reg;
    reg.set_name("fake-scorer");
    const std::string worker = manager_->RegisterWorker(reg)->worker_id();
    int done = 0;
    for (; done < n; ++done) {
      v1::LeaseShardRequest lease_request;
      lease_request.set_worker_id(worker);
      lease_request.set_wait_ms(1);
      auto response = manager_->LeaseShard(lease_request, nullptr);
      if (!response.ok() || !response->has_lease()) break;
      const v1::ShardLease& lease = response->lease();
      std::vector<v1::ScoredDocument> docs;
      for (const v1::Document& d : lease.documents()) {
        v1::ScoredDocument s;
        s.set_id(d.id());
        s.add_tokens(1);
        s.add_offsets(0);
        s.add_offsets(1);
        s.add_received_large(0.5f);
        s.add_received_small(0.25f);
        s.add_contrast(0.25f);
        docs.push_back(std::move(s));
      }
      v1::CompleteShardHeader header;
      header.set_worker_id(worker);
      header.set_lease_id(lease.lease_id());
      header.set_shard_id(lease.shard_id());
      header.set_job_id(lease.job_id());
      header.set_document_count(static_cast<uint32_t>(docs.size()));
      EXPECT_TRUE(manager_->CompleteShard(header, std::move(docs)).ok());
    }
    return done;
  }

  TrainerClient Client(const std::string& name, const std::string& address,
                       const std::string& job_id = "") {
    TrainerClientOptions options;
    options.job_id = job_id;
    options.name = name;
    options.store_address = address;
    options.join_wait_ms = 200;
    return TrainerClient(options, stub_);
  }

  std::unique_ptr<ShardFeed> Feed(const std::string& job_id, uint32_t rank) {
    ShardFeedOptions options;
    options.cache_dir = dir_ + "/cache-r" + std::to_string(rank);
    options.job_id = job_id;
    options.rank = rank;
    options.backoff_initial_ms = 20;
    auto feed = ShardFeed::Open(options, stub_);
    EXPECT_TRUE(feed.ok()) << feed.status();
    return std::move(*feed);
  }

  test::MiniCluster coordinator_;
  std::string dir_;
  coordinator::JobManager* manager_ = nullptr;
  std::shared_ptr<v1::TrainService::StubInterface> stub_;
};

TEST_F(TrainerProtocolTest, RanksJoinWhileScoringAndFeedsResumeFromTheirCache) {
  const std::string job_id = SubmitTrainingJob(2);
  // Rank 1's trainer arrives first: it waits for rank 0's address.
  auto second = std::async(std::launch::async, [&] {
    return Client("trainer-b", "10.0.0.2:29500").Join(nullptr, absl::Seconds(10));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto first = Client("trainer-a", "10.0.0.1:29500").Join(nullptr, absl::Seconds(10));
  ASSERT_TRUE(first.ok()) << first.status();
  auto b = second.get();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(std::set<uint32_t>({first->rank, b->rank}), (std::set<uint32_t>{0, 1}));
  const std::string rank0_address = first->rank == 0 ? "10.0.0.1:29500" : "10.0.0.2:29500";
  EXPECT_EQ(first->rendezvous_address, rank0_address);
  EXPECT_EQ(b->rendezvous_address, rank0_address);
  EXPECT_EQ(first->job_id, job_id);
  EXPECT_EQ(first->world_size, 2u);
  EXPECT_EQ(first->spec.training().world_size(), 2u);

  // Rank 1 streams while scoring is only partly done.
  std::unique_ptr<ShardFeed> feed = Feed(job_id, 1);
  feed->Start();
  ASSERT_EQ(ScoreShards(4), 4);  // shards 0..3: rank 1 owns 1 and 3
  auto shard0 = feed->Get(0, nullptr);
  ASSERT_TRUE(shard0.ok()) << shard0.status();
  EXPECT_EQ(shard0->size(), 10u);
  EXPECT_EQ((*shard0)[0].qa_items_size(), 5);
  ASSERT_TRUE(feed->Get(1, nullptr).ok());
  EXPECT_FALSE(feed->total().has_value()) << "the partition is not complete yet";
  feed.reset();  // the rank dies

  std::unique_ptr<ShardFeed> resumed = Feed(job_id, 1);
  EXPECT_EQ(resumed->cached(), 2u);
  resumed->Start();
  ASSERT_EQ(ScoreShards(100), 6);
  std::set<std::string> ids;
  for (uint64_t k = 0;; ++k) {
    auto shard = resumed->Get(k, nullptr);
    if (absl::IsOutOfRange(shard.status())) break;
    ASSERT_TRUE(shard.ok()) << shard.status();
    for (const v1::ScoredDocument& d : *shard) EXPECT_TRUE(ids.insert(d.id()).second);
  }
  EXPECT_EQ(ids.size(), 50u);  // 5 of the 10 shards
  EXPECT_EQ(resumed->total(), std::optional<uint64_t>(5));
  EXPECT_EQ(resumed->downloaded(), 3u) << "cached shards must not be downloaded again";

  // Progress, then the final model (no evaluation section: SUCCEEDED).
  TrainerClient client = Client("trainer-a", "10.0.0.1:29500");
  v1::JobProgress progress;
  progress.set_training_step(5);
  progress.set_loss(2.5f);
  Membership rank0 = first->rank == 0 ? *first : *b;
  auto cancelled = client.ReportProgress(rank0, progress, "");
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_FALSE(cancelled->cancelled());
  EXPECT_EQ(cancelled->state(), v1::JOB_STATE_TRAINING);
  auto final_answer = client.ReportProgress(rank0, progress, dir_ + "/out/final");
  ASSERT_TRUE(final_answer.ok());
  EXPECT_EQ(final_answer->state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(manager_->GetJob(job_id)->state(), v1::JOB_STATE_SUCCEEDED);
}

TEST_F(TrainerProtocolTest, CancelledJobStopsFeedsAndProgress) {
  const std::string job_id = SubmitTrainingJob(1);
  TrainerClient client = Client("trainer-a", "10.0.0.1:29500");
  auto m = client.Join(nullptr, absl::Seconds(5));
  ASSERT_TRUE(m.ok()) << m.status();
  std::unique_ptr<ShardFeed> feed = Feed(job_id, 0);
  feed->Start();
  ASSERT_EQ(ScoreShards(1), 1);
  ASSERT_TRUE(feed->Get(0, nullptr).ok());
  ASSERT_TRUE(manager_->CancelJob(job_id, "budget").ok());
  auto next = feed->Get(1, nullptr);
  EXPECT_EQ(next.status().code(), absl::StatusCode::kCancelled) << next.status();
  auto cancelled = client.ReportProgress(*m, v1::JobProgress(), "");
  ASSERT_TRUE(cancelled.ok());
  EXPECT_TRUE(cancelled->cancelled());
  EXPECT_EQ(cancelled->state(), v1::JOB_STATE_CANCELLED);
  // A finished job cannot be joined.
  EXPECT_EQ(
      Client("trainer-a", "10.0.0.1:29500", job_id).Join(nullptr, absl::Seconds(1)).status().code(),
      absl::StatusCode::kFailedPrecondition);
}

TEST_F(TrainerProtocolTest, JoinGivesUpAfterMaxWait) {
  TrainerClient client = Client("lonely", "10.0.0.9:29500");
  const absl::Time start = absl::Now();
  auto m = client.Join(nullptr, absl::Milliseconds(500));
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDeadlineExceeded) << m.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

}  // namespace
}  // namespace cluedrop::trainer

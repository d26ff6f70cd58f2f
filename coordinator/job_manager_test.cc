// JobManager end to end without gRPC: submit, lease, complete, stream,
// restart, cancel, rendezvous and the failure paths, over a real data
// directory (SQLite + shard files) and a fake clock.
#include "coordinator/job_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "shard/crc32c.h"

namespace cluedrop::coordinator {
namespace {

class JobManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/job_manager_test.XXXXXX";
    dir_ = mkdtemp(pattern);
    corpus_ = dir_ + "/bio.jsonl";
    std::ofstream out(corpus_);
    for (int i = 0; i < 5; ++i) {
      out << "{\"id\": \"p" << i << "\", \"text\": \"<name>Person " << i
          << "</name> was born in <city>City " << i << "</city>.\"}\n";
    }
  }
  void TearDown() override {
    manager_.reset();
    std::filesystem::remove_all(dir_);
  }

  void OpenManager() {
    JobManagerOptions options;
    options.data_dir = dir_ + "/data";
    options.scheduler.lease_ttl_ms = 1000;
    options.scheduler.heartbeat_interval_ms = 200;
    options.scheduler.max_attempts = 2;
    options.scheduler.backoff_initial_ms = 10;
    options.default_lease_wait_ms = 1;
    options.now_ms = [this] { return now_.load(); };
    auto manager = JobManager::Open(options, nullptr);
    ASSERT_TRUE(manager.ok()) << manager.status();
    manager_ = std::move(*manager);
  }

  v1::SubmitJobRequest ScoreOnlyRequest(uint32_t shard_size = 2) {
    v1::SubmitJobRequest request;
    v1::JobSpec* spec = request.mutable_spec();
    spec->set_name("bio");
    spec->mutable_corpus()->add_paths(corpus_);
    spec->mutable_corpus()->set_format(v1::CORPUS_FORMAT_JSONL);
    spec->mutable_corpus()->set_field_tags(true);
    spec->mutable_corpus()->set_shard_size_docs(shard_size);
    spec->mutable_reference_models()->mutable_large()->set_checkpoint_dir("/models/large");
    spec->mutable_reference_models()->mutable_small()->set_checkpoint_dir("/models/small");
    return request;
  }
  v1::SubmitJobRequest TrainRequest(uint32_t world) {
    v1::SubmitJobRequest request = ScoreOnlyRequest();
    v1::JobSpec* spec = request.mutable_spec();
    spec->mutable_target_model()->set_checkpoint_dir("/models/target");
    spec->mutable_training()->set_epochs(1);
    spec->mutable_training()->set_batch_size(1);
    spec->mutable_training()->set_learning_rate(1e-4f);
    spec->mutable_training()->set_world_size(world);
    spec->set_output_dir(dir_ + "/out");
    return request;
  }

  std::string Register(const std::string& name) {
    v1::RegisterWorkerRequest request;
    request.set_name(name);
    auto response = manager_->RegisterWorker(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->worker_id() : "";
  }
  std::optional<v1::ShardLease> Lease(const std::string& worker) {
    v1::LeaseShardRequest request;
    request.set_worker_id(worker);
    request.set_wait_ms(1);
    auto response = manager_->LeaseShard(request, nullptr);
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok() || !response->has_lease()) return std::nullopt;
    return response->lease();
  }
  // Fake scores: token k of a document covers byte k; contrast = k / 4.
  static std::vector<v1::ScoredDocument> Score(const v1::ShardLease& lease) {
    std::vector<v1::ScoredDocument> out;
    for (const v1::Document& d : lease.documents()) {
      v1::ScoredDocument s;
      s.set_id(d.id());
      s.set_text(d.text());
      for (uint32_t k = 0; k < 3; ++k) {
        s.add_tokens(static_cast<int32_t>(100 + k));
        s.add_offsets(k);
        s.add_offsets(k + 1);
        s.add_received_large(0.5f);
        s.add_received_small(0.25f);
        s.add_contrast(0.25f * static_cast<float>(k));
      }
      out.push_back(std::move(s));
    }
    return out;
  }
  absl::StatusOr<v1::CompleteShardResponse> Complete(const std::string& worker,
                                                     const v1::ShardLease& lease,
                                                     std::vector<v1::ScoredDocument> docs) {
    v1::CompleteShardHeader header;
    header.set_worker_id(worker);
    header.set_lease_id(lease.lease_id());
    header.set_shard_id(lease.shard_id());
    header.set_job_id(lease.job_id());
    header.set_document_count(static_cast<uint32_t>(docs.size()));
    header.set_tokens_scored(7);
    return manager_->CompleteShard(header, std::move(docs));
  }
  std::vector<v1::JobEvent> Events(const std::string& job_id) {
    std::vector<v1::JobEvent> events;
    std::atomic<bool> stop{false};
    std::thread stopper([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      stop = true;
    });
    (void)manager_->WatchJob(
        job_id, 0,
        [&](const v1::JobEvent& e) {
          events.push_back(e);
          return true;
        },
        [&] { return stop.load(); });
    stopper.join();
    return events;
  }

  std::string dir_;
  std::string corpus_;
  std::atomic<int64_t> now_{1'700'000'000'000};
  std::unique_ptr<JobManager> manager_;
};

TEST_F(JobManagerTest, ScoreOnlyJobRunsToSuccessAndStreamsEveryShardOnce) {
  OpenManager();
  auto job = manager_->Submit(ScoreOnlyRequest());
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->state(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(job->progress().shards_total(), 3u);  // 5 documents, 2 per shard
  EXPECT_EQ(job->progress().documents_total(), 5u);
  const std::string worker = Register("scorer-0");
  std::map<std::string, uint32_t> checksums;
  for (int i = 0; i < 3; ++i) {
    std::optional<v1::ShardLease> lease = Lease(worker);
    ASSERT_TRUE(lease.has_value());
    EXPECT_EQ(lease->large_checkpoint_dir(), "/models/large");
    EXPECT_TRUE(lease->include_self());  // default applied
    EXPECT_GT(lease->documents_size(), 0);
    // Field tags became QA items.
    EXPECT_EQ(lease->documents(0).qa_items(0).field(), "city");
    auto done = Complete(worker, *lease, Score(*lease));
    ASSERT_TRUE(done.ok()) << done.status();
    EXPECT_TRUE(done->accepted());
    checksums[lease->shard_id()] = done->checksum();
    if (i == 0) {
      EXPECT_EQ(manager_->GetJob(job->id())->state(), v1::JOB_STATE_SCORING);
    }
  }
  EXPECT_FALSE(Lease(worker).has_value());
  auto final_job = manager_->GetJob(job->id());
  EXPECT_EQ(final_job->state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(final_job->progress().shards_scored(), 3u);
  EXPECT_EQ(final_job->progress().tokens_scored(), 21u);

  std::vector<v1::ScoredShardChunk> chunks;
  v1::StreamShardsRequest stream;
  stream.set_job_id(job->id());
  ASSERT_TRUE(manager_
                  ->StreamShards(
                      stream,
                      [&](const v1::ScoredShardChunk& c) {
                        chunks.push_back(c);
                        return true;
                      },
                      nullptr)
                  .ok());
  std::set<std::string> docs;
  for (const v1::ScoredShardChunk& c : chunks) {
    for (const v1::ScoredDocument& d : c.documents()) {
      EXPECT_TRUE(docs.insert(d.id()).second) << "document streamed twice: " << d.id();
      ASSERT_EQ(d.qa_items_size(), 1);  // the name tag is the subject, not an item
      EXPECT_EQ(d.qa_items(0).field(), "city");
    }
    if (c.last()) {
      EXPECT_EQ(c.checksum(), checksums[c.shard_id()]);
    }
  }
  EXPECT_EQ(docs.size(), 5u);

  std::vector<v1::JobEvent> events = Events(job->id());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().state_changed(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(events.back().state_changed(), v1::JOB_STATE_SUCCEEDED);
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].sequence(), i + 1);
}

TEST_F(JobManagerTest, BadSpecAndCorruptCorpusLeaveNoJob) {
  OpenManager();
  v1::SubmitJobRequest bad = ScoreOnlyRequest();
  bad.mutable_spec()->mutable_augmentation()->set_alpha(1.3f);
  auto job = manager_->Submit(bad);
  EXPECT_EQ(job.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(job.status().message()).find("augmentation.alpha"), std::string::npos)
      << job.status();
  {
    std::ofstream out(corpus_, std::ios::app);
    out << "{\"id\": \"broken\", \"text\": \n";
  }
  job = manager_->Submit(ScoreOnlyRequest());
  EXPECT_EQ(job.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(job.status().message()).find("bio.jsonl:6"), std::string::npos)
      << job.status();
  auto list = manager_->ListJobs(v1::ListJobsRequest());
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->jobs_size(), 0);
  // And nothing survives a restart either.
  manager_.reset();
  OpenManager();
  EXPECT_EQ(manager_->ListJobs(v1::ListJobsRequest())->jobs_size(), 0);
}

TEST_F(JobManagerTest, RestartRecoversJobsLeasesAndWorkers) {
  OpenManager();
  auto job = manager_->Submit(ScoreOnlyRequest());
  ASSERT_TRUE(job.ok());
  const std::string worker = Register("scorer-0");
  std::optional<v1::ShardLease> first = Lease(worker);
  ASSERT_TRUE(Complete(worker, *first, Score(*first)).ok());
  std::optional<v1::ShardLease> held = Lease(worker);
  ASSERT_TRUE(held.has_value());

  manager_.reset();  // the coordinator dies
  OpenManager();
  auto recovered = manager_->GetJob(job->id());
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(recovered->state(), v1::JOB_STATE_SCORING);
  EXPECT_EQ(recovered->progress().shards_scored(), 1u);
  // The worker's lease survived: its heartbeat keeps it and it completes.
  v1::HeartbeatRequest hb;
  hb.set_worker_id(worker);
  hb.add_lease_ids(held->lease_id());
  auto beat = manager_->Heartbeat(hb);
  ASSERT_TRUE(beat.ok()) << beat.status();
  EXPECT_EQ(beat->revoked_lease_ids_size(), 0);
  auto done = Complete(worker, *held, Score(*held));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_TRUE(done->accepted());
  std::optional<v1::ShardLease> last = Lease(worker);
  ASSERT_TRUE(last.has_value());
  ASSERT_TRUE(Complete(worker, *last, Score(*last))->accepted());
  EXPECT_EQ(manager_->GetJob(job->id())->state(), v1::JOB_STATE_SUCCEEDED);
  // Duplicates are dropped and report the winner's checksum.
  auto duplicate = Complete(worker, *first, Score(*first));
  ASSERT_TRUE(duplicate.ok());
  EXPECT_FALSE(duplicate->accepted());
}

TEST_F(JobManagerTest, ResultsAreValidatedAgainstTheShard) {
  OpenManager();
  ASSERT_TRUE(manager_->Submit(ScoreOnlyRequest()).ok());
  const std::string worker = Register("scorer-0");
  std::optional<v1::ShardLease> lease = Lease(worker);
  std::vector<v1::ScoredDocument> docs = Score(*lease);
  docs[0].set_id("someone-else");
  auto result = Complete(worker, *lease, docs);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(result.status().message()).find("documents[0].id"), std::string::npos);
  docs = Score(*lease);
  docs[1].mutable_contrast()->RemoveLast();
  result = Complete(worker, *lease, docs);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(result.status().message()).find("documents[1].contrast: 2 values for 3"),
            std::string::npos)
      << result.status();
  docs = Score(*lease);
  docs.pop_back();
  result = Complete(worker, *lease, docs);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  // Still leasable work: nothing was recorded.
  EXPECT_TRUE(Complete(worker, *lease, Score(*lease))->accepted());
}

// Issue 18 row 2: forged scores (1e30, inf) and ids were accepted.
TEST_F(JobManagerTest, ForgedScoresAndIdsAreRefused) {
  OpenManager();
  ASSERT_TRUE(manager_->Submit(ScoreOnlyRequest()).ok());
  const std::string worker = Register("scorer-0");
  std::optional<v1::ShardLease> lease = Lease(worker);
  ASSERT_TRUE(lease.has_value());
  struct Case {
    std::function<void(v1::ScoredDocument&)> forge;
    std::string message;
  } cases[] = {
      {[](v1::ScoredDocument& d) { d.set_received_large(1, 1e30f); },
       "documents[0].received_large[1]: must be in [0, 1] or NaN, got 1e+30"},
      {[](v1::ScoredDocument& d) { d.set_received_small(0, -INFINITY); },
       "documents[0].received_small[0]: must be in [0, 1] or NaN, got -inf"},
      {[](v1::ScoredDocument& d) { d.set_contrast(2, INFINITY); },
       "documents[0].contrast[2]: must be in [-1, 1] or NaN, got inf"},
      {[](v1::ScoredDocument& d) { d.set_tokens(1, -7); },
       "documents[0].tokens[1]: a token id is never negative, got -7"},
  };
  for (const Case& c : cases) {
    std::vector<v1::ScoredDocument> docs = Score(*lease);
    c.forge(docs[0]);
    auto result = Complete(worker, *lease, docs);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(result.status().message(), c.message);
  }
  // NaN means "no score for this token" and is kept.
  std::vector<v1::ScoredDocument> docs = Score(*lease);
  docs[0].set_contrast(0, NAN);
  docs[0].set_received_large(0, NAN);
  auto result = Complete(worker, *lease, docs);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->accepted());
}

// Issue 18: bindings survive a restart (schema 2), and the jobs of one
// submitter stay hidden from another.
TEST_F(JobManagerTest, OwnersOfJobsWorkersAndRanksSurviveARestart) {
  OpenManager();
  const Caller alice{"alice"}, bob{"bob"}, scorer_a{"scorer-a"}, scorer_b{"scorer-b"};
  const Caller trainer_a{"trainer-a"}, trainer_b{"trainer-b"};
  auto job = manager_->Submit(TrainRequest(1), alice);
  ASSERT_TRUE(job.ok()) << job.status();
  v1::RegisterWorkerRequest reg;
  reg.set_name("scorer-0");
  auto worker = manager_->RegisterWorker(reg, scorer_a);
  ASSERT_TRUE(worker.ok());
  v1::JoinTrainingRequest join;
  join.set_job_id(job->id());
  join.set_name("trainer-0");
  join.set_store_address("127.0.0.1:1");
  ASSERT_TRUE(manager_->JoinTraining(join, nullptr, trainer_a).ok());

  manager_.reset();
  OpenManager();
  EXPECT_EQ(manager_->GetJob(job->id(), alice)->owner(), "alice");
  EXPECT_EQ(manager_->GetJob(job->id(), bob).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(manager_->GetJob(job->id(), Caller{"ops", /*admin=*/true})->id(), job->id());
  EXPECT_EQ(manager_->ListJobs(v1::ListJobsRequest(), bob)->jobs_size(), 0);
  EXPECT_EQ(manager_->CancelJob(job->id(), "", bob).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(manager_->RegisterWorker(reg, scorer_b).status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::HeartbeatRequest beat;
  beat.set_worker_id(worker->worker_id());
  EXPECT_EQ(manager_->Heartbeat(beat, scorer_b).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(manager_->Heartbeat(beat, scorer_a).ok());
  EXPECT_EQ(manager_->JoinTraining(join, nullptr, trainer_b).status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::StreamShardsRequest stream;
  stream.set_job_id(job->id());
  auto sink = [](const v1::ScoredShardChunk&) { return true; };
  EXPECT_EQ(manager_
                ->StreamShards(
                    stream, sink, [] { return true; }, trainer_b)
                .code(),
            absl::StatusCode::kPermissionDenied);
  // The rank's own trainer and the job's submitter may stream (the stop
  // function ends the wait for shards still being scored).
  EXPECT_EQ(manager_
                ->StreamShards(
                    stream, sink, [] { return true; }, trainer_a)
                .code(),
            absl::StatusCode::kCancelled);
  EXPECT_EQ(manager_
                ->StreamShards(
                    stream, sink, [] { return true; }, alice)
                .code(),
            absl::StatusCode::kCancelled);
}

// Issue 18: per-submitter cap on unfinished jobs.
TEST_F(JobManagerTest, EachSubmitterHasACapOnUnfinishedJobs) {
  JobManagerOptions options;
  options.data_dir = dir_ + "/data";
  options.max_jobs_per_submitter = 2;
  manager_ = std::move(*JobManager::Open(options, nullptr));
  const Caller alice{"alice"}, bob{"bob"};
  auto first = manager_->Submit(ScoreOnlyRequest(), alice);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(manager_->Submit(ScoreOnlyRequest(), alice).ok());
  auto third = manager_->Submit(ScoreOnlyRequest(), alice);
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(third.status().message(),
            "submitter alice has 2 unfinished jobs (--max_jobs_per_submitter=2); wait for some "
            "to finish or cancel them");
  EXPECT_TRUE(manager_->Submit(ScoreOnlyRequest(), bob).ok());  // per submitter
  ASSERT_TRUE(manager_->CancelJob(first->id(), "", alice).ok());
  EXPECT_TRUE(manager_->Submit(ScoreOnlyRequest(), alice).ok());
}

// Issue 18: per-submitter cap on the corpus bytes of unfinished jobs.
TEST_F(JobManagerTest, EachSubmitterHasACapOnCorpusBytes) {
  OpenManager();
  auto probe = manager_->Submit(ScoreOnlyRequest(), Caller{"probe"});
  ASSERT_TRUE(probe.ok());
  const uint64_t bytes = probe->progress().corpus_bytes();
  // Five documents of about 60 bytes of text each.
  EXPECT_GT(bytes, 5u * 50);
  EXPECT_LT(bytes, 5u * 120);
  manager_.reset();
  JobManagerOptions options;
  options.data_dir = dir_ + "/data2";
  options.max_corpus_bytes_per_submitter = 2 * bytes + bytes / 2;
  manager_ = std::move(*JobManager::Open(options, nullptr));
  const Caller alice{"alice"}, bob{"bob"};
  auto first = manager_->Submit(ScoreOnlyRequest(), alice);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->progress().corpus_bytes(), bytes);
  ASSERT_TRUE(manager_->Submit(ScoreOnlyRequest(), alice).ok());
  auto third = manager_->Submit(ScoreOnlyRequest(), alice);
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(third.status().message(),
            absl::StrCat("corpus: this job's ", bytes, " corpus bytes and the ", 2 * bytes,
                         " of submitter alice's unfinished jobs exceed "
                         "--max_corpus_bytes_per_submitter=",
                         2 * bytes + bytes / 2, "; wait for some to finish or cancel them"));
  EXPECT_TRUE(manager_->Submit(ScoreOnlyRequest(), bob).ok());  // per submitter
  ASSERT_TRUE(manager_->CancelJob(first->id(), "", alice).ok());
  EXPECT_TRUE(manager_->Submit(ScoreOnlyRequest(), alice).ok());
  // The count survives a restart (it is part of the stored job).
  manager_.reset();
  manager_ = std::move(*JobManager::Open(options, nullptr));
  EXPECT_EQ(manager_->Submit(ScoreOnlyRequest(), alice).status().code(),
            absl::StatusCode::kResourceExhausted);
}

// Issue 19: with the target's device memory in the spec, a job whose trainer
// rank cannot fit is refused at submit, naming the field; one that fits is
// accepted; an unreadable config is a clear error.
TEST_F(JobManagerTest, TargetsThatCannotFitTheirDevicesAreRefused) {
  OpenManager();
  const std::string config = dir_ + "/config.json";
  std::ofstream(config) << R"({"model_type": "llama", "vocab_size": 32000, "hidden_size": 2048,
      "intermediate_size": 5632, "num_hidden_layers": 22, "num_attention_heads": 32,
      "num_key_value_heads": 4, "max_position_embeddings": 2048})";
  v1::SubmitJobRequest request = TrainRequest(1);
  v1::TargetModelSpec* target = request.mutable_spec()->mutable_target_model();
  target->set_checkpoint_dir(dir_);
  target->mutable_device_map()->set_device("cuda");
  target->mutable_device_map()->set_memory_gib(4);
  request.mutable_spec()->mutable_training()->set_batch_size(8);
  request.mutable_spec()->mutable_training()->set_max_seq_len(2048);
  auto refused = manager_->Submit(request);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::StartsWith("target_model.device_map: cuda:0 needs "));
  EXPECT_THAT(std::string(refused.status().message()), ::testing::HasSubstr(", has 4.0 GiB"));
  EXPECT_EQ(manager_->ListJobs(v1::ListJobsRequest())->jobs_size(), 0);
  // A split over two devices is refused naming layer_split.
  target->mutable_device_map()->add_layer_split(11);
  target->mutable_device_map()->add_layer_split(11);
  refused = manager_->Submit(request);
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::StartsWith("target_model.device_map.layer_split: cuda:0 needs "));
  // Enough memory: accepted.
  target->mutable_device_map()->set_memory_gib(4096);
  EXPECT_TRUE(manager_->Submit(request).ok());
  // A checkpoint without config.json cannot be planned.
  target->set_checkpoint_dir(dir_ + "/nowhere");
  refused = manager_->Submit(request);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::StartsWith("target_model.device_map.memory_gib: cannot plan the job's "
                                    "memory: target_model.checkpoint_dir: "));
  // Scorers too: the large and small models (the same shape here) on 1 GiB.
  target->set_checkpoint_dir(dir_);
  v1::ReferenceModel* large = request.mutable_spec()->mutable_reference_models()->mutable_large();
  large->set_checkpoint_dir(dir_);
  large->set_dtype(v1::DTYPE_BFLOAT16);
  large->mutable_device_map()->set_device("cuda");
  large->mutable_device_map()->set_memory_gib(1);
  std::filesystem::create_directories(dir_ + "/small");
  std::filesystem::copy_file(config, dir_ + "/small/config.json");
  request.mutable_spec()->mutable_reference_models()->mutable_small()->set_checkpoint_dir(dir_ +
                                                                                          "/small");
  refused = manager_->Submit(request);
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::StartsWith("reference_models.large.device_map: cuda:0 needs "))
      << refused.status();
  large->mutable_device_map()->set_memory_gib(80);
  EXPECT_TRUE(manager_->Submit(request).ok());
}

// A rank that finished its part learns from its progress reports that a peer
// rejoined (the chaos grid found a finished rank waiting forever for a peer
// that had restarted from a checkpoint).
TEST_F(JobManagerTest, ProgressAnswersCarryTheRendezvousGeneration) {
  OpenManager();
  auto job = manager_->Submit(TrainRequest(2));
  ASSERT_TRUE(job.ok());
  ASSERT_TRUE(Lease(Register("scorer-0")).has_value());  // the job is SCORING
  v1::JoinTrainingRequest join;
  join.set_job_id(job->id());
  join.set_store_address("127.0.0.1:1");
  join.set_name("trainer-0");
  auto rank0 = manager_->JoinTraining(join, nullptr);
  ASSERT_TRUE(rank0.ok()) << rank0.status();
  join.set_name("trainer-1");
  auto rank1 = manager_->JoinTraining(join, nullptr);
  ASSERT_TRUE(rank1.ok()) << rank1.status();
  v1::ReportProgressRequest report;
  report.set_job_id(job->id());
  report.set_rank(rank1->rank());
  auto answer = manager_->ReportProgress(report);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->generation(), rank1->generation());
  join.set_name("trainer-0");  // rank 0 crashed and joins again
  auto again = manager_->JoinTraining(join, nullptr);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_GT(again->generation(), rank1->generation());
  answer = manager_->ReportProgress(report);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->generation(), again->generation());
}

// Issue 18 row 11: a rank that cannot go on fails the job with its reason.
TEST_F(JobManagerTest, ATrainerFailureFailsTheJob) {
  OpenManager();
  auto job = manager_->Submit(TrainRequest(1));
  ASSERT_TRUE(job.ok());
  v1::ReportProgressRequest report;
  report.set_job_id(job->id());
  report.set_failure("document p3: tokens[2] = 99999 is outside the target vocabulary [0, 128)");
  // Not joined yet: refused.
  EXPECT_EQ(manager_->ReportProgress(report).status().code(),
            absl::StatusCode::kFailedPrecondition);
  v1::JoinTrainingRequest join;
  join.set_job_id(job->id());
  join.set_name("trainer-0");
  join.set_store_address("127.0.0.1:1");
  ASSERT_TRUE(manager_->JoinTraining(join, nullptr).ok());
  auto answer = manager_->ReportProgress(report);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(answer->cancelled());
  const v1::Job failed = *manager_->GetJob(job->id());
  EXPECT_EQ(failed.state(), v1::JOB_STATE_FAILED);
  EXPECT_EQ(failed.reason(),
            "trainer rank 0: document p3: tokens[2] = 99999 is outside the target vocabulary "
            "[0, 128)");
}

// Issue 18 row 13: a payload written before a crash, never committed, stayed
// on disk for good.
TEST_F(JobManagerTest, UnreferencedPayloadsAreRemovedAtStartUp) {
  OpenManager();
  auto job = manager_->Submit(ScoreOnlyRequest());
  ASSERT_TRUE(job.ok());
  const std::string worker = Register("scorer-0");
  std::optional<v1::ShardLease> lease = Lease(worker);
  ASSERT_TRUE(Complete(worker, *lease, Score(*lease))->accepted());
  manager_.reset();
  const std::filesystem::path shards = std::filesystem::path(dir_) / "data" / "shards" / job->id();
  ASSERT_TRUE(std::filesystem::is_directory(shards));
  auto files = [&] {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(shards)) {
      names.push_back(e.path().filename());
    }
    std::sort(names.begin(), names.end());
    return names;
  };
  const std::vector<std::string> committed = files();
  ASSERT_EQ(committed.size(), 1u);
  std::filesystem::copy_file(shards / committed[0], shards / ("orphan" + committed[0]));
  OpenManager();
  EXPECT_EQ(files(), committed);
  bool logged = false;
  for (const v1::JobEvent& e : Events(job->id())) {
    logged =
        logged || e.message().find("removed 1 unreferenced shard payload") != std::string::npos;
  }
  EXPECT_TRUE(logged);
  // The committed result still streams.
  v1::StreamShardsRequest stream;
  stream.set_job_id(job->id());
  int chunks = 0;
  // Shard 0 streams; the wait for shard 1 (never scored) is then stopped.
  const absl::Status streamed = manager_->StreamShards(
      stream,
      [&](const v1::ScoredShardChunk& chunk) {
        EXPECT_EQ(chunk.index(), 0u);
        return ++chunks > 0;
      },
      [&] { return chunks >= 1; });
  EXPECT_TRUE(absl::IsCancelled(streamed)) << streamed;
  EXPECT_EQ(chunks, 1);
}

// Issue 18 row 12: the coordinator's own ENOSPC was charged to the shard
// (the job FAILED within seconds).
TEST_F(JobManagerTest, StorageFaultsPauseLeasingAndAreNotCharged) {
  OpenManager();
  auto job = manager_->Submit(ScoreOnlyRequest(/*shard_size=*/10));
  ASSERT_TRUE(job.ok());
  const std::string worker = Register("scorer-0");
  const std::filesystem::path job_dir = std::filesystem::path(dir_) / "data" / "shards" / job->id();
  // max_attempts is 2: two charged failures would fail the job.
  for (int round = 0; round < 2; ++round) {
    std::optional<v1::ShardLease> lease = Lease(worker);
    ASSERT_TRUE(lease.has_value()) << "round " << round;
    // The shard store cannot be written: its job directory is a file now.
    std::filesystem::remove_all(job_dir);
    std::ofstream(job_dir) << "blocked";
    auto result = Complete(worker, *lease, Score(*lease));
    EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
    EXPECT_NE(result.status().message().find("coordinator storage: "), absl::string_view::npos);
    v1::FailShardRequest fail;
    fail.set_worker_id(worker);
    fail.set_lease_id(lease->lease_id());
    fail.set_retryable(true);
    fail.set_error("CompleteShard failed: UNAVAILABLE");
    ASSERT_TRUE(manager_->FailShard(fail).ok());
    // Leasing is paused while the disk is bad.
    EXPECT_FALSE(Lease(worker).has_value());
    EXPECT_EQ(manager_->GetJob(job->id())->state(), v1::JOB_STATE_SCORING);
    std::filesystem::remove(job_dir);
    now_ += 2000;  // the next probe finds the disk writable
    manager_->TickForTest();
  }
  std::optional<v1::ShardLease> lease = Lease(worker);
  ASSERT_TRUE(lease.has_value());
  ASSERT_TRUE(Complete(worker, *lease, Score(*lease))->accepted());
  EXPECT_EQ(manager_->GetJob(job->id())->state(), v1::JOB_STATE_SUCCEEDED);
}

TEST_F(JobManagerTest, ExpiredLeasesRetryThenFailTheJobWithTheLastError) {
  OpenManager();
  auto job = manager_->Submit(ScoreOnlyRequest(/*shard_size=*/10));
  ASSERT_TRUE(job.ok());
  const std::string worker = Register("scorer-0");
  ASSERT_TRUE(Lease(worker).has_value());
  now_ += 1001;
  manager_->TickForTest();
  EXPECT_EQ(manager_->GetJob(job->id())->state(), v1::JOB_STATE_SCORING);
  now_ += 20;  // past the backoff
  std::optional<v1::ShardLease> again = Lease(worker);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->attempt(), 2u);
  v1::FailShardRequest fail;
  fail.set_worker_id(worker);
  fail.set_lease_id(again->lease_id());
  fail.set_error("CUDA out of memory");
  fail.set_retryable(true);
  ASSERT_TRUE(manager_->FailShard(fail).ok());
  auto failed = manager_->GetJob(job->id());
  EXPECT_EQ(failed->state(), v1::JOB_STATE_FAILED);
  EXPECT_NE(failed->reason().find("CUDA out of memory"), std::string::npos) << failed->reason();
}

TEST_F(JobManagerTest, CancelRevokesLeasesAndEndsWatchers) {
  OpenManager();
  auto job = manager_->Submit(ScoreOnlyRequest());
  const std::string worker = Register("scorer-0");
  std::optional<v1::ShardLease> lease = Lease(worker);
  std::vector<v1::JobEvent> seen;
  std::thread watcher([&] {
    EXPECT_TRUE(manager_
                    ->WatchJob(
                        job->id(), 0,
                        [&](const v1::JobEvent& e) {
                          seen.push_back(e);
                          return true;
                        },
                        nullptr)
                    .ok());
  });
  auto cancelled = manager_->CancelJob(job->id(), "wrong corpus");
  ASSERT_TRUE(cancelled.ok());
  watcher.join();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().state_changed(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(seen.back().reason(), "wrong corpus");
  v1::HeartbeatRequest hb;
  hb.set_worker_id(worker);
  hb.add_lease_ids(lease->lease_id());
  EXPECT_EQ(manager_->Heartbeat(hb)->revoked_lease_ids_size(), 1);
  EXPECT_FALSE(Lease(worker).has_value());
  EXPECT_FALSE(Complete(worker, *lease, Score(*lease))->accepted());
  EXPECT_EQ(manager_->CancelJob(job->id(), "").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(manager_->GetJob("job-nope").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(JobManagerTest, RendezvousAssignsStableRanksAndPartitionsShards) {
  OpenManager();
  auto job = manager_->Submit(TrainRequest(/*world=*/2));
  ASSERT_TRUE(job.ok()) << job.status();
  v1::JoinTrainingRequest join;
  join.set_name("trainer-a");
  join.set_store_address("10.0.0.1:29500");
  join.set_wait_ms(10);
  auto a = manager_->JoinTraining(join, nullptr);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->rank(), 0u);
  EXPECT_EQ(a->world_size(), 2u);
  EXPECT_EQ(a->rendezvous_address(), "10.0.0.1:29500");
  join.set_name("trainer-b");
  join.set_store_address("10.0.0.2:29500");
  auto b = manager_->JoinTraining(join, nullptr);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->rank(), 1u);
  EXPECT_EQ(b->rendezvous_address(), "10.0.0.1:29500");
  join.set_name("trainer-c");
  EXPECT_EQ(manager_->JoinTraining(join, nullptr).status().code(), absl::StatusCode::kUnavailable);
  // trainer-b crashes and rejoins (after a coordinator restart, too).
  manager_.reset();
  OpenManager();
  join.set_name("trainer-b");
  auto b2 = manager_->JoinTraining(join, nullptr);
  ASSERT_TRUE(b2.ok());
  EXPECT_EQ(b2->rank(), 1u);
  EXPECT_GT(b2->generation(), b->generation());

  // Score everything; rank 1 streams shards 1 (of 0, 1, 2).
  const std::string worker = Register("scorer-0");
  while (std::optional<v1::ShardLease> lease = Lease(worker)) {
    ASSERT_TRUE(Complete(worker, *lease, Score(*lease))->accepted());
  }
  EXPECT_EQ(manager_->GetJob(job->id())->state(), v1::JOB_STATE_TRAINING);
  v1::StreamShardsRequest stream;
  stream.set_job_id(job->id());
  stream.set_rank(1);
  std::vector<uint64_t> indices;
  ASSERT_TRUE(manager_
                  ->StreamShards(
                      stream,
                      [&](const v1::ScoredShardChunk& c) {
                        if (c.last()) indices.push_back(c.index());
                        return true;
                      },
                      nullptr)
                  .ok());
  EXPECT_EQ(indices, std::vector<uint64_t>{0});
  stream.set_rank(0);
  stream.set_cursor(1);  // resume after the first shard of rank 0
  std::vector<uint64_t> resumed;
  ASSERT_TRUE(manager_
                  ->StreamShards(
                      stream,
                      [&](const v1::ScoredShardChunk& c) {
                        if (c.last()) resumed.push_back(c.index());
                        return true;
                      },
                      nullptr)
                  .ok());
  EXPECT_EQ(resumed, std::vector<uint64_t>{1});
  stream.set_rank(2);
  EXPECT_EQ(manager_
                ->StreamShards(
                    stream, [](const auto&) { return true; }, nullptr)
                .code(),
            absl::StatusCode::kInvalidArgument);

  v1::ReportProgressRequest progress;
  progress.set_job_id(job->id());
  progress.set_rank(0);
  progress.mutable_progress()->set_training_step(10);
  progress.mutable_progress()->set_loss(1.5f);
  ASSERT_TRUE(manager_->ReportProgress(progress).ok());
  EXPECT_EQ(manager_->GetJob(job->id())->progress().loss(), 1.5f);
  progress.set_final_model_dir(dir_ + "/out/final");
  ASSERT_TRUE(manager_->ReportProgress(progress).ok());
  auto done = manager_->GetJob(job->id());
  EXPECT_EQ(done->state(), v1::JOB_STATE_SUCCEEDED);  // no evaluation section
  EXPECT_EQ(done->model_dir(), dir_ + "/out/final");
}

TEST_F(JobManagerTest, StreamWaitsForShardsStillBeingScored) {
  OpenManager();
  auto job = manager_->Submit(TrainRequest(1));
  ASSERT_TRUE(job.ok());
  std::vector<std::string> streamed;
  std::thread reader([&] {
    v1::StreamShardsRequest stream;
    stream.set_job_id(job->id());
    EXPECT_TRUE(manager_
                    ->StreamShards(
                        stream,
                        [&](const v1::ScoredShardChunk& c) {
                          if (c.last()) streamed.push_back(c.shard_id());
                          return true;
                        },
                        nullptr)
                    .ok());
  });
  const std::string worker = Register("scorer-0");
  std::vector<std::string> scored;
  while (std::optional<v1::ShardLease> lease = Lease(worker)) {
    scored.push_back(lease->shard_id());
    ASSERT_TRUE(Complete(worker, *lease, Score(*lease))->accepted());
  }
  reader.join();
  EXPECT_EQ(streamed, scored);
}

TEST_F(JobManagerTest, RepeatedRequestIdReturnsTheFirstJob) {
  OpenManager();
  v1::SubmitJobRequest request = ScoreOnlyRequest();
  request.set_request_id("req-42");
  auto first = manager_->Submit(request);
  auto second = manager_->Submit(request);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->id(), second->id());
  manager_.reset();
  OpenManager();
  EXPECT_EQ(manager_->Submit(request)->id(), first->id());
  EXPECT_EQ(manager_->ListJobs(v1::ListJobsRequest())->jobs_size(), 1);
}

TEST_F(JobManagerTest, ListPagesNewestFirst) {
  OpenManager();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(manager_->Submit(ScoreOnlyRequest())->id());
  v1::ListJobsRequest list;
  list.set_page_size(2);
  std::vector<std::string> seen;
  while (true) {
    auto page = manager_->ListJobs(list);
    ASSERT_TRUE(page.ok());
    for (const v1::Job& j : page->jobs()) seen.push_back(j.id());
    if (page->next_page_token().empty()) break;
    list.set_page_token(page->next_page_token());
  }
  std::reverse(ids.begin(), ids.end());
  EXPECT_EQ(seen, ids);
  list.set_page_token("garbage");
  EXPECT_EQ(manager_->ListJobs(list).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cluedrop::coordinator

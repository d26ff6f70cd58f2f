// The gRPC edge: who may call what (roles from bearer tokens), jobs visible
// only to their submitter, worker ids and trainer ranks bound to the
// identity that registered them, malformed CompleteShard streams, and status
// codes that name the field. Rows refer to issue 18's attack table.
#include "coordinator/server/services.h"

#include <grpcpp/client_context.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/mini_cluster/mini_cluster.h"

namespace cluedrop::coordinator {
namespace {

constexpr char kAlice[] = "alice-token-0123456789";
constexpr char kBob[] = "bob-token-0123456789ab";
constexpr char kAdmin[] = "admin-token-0123456789";
constexpr char kScorerA[] = "scorer-a-token-012345";
constexpr char kScorerB[] = "scorer-b-token-012345";
constexpr char kTrainerA[] = "trainer-a-token-01234";
constexpr char kTrainerB[] = "trainer-b-token-01234";

AuthOptions Tokens() {
  absl::StatusOr<auth::TokenTable> table = auth::TokenTable::Parse(
      absl::StrCat(kAlice, " alice submitter\n", kBob, " bob submitter\n", kAdmin, " ops admin\n",
                   kScorerA, " scorer-a scorer\n", kScorerB, " scorer-b scorer\n", kTrainerA,
                   " trainer-a trainer\n", kTrainerB, " trainer-b trainer\n"),
      "test");
  EXPECT_TRUE(table.ok()) << table.status();
  AuthOptions auth;
  auth.tokens = *table;
  return auth;
}

// A context carrying `token` (none when empty).
std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  return context;
}

double DeniedCount(test::MiniCluster& cluster, const std::string& reason) {
  for (const auto& family : cluster.coordinator().server().metrics().registry().Collect()) {
    if (family.name != "cluedrop_coordinator_auth_denied_total") continue;
    for (const auto& metric : family.metric) {
      for (const auto& label : metric.label) {
        if (label.name == "reason" && label.value == reason) return metric.counter.value;
      }
    }
  }
  return -1;
}

class ServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(coordinator_.Start().ok());
    dir_ = coordinator_.dir();
    std::ofstream(dir_ + "/c.jsonl") << "{\"id\": \"a\", \"text\": \"hello world\"}\n"
                                     << "{\"id\": \"b\", \"text\": \"goodbye world\"}\n";
    job_stub_ = v1::JobService::NewStub(coordinator_.channel());
    work_stub_ = v1::WorkService::NewStub(coordinator_.channel());
    train_stub_ = v1::TrainService::NewStub(coordinator_.channel());
  }

  v1::SubmitJobRequest Request(bool train = false) {
    v1::SubmitJobRequest request;
    request.mutable_spec()->mutable_corpus()->add_paths(dir_ + "/c.jsonl");
    request.mutable_spec()->mutable_reference_models()->mutable_large()->set_checkpoint_dir("/l");
    request.mutable_spec()->mutable_reference_models()->mutable_small()->set_checkpoint_dir("/s");
    if (train) {
      request.mutable_spec()->mutable_target_model()->set_checkpoint_dir("/t");
      request.mutable_spec()->set_output_dir(dir_ + "/out");
    }
    return request;
  }

  v1::Job Submit(const std::string& token, bool train = false) {
    v1::Job job;
    grpc::Status s = job_stub_->SubmitJob(As(token).get(), Request(train), &job);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return job;
  }

  std::string Register(const std::string& token, const std::string& name,
                       grpc::Status* out = nullptr) {
    v1::RegisterWorkerRequest request;
    request.set_name(name);
    v1::RegisterWorkerResponse response;
    grpc::Status s = work_stub_->RegisterWorker(As(token).get(), request, &response);
    if (out != nullptr) *out = s;
    return response.worker_id();
  }

  v1::LeaseShardResponse Lease(const std::string& token, const std::string& worker_id) {
    v1::LeaseShardRequest request;
    request.set_worker_id(worker_id);
    request.set_wait_ms(1000);
    v1::LeaseShardResponse response;
    grpc::Status s = work_stub_->LeaseShard(As(token).get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  test::MiniCluster coordinator_{[] {
    test::MiniClusterOptions options;
    options.auth = Tokens();
    return options;
  }()};
  std::string dir_;
  std::unique_ptr<v1::JobService::Stub> job_stub_;
  std::unique_ptr<v1::WorkService::Stub> work_stub_;
  std::unique_ptr<v1::TrainService::Stub> train_stub_;
};

TEST_F(ServicesTest, JobServiceRequiresABearerToken) {
  v1::Job job;
  grpc::Status s = job_stub_->SubmitJob(As("").get(), Request(), &job);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  EXPECT_EQ(s.error_message(),
            "JobService needs role submitter: no credentials: send \"authorization: Bearer "
            "<token>\" (--token_file, CLUEDROP_TOKEN_FILE) or a client certificate");
  s = job_stub_->SubmitJob(As("wrong-token-0123456789").get(), Request(), &job);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(), "authorization: unknown token");
  auto basic = std::make_unique<grpc::ClientContext>();
  basic->AddMetadata("authorization", absl::StrCat("Basic ", kAlice));
  s = job_stub_->SubmitJob(basic.get(), Request(), &job);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // Nothing was created by the refused calls.
  EXPECT_EQ(coordinator_.manager().ListJobs(v1::ListJobsRequest())->jobs_size(), 0);
  EXPECT_EQ(Submit(kAlice).state(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(DeniedCount(coordinator_, "unauthenticated"), 2);
  EXPECT_EQ(DeniedCount(coordinator_, "bad_credentials"), 1);
}

TEST_F(ServicesTest, InvalidSpecIsInvalidArgumentNamingTheField) {
  v1::SubmitJobRequest request = Request();
  request.mutable_spec()->mutable_augmentation()->set_alpha(1.3f);
  request.mutable_spec()->mutable_corpus()->set_shard_size_docs(0);
  v1::Job job;
  grpc::Status s = job_stub_->SubmitJob(As(kAlice).get(), request, &job);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "augmentation.alpha: must be in [0, 1], got 1.3");
}

// Row 1: an unauthenticated peer registered, leased and read another user's
// job. Each role reaches only its own service.
TEST_F(ServicesTest, EachRoleReachesOnlyItsService) {
  Submit(kAlice);
  grpc::Status s;
  Register("", "squatter", &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  Register(kAlice, "squatter", &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(),
            "WorkService needs role scorer; identity alice (token) has submitter");
  Register(kTrainerA, "squatter", &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::Job job;
  s = job_stub_->SubmitJob(As(kScorerA).get(), Request(), &job);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::JoinTrainingRequest join;
  join.set_name("t");
  join.set_store_address("127.0.0.1:1");
  v1::JoinTrainingResponse joined;
  s = train_stub_->JoinTraining(As(kScorerA).get(), join, &joined);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = train_stub_->JoinTraining(As("").get(), join, &joined);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(DeniedCount(coordinator_, "wrong_role"), 4);
  // The scorer role works.
  const std::string worker = Register(kScorerA, "scorer-a-0", &s);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(Lease(kScorerA, worker).has_lease());
}

// Rows 3 and 5: leases and worker names belong to the identity that
// registered them.
TEST_F(ServicesTest, WorkersAndLeasesAreBoundToTheirIdentity) {
  const v1::Job job = Submit(kAlice);
  grpc::Status s;
  const std::string worker = Register(kScorerA, "scorer-0", &s);
  ASSERT_TRUE(s.ok());
  const v1::LeaseShardResponse lease = Lease(kScorerA, worker);
  ASSERT_TRUE(lease.has_lease());
  // Another scorer identity cannot take the name over (evicting the holder).
  Register(kScorerB, "scorer-0", &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(),
            "name: worker scorer-0 is registered by another identity, not scorer-b");
  // ... nor fail, heartbeat or lease through its worker id.
  v1::FailShardRequest fail;
  fail.set_worker_id(worker);
  fail.set_lease_id(lease.lease().lease_id());
  fail.set_retryable(false);
  fail.set_error("forged");
  v1::FailShardResponse failed;
  s = work_stub_->FailShard(As(kScorerB).get(), fail, &failed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::HeartbeatRequest beat;
  beat.set_worker_id(worker);
  v1::HeartbeatResponse beaten;
  s = work_stub_->Heartbeat(As(kScorerB).get(), beat, &beaten);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::LeaseShardRequest lease_request;
  lease_request.set_worker_id(worker);
  v1::LeaseShardResponse stolen;
  s = work_stub_->LeaseShard(As(kScorerB).get(), lease_request, &stolen);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::CompleteShardResponse completed;
  {
    auto context = As(kScorerB);
    auto writer = work_stub_->CompleteShard(context.get(), &completed);
    v1::CompleteShardRequest header;
    header.mutable_header()->set_worker_id(worker);
    header.mutable_header()->set_lease_id(lease.lease().lease_id());
    header.mutable_header()->set_shard_id(lease.lease().shard_id());
    header.mutable_header()->set_document_count(1);
    writer->Write(header);
    writer->WritesDone();
    EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  EXPECT_EQ(DeniedCount(coordinator_, "not_owner"), 5);
  // The job is untouched: still scoring, the lease still held.
  EXPECT_EQ(coordinator_.manager().GetJob(job.id())->state(), v1::JOB_STATE_SCORING);
  s = work_stub_->Heartbeat(As(kScorerA).get(), beat, &beaten);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

// Jobs are visible only to their submitter and admins.
TEST_F(ServicesTest, JobsAreIsolatedPerSubmitter) {
  const v1::Job mine = Submit(kAlice);
  EXPECT_EQ(mine.owner(), "alice");
  Submit(kBob);
  v1::Job job;
  grpc::Status s;
  v1::GetJobRequest get;
  get.set_job_id(mine.id());
  s = job_stub_->GetJob(As(kBob).get(), get, &job);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "job_id: no job " + mine.id());
  v1::CancelJobRequest cancel;
  cancel.set_job_id(mine.id());
  s = job_stub_->CancelJob(As(kBob).get(), cancel, &job);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  v1::WatchJobRequest watch;
  watch.set_job_id(mine.id());
  auto context = As(kBob);
  auto reader = job_stub_->WatchJob(context.get(), watch);
  v1::JobEvent event;
  EXPECT_FALSE(reader->Read(&event));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  v1::ListJobsResponse list;
  ASSERT_TRUE(job_stub_->ListJobs(As(kBob).get(), v1::ListJobsRequest(), &list).ok());
  ASSERT_EQ(list.jobs_size(), 1);
  EXPECT_EQ(list.jobs(0).owner(), "bob");
  ASSERT_TRUE(job_stub_->ListJobs(As(kAdmin).get(), v1::ListJobsRequest(), &list).ok());
  EXPECT_EQ(list.jobs_size(), 2);
  // A request id names the caller's own job only.
  v1::SubmitJobRequest again = Request();
  again.set_request_id("same");
  v1::Job a, b;
  ASSERT_TRUE(job_stub_->SubmitJob(As(kAlice).get(), again, &a).ok());
  ASSERT_TRUE(job_stub_->SubmitJob(As(kBob).get(), again, &b).ok());
  EXPECT_NE(a.id(), b.id());
  EXPECT_EQ(b.owner(), "bob");
  // The owner and admins cancel.
  ASSERT_TRUE(job_stub_->CancelJob(As(kAdmin).get(), cancel, &job).ok());
  EXPECT_EQ(job.state(), v1::JOB_STATE_CANCELLED);
}

// Rows 3 and 4: trainer ranks belong to their identity; reports come only
// from a joined rank while the job trains.
TEST_F(ServicesTest, ReportsComeOnlyFromTheJoinedRankWhileTraining) {
  const v1::Job job = Submit(kAlice, /*train=*/true);
  v1::ReportProgressRequest progress;
  progress.set_job_id(job.id());
  progress.set_rank(0);
  progress.set_final_model_dir("/srv/evil-model");
  v1::ReportProgressResponse reported;
  grpc::Status s = train_stub_->ReportProgress(As(kTrainerB).get(), progress, &reported);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(), "rank: no trainer has joined job " + job.id() + " as rank 0");
  v1::JoinTrainingRequest join;
  join.set_job_id(job.id());
  join.set_name("trainer-0");
  join.set_store_address("127.0.0.1:1");
  v1::JoinTrainingResponse joined;
  s = train_stub_->JoinTraining(As(kTrainerA).get(), join, &joined);
  ASSERT_TRUE(s.ok()) << s.error_message();
  // Another trainer identity cannot rejoin under that name ...
  s = train_stub_->JoinTraining(As(kTrainerB).get(), join, &joined);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // ... report for the rank, or stream its shards.
  s = train_stub_->ReportProgress(As(kTrainerB).get(), progress, &reported);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::StreamShardsRequest stream;
  stream.set_job_id(job.id());
  auto context = As(kTrainerB);
  auto reader = train_stub_->StreamShards(context.get(), stream);
  v1::ScoredShardChunk chunk;
  EXPECT_FALSE(reader->Read(&chunk));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // The rank itself cannot end a job that is still being scored.
  s = train_stub_->ReportProgress(As(kTrainerA).get(), progress, &reported);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  v1::ReportEvaluationRequest evaluation;
  evaluation.set_job_id(job.id());
  evaluation.set_final(true);
  v1::ReportEvaluationResponse evaluated;
  s = train_stub_->ReportEvaluation(As(kTrainerA).get(), evaluation, &evaluated);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  const v1::Job after = *coordinator_.manager().GetJob(job.id());
  EXPECT_EQ(after.state(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(after.model_dir(), "");
  EXPECT_EQ(after.evaluations_size(), 0);
}

TEST_F(ServicesTest, CompletionHeaderIsCheckedBeforeTheDocuments) {
  Submit(kAlice);
  grpc::Status s;
  const std::string worker = Register(kScorerA, "scorer-0", &s);
  const v1::LeaseShardResponse lease = Lease(kScorerA, worker);
  ASSERT_TRUE(lease.has_lease());
  v1::CompleteShardResponse response;
  {  // No header first.
    auto context = As(kScorerA);
    auto writer = work_stub_->CompleteShard(context.get(), &response);
    v1::CompleteShardRequest document;
    document.mutable_document()->set_id("a");
    ASSERT_TRUE(writer->Write(document));
    writer->WritesDone();
    s = writer->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(), "header: the first CompleteShard message must be the header");
  }
  for (uint32_t count : {0u, 4000000000u}) {  // Row 10: a forged count.
    auto context = As(kScorerA);
    auto writer = work_stub_->CompleteShard(context.get(), &response);
    v1::CompleteShardRequest header;
    header.mutable_header()->set_worker_id(worker);
    header.mutable_header()->set_lease_id(lease.lease().lease_id());
    header.mutable_header()->set_shard_id(lease.lease().shard_id());
    header.mutable_header()->set_document_count(count);
    ASSERT_TRUE(writer->Write(header));
    writer->WritesDone();
    s = writer->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(),
              absl::StrCat("header.document_count: the shard has ", lease.lease().documents_size(),
                           " documents, got ", count));
  }
  {  // Row 9: a lease that does not exist is refused at its header.
    auto context = As(kScorerA);
    auto writer = work_stub_->CompleteShard(context.get(), &response);
    v1::CompleteShardRequest header;
    header.mutable_header()->set_worker_id(worker);
    header.mutable_header()->set_lease_id("lease-unknown");
    header.mutable_header()->set_shard_id("shard-00000-0");
    header.mutable_header()->set_document_count(100);
    ASSERT_TRUE(writer->Write(header));
    v1::CompleteShardRequest big;
    big.mutable_document()->set_id(std::string(1 << 20, 'x'));
    for (int i = 0; i < 100 && writer->Write(big); ++i) {
    }
    writer->WritesDone();
    s = writer->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(s.error_message(),
              "header.lease_id: unknown lease lease-unknown (set header.job_id for leases of an "
              "earlier coordinator run)");
  }
}

TEST_F(ServicesTest, UnknownWorkerMustRegister) {
  v1::HeartbeatRequest request;
  request.set_worker_id("worker-ghost");
  v1::HeartbeatResponse response;
  grpc::Status s = work_stub_->Heartbeat(As(kScorerA).get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(s.error_message().find("register again"), std::string::npos);
}

// Issue 18 row 15: one thread per long poll, without a bound. Calls that
// wait are capped; the one over the cap is RESOURCE_EXHAUSTED naming the
// flag, and counted.
TEST(ServiceLimitsTest, WaitingCallsAreCapped) {
  test::MiniClusterOptions options;
  options.limits.max_long_polls = 2;
  test::MiniCluster cluster(options);
  ASSERT_TRUE(cluster.Start().ok());
  auto work = v1::WorkService::NewStub(cluster.channel());
  v1::RegisterWorkerRequest reg;
  reg.set_name("w");
  v1::RegisterWorkerResponse registered;
  grpc::ClientContext reg_context;
  ASSERT_TRUE(work->RegisterWorker(&reg_context, reg, &registered).ok());
  auto poll = [&](uint32_t wait_ms) {
    v1::LeaseShardRequest request;
    request.set_worker_id(registered.worker_id());
    request.set_wait_ms(wait_ms);
    v1::LeaseShardResponse response;
    grpc::ClientContext context;
    return work->LeaseShard(&context, request, &response);
  };
  std::vector<std::thread> waiting;
  for (int i = 0; i < 2; ++i) waiting.emplace_back([&] { EXPECT_TRUE(poll(3000).ok()); });
  // Both waiters are in well before their 3 s wait ends.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  grpc::Status s = poll(10);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(s.error_message(),
            "too many concurrent long polls (LeaseShard, JoinTraining) (--max_long_polls=2); "
            "retry later");
  for (std::thread& t : waiting) t.join();
  EXPECT_TRUE(poll(10).ok());  // the slots are back
  double hits = -1;
  for (const auto& family : cluster.coordinator().server().metrics().registry().Collect()) {
    if (family.name != "cluedrop_coordinator_limit_hits_total") continue;
    for (const auto& metric : family.metric) {
      if (metric.label[0].value == "max_long_polls") hits = metric.counter.value;
    }
  }
  EXPECT_EQ(hits, 1);
}

double LimitHits(test::MiniCluster& cluster, const std::string& limit) {
  for (const auto& family : cluster.coordinator().server().metrics().registry().Collect()) {
    if (family.name != "cluedrop_coordinator_limit_hits_total") continue;
    for (const auto& metric : family.metric) {
      if (metric.label[0].value == limit) return metric.counter.value;
    }
  }
  return 0;
}

// Server streams end after --max_stream_seconds with RESOURCE_EXHAUSTED
// naming the flag; a client resumes from its last event.
TEST(ServiceLimitsTest, ServerStreamsEndAfterMaxStreamSeconds) {
  test::MiniClusterOptions options;
  options.limits.max_stream_seconds = 1;
  test::MiniCluster cluster(options);
  ASSERT_TRUE(cluster.Start().ok());
  std::ofstream(cluster.dir() + "/c.jsonl") << "{\"id\": \"a\", \"text\": \"hello\"}\n";
  auto jobs = v1::JobService::NewStub(cluster.channel());
  v1::SubmitJobRequest submit;
  submit.mutable_spec()->mutable_corpus()->add_paths(cluster.dir() + "/c.jsonl");
  submit.mutable_spec()->mutable_reference_models()->mutable_large()->set_checkpoint_dir("/l");
  submit.mutable_spec()->mutable_reference_models()->mutable_small()->set_checkpoint_dir("/s");
  v1::Job job;
  grpc::ClientContext submit_context;
  ASSERT_TRUE(jobs->SubmitJob(&submit_context, submit, &job).ok());

  uint64_t last = 0;
  for (int round = 0; round < 2; ++round) {
    v1::WatchJobRequest watch;
    watch.set_job_id(job.id());
    watch.set_after_sequence(last);
    grpc::ClientContext context;
    const absl::Time start = absl::Now();
    auto reader = jobs->WatchJob(&context, watch);
    v1::JobEvent event;
    int events = 0;
    while (reader->Read(&event)) {
      EXPECT_GT(event.sequence(), last);
      last = event.sequence();
      ++events;
    }
    grpc::Status s = reader->Finish();
    const absl::Duration open = absl::Now() - start;
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
    EXPECT_EQ(s.error_message(),
              "stream open longer than --max_stream_seconds=1; resume from the last event or "
              "shard received");
    EXPECT_GE(open, absl::Seconds(1));
    EXPECT_LT(open, absl::Seconds(5));
    // The first stream replays the job's events; the resumed one has none new.
    if (round == 0) {
      EXPECT_GT(events, 0);
    } else {
      EXPECT_EQ(events, 0);
    }
  }

  auto train = v1::TrainService::NewStub(cluster.channel());
  v1::StreamShardsRequest stream;
  stream.set_job_id(job.id());
  grpc::ClientContext context;
  auto reader = train->StreamShards(&context, stream);
  v1::ScoredShardChunk chunk;
  EXPECT_FALSE(reader->Read(&chunk));  // nothing is scored: it waits, then ends
  grpc::Status s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_EQ(LimitHits(cluster, "max_stream_seconds"), 3);
}

// Secure by default: a coordinator with no credentials configured refuses
// every call, saying how to configure them.
TEST(SecureByDefaultTest, NoCredentialsConfiguredRefusesEveryCall) {
  test::MiniClusterOptions options;
  options.auth = AuthOptions();
  test::MiniCluster cluster(options);
  ASSERT_TRUE(cluster.Start().ok());
  auto work = v1::WorkService::NewStub(cluster.channel());
  v1::RegisterWorkerRequest request;
  request.set_name("w");
  v1::RegisterWorkerResponse response;
  grpc::ClientContext context;
  grpc::Status s = work->RegisterWorker(&context, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(),
            "the coordinator has no credentials configured and refuses every call: give the "
            "coordinator --auth_token_file (and the caller --token_file), or client "
            "certificates with --tls_client_ca_file; see docs/security.md");
  auto jobs = v1::JobService::NewStub(cluster.channel());
  grpc::ClientContext list_context;
  v1::ListJobsResponse list;
  EXPECT_EQ(jobs->ListJobs(&list_context, v1::ListJobsRequest(), &list).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace cluedrop::coordinator

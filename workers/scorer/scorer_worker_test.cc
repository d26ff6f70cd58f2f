// ScorerWorker against an in-process fake WorkService (a real gRPC server on
// port 0) and a fake ShardScorer: registration, a leased shard scored and
// streamed back, scoring errors, heartbeat revocation and NOT_FOUND,
// shutdown while scoring, and coordinator outages (refused calls and a
// restarted server).
#include "workers/scorer/scorer_worker.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <cmath>
#include <deque>
#include <functional>
#include <limits>
#include <set>
#include <sstream>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace cluedrop::scorer {
namespace {

namespace v1 = cluedrop::v1;

// One CompleteShard stream as the server read it.
struct Completion {
  v1::CompleteShardHeader header;
  std::vector<v1::ScoredDocument> documents;
};

class FakeWorkService final : public v1::WorkService::Service {
 public:
  grpc::Status RegisterWorker(grpc::ServerContext*, const v1::RegisterWorkerRequest* request,
                              v1::RegisterWorkerResponse* response) override {
    absl::MutexLock lock(&mu);
    if (unavailable) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "down");
    registrations.push_back(*request);
    const std::string id = "w" + std::to_string(registrations.size());
    workers.insert(id);
    response->set_worker_id(id);
    response->set_heartbeat_interval_ms(heartbeat_interval_ms);
    response->set_lease_ttl_ms(1000);
    return grpc::Status::OK;
  }

  grpc::Status Heartbeat(grpc::ServerContext*, const v1::HeartbeatRequest* request,
                         v1::HeartbeatResponse* response) override {
    absl::MutexLock lock(&mu);
    if (unavailable) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "down");
    heartbeats.push_back(*request);
    if (heartbeat_not_found > 0) {
      --heartbeat_not_found;
      workers.erase(request->worker_id());
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown worker");
    }
    for (const std::string& id : request->lease_ids()) {
      if (revoke.count(id) > 0) response->add_revoked_lease_ids(id);
    }
    return grpc::Status::OK;
  }

  grpc::Status LeaseShard(grpc::ServerContext*, const v1::LeaseShardRequest* request,
                          v1::LeaseShardResponse* response) override {
    absl::MutexLock lock(&mu);
    if (unavailable) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "down");
    if (workers.count(request->worker_id()) == 0) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown worker");
    }
    lease_calls++;
    auto ready = [this] { return !queue.empty(); };
    mu.AwaitWithTimeout(absl::Condition(&ready),
                        absl::Milliseconds(std::min<uint32_t>(request->wait_ms(), 200)));
    if (queue.empty()) return grpc::Status::OK;
    *response->mutable_lease() = queue.front();
    queue.pop_front();
    return grpc::Status::OK;
  }

  grpc::Status CompleteShard(grpc::ServerContext* context,
                             grpc::ServerReader<v1::CompleteShardRequest>* reader,
                             v1::CompleteShardResponse* response) override {
    Completion completion;
    v1::CompleteShardRequest message;
    while (reader->Read(&message)) {
      if (message.has_header()) completion.header = message.header();
      if (message.has_document()) completion.documents.push_back(message.document());
    }
    bool hang;
    absl::Duration delay;
    {
      absl::MutexLock lock(&mu);
      ++complete_calls;
      hang = complete_hangs;
      delay = complete_delay;
    }
    // A stream that never gets its answer (as one on a dead connection).
    while (hang && !context->IsCancelled()) absl::SleepFor(absl::Milliseconds(5));
    if (hang) return grpc::Status(grpc::StatusCode::CANCELLED, "client cancelled");
    absl::SleepFor(delay);
    absl::MutexLock lock(&mu);
    completions.push_back(std::move(completion));
    response->set_accepted(true);
    return grpc::Status::OK;
  }

  grpc::Status FailShard(grpc::ServerContext*, const v1::FailShardRequest* request,
                         v1::FailShardResponse*) override {
    absl::MutexLock lock(&mu);
    fails.push_back(*request);
    return grpc::Status::OK;
  }

  void Queue(v1::ShardLease lease) {
    absl::MutexLock lock(&mu);
    queue.push_back(std::move(lease));
  }

  absl::Mutex mu;
  bool unavailable ABSL_GUARDED_BY(mu) = false;
  int heartbeat_not_found ABSL_GUARDED_BY(mu) = 0;
  std::set<std::string> revoke ABSL_GUARDED_BY(mu);
  uint32_t heartbeat_interval_ms = 30;
  std::set<std::string> workers ABSL_GUARDED_BY(mu);
  std::deque<v1::ShardLease> queue ABSL_GUARDED_BY(mu);
  std::vector<v1::RegisterWorkerRequest> registrations ABSL_GUARDED_BY(mu);
  std::vector<v1::HeartbeatRequest> heartbeats ABSL_GUARDED_BY(mu);
  std::vector<Completion> completions ABSL_GUARDED_BY(mu);
  std::vector<v1::FailShardRequest> fails ABSL_GUARDED_BY(mu);
  int lease_calls ABSL_GUARDED_BY(mu) = 0;
  int complete_calls ABSL_GUARDED_BY(mu) = 0;
  bool complete_hangs ABSL_GUARDED_BY(mu) = false;
  absl::Duration complete_delay ABSL_GUARDED_BY(mu) = absl::ZeroDuration();
};

// Scores each document as one token per byte: token id = byte value, span
// [i, i+1), received_large = i + 1, received_small = 0.5, and NaN for the
// last token (as include_self=false gives). Can fail, or block until aborted.
class FakeShardScorer : public ShardScorer {
 public:
  StatusOr<ShardScoringResult> Score(const ShardScoringRequest& request,
                                     const ShardProgressFn& progress) override {
    {
      absl::MutexLock lock(&mu);
      requests.push_back(request);
    }
    ShardProgress p{0, static_cast<int64_t>(request.documents.size()), 0};
    if (!progress(p)) return CancelledError("aborted");
    if (block_until_aborted) {
      while (progress(p)) absl::SleepFor(absl::Milliseconds(5));
      absl::MutexLock lock(&mu);
      aborted = true;
      return CancelledError("aborted");
    }
    if (!error.ok()) return error;
    ShardScoringResult result;
    result.model_load_seconds = {0.25};
    for (const ShardDocument& d : request.documents) {
      ScoredText s;
      for (size_t i = 0; i < d.text.size(); ++i) {
        s.tokens.push_back(static_cast<unsigned char>(d.text[i]));
        s.offsets.push_back({i, i + 1});
        const bool last = i + 1 == d.text.size();
        s.received_large.push_back(last ? std::nanf("") : static_cast<float>(i + 1));
        s.received_small.push_back(last ? std::nanf("") : 0.5f);
        s.contrast.push_back(last ? std::nanf("") : static_cast<float>(i) + 0.5f);
      }
      s.reference_tokens = static_cast<int64_t>(d.text.size()) + 1;  // + a BOS
      result.documents.push_back(std::move(s));
    }
    p.documents_done = p.documents_total;
    p.reference_tokens_done = result.reference_tokens();
    if (!progress(p)) return CancelledError("aborted");
    return result;
  }

  int calls() {
    absl::MutexLock lock(&mu);
    return static_cast<int>(requests.size());
  }

  Status error;
  bool block_until_aborted = false;
  absl::Mutex mu;
  std::vector<ShardScoringRequest> requests ABSL_GUARDED_BY(mu);
  bool aborted ABSL_GUARDED_BY(mu) = false;
};

v1::ShardLease MakeLease(const std::string& id) {
  v1::ShardLease lease;
  lease.set_lease_id(id);
  lease.set_job_id("job-1");
  lease.set_shard_id("shard-" + id);
  lease.set_attempt(1);
  lease.set_large_checkpoint_dir("/models/large");
  lease.set_small_checkpoint_dir("/models/small");
  lease.set_target_tokenizer_dir("/models/target");
  lease.set_include_self(false);
  lease.add_layers(0);
  lease.add_layers(3);
  lease.set_large_dtype(v1::DTYPE_BFLOAT16);
  lease.set_small_dtype(v1::DTYPE_UNSPECIFIED);
  v1::Document* a = lease.add_documents();
  a->set_id("a");
  a->set_text("Liam");
  v1::QaItem* qa = a->add_qa_items();
  qa->set_subject("Liam");
  qa->set_field("name");
  qa->set_answer("Liam");
  v1::Document* b = lease.add_documents();
  b->set_id("b");
  b->set_text("");
  return lease;
}

// Polls `done` until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return done();
}

// The value of a counter or gauge (or a histogram's count) with the given
// "result" label ("" = no label).
double Metric(prometheus::Registry& registry, const std::string& name,
              const std::string& result = "") {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& m : family.metric) {
      const bool match =
          result.empty() ? m.label.empty() : (!m.label.empty() && m.label[0].value == result);
      if (!match) continue;
      if (family.type == prometheus::MetricType::Counter) return m.counter.value;
      if (family.type == prometheus::MetricType::Gauge) return m.gauge.value;
      if (family.type == prometheus::MetricType::Histogram) {
        return static_cast<double>(m.histogram.sample_count);
      }
    }
  }
  return -1;
}

class ScorerWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(0); }
  void TearDown() override {
    StopWorker();
    if (server_) server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Milliseconds(100)));
  }

  void StartServer(int port) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  void StartWorker() {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 100);
    auto channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port_),
                                             grpc::InsecureChannelCredentials(), args);
    ScorerWorkerOptions options;
    options.name = "scorer-test";
    options.devices = {"cpu"};
    options.version = "0.0.test";
    options.lease_wait_ms = 200;
    options.rpc_timeout_ms = 2000;
    options.complete_timeout_ms = 5000;
    options.shutdown_send_grace_ms = send_grace_ms_;
    options.backoff_initial_ms = 20;
    options.backoff_max_ms = 100;
    options.on_state = [this](bool ready, const std::string& detail) {
      absl::MutexLock lock(&state_mu_);
      ready_ = ready;
      states_.push_back(detail);
    };
    options.log = &log_;
    worker_ = std::make_unique<ScorerWorker>(options, v1::WorkService::NewStub(channel), &scorer_,
                                             &registry_);
    thread_ = std::thread([this] { run_status_ = worker_->Run(shutdown_); });
  }

  void StopWorker() {
    if (!thread_.joinable()) return;
    shutdown_.RequestShutdown("test done");
    thread_.join();
  }

  bool Ready() {
    absl::MutexLock lock(&state_mu_);
    return ready_;
  }

  int64_t send_grace_ms_ = 10000;
  std::unique_ptr<FakeWorkService> service_ = std::make_unique<FakeWorkService>();
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  FakeShardScorer scorer_;
  prometheus::Registry registry_;
  ShutdownController shutdown_;
  std::unique_ptr<ScorerWorker> worker_;
  std::thread thread_;
  absl::Status run_status_;
  std::ostringstream log_;  // written by the worker only while it runs
  absl::Mutex state_mu_;
  bool ready_ ABSL_GUARDED_BY(state_mu_) = false;
  std::vector<std::string> states_ ABSL_GUARDED_BY(state_mu_);
};

TEST_F(ScorerWorkerTest, RegistersWithNameAndCapabilitiesThenReportsReady) {
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return Ready(); }));
  EXPECT_EQ(worker_->worker_id(), "w1");
  {
    absl::MutexLock lock(&service_->mu);
    ASSERT_EQ(service_->registrations.size(), 1u);
    const v1::RegisterWorkerRequest& r = service_->registrations[0];
    EXPECT_EQ(r.name(), "scorer-test");
    ASSERT_EQ(r.capabilities().devices_size(), 1);
    EXPECT_EQ(r.capabilities().devices(0), "cpu");
    EXPECT_EQ(r.capabilities().version(), "0.0.test");
  }
  // Heartbeats flow at the registered interval, without a lease.
  ASSERT_TRUE(WaitFor([&] {
    absl::MutexLock lock(&service_->mu);
    return service_->heartbeats.size() >= 3;
  }));
  {
    absl::MutexLock lock(&service_->mu);
    EXPECT_EQ(service_->heartbeats[0].worker_id(), "w1");
    EXPECT_EQ(service_->heartbeats[0].lease_ids_size(), 0);
  }
  StopWorker();
  EXPECT_TRUE(run_status_.ok()) << run_status_;
  EXPECT_FALSE(Ready());
}

TEST_F(ScorerWorkerTest, LeasesScoresAndStreamsTheShard) {
  service_->Queue(MakeLease("L1"));
  StartWorker();
  ASSERT_TRUE(WaitFor([&] {
    absl::MutexLock lock(&service_->mu);
    return !service_->completions.empty();
  }));
  StopWorker();
  ASSERT_TRUE(run_status_.ok()) << run_status_;

  // The scorer saw the lease's settings.
  {
    absl::MutexLock lock(&scorer_.mu);
    ASSERT_EQ(scorer_.requests.size(), 1u);
    const ShardScoringSettings& s = scorer_.requests[0].settings;
    EXPECT_EQ(s.large_checkpoint_dir, "/models/large");
    EXPECT_EQ(s.small_checkpoint_dir, "/models/small");
    EXPECT_EQ(s.target_tokenizer_dir, "/models/target");
    EXPECT_EQ(s.large_dtype, "bfloat16");
    EXPECT_EQ(s.small_dtype, "");
    EXPECT_FALSE(s.include_self);
    EXPECT_EQ(s.layers, (std::vector<int64_t>{0, 3}));
    EXPECT_EQ(s.batch_tokens, 16384);  // 0 in the lease
    ASSERT_EQ(scorer_.requests[0].documents.size(), 2u);
    EXPECT_EQ(scorer_.requests[0].documents[0].text, "Liam");
  }
  absl::MutexLock lock(&service_->mu);
  ASSERT_EQ(service_->completions.size(), 1u);
  EXPECT_TRUE(service_->fails.empty());
  const Completion& c = service_->completions[0];
  EXPECT_EQ(c.header.worker_id(), "w1");
  EXPECT_EQ(c.header.lease_id(), "L1");
  EXPECT_EQ(c.header.shard_id(), "shard-L1");
  EXPECT_EQ(c.header.job_id(), "job-1");
  EXPECT_EQ(c.header.document_count(), 2u);
  EXPECT_EQ(c.header.tokens_scored(), 5u + 1u);  // 4 + 1 BOS, 0 + 1 BOS
  ASSERT_EQ(c.documents.size(), 2u);
  const v1::ScoredDocument& a = c.documents[0];
  EXPECT_EQ(a.id(), "a");
  EXPECT_EQ(a.text(), "Liam");
  EXPECT_EQ(std::vector<int32_t>(a.tokens().begin(), a.tokens().end()),
            (std::vector<int32_t>{'L', 'i', 'a', 'm'}));
  EXPECT_EQ(std::vector<uint32_t>(a.offsets().begin(), a.offsets().end()),
            (std::vector<uint32_t>{0, 1, 1, 2, 2, 3, 3, 4}));
  ASSERT_EQ(a.received_large_size(), 4);
  EXPECT_EQ(a.received_large(0), 1.0f);
  EXPECT_EQ(a.received_small(2), 0.5f);
  EXPECT_EQ(a.contrast(1), 1.5f);
  EXPECT_TRUE(std::isnan(a.received_large(3)));  // NaN travels as a float
  EXPECT_TRUE(std::isnan(a.contrast(3)));
  ASSERT_EQ(a.qa_items_size(), 1);
  EXPECT_EQ(a.qa_items(0).subject(), "Liam");
  EXPECT_EQ(a.qa_items(0).field(), "name");
  EXPECT_EQ(a.qa_items(0).answer(), "Liam");
  const v1::ScoredDocument& b = c.documents[1];
  EXPECT_EQ(b.id(), "b");
  EXPECT_EQ(b.tokens_size(), 0);
  EXPECT_EQ(b.offsets_size(), 0);
  EXPECT_EQ(b.contrast_size(), 0);

  EXPECT_EQ(Metric(registry_, "cluedrop_scorer_shards_total", "completed"), 1);
  EXPECT_EQ(Metric(registry_, "cluedrop_scorer_shards_total", "failed"), 0);
  EXPECT_EQ(Metric(registry_, "cluedrop_scorer_documents_scored_total"), 2);
  EXPECT_EQ(Metric(registry_, "cluedrop_scorer_tokens_scored_total"), 6);
  EXPECT_EQ(Metric(registry_, "cluedrop_scorer_shard_seconds"), 1);
  EXPECT_EQ(Metric(registry_, "cluedrop_scorer_model_load_seconds"), 1);
  EXPECT_EQ(Metric(registry_, "cluedrop_scorer_busy"), 0);
  EXPECT_NE(log_.str().find("shard shard-L1 (job job-1, attempt 1): 2 documents, 6 tokens"),
            std::string::npos)
      << log_.str();
}

TEST_F(ScorerWorkerTest, ScoringErrorFailsTheShardWithItsRetryableFlag) {
  scorer_.error = InvalidArgumentError("/models/large/config.json: bad");
  service_->Queue(MakeLease("L1"));
  StartWorker();
  ASSERT_TRUE(WaitFor([&] {
    absl::MutexLock lock(&service_->mu);
    return service_->fails.size() == 1;
  }));
  StopWorker();
  {
    absl::MutexLock lock(&service_->mu);
    const v1::FailShardRequest& f = service_->fails[0];
    EXPECT_EQ(f.worker_id(), "w1");
    EXPECT_EQ(f.lease_id(), "L1");
    EXPECT_FALSE(f.retryable());
    EXPECT_FALSE(f.released());
    EXPECT_NE(f.error().find("config.json: bad"), std::string::npos) << f.error();
    EXPECT_TRUE(service_->completions.empty());
  }
  EXPECT_EQ(Metric(registry_, "cluedrop_scorer_shards_total", "failed"), 1);
}

TEST_F(ScorerWorkerTest, OutOfMemoryIsRetryable) {
  scorer_.error = ResourceExhaustedError("CUDA out of memory");
  service_->Queue(MakeLease("L1"));
  StartWorker();
  ASSERT_TRUE(WaitFor([&] {
    absl::MutexLock lock(&service_->mu);
    return service_->fails.size() == 1;
  }));
  StopWorker();
  absl::MutexLock lock(&service_->mu);
  EXPECT_TRUE(service_->fails[0].retryable());
  EXPECT_FALSE(service_->fails[0].released());
}

TEST_F(ScorerWorkerTest, HeartbeatRevocationAbortsScoringAndSendsNothing) {
  scorer_.block_until_aborted = true;
  {
    absl::MutexLock lock(&service_->mu);
    service_->revoke.insert("L1");
  }
  service_->Queue(MakeLease("L1"));
  StartWorker();
  ASSERT_TRUE(WaitFor([&] {
    absl::MutexLock lock(&scorer_.mu);
    return scorer_.aborted;
  }));
  ASSERT_TRUE(
      WaitFor([&] { return Metric(registry_, "cluedrop_scorer_shards_total", "revoked") == 1; }));
  StopWorker();
  EXPECT_TRUE(run_status_.ok()) << run_status_;
  absl::MutexLock lock(&service_->mu);
  EXPECT_TRUE(service_->completions.empty());
  EXPECT_TRUE(service_->fails.empty());
  bool named = false;
  for (const v1::HeartbeatRequest& h : service_->heartbeats) {
    named |= h.lease_ids_size() == 1 && h.lease_ids(0) == "L1";
  }
  EXPECT_TRUE(named) << "no heartbeat named the lease";
}

TEST_F(ScorerWorkerTest, HeartbeatNotFoundRegistersAgain) {
  {
    absl::MutexLock lock(&service_->mu);
    service_->heartbeat_not_found = 1;
  }
  StartWorker();
  ASSERT_TRUE(WaitFor([&] {
    absl::MutexLock lock(&service_->mu);
    return service_->registrations.size() == 2 && service_->heartbeats.size() >= 3;
  }));
  EXPECT_EQ(worker_->worker_id(), "w2");
  StopWorker();
  absl::MutexLock lock(&service_->mu);
  EXPECT_EQ(service_->registrations[1].name(), "scorer-test");
  EXPECT_EQ(service_->heartbeats.back().worker_id(), "w2");
}

TEST_F(ScorerWorkerTest, ShutdownWhileScoringReleasesTheLeaseAndReturnsOk) {
  scorer_.block_until_aborted = true;
  service_->Queue(MakeLease("L1"));
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return scorer_.calls() == 1; }));
  EXPECT_EQ(Metric(registry_, "cluedrop_scorer_busy"), 1);
  StopWorker();
  EXPECT_TRUE(run_status_.ok()) << run_status_;
  {
    absl::MutexLock lock(&service_->mu);
    ASSERT_EQ(service_->fails.size(), 1u);
    EXPECT_TRUE(service_->fails[0].released());
    EXPECT_EQ(service_->fails[0].lease_id(), "L1");
    EXPECT_TRUE(service_->completions.empty());
  }
  EXPECT_EQ(Metric(registry_, "cluedrop_scorer_shards_total", "released"), 1);
  EXPECT_EQ(Metric(registry_, "cluedrop_scorer_busy"), 0);
}

// A result already scored is still sent during shutdown when the
// coordinator answers within the grace.
TEST_F(ScorerWorkerTest, ShutdownWhileSendingStillDeliversWithinTheGrace) {
  send_grace_ms_ = 5000;
  {
    absl::MutexLock lock(&service_->mu);
    service_->complete_delay = absl::Milliseconds(300);
  }
  service_->Queue(MakeLease("L1"));
  StartWorker();
  ASSERT_TRUE(WaitFor([&] {
    absl::MutexLock lock(&service_->mu);
    return service_->complete_calls == 1;
  }));
  StopWorker();
  EXPECT_TRUE(run_status_.ok()) << run_status_;
  absl::MutexLock lock(&service_->mu);
  EXPECT_EQ(service_->completions.size(), 1u);
  EXPECT_TRUE(service_->fails.empty());
}

// A CompleteShard stream that never gets its answer (seen after a
// coordinator restart) does not hold a shutting-down worker until its
// deadline: it is cancelled after the grace and the lease given back.
TEST_F(ScorerWorkerTest, ShutdownCancelsAStuckSendAfterTheGraceAndReleasesTheLease) {
  send_grace_ms_ = 300;
  {
    absl::MutexLock lock(&service_->mu);
    service_->complete_hangs = true;
  }
  service_->Queue(MakeLease("L1"));
  StartWorker();
  ASSERT_TRUE(WaitFor([&] {
    absl::MutexLock lock(&service_->mu);
    return service_->complete_calls == 1;
  }));
  const absl::Time start = absl::Now();
  StopWorker();
  const absl::Duration took = absl::Now() - start;
  EXPECT_TRUE(run_status_.ok()) << run_status_;
  EXPECT_GE(took, absl::Milliseconds(250)) << "cancelled before the grace";
  EXPECT_LT(took, absl::Milliseconds(4000)) << "waited for the 5 s stream deadline";
  {
    absl::MutexLock lock(&service_->mu);
    EXPECT_TRUE(service_->completions.empty());
    ASSERT_EQ(service_->fails.size(), 1u);
    EXPECT_TRUE(service_->fails[0].released());
    EXPECT_EQ(service_->fails[0].lease_id(), "L1");
  }
  EXPECT_EQ(Metric(registry_, "cluedrop_scorer_shards_total", "released"), 1);
}

TEST_F(ScorerWorkerTest, ShutdownWhileRegisteringReturnsOkPromptly) {
  {
    absl::MutexLock lock(&service_->mu);
    service_->unavailable = true;
  }
  StartWorker();
  absl::SleepFor(absl::Milliseconds(100));
  const absl::Time start = absl::Now();
  StopWorker();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_TRUE(run_status_.ok()) << run_status_;
  EXPECT_TRUE(worker_->worker_id().empty());
}

TEST_F(ScorerWorkerTest, KeepsGoingWhileTheCoordinatorAnswersUnavailable) {
  {
    absl::MutexLock lock(&service_->mu);
    service_->unavailable = true;
  }
  StartWorker();
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(Ready());
  {
    absl::MutexLock lock(&service_->mu);
    service_->unavailable = false;
  }
  ASSERT_TRUE(WaitFor([&] { return Ready(); }));
  service_->Queue(MakeLease("L1"));
  ASSERT_TRUE(WaitFor([&] {
    absl::MutexLock lock(&service_->mu);
    return service_->completions.size() == 1;
  }));
  StopWorker();
  const std::string log = log_.str();
  // One line per outage, not one per retry.
  size_t lines = 0;
  for (size_t at = log.find("unreachable"); at != std::string::npos;
       at = log.find("unreachable", at + 1)) {
    ++lines;
  }
  EXPECT_EQ(lines, 1u) << log;
  EXPECT_NE(log.find("reachable again"), std::string::npos) << log;
}

TEST_F(ScorerWorkerTest, SurvivesACoordinatorRestart) {
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return Ready(); }));
  const int port = port_;
  server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Milliseconds(50)));
  server_.reset();
  absl::SleepFor(absl::Milliseconds(300));
  // A new coordinator that does not know the worker: it must register again.
  auto old_service = std::move(service_);
  service_ = std::make_unique<FakeWorkService>();
  service_->Queue(MakeLease("L2"));
  StartServer(port);
  ASSERT_EQ(port_, port);
  ASSERT_TRUE(WaitFor([&] {
    absl::MutexLock lock(&service_->mu);
    return service_->completions.size() == 1;
  }));
  StopWorker();
  EXPECT_TRUE(run_status_.ok()) << run_status_;
  absl::MutexLock lock(&service_->mu);
  EXPECT_EQ(service_->registrations.size(), 1u);
  EXPECT_EQ(service_->completions[0].header.worker_id(), "w1");  // the new server's first id
  EXPECT_EQ(service_->completions[0].header.lease_id(), "L2");
}

}  // namespace
}  // namespace cluedrop::scorer

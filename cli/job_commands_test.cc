#include "cli/job_commands.h"

#include <gmock/gmock.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "cli/progress_line.h"

namespace cluedrop::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

google::protobuf::Timestamp At(int64_t seconds) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  return t;
}

// 2026-11-26 10:31:02 UTC.
constexpr int64_t kT0 = 1795689062;

v1::JobEvent StateEvent(uint64_t sequence, v1::JobState state, std::string reason = "") {
  v1::JobEvent event;
  event.set_job_id("job-1");
  event.set_sequence(sequence);
  *event.mutable_time() = At(kT0 + static_cast<int64_t>(sequence));
  event.set_state_changed(state);
  event.set_reason(std::move(reason));
  return event;
}

v1::JobEvent ProgressEvent(uint64_t sequence, uint32_t scored, uint64_t tokens, uint64_t step) {
  v1::JobEvent event;
  event.set_sequence(sequence);
  v1::JobProgress* p = event.mutable_progress();
  p->set_shards_total(4);
  p->set_shards_scored(scored);
  p->set_documents_total(400);
  p->set_tokens_scored(tokens);
  p->set_training_step(step);
  p->set_training_steps_total(step > 0 ? 100 : 0);
  p->set_epoch(step > 0 ? 1 : 0);
  p->set_loss(2.5f);
  p->set_tokens_per_second(step > 0 ? 12345 : 0);
  return event;
}

v1::JobEvent MessageEvent(uint64_t sequence, std::string text) {
  v1::JobEvent event;
  event.set_sequence(sequence);
  *event.mutable_time() = At(kT0 + static_cast<int64_t>(sequence));
  event.set_message(std::move(text));
  return event;
}

v1::EvaluationResult Evaluation(uint32_t epoch, uint64_t step, double em, double f1) {
  v1::EvaluationResult evaluation;
  evaluation.set_epoch(epoch);
  evaluation.set_step(step);
  v1::FieldScore* date = evaluation.add_fields();
  date->set_field("date");
  date->set_questions(100);
  date->set_exact_match(em + 0.1);
  date->set_f1(f1 + 0.1);
  v1::FieldScore* overall = evaluation.add_fields();
  overall->set_field("overall");
  overall->set_questions(500);
  overall->set_exact_match(em);
  overall->set_f1(f1);
  return evaluation;
}

v1::Job TrainingJob() {
  v1::Job job;
  job.set_id("job-1");
  job.mutable_spec()->set_name("bio");
  job.mutable_spec()->mutable_target_model()->set_checkpoint_dir("/m");
  job.set_state(v1::JOB_STATE_TRAINING);
  v1::JobProgress* p = job.mutable_progress();
  p->set_shards_total(4);
  p->set_shards_scored(4);
  p->set_documents_total(400);
  p->set_tokens_scored(123456);
  p->set_training_step(50);
  p->set_training_steps_total(200);
  p->set_epoch(5);
  p->set_loss(0.8125f);
  p->set_tokens_per_second(45600);
  *job.add_evaluations() = Evaluation(5, 50, 0.4, 0.45);
  *job.add_evaluations() = Evaluation(10, 100, 0.8, 0.85);
  *job.mutable_create_time() = At(kT0);
  *job.mutable_update_time() = At(kT0 + 3600);
  job.set_model_dir("/out/final");
  return job;
}

// One scripted WatchJob call: events, then the status the stream ends with.
struct WatchScript {
  std::vector<v1::JobEvent> events;
  grpc::Status end;
};

// A JobService with scripted answers that records what it was asked.
class FakeJobService final : public v1::JobService::Service {
 public:
  grpc::Status SubmitJob(grpc::ServerContext* context, const v1::SubmitJobRequest* request,
                         v1::Job* job) override {
    std::lock_guard<std::mutex> lock(mu_);
    Record(context);
    submits.push_back(*request);
    if (!submit_status.ok()) return submit_status;
    *job = submit_answer;
    return grpc::Status::OK;
  }
  grpc::Status GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                      v1::Job* job) override {
    std::lock_guard<std::mutex> lock(mu_);
    Record(context);
    auto it = jobs.find(request->job_id());
    if (it == jobs.end()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no job " + request->job_id());
    }
    *job = it->second;
    return grpc::Status::OK;
  }
  grpc::Status ListJobs(grpc::ServerContext* context, const v1::ListJobsRequest* request,
                        v1::ListJobsResponse* response) override {
    std::lock_guard<std::mutex> lock(mu_);
    Record(context);
    lists.push_back(*request);
    auto it = pages.find(request->page_token());
    if (it == pages.end()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad token");
    *response = it->second;
    return grpc::Status::OK;
  }
  grpc::Status CancelJob(grpc::ServerContext* context, const v1::CancelJobRequest* request,
                         v1::Job* job) override {
    std::lock_guard<std::mutex> lock(mu_);
    Record(context);
    cancels.push_back(*request);
    job->set_id(request->job_id());
    job->set_state(v1::JOB_STATE_CANCELLED);
    job->set_reason(request->reason());
    return grpc::Status::OK;
  }
  grpc::Status WatchJob(grpc::ServerContext* context, const v1::WatchJobRequest* request,
                        grpc::ServerWriter<v1::JobEvent>* writer) override {
    WatchScript script;
    {
      std::lock_guard<std::mutex> lock(mu_);
      Record(context);
      watch_after.push_back(request->after_sequence());
      if (watch_scripts.empty()) return grpc::Status(grpc::StatusCode::INTERNAL, "no script");
      script = watch_scripts.front();
      watch_scripts.erase(watch_scripts.begin());
    }
    for (const v1::JobEvent& event : script.events) writer->Write(event);
    return script.end;
  }

  // Scripted answers and recorded requests; set before the calls, read after.
  grpc::Status submit_status;
  v1::Job submit_answer;
  std::map<std::string, v1::Job> jobs;
  std::map<std::string, v1::ListJobsResponse> pages;
  std::vector<WatchScript> watch_scripts;
  std::vector<v1::SubmitJobRequest> submits;
  std::vector<v1::ListJobsRequest> lists;
  std::vector<v1::CancelJobRequest> cancels;
  std::vector<uint64_t> watch_after;
  std::vector<std::string> authorization;

 private:
  void Record(grpc::ServerContext* context) {
    auto it = context->client_metadata().find("authorization");
    authorization.push_back(it == context->client_metadata().end()
                                ? ""
                                : std::string(it->second.data(), it->second.size()));
  }
  std::mutex mu_;
};

class JobCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = absl::StrCat("127.0.0.1:", port);
    env_.out = &out_;
    env_.err = &err_;
    env_.time_zone = absl::UTCTimeZone();
    env_.now = [this] { return absl::FromUnixSeconds(kT0) + absl::Seconds(ticks_++); };
    env_.sleep = [this](absl::Duration d) { sleeps_.push_back(d); };
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("job_commands_test_", ::getpid());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    server_->Shutdown();
    std::filesystem::remove_all(dir_);
  }

  using Command = int (*)(const std::vector<std::string>&, const JobCommandEnv&);
  int Run(Command command, std::vector<std::string> args) {
    args.push_back("--coordinator=" + address_);
    return command(args, env_);
  }
  std::string WriteSpec(const std::string& text) {
    const std::filesystem::path path = dir_ / "job.yaml";
    std::ofstream(path) << text;
    return path.string();
  }

  FakeJobService service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  JobCommandEnv env_;
  std::ostringstream out_;
  std::ostringstream err_;
  int64_t ticks_ = 0;
  std::vector<absl::Duration> sleeps_;
  std::filesystem::path dir_;
};

constexpr char kSpec[] = R"(name: bio
corpus:
  paths: [bios.csv]
  format: csv
augmentation:
  mode: contrast
  alpha: 1.3
)";

TEST_F(JobCommandsTest, SubmitPrintsTheIdAndASummary) {
  service_.submit_answer.set_id("job-1");
  service_.submit_answer.mutable_spec()->set_name("bio");
  service_.submit_answer.set_state(v1::JOB_STATE_QUEUED);
  service_.submit_answer.mutable_progress()->set_shards_total(3);
  service_.submit_answer.mutable_progress()->set_documents_total(250);
  const std::string spec = WriteSpec(kSpec);

  EXPECT_EQ(Run(SubmitCommand, {spec}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "job-1\n");
  EXPECT_EQ(err_.str(),
            "cluedrop submit: submitted job-1 \"bio\": 3 shards, 250 documents, QUEUED\n");
  ASSERT_EQ(service_.submits.size(), 1u);
  const v1::SubmitJobRequest& request = service_.submits[0];
  EXPECT_THAT(request.spec().corpus().paths(), ElementsAre((dir_ / "bios.csv").string()));
  EXPECT_EQ(request.spec().augmentation().mode(), v1::AUGMENTATION_MODE_CONTRAST);
  EXPECT_THAT(request.request_id(), StartsWith("cli-"));

  EXPECT_EQ(Run(SubmitCommand, {"--request_id", "retry-7", spec}), 0);
  ASSERT_EQ(service_.submits.size(), 2u);
  EXPECT_EQ(service_.submits[1].request_id(), "retry-7");
}

TEST_F(JobCommandsTest, SubmitAnnotatesServerValidationErrorsWithSpecLines) {
  service_.submit_status =
      grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                   "augmentation.alpha: must be in [0, 1], got 1.3; output_dir: required");
  const std::string spec = WriteSpec(kSpec);
  EXPECT_EQ(Run(SubmitCommand, {spec}), 2);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(),
            absl::StrCat("cluedrop submit: INVALID_ARGUMENT: ", spec,
                         ":7: augmentation.alpha: must be in [0, 1], got 1.3\n",
                         "cluedrop submit: INVALID_ARGUMENT: ", spec, ": output_dir: required\n"));
}

TEST_F(JobCommandsTest, SubmitRejectsABadSpecBeforeCallingAndOtherErrorsExit1) {
  const std::string spec = WriteSpec("name: x\ntraining: {epochs: ten}\n");
  EXPECT_EQ(Run(SubmitCommand, {spec}), 2);
  EXPECT_EQ(err_.str(), absl::StrCat("cluedrop submit: INVALID_ARGUMENT: ", spec,
                                     ":2: training.epochs: expected an integer, got \"ten\"\n"));
  EXPECT_TRUE(service_.submits.empty());

  err_.str("");
  service_.submit_status = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "queue full");
  EXPECT_EQ(Run(SubmitCommand, {WriteSpec(kSpec)}), 1);
  EXPECT_EQ(err_.str(), "cluedrop submit: RESOURCE_EXHAUSTED: queue full\n");

  err_.str("");
  EXPECT_EQ(Run(SubmitCommand, {(dir_ / "missing.yaml").string()}), 1);
  EXPECT_THAT(err_.str(), StartsWith("cluedrop submit: NOT_FOUND: "));
}

TEST_F(JobCommandsTest, SubmitWatchFollowsTheNewJob) {
  service_.submit_answer.set_id("job-1");
  v1::Job done = TrainingJob();
  done.set_state(v1::JOB_STATE_SUCCEEDED);
  service_.jobs["job-1"] = done;
  service_.watch_scripts.push_back({{StateEvent(1, v1::JOB_STATE_SUCCEEDED)}, grpc::Status::OK});
  EXPECT_EQ(Run(SubmitCommand, {WriteSpec(kSpec), "--watch"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), StartsWith("job-1\n[10:31:03] state SUCCEEDED\n"));
  EXPECT_THAT(out_.str(), HasSubstr("state:      SUCCEEDED"));
}

TEST_F(JobCommandsTest, StatusShowsProgressEvaluationsAndModelDir) {
  v1::Job job = TrainingJob();
  job.set_state(v1::JOB_STATE_FAILED);
  job.set_reason("trainer rank 1 lost");
  service_.jobs["job-1"] = job;
  EXPECT_EQ(Run(StatusCommand, {"job-1"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "job:        job-1 \"bio\"\n"
            "state:      FAILED\n"
            "reason:     trainer rank 1 lost\n"
            "created:    2026-11-26 10:31:02   updated: 2026-11-26 11:31:02\n"
            "scoring:    4/4 shards (100.0%), 400 documents, 123.5k tokens\n"
            "training:   step 50/200 (25.0%), epoch 5, loss 0.8125, 45.6k tokens/s\n"
            "model_dir:  /out/final\n"
            "evaluation (epoch 10, step 100):\n"
            "  FIELD            QUESTIONS    EM%    F1%\n"
            "  date                   100   90.0   95.0\n"
            "  overall                500   80.0   85.0\n"
            "earlier evaluations (overall EM% / F1%):\n"
            "  epoch 5, step 50: 40.0 / 45.0\n");
}

TEST_F(JobCommandsTest, StatusJsonAndErrors) {
  service_.jobs["job-1"] = TrainingJob();
  EXPECT_EQ(Run(StatusCommand, {"job-1", "--json"}), 0);
  EXPECT_THAT(out_.str(), HasSubstr("\"state\": \"JOB_STATE_TRAINING\""));
  EXPECT_THAT(out_.str(), HasSubstr("\"model_dir\": \"/out/final\""));

  EXPECT_EQ(Run(StatusCommand, {"job-404"}), 1);
  EXPECT_EQ(err_.str(), "cluedrop status: NOT_FOUND: no job job-404\n");

  err_.str("");
  EXPECT_EQ(Run(StatusCommand, {}), 2);
  EXPECT_THAT(err_.str(), HasSubstr("expected JOB_ID"));
  out_.str("");
  EXPECT_EQ(Run(StatusCommand, {"--help"}), 0);
  EXPECT_THAT(out_.str(), HasSubstr("Usage: cluedrop status JOB_ID"));
  EXPECT_THAT(out_.str(), HasSubstr("env: $CLUEDROP_COORDINATOR"));
}

TEST_F(JobCommandsTest, ListPagesThroughEveryPage) {
  v1::Job a = TrainingJob();
  v1::Job b;
  b.set_id("job-2");
  b.mutable_spec()->set_name("a-very-long-job-name-that-does-not-fit-the-column");
  b.set_state(v1::JOB_STATE_SCORING);
  b.mutable_progress()->set_shards_total(4);
  b.mutable_progress()->set_shards_scored(1);
  *b.mutable_create_time() = At(kT0 + 60);
  v1::Job c;
  c.set_id("job-3");
  c.set_state(v1::JOB_STATE_QUEUED);
  *service_.pages[""].add_jobs() = a;
  *service_.pages[""].add_jobs() = b;
  service_.pages[""].set_next_page_token("p2");
  *service_.pages["p2"].add_jobs() = c;

  EXPECT_EQ(Run(ListCommand, {"--state", "training", "--state=scoring,QUEUED"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "ID     NAME                              STATE     PROGRESS             CREATED\n"
            "job-1  bio                               TRAINING  step 50/200 (25.0%)  "
            "2026-11-26 10:31:02\n"
            "job-2  a-very-long-job-name-that-doe...  SCORING   1/4 shards (25.0%)   "
            "2026-11-26 10:32:02\n"
            "job-3                                    QUEUED    -                    -\n");
  ASSERT_EQ(service_.lists.size(), 2u);
  EXPECT_EQ(service_.lists[0].page_token(), "");
  EXPECT_EQ(service_.lists[1].page_token(), "p2");
  EXPECT_THAT(service_.lists[0].states(),
              ElementsAre(v1::JOB_STATE_TRAINING, v1::JOB_STATE_SCORING, v1::JOB_STATE_QUEUED));
  EXPECT_EQ(err_.str(), "");
}

TEST_F(JobCommandsTest, ListStopsAtTheLimitAndChecksStates) {
  *service_.pages[""].add_jobs() = TrainingJob();
  service_.pages[""].set_next_page_token("p2");
  EXPECT_EQ(Run(ListCommand, {"--limit", "1", "--json"}), 0);
  ASSERT_EQ(service_.lists.size(), 1u);
  EXPECT_EQ(service_.lists[0].page_size(), 1u);
  EXPECT_THAT(out_.str(), HasSubstr("\"id\": \"job-1\""));
  EXPECT_EQ(err_.str(), "cluedrop list: showing the first 1 jobs; --limit 0 lists all\n");

  err_.str("");
  EXPECT_EQ(Run(ListCommand, {"--state", "running"}), 2);
  EXPECT_THAT(err_.str(), HasSubstr("--state: unknown state \"running\""));
  EXPECT_EQ(service_.lists.size(), 1u);
}

TEST_F(JobCommandsTest, WatchStreamsUntilSucceeded) {
  v1::Job done = TrainingJob();
  done.set_state(v1::JOB_STATE_SUCCEEDED);
  service_.jobs["job-1"] = done;
  v1::JobEvent evaluation;
  evaluation.set_sequence(8);
  *evaluation.mutable_time() = At(kT0 + 8);
  *evaluation.mutable_evaluation() = Evaluation(1, 100, 0.5, 0.6);
  service_.watch_scripts.push_back(
      {{StateEvent(1, v1::JOB_STATE_SCORING), ProgressEvent(2, 1, 1000, 0),
        ProgressEvent(3, 2, 3000, 0), MessageEvent(4, "lease of shard 3 expired; re-queued"),
        ProgressEvent(5, 4, 9000, 0), StateEvent(6, v1::JOB_STATE_TRAINING),
        ProgressEvent(7, 4, 9000, 40), evaluation, StateEvent(9, v1::JOB_STATE_SUCCEEDED)},
       grpc::Status::OK});
  EXPECT_EQ(Run(WatchCommand, {"job-1"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), StartsWith("[10:31:03] state SCORING\n"
                                     "[10:31:06] lease of shard 3 expired; re-queued\n"
                                     "[10:31:08] state TRAINING\n"
                                     "[10:31:10] evaluation (epoch 1, step 100): overall EM "
                                     "50.0%, F1 60.0%\n"
                                     "[10:31:11] state SUCCEEDED\n"
                                     "job:        job-1 \"bio\"\n"));
  // Plain progress lines (stderr is no terminal), at most one per 2 s of the
  // fake clock, which advances 1 s per reading: progress at t=1 (starts the
  // rate clock), t=2 (skipped), t=4 (3 shards and 8000 tokens in 3 s).
  EXPECT_THAT(err_.str(), StartsWith("scoring 1/4 shards (25.0%)\n"
                                     "scoring 4/4 shards (100.0%), 1.00 shards/s, 2.7k tokens/s\n"
                                     "training step 40/100 (40.0%), epoch 1, loss 2.5000, "
                                     "12.3k tokens/s, ETA ?\n"));
  EXPECT_THAT(err_.str(), Not(HasSubstr("\r")));
  EXPECT_THAT(service_.watch_after, ElementsAre(0u));
}

TEST_F(JobCommandsTest, WatchExitsOneWhenTheJobFails) {
  v1::Job failed = TrainingJob();
  failed.set_state(v1::JOB_STATE_FAILED);
  failed.set_reason("shard 2 failed 3 times");
  service_.jobs["job-1"] = failed;
  service_.watch_scripts.push_back(
      {{StateEvent(4, v1::JOB_STATE_FAILED, "shard 2 failed 3 times")}, grpc::Status::OK});
  EXPECT_EQ(Run(WatchCommand, {"job-1", "--after", "3"}), 1);
  EXPECT_THAT(out_.str(), StartsWith("[10:31:06] state FAILED: shard 2 failed 3 times\n"));
  EXPECT_THAT(out_.str(), HasSubstr("reason:     shard 2 failed 3 times\n"));
  EXPECT_THAT(service_.watch_after, ElementsAre(3u));
}

TEST_F(JobCommandsTest, WatchResumesAfterTheLastSequenceWhenTheStreamBreaks) {
  v1::Job cancelled = TrainingJob();
  cancelled.set_state(v1::JOB_STATE_CANCELLED);
  service_.jobs["job-1"] = cancelled;
  service_.watch_scripts.push_back(
      {{StateEvent(1, v1::JOB_STATE_SCORING), ProgressEvent(2, 1, 100, 0),
        MessageEvent(3, "scorer-1 joined")},
       grpc::Status(grpc::StatusCode::UNAVAILABLE, "coordinator restarting")});
  // The resumed stream repeats event 3; it is shown once.
  service_.watch_scripts.push_back(
      {{MessageEvent(3, "scorer-1 joined"), StateEvent(4, v1::JOB_STATE_CANCELLED, "by user")},
       grpc::Status::OK});
  EXPECT_EQ(Run(WatchCommand, {"job-1"}), 1) << err_.str();
  EXPECT_THAT(service_.watch_after, ElementsAre(0u, 3u));
  EXPECT_EQ(sleeps_.size(), 1u);
  EXPECT_THAT(err_.str(), HasSubstr("cluedrop watch: stream broken (coordinator restarting); "
                                    "reconnecting after event 3\n"));
  EXPECT_THAT(out_.str(), StartsWith("[10:31:03] state SCORING\n"
                                     "[10:31:05] scorer-1 joined\n"
                                     "[10:31:06] state CANCELLED: by user\n"));
}

// The coordinator ends streams older than --max_stream_seconds with
// RESOURCE_EXHAUSTED; the watch resumes after the last event.
TEST_F(JobCommandsTest, WatchResumesAStreamEndedByTheServersAgeLimit) {
  v1::Job done = TrainingJob();
  done.set_state(v1::JOB_STATE_SUCCEEDED);
  service_.jobs["job-1"] = done;
  service_.watch_scripts.push_back(
      {{StateEvent(1, v1::JOB_STATE_SCORING)},
       grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                    "stream open longer than --max_stream_seconds=3600; resume from the last "
                    "event or shard received")});
  service_.watch_scripts.push_back({{StateEvent(2, v1::JOB_STATE_SUCCEEDED)}, grpc::Status::OK});
  EXPECT_EQ(Run(WatchCommand, {"job-1"}), 0) << err_.str();
  EXPECT_THAT(service_.watch_after, ElementsAre(0u, 1u));
  EXPECT_THAT(err_.str(), HasSubstr("reconnecting after event 1\n"));
  EXPECT_THAT(out_.str(), StartsWith("[10:31:03] state SCORING\n[10:31:04] state SUCCEEDED\n"));
}

TEST_F(JobCommandsTest, WatchBacksOffWhileNothingNewArrivesAndStopsOnOtherErrors) {
  // Each broken stream first sends an event, so that gRPC's own retry (for
  // calls that received nothing) stays out of the way; only the first is new.
  const grpc::Status down(grpc::StatusCode::UNAVAILABLE, "down");
  service_.watch_scripts.push_back({{MessageEvent(1, "hello")}, down});
  service_.watch_scripts.push_back({{MessageEvent(1, "hello")}, down});
  service_.watch_scripts.push_back({{MessageEvent(1, "hello")}, down});
  service_.watch_scripts.push_back(
      {{MessageEvent(1, "hello")}, grpc::Status(grpc::StatusCode::NOT_FOUND, "no job job-9")});
  EXPECT_EQ(Run(WatchCommand, {"job-9"}), 1);
  EXPECT_THAT(service_.watch_after, ElementsAre(0u, 1u, 1u, 1u));
  EXPECT_THAT(sleeps_, ElementsAre(absl::Milliseconds(500), absl::Seconds(1), absl::Seconds(2)));
  EXPECT_EQ(out_.str(), "[10:31:03] hello\n");
  EXPECT_THAT(err_.str(), HasSubstr("cluedrop watch: NOT_FOUND: no job job-9\n"));
}

TEST_F(JobCommandsTest, WatchRedrawsTheProgressLineInPlaceOnATerminal) {
  env_.err_is_tty = true;
  v1::Job done = TrainingJob();
  done.set_state(v1::JOB_STATE_SUCCEEDED);
  service_.jobs["job-1"] = done;
  service_.watch_scripts.push_back({{ProgressEvent(1, 1, 100, 0), ProgressEvent(2, 2, 200, 0),
                                     StateEvent(3, v1::JOB_STATE_SUCCEEDED)},
                                    grpc::Status::OK});
  EXPECT_EQ(Run(WatchCommand, {"job-1"}), 0);
  EXPECT_THAT(err_.str(), StartsWith("\rscoring 1/4 shards (25.0%)\033[K"
                                     "\rscoring 2/4 shards (50.0%), 1.00 shards/s, 100 tokens/s, "
                                     "ETA 2s\033[K"
                                     "\r\033[K"));
}

TEST_F(JobCommandsTest, CancelSendsTheReason) {
  EXPECT_EQ(Run(CancelCommand, {"job-1", "--reason", "wrong corpus"}), 0);
  EXPECT_EQ(out_.str(), "cancelled job-1 (CANCELLED)\n");
  ASSERT_EQ(service_.cancels.size(), 1u);
  EXPECT_EQ(service_.cancels[0].reason(), "wrong corpus");
}

TEST_F(JobCommandsTest, BearerTokenIsForwardedFromFlagOrEnvironment) {
  service_.jobs["job-1"] = TrainingJob();
  EXPECT_EQ(Run(StatusCommand, {"job-1", "--token", "s3cret"}), 0);
  ::setenv("CLUEDROP_TOKEN", "from-env", 1);
  EXPECT_EQ(Run(CancelCommand, {"job-1"}), 0);
  ::unsetenv("CLUEDROP_TOKEN");
  EXPECT_EQ(Run(StatusCommand, {"job-1"}), 0);
  EXPECT_THAT(service_.authorization, ElementsAre("Bearer s3cret", "Bearer from-env", ""));
}

TEST_F(JobCommandsTest, UnreachableCoordinatorIsAFailureNamingIt) {
  server_->Shutdown();
  EXPECT_EQ(Run(StatusCommand, {"job-1", "--timeout_s", "0.2"}), 1);
  EXPECT_THAT(err_.str(), HasSubstr(address_));
  EXPECT_THAT(err_.str(), StartsWith("cluedrop status: "));
}

TEST(ProgressLineTest, TrainingShowsStepsLossThroughputAndEta) {
  std::ostringstream err;
  int64_t seconds = 0;
  ProgressLine line(&err, /*tty=*/false,
                    [&] { return absl::FromUnixSeconds(kT0) + absl::Seconds(seconds); });
  v1::JobProgress p = ProgressEvent(1, 4, 900, 10).progress();
  line.Update(p);
  seconds = 10;
  p.set_training_step(30);
  line.Update(p);
  EXPECT_EQ(line.Text(),
            "training step 30/100 (30.0%), epoch 1, loss 2.5000, 12.3k tokens/s, ETA 35s");
  EXPECT_EQ(err.str(),
            "training step 10/100 (10.0%), epoch 1, loss 2.5000, 12.3k tokens/s, ETA ?\n"
            "training step 30/100 (30.0%), epoch 1, loss 2.5000, 12.3k tokens/s, ETA 35s\n");
}

}  // namespace
}  // namespace cluedrop::cli

// The gRPC edge: bearer tokens on JobService, malformed CompleteShard
// streams, and status codes that name the field.
#include "coordinator/server/services.h"

#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include <fstream>

#include "tests/mini_cluster/mini_cluster.h"

namespace cluedrop::coordinator {
namespace {

class ServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(coordinator_.Start().ok());
    dir_ = coordinator_.dir();
    std::ofstream(dir_ + "/c.jsonl") << "{\"id\": \"a\", \"text\": \"hello world\"}\n";
    job_stub_ = v1::JobService::NewStub(coordinator_.channel());
    work_stub_ = v1::WorkService::NewStub(coordinator_.channel());
  }

  v1::SubmitJobRequest Request() {
    v1::SubmitJobRequest request;
    request.mutable_spec()->mutable_corpus()->add_paths(dir_ + "/c.jsonl");
    request.mutable_spec()->mutable_reference_models()->mutable_large()->set_checkpoint_dir("/l");
    request.mutable_spec()->mutable_reference_models()->mutable_small()->set_checkpoint_dir("/s");
    return request;
  }

  test::MiniCluster coordinator_{[] {
    test::MiniClusterOptions options;
    options.job_token = "s3cret";
    return options;
  }()};
  std::string dir_;
  std::unique_ptr<v1::JobService::Stub> job_stub_;
  std::unique_ptr<v1::WorkService::Stub> work_stub_;
};

TEST_F(ServicesTest, JobServiceRequiresTheBearerToken) {
  v1::Job job;
  {
    grpc::ClientContext context;
    grpc::Status s = job_stub_->SubmitJob(&context, Request(), &job);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  }
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer wrong!");
    grpc::Status s = job_stub_->SubmitJob(&context, Request(), &job);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Basic s3cret");
    grpc::Status s = job_stub_->SubmitJob(&context, Request(), &job);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  // Nothing was created by the refused calls.
  EXPECT_EQ(coordinator_.manager().ListJobs(v1::ListJobsRequest())->jobs_size(), 0);
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer s3cret");
  grpc::Status s = job_stub_->SubmitJob(&context, Request(), &job);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(job.state(), v1::JOB_STATE_QUEUED);
}

TEST_F(ServicesTest, InvalidSpecIsInvalidArgumentNamingTheField) {
  v1::SubmitJobRequest request = Request();
  request.mutable_spec()->mutable_augmentation()->set_alpha(1.3f);
  request.mutable_spec()->mutable_corpus()->set_shard_size_docs(0);
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer s3cret");
  v1::Job job;
  grpc::Status s = job_stub_->SubmitJob(&context, request, &job);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "augmentation.alpha: must be in [0, 1], got 1.3");
}

TEST_F(ServicesTest, MalformedCompleteShardStreamsAreRejected) {
  v1::CompleteShardResponse response;
  {
    grpc::ClientContext context;
    auto writer = work_stub_->CompleteShard(&context, &response);
    v1::CompleteShardRequest document;
    document.mutable_document()->set_id("a");
    ASSERT_TRUE(writer->Write(document));
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find("header"), std::string::npos) << s.error_message();
  }
  {
    grpc::ClientContext context;
    auto writer = work_stub_->CompleteShard(&context, &response);
    v1::CompleteShardRequest header;
    header.mutable_header()->set_document_count(0);
    header.mutable_header()->set_lease_id("lease-x");
    ASSERT_TRUE(writer->Write(header));
    v1::CompleteShardRequest document;
    document.mutable_document()->set_id("a");
    writer->Write(document);
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find("header.document_count"), std::string::npos);
  }
  {
    grpc::ClientContext context;
    auto writer = work_stub_->CompleteShard(&context, &response);
    v1::CompleteShardRequest header;
    header.mutable_header()->set_lease_id("lease-unknown");
    header.mutable_header()->set_shard_id("shard-00000-0");
    ASSERT_TRUE(writer->Write(header));
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  }
}

TEST_F(ServicesTest, UnknownWorkerMustRegister) {
  v1::HeartbeatRequest request;
  request.set_worker_id("worker-ghost");
  v1::HeartbeatResponse response;
  grpc::ClientContext context;
  grpc::Status s = work_stub_->Heartbeat(&context, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(s.error_message().find("register again"), std::string::npos);
}

}  // namespace
}  // namespace cluedrop::coordinator

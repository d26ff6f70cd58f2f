#include "coordinator/in_process_coordinator.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/server_builder.h>
#include <stdlib.h>

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace cluedrop::coordinator {

absl::Status InProcessCoordinator::Start(JobManagerOptions options, std::string job_token) {
  std::string pattern = (std::filesystem::temp_directory_path() / "coordinator.XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", pattern, " failed"));
  }
  dir_ = pattern;
  options.data_dir = dir_ + "/data";
  absl::StatusOr<std::unique_ptr<JobManager>> manager = JobManager::Open(options, nullptr);
  if (!manager.ok()) return manager.status();
  manager_ = std::move(*manager);
  jobs_ = std::make_unique<JobServiceImpl>(manager_.get(), std::move(job_token));
  work_ = std::make_unique<WorkServiceImpl>(manager_.get());
  train_ = std::make_unique<TrainServiceImpl>(manager_.get());
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(jobs_.get());
  builder.RegisterService(work_.get());
  builder.RegisterService(train_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) return absl::UnavailableError("cannot bind 127.0.0.1:0");
  channel_ = grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
  return absl::OkStatus();
}

void InProcessCoordinator::Stop() {
  if (manager_ != nullptr) manager_->Shutdown();
  if (server_ != nullptr) server_->Shutdown();
  server_.reset();
  manager_.reset();
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    dir_.clear();
  }
}

}  // namespace cluedrop::coordinator

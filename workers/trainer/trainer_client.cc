#include "workers/trainer/trainer_client.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "runtime/channel.h"
#include "runtime/grpc_status.h"

namespace cluedrop::trainer {

TrainerClient::TrainerClient(TrainerClientOptions options,
                             std::shared_ptr<v1::TrainService::StubInterface> stub)
    : options_(std::move(options)), stub_(std::move(stub)) {}

std::unique_ptr<grpc::ClientContext> TrainerClient::Context() const {
  return MakeClientContext(options_.rpc_timeout, options_.bearer_token);
}

absl::StatusOr<Membership> TrainerClient::Join(const std::function<bool()>& stop,
                                               absl::Duration max_wait) {
  v1::JoinTrainingRequest request;
  request.set_job_id(options_.job_id);
  request.set_name(options_.name);
  request.set_store_address(options_.store_address);
  request.set_wait_ms(options_.join_wait_ms);
  const absl::Time deadline = absl::Now() + max_wait;
  absl::Status last;
  while (true) {
    if (stop && stop()) return absl::CancelledError("stopped while joining");
    std::unique_ptr<grpc::ClientContext> context = MakeClientContext(
        options_.rpc_timeout + absl::Milliseconds(options_.join_wait_ms), options_.bearer_token);
    v1::JoinTrainingResponse response;
    // The channel retries UNAVAILABLE ("no job needs a trainer now") on its
    // own, so one call can outlast join_wait_ms several times: a stop request
    // cancels it rather than waiting for the call to end.
    std::atomic<bool> call_done{false};
    std::thread watcher;
    if (stop) {
      watcher = std::thread([&] {
        while (!call_done.load()) {
          if (stop()) {
            context->TryCancel();
            return;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      });
    }
    const grpc::Status status = stub_->JoinTraining(context.get(), request, &response);
    call_done.store(true);
    if (watcher.joinable()) watcher.join();
    if (stop && stop()) return absl::CancelledError("stopped while joining");
    if (status.ok()) {
      Membership m;
      m.job_id = response.job_id();
      m.rank = response.rank();
      m.world_size = response.world_size();
      m.rendezvous_address = response.rendezvous_address();
      m.spec = response.spec();
      m.generation = response.generation();
      return m;
    }
    last = FromGrpcStatus(status);
    if (!absl::IsUnavailable(last) && !absl::IsDeadlineExceeded(last)) {
      return Annotate(last, "JoinTraining");
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "JoinTraining: no rank within ", absl::FormatDuration(max_wait), ": ", last.message()));
    }
    // The server already waited join_wait_ms; a short pause covers the
    // case where it answered at once (e.g. it was restarting).
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

absl::StatusOr<v1::ReportProgressResponse> TrainerClient::ReportProgress(
    const Membership& membership, const v1::JobProgress& progress,
    const std::string& final_model_dir) {
  v1::ReportProgressRequest request;
  request.set_job_id(membership.job_id);
  request.set_rank(membership.rank);
  *request.mutable_progress() = progress;
  request.set_final_model_dir(final_model_dir);
  v1::ReportProgressResponse response;
  const grpc::Status status = stub_->ReportProgress(Context().get(), request, &response);
  if (!status.ok()) return Annotate(FromGrpcStatus(status), "ReportProgress");
  return response;
}

absl::Status TrainerClient::ReportFailure(const Membership& membership, const std::string& reason) {
  v1::ReportProgressRequest request;
  request.set_job_id(membership.job_id);
  request.set_rank(membership.rank);
  request.set_failure(reason.substr(0, 4096));
  v1::ReportProgressResponse response;
  const grpc::Status status = stub_->ReportProgress(Context().get(), request, &response);
  if (!status.ok()) return Annotate(FromGrpcStatus(status), "ReportProgress(failure)");
  return absl::OkStatus();
}

absl::Status TrainerClient::ReportEvaluation(const Membership& membership,
                                             const v1::EvaluationResult& result, bool final) {
  v1::ReportEvaluationRequest request;
  request.set_job_id(membership.job_id);
  request.set_rank(membership.rank);
  *request.mutable_result() = result;
  request.set_final(final);
  v1::ReportEvaluationResponse response;
  const grpc::Status status = stub_->ReportEvaluation(Context().get(), request, &response);
  if (!status.ok()) return Annotate(FromGrpcStatus(status), "ReportEvaluation");
  return absl::OkStatus();
}

}  // namespace cluedrop::trainer

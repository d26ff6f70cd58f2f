// A trainer rank's conversation with the coordinator's TrainService, except
// the shard stream (shard_feed.h): joining the job's rendezvous and reporting
// progress and evaluations.
//
// Join retries while the coordinator says UNAVAILABLE (no job needs a
// trainer yet, every rank is taken, rank 0 has not joined, or the
// coordinator is restarting) until `max_wait` passes or `stop` says so.
// A trainer that rejoins under its name gets its old rank back.
//
// Example:
//   TrainerClient client(options, TrainService::NewStub(channel));
//   CLUEDROP_ASSIGN_OR_RETURN(Membership m, client.Join(stop, absl::Minutes(10)));
//   ... build the process group on m.rendezvous_address, rank m.rank ...
//   CLUEDROP_ASSIGN_OR_RETURN(auto answer, client.ReportProgress(m, progress, ""));
//   if (answer.cancelled()) ... stop ...
//
// Thread-safe (gRPC stubs are).
#ifndef CLUEDROP_WORKERS_TRAINER_TRAINER_CLIENT_H_
#define CLUEDROP_WORKERS_TRAINER_TRAINER_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cluedrop/v1/train_service.grpc.pb.h"

namespace cluedrop::trainer {

struct TrainerClientOptions {
  // Stable trainer name (the pod name): a rejoin under it keeps the rank.
  std::string name;
  // host:port this trainer would host the c10d TCPStore on as rank 0.
  std::string store_address;
  // Empty: any job that needs trainers.
  std::string job_id;
  std::string bearer_token;
  // Server-side wait of one JoinTraining call.
  uint32_t join_wait_ms = 5000;
  // Deadline of the unary calls.
  absl::Duration rpc_timeout = absl::Seconds(30);
};

// What JoinTraining assigned.
struct Membership {
  std::string job_id;
  uint32_t rank = 0;
  uint32_t world_size = 1;
  std::string rendezvous_address;
  v1::JobSpec spec;
  uint32_t generation = 0;
};

class TrainerClient {
 public:
  TrainerClient(TrainerClientOptions options,
                std::shared_ptr<v1::TrainService::StubInterface> stub);

  // DEADLINE_EXCEEDED after `max_wait` of UNAVAILABLE answers; CANCELLED
  // when `stop` returns true; other errors (NOT_FOUND job, FAILED_PRECONDITION
  // for a finished or score-only job, INVALID_ARGUMENT) at once.
  absl::StatusOr<Membership> Join(const std::function<bool()>& stop, absl::Duration max_wait);

  // The answer says whether the job was cancelled or failed (the trainer
  // must stop) and the job's state. `final_model_dir` (rank 0, once) moves
  // the job on to evaluation.
  absl::StatusOr<v1::ReportProgressResponse> ReportProgress(const Membership& membership,
                                                            const v1::JobProgress& progress,
                                                            const std::string& final_model_dir);
  // Fails the job with `reason` (a permanent error of this rank, such as an
  // invalid scored document).
  absl::Status ReportFailure(const Membership& membership, const std::string& reason);
  absl::Status ReportEvaluation(const Membership& membership, const v1::EvaluationResult& result,
                                bool final);

  const TrainerClientOptions& options() const { return options_; }

 private:
  std::unique_ptr<grpc::ClientContext> Context() const;

  TrainerClientOptions options_;
  std::shared_ptr<v1::TrainService::StubInterface> stub_;
};

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_TRAINER_CLIENT_H_

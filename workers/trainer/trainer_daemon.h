// cluedrop-trainer: the worker daemon shell (worker_daemon.h) running the
// training loop against the coordinator:
//
//   loop until shutdown:
//     JoinTraining (trainer_client.h): rank, world size, rank 0's c10d store
//     stream this rank's scored shards into --cache_dir (shard_feed.h)
//     RunTraining (train_runner.h) over them; ReportProgress every
//       --report_every_steps steps and after checkpoints (a cancelled or
//       failed job stops the run at the next step on every rank)
//     rank 0: ReportProgress(final_model_dir), then ReportEvaluation(final)
//     wait until the job is terminal before joining another one
//
// A failed run (a rank died: the others' collectives fail) is retried: the
// trainer joins again under its name, gets its rank back, and the runner
// resumes from the last checkpoint in <output_dir>/checkpoints.
//
// Example (services/trainer/main.cc):
//   TrainerDaemonOptions options;
//   FlagSet flags("cluedrop-trainer", TrainerRole().summary);
//   RegisterTrainerFlags(&flags, &options);
//   ... RunTrainerDaemon(options, shutdown) ...
#ifndef CLUEDROP_WORKERS_TRAINER_TRAINER_DAEMON_H_
#define CLUEDROP_WORKERS_TRAINER_TRAINER_DAEMON_H_

#include <string>

#include "absl/status/status.h"
#include "runtime/flags.h"
#include "runtime/shutdown.h"
#include "workers/common/worker_daemon.h"

namespace cluedrop::trainer {

struct TrainerDaemonOptions {
  WorkerOptions worker;
  // --name (the pod name: a restarted trainer keeps its rank under it),
  // --token, coordinator TLS.
  CoordinatorClientOptions client;
  // host:port this trainer hosts the c10d TCPStore on when it is rank 0;
  // the other ranks connect there.
  std::string store_address = "127.0.0.1:29500";
  // The address the store listens on ("": the host of store_address when it
  // is an IP address, else every interface). Kubernetes passes the pod IP.
  std::string store_bind_host;
  // Local cache of the streamed scored shards.
  std::string cache_dir = "cluedrop-trainer-cache";
  // Only this job ("" = any job that needs trainers).
  std::string job_id;
  uint32_t report_every_steps = 10;
  // How long c10d waits for the other ranks, ms.
  int64_t rendezvous_timeout_ms = 300000;
};

WorkerRole TrainerRole();
void RegisterTrainerFlags(FlagSet* flags, TrainerDaemonOptions* options);
absl::Status RunTrainerDaemon(const TrainerDaemonOptions& options, ShutdownController* shutdown);

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_TRAINER_DAEMON_H_

// The scorer daemon's work loop against the coordinator's WorkService
// (proto/cluedrop/v1/work_service.proto; docs/scoring.md "Scorer daemon"):
//
//   RegisterWorker (retried with backoff until it succeeds)
//   loop until shutdown:
//     LeaseShard long poll (lease_wait_ms)
//     score the shard through the ShardScorer
//     CompleteShard stream: header (worker, lease, shard and job ids,
//       document_count, tokens_scored = reference tokens), then one
//       ScoredDocument per message, qa_items copied from the lease
//     or FailShard{error, retryable} when scoring failed
//
// A heartbeat thread sends Heartbeat every heartbeat_interval_ms (from the
// registration) naming the lease being worked on and the documents scored
// since the last heartbeat. A lease the answer revokes is aborted at the next
// chunk boundary and nothing is sent for it. NOT_FOUND (the coordinator forgot
// this worker) re-registers; the lease stays listed and the coordinator
// decides whether to revoke it. UNAVAILABLE anywhere backs off with jitter
// and retries, logging once per outage.
//
// Shutdown (the controller, e.g. SIGTERM): no new leases; the long poll is
// cancelled; a shard being scored is aborted and its lease given back with
// FailShard{released=true}; a shard already scored is still sent. Run then
// returns OK.
//
// Example:
//   ScorerWorker worker(options, WorkService::NewStub(channel), &engine, &registry);
//   absl::Status status = worker.Run(shutdown);
//
// Thread-safety: Run is called once, from one thread; it starts and joins
// the heartbeat thread itself. The stub, scorer and registry must outlive it.
#ifndef CLUEDROP_WORKERS_SCORER_SCORER_WORKER_H_
#define CLUEDROP_WORKERS_SCORER_SCORER_WORKER_H_

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cluedrop/v1/work_service.grpc.pb.h"
#include "runtime/shutdown.h"
#include "workers/scorer/scorer_worker_metrics.h"
#include "workers/scorer/shard_scorer.h"

namespace cluedrop::scorer {

struct ScorerWorkerOptions {
  // RegisterWorker name (a re-registration under the same name releases the
  // previous incarnation's leases).
  std::string name;
  // WorkerCapabilities.
  std::vector<std::string> devices;
  uint64_t device_memory_bytes = 0;
  std::string version;
  // Sent as "authorization: Bearer <token>" when not empty.
  std::string bearer_token;
  // LeaseShard long-poll wait; the call's deadline adds rpc_timeout_ms.
  uint32_t lease_wait_ms = 10000;
  // Deadline of the unary calls (RegisterWorker, Heartbeat, FailShard).
  int64_t rpc_timeout_ms = 30000;
  // Deadline of one CompleteShard stream.
  int64_t complete_timeout_ms = 600000;
  // After shutdown is requested, how long a CompleteShard stream already
  // under way may still take before it is cancelled and the lease released.
  int64_t shutdown_send_grace_ms = 10000;
  // Heartbeat period when the registration answer carries 0.
  uint32_t default_heartbeat_interval_ms = 5000;
  // Backoff after a failed call: doubles from initial to max, each wait
  // drawn uniformly from [wait / 2, wait].
  int64_t backoff_initial_ms = 500;
  int64_t backoff_max_ms = 15000;
  // Tries of CompleteShard and FailShard on transient errors.
  int send_attempts = 5;
  // Told (ready, detail) whenever the state changes: ready once registered;
  // the detail says what the worker is doing. Called from the Run and
  // heartbeat threads. May be empty.
  std::function<void(bool ready, const std::string& detail)> on_state;
  // Progress and error lines (one per shard); null = none.
  std::ostream* log = nullptr;
};

class ScorerWorker {
 public:
  ScorerWorker(ScorerWorkerOptions options,
               std::shared_ptr<cluedrop::v1::WorkService::StubInterface> stub, ShardScorer* scorer,
               prometheus::Registry* registry);
  ~ScorerWorker();
  ScorerWorker(const ScorerWorker&) = delete;
  ScorerWorker& operator=(const ScorerWorker&) = delete;

  // Works until `shutdown` is requested, then returns OK. Errors only for a
  // rejected registration (UNAUTHENTICATED, PERMISSION_DENIED,
  // INVALID_ARGUMENT from RegisterWorker).
  absl::Status Run(const ShutdownController& shutdown);

  // The id of the current registration ("" before the first).
  std::string worker_id() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cluedrop::scorer

#endif  // CLUEDROP_WORKERS_SCORER_SCORER_WORKER_H_

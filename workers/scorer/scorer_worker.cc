#include "workers/scorer/scorer_worker.h"

#include <grpcpp/client_context.h>

#include <algorithm>
#include <chrono>
#include <ostream>
#include <random>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "base/backoff.h"
#include "runtime/channel.h"
#include "runtime/grpc_status.h"
#include "workers/scorer/lease_codec.h"

namespace cluedrop::scorer {
namespace {

using cluedrop::v1::ShardLease;

// Errors worth retrying the same call for.
bool IsTransient(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) || absl::IsResourceExhausted(s) ||
         absl::IsAborted(s) || absl::IsInternal(s) || absl::IsUnknown(s);
}

// A registration the coordinator refuses for good (wrong token, bad name).
bool IsFatalRegistration(const absl::Status& s) {
  return absl::IsUnauthenticated(s) || absl::IsPermissionDenied(s) || absl::IsInvalidArgument(s);
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

class ScorerWorker::Impl {
 public:
  Impl(ScorerWorkerOptions options, std::shared_ptr<cluedrop::v1::WorkService::StubInterface> stub,
       ShardScorer* scorer, prometheus::Registry* registry)
      : options_(std::move(options)), stub_(std::move(stub)), scorer_(scorer), metrics_(registry) {}

  absl::Status Run(const ShutdownController& shutdown);

  std::string worker_id() const {
    absl::MutexLock lock(&mu_);
    return worker_id_;
  }

 private:
  // Logs one line; says once per outage that `what` cannot reach the
  // coordinator and once when it can again.
  class OutageLog {
   public:
    OutageLog(Impl* impl, std::string what) : impl_(impl), what_(std::move(what)) {}
    void Failed(const absl::Status& s) {
      if (down_) return;
      down_ = true;
      since_ = absl::Now();
      impl_->Log(absl::StrCat(what_, ": coordinator unreachable (", s.ToString(),
                              "); retrying with backoff"));
    }
    void Succeeded() {
      if (!down_) return;
      down_ = false;
      impl_->Log(absl::StrCat(
          what_, ": coordinator reachable again after ",
          absl::FormatDuration(absl::Trunc(absl::Now() - since_, absl::Milliseconds(100)))));
    }

   private:
    Impl* impl_;
    std::string what_;
    bool down_ = false;
    absl::Time since_;
  };

  void Log(const std::string& line) {
    if (options_.log == nullptr) return;
    absl::MutexLock lock(&log_mu_);
    *options_.log << "cluedrop-scorer: " << line << std::endl;
  }
  void State(bool ready, const std::string& detail) {
    if (options_.on_state) options_.on_state(ready, detail);
  }
  std::unique_ptr<grpc::ClientContext> Context(int64_t timeout_ms) const {
    return MakeClientContext(absl::Milliseconds(timeout_ms), options_.bearer_token);
  }
  // Marks `context` as the Run thread's call that shutdown cancels (null:
  // none).
  void SetCancellable(grpc::ClientContext* context) {
    absl::MutexLock lock(&mu_);
    cancellable_ = context;
  }
  // Marks `context` as the Run thread's CompleteShard stream, which shutdown
  // cancels after options_.shutdown_send_grace_ms (null: none).
  void SetSending(grpc::ClientContext* context) {
    absl::MutexLock lock(&mu_);
    sending_ = context;
  }
  bool Revoked() const {
    absl::MutexLock lock(&mu_);
    return revoked_;
  }

  absl::Status RegisterOnce(bool cancellable);
  absl::Status RegisterUntilDone(const ShutdownController& shutdown);
  // Registers again unless another thread already replaced `stale_id`.
  absl::Status Reregister(const std::string& stale_id, bool cancellable);
  void WatchShutdown(const ShutdownController& shutdown);
  void HeartbeatLoop();
  void SendHeartbeat(OutageLog& outage);
  void HandleLease(const ShardLease& lease, const ShutdownController& shutdown);
  void SendResult(const ShardLease& lease, const ShardScoringResult& result,
                  const ShutdownController& shutdown, std::chrono::steady_clock::time_point start);
  absl::Status CompleteOnce(const ShardLease& lease, const ShardScoringResult& result,
                            cluedrop::v1::CompleteShardResponse* response);
  void Fail(const ShardLease& lease, const std::string& error, bool retryable, bool released,
            const ShutdownController& shutdown);
  std::string Describe(const ShardLease& lease) const {
    return absl::StrCat("shard ", lease.shard_id(), " (job ", lease.job_id(), ", attempt ",
                        lease.attempt(), ")");
  }

  const ScorerWorkerOptions options_;
  const std::shared_ptr<cluedrop::v1::WorkService::StubInterface> stub_;
  ShardScorer* const scorer_;
  ScorerWorkerMetrics metrics_;

  mutable absl::Mutex mu_;
  std::string worker_id_ ABSL_GUARDED_BY(mu_);
  uint32_t heartbeat_interval_ms_ ABSL_GUARDED_BY(mu_) = 0;
  std::string lease_id_ ABSL_GUARDED_BY(mu_);  // the lease being worked on
  bool revoked_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t documents_since_heartbeat_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::ClientContext* cancellable_ ABSL_GUARDED_BY(mu_) = nullptr;
  grpc::ClientContext* sending_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex register_mu_;  // one registration at a time
  absl::Mutex log_mu_;
};

absl::Status ScorerWorker::Impl::RegisterOnce(bool cancellable) {
  cluedrop::v1::RegisterWorkerRequest request;
  request.set_name(options_.name);
  cluedrop::v1::WorkerCapabilities* caps = request.mutable_capabilities();
  for (const std::string& device : options_.devices) caps->add_devices(device);
  caps->set_device_memory_bytes(options_.device_memory_bytes);
  caps->set_version(options_.version);
  cluedrop::v1::RegisterWorkerResponse response;
  std::unique_ptr<grpc::ClientContext> context = Context(options_.rpc_timeout_ms);
  if (cancellable) SetCancellable(context.get());
  absl::Status status = FromGrpcStatus(stub_->RegisterWorker(context.get(), request, &response));
  if (cancellable) SetCancellable(nullptr);
  if (!status.ok()) return status;
  const uint32_t interval = response.heartbeat_interval_ms() > 0
                                ? response.heartbeat_interval_ms()
                                : options_.default_heartbeat_interval_ms;
  {
    absl::MutexLock lock(&mu_);
    worker_id_ = response.worker_id();
    heartbeat_interval_ms_ = interval;
  }
  Log(absl::StrCat("registered as ", response.worker_id(), " (name ", options_.name,
                   "), heartbeat every ", interval, " ms, lease TTL ", response.lease_ttl_ms(),
                   " ms"));
  State(true, absl::StrCat("registered as ", response.worker_id(), "; waiting for shards"));
  return absl::OkStatus();
}

absl::Status ScorerWorker::Impl::RegisterUntilDone(const ShutdownController& shutdown) {
  OutageLog outage(this, "RegisterWorker");
  Backoff backoff(options_.backoff_initial_ms, options_.backoff_max_ms);
  while (!shutdown.requested()) {
    absl::Status status = RegisterOnce(/*cancellable=*/true);
    if (status.ok()) {
      outage.Succeeded();
      return status;
    }
    if (shutdown.requested()) break;
    if (IsFatalRegistration(status)) return Annotate(status, "RegisterWorker");
    outage.Failed(status);
    State(false, absl::StrCat("registering: ", status.ToString()));
    shutdown.WaitFor(absl::Milliseconds(backoff.NextMs()));
  }
  return absl::CancelledError("shutdown before registration");
}

absl::Status ScorerWorker::Impl::Reregister(const std::string& stale_id, bool cancellable) {
  absl::MutexLock lock(&register_mu_);
  if (worker_id() != stale_id) return absl::OkStatus();
  Log(absl::StrCat("the coordinator does not know worker ", stale_id, "; registering again"));
  State(false, "registering again");
  return RegisterOnce(cancellable);
}

void ScorerWorker::Impl::WatchShutdown(const ShutdownController& shutdown) {
  while (!shutdown.WaitFor(absl::Milliseconds(50))) {
    absl::MutexLock lock(&mu_);
    if (stop_) return;
  }
  const absl::Time send_deadline =
      absl::Now() + absl::Milliseconds(options_.shutdown_send_grace_ms);
  absl::MutexLock lock(&mu_);
  while (!stop_) {
    // Repeated while shutting down: a call may start just after a check.
    if (cancellable_ != nullptr) cancellable_->TryCancel();
    if (sending_ != nullptr && absl::Now() >= send_deadline) sending_->TryCancel();
    mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::Milliseconds(50));
  }
}

void ScorerWorker::Impl::HeartbeatLoop() {
  OutageLog outage(this, "Heartbeat");
  absl::Time next = absl::InfinitePast();
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (next == absl::InfinitePast() && !worker_id_.empty()) {
        next = absl::Now() + absl::Milliseconds(heartbeat_interval_ms_);
      }
      const absl::Time wake = next == absl::InfinitePast() ? absl::Now() + absl::Milliseconds(50)
                                                           : std::max(next, absl::Now());
      mu_.AwaitWithDeadline(absl::Condition(&stop_), wake);
      if (stop_) return;
      if (next == absl::InfinitePast() || absl::Now() < next) continue;
    }
    SendHeartbeat(outage);
    absl::MutexLock lock(&mu_);
    next = absl::Now() + absl::Milliseconds(heartbeat_interval_ms_);
  }
}

void ScorerWorker::Impl::SendHeartbeat(OutageLog& outage) {
  cluedrop::v1::HeartbeatRequest request;
  std::string lease_id;
  uint64_t documents = 0;
  {
    absl::MutexLock lock(&mu_);
    request.set_worker_id(worker_id_);
    lease_id = lease_id_;
    documents = documents_since_heartbeat_;
  }
  if (!lease_id.empty()) request.add_lease_ids(lease_id);
  request.set_documents_scored(documents);
  cluedrop::v1::HeartbeatResponse response;
  std::unique_ptr<grpc::ClientContext> context = Context(options_.rpc_timeout_ms);
  absl::Status status = FromGrpcStatus(stub_->Heartbeat(context.get(), request, &response));
  if (absl::IsNotFound(status)) {
    outage.Succeeded();
    if (absl::Status s = Reregister(request.worker_id(), /*cancellable=*/false); !s.ok()) {
      outage.Failed(s);
    }
    return;
  }
  if (!status.ok()) {
    outage.Failed(status);
    return;
  }
  outage.Succeeded();
  absl::MutexLock lock(&mu_);
  documents_since_heartbeat_ -= std::min(documents, documents_since_heartbeat_);
  for (const std::string& revoked : response.revoked_lease_ids()) {
    if (!lease_id_.empty() && revoked == lease_id_ && !revoked_) {
      revoked_ = true;
      Log(absl::StrCat("the coordinator revoked lease ", revoked, "; aborting its shard"));
    }
  }
}

absl::Status ScorerWorker::Impl::Run(const ShutdownController& shutdown) {
  std::thread watcher([&] { WatchShutdown(shutdown); });
  std::thread heartbeats([&] { HeartbeatLoop(); });
  auto stop_threads = [&] {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    watcher.join();
    heartbeats.join();
  };
  if (absl::Status status = RegisterUntilDone(shutdown); !status.ok()) {
    stop_threads();
    State(false, shutdown.requested() ? "stopped" : status.ToString());
    return shutdown.requested() ? absl::OkStatus() : status;
  }
  OutageLog outage(this, "LeaseShard");
  Backoff backoff(options_.backoff_initial_ms, options_.backoff_max_ms);
  while (!shutdown.requested()) {
    cluedrop::v1::LeaseShardRequest request;
    request.set_worker_id(worker_id());
    request.set_wait_ms(options_.lease_wait_ms);
    cluedrop::v1::LeaseShardResponse response;
    std::unique_ptr<grpc::ClientContext> context =
        Context(options_.lease_wait_ms + options_.rpc_timeout_ms);
    SetCancellable(context.get());
    absl::Status status = FromGrpcStatus(stub_->LeaseShard(context.get(), request, &response));
    SetCancellable(nullptr);
    if (status.ok() || absl::IsNotFound(status)) {
      outage.Succeeded();
      backoff.Reset();
    }
    if (status.ok()) {
      if (response.has_lease()) HandleLease(response.lease(), shutdown);
    } else if (shutdown.requested() || absl::IsDeadlineExceeded(status)) {
      continue;  // the long poll outlived its deadline: just poll again
    } else if (absl::IsNotFound(status)) {
      if (absl::Status s = Reregister(request.worker_id(), /*cancellable=*/true); !s.ok()) {
        outage.Failed(s);
        shutdown.WaitFor(absl::Milliseconds(backoff.NextMs()));
      }
    } else {
      outage.Failed(status);
      shutdown.WaitFor(absl::Milliseconds(backoff.NextMs()));
    }
  }
  stop_threads();
  State(false, "stopped (shutting down)");
  Log(absl::StrCat("stopped: ", shutdown.reason()));
  return absl::OkStatus();
}

void ScorerWorker::Impl::HandleLease(const ShardLease& lease, const ShutdownController& shutdown) {
  const auto start = std::chrono::steady_clock::now();
  {
    absl::MutexLock lock(&mu_);
    lease_id_ = lease.lease_id();
    revoked_ = false;
  }
  metrics_.busy->Set(1);
  const std::string what = Describe(lease);
  if (shutdown.requested()) {
    Fail(lease, "worker shutting down", /*retryable=*/true, /*released=*/true, shutdown);
    metrics_.shards_released->Increment();
  } else {
    State(true, absl::StrCat("scoring ", what, ": 0/", lease.documents_size(), " documents"));
    ShardProgress last;
    auto progress = [&](const ShardProgress& p) {
      const int64_t documents = p.documents_done - last.documents_done;
      metrics_.documents_scored->Increment(static_cast<double>(documents));
      metrics_.tokens_scored->Increment(
          static_cast<double>(p.reference_tokens_done - last.reference_tokens_done));
      last = p;
      {
        absl::MutexLock lock(&mu_);
        documents_since_heartbeat_ += static_cast<uint64_t>(documents);
        if (revoked_) return false;
      }
      if (shutdown.requested()) return false;
      State(true, absl::StrCat("scoring ", what, ": ", p.documents_done, "/", p.documents_total,
                               " documents, ", p.reference_tokens_done, " tokens"));
      return true;
    };
    StatusOr<ShardScoringResult> result = scorer_->Score(RequestFromLease(lease), progress);
    if (result.ok()) {
      for (double s : result->model_load_seconds) metrics_.model_load_seconds->Observe(s);
    }
    if (Revoked()) {
      metrics_.shards_revoked->Increment();
      Log(absl::StrCat(what, ": lease revoked; nothing sent"));
    } else if (!result.ok() && shutdown.requested()) {
      Fail(lease, "worker shutting down", /*retryable=*/true, /*released=*/true, shutdown);
      metrics_.shards_released->Increment();
      Log(absl::StrCat(what, ": aborted by shutdown; lease released"));
    } else if (!result.ok()) {
      const bool retryable = IsRetryableScoringError(result.status());
      Fail(lease, result.status().ToString(), retryable, /*released=*/false, shutdown);
      metrics_.shards_failed->Increment();
      Log(absl::StrCat(what, ": failed (", retryable ? "retryable" : "not retryable",
                       "): ", result.status().ToString()));
    } else {
      SendResult(lease, *result, shutdown, start);
    }
  }
  {
    absl::MutexLock lock(&mu_);
    lease_id_.clear();
    revoked_ = false;
  }
  metrics_.busy->Set(0);
  State(true, absl::StrCat("registered as ", worker_id(), "; waiting for shards"));
}

void ScorerWorker::Impl::SendResult(const ShardLease& lease, const ShardScoringResult& result,
                                    const ShutdownController& shutdown,
                                    std::chrono::steady_clock::time_point start) {
  const std::string what = Describe(lease);
  if (result.documents.size() != static_cast<size_t>(lease.documents_size())) {
    const std::string error = absl::StrCat("the scorer returned ", result.documents.size(),
                                           " documents for ", lease.documents_size());
    Fail(lease, error, /*retryable=*/true, /*released=*/false, shutdown);
    metrics_.shards_failed->Increment();
    Log(absl::StrCat(what, ": ", error));
    return;
  }
  Backoff backoff(options_.backoff_initial_ms, options_.backoff_max_ms);
  absl::Status status;
  for (int attempt = 1;; ++attempt) {
    cluedrop::v1::CompleteShardResponse response;
    status = CompleteOnce(lease, result, &response);
    if (status.ok()) {
      const double seconds = SecondsSince(start);
      metrics_.shards_completed->Increment();
      metrics_.shard_seconds->Observe(seconds);
      const int64_t tokens = result.reference_tokens();
      Log(absl::StrFormat("%s: %d documents, %d tokens, %.1f s, %.0f tok/s, %s", what,
                          lease.documents_size(), tokens, seconds, tokens / std::max(seconds, 1e-9),
                          response.accepted() ? "accepted" : "not accepted (already scored)"));
      return;
    }
    if (absl::IsNotFound(status) || absl::IsFailedPrecondition(status)) {
      metrics_.shards_revoked->Increment();
      Log(absl::StrCat(what, ": the coordinator no longer takes this shard: ", status.ToString()));
      return;
    }
    if (!IsTransient(status) || attempt >= options_.send_attempts || shutdown.requested() ||
        Revoked()) {
      break;
    }
    Log(absl::StrCat(what, ": CompleteShard failed (", status.ToString(), "); retrying"));
    shutdown.WaitFor(absl::Milliseconds(backoff.NextMs()));
  }
  const bool release = shutdown.requested();
  Fail(lease, absl::StrCat("CompleteShard failed: ", status.ToString()), /*retryable=*/true,
       release, shutdown);
  (release ? metrics_.shards_released : metrics_.shards_failed)->Increment();
  Log(absl::StrCat(what, ": result not delivered (", status.ToString(), "); lease ",
                   release ? "released" : "failed"));
}

absl::Status ScorerWorker::Impl::CompleteOnce(const ShardLease& lease,
                                              const ShardScoringResult& result,
                                              cluedrop::v1::CompleteShardResponse* response) {
  std::unique_ptr<grpc::ClientContext> context = Context(options_.complete_timeout_ms);
  // Shutdown cancels it after shutdown_send_grace_ms: a result already
  // scored is still sent, but a stream stuck on a dead connection must not
  // hold the process until its deadline.
  SetSending(context.get());
  auto writer = stub_->CompleteShard(context.get(), response);
  cluedrop::v1::CompleteShardRequest message;
  cluedrop::v1::CompleteShardHeader* header = message.mutable_header();
  header->set_worker_id(worker_id());
  header->set_lease_id(lease.lease_id());
  header->set_job_id(lease.job_id());
  header->set_shard_id(lease.shard_id());
  header->set_document_count(static_cast<uint32_t>(lease.documents_size()));
  header->set_tokens_scored(static_cast<uint64_t>(result.reference_tokens()));
  bool ok = writer->Write(message);
  for (int i = 0; ok && i < lease.documents_size(); ++i) {
    message.Clear();
    FillScoredDocument(lease.documents(i), result.documents[i], message.mutable_document());
    ok = writer->Write(message);
  }
  if (ok) writer->WritesDone();
  absl::Status status = FromGrpcStatus(writer->Finish());
  SetSending(nullptr);
  return status;
}

void ScorerWorker::Impl::Fail(const ShardLease& lease, const std::string& error, bool retryable,
                              bool released, const ShutdownController& shutdown) {
  cluedrop::v1::FailShardRequest request;
  request.set_worker_id(worker_id());
  request.set_lease_id(lease.lease_id());
  request.set_error(error);
  request.set_retryable(retryable);
  request.set_released(released);
  Backoff backoff(options_.backoff_initial_ms, options_.backoff_max_ms);
  // While shutting down, do not hold the process for long.
  const int attempts =
      shutdown.requested() ? std::min(2, options_.send_attempts) : options_.send_attempts;
  absl::Status status;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    cluedrop::v1::FailShardResponse response;
    std::unique_ptr<grpc::ClientContext> context = Context(options_.rpc_timeout_ms);
    status = FromGrpcStatus(stub_->FailShard(context.get(), request, &response));
    if (status.ok() || absl::IsNotFound(status) || !IsTransient(status)) break;
    if (attempt < attempts) absl::SleepFor(absl::Milliseconds(backoff.NextMs()));
  }
  if (absl::IsNotFound(status)) {
    Log(absl::StrCat("FailShard: the coordinator no longer holds lease ", lease.lease_id()));
  } else if (!status.ok()) {
    Log(absl::StrCat("FailShard for lease ", lease.lease_id(), ": ", status.ToString(),
                     " (the lease expires on its TTL)"));
  }
}

ScorerWorker::ScorerWorker(ScorerWorkerOptions options,
                           std::shared_ptr<cluedrop::v1::WorkService::StubInterface> stub,
                           ShardScorer* scorer, prometheus::Registry* registry)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(stub), scorer, registry)) {}

ScorerWorker::~ScorerWorker() = default;

absl::Status ScorerWorker::Run(const ShutdownController& shutdown) { return impl_->Run(shutdown); }

std::string ScorerWorker::worker_id() const { return impl_->worker_id(); }

}  // namespace cluedrop::scorer

#include "coordinator/server/prometheus_coordinator_metrics.h"

#include <prometheus/family.h>

namespace cluedrop::coordinator {
namespace {

constexpr std::array<const char*, 8> kJobStates = {"unspecified", "queued",     "scoring",
                                                   "training",    "evaluating", "succeeded",
                                                   "failed",      "cancelled"};
constexpr std::array<const char*, 3> kShardStates = {"pending", "leased", "scored"};

prometheus::Counter* Counter(prometheus::Registry& registry, const std::string& name,
                             const std::string& help) {
  return &prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add({});
}

}  // namespace

PrometheusCoordinatorMetrics::PrometheusCoordinatorMetrics(prometheus::Registry& registry) {
  auto& jobs = prometheus::BuildGauge()
                   .Name("cluedrop_coordinator_jobs")
                   .Help("Jobs known to the coordinator, by state")
                   .Register(registry);
  for (size_t i = 1; i < kJobStates.size(); ++i) jobs_[i] = &jobs.Add({{"state", kJobStates[i]}});
  auto& shards = prometheus::BuildGauge()
                     .Name("cluedrop_coordinator_shards")
                     .Help("Shards of active jobs, by state")
                     .Register(registry);
  for (size_t i = 0; i < kShardStates.size(); ++i) {
    shards_[i] = &shards.Add({{"state", kShardStates[i]}});
  }
  workers_ = &prometheus::BuildGauge()
                  .Name("cluedrop_coordinator_workers")
                  .Help("Registered scorer workers")
                  .Register(registry)
                  .Add({});
  leases_granted_ =
      Counter(registry, "cluedrop_coordinator_leases_granted_total", "Shard leases granted");
  lease_expirations_ = Counter(registry, "cluedrop_coordinator_lease_expirations_total",
                               "Shard leases that expired without a heartbeat");
  shard_retries_ = Counter(registry, "cluedrop_coordinator_shard_retries_total",
                           "Shards re-queued after a failure or an expiry");
  failures_family_ = &prometheus::BuildCounter()
                          .Name("cluedrop_coordinator_shard_failures_total")
                          .Help("Lost shard leases, by kind (expired, error, fatal, restarted)")
                          .Register(registry);
  for (const char* kind : {"expired", "error", "fatal", "restarted"}) {
    failures_[kind] = &failures_family_->Add({{"kind", kind}});
  }
  duplicates_ = Counter(registry, "cluedrop_coordinator_duplicate_completions_total",
                        "Shard results dropped because another result had won");
  completed_ = Counter(registry, "cluedrop_coordinator_shards_completed_total",
                       "Scored shards accepted and stored");
  tokens_ = Counter(registry, "cluedrop_coordinator_tokens_scored_total",
                    "Reference-model tokens in accepted scored shards");
  stream_bytes_ = Counter(registry, "cluedrop_coordinator_stream_bytes_total",
                          "Scored-shard payload bytes streamed to trainers");
  stream_chunks_ = Counter(registry, "cluedrop_coordinator_stream_chunks_total",
                           "Scored-shard chunks streamed to trainers");
  auto& denied = prometheus::BuildCounter()
                     .Name("cluedrop_coordinator_auth_denied_total")
                     .Help(
                         "Calls refused by authentication or authorization, by reason "
                         "(unauthenticated, bad_credentials, wrong_role, not_owner)")
                     .Register(registry);
  for (const char* reason : {"unauthenticated", "bad_credentials", "wrong_role", "not_owner"}) {
    auth_denied_[reason] = &denied.Add({{"reason", reason}});
  }
  auto& limits = prometheus::BuildCounter()
                     .Name("cluedrop_coordinator_limit_hits_total")
                     .Help("Calls refused RESOURCE_EXHAUSTED, by the limit's flag")
                     .Register(registry);
  for (const char* limit :
       {"max_watch_streams", "max_long_polls", "max_shard_streams", "max_stream_seconds",
        "max_jobs_per_submitter", "max_corpus_bytes_per_submitter"}) {
    limit_hits_[limit] = &limits.Add({{"limit", limit}});
  }
  commit_seconds_ =
      &prometheus::BuildHistogram()
           .Name("cluedrop_coordinator_state_commit_seconds")
           .Help("Durable state transactions (SQLite, fsynced)")
           .Register(registry)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                            0.025, 0.05, 0.1, 0.25, 1});
}

void PrometheusCoordinatorMetrics::SetJobs(const std::array<uint64_t, 8>& counts) {
  for (size_t i = 1; i < counts.size(); ++i) jobs_[i]->Set(static_cast<double>(counts[i]));
}

void PrometheusCoordinatorMetrics::SetShards(const std::array<uint64_t, 3>& counts) {
  for (size_t i = 0; i < counts.size(); ++i) shards_[i]->Set(static_cast<double>(counts[i]));
}

void PrometheusCoordinatorMetrics::ShardFailed(std::string_view kind) {
  auto it = failures_.find(kind);
  (it != failures_.end() ? it->second : failures_.at("error"))->Increment();
}

void PrometheusCoordinatorMetrics::AuthDenied(std::string_view reason) {
  auto it = auth_denied_.find(reason);
  (it != auth_denied_.end() ? it->second : auth_denied_.at("unauthenticated"))->Increment();
}

void PrometheusCoordinatorMetrics::LimitHit(std::string_view limit) {
  if (auto it = limit_hits_.find(limit); it != limit_hits_.end()) it->second->Increment();
}

}  // namespace cluedrop::coordinator

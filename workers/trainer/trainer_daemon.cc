#include "workers/trainer/trainer_daemon.h"

#include <arpa/inet.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <cmath>
#include <iostream>
#include <memory>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/absl_status.h"
#include "cluedrop/v1/train_service.grpc.pb.h"
#include "runtime/channel.h"
#include "workers/model/device_inventory.h"
#include "workers/trainer/qa_proto.h"
#include "workers/trainer/shard_feed.h"
#include "workers/trainer/store_address.h"
#include "workers/trainer/train_runner.h"
#include "workers/trainer/train_spec.h"
#include "workers/trainer/trainer_client.h"

namespace cluedrop::trainer {
namespace {

// Where rank 0's store listens: --store_bind_host, else the store address's
// host when it is an IP address (so 127.0.0.1 keeps the store on this
// machine), else every interface.
std::string StoreBindHost(const TrainerDaemonOptions& options, const std::string& store_host) {
  if (!options.store_bind_host.empty()) return options.store_bind_host;
  in6_addr v6;
  in_addr v4;
  const std::string bare = store_host.size() > 2 && store_host.front() == '['
                               ? store_host.substr(1, store_host.size() - 2)
                               : store_host;
  if (inet_pton(AF_INET, bare.c_str(), &v4) == 1 || inet_pton(AF_INET6, bare.c_str(), &v6) == 1) {
    return bare;
  }
  return "";
}

std::string TrainingDevice(const std::string& device) {
  if (device == "auto") return QueryDevices().gpus.empty() ? "cpu" : "cuda:0";
  if (device == "cuda") return "cuda:0";
  return device;
}

// Bytes in use on the GPU `device` ("cuda:N") names; 0 for the CPU.
uint64_t GpuMemoryUsed(const std::string& device) {
  int index = -1;
  if (device.rfind("cuda:", 0) != 0 || !absl::SimpleAtoi(device.substr(5), &index)) return 0;
  for (const GpuDevice& gpu : QueryDevices().gpus) {
    if (gpu.index == index) return gpu.total_memory_bytes - gpu.free_memory_bytes;
  }
  return 0;
}

// A scored document as the augmenter sees it.
ScoredDocument FromProto(const v1::ScoredDocument& d) {
  ScoredDocument out;
  out.id = d.id();
  out.text = d.text();
  out.tokens.assign(d.tokens().begin(), d.tokens().end());
  for (int k = 0; k + 1 < d.offsets_size(); k += 2) {
    out.offsets.emplace_back(d.offsets(k), d.offsets(k + 1));
  }
  out.received_large.assign(d.received_large().begin(), d.received_large().end());
  out.received_small.assign(d.received_small().begin(), d.received_small().end());
  out.contrast.assign(d.contrast().begin(), d.contrast().end());
  return out;
}

// The rank's streamed partition as the runner's data source.
class FeedShardSource : public ScoredShardSource {
 public:
  explicit FeedShardSource(ShardFeed* feed, const std::function<bool()>& stop)
      : feed_(feed), stop_(stop) {}

  StatusOr<std::optional<std::vector<ScoredDocument>>> Shard(uint64_t k) override {
    absl::StatusOr<std::vector<v1::ScoredDocument>> shard = feed_->Get(k, stop_);
    if (absl::IsOutOfRange(shard.status())) return std::optional<std::vector<ScoredDocument>>();
    if (!shard.ok()) return FromAbslStatus(shard.status());
    std::vector<ScoredDocument> docs;
    docs.reserve(shard->size());
    for (const v1::ScoredDocument& d : *shard) docs.push_back(FromProto(d));
    return std::optional<std::vector<ScoredDocument>>(std::move(docs));
  }

 private:
  ShardFeed* feed_;
  std::function<bool()> stop_;
};

const prometheus::Histogram::BucketBoundaries& StepBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets{
      0.0001, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  return buckets;
}

prometheus::Histogram& Seconds(prometheus::Registry& r, const std::string& name,
                               const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add({}, StepBuckets());
}

// cluedrop_trainer_* metrics (docs/training.md).
struct TrainerMetrics {
  explicit TrainerMetrics(prometheus::Registry& r)
      : loss(prometheus::BuildGauge()
                 .Name("cluedrop_trainer_loss")
                 .Help("Training loss of the last step (global token-mean cross-entropy, nats)")
                 .Register(r)
                 .Add({})),
        learning_rate(prometheus::BuildGauge()
                          .Name("cluedrop_trainer_learning_rate")
                          .Help("Learning rate of the last step")
                          .Register(r)
                          .Add({})),
        grad_norm(prometheus::BuildGauge()
                      .Name("cluedrop_trainer_grad_norm")
                      .Help("Global gradient L2 norm of the last step, before clipping")
                      .Register(r)
                      .Add({})),
        tokens_per_second(prometheus::BuildGauge()
                              .Name("cluedrop_trainer_tokens_per_second")
                              .Help("Target tokens per second of the last step, all ranks")
                              .Register(r)
                              .Add({})),
        steps(prometheus::BuildCounter()
                  .Name("cluedrop_trainer_steps_total")
                  .Help("Optimizer steps this process ran")
                  .Register(r)
                  .Add({})),
        tokens(prometheus::BuildCounter()
                   .Name("cluedrop_trainer_tokens_total")
                   .Help("Target tokens of the global batches of this process's steps")
                   .Register(r)
                   .Add({})),
        step_seconds(
            prometheus::BuildHistogram()
                .Name("cluedrop_trainer_step_seconds")
                .Help("Wall time of one optimizer step")
                .Register(r)
                .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                                 1, 2.5, 5, 10, 30})),
        allreduce_wait_seconds(Seconds(r, "cluedrop_trainer_allreduce_wait_seconds",
                                       "Per step: waiting for the gradient all-reduce (the part "
                                       "that did not overlap backward)")),
        compute_seconds(Seconds(r, "cluedrop_trainer_compute_seconds",
                                "Per step: forward, backward and optimizer (step time minus the "
                                "all-reduce wait)")),
        data_stall_seconds(Seconds(r, "cluedrop_trainer_data_stall_seconds",
                                   "Per step: getting the data before the step (waiting for "
                                   "scored shards, augmenting, batching)")),
        checkpoint_seconds(Seconds(r, "cluedrop_trainer_checkpoint_seconds",
                                   "Time to write one checkpoint (all ranks)")),
        mfu(prometheus::BuildGauge()
                .Name("cluedrop_trainer_mfu")
                .Help("Model FLOPs utilisation of the last step: 6 N tokens / (time x devices "
                      "x peak)")
                .Register(r)
                .Add({})),
        peak_flops(prometheus::BuildGauge()
                       .Name("cluedrop_trainer_peak_flops")
                       .Help("The device's dense peak used for MFU, FLOP/s (GPU table or "
                             "measured matmul rate)")
                       .Register(r)
                       .Add({})),
        gpu_memory_used(prometheus::BuildGauge()
                            .Name("cluedrop_trainer_gpu_memory_used_bytes")
                            .Help("Memory in use on the training GPU (all processes, from the "
                                  "CUDA runtime); 0 when training on the CPU")
                            .Register(r)
                            .Add({})),
        dropout_rate(prometheus::BuildGauge()
                         .Name("cluedrop_trainer_dropout_rate")
                         .Help("Dropped / droppable tokens of this rank's samples in the last "
                               "step")
                         .Register(r)
                         .Add({})),
        evaluation_em(&prometheus::BuildGauge()
                           .Name("cluedrop_trainer_evaluation_exact_match")
                           .Help("QA exact match of the last evaluation, by field (overall: "
                                 "NaN until this trainer reports an evaluation)")
                           .Register(r)),
        evaluation_f1(&prometheus::BuildGauge()
                           .Name("cluedrop_trainer_evaluation_f1")
                           .Help("QA token F1 of the last evaluation, by field (overall: NaN "
                                 "until this trainer reports an evaluation)")
                           .Register(r)) {
    // "overall" exists from the start, NaN (no evaluation yet), so that
    // dashboards and the scrape test see the series before a job ends.
    evaluation_em->Add({{"field", "overall"}}).Set(std::nan(""));
    evaluation_f1->Add({{"field", "overall"}}).Set(std::nan(""));
  }

  prometheus::Gauge& loss;
  prometheus::Gauge& learning_rate;
  prometheus::Gauge& grad_norm;
  prometheus::Gauge& tokens_per_second;
  prometheus::Counter& steps;
  prometheus::Counter& tokens;
  prometheus::Histogram& step_seconds;
  prometheus::Histogram& allreduce_wait_seconds;
  prometheus::Histogram& compute_seconds;
  prometheus::Histogram& data_stall_seconds;
  prometheus::Histogram& checkpoint_seconds;
  prometheus::Gauge& mfu;
  prometheus::Gauge& peak_flops;
  prometheus::Gauge& gpu_memory_used;
  prometheus::Gauge& dropout_rate;
  prometheus::Family<prometheus::Gauge>* evaluation_em;
  prometheus::Family<prometheus::Gauge>* evaluation_f1;
};

absl::StatusOr<std::pair<std::string, int>> SplitHostPort(const std::string& address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("expected host:port, got \"", address, "\""));
  }
  return std::make_pair(address.substr(0, colon), port);
}

v1::JobProgress ToProto(const TrainProgress& p) {
  v1::JobProgress out;
  out.set_training_step(p.step);
  out.set_training_steps_total(p.total_steps);
  out.set_epoch(static_cast<uint32_t>(p.epoch));
  out.set_loss(static_cast<float>(p.loss));
  out.set_tokens_per_second(static_cast<float>(p.tokens_per_second));
  return out;
}

// One job, from Join to the final report. OK when this rank's part is done.
absl::Status RunOneJob(const TrainerDaemonOptions& options, TrainerClient& client,
                       std::shared_ptr<v1::TrainService::StubInterface> stub,
                       TrainerMetrics& metrics, const WorkLoopContext& context,
                       const ShutdownController& shutdown) {
  auto stopping = [&] { return shutdown.requested(); };
  CLUEDROP_ASSIGN_OR_RETURN(Membership m, client.Join(stopping, absl::Hours(24 * 365)));
  context.report(true, absl::StrCat("job ", m.job_id, ": rank ", m.rank, " of ", m.world_size,
                                    ", generation ", m.generation));
  std::cerr << "cluedrop-trainer: joined " << m.job_id << " as rank " << m.rank << " of "
            << m.world_size << " (store " << m.rendezvous_address << ")" << std::endl;

  ShardFeedOptions feed_options;
  feed_options.cache_dir = options.cache_dir;
  feed_options.job_id = m.job_id;
  feed_options.rank = m.rank;
  feed_options.bearer_token = options.client.token;
  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<ShardFeed> feed, ShardFeed::Open(feed_options, stub));
  feed->Start();

  CLUEDROP_ASSIGN_OR_RETURN(TrainRunOptions run, TrainRunOptionsFromSpec(m.spec));
  run.device = TrainingDevice(options.worker.device);
  if (m.rank == 0) {
    StatusOr<std::vector<QaQuestion>> questions = EvaluationQuestionsFromSpec(m.spec, run.eval);
    if (!questions.ok()) return ToAbslStatus(questions.status());
    run.eval_questions = std::move(*questions);
  }
  RendezvousSpec rendezvous;
  rendezvous.rank = static_cast<int>(m.rank);
  rendezvous.world_size = static_cast<int>(m.world_size);
  rendezvous.timeout_ms = options.rendezvous_timeout_ms;
  if (m.world_size > 1) {
    CLUEDROP_ASSIGN_OR_RETURN(auto host_port, SplitHostPort(m.rendezvous_address));
    rendezvous.store_host = host_port.first;
    rendezvous.store_port = host_port.second;
    if (m.rank == 0) rendezvous.store_bind_host = StoreBindHost(options, host_port.first);
  }

  std::atomic<bool> cancelled{false};
  std::function<bool()> stop = [&] { return shutdown.requested() || cancelled.load(); };
  TrainCallbacks callbacks;
  callbacks.stop = stop;
  callbacks.on_step = [&](const TrainProgress& p) {
    metrics.loss.Set(p.loss);
    metrics.learning_rate.Set(p.learning_rate);
    metrics.grad_norm.Set(p.grad_norm);
    metrics.tokens_per_second.Set(p.tokens_per_second);
    metrics.steps.Increment();
    metrics.tokens.Increment(static_cast<double>(p.tokens));
    metrics.step_seconds.Observe(p.step_seconds);
    metrics.allreduce_wait_seconds.Observe(p.allreduce_wait_seconds);
    metrics.compute_seconds.Observe(p.compute_seconds);
    metrics.data_stall_seconds.Observe(p.data_seconds);
    if (p.checkpointed) metrics.checkpoint_seconds.Observe(p.checkpoint_seconds);
    metrics.mfu.Set(p.mfu);
    metrics.peak_flops.Set(p.peak_flops);
    metrics.dropout_rate.Set(p.dropout_rate);
    const uint32_t every = std::max<uint32_t>(1, options.report_every_steps);
    if (p.step % every == 0 || p.checkpointed || p.step == p.total_steps) {
      metrics.gpu_memory_used.Set(static_cast<double>(GpuMemoryUsed(run.device)));
      absl::StatusOr<v1::ReportProgressResponse> answer = client.ReportProgress(m, ToProto(p), "");
      if (answer.ok() && answer->cancelled()) cancelled = true;
    }
  };
  FeedShardSource source(feed.get(), stop);
  StatusOr<TrainRunResult> result = RunTraining(run, source, rendezvous, callbacks);
  feed->Stop();
  if (!result.ok()) {
    if (cancelled) return absl::CancelledError(absl::StrCat("job ", m.job_id, " was cancelled"));
    const StatusCode code = result.status().code();
    if (code == StatusCode::kInvalidArgument || code == StatusCode::kFailedPrecondition) {
      // Invalid data or options, or (FAILED_PRECONDITION) this rank 0 cannot
      // host the rendezvous store because its port is taken: a restart would
      // fail the same way, so the job fails (naming the document or the
      // address) instead of this trainer looping.
      std::string reason(result.status().message());
      if (code == StatusCode::kFailedPrecondition) {
        reason = absl::StrCat(client.options().name,
                              " cannot host the job's rendezvous store (--store_address ",
                              options.store_address, "): ", reason);
      }
      std::cerr << "cluedrop-trainer: job " << m.job_id << " rank " << m.rank
                << " cannot go on: " << reason << std::endl;
      CLUEDROP_RETURN_IF_ABSL_ERROR(client.ReportFailure(m, reason));
      return absl::OkStatus();
    }
    return Annotate(ToAbslStatus(result.status()), absl::StrCat("job ", m.job_id));
  }
  std::cerr << "cluedrop-trainer: job " << m.job_id << " rank " << m.rank << " done, "
            << result->steps << " steps" << std::endl;
  if (m.rank == 0) {
    v1::JobProgress progress;
    progress.set_training_step(result->steps);
    progress.set_training_steps_total(result->steps);
    progress.set_loss(static_cast<float>(result->final_loss));
    CLUEDROP_RETURN_IF_ABSL_ERROR(
        client.ReportProgress(m, progress, result->final_model_dir).status());
    if (result->evaluation.has_value()) {
      v1::EvaluationResult evaluation;
      evaluation.set_step(result->steps);
      AppendFieldScores(result->evaluation->fields, evaluation.mutable_fields());
      for (const QaFieldScore& f : result->evaluation->fields) {
        metrics.evaluation_em->Add({{"field", f.field}}).Set(f.exact_match);
        metrics.evaluation_f1->Add({{"field", f.field}}).Set(f.f1);
      }
      CLUEDROP_RETURN_IF_ABSL_ERROR(client.ReportEvaluation(m, evaluation, /*final=*/true));
    }
  }
  // Wait for the job to end before joining another one (otherwise this
  // trainer would rejoin the same job).
  while (!shutdown.requested()) {
    absl::StatusOr<v1::ReportProgressResponse> answer =
        client.ReportProgress(m, ToProto(TrainProgress{}), "");
    if (!answer.ok() || answer->cancelled() || answer->state() == v1::JOB_STATE_SUCCEEDED) break;
    if (answer->generation() != m.generation) {
      // A peer crashed and rejoined after this rank finished: it resumes
      // from the last checkpoint and cannot finish without every rank (the
      // chaos grid found the job waiting forever otherwise).
      return absl::UnavailableError(absl::StrCat("job ", m.job_id, ": a peer rejoined (generation ",
                                                 answer->generation(), ")"));
    }
    shutdown.WaitFor(absl::Seconds(1));
  }
  return absl::OkStatus();
}

}  // namespace

WorkerRole TrainerRole() {
  return WorkerRole{
      .component = "trainer",
      .summary = "trains the target model data-parallel on clue-guided token dropout.",
      .work_state = "joining a job's rendezvous at the coordinator (--coordinator)",
      .default_grpc_port = 50071,
      .default_metrics_port = 9466};
}

void RegisterTrainerFlags(FlagSet* flags, TrainerDaemonOptions* options) {
  RegisterWorkerFlags(TrainerRole(), flags, &options->worker);
  RegisterCoordinatorClientFlags(flags, &options->client);
  flags->Add("store_address", &options->store_address,
             "host:port this trainer hosts the c10d TCPStore on when it is rank 0");
  flags->Add("store_bind_host", &options->store_bind_host,
             "address the c10d TCPStore listens on (default: --store_address's host when it "
             "is an IP address, else every interface)");
  flags->Add("cache_dir", &options->cache_dir, "local cache of the streamed scored shards");
  flags->Add("job_id", &options->job_id, "train only this job (default: any that needs trainers)");
  flags->Add("report_every_steps", &options->report_every_steps,
             "report progress to the coordinator every this many steps");
  flags->Add("rendezvous_timeout_ms", &options->rendezvous_timeout_ms,
             "how long to wait for the other ranks, ms");
}

absl::Status RunTrainerDaemon(const TrainerDaemonOptions& given, ShutdownController* shutdown) {
  TrainerDaemonOptions options = given;
  CLUEDROP_RETURN_IF_ABSL_ERROR(LoadClientToken(&options.client));
  CLUEDROP_RETURN_IF_ABSL_ERROR(ValidateDevice(options.worker.device));
  CLUEDROP_ASSIGN_OR_RETURN(auto store, SplitHostPort(options.store_address));
  // A taken store port would fail every job this trainer is rank 0 of: say
  // so now, before joining any.
  if (Status free = CheckStoreAddressFree(StoreBindHost(options, store.first), store.second);
      !free.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("--store_address ", options.store_address, ": ", free.message(),
                     " (another process holds the port; give this trainer a free one)"));
  }
  CLUEDROP_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                            MakeCoordinatorChannel(options.worker, options.client));
  std::shared_ptr<v1::TrainService::StubInterface> stub = v1::TrainService::NewStub(channel);
  TrainerClientOptions client_options;
  client_options.name = WorkerName(options.client, "trainer");
  client_options.store_address = options.store_address;
  client_options.job_id = options.job_id;
  client_options.bearer_token = options.client.token;
  return RunWorkerDaemon(
      TrainerRole(), options.worker, shutdown,
      [&](const WorkLoopContext& context, const ShutdownController& work_shutdown) {
        TrainerMetrics metrics(*context.registry);
        TrainerClient client(client_options, stub);
        context.report(true, "waiting for a job that needs trainers");
        while (!work_shutdown.requested()) {
          absl::Status status = RunOneJob(options, client, stub, metrics, context, work_shutdown);
          if (work_shutdown.requested()) break;
          if (!status.ok()) {
            std::cerr << "cluedrop-trainer: " << status << "; joining again" << std::endl;
            if (absl::IsInvalidArgument(status) || absl::IsUnauthenticated(status) ||
                absl::IsPermissionDenied(status)) {
              work_shutdown.WaitFor(absl::Seconds(5));  // a bad job: do not spin
            } else {
              work_shutdown.WaitFor(absl::Seconds(1));
            }
          }
          context.report(true, "waiting for a job that needs trainers");
        }
        return absl::OkStatus();
      });
}

}  // namespace cluedrop::trainer

#include "workers/trainer/train_step.h"

#include <ATen/autocast_mode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <utility>

#include "workers/model/torch_status.h"

namespace cluedrop::trainer {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// bf16 autocast on one device type while alive (restores the previous state).
class AutocastScope {
 public:
  AutocastScope(bool enabled, at::DeviceType type) : enabled_(enabled), type_(type) {
    if (!enabled_) return;
    previous_enabled_ = at::autocast::is_autocast_enabled(type_);
    previous_dtype_ = at::autocast::get_autocast_dtype(type_);
    at::autocast::set_autocast_enabled(type_, true);
    at::autocast::set_autocast_dtype(type_, at::kBFloat16);
    at::autocast::increment_nesting();
  }
  ~AutocastScope() {
    if (!enabled_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(type_, previous_enabled_);
    at::autocast::set_autocast_dtype(type_, previous_dtype_);
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool enabled_;
  at::DeviceType type_;
  bool previous_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kBFloat16;
};

// Empty when `mb` is well-formed, else what is wrong with it.
std::string CheckMicroBatch(const MicroBatch& mb) {
  if (!mb.input_ids.defined() || mb.input_ids.dim() != 2) return "input_ids must be [B, T]";
  if (mb.input_ids.scalar_type() != torch::kLong) return "input_ids must be int64";
  if (mb.input_ids.size(0) == 0 || mb.input_ids.size(1) == 0) return "empty micro-batch";
  if (!mb.labels.defined() || mb.labels.sizes() != mb.input_ids.sizes() ||
      mb.labels.scalar_type() != torch::kLong) {
    return "labels must be int64 and shaped like input_ids";
  }
  if (mb.attention_mask.defined() && mb.attention_mask.sizes() != mb.input_ids.sizes()) {
    return "attention_mask must be shaped like input_ids";
  }
  return "";
}

}  // namespace

StatusOr<MicroBatch> MakeMicroBatch(const std::vector<std::vector<int64_t>>& sequences,
                                    int64_t pad_id, int64_t max_len) {
  if (sequences.empty()) return InvalidArgumentError("MakeMicroBatch: no sequences");
  if (max_len < 0) return InvalidArgumentError("MakeMicroBatch: max_len < 0");
  const int64_t batch = static_cast<int64_t>(sequences.size());
  int64_t width = 0;
  for (size_t b = 0; b < sequences.size(); ++b) {
    if (sequences[b].empty()) {
      return InvalidArgumentError("MakeMicroBatch: sequence " + std::to_string(b) + " is empty");
    }
    int64_t len = static_cast<int64_t>(sequences[b].size());
    if (max_len > 0) len = std::min(len, max_len);
    width = std::max(width, len);
  }
  std::vector<int64_t> ids(batch * width, pad_id), mask(batch * width, 0),
      labels(batch * width, kIgnoreLabel);
  for (int64_t b = 0; b < batch; ++b) {
    const auto& seq = sequences[b];
    int64_t len = static_cast<int64_t>(seq.size());
    if (max_len > 0) len = std::min(len, max_len);
    for (int64_t t = 0; t < len; ++t) {
      ids[b * width + t] = seq[t];
      mask[b * width + t] = 1;
      if (t + 1 < len) labels[b * width + t] = seq[t + 1];
    }
  }
  MicroBatch mb;
  auto make = [&](std::vector<int64_t>& v) {
    return torch::from_blob(v.data(), {batch, width}, torch::kLong).clone();
  };
  mb.input_ids = make(ids);
  mb.attention_mask = make(mask);
  mb.labels = make(labels);
  return mb;
}

StatusOr<std::unique_ptr<TrainStep>> TrainStep::Create(std::shared_ptr<model::CausalLM> model,
                                                       Collectives* collectives,
                                                       const TrainStepOptions& options) {
  if (model == nullptr) return InvalidArgumentError("TrainStep: null model");
  if (collectives == nullptr) return InvalidArgumentError("TrainStep: null collectives");
  CLUEDROP_RETURN_IF_ERROR(ValidateLrSchedule(options.schedule).Annotated("schedule"));
  if (!(options.grad_clip >= 0) || !std::isfinite(options.grad_clip)) {
    return InvalidArgumentError("grad_clip: must be finite and >= 0");
  }
  std::unique_ptr<TrainStep> step(new TrainStep());
  step->model_ = std::move(model);
  step->collectives_ = collectives;
  step->options_ = options;
  step->trainable_ = TrainableParameters(*step->model_);
  if (step->trainable_.empty()) return InvalidArgumentError("TrainStep: no trainable parameters");
  step->trainable_tensors_ = Tensors(step->trainable_);
  CLUEDROP_ASSIGN_OR_RETURN(step->bucketer_, GradBucketer::Create(step->trainable_tensors_,
                                                                  collectives, options.bucketing));
  CLUEDROP_ASSIGN_OR_RETURN(step->optimizer_, CreateAdamW(step->trainable_, options.optimizer));
  if (options.broadcast_initial_parameters && collectives->world_size() > 1) {
    torch::NoGradGuard no_grad;
    for (const NamedParameter& p : step->trainable_) {
      CLUEDROP_RETURN_IF_ERROR(
          collectives->Broadcast(p.tensor.detach(), 0).Annotated("broadcasting " + p.name));
    }
  }
  return step;
}

StatusOr<StepStats> TrainStep::Run(const std::vector<MicroBatch>& micro_batches) {
  const auto start = Clock::now();
  const int world = collectives_->world_size();
  StepStats stats;

  // Local checks, then one all-reduce of [tokens, n, n^2, bad] so that every
  // rank agrees on N_global and fails together on bad input.
  std::string bad;
  int64_t local_tokens = 0;
  for (size_t i = 0; i < micro_batches.size() && bad.empty(); ++i) {
    bad = CheckMicroBatch(micro_batches[i]);
    if (!bad.empty()) {
      bad = "micro-batch " + std::to_string(i) + ": " + bad;
    } else {
      local_tokens += (micro_batches[i].labels != kIgnoreLabel).sum().item<int64_t>();
    }
  }
  if (micro_batches.empty()) bad = "no micro-batches";
  const double n = static_cast<double>(micro_batches.size());
  torch::Tensor counts;
  Status s = model::TorchCall("step counts", [&] {
    counts = torch::tensor({static_cast<double>(local_tokens), n, n * n, bad.empty() ? 0.0 : 1.0},
                           torch::kDouble)
                 .to(collectives_->device());
  });
  if (!s.ok()) return s;
  const auto counts_start = Clock::now();
  CLUEDROP_RETURN_IF_ERROR(
      collectives_->AllReduceSync(counts, ReduceOp::kSum).Annotated("all-reducing token counts"));
  const double counts_wait = Seconds(counts_start);
  counts = counts.cpu();
  const double* c = counts.data_ptr<double>();
  if (!bad.empty()) return InvalidArgumentError("TrainStep::Run: " + bad);
  if (c[3] > 0) return InvalidArgumentError("TrainStep::Run: another rank's input was invalid");
  if (c[1] * c[1] != static_cast<double>(world) * c[2]) {
    return FailedPreconditionError(
        "TrainStep::Run: ranks disagree on the number of micro-batches (this rank: " +
        std::to_string(micro_batches.size()) + ")");
  }
  const int64_t global_tokens = static_cast<int64_t>(c[0]);
  if (global_tokens == 0) {
    return InvalidArgumentError("TrainStep::Run: the global batch has no target tokens");
  }
  stats.tokens = global_tokens;
  stats.local_tokens = local_tokens;
  const double scale = static_cast<double>(world) / static_cast<double>(global_tokens);

  const torch::Device in_device = model_->input_device();
  const torch::Device out_device = model_->output_device();
  const bool autocast = options_.precision == Precision::kBf16 ||
                        (options_.precision == Precision::kAuto && in_device.is_cuda());
  torch::Tensor loss_sum;
  s = model::TorchCall("zeroing gradients", [&] {
    optimizer_->zero_grad(/*set_to_none=*/true);
    loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kDouble).device(out_device));
  });
  if (!s.ok()) return s;
  for (size_t i = 0; i < micro_batches.size(); ++i) {
    const MicroBatch& mb = micro_batches[i];
    bucketer_->BeginBackward(/*sync=*/i + 1 == micro_batches.size());
    s = model::TorchCall("micro-batch " + std::to_string(i), [&] {
      model::ForwardOptions forward;
      if (mb.attention_mask.defined()) forward.attention_mask = mb.attention_mask.to(in_device);
      torch::Tensor logits;
      {
        AutocastScope scope(autocast, in_device.type());
        logits = model_->Forward(mb.input_ids.to(in_device), forward);
      }
      const int64_t vocab = logits.size(-1);
      torch::Tensor ce = torch::nn::functional::cross_entropy(
          logits.reshape({-1, vocab}).to(torch::kFloat), mb.labels.to(out_device).reshape({-1}),
          torch::nn::functional::CrossEntropyFuncOptions()
              .ignore_index(kIgnoreLabel)
              .reduction(torch::kSum));
      (ce * scale).backward();
      loss_sum += ce.detach().to(torch::kDouble);
    });
    if (!s.ok()) return s;
  }
  CLUEDROP_ASSIGN_OR_RETURN(stats.allreduce_wait_seconds, bucketer_->FinishSync());
  stats.allreduce_wait_seconds += counts_wait;

  s = model::TorchCall("global loss", [&] { loss_sum = loss_sum.to(collectives_->device()); });
  if (!s.ok()) return s;
  const auto loss_start = Clock::now();
  CLUEDROP_RETURN_IF_ERROR(
      collectives_->AllReduceSync(loss_sum, ReduceOp::kSum).Annotated("all-reducing the loss"));
  stats.allreduce_wait_seconds += Seconds(loss_start);
  stats.loss = loss_sum.item<double>() / static_cast<double>(global_tokens);

  CLUEDROP_ASSIGN_OR_RETURN(stats.grad_norm, ClipGradNorm(trainable_tensors_, options_.grad_clip));
  stats.learning_rate = LearningRate(options_.schedule, step_);
  stats.skipped = !std::isfinite(stats.grad_norm);
  s = model::TorchCall("optimizer step", [&] {
    SetLearningRate(*optimizer_, stats.learning_rate);
    if (!stats.skipped) optimizer_->step();
    if (in_device.is_cuda()) torch::cuda::synchronize(in_device.index());
  });
  if (!s.ok()) return s;
  stats.step = ++step_;
  stats.step_seconds = Seconds(start);
  stats.compute_seconds = stats.step_seconds - stats.allreduce_wait_seconds;
  return stats;
}

}  // namespace cluedrop::trainer

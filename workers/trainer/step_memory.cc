#include "workers/trainer/step_memory.h"

#include <torch/torch.h>

#include <chrono>

#include "workers/model/causal_lm.h"
#include "workers/model/cpu_memory_meter.h"
#include "workers/trainer/process_group_fake.h"
#include "workers/trainer/train_params.h"
#include "workers/trainer/train_step.h"

namespace cluedrop::trainer {

model::TrainMemoryInput PlanInputFor(const StepMemoryOptions& o) {
  model::TrainMemoryInput in;
  in.batch_size = o.batch_size;
  in.seq_len = o.seq_len;
  in.lora_rank = o.lora_rank;
  in.lora_targets = o.lora_targets;
  in.int8_base = o.int8_base;
  in.checkpoint_every = o.checkpoint_every;
  return in;
}

StatusOr<StepMemory> MeasureStepMemory(const model::ModelConfig& config,
                                       const StepMemoryOptions& o) {
  model::CpuMemoryMeter meter;  // before anything is allocated
  const int64_t base = meter.current_bytes();
  StepMemory result;
  torch::manual_seed(0);
  CLUEDROP_ASSIGN_OR_RETURN(std::shared_ptr<model::CausalLM> lm, model::CreateCausalLM(config));
  if (o.int8_base) CLUEDROP_RETURN_IF_ERROR(lm->QuantizeBaseInt8().status());
  if (o.lora_rank > 0) {
    CLUEDROP_RETURN_IF_ERROR(
        EnableLoraTraining(*lm, o.lora_targets, o.lora_rank, 2.0 * static_cast<double>(o.lora_rank))
            .status());
  }
  if (o.split > 1) {
    std::vector<torch::Device> devices(o.split, torch::kCPU);
    CLUEDROP_RETURN_IF_ERROR(
        lm->Place(model::DeviceMap::Even(config.num_layers, devices), torch::kFloat));
  }
  lm->SetActivationCheckpointing(o.checkpoint_every);
  result.weights_bytes = meter.current_bytes() - base;

  FakeCollectives collectives(0, 1, torch::kCPU);
  TrainStepOptions options;
  options.optimizer.learning_rate = 1e-4;
  options.precision = Precision::kFp32;
  options.grad_clip = 1.0;
  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<TrainStep> step,
                            TrainStep::Create(lm, &collectives, options));
  torch::manual_seed(1);
  std::vector<std::vector<int64_t>> sequences(o.batch_size);
  for (auto& s : sequences) {
    torch::Tensor ids = torch::randint(0, config.vocab_size, {o.seq_len}, torch::kLong);
    s.assign(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + o.seq_len);
  }
  CLUEDROP_ASSIGN_OR_RETURN(MicroBatch mb, MakeMicroBatch(sequences, 0));
  result.before_run_bytes = meter.current_bytes() - base;
  meter.ResetPeak();
  if (o.before_steps) o.before_steps();
  for (int i = 0; i < o.steps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    CLUEDROP_ASSIGN_OR_RETURN(StepStats stats, step->Run({mb}));
    if (i > 0 || o.steps == 1) {
      result.seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    result.loss = stats.loss;
  }
  if (o.after_steps) o.after_steps();
  result.peak_bytes = meter.peak_bytes() - base;
  result.after_run_bytes = meter.current_bytes() - base;
  return result;
}

}  // namespace cluedrop::trainer

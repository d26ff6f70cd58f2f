#include "coordinator/memory_check.h"

#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "modelspec/memory_plan.h"
#include "modelspec/model_config.h"

namespace cluedrop::coordinator {

model::TrainMemoryInput TrainerPlanInput(const v1::JobSpec& spec) {
  const v1::TargetModelSpec& target = spec.target_model();
  model::TrainMemoryInput in;
  in.batch_size = spec.training().batch_size();
  in.seq_len = spec.training().max_seq_len();
  in.lora_rank = target.lora().rank();
  in.lora_targets.assign(target.lora().target_modules().begin(),
                         target.lora().target_modules().end());
  in.int8_base = target.quantization() == v1::QUANTIZATION_INT8;
  in.checkpoint_every = spec.training().activation_checkpointing();
  in.layer_split.assign(target.device_map().layer_split().begin(),
                        target.device_map().layer_split().end());
  in.cuda = target.device_map().device().rfind("cuda", 0) == 0 || !in.layer_split.empty();
  in.bf16_autocast = in.cuda && spec.training().precision() != v1::PRECISION_FP32;
  return in;
}

model::ScorerMemoryInput ScorerPlanInput(const v1::JobSpec& spec) {
  const v1::ReferenceModel& large = spec.reference_models().large();
  model::ScorerMemoryInput in;
  in.batch_tokens = spec.reference_models().batch_tokens();
  in.large_dtype_bytes = large.dtype() == v1::DTYPE_FLOAT32 ? 4 : 2;
  in.small_dtype_bytes = spec.reference_models().small().dtype() == v1::DTYPE_FLOAT32 ? 4 : 2;
  in.large_split.assign(large.device_map().layer_split().begin(),
                        large.device_map().layer_split().end());
  in.cuda = large.device_map().device().rfind("cuda", 0) == 0 || !in.large_split.empty();
  return in;
}

int64_t GibBytes(double gib) {
  return static_cast<int64_t>(std::llround(gib * 1024.0 * 1024.0 * 1024.0));
}

std::string MemoryOverflow(const std::vector<model::DeviceMemory>& plan, int64_t capacity,
                           const std::string& device_map_field, bool split,
                           const std::string& hint) {
  if (capacity <= 0) return "";
  for (const model::DeviceMemory& d : plan) {
    if (d.peak <= capacity) continue;
    return absl::StrCat(device_map_field, split ? ".layer_split" : "", ": ", d.device, " needs ",
                        model::FormatBytes(d.peak), ", has ", model::FormatBytes(capacity), " (",
                        hint, ")");
  }
  return "";
}

namespace {

constexpr char kCannotPlan[] = "cannot plan the job's memory: ";

// The config.json of a checkpoint directory (or a config file), read under
// the job's path policy; errors name `memory_field`.
absl::StatusOr<model::ModelConfig> ReadConfig(const std::string& path, const char* field,
                                              const std::string& memory_field,
                                              const PathPolicy& policy) {
  if (absl::Status s = CheckInputFile(field, path, policy); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(memory_field, ": ", kCannotPlan, s.message()));
  }
  StatusOr<model::ModelConfig> config = model::LoadModelConfig(path);
  if (!config.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(memory_field, ": ", kCannotPlan, field, ": ", config.status().message()));
  }
  return *config;
}

std::string ConfigOf(const std::string& checkpoint_dir) {
  return (std::filesystem::path(checkpoint_dir) / "config.json").string();
}

// Scorers: with reference_models.large.device_map.memory_gib.
absl::Status CheckScorerMemory(const v1::JobSpec& spec, const PathPolicy& policy) {
  const v1::ReferenceModel& large = spec.reference_models().large();
  const double gib = large.device_map().memory_gib();
  if (gib <= 0) return absl::OkStatus();
  const std::string field = "reference_models.large.device_map.memory_gib";
  absl::StatusOr<model::ModelConfig> large_config = ReadConfig(
      ConfigOf(large.checkpoint_dir()), "reference_models.large.checkpoint_dir", field, policy);
  if (!large_config.ok()) return large_config.status();
  absl::StatusOr<model::ModelConfig> small_config =
      ReadConfig(ConfigOf(spec.reference_models().small().checkpoint_dir()),
                 "reference_models.small.checkpoint_dir", field, policy);
  if (!small_config.ok()) return small_config.status();
  const model::ScorerMemoryInput in = ScorerPlanInput(spec);
  StatusOr<std::vector<model::DeviceMemory>> plan =
      model::PlanScorerMemory(*large_config, *small_config, in);
  if (!plan.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("reference_models.large.", plan.status().message()));
  }
  const std::string overflow =
      MemoryOverflow(*plan, GibBytes(gib), "reference_models.large.device_map",
                     !in.large_split.empty(), kScorerHint);
  if (!overflow.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(overflow, "; `cluedrop plan` shows the breakdown"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckJobMemory(const v1::JobSpec& spec, const PathPolicy& policy) {
  if (absl::Status s = CheckScorerMemory(spec, policy); !s.ok()) return s;
  return CheckTrainerMemory(spec, policy);
}

absl::Status CheckTrainerMemory(const v1::JobSpec& spec, const PathPolicy& policy) {
  if (!spec.has_target_model()) return absl::OkStatus();
  const v1::TargetModelSpec& target = spec.target_model();
  const double gib = target.device_map().memory_gib();
  if (gib <= 0) return absl::OkStatus();
  const bool from_scratch = target.has_from_scratch_config();
  const std::string path =
      from_scratch ? target.from_scratch_config()
                   : (std::filesystem::path(target.checkpoint_dir()) / "config.json").string();
  const char* field =
      from_scratch ? "target_model.from_scratch_config" : "target_model.checkpoint_dir";
  if (absl::Status s = CheckInputFile(field, path, policy); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "target_model.device_map.memory_gib: cannot plan the job's memory: ", s.message()));
  }
  StatusOr<model::ModelConfig> config = model::LoadModelConfig(path);
  if (!config.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("target_model.device_map.memory_gib: cannot plan the job's memory: ", field,
                     ": ", config.status().message()));
  }
  const model::TrainMemoryInput in = TrainerPlanInput(spec);
  StatusOr<std::vector<model::DeviceMemory>> plan = model::PlanTrainerMemory(*config, in);
  if (!plan.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("target_model.", plan.status().message()));
  }
  const std::string overflow = MemoryOverflow(*plan, GibBytes(gib), "target_model.device_map",
                                              !in.layer_split.empty(), kTrainerHint);
  if (!overflow.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(overflow, "; `cluedrop plan` shows the breakdown"));
  }
  return absl::OkStatus();
}

}  // namespace cluedrop::coordinator

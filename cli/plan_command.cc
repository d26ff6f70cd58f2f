// `cluedrop plan JOB.yaml [--device_memory_gib 80]`: the memory a trainer
// rank of the job needs on each of its devices (workers/model/memory_plan.h),
// read from the target's config.json, and the reference models' weights;
// with a device memory, refuses (exit 2, INVALID_ARGUMENT naming the field to
// change) a job that does not fit.
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/cli.h"
#include "cli/job_spec_file.h"
#include "coordinator/memory_check.h"
#include "jobspec/job_spec_defaults.h"
#include "jobspec/job_spec_validator.h"
#include "modelspec/memory_plan.h"
#include "modelspec/model_config.h"
#include "runtime/flags.h"

namespace cluedrop::cli {
namespace {

int Refuse(const std::string& message) {
  std::cerr << "cluedrop plan: INVALID_ARGUMENT: " << message << std::endl;
  return kExitUsage;
}

std::string ConfigPath(const std::string& dir_or_file) {
  if (std::filesystem::is_directory(dir_or_file)) return dir_or_file + "/config.json";
  return dir_or_file;
}

// One row per device; trainer rows add the training columns.
void PrintRows(std::ostream& out, const std::vector<model::DeviceMemory>& plan, int64_t capacity,
               bool trainer) {
  if (trainer) {
    out << absl::StrFormat("%-8s %6s %11s %11s %11s %11s %13s %13s %10s %11s %s\n", "device",
                           "layers", "weights", "trainable", "gradients", "optimizer",
                           "activations", "(no ckpt)", "workspace", "peak",
                           capacity > 0 ? "of" : "");
  } else {
    out << absl::StrFormat("%-8s %6s %11s %13s %10s %11s %s\n", "device", "layers", "weights",
                           "activations", "workspace", "peak", capacity > 0 ? "of" : "");
  }
  for (const model::DeviceMemory& d : plan) {
    const std::string fits = capacity > 0
                                 ? absl::StrCat(model::FormatBytes(capacity),
                                                d.peak > capacity ? "  DOES NOT FIT" : "  fits")
                                 : std::string();
    if (trainer) {
      out << absl::StrFormat("%-8s %6d %11s %11s %11s %11s %13s %13s %10s %11s %s\n", d.device,
                             d.layers, model::FormatBytes(d.weights),
                             model::FormatBytes(d.trainable), model::FormatBytes(d.gradients),
                             model::FormatBytes(d.optimizer), model::FormatBytes(d.activations),
                             model::FormatBytes(d.activations_without_checkpointing),
                             model::FormatBytes(d.workspace), model::FormatBytes(d.peak), fits);
    } else {
      out << absl::StrFormat("%-8s %6d %11s %13s %10s %11s %s\n", d.device, d.layers,
                             model::FormatBytes(d.weights), model::FormatBytes(d.activations),
                             model::FormatBytes(d.workspace), model::FormatBytes(d.peak), fits);
    }
  }
}

}  // namespace

int RunPlan(const std::vector<std::string>& args) {
  double device_memory_gib = 0;
  std::string target_config, large_config, small_config;
  FlagSet flags("cluedrop plan",
                "prints the memory a scorer and a trainer rank of the job need on each device "
                "(weights, trainable parameters, gradients, optimizer state, activations with "
                "and without checkpointing, workspace, peak; docs/training.md). With a device "
                "memory (--device_memory_gib or the spec's device_map.memory_gib), a job that "
                "does not fit is refused (exit 2) naming the field to change.");
  flags.AddUsageNote("Usage: cluedrop plan JOB.yaml [--device_memory_gib GIB]");
  flags.Add("device_memory_gib", &device_memory_gib,
            "memory of each device, GiB (default: the spec's device_map.memory_gib of the "
            "target and of the large reference model; 0: do not check)");
  flags.Add("target_config", &target_config,
            "config.json of the target (default: the spec's checkpoint_dir; for planning "
            "without the checkpoints, e.g. examples/model-configs/)");
  flags.Add("large_config", &large_config, "config.json of the large reference model");
  flags.Add("small_config", &small_config, "config.json of the small reference model");
  std::string spec_path;
  if (std::optional<int> exit = ParseFlagsOrExit(flags, args, "plan", "JOB.yaml", &spec_path)) {
    return *exit;
  }
  absl::StatusOr<v1::JobSpec> parsed = ParseJobSpecFile(spec_path);
  if (!parsed.ok()) return Refuse(std::string(parsed.status().message()));
  v1::JobSpec spec = *parsed;
  if (absl::Status valid = jobspec::ValidateJobSpec(spec); !valid.ok()) {
    return Refuse(std::string(valid.message()));
  }
  jobspec::ApplyJobSpecDefaults(&spec);
  std::ostream& out = std::cout;

  // Scorers: both reference models, one batch at a time.
  std::vector<StatusOr<model::ModelConfig>> refs;
  for (const auto& [ref, override_path] :
       {std::make_pair(spec.reference_models().large(), large_config),
        std::make_pair(spec.reference_models().small(), small_config)}) {
    refs.push_back(model::LoadModelConfig(override_path.empty() ? ConfigPath(ref.checkpoint_dir())
                                                                : override_path));
  }
  const v1::ReferenceModel& large_ref = spec.reference_models().large();
  if (!refs[0].ok() || !refs[1].ok()) {
    out << "Scorer: cannot plan (" << (refs[0].ok() ? refs[1].status() : refs[0].status())
        << "); give --large_config / --small_config\n";
  } else {
    const model::ScorerMemoryInput scorer_in = coordinator::ScorerPlanInput(spec);
    StatusOr<std::vector<model::DeviceMemory>> scorer_plan =
        model::PlanScorerMemory(*refs[0], *refs[1], scorer_in);
    if (!scorer_plan.ok()) {
      return Refuse("reference_models.large." + std::string(scorer_plan.status().message()));
    }
    out << "Scorer (each scorer worker): large " << refs[0]->num_layers << " layers, "
        << refs[0]->NumParameters() << " parameters; small " << refs[1]->num_layers << " layers, "
        << refs[1]->NumParameters() << " parameters; batch_tokens " << scorer_in.batch_tokens
        << "\n";
    const double gib =
        device_memory_gib > 0 ? device_memory_gib : large_ref.device_map().memory_gib();
    const int64_t scorer_capacity = coordinator::GibBytes(gib);
    PrintRows(out, *scorer_plan, scorer_capacity, /*trainer=*/false);
    const std::string scorer_refusal = coordinator::MemoryOverflow(
        *scorer_plan, scorer_capacity, "reference_models.large.device_map",
        !scorer_in.large_split.empty(), coordinator::kScorerHint);
    if (!scorer_refusal.empty()) return Refuse(scorer_refusal);
  }
  if (!spec.has_target_model()) {
    out << "No target model: a score-only job.\n";
    return kExitOk;
  }
  const v1::TargetModelSpec& target = spec.target_model();
  const std::string source =
      target.has_checkpoint_dir() ? target.checkpoint_dir() : target.from_scratch_config();
  StatusOr<model::ModelConfig> config =
      model::LoadModelConfig(target_config.empty() ? ConfigPath(source) : target_config);
  if (!config.ok()) {
    return Refuse(absl::StrCat(target.has_checkpoint_dir() ? "target_model.checkpoint_dir"
                                                           : "target_model.from_scratch_config",
                               ": ", config.status().ToString()));
  }
  const model::TrainMemoryInput in = coordinator::TrainerPlanInput(spec);
  StatusOr<std::vector<model::DeviceMemory>> plan = model::PlanTrainerMemory(*config, in);
  if (!plan.ok()) return Refuse("target_model." + std::string(plan.status().message()));

  const int64_t seq = in.seq_len > 0 ? in.seq_len : config->max_position_embeddings;
  out << "\nTarget model (each trainer rank): " << config->num_layers << " layers, "
      << config->NumParameters() << " parameters; "
      << (in.lora_rank > 0 ? absl::StrCat("LoRA r", in.lora_rank) : std::string("full fine-tuning"))
      << (in.int8_base ? " on an int8 base" : "") << ", batch " << in.batch_size << " x " << seq
      << " tokens, activation checkpointing "
      << (in.checkpoint_every > 0 ? absl::StrCat("every ", in.checkpoint_every)
                                  : std::string("off"))
      << ", activations " << (in.bf16_autocast ? "bf16" : "float32") << "\n";
  if (device_memory_gib <= 0) device_memory_gib = target.device_map().memory_gib();
  const int64_t capacity = coordinator::GibBytes(device_memory_gib);
  PrintRows(out, *plan, capacity, /*trainer=*/true);
  const std::string refusal =
      coordinator::MemoryOverflow(*plan, capacity, "target_model.device_map",
                                  !in.layer_split.empty(), coordinator::kTrainerHint);
  if (!refusal.empty()) return Refuse(refusal);
  return kExitOk;
}

}  // namespace cluedrop::cli

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

int64_t DtypeBytes(v1::DType dtype) { return dtype == v1::DTYPE_FLOAT32 ? 4 : 2; }

}  // namespace

int RunPlan(const std::vector<std::string>& args) {
  double device_memory_gib = 0;
  std::string target_config, large_config, small_config;
  FlagSet flags("cluedrop plan",
                "prints the memory a trainer rank of the job needs on each device (weights, "
                "trainable parameters, gradients, optimizer state, activations with and without "
                "checkpointing, workspace, peak; docs/training.md) and the reference models' "
                "weights. With --device_memory_gib, a job that does not fit is refused "
                "(exit 2) naming the field to change.");
  flags.AddUsageNote("Usage: cluedrop plan JOB.yaml [--device_memory_gib GIB]");
  flags.Add("device_memory_gib", &device_memory_gib,
            "memory of each of the rank's devices, GiB (default: the spec's "
            "target_model.device_map.memory_gib; 0: do not check)");
  flags.Add("target_config", &target_config,
            "config.json of the target (default: the spec's checkpoint_dir; for planning "
            "without the checkpoints, e.g. examples/model-configs/)");
  flags.Add("large_config", &large_config, "config.json of the large reference model");
  flags.Add("small_config", &small_config, "config.json of the small reference model");
  absl::StatusOr<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional.ok()) {
    std::cerr << "cluedrop: " << positional.status().message() << std::endl;
    return kExitUsage;
  }
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return kExitOk;
  }
  if (positional->size() != 1) {
    std::cerr << "cluedrop plan: expected JOB.yaml; see --help" << std::endl;
    return kExitUsage;
  }
  absl::StatusOr<v1::JobSpec> parsed = ParseJobSpecFile((*positional)[0]);
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
    model::ScorerMemoryInput scorer_in;
    scorer_in.batch_tokens = spec.reference_models().batch_tokens();
    scorer_in.large_dtype_bytes = DtypeBytes(large_ref.dtype());
    scorer_in.small_dtype_bytes = DtypeBytes(spec.reference_models().small().dtype());
    scorer_in.large_split.assign(large_ref.device_map().layer_split().begin(),
                                 large_ref.device_map().layer_split().end());
    scorer_in.cuda =
        large_ref.device_map().device().rfind("cuda", 0) == 0 || !scorer_in.large_split.empty();
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
    const auto scorer_capacity = static_cast<int64_t>(std::llround(gib * 1024.0 * 1024.0 * 1024.0));
    out << absl::StrFormat("%-8s %6s %11s %13s %10s %11s %s\n", "device", "layers", "weights",
                           "activations", "workspace", "peak", scorer_capacity > 0 ? "of" : "");
    std::string scorer_refusal;
    for (const model::DeviceMemory& d : *scorer_plan) {
      out << absl::StrFormat(
          "%-8s %6d %11s %13s %10s %11s %s\n", d.device, d.layers, model::FormatBytes(d.weights),
          model::FormatBytes(d.activations), model::FormatBytes(d.workspace),
          model::FormatBytes(d.peak),
          scorer_capacity > 0 ? absl::StrCat(model::FormatBytes(scorer_capacity),
                                             d.peak > scorer_capacity ? "  DOES NOT FIT" : "  fits")
                              : std::string());
      if (scorer_capacity > 0 && d.peak > scorer_capacity && scorer_refusal.empty()) {
        scorer_refusal = absl::StrCat(
            scorer_in.large_split.empty() ? "reference_models.large.device_map"
                                          : "reference_models.large.device_map.layer_split",
            ": ", d.device, " needs ", model::FormatBytes(d.peak), ", has ",
            model::FormatBytes(scorer_capacity),
            " (split the large model over more devices or lower reference_models.batch_tokens)");
      }
    }
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
  const int64_t capacity =
      static_cast<int64_t>(std::llround(device_memory_gib * 1024.0 * 1024.0 * 1024.0));
  out << absl::StrFormat("%-8s %6s %11s %11s %11s %11s %13s %13s %10s %11s %s\n", "device",
                         "layers", "weights", "trainable", "gradients", "optimizer", "activations",
                         "(no ckpt)", "workspace", "peak", capacity > 0 ? "of" : "");
  std::string refusal;
  for (const model::DeviceMemory& d : *plan) {
    out << absl::StrFormat(
        "%-8s %6d %11s %11s %11s %11s %13s %13s %10s %11s %s\n", d.device, d.layers,
        model::FormatBytes(d.weights), model::FormatBytes(d.trainable),
        model::FormatBytes(d.gradients), model::FormatBytes(d.optimizer),
        model::FormatBytes(d.activations), model::FormatBytes(d.activations_without_checkpointing),
        model::FormatBytes(d.workspace), model::FormatBytes(d.peak),
        capacity > 0 ? absl::StrCat(model::FormatBytes(capacity),
                                    d.peak > capacity ? "  DOES NOT FIT" : "  fits")
                     : std::string());
    if (capacity > 0 && d.peak > capacity && refusal.empty()) {
      refusal = absl::StrCat(in.layer_split.empty() ? "target_model.device_map"
                                                    : "target_model.device_map.layer_split",
                             ": ", d.device, " needs ", model::FormatBytes(d.peak), ", has ",
                             model::FormatBytes(capacity),
                             in.layer_split.empty()
                                 ? " (split the layers over more devices, quantize the base to "
                                   "int8, checkpoint activations or lower training.batch_size)"
                                 : "");
    }
  }
  if (!refusal.empty()) return Refuse(refusal);
  return kExitOk;
}

}  // namespace cluedrop::cli

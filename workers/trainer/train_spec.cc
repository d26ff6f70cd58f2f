#include "workers/trainer/train_spec.h"

#include <string>

#include "absl/status/status.h"
#include "jobspec/augment_mode_proto.h"
#include "jobspec/job_spec_validator.h"
#include "workers/trainer/qa_fewshot.h"
#include "workers/trainer/qa_prompt_table.h"
#include "workers/trainer/qa_prompts.h"

namespace cluedrop::trainer {
namespace {

// `a` has its defaults applied: every field is read as it is.
AugmentationOptions AugmentationFromSpec(const v1::AugmentationSpec& a) {
  AugmentationOptions o;
  o.mode = jobspec::AugmentModeFromProto(a.mode());
  o.alpha = a.alpha();
  o.beta = a.beta();
  o.copies = a.copies();
  o.keep_original = a.keep_original();
  o.form = a.form() == v1::DROP_FORM_DELETE ? DropForm::kDelete : DropForm::kBlank;
  o.resample = a.resample() == v1::RESAMPLE_FIXED ? Resample::kFixed : Resample::kEpoch;
  o.protected_tokens.assign(a.protected_tokens().begin(), a.protected_tokens().end());
  o.seed = a.seed();
  return o;
}

}  // namespace

absl::StatusOr<TrainRunOptions> TrainRunOptionsFromSpec(const v1::JobSpec& submitted) {
  // The coordinator stores specs with their defaults applied; a spec file
  // given to `cluedrop train --local` gets the very same ones here, so both
  // paths train on identical values (float alpha included).
  v1::JobSpec spec = submitted;
  jobspec::ApplyJobSpecDefaults(&spec);
  if (!spec.has_target_model()) {
    return absl::InvalidArgumentError("target_model: required for training");
  }
  const v1::TargetModelSpec& m = spec.target_model();
  TrainRunOptions o;
  o.model_dir = m.checkpoint_dir();
  o.from_scratch_config = m.from_scratch_config();
  o.tokenizer_dir = m.tokenizer_dir();
  o.lora_rank = m.lora().rank();
  o.lora_alpha = m.lora().alpha();
  o.lora_dropout = m.lora().dropout();
  o.lora_targets.assign(m.lora().target_modules().begin(), m.lora().target_modules().end());
  o.quantize_int8 = m.quantization() == v1::QUANTIZATION_INT8;
  o.layer_split.assign(m.device_map().layer_split().begin(), m.device_map().layer_split().end());

  const v1::TrainingSpec& t = spec.training();
  if (t.epochs() > 0) o.epochs = t.epochs();
  if (t.batch_size() > 0) o.batch_size = t.batch_size();
  if (t.learning_rate() > 0) o.learning_rate = t.learning_rate();
  o.schedule = t.schedule() == v1::LR_SCHEDULE_LINEAR   ? TrainSchedule::kLinear
               : t.schedule() == v1::LR_SCHEDULE_COSINE ? TrainSchedule::kCosine
                                                        : TrainSchedule::kConstant;
  o.warmup_steps = t.warmup_steps();
  o.grad_clip = t.grad_clip();
  o.grad_accumulation = t.grad_accumulation() > 0 ? t.grad_accumulation() : 1;
  o.precision = t.precision() == v1::PRECISION_FP32   ? TrainPrecision::kFp32
                : t.precision() == v1::PRECISION_BF16 ? TrainPrecision::kBf16
                                                      : TrainPrecision::kAuto;
  o.checkpoint_interval_steps = t.checkpoint_interval_steps();
  o.weight_decay = t.weight_decay();
  o.max_seq_len = t.max_seq_len();
  o.shuffle_buffer = t.shuffle_buffer();
  o.activation_checkpointing = t.activation_checkpointing();
  o.seed = t.seed();

  o.augmentation = AugmentationFromSpec(spec.augmentation());
  if (!spec.output_dir().empty()) {
    o.output_dir = spec.output_dir();
    o.checkpoint_root = spec.output_dir() + "/checkpoints";
  }
  if (spec.has_evaluation()) {
    const v1::EvaluationSpec& e = spec.evaluation();
    o.eval.prompts.shots = e.shots();
    o.eval.prompts.seed = t.seed();
    o.eval.max_new_tokens = e.max_new_tokens();
  }
  Status valid = ValidateTrainRunOptions(o);
  if (!valid.ok()) {
    std::string message = valid.message();
    if (message.rfind("lora.", 0) == 0 || message.rfind("target model", 0) == 0 ||
        message.rfind("tokenizer_dir", 0) == 0 || message.rfind("quantization", 0) == 0 ||
        message.rfind("device_map", 0) == 0) {
      message = "target_model." + message;
    } else if (message.rfind("augmentation", 0) != 0) {
      message = "training." + message;
    }
    return absl::InvalidArgumentError(message);
  }
  return o;
}

StatusOr<std::vector<QaQuestion>> EvaluationQuestionsFromSpec(const v1::JobSpec& spec,
                                                              const QaEvalOptions& eval) {
  if (!spec.has_evaluation() || spec.evaluation().prompt_table().empty()) {
    return std::vector<QaQuestion>();
  }
  CLUEDROP_ASSIGN_OR_RETURN(QaPromptTable table,
                            ReadQaPromptTable(spec.evaluation().prompt_table()));
  std::vector<corpus::QaItem> pool;
  if (!spec.evaluation().fewshot_pool().empty()) {
    CLUEDROP_ASSIGN_OR_RETURN(pool, ReadQaItems(spec.evaluation().fewshot_pool()));
  }
  std::vector<corpus::QaItem> items;
  for (const std::string& path : spec.corpus().paths()) {
    CLUEDROP_ASSIGN_OR_RETURN(std::vector<corpus::QaItem> more, ReadQaItems(path));
    items.insert(items.end(), more.begin(), more.end());
  }
  return BuildQaQuestions(table, QaFewShotPool(pool), items, eval.prompts);
}

}  // namespace cluedrop::trainer

#include "workers/trainer/train_run_options.h"

namespace cluedrop::trainer {

Status ValidateTrainRunOptions(const TrainRunOptions& o) {
  if (o.model_dir.empty() == o.from_scratch_config.empty()) {
    return InvalidArgumentError("target model: exactly one of model_dir and from_scratch_config");
  }
  if (!o.from_scratch_config.empty() && o.tokenizer_dir.empty()) {
    return InvalidArgumentError("tokenizer_dir: required with from_scratch_config");
  }
  if (o.lora_rank < 0) return InvalidArgumentError("lora.rank: must be >= 0");
  if (o.lora_rank > 0 && !(o.lora_alpha > 0))
    return InvalidArgumentError("lora.alpha: must be > 0");
  if (o.lora_dropout != 0) {
    return InvalidArgumentError("lora.dropout: must be 0 (adapter dropout is not implemented)");
  }
  if (o.quantize_int8 && o.lora_rank == 0) {
    return InvalidArgumentError("quantization: int8 needs lora.rank > 0 (the int8 base is frozen)");
  }
  for (size_t k = 0; k < o.layer_split.size(); ++k) {
    if (o.layer_split[k] < 1) {
      return InvalidArgumentError("device_map.layer_split[" + std::to_string(k) +
                                  "]: must be > 0, got " + std::to_string(o.layer_split[k]));
    }
  }
  if (o.activation_checkpointing < 0) {
    return InvalidArgumentError("activation_checkpointing: must be >= 0");
  }
  if (o.batch_size < 1) return InvalidArgumentError("batch_size: must be >= 1");
  if (o.grad_accumulation < 1) return InvalidArgumentError("grad_accumulation: must be >= 1");
  if (o.epochs < 1) return InvalidArgumentError("epochs: must be >= 1");
  if (o.max_seq_len < 0) return InvalidArgumentError("max_seq_len: must be >= 0");
  if (o.shuffle_buffer < 0) return InvalidArgumentError("shuffle_buffer: must be >= 0");
  if (o.checkpoint_interval_steps < 0) {
    return InvalidArgumentError("checkpoint_interval_steps: must be >= 0");
  }
  if (o.total_steps < 0) return InvalidArgumentError("total_steps: must be >= 0");
  CLUEDROP_RETURN_IF_ERROR(ValidateAugmentationOptions(o.augmentation).Annotated("augmentation"));
  return OkStatus();
}

}  // namespace cluedrop::trainer

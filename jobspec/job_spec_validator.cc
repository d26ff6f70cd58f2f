#include "jobspec/job_spec_validator.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace cluedrop::jobspec {
namespace {

// Collects "<path>: <rule>" messages in the order they are found.
class Violations {
 public:
  void Add(absl::string_view path, absl::string_view rule) {
    messages_.push_back(absl::StrCat(path, ": ", rule));
  }
  absl::Status ToStatus() const {
    if (messages_.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrJoin(messages_, "; "));
  }

 private:
  std::vector<std::string> messages_;
};

// `s` C-escaped and quoted, cut to 64 bytes so that huge inputs stay readable.
std::string Quote(absl::string_view s) {
  constexpr size_t kMax = 64;
  if (s.size() <= kMax) return absl::StrCat("\"", absl::CHexEscape(s), "\"");
  return absl::StrCat("\"", absl::CHexEscape(s.substr(0, kMax)), "\"...");
}

void CheckEnum(bool valid, int value, absl::string_view path, Violations* v) {
  if (!valid) v->Add(path, absl::StrCat("unknown value ", value));
}

bool IsDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "", "cpu", "cuda" or "cuda:N" (N decimal, no leading zeros, at most 4 digits).
bool ValidDevice(absl::string_view d) {
  if (d.empty() || d == "cpu" || d == "cuda") return true;
  if (d.substr(0, 5) != "cuda:") return false;
  const absl::string_view n = d.substr(5);
  return IsDigits(n) && n.size() <= 4 && (n.size() == 1 || n[0] != '0');
}

absl::string_view WithoutTrailingSlashes(absl::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path;
}

bool ValidLabelKey(absl::string_view key) {
  if (key.empty() || key.size() > 63) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
}

// A file or directory path of the spec: no NUL (it would cut the path short
// for the OS), at most kMaxPathBytes. Empty paths are each field's business.
void CheckPath(absl::string_view p, absl::string_view path, Violations* v) {
  if (p.find('\0') != absl::string_view::npos) {
    v->Add(path, absl::StrCat("must not contain a NUL byte, got ", Quote(p)));
  } else if (p.size() > kMaxPathBytes) {
    v->Add(path, absl::StrCat("must be at most ", kMaxPathBytes, " bytes, got ", p.size()));
  }
}

void CheckCorpus(const v1::CorpusSpec& c, Violations* v) {
  if (c.paths().empty()) v->Add("corpus.paths", "at least one path required");
  if (c.paths_size() > kMaxCorpusPaths) {
    v->Add("corpus.paths",
           absl::StrCat("at most ", kMaxCorpusPaths, " paths, got ", c.paths_size()));
    return;
  }
  for (int i = 0; i < c.paths_size(); ++i) {
    if (c.paths(i).empty()) v->Add(absl::StrCat("corpus.paths[", i, "]"), "must not be empty");
    CheckPath(c.paths(i), absl::StrCat("corpus.paths[", i, "]"), v);
  }
  CheckEnum(v1::CorpusFormat_IsValid(c.format()), c.format(), "corpus.format", v);
}

void CheckDeviceMap(const v1::DeviceMap& map, const std::string& path, Violations* v) {
  if (!(map.memory_gib() >= 0 && std::isfinite(map.memory_gib()))) {
    v->Add(path + ".device_map.memory_gib",
           absl::StrCat("must be finite and >= 0, got ", map.memory_gib()));
  }
  if (!ValidDevice(map.device())) {
    v->Add(path + ".device_map.device",
           absl::StrCat("must be \"cpu\", \"cuda\" or \"cuda:N\", got ", Quote(map.device())));
  }
  if (map.layer_split_size() > 0 && map.device() == "cpu") {
    v->Add(path + ".device_map.layer_split", "must be empty when device is \"cpu\"");
  }
  for (int k = 0; k < map.layer_split_size(); ++k) {
    if (map.layer_split(k) == 0) {
      v->Add(absl::StrCat(path, ".device_map.layer_split[", k, "]"), "must be > 0, got 0");
    }
  }
}

void CheckReferenceModel(const v1::ReferenceModel& m, const std::string& path, Violations* v) {
  if (m.checkpoint_dir().empty()) v->Add(path + ".checkpoint_dir", "required");
  CheckEnum(v1::DType_IsValid(m.dtype()), m.dtype(), path + ".dtype", v);
  CheckDeviceMap(m.device_map(), path, v);
}

void CheckReferenceModels(const v1::ReferenceModelsSpec& r, Violations* v) {
  CheckReferenceModel(r.large(), "reference_models.large", v);
  CheckReferenceModel(r.small(), "reference_models.small", v);
  if (!r.large().checkpoint_dir().empty() &&
      WithoutTrailingSlashes(r.large().checkpoint_dir()) ==
          WithoutTrailingSlashes(r.small().checkpoint_dir())) {
    v->Add("reference_models.small.checkpoint_dir",
           "must differ from reference_models.large.checkpoint_dir");
  }
  absl::flat_hash_set<uint32_t> layers;
  for (int i = 0; i < r.layers_size(); ++i) {
    if (!layers.insert(r.layers(i)).second) {
      v->Add(absl::StrCat("reference_models.layers[", i, "]"),
             absl::StrCat("duplicate layer ", r.layers(i)));
    }
  }
  if (r.batch_tokens() > kMaxBatchTokens) {
    v->Add("reference_models.batch_tokens",
           absl::StrCat("must be at most ", kMaxBatchTokens, ", got ", r.batch_tokens()));
  }
}

void CheckTargetModel(const v1::JobSpec& spec, Violations* v) {
  if (!spec.has_target_model()) {
    if (spec.has_training()) v->Add("target_model", "required when training is set");
    if (spec.has_evaluation()) v->Add("target_model", "required when evaluation is set");
    return;
  }
  const v1::TargetModelSpec& t = spec.target_model();
  switch (t.source_case()) {
    case v1::TargetModelSpec::SOURCE_NOT_SET:
      v->Add("target_model", "checkpoint_dir or from_scratch_config required");
      break;
    case v1::TargetModelSpec::kCheckpointDir:
      if (t.checkpoint_dir().empty()) v->Add("target_model.checkpoint_dir", "must not be empty");
      break;
    case v1::TargetModelSpec::kFromScratchConfig:
      if (t.from_scratch_config().empty()) {
        v->Add("target_model.from_scratch_config", "must not be empty");
      }
      if (t.tokenizer_dir().empty()) {
        v->Add("target_model.tokenizer_dir", "required with from_scratch_config");
      }
      break;
  }
  const v1::LoraSpec& lora = t.lora();
  if (!std::isfinite(lora.alpha()) || (lora.rank() > 0 && lora.alpha() <= 0)) {
    v->Add("target_model.lora.alpha",
           absl::StrCat("must be finite and > 0 when rank > 0, got ", lora.alpha()));
  }
  if (!(lora.dropout() >= 0 && lora.dropout() < 1)) {
    v->Add("target_model.lora.dropout", absl::StrCat("must be in [0, 1), got ", lora.dropout()));
  }
  for (int i = 0; i < lora.target_modules_size(); ++i) {
    if (lora.target_modules(i).empty()) {
      v->Add(absl::StrCat("target_model.lora.target_modules[", i, "]"), "must not be empty");
    }
  }
  CheckEnum(v1::DType_IsValid(t.dtype()), t.dtype(), "target_model.dtype", v);
  CheckDeviceMap(t.device_map(), "target_model", v);
  CheckEnum(v1::Quantization_IsValid(t.quantization()), t.quantization(),
            "target_model.quantization", v);
  if (t.quantization() == v1::QUANTIZATION_INT8 && lora.rank() == 0) {
    v->Add("target_model.quantization",
           "int8 needs a LoRA adapter to train (target_model.lora.rank > 0): the int8 base is "
           "frozen");
  }
}

void CheckAugmentation(const v1::AugmentationSpec& a, Violations* v) {
  CheckEnum(v1::AugmentationMode_IsValid(a.mode()), a.mode(), "augmentation.mode", v);
  if (a.has_alpha() && !(a.alpha() >= 0 && a.alpha() <= 1)) {
    v->Add("augmentation.alpha", absl::StrCat("must be in [0, 1], got ", a.alpha()));
  }
  if (a.has_beta() && !(a.beta() >= 0 && std::isfinite(a.beta()))) {
    v->Add("augmentation.beta", absl::StrCat("must be finite and >= 0, got ", a.beta()));
  }
  if (a.has_copies() && (a.copies() < 1 || a.copies() > kMaxCopies)) {
    v->Add("augmentation.copies",
           absl::StrCat("must be in [1, ", kMaxCopies, "], got ", a.copies()));
  }
  CheckEnum(v1::DropForm_IsValid(a.form()), a.form(), "augmentation.form", v);
  CheckEnum(v1::Resample_IsValid(a.resample()), a.resample(), "augmentation.resample", v);
}

// `value` in [low, high], else "<path>: must be in [low, high], got value".
void CheckRange(uint64_t value, uint64_t low, uint64_t high, absl::string_view path,
                Violations* v) {
  if (value < low || value > high) {
    v->Add(path, absl::StrCat("must be in [", low, ", ", high, "], got ", value));
  }
}

void CheckTraining(const v1::TrainingSpec& t, Violations* v) {
  CheckRange(t.epochs(), 1, kMaxEpochs, "training.epochs", v);
  CheckRange(t.batch_size(), 1, kMaxBatchSize, "training.batch_size", v);
  CheckRange(t.grad_accumulation(), 0, kMaxGradAccumulation, "training.grad_accumulation", v);
  CheckRange(t.max_seq_len(), 0, kMaxSeqLen, "training.max_seq_len", v);
  CheckRange(t.warmup_steps(), 0, kMaxWarmupSteps, "training.warmup_steps", v);
  if (!(t.learning_rate() > 0 && std::isfinite(t.learning_rate()))) {
    v->Add("training.learning_rate",
           absl::StrCat("must be finite and > 0, got ", t.learning_rate()));
  }
  CheckEnum(v1::LrSchedule_IsValid(t.schedule()), t.schedule(), "training.schedule", v);
  if (!(t.grad_clip() >= 0 && std::isfinite(t.grad_clip()))) {
    v->Add("training.grad_clip", absl::StrCat("must be finite and >= 0, got ", t.grad_clip()));
  }
  CheckEnum(v1::Precision_IsValid(t.precision()), t.precision(), "training.precision", v);
  if (t.world_size() > kMaxWorldSize) {
    v->Add("training.world_size",
           absl::StrCat("must be in [1, ", kMaxWorldSize, "], got ", t.world_size()));
  }
  if (!(t.weight_decay() >= 0 && std::isfinite(t.weight_decay()))) {
    v->Add("training.weight_decay",
           absl::StrCat("must be finite and >= 0, got ", t.weight_decay()));
  }
  if (t.activation_checkpointing() > kMaxCheckpointInterval) {
    v->Add("training.activation_checkpointing",
           absl::StrCat("must be <= ", kMaxCheckpointInterval,
                        " (0: off, k: every k-th layer), got ", t.activation_checkpointing()));
  }
  if (t.shuffle_buffer() > kMaxShuffleBuffer) {
    v->Add("training.shuffle_buffer",
           absl::StrCat("must be <= ", kMaxShuffleBuffer, ", got ", t.shuffle_buffer()));
  }
}

void CheckEvaluation(const v1::EvaluationSpec& e, Violations* v) {
  if (e.prompt_table().empty())
    v->Add("evaluation.prompt_table", "required when evaluation is set");
  if (e.has_shots() && e.shots() > kMaxShots) {
    v->Add("evaluation.shots", absl::StrCat("must be at most ", kMaxShots, ", got ", e.shots()));
  }
  if (e.has_max_new_tokens() &&
      (e.max_new_tokens() < 1 || e.max_new_tokens() > kMaxNewTokensLimit)) {
    v->Add("evaluation.max_new_tokens",
           absl::StrCat("must be in [1, ", kMaxNewTokensLimit, "], got ", e.max_new_tokens()));
  }
}

void CheckLabels(const v1::JobSpec& spec, Violations* v) {
  if (spec.labels_size() > static_cast<int>(kMaxLabels)) {
    v->Add("labels", absl::StrCat("at most ", kMaxLabels, " labels, got ", spec.labels_size()));
    return;
  }
  // Map order is unspecified: report in key order.
  std::vector<std::string> keys;
  for (const auto& [key, value] : spec.labels()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  for (const std::string& key : keys) {
    const std::string path = absl::StrCat("labels[", Quote(key), "]");
    if (!ValidLabelKey(key)) v->Add(path, "key must match [a-z0-9_.-]{1,63}");
    const size_t size = spec.labels().at(key).size();
    if (size > kMaxLabelValueBytes) {
      v->Add(path,
             absl::StrCat("value must be at most ", kMaxLabelValueBytes, " bytes, got ", size));
    }
  }
}

}  // namespace

absl::Status ValidateJobSpec(const v1::JobSpec& spec, const ValidateOptions& options) {
  Violations v;
  if (spec.name().size() > kMaxNameBytes) {
    v.Add("name",
          absl::StrCat("must be at most ", kMaxNameBytes, " bytes, got ", spec.name().size()));
  }
  CheckCorpus(spec.corpus(), &v);
  const v1::ReferenceModelsSpec& r = spec.reference_models();
  if (options.require_reference_models || !r.large().checkpoint_dir().empty() ||
      !r.small().checkpoint_dir().empty()) {
    CheckReferenceModels(r, &v);
  }
  CheckTargetModel(spec, &v);
  CheckAugmentation(spec.augmentation(), &v);
  if (spec.has_training()) CheckTraining(spec.training(), &v);
  if (spec.has_evaluation()) CheckEvaluation(spec.evaluation(), &v);
  if (spec.has_target_model() && spec.output_dir().empty()) {
    v.Add("output_dir", "required when target_model is set");
  }
  CheckPath(spec.output_dir(), "output_dir", &v);
  if (!spec.output_dir().empty() && WithoutTrailingSlashes(spec.output_dir()) == "/") {
    v.Add("output_dir", "must not be the root directory");
  }
  for (const auto& [path, value] :
       {std::pair<const char*, const std::string*>{"reference_models.large.checkpoint_dir",
                                                   &r.large().checkpoint_dir()},
        {"reference_models.small.checkpoint_dir", &r.small().checkpoint_dir()},
        {"target_model.checkpoint_dir", &spec.target_model().checkpoint_dir()},
        {"target_model.from_scratch_config", &spec.target_model().from_scratch_config()},
        {"target_model.tokenizer_dir", &spec.target_model().tokenizer_dir()},
        {"evaluation.prompt_table", &spec.evaluation().prompt_table()},
        {"evaluation.fewshot_pool", &spec.evaluation().fewshot_pool()}}) {
    CheckPath(*value, path, &v);
  }
  CheckLabels(spec, &v);
  return v.ToStatus();
}

void ApplyJobSpecDefaults(v1::JobSpec* spec) {
  v1::CorpusSpec* corpus = spec->mutable_corpus();
  if (corpus->shard_size_docs() == 0) corpus->set_shard_size_docs(kDefaultShardSizeDocs);
  if (corpus->max_document_bytes() == 0) corpus->set_max_document_bytes(kDefaultMaxDocumentBytes);

  v1::ReferenceModelsSpec* ref = spec->mutable_reference_models();
  if (!ref->has_include_self()) ref->set_include_self(true);
  if (ref->batch_tokens() == 0) ref->set_batch_tokens(kDefaultBatchTokens);

  if (spec->has_target_model() && spec->target_model().has_lora()) {
    v1::LoraSpec* lora = spec->mutable_target_model()->mutable_lora();
    if (lora->rank() > 0 && lora->target_modules().empty()) {
      lora->add_target_modules("q_proj");
      lora->add_target_modules("v_proj");
    }
  }

  v1::AugmentationSpec* aug = spec->mutable_augmentation();
  if (aug->mode() == v1::AUGMENTATION_MODE_UNSPECIFIED)
    aug->set_mode(v1::AUGMENTATION_MODE_CONTRAST);
  if (!aug->has_alpha()) aug->set_alpha(static_cast<float>(kDefaultAlpha));
  if (!aug->has_beta()) aug->set_beta(static_cast<float>(kDefaultBeta));
  if (!aug->has_copies()) aug->set_copies(kDefaultCopies);
  if (!aug->has_keep_original()) aug->set_keep_original(true);
  if (aug->form() == v1::DROP_FORM_UNSPECIFIED) aug->set_form(v1::DROP_FORM_BLANK);
  if (aug->resample() == v1::RESAMPLE_UNSPECIFIED) aug->set_resample(v1::RESAMPLE_EPOCH);
  if (aug->protected_tokens().empty()) {
    aug->add_protected_tokens(",");
    aug->add_protected_tokens(".");
  }

  if (spec->has_training()) {
    v1::TrainingSpec* t = spec->mutable_training();
    if (t->world_size() == 0) t->set_world_size(1);
    if (t->grad_accumulation() == 0) t->set_grad_accumulation(1);
  }
  if (spec->has_evaluation()) {
    v1::EvaluationSpec* e = spec->mutable_evaluation();
    if (!e->has_shots()) e->set_shots(kDefaultShots);
    if (!e->has_max_new_tokens()) e->set_max_new_tokens(kDefaultMaxNewTokens);
  }
}

}  // namespace cluedrop::jobspec

#include "modelspec/model_config.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/file.h"

namespace cluedrop::model {
namespace {

using nlohmann::json;

// Reads typed fields of one JSON object and remembers the first error, so a
// parser reads as a list of fields and reports the field that failed.
class FieldReader {
 public:
  FieldReader(const json& object, std::string display_name)
      : object_(object), display_name_(std::move(display_name)) {}

  // Returns the field when present and not null.
  const json* Find(const char* key) const {
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  int64_t Int(const char* key, std::optional<int64_t> fallback) {
    const json* v = Find(key);
    if (v == nullptr) {
      if (!fallback) Fail(key, "is required");
      return fallback.value_or(0);
    }
    if (!v->is_number_integer()) {
      Fail(key, "must be an integer, got " + v->dump());
      return 0;
    }
    return v->get<int64_t>();
  }

  std::optional<int64_t> OptionalInt(const char* key) {
    if (Find(key) == nullptr) return std::nullopt;
    return Int(key, 0);
  }

  double Double(const char* key, double fallback) {
    const json* v = Find(key);
    if (v == nullptr) return fallback;
    if (!v->is_number()) {
      Fail(key, "must be a number, got " + v->dump());
      return fallback;
    }
    return v->get<double>();
  }

  std::optional<double> OptionalDouble(const char* key) {
    if (Find(key) == nullptr) return std::nullopt;
    return Double(key, 0.0);
  }

  bool Bool(const char* key, bool fallback) {
    const json* v = Find(key);
    if (v == nullptr) return fallback;
    if (!v->is_boolean()) {
      Fail(key, "must be true or false, got " + v->dump());
      return fallback;
    }
    return v->get<bool>();
  }

  std::string String(const char* key, const std::string& fallback) {
    const json* v = Find(key);
    if (v == nullptr) return fallback;
    if (!v->is_string()) {
      Fail(key, "must be a string, got " + v->dump());
      return fallback;
    }
    return v->get<std::string>();
  }

  void Fail(const std::string& key, const std::string& what) {
    if (status_.ok()) status_ = InvalidArgumentError(display_name_ + ": " + key + ": " + what);
  }

  const Status& status() const { return status_; }

 private:
  const json& object_;
  std::string display_name_;
  Status status_;
};

std::vector<int64_t> IdList(FieldReader& reader, const char* key) {
  const json* v = reader.Find(key);
  if (v == nullptr) return {};
  if (v->is_number_integer()) return {v->get<int64_t>()};
  std::vector<int64_t> ids;
  if (v->is_array()) {
    for (const json& item : *v) {
      if (!item.is_number_integer()) {
        reader.Fail(key, "must be an integer or a list of integers, got " + v->dump());
        return {};
      }
      ids.push_back(item.get<int64_t>());
    }
    return ids;
  }
  reader.Fail(key, "must be an integer or a list of integers, got " + v->dump());
  return {};
}

Status ParseRopeScaling(FieldReader& reader, const std::string& display_name, RopeScaling* out) {
  const json* v = reader.Find("rope_scaling");
  if (v == nullptr) return OkStatus();
  if (!v->is_object())
    return InvalidArgumentError(display_name + ": rope_scaling: must be an object");
  FieldReader sub(*v, display_name + ": rope_scaling");
  std::string type = sub.String("rope_type", sub.String("type", "default"));
  if (type == "default") return sub.status();
  if (type != "linear" && type != "llama3") {
    return UnimplementedError(display_name + ": rope_scaling.rope_type: '" + type +
                              "' is not supported (supported: default, linear, llama3)");
  }
  out->type = type;
  out->factor = sub.Double("factor", 1.0);
  if (type == "llama3") {
    out->low_freq_factor = sub.Double("low_freq_factor", 1.0);
    out->high_freq_factor = sub.Double("high_freq_factor", 4.0);
    out->original_max_position_embeddings = sub.Int("original_max_position_embeddings", 8192);
  }
  CLUEDROP_RETURN_IF_ERROR(sub.status());
  if (!(out->factor > 0)) {
    return InvalidArgumentError(display_name + ": rope_scaling.factor: must be > 0");
  }
  if (type == "llama3" && !(out->high_freq_factor > out->low_freq_factor)) {
    return InvalidArgumentError(display_name +
                                ": rope_scaling.high_freq_factor: must exceed low_freq_factor");
  }
  return OkStatus();
}

// layer_types (transformers >= 4.53 writes it) or the family's default.
Status ParseLayerTypes(FieldReader& reader, const std::string& display_name, ModelConfig* c) {
  const json* v = reader.Find("layer_types");
  c->layer_sliding.assign(c->num_layers, false);
  if (v != nullptr) {
    if (!v->is_array() || static_cast<int64_t>(v->size()) != c->num_layers) {
      return InvalidArgumentError(display_name + ": layer_types: must list " +
                                  std::to_string(c->num_layers) + " layer types");
    }
    for (int64_t i = 0; i < c->num_layers; ++i) {
      const json& t = (*v)[i];
      std::string type = t.is_string() ? t.get<std::string>() : "";
      if (type == "sliding_attention") {
        c->layer_sliding[i] = true;
      } else if (type != "full_attention") {
        return InvalidArgumentError(display_name + ": layer_types[" + std::to_string(i) +
                                    "]: unsupported " + t.dump());
      }
    }
  } else if (c->family == ModelFamily::kGemma2) {
    for (int64_t i = 0; i < c->num_layers; ++i) c->layer_sliding[i] = (i + 1) % 2 != 0;
  } else if (c->model_type == "mistral") {
    c->layer_sliding.assign(c->num_layers, c->sliding_window.has_value());
  } else if (c->model_type == "qwen2" && reader.Bool("use_sliding_window", false)) {
    int64_t first = reader.Int("max_window_layers", c->num_layers);
    for (int64_t i = first; i < c->num_layers; ++i) c->layer_sliding[i] = true;
  }
  bool any = false;
  for (bool s : c->layer_sliding) any = any || s;
  if (any && !c->sliding_window) {
    return InvalidArgumentError(display_name +
                                ": sliding_window: required when a layer uses sliding attention");
  }
  if (!any) c->sliding_window.reset();
  return OkStatus();
}

Status ParseDecoder(FieldReader& r, const std::string& name, ModelConfig* c) {
  const bool gemma = c->family == ModelFamily::kGemma2;
  c->vocab_size = r.Int("vocab_size", std::nullopt);
  c->hidden_size = r.Int("hidden_size", std::nullopt);
  c->intermediate_size = r.Int("intermediate_size", std::nullopt);
  c->num_layers = r.Int("num_hidden_layers", std::nullopt);
  c->num_heads = r.Int("num_attention_heads", std::nullopt);
  c->num_kv_heads = r.Int("num_key_value_heads", c->num_heads);
  CLUEDROP_RETURN_IF_ERROR(r.status());
  c->head_dim = r.Int("head_dim", c->num_heads > 0 ? c->hidden_size / c->num_heads : 0);
  c->max_position_embeddings = r.Int("max_position_embeddings", gemma ? 8192 : 2048);
  c->norm_eps = r.Double("rms_norm_eps", 1e-6);
  c->rope_theta = r.Double("rope_theta", 10000.0);
  c->hidden_act = gemma ? r.String("hidden_activation", r.String("hidden_act", "gelu_pytorch_tanh"))
                        : r.String("hidden_act", "silu");
  c->tie_word_embeddings = r.Bool("tie_word_embeddings", gemma);
  if (c->model_type == "qwen2") {
    c->qkv_bias = true;
  } else if (c->model_type == "llama") {
    c->qkv_bias = c->o_bias = r.Bool("attention_bias", false);
    c->mlp_bias = r.Bool("mlp_bias", false);
  } else if (gemma) {
    c->qkv_bias = c->o_bias = r.Bool("attention_bias", false);
  }
  c->sliding_window = r.OptionalInt("sliding_window");
  if (gemma && !c->sliding_window && r.Find("sliding_window") == nullptr) c->sliding_window = 4096;
  if (gemma) {
    c->attn_logit_softcapping = r.OptionalDouble("attn_logit_softcapping");
    c->final_logit_softcapping = r.OptionalDouble("final_logit_softcapping");
    c->query_pre_attn_scalar = r.Double("query_pre_attn_scalar", 256.0);
  }
  CLUEDROP_RETURN_IF_ERROR(r.status());
  CLUEDROP_RETURN_IF_ERROR(ParseRopeScaling(r, name, &c->rope_scaling));
  return ParseLayerTypes(r, name, c);
}

Status ParseGpt2(FieldReader& r, ModelConfig* c) {
  c->vocab_size = r.Int("vocab_size", 50257);
  c->hidden_size = r.Int("n_embd", 768);
  c->num_layers = r.Int("n_layer", 12);
  c->num_heads = r.Int("n_head", 12);
  c->num_kv_heads = c->num_heads;
  c->head_dim = c->num_heads > 0 ? c->hidden_size / c->num_heads : 0;
  c->intermediate_size = r.Int("n_inner", 4 * c->hidden_size);
  c->max_position_embeddings = r.Int("n_positions", 1024);
  c->norm_eps = r.Double("layer_norm_epsilon", 1e-5);
  c->hidden_act = r.String("activation_function", "gelu_new");
  c->tie_word_embeddings = r.Bool("tie_word_embeddings", true);
  c->qkv_bias = c->o_bias = c->mlp_bias = true;
  c->layer_sliding.assign(std::max<int64_t>(c->num_layers, 0), false);
  if (r.Bool("scale_attn_by_inverse_layer_idx", false) ||
      r.Bool("reorder_and_upcast_attn", false)) {
    r.Fail("scale_attn_by_inverse_layer_idx", "true is not supported");
  }
  if (!r.Bool("scale_attn_weights", true)) r.Fail("scale_attn_weights", "false is not supported");
  return r.status();
}

}  // namespace

const char* FamilyName(ModelFamily family) {
  switch (family) {
    case ModelFamily::kLlama:
      return "llama";
    case ModelFamily::kGemma2:
      return "gemma2";
    case ModelFamily::kGpt2:
      return "gpt2";
  }
  return "unknown";
}

double ModelConfig::AttentionScale() const {
  if (query_pre_attn_scalar) return 1.0 / std::sqrt(*query_pre_attn_scalar);
  return 1.0 / std::sqrt(static_cast<double>(head_dim));
}

int64_t ModelConfig::NumParameters() const {
  const int64_t q = num_heads * head_dim, kv = num_kv_heads * head_dim;
  int64_t per_layer = hidden_size * (q + 2 * kv) + q * hidden_size;
  if (family == ModelFamily::kGpt2) {
    per_layer += 2 * hidden_size * intermediate_size + 4 * hidden_size;         // + 2 layer norms
    per_layer += (q + 2 * kv) + hidden_size + intermediate_size + hidden_size;  // biases
  } else {
    per_layer += 3 * hidden_size * intermediate_size;
    per_layer += (family == ModelFamily::kGemma2 ? 4 : 2) * hidden_size;
    if (qkv_bias) per_layer += q + 2 * kv;
  }
  int64_t total = num_layers * per_layer + vocab_size * hidden_size + hidden_size;
  if (family == ModelFamily::kGpt2) total += max_position_embeddings * hidden_size + hidden_size;
  if (!tie_word_embeddings) total += vocab_size * hidden_size;
  return total;
}

Status ValidateModelConfig(const ModelConfig& c, const std::string& name) {
  auto positive = [&](const char* field, int64_t v) -> Status {
    if (v <= 0)
      return InvalidArgumentError(name + ": " + field + ": must be > 0, got " + std::to_string(v));
    return OkStatus();
  };
  CLUEDROP_RETURN_IF_ERROR(positive("vocab_size", c.vocab_size));
  CLUEDROP_RETURN_IF_ERROR(positive("hidden_size", c.hidden_size));
  CLUEDROP_RETURN_IF_ERROR(positive("intermediate_size", c.intermediate_size));
  CLUEDROP_RETURN_IF_ERROR(positive("num_hidden_layers", c.num_layers));
  CLUEDROP_RETURN_IF_ERROR(positive("num_attention_heads", c.num_heads));
  CLUEDROP_RETURN_IF_ERROR(positive("num_key_value_heads", c.num_kv_heads));
  CLUEDROP_RETURN_IF_ERROR(positive("head_dim", c.head_dim));
  CLUEDROP_RETURN_IF_ERROR(positive("max_position_embeddings", c.max_position_embeddings));
  if (c.num_heads % c.num_kv_heads != 0) {
    return InvalidArgumentError(name + ": num_key_value_heads: " + std::to_string(c.num_kv_heads) +
                                " does not divide num_attention_heads " +
                                std::to_string(c.num_heads));
  }
  if (c.family == ModelFamily::kGpt2 && c.hidden_size % c.num_heads != 0) {
    return InvalidArgumentError(name + ": n_head: " + std::to_string(c.num_heads) +
                                " does not divide n_embd " + std::to_string(c.hidden_size));
  }
  if (c.head_dim % 2 != 0 && c.family != ModelFamily::kGpt2) {
    return InvalidArgumentError(name + ": head_dim: rotary embeddings need an even head_dim, got " +
                                std::to_string(c.head_dim));
  }
  if (c.sliding_window && *c.sliding_window <= 0) {
    return InvalidArgumentError(name + ": sliding_window: must be > 0");
  }
  if (static_cast<int64_t>(c.layer_sliding.size()) != c.num_layers) {
    return InvalidArgumentError(name + ": layer_types: must have one entry per layer");
  }
  if (!(c.norm_eps > 0)) return InvalidArgumentError(name + ": rms_norm_eps: must be > 0");
  if (c.family != ModelFamily::kGpt2 && !(c.rope_theta > 0)) {
    return InvalidArgumentError(name + ": rope_theta: must be > 0");
  }
  static const char* kActs[] = {"silu", "gelu_pytorch_tanh", "gelu_new", "gelu", "gelu_fast"};
  bool act_ok = false;
  for (const char* a : kActs) act_ok = act_ok || c.hidden_act == a;
  if (!act_ok) {
    return InvalidArgumentError(name + ": hidden_act: unsupported activation '" + c.hidden_act +
                                "'");
  }
  for (double cap :
       {c.attn_logit_softcapping.value_or(1.0), c.final_logit_softcapping.value_or(1.0)}) {
    if (!(cap > 0)) return InvalidArgumentError(name + ": *_logit_softcapping: must be > 0");
  }
  return OkStatus();
}

StatusOr<ModelConfig> ParseModelConfig(std::string_view json_text, const std::string& name) {
  json root = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return InvalidArgumentError(name + ": not valid JSON");
  if (!root.is_object()) return InvalidArgumentError(name + ": must be a JSON object");
  FieldReader r(root, name);
  ModelConfig c;
  c.model_type = r.String("model_type", "");
  CLUEDROP_RETURN_IF_ERROR(r.status());
  if (const json* archs = r.Find("architectures");
      archs && archs->is_array() && !archs->empty() && (*archs)[0].is_string()) {
    c.architecture = (*archs)[0].get<std::string>();
  }
  if (c.model_type == "llama" || c.model_type == "mistral" || c.model_type == "qwen2") {
    c.family = ModelFamily::kLlama;
  } else if (c.model_type == "gemma2") {
    c.family = ModelFamily::kGemma2;
  } else if (c.model_type == "gpt2") {
    c.family = ModelFamily::kGpt2;
  } else {
    return InvalidArgumentError(name + ": model_type: unsupported architecture '" + c.model_type +
                                "' (supported: llama, mistral, qwen2, gemma2, gpt2)");
  }
  if (c.architecture.empty()) {
    static const char* kDefaults[][2] = {{"llama", "LlamaForCausalLM"},
                                         {"mistral", "MistralForCausalLM"},
                                         {"qwen2", "Qwen2ForCausalLM"},
                                         {"gemma2", "Gemma2ForCausalLM"},
                                         {"gpt2", "GPT2LMHeadModel"}};
    for (auto& d : kDefaults)
      if (c.model_type == d[0]) c.architecture = d[1];
  }
  if (c.family == ModelFamily::kGpt2) {
    CLUEDROP_RETURN_IF_ERROR(ParseGpt2(r, &c));
  } else {
    CLUEDROP_RETURN_IF_ERROR(ParseDecoder(r, name, &c));
  }
  c.bos_token_id = r.OptionalInt("bos_token_id");
  c.eos_token_ids = IdList(r, "eos_token_id");
  c.pad_token_id = r.OptionalInt("pad_token_id");
  c.torch_dtype = r.String("torch_dtype", r.String("dtype", ""));
  CLUEDROP_RETURN_IF_ERROR(r.status());
  CLUEDROP_RETURN_IF_ERROR(ValidateModelConfig(c, name));
  return c;
}

StatusOr<ModelConfig> LoadModelConfig(const std::string& path) {
  CLUEDROP_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseModelConfig(text, path);
}

std::string ModelConfigToJson(const ModelConfig& c) {
  json j;
  j["architectures"] = {c.architecture};
  j["model_type"] = c.model_type;
  j["vocab_size"] = c.vocab_size;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  if (c.bos_token_id) j["bos_token_id"] = *c.bos_token_id;
  if (c.eos_token_ids.size() == 1) j["eos_token_id"] = c.eos_token_ids[0];
  if (c.eos_token_ids.size() > 1) j["eos_token_id"] = c.eos_token_ids;
  if (c.pad_token_id) j["pad_token_id"] = *c.pad_token_id;
  if (!c.torch_dtype.empty()) j["torch_dtype"] = c.torch_dtype;
  if (c.family == ModelFamily::kGpt2) {
    j["n_embd"] = c.hidden_size;
    j["n_layer"] = c.num_layers;
    j["n_head"] = c.num_heads;
    j["n_inner"] = c.intermediate_size;
    j["n_positions"] = c.max_position_embeddings;
    j["n_ctx"] = c.max_position_embeddings;
    j["layer_norm_epsilon"] = c.norm_eps;
    j["activation_function"] = c.hidden_act;
    return j.dump(2);
  }
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["num_hidden_layers"] = c.num_layers;
  j["num_attention_heads"] = c.num_heads;
  j["num_key_value_heads"] = c.num_kv_heads;
  j["head_dim"] = c.head_dim;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["rms_norm_eps"] = c.norm_eps;
  j["rope_theta"] = c.rope_theta;
  j[c.family == ModelFamily::kGemma2 ? "hidden_activation" : "hidden_act"] = c.hidden_act;
  if (c.rope_scaling.type == "default") {
    j["rope_scaling"] = nullptr;
  } else {
    json rs = {{"rope_type", c.rope_scaling.type}, {"factor", c.rope_scaling.factor}};
    if (c.rope_scaling.type == "llama3") {
      rs["low_freq_factor"] = c.rope_scaling.low_freq_factor;
      rs["high_freq_factor"] = c.rope_scaling.high_freq_factor;
      rs["original_max_position_embeddings"] = c.rope_scaling.original_max_position_embeddings;
    }
    j["rope_scaling"] = rs;
  }
  if (c.model_type == "llama") {
    j["attention_bias"] = c.qkv_bias;
    j["mlp_bias"] = c.mlp_bias;
  }
  j["sliding_window"] = c.sliding_window ? json(*c.sliding_window) : json(nullptr);
  if (c.model_type == "qwen2") {
    bool any = false;
    for (bool s : c.layer_sliding) any = any || s;
    j["use_sliding_window"] = any;
  }
  if (c.model_type != "mistral") {
    json types = json::array();
    for (bool s : c.layer_sliding) types.push_back(s ? "sliding_attention" : "full_attention");
    j["layer_types"] = types;
  }
  if (c.family == ModelFamily::kGemma2) {
    j["attn_logit_softcapping"] =
        c.attn_logit_softcapping ? json(*c.attn_logit_softcapping) : json(nullptr);
    j["final_logit_softcapping"] =
        c.final_logit_softcapping ? json(*c.final_logit_softcapping) : json(nullptr);
    j["query_pre_attn_scalar"] = c.query_pre_attn_scalar.value_or(c.head_dim);
  }
  return j.dump(2);
}

}  // namespace cluedrop::model

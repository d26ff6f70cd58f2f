#include "workers/model/tokenizer/tokenizer_json.h"

#include <exception>
#include <limits>

#include "workers/model/tokenizer/bpe_model.h"
#include "workers/model/tokenizer/word_level_model.h"

namespace cluedrop::model::tokenizer {
namespace {

const Json& MemberOrNull(const Json& obj, std::string_view key) {
  static const Json* const kNull = new Json(nullptr);
  const Json* v = FindMember(obj, key);
  return v == nullptr ? *kNull : *v;
}

StatusOr<AddedToken> AddedTokenFromJson(const Json& value, const JsonPath& path) {
  CLUEDROP_RETURN_IF_ERROR(ExpectObject(value, path));
  AddedToken token;
  CLUEDROP_RETURN_IF_ERROR(
      RequiredInt(value, "id", path, 0, std::numeric_limits<int32_t>::max()).status());
  CLUEDROP_ASSIGN_OR_RETURN(token.content, RequiredString(value, "content", path));
  CLUEDROP_ASSIGN_OR_RETURN(token.single_word, BoolOr(value, "single_word", path, false));
  CLUEDROP_ASSIGN_OR_RETURN(token.lstrip, BoolOr(value, "lstrip", path, false));
  CLUEDROP_ASSIGN_OR_RETURN(token.rstrip, BoolOr(value, "rstrip", path, false));
  CLUEDROP_ASSIGN_OR_RETURN(token.special, BoolOr(value, "special", path, false));
  CLUEDROP_ASSIGN_OR_RETURN(token.normalized, BoolOr(value, "normalized", path, !token.special));
  return token;
}

}  // namespace

StatusOr<std::unique_ptr<Model>> ModelFromJson(const Json& value, const JsonPath& path) {
  CLUEDROP_RETURN_IF_ERROR(ExpectObject(value, path));
  CLUEDROP_ASSIGN_OR_RETURN(std::optional<std::string> type, OptionalString(value, "type", path));
  if (!type) {
    if (FindMember(value, "merges") == nullptr) return path.Key("type").Error("missing");
    type = "BPE";
  }
  if (*type == "BPE") {
    CLUEDROP_ASSIGN_OR_RETURN(auto bpe, BpeModel::FromJson(value, path));
    return std::unique_ptr<Model>(std::move(bpe));
  }
  if (*type == "WordLevel") {
    CLUEDROP_ASSIGN_OR_RETURN(auto word_level, WordLevelModel::FromJson(value, path));
    return std::unique_ptr<Model>(std::move(word_level));
  }
  return path.Key("type").Error("unsupported '" + *type + "'");
}

StatusOr<TokenizerParts> ParseTokenizerJson(std::string_view json_text,
                                            const std::string& display_name) {
  const JsonPath root_path(display_name, "");
  Json root;
  try {
    root = Json::parse(json_text.begin(), json_text.end());
  } catch (const Json::parse_error& e) {
    return root_path.Error(std::string("invalid JSON: ") + e.what());
  } catch (const std::exception& e) {
    return root_path.Error(std::string("cannot parse JSON: ") + e.what());
  }
  if (!root.is_object()) return root_path.Error("expected an object, got " + JsonTypeName(root));

  CLUEDROP_ASSIGN_OR_RETURN(std::optional<std::string> version,
                            OptionalString(root, "version", root_path));
  if (version && *version != "1.0") {
    return root_path.Key("version").Error("unknown tokenizer version '" + *version + "'");
  }
  TokenizerParts parts;
  const Json* model = FindMember(root, "model");
  if (model == nullptr || model->is_null()) return root_path.Key("model").Error("missing");
  CLUEDROP_ASSIGN_OR_RETURN(parts.model, ModelFromJson(*model, root_path.Key("model")));
  CLUEDROP_ASSIGN_OR_RETURN(parts.normalizer, NormalizerFromJson(MemberOrNull(root, "normalizer"),
                                                                 root_path.Key("normalizer")));
  CLUEDROP_ASSIGN_OR_RETURN(
      parts.pre_tokenizer,
      PreTokenizerFromJson(MemberOrNull(root, "pre_tokenizer"), root_path.Key("pre_tokenizer")));
  CLUEDROP_ASSIGN_OR_RETURN(
      parts.post_processor,
      PostProcessorFromJson(MemberOrNull(root, "post_processor"), root_path.Key("post_processor")));
  CLUEDROP_ASSIGN_OR_RETURN(
      parts.decoder, DecoderFromJson(MemberOrNull(root, "decoder"), root_path.Key("decoder")));

  const Json& added = MemberOrNull(root, "added_tokens");
  if (!added.is_null()) {
    if (!added.is_array()) {
      return root_path.Key("added_tokens").Error("expected an array, got " + JsonTypeName(added));
    }
    for (size_t i = 0; i < added.size(); ++i) {
      CLUEDROP_ASSIGN_OR_RETURN(
          AddedToken token, AddedTokenFromJson(added[i], root_path.Key("added_tokens").Index(i)));
      parts.added.Add(token, *parts.model);
    }
  }
  Status built = parts.added.Build(parts.normalizer.get(), *parts.model);
  if (!built.ok()) return built.Annotated(display_name + ": added_tokens");
  return parts;
}

}  // namespace cluedrop::model::tokenizer

#include "workers/model/tokenizer/normalizers.h"

#include "workers/model/tokenizer/pattern.h"
#include "workers/model/tokenizer/pattern_json.h"

namespace cluedrop::model::tokenizer {

Status SequenceNormalizer::Normalize(NormalizedString* s) const {
  for (const auto& normalizer : normalizers_) CLUEDROP_RETURN_IF_ERROR(normalizer->Normalize(s));
  return OkStatus();
}

Status PrependNormalizer::Normalize(NormalizedString* s) const {
  if (!s->empty()) s->Prepend(prepend_);
  return OkStatus();
}

Status ReplaceNormalizer::Normalize(NormalizedString* s) const {
  RegexPattern pattern(pattern_.get());
  return s->Replace(pattern, content_);
}

StatusOr<std::unique_ptr<Normalizer>> NormalizerFromJson(const Json& value, const JsonPath& path) {
  if (value.is_null()) return std::unique_ptr<Normalizer>();
  CLUEDROP_RETURN_IF_ERROR(ExpectObject(value, path));
  CLUEDROP_ASSIGN_OR_RETURN(std::string type, RequiredString(value, "type", path));
  if (type == "Sequence") {
    CLUEDROP_ASSIGN_OR_RETURN(const Json* items, RequiredArray(value, "normalizers", path));
    std::vector<std::unique_ptr<Normalizer>> normalizers;
    for (size_t i = 0; i < items->size(); ++i) {
      const JsonPath item_path = path.Key("normalizers").Index(i);
      if ((*items)[i].is_null()) return item_path.Error("expected an object, got null");
      CLUEDROP_ASSIGN_OR_RETURN(auto normalizer, NormalizerFromJson((*items)[i], item_path));
      normalizers.push_back(std::move(normalizer));
    }
    return std::unique_ptr<Normalizer>(new SequenceNormalizer(std::move(normalizers)));
  }
  if (type == "Prepend") {
    CLUEDROP_ASSIGN_OR_RETURN(std::string prepend, RequiredString(value, "prepend", path));
    return std::unique_ptr<Normalizer>(new PrependNormalizer(std::move(prepend)));
  }
  if (type == "Replace") {
    const Json* pattern = FindMember(value, "pattern");
    if (pattern == nullptr) return path.Key("pattern").Error("missing");
    CLUEDROP_ASSIGN_OR_RETURN(auto regex, RegexFromPatternJson(*pattern, path.Key("pattern")));
    CLUEDROP_ASSIGN_OR_RETURN(std::string content, RequiredString(value, "content", path));
    return std::unique_ptr<Normalizer>(new ReplaceNormalizer(std::move(regex), std::move(content)));
  }
  if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD" || type == "Lowercase") {
    if (!UnicodeDataAvailable()) {
      return path.Key("type").Error("'" + type + "' needs ICU, which this build lacks");
    }
    if (type == "Lowercase") return std::unique_ptr<Normalizer>(new LowercaseNormalizer());
    const NormalizationForm form = type == "NFC"    ? NormalizationForm::kNfc
                                   : type == "NFD"  ? NormalizationForm::kNfd
                                   : type == "NFKC" ? NormalizationForm::kNfkc
                                                    : NormalizationForm::kNfkd;
    return std::unique_ptr<Normalizer>(new UnicodeNormalizer(form));
  }
  if (type == "Strip") {
    CLUEDROP_ASSIGN_OR_RETURN(bool left, BoolOr(value, "strip_left", path, true));
    CLUEDROP_ASSIGN_OR_RETURN(bool right, BoolOr(value, "strip_right", path, true));
    return std::unique_ptr<Normalizer>(new StripNormalizer(left, right));
  }
  return path.Key("type").Error("unsupported '" + type + "'");
}

}  // namespace cluedrop::model::tokenizer

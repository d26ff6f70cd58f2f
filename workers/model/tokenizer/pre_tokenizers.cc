#include "workers/model/tokenizer/pre_tokenizers.h"

#include <algorithm>

#include "workers/model/tokenizer/byte_level.h"
#include "workers/model/tokenizer/pattern.h"
#include "workers/model/tokenizer/pattern_json.h"
#include "workers/model/tokenizer/utf8.h"

namespace cluedrop::model::tokenizer {
namespace {

// Compiles a built-in pattern once; it lives for the whole process.
const Regex* BuiltinRegex(const char* pattern) {
  StatusOr<std::unique_ptr<Regex>> regex = Regex::Compile(pattern);
  return regex.ok() ? std::move(regex).value().release() : nullptr;
}

Status MissingBuiltin(const char* what) {
  return InternalError(std::string("built-in regex for ") + what + " did not compile");
}

StatusOr<std::vector<Split>> ToSplits(StatusOr<std::vector<NormalizedString>> pieces) {
  if (!pieces.ok()) return pieces.status();
  std::vector<Split> splits;
  splits.reserve(pieces->size());
  for (NormalizedString& piece : *pieces) splits.push_back({std::move(piece), std::nullopt});
  return splits;
}

}  // namespace

Status SequencePreTokenizer::PreTokenize(PreTokenizedString* s) const {
  for (const auto& item : items_) CLUEDROP_RETURN_IF_ERROR(item->PreTokenize(s));
  return OkStatus();
}

const char ByteLevelPreTokenizer::kGpt2Pattern[] =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

ByteLevelPreTokenizer::ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
    : add_prefix_space_(add_prefix_space), use_regex_(use_regex) {
  static const Regex* const kRegex = BuiltinRegex(kGpt2Pattern);
  gpt2_regex_ = kRegex;
}

Status ByteLevelPreTokenizer::PreTokenize(PreTokenizedString* s) const {
  if (use_regex_ && gpt2_regex_ == nullptr) return MissingBuiltin("ByteLevel");
  CLUEDROP_RETURN_IF_ERROR(
      s->SplitWith([&](size_t, NormalizedString normalized) -> StatusOr<std::vector<Split>> {
        if (add_prefix_space_ && (normalized.get().empty() || normalized.get()[0] != ' ')) {
          normalized.Prepend(" ");
        }
        if (use_regex_) {
          RegexPattern pattern(gpt2_regex_);
          return ToSplits(normalized.Split(pattern, SplitBehavior::kIsolated));
        }
        std::vector<Split> one;
        one.push_back({std::move(normalized), std::nullopt});
        return one;
      }));
  return s->NormalizeWith([](NormalizedString* normalized) -> Status {
    const std::string& text = normalized->get();
    std::vector<CharChange> dest;
    dest.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
      const size_t len =
          std::min(Utf8CharLen(static_cast<unsigned char>(text[i])), text.size() - i);
      for (size_t k = 0; k < len; ++k) {
        dest.push_back({ByteToChar(static_cast<uint8_t>(text[i + k])), k > 0 ? 1 : 0});
      }
      i += len;
    }
    normalized->Transform(dest, 0);
    return OkStatus();
  });
}

Status SplitPreTokenizer::PreTokenize(PreTokenizedString* s) const {
  return s->SplitWith([&](size_t, NormalizedString normalized) -> StatusOr<std::vector<Split>> {
    RegexPattern pattern(regex_.get());
    if (invert_) {
      InvertPattern inverted(&pattern);
      return ToSplits(normalized.Split(inverted, behavior_));
    }
    return ToSplits(normalized.Split(pattern, behavior_));
  });
}

MetaspacePreTokenizer::MetaspacePreTokenizer(char32_t replacement, PrependScheme scheme, bool split)
    : replacement_(replacement),
      replacement_utf8_(EncodeUtf8(replacement)),
      scheme_(scheme),
      split_(split) {}

Status MetaspacePreTokenizer::PreTokenize(PreTokenizedString* s) const {
  return s->SplitWith([&](size_t, NormalizedString normalized) -> StatusOr<std::vector<Split>> {
    CharPredicatePattern spaces([](char32_t c) { return c == U' '; });
    CLUEDROP_RETURN_IF_ERROR(normalized.Replace(spaces, replacement_utf8_));
    const bool starts_with_replacement =
        normalized.get().compare(0, replacement_utf8_.size(), replacement_utf8_) == 0;
    if (!starts_with_replacement) {
      if (scheme_ == PrependScheme::kAlways ||
          (scheme_ == PrependScheme::kFirst && normalized.original_shift() == 0)) {
        normalized.Prepend(replacement_utf8_);
      }
    }
    if (split_) {
      const char32_t replacement = replacement_;
      CharPredicatePattern delimiter([replacement](char32_t c) { return c == replacement; });
      return ToSplits(normalized.Split(delimiter, SplitBehavior::kMergedWithNext));
    }
    std::vector<Split> one;
    one.push_back({std::move(normalized), std::nullopt});
    return one;
  });
}

DigitsPreTokenizer::DigitsPreTokenizer(bool individual_digits)
    : individual_digits_(individual_digits) {
  static const Regex* const kNumeric = BuiltinRegex(R"(\p{N})");
  numeric_ = kNumeric;
}

Status DigitsPreTokenizer::PreTokenize(PreTokenizedString* s) const {
  if (numeric_ == nullptr) return MissingBuiltin("Digits");
  const SplitBehavior behavior =
      individual_digits_ ? SplitBehavior::kIsolated : SplitBehavior::kContiguous;
  return s->SplitWith([&](size_t, NormalizedString normalized) -> StatusOr<std::vector<Split>> {
    RegexPattern pattern(numeric_);
    return ToSplits(normalized.Split(pattern, behavior));
  });
}

WhitespacePreTokenizer::WhitespacePreTokenizer() {
  static const Regex* const kRegex = BuiltinRegex(R"(\w+|[^\w\s]+)");
  regex_ = kRegex;
}

Status WhitespacePreTokenizer::PreTokenize(PreTokenizedString* s) const {
  if (regex_ == nullptr) return MissingBuiltin("Whitespace");
  return s->SplitWith([&](size_t, NormalizedString normalized) -> StatusOr<std::vector<Split>> {
    RegexPattern pattern(regex_);
    InvertPattern inverted(&pattern);
    return ToSplits(normalized.Split(inverted, SplitBehavior::kRemoved));
  });
}

Status CharSplitPreTokenizer::PreTokenize(PreTokenizedString* s) const {
  return s->SplitWith([&](size_t, NormalizedString normalized) -> StatusOr<std::vector<Split>> {
    const char32_t delimiter = delimiter_;
    CharPredicatePattern pattern(
        [delimiter](char32_t c) { return delimiter == 0 ? IsWhitespace(c) : c == delimiter; });
    return ToSplits(normalized.Split(pattern, SplitBehavior::kRemoved));
  });
}

StatusOr<SplitBehavior> SplitBehaviorFromJson(const Json& obj, const JsonPath& path) {
  CLUEDROP_ASSIGN_OR_RETURN(std::string name, RequiredString(obj, "behavior", path));
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  return path.Key("behavior").Error("unsupported '" + name + "'");
}

StatusOr<std::unique_ptr<PreTokenizer>> PreTokenizerFromJson(const Json& value,
                                                             const JsonPath& path) {
  if (value.is_null()) return std::unique_ptr<PreTokenizer>();
  CLUEDROP_RETURN_IF_ERROR(ExpectObject(value, path));
  CLUEDROP_ASSIGN_OR_RETURN(std::string type, RequiredString(value, "type", path));
  if (type == "Sequence") {
    CLUEDROP_ASSIGN_OR_RETURN(const Json* items, RequiredArray(value, "pretokenizers", path));
    std::vector<std::unique_ptr<PreTokenizer>> parsed;
    for (size_t i = 0; i < items->size(); ++i) {
      const JsonPath item_path = path.Key("pretokenizers").Index(i);
      if ((*items)[i].is_null()) return item_path.Error("expected an object, got null");
      CLUEDROP_ASSIGN_OR_RETURN(auto item, PreTokenizerFromJson((*items)[i], item_path));
      parsed.push_back(std::move(item));
    }
    return std::unique_ptr<PreTokenizer>(new SequencePreTokenizer(std::move(parsed)));
  }
  if (type == "ByteLevel") {
    CLUEDROP_ASSIGN_OR_RETURN(bool add_prefix_space, BoolOr(value, "add_prefix_space", path, true));
    CLUEDROP_ASSIGN_OR_RETURN(bool use_regex, BoolOr(value, "use_regex", path, true));
    CLUEDROP_RETURN_IF_ERROR(BoolOr(value, "trim_offsets", path, true).status());
    return std::unique_ptr<PreTokenizer>(new ByteLevelPreTokenizer(add_prefix_space, use_regex));
  }
  if (type == "Split") {
    const Json* pattern = FindMember(value, "pattern");
    if (pattern == nullptr) return path.Key("pattern").Error("missing");
    CLUEDROP_ASSIGN_OR_RETURN(auto regex, RegexFromPatternJson(*pattern, path.Key("pattern")));
    CLUEDROP_ASSIGN_OR_RETURN(SplitBehavior behavior, SplitBehaviorFromJson(value, path));
    CLUEDROP_ASSIGN_OR_RETURN(bool invert, BoolOr(value, "invert", path, false));
    return std::unique_ptr<PreTokenizer>(new SplitPreTokenizer(std::move(regex), behavior, invert));
  }
  if (type == "Metaspace") {
    CLUEDROP_ASSIGN_OR_RETURN(char32_t replacement, RequiredChar(value, "replacement", path));
    CLUEDROP_ASSIGN_OR_RETURN(std::optional<std::string> scheme_name,
                              OptionalString(value, "prepend_scheme", path));
    std::optional<PrependScheme> scheme;
    if (scheme_name) {
      if (*scheme_name == "always") {
        scheme = PrependScheme::kAlways;
      } else if (*scheme_name == "first") {
        scheme = PrependScheme::kFirst;
      } else if (*scheme_name == "never") {
        scheme = PrependScheme::kNever;
      } else {
        return path.Key("prepend_scheme").Error("unsupported '" + *scheme_name + "'");
      }
    }
    const Json* add_prefix_space = FindMember(value, "add_prefix_space");
    if (add_prefix_space != nullptr && !add_prefix_space->is_null()) {
      if (!add_prefix_space->is_boolean()) {
        return path.Key("add_prefix_space")
            .Error("expected a boolean, got " + JsonTypeName(*add_prefix_space));
      }
      if (!add_prefix_space->get<bool>()) {
        if (scheme && *scheme != PrependScheme::kNever) {
          return path.Key("add_prefix_space").Error("does not match prepend_scheme");
        }
        scheme = PrependScheme::kNever;
      }
    }
    CLUEDROP_ASSIGN_OR_RETURN(bool split, BoolOr(value, "split", path, true));
    return std::unique_ptr<PreTokenizer>(
        new MetaspacePreTokenizer(replacement, scheme.value_or(PrependScheme::kAlways), split));
  }
  if (type == "Digits") {
    CLUEDROP_ASSIGN_OR_RETURN(bool individual, BoolOr(value, "individual_digits", path, false));
    return std::unique_ptr<PreTokenizer>(new DigitsPreTokenizer(individual));
  }
  if (type == "Whitespace") return std::unique_ptr<PreTokenizer>(new WhitespacePreTokenizer());
  if (type == "WhitespaceSplit") return std::unique_ptr<PreTokenizer>(new CharSplitPreTokenizer(0));
  if (type == "CharDelimiterSplit") {
    CLUEDROP_ASSIGN_OR_RETURN(char32_t delimiter, RequiredChar(value, "delimiter", path));
    if (delimiter == 0) return path.Key("delimiter").Error("NUL is not supported");
    return std::unique_ptr<PreTokenizer>(new CharSplitPreTokenizer(delimiter));
  }
  return path.Key("type").Error("unsupported '" + type + "'");
}

}  // namespace cluedrop::model::tokenizer

#include "workers/model/tokenizer/post_processors.h"

#include <algorithm>
#include <limits>
#include <map>

#include "workers/model/tokenizer/byte_level.h"
#include "workers/model/tokenizer/utf8.h"

namespace cluedrop::model::tokenizer {
namespace {

void AppendSpecial(const TemplateSpecial& special, Encoding* out) {
  for (size_t i = 0; i < special.ids.size(); ++i) {
    out->Append(special.ids[i], special.tokens[i], {0, 0}, 1);
  }
}

void AppendAll(const Encoding& from, Encoding* out) {
  for (size_t i = 0; i < from.size(); ++i) {
    out->Append(from.ids[i], from.tokens[i], from.offsets[i], from.special[i]);
  }
}

// A char counts as a "space" for offset trimming: 'Ġ' or Unicode whitespace.
bool IsTrimSpace(char32_t c) { return c == ByteToChar(' ') || IsWhitespace(c); }

StatusOr<TemplateSpecial> PairFromJson(const Json& obj, std::string_view key,
                                       const JsonPath& path) {
  const JsonPath p = path.Key(key);
  const Json* v = FindMember(obj, key);
  if (v == nullptr) return p.Error("missing");
  if (!v->is_array() || v->size() != 2 || !(*v)[0].is_string()) {
    return p.Error("expected [token, id]");
  }
  CLUEDROP_ASSIGN_OR_RETURN(int64_t id,
                            AsInt((*v)[1], p.Index(1), 0, std::numeric_limits<int32_t>::max()));
  return TemplateSpecial{{static_cast<int32_t>(id)}, {(*v)[0].get<std::string>()}};
}

// Parses a template (list of {"Sequence": ...} / {"SpecialToken": ...}).
StatusOr<std::vector<TemplatePostProcessor::Piece>> TemplateFromJson(
    const Json& value, const JsonPath& path,
    const std::map<std::string, TemplateSpecial>& specials) {
  if (!value.is_array()) return path.Error("expected an array, got " + JsonTypeName(value));
  std::vector<TemplatePostProcessor::Piece> pieces;
  for (size_t i = 0; i < value.size(); ++i) {
    const Json& item = value[i];
    const JsonPath item_path = path.Index(i);
    if (const Json* seq = FindMember(item, "Sequence")) {
      CLUEDROP_RETURN_IF_ERROR(ExpectObject(*seq, item_path.Key("Sequence")));
      StatusOr<std::string> id = RequiredString(*seq, "id", item_path.Key("Sequence"));
      if (!id.ok()) return id.status();
      if (*id != "A" && *id != "B") {
        return item_path.Key("Sequence").Key("id").Error("expected A or B");
      }
      pieces.push_back({true, {}});
    } else if (const Json* sp = FindMember(item, "SpecialToken")) {
      CLUEDROP_RETURN_IF_ERROR(ExpectObject(*sp, item_path.Key("SpecialToken")));
      CLUEDROP_ASSIGN_OR_RETURN(std::string id,
                                RequiredString(*sp, "id", item_path.Key("SpecialToken")));
      auto it = specials.find(id);
      if (it == specials.end()) {
        return item_path.Key("SpecialToken")
            .Key("id")
            .Error("'" + id + "' is not in special_tokens");
      }
      pieces.push_back({false, it->second});
    } else {
      return item_path.Error("expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
    }
  }
  return pieces;
}

}  // namespace

void SequencePostProcessor::Process(std::string_view text, Encoding* encoding,
                                    bool add_special_tokens) const {
  for (const auto& item : items_) item->Process(text, encoding, add_special_tokens);
}

void TrimByteLevelOffsets(std::string_view text, Encoding* encoding, bool add_prefix_space) {
  // Byte offset of every char of `text`, and of its end.
  std::vector<size_t> char_start;
  char_start.reserve(text.size() + 1);
  for (size_t i = 0; i < text.size();) {
    char_start.push_back(i);
    i += std::min(Utf8CharLen(static_cast<unsigned char>(text[i])), text.size() - i);
  }
  char_start.push_back(text.size());
  const size_t num_chars = char_start.size() - 1;
  // The char containing byte `b` (num_chars at the end), as tokenizers'
  // BytesToCharOffsetConverter.
  const auto to_char = [&](size_t b) -> size_t {
    if (b >= text.size()) return num_chars;
    return static_cast<size_t>(std::upper_bound(char_start.begin(), char_start.end(), b) -
                               char_start.begin()) -
           1;
  };
  for (size_t i = 0; i < encoding->size(); ++i) {
    const std::string& token = encoding->tokens[i];
    size_t leading = 0;
    for (size_t k = 0; k < token.size();) {
      size_t len = 0;
      if (!IsTrimSpace(DecodeUtf8At(token, k, &len))) break;
      ++leading;
      k += len;
    }
    size_t trailing = 0;
    for (size_t k = token.size(); k > 0;) {
      size_t start = k - 1;
      while (start > 0 && (static_cast<unsigned char>(token[start]) & 0xC0) == 0x80) --start;
      size_t len = 0;
      if (!IsTrimSpace(DecodeUtf8At(token, start, &len))) break;
      ++trailing;
      k = start;
    }
    if (leading == 0 && trailing == 0) continue;
    auto& [byte_begin, byte_end] = encoding->offsets[i];
    size_t begin = to_char(byte_begin);
    size_t end = to_char(byte_end);
    if (leading > 0) {
      const bool is_first = i == 0 || begin == 0;
      if (is_first && add_prefix_space && leading == 1) leading = 0;
      begin = std::min(begin + leading, end);
    }
    if (trailing > 0 && end >= trailing) end = std::max(end - trailing, begin);
    byte_begin = char_start[std::min(begin, num_chars)];
    byte_end = char_start[std::min(end, num_chars)];
  }
}

void ByteLevelPostProcessor::Process(std::string_view text, Encoding* encoding, bool) const {
  if (trim_offsets_) TrimByteLevelOffsets(text, encoding, add_prefix_space_);
}

void TemplatePostProcessor::Process(std::string_view, Encoding* encoding,
                                    bool add_special_tokens) const {
  if (!add_special_tokens) return;
  Encoding out;
  for (const Piece& piece : single_) {
    if (piece.is_sequence) {
      AppendAll(*encoding, &out);
    } else {
      AppendSpecial(piece.special, &out);
    }
  }
  *encoding = std::move(out);
}

void WrapPostProcessor::Process(std::string_view text, Encoding* encoding,
                                bool add_special_tokens) const {
  if (trim_offsets_) TrimByteLevelOffsets(text, encoding, add_prefix_space_);
  if (!add_special_tokens) return;
  Encoding out;
  AppendSpecial(cls_, &out);
  AppendAll(*encoding, &out);
  AppendSpecial(sep_, &out);
  *encoding = std::move(out);
}

StatusOr<std::unique_ptr<PostProcessor>> PostProcessorFromJson(const Json& value,
                                                               const JsonPath& path) {
  if (value.is_null()) return std::unique_ptr<PostProcessor>();
  CLUEDROP_RETURN_IF_ERROR(ExpectObject(value, path));
  CLUEDROP_ASSIGN_OR_RETURN(std::string type, RequiredString(value, "type", path));
  if (type == "Sequence") {
    CLUEDROP_ASSIGN_OR_RETURN(const Json* items, RequiredArray(value, "processors", path));
    std::vector<std::unique_ptr<PostProcessor>> parsed;
    for (size_t i = 0; i < items->size(); ++i) {
      const JsonPath item_path = path.Key("processors").Index(i);
      if ((*items)[i].is_null()) return item_path.Error("expected an object, got null");
      CLUEDROP_ASSIGN_OR_RETURN(auto item, PostProcessorFromJson((*items)[i], item_path));
      parsed.push_back(std::move(item));
    }
    return std::unique_ptr<PostProcessor>(new SequencePostProcessor(std::move(parsed)));
  }
  if (type == "ByteLevel") {
    CLUEDROP_ASSIGN_OR_RETURN(bool add_prefix_space, BoolOr(value, "add_prefix_space", path, true));
    CLUEDROP_ASSIGN_OR_RETURN(bool trim_offsets, BoolOr(value, "trim_offsets", path, true));
    CLUEDROP_RETURN_IF_ERROR(BoolOr(value, "use_regex", path, true).status());
    return std::unique_ptr<PostProcessor>(
        new ByteLevelPostProcessor(add_prefix_space, trim_offsets));
  }
  if (type == "TemplateProcessing") {
    CLUEDROP_ASSIGN_OR_RETURN(const Json* specials_json,
                              RequiredObject(value, "special_tokens", path));
    std::map<std::string, TemplateSpecial> specials;
    for (auto it = specials_json->begin(); it != specials_json->end(); ++it) {
      const JsonPath sp = path.Key("special_tokens").Key(it.key());
      CLUEDROP_RETURN_IF_ERROR(ExpectObject(it.value(), sp));
      CLUEDROP_ASSIGN_OR_RETURN(std::string id, RequiredString(it.value(), "id", sp));
      CLUEDROP_ASSIGN_OR_RETURN(const Json* ids, RequiredArray(it.value(), "ids", sp));
      CLUEDROP_ASSIGN_OR_RETURN(const Json* tokens, RequiredArray(it.value(), "tokens", sp));
      if (ids->size() != tokens->size()) {
        return sp.Error("ids and tokens differ in length");
      }
      TemplateSpecial special;
      for (size_t i = 0; i < ids->size(); ++i) {
        CLUEDROP_ASSIGN_OR_RETURN(int64_t n, AsInt((*ids)[i], sp.Key("ids").Index(i), 0,
                                                   std::numeric_limits<int32_t>::max()));
        if (!(*tokens)[i].is_string()) {
          return sp.Key("tokens").Index(i).Error("expected a string, got " +
                                                 JsonTypeName((*tokens)[i]));
        }
        special.ids.push_back(static_cast<int32_t>(n));
        special.tokens.push_back((*tokens)[i].get<std::string>());
      }
      specials[id] = std::move(special);
    }
    const Json* single = FindMember(value, "single");
    if (single == nullptr) return path.Key("single").Error("missing");
    CLUEDROP_ASSIGN_OR_RETURN(auto pieces, TemplateFromJson(*single, path.Key("single"), specials));
    if (const Json* pair = FindMember(value, "pair"); pair != nullptr && !pair->is_null()) {
      CLUEDROP_RETURN_IF_ERROR(TemplateFromJson(*pair, path.Key("pair"), specials).status());
    }
    return std::unique_ptr<PostProcessor>(new TemplatePostProcessor(std::move(pieces)));
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    CLUEDROP_ASSIGN_OR_RETURN(TemplateSpecial sep, PairFromJson(value, "sep", path));
    CLUEDROP_ASSIGN_OR_RETURN(TemplateSpecial cls, PairFromJson(value, "cls", path));
    const bool roberta = type == "RobertaProcessing";
    CLUEDROP_ASSIGN_OR_RETURN(bool trim_offsets, BoolOr(value, "trim_offsets", path, roberta));
    CLUEDROP_ASSIGN_OR_RETURN(bool add_prefix_space,
                              BoolOr(value, "add_prefix_space", path, roberta));
    return std::unique_ptr<PostProcessor>(new WrapPostProcessor(
        std::move(cls), std::move(sep), roberta && trim_offsets, add_prefix_space));
  }
  return path.Key("type").Error("unsupported '" + type + "'");
}

}  // namespace cluedrop::model::tokenizer

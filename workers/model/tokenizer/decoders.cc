#include "workers/model/tokenizer/decoders.h"

#include <limits>

#include "workers/model/tokenizer/byte_level.h"
#include "workers/model/tokenizer/pattern.h"
#include "workers/model/tokenizer/pattern_json.h"
#include "workers/model/tokenizer/utf8.h"

namespace cluedrop::model::tokenizer {
namespace {

std::vector<char32_t> CodePoints(std::string_view s) {
  std::vector<char32_t> out;
  for (size_t i = 0; i < s.size();) {
    size_t len = 0;
    out.push_back(DecodeUtf8At(s, i, &len));
    i += len;
  }
  return out;
}

std::string ReplaceAll(std::string s, std::string_view from, std::string_view to) {
  if (from.empty()) return s;
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t hit = s.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s, pos, std::string::npos);
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Rust's u8::from_str_radix(s, 16) on a 2-byte string (a leading '+' is allowed).
std::optional<uint8_t> ParseHexByte(std::string_view s) {
  if (s.size() != 2) return std::nullopt;
  if (s[0] == '+') {
    const int d = HexDigit(s[1]);
    if (d < 0) return std::nullopt;
    return static_cast<uint8_t>(d);
  }
  const int hi = HexDigit(s[0]);
  const int lo = HexDigit(s[1]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<uint8_t>(hi * 16 + lo);
}

}  // namespace

StatusOr<std::string> Decoder::Decode(std::vector<std::string> tokens) const {
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<std::string> pieces, DecodeChain(std::move(tokens)));
  std::string out;
  for (const std::string& piece : pieces) out += piece;
  return out;
}

StatusOr<std::vector<std::string>> SequenceDecoder::DecodeChain(
    std::vector<std::string> tokens) const {
  for (const auto& item : items_) {
    CLUEDROP_ASSIGN_OR_RETURN(tokens, item->DecodeChain(std::move(tokens)));
  }
  return tokens;
}

StatusOr<std::vector<std::string>> ByteLevelDecoder::DecodeChain(
    std::vector<std::string> tokens) const {
  std::string bytes;
  for (const std::string& token : tokens) {
    std::string mapped;
    bool all_mapped = true;
    for (char32_t c : CodePoints(token)) {
      std::optional<uint8_t> b = CharToByte(c);
      if (!b) {
        all_mapped = false;
        break;
      }
      mapped.push_back(static_cast<char>(*b));
    }
    bytes += all_mapped ? mapped : token;
  }
  std::vector<std::string> out;
  out.push_back(Utf8Lossy(bytes));
  return out;
}

StatusOr<std::vector<std::string>> MetaspaceDecoder::DecodeChain(
    std::vector<std::string> tokens) const {
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string out;
    for (char32_t c : CodePoints(tokens[i])) {
      if (c == replacement_) {
        if (i == 0 && scheme_ != PrependScheme::kNever) continue;
        out.push_back(' ');
      } else {
        AppendUtf8(c, &out);
      }
    }
    tokens[i] = std::move(out);
  }
  return tokens;
}

StatusOr<std::vector<std::string>> ByteFallbackDecoder::DecodeChain(
    std::vector<std::string> tokens) const {
  std::vector<std::string> out;
  std::string pending;  // bytes of consecutive <0xNN> tokens
  size_t pending_count = 0;
  const auto flush = [&] {
    if (pending_count == 0) return;
    if (IsValidUtf8(pending)) {
      out.push_back(pending);
    } else {
      for (size_t i = 0; i < pending_count; ++i) out.push_back("\xEF\xBF\xBD");
    }
    pending.clear();
    pending_count = 0;
  };
  for (std::string& token : tokens) {
    std::optional<uint8_t> byte;
    if (token.size() == 6 && token.compare(0, 3, "<0x") == 0 && token[5] == '>') {
      byte = ParseHexByte(std::string_view(token).substr(3, 2));
    }
    if (byte) {
      pending.push_back(static_cast<char>(*byte));
      ++pending_count;
    } else {
      flush();
      out.push_back(std::move(token));
    }
  }
  flush();
  return out;
}

StatusOr<std::vector<std::string>> FuseDecoder::DecodeChain(std::vector<std::string> tokens) const {
  std::string joined;
  for (const std::string& token : tokens) joined += token;
  std::vector<std::string> out;
  out.push_back(std::move(joined));
  return out;
}

StatusOr<std::vector<std::string>> StripDecoder::DecodeChain(
    std::vector<std::string> tokens) const {
  for (std::string& token : tokens) {
    const std::vector<char32_t> chars = CodePoints(token);
    size_t start_cut = 0;
    for (size_t i = 0; i < chars.size() && i < start_; ++i) {
      if (chars[i] != content_) break;
      start_cut = i + 1;
    }
    size_t stop_cut = chars.size();
    for (size_t i = 0; i < stop_ && i < chars.size(); ++i) {
      const size_t index = chars.size() - i - 1;
      if (chars[index] != content_) break;
      stop_cut = index;
    }
    std::string out;
    for (size_t i = start_cut; i < stop_cut; ++i) AppendUtf8(chars[i], &out);
    token = std::move(out);
  }
  return tokens;
}

StatusOr<std::vector<std::string>> ReplaceDecoder::DecodeChain(
    std::vector<std::string> tokens) const {
  RegexPattern pattern(pattern_.get());
  for (std::string& token : tokens) {
    CLUEDROP_ASSIGN_OR_RETURN(std::vector<PatternPiece> pieces, pattern.FindMatches(token));
    std::string out;
    for (const PatternPiece& piece : pieces) {
      if (piece.is_match) {
        out += content_;
      } else {
        out.append(token, piece.begin, piece.end - piece.begin);
      }
    }
    token = std::move(out);
  }
  return tokens;
}

StatusOr<std::vector<std::string>> WordPieceDecoder::DecodeChain(
    std::vector<std::string> tokens) const {
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string& token = tokens[i];
    if (i != 0) {
      if (!prefix_.empty() && token.compare(0, prefix_.size(), prefix_) == 0) {
        token.erase(0, prefix_.size());
      } else if (prefix_.empty()) {
        // replacen("", "", 1) leaves the token as is.
      } else {
        token = " " + token;
      }
    }
    if (cleanup_) {
      static const std::pair<const char*, const char*> kRules[] = {
          {" .", "."},   {" ?", "?"},     {" !", "!"},    {" ,", ","},
          {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"},  {" do not", " don't"},
          {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
      for (const auto& [from, to] : kRules) token = ReplaceAll(std::move(token), from, to);
    }
  }
  return tokens;
}

StatusOr<std::vector<std::string>> BpeSuffixDecoder::DecodeChain(
    std::vector<std::string> tokens) const {
  for (size_t i = 0; i < tokens.size(); ++i) {
    tokens[i] = ReplaceAll(std::move(tokens[i]), suffix_, i + 1 == tokens.size() ? "" : " ");
  }
  return tokens;
}

StatusOr<std::unique_ptr<Decoder>> DecoderFromJson(const Json& value, const JsonPath& path) {
  if (value.is_null()) return std::unique_ptr<Decoder>();
  CLUEDROP_RETURN_IF_ERROR(ExpectObject(value, path));
  CLUEDROP_ASSIGN_OR_RETURN(std::string type, RequiredString(value, "type", path));
  if (type == "Sequence") {
    CLUEDROP_ASSIGN_OR_RETURN(const Json* items, RequiredArray(value, "decoders", path));
    std::vector<std::unique_ptr<Decoder>> parsed;
    for (size_t i = 0; i < items->size(); ++i) {
      const JsonPath item_path = path.Key("decoders").Index(i);
      if ((*items)[i].is_null()) return item_path.Error("expected an object, got null");
      CLUEDROP_ASSIGN_OR_RETURN(auto item, DecoderFromJson((*items)[i], item_path));
      parsed.push_back(std::move(item));
    }
    return std::unique_ptr<Decoder>(new SequenceDecoder(std::move(parsed)));
  }
  if (type == "ByteLevel") return std::unique_ptr<Decoder>(new ByteLevelDecoder());
  if (type == "ByteFallback") return std::unique_ptr<Decoder>(new ByteFallbackDecoder());
  if (type == "Fuse") return std::unique_ptr<Decoder>(new FuseDecoder());
  if (type == "Metaspace") {
    // Same fields as the Metaspace pre-tokenizer.
    CLUEDROP_ASSIGN_OR_RETURN(auto pre, PreTokenizerFromJson(value, path));
    (void)pre;
    CLUEDROP_ASSIGN_OR_RETURN(char32_t replacement, RequiredChar(value, "replacement", path));
    CLUEDROP_ASSIGN_OR_RETURN(std::optional<std::string> scheme_name,
                              OptionalString(value, "prepend_scheme", path));
    PrependScheme scheme = PrependScheme::kAlways;
    if (scheme_name && *scheme_name == "first") scheme = PrependScheme::kFirst;
    if (scheme_name && *scheme_name == "never") scheme = PrependScheme::kNever;
    if (!scheme_name) {
      CLUEDROP_ASSIGN_OR_RETURN(bool add_prefix_space,
                                BoolOr(value, "add_prefix_space", path, true));
      if (!add_prefix_space) scheme = PrependScheme::kNever;
    }
    return std::unique_ptr<Decoder>(new MetaspaceDecoder(replacement, scheme));
  }
  if (type == "Strip") {
    CLUEDROP_ASSIGN_OR_RETURN(char32_t content, RequiredChar(value, "content", path));
    constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
    CLUEDROP_ASSIGN_OR_RETURN(int64_t start, IntOr(value, "start", path, 0, 0, kMax));
    CLUEDROP_ASSIGN_OR_RETURN(int64_t stop, IntOr(value, "stop", path, 0, 0, kMax));
    return std::unique_ptr<Decoder>(
        new StripDecoder(content, static_cast<size_t>(start), static_cast<size_t>(stop)));
  }
  if (type == "Replace") {
    const Json* pattern = FindMember(value, "pattern");
    if (pattern == nullptr) return path.Key("pattern").Error("missing");
    CLUEDROP_ASSIGN_OR_RETURN(auto regex, RegexFromPatternJson(*pattern, path.Key("pattern")));
    CLUEDROP_ASSIGN_OR_RETURN(std::string content, RequiredString(value, "content", path));
    return std::unique_ptr<Decoder>(new ReplaceDecoder(std::move(regex), std::move(content)));
  }
  if (type == "WordPiece") {
    CLUEDROP_ASSIGN_OR_RETURN(std::optional<std::string> prefix,
                              OptionalString(value, "prefix", path));
    CLUEDROP_ASSIGN_OR_RETURN(bool cleanup, BoolOr(value, "cleanup", path, true));
    return std::unique_ptr<Decoder>(new WordPieceDecoder(prefix.value_or("##"), cleanup));
  }
  if (type == "BPEDecoder") {
    CLUEDROP_ASSIGN_OR_RETURN(std::optional<std::string> suffix,
                              OptionalString(value, "suffix", path));
    return std::unique_ptr<Decoder>(new BpeSuffixDecoder(suffix.value_or("</w>")));
  }
  return path.Key("type").Error("unsupported '" + type + "'");
}

}  // namespace cluedrop::model::tokenizer

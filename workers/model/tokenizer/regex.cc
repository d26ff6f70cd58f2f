#include "workers/model/tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cstring>

#include "workers/model/tokenizer/utf8.h"

namespace cluedrop::model::tokenizer {
namespace {

constexpr std::string_view kWordClass = R"(\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control})";
constexpr std::string_view kSpaceClass = R"(\p{White_Space})";

std::string Pcre2Message(int code) {
  PCRE2_UCHAR buffer[256];
  if (pcre2_get_error_message(code, buffer, sizeof(buffer)) < 0) {
    return "PCRE2 error " + std::to_string(code);
  }
  return reinterpret_cast<const char*>(buffer);
}

pcre2_code* AsCode(void* p) { return static_cast<pcre2_code*>(p); }

// A larger JIT stack, per thread, for patterns that exhaust the default 32 KiB.
struct BigJitStack {
  pcre2_jit_stack* stack = nullptr;
  pcre2_match_context* context = nullptr;
  BigJitStack() {
    stack = pcre2_jit_stack_create(64 * 1024, 16 * 1024 * 1024, nullptr);
    context = pcre2_match_context_create(nullptr);
    if (stack != nullptr && context != nullptr) {
      pcre2_jit_stack_assign(context, nullptr, stack);
    }
  }
  ~BigJitStack() {
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(stack);
  }
};

}  // namespace

std::string OnigToPcre2(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() + 16);
  bool in_class = false;
  bool class_start = false;  // just after '[' or '[^' (a ']' there is literal)
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char n = pattern[i + 1];
      ++i;
      class_start = false;
      switch (n) {
        case 's':
          out += in_class ? std::string(kSpaceClass) : "[" + std::string(kSpaceClass) + "]";
          continue;
        case 'S':
          out += R"(\P{White_Space})";
          continue;
        case 'w':
          out += in_class ? std::string(kWordClass) : "[" + std::string(kWordClass) + "]";
          continue;
        case 'W':
          if (!in_class) {
            out += "[^" + std::string(kWordClass) + "]";
            continue;
          }
          break;
        default:
          break;
      }
      out.push_back('\\');
      out.push_back(n);
      continue;
    }
    if (in_class) {
      if (c == ']' && !class_start) in_class = false;
      class_start = class_start && c == '^';
      out.push_back(c);
      continue;
    }
    if (c == '[') {
      in_class = true;
      class_start = true;
    }
    out.push_back(c);
  }
  return out;
}

std::string EscapeRegexLiteral(std::string_view literal) {
  std::string out;
  out.reserve(literal.size() * 2);
  for (char c : literal) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x80 &&
        !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      if (u < 0x20 || u == 0x7F) {
        static const char kHex[] = "0123456789abcdef";
        out += "\\x{";
        out.push_back(kHex[u >> 4]);
        out.push_back(kHex[u & 15]);
        out += "}";
        continue;
      }
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

Regex::~Regex() { pcre2_code_free(AsCode(code_)); }

StatusOr<std::unique_ptr<Regex>> Regex::Compile(std::string_view pattern) {
  return CompilePcre2(pattern, OnigToPcre2(pattern));
}

StatusOr<std::unique_ptr<Regex>> Regex::Literal(std::string_view literal) {
  return CompilePcre2(literal, EscapeRegexLiteral(literal));
}

StatusOr<std::unique_ptr<Regex>> Regex::CompilePcre2(std::string_view onig_pattern,
                                                     std::string pcre2_pattern) {
  if (!IsValidUtf8(onig_pattern)) return InvalidArgumentError("pattern is not valid UTF-8");
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pcre2_pattern.data()), pcre2_pattern.size(),
                    PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE, &error_code, &error_offset, nullptr);
  if (code == nullptr) {
    return InvalidArgumentError("bad regex '" + std::string(onig_pattern) +
                                "': " + Pcre2Message(error_code) + " (PCRE2 offset " +
                                std::to_string(error_offset) + ")");
  }
  // JIT is an optimisation only; the interpreter is used when it fails.
  (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  std::unique_ptr<Regex> regex(new Regex());
  regex->pattern_ = std::string(onig_pattern);
  regex->code_ = code;
  return regex;
}

StatusOr<std::vector<std::pair<size_t, size_t>>> Regex::FindAll(std::string_view text) const {
  if (!IsValidUtf8(text)) return InvalidArgumentError("regex subject is not valid UTF-8");
  std::vector<std::pair<size_t, size_t>> matches;
  pcre2_code* code = AsCode(code_);
  pcre2_match_data* data = pcre2_match_data_create_from_pattern(code, nullptr);
  if (data == nullptr) return ResourceExhaustedError("out of memory for PCRE2 match data");
  const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t last_end = 0;
  bool have_last_match = false;
  size_t last_match_end = 0;
  Status status;
  while (last_end <= text.size()) {
    int rc = pcre2_match(code, subject, text.size(), last_end, PCRE2_NO_UTF_CHECK, data, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      thread_local BigJitStack big;
      rc = pcre2_match(code, subject, text.size(), last_end, PCRE2_NO_UTF_CHECK, data, big.context);
      if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
        rc = pcre2_match(code, subject, text.size(), last_end, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT,
                         data, nullptr);
      }
    }
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      status = ResourceExhaustedError("regex '" + pattern_ + "': " + Pcre2Message(rc));
      break;
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
    const size_t start = ovector[0];
    const size_t end = ovector[1];
    if (start == end && have_last_match && last_match_end == end) {
      // Skip an empty match right after the previous one; step one char.
      if (last_end >= text.size()) break;
      last_end += Utf8CharLen(static_cast<unsigned char>(text[last_end]));
      continue;
    }
    if (end < start) break;  // \K tricks; not used by tokenizer patterns
    matches.emplace_back(start, end);
    last_end = end;
    have_last_match = true;
    last_match_end = end;
  }
  pcre2_match_data_free(data);
  if (!status.ok()) return status;
  return matches;
}

bool Regex::FullMatch(std::string_view text) const {
  if (!IsValidUtf8(text)) return false;
  pcre2_code* code = AsCode(code_);
  pcre2_match_data* data = pcre2_match_data_create_from_pattern(code, nullptr);
  if (data == nullptr) return false;
  const int rc =
      pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0,
                  PCRE2_NO_UTF_CHECK | PCRE2_ANCHORED | PCRE2_ENDANCHORED, data, nullptr);
  pcre2_match_data_free(data);
  return rc >= 0;
}

bool IsWordChar(char32_t c) {
  if (c < 0x80) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  }
  static const Regex* const kWord = [] {
    auto compiled = Regex::Compile("\\w");
    return compiled.ok() ? std::move(compiled).value().release() : nullptr;
  }();
  return kWord != nullptr && kWord->FullMatch(EncodeUtf8(c));
}

}  // namespace cluedrop::model::tokenizer

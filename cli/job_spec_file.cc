#include "cli/job_spec_file.h"

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/absl_status.h"
#include "base/file.h"
#include "cli/yaml_message.h"

namespace cluedrop::cli {
namespace {

bool IsJson(absl::string_view text, absl::string_view name) {
  if (absl::EndsWithIgnoreCase(name, ".json")) return true;
  absl::string_view stripped = absl::StripLeadingAsciiWhitespace(text);
  return !stripped.empty() && stripped.front() == '{';
}

void AppendUtf8(uint32_t code_point, std::string* out) {
  if (code_point < 0x80) {
    out->push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// The value of the `\uXXXX` escape at `text[at]`, or -1.
int64_t UnicodeEscape(absl::string_view text, size_t at) {
  uint32_t value = 0;
  if (at + 6 > text.size() || text[at] != '\\' || text[at + 1] != 'u') return -1;
  if (!absl::SimpleHexAtoi(text.substr(at + 2, 4), &value)) return -1;
  return value;
}

// Valid JSON as YAML that the YAML parser reads: tabs become spaces (JSON
// allows them only between tokens) and surrogate-pair escapes
// (`\ud83d\ude00`, which YAML parsers reject) become the UTF-8 character.
std::string JsonAsYaml(absl::string_view json) {
  std::string out;
  out.reserve(json.size());
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (!in_string) {
      if (c == '"') in_string = true;
      out.push_back(c == '\t' ? ' ' : c);
      continue;
    }
    if (c == '"') {
      in_string = false;
    } else if (c == '\\' && i + 1 < json.size()) {
      const int64_t high = UnicodeEscape(json, i);
      const int64_t low = UnicodeEscape(json, i + 6);
      if (high >= 0xD800 && high <= 0xDBFF && low >= 0xDC00 && low <= 0xDFFF) {
        AppendUtf8(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00), &out);
        i += 11;
        continue;
      }
      out.push_back(c);
      out.push_back(json[++i]);
      continue;
    }
    out.push_back(c);
  }
  return out;
}

absl::Status CheckJsonSyntax(absl::string_view text, absl::string_view name) {
  try {
    [[maybe_unused]] const nlohmann::json parsed = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    // parse_error, and out_of_range for a number that overflows ("4E422"):
    // job_spec_fuzz found the latter aborting `cluedrop submit`.
    absl::string_view what = e.what();
    const size_t bracket = what.find("] ");
    if (bracket != absl::string_view::npos) what.remove_prefix(bracket + 2);
    return absl::InvalidArgumentError(absl::StrCat(name, ": invalid JSON: ", what));
  }
  return absl::OkStatus();
}

// A pre-scan that names the line of the mistakes the parser would report
// less clearly: a ',' token in block context ("," or "- a" then "," or
// "\"a\", b" or "[a], b"; YAML allows ',' there only inside a plain scalar,
// "name: a, b"), control characters, invalid UTF-8, deep flow nesting, and
// tags, anchors and aliases. It follows flow collections, quotes, comments
// and block scalars (| and >) well enough to leave valid specs alone.
// History: it was written as a fence around yaml-cpp 0.7, which allocated
// without bound on such inputs (job_spec_fuzz found 11; they are in
// cli/job_spec_corpus); the parser is now libyaml (yaml_tree.h), which bounds
// its own work, so the scan is for the messages, not for safety.
constexpr int kMaxFlowDepth = 16;

absl::Status RefuseBlockComma(const std::string& text, absl::string_view name) {
  // YAML streams are printable text (YAML 1.2, c-printable): no C0 control
  // characters but tab, LF and CR, no DEL. And they are UTF-8.
  size_t control_line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') ++control_line;
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(name, ":", control_line,
                                                     ": invalid YAML: control character 0x",
                                                     absl::Hex(u, absl::kZeroPad2)));
    }
    if (u < 0x80) continue;
    // A UTF-8 sequence: its length from the lead byte, no overlongs or
    // surrogates, at most U+10FFFF.
    const int extra = u >= 0xC2 && u <= 0xDF   ? 1
                      : u >= 0xE0 && u <= 0xEF ? 2
                      : u >= 0xF0 && u <= 0xF4 ? 3
                                               : -1;
    bool valid = extra > 0;
    for (int k = 1; valid && k <= extra; ++k) {
      valid = i + k < text.size() && (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    }
    if (valid && extra >= 2) {
      const auto second = static_cast<unsigned char>(text[i + 1]);
      valid = !(u == 0xE0 && second < 0xA0) && !(u == 0xED && second >= 0xA0) &&
              !(u == 0xF0 && second < 0x90) && !(u == 0xF4 && second >= 0x90);
    }
    if (!valid) {
      return absl::InvalidArgumentError(absl::StrCat(name, ":", control_line,
                                                     ": invalid YAML: not UTF-8 (byte 0x",
                                                     absl::Hex(u, absl::kZeroPad2), ")"));
    }
    i += static_cast<size_t>(extra);
  }
  int flow_depth = 0;
  char quote = 0;                 // inside '...' or "..." (may span lines)
  int block_scalar_indent = -1;   // inside a | or > scalar: lines indented more
  int block_content_indent = -1;  // ... as much as its first content line
  size_t line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    const size_t indent = line.find_first_not_of(" \t\r");
    if (block_scalar_indent >= 0) {
      // The first non-empty line sets the content's indentation; a line
      // indented less ends the scalar.
      if (indent == absl::string_view::npos) continue;
      if (block_content_indent < 0 && static_cast<int>(indent) > block_scalar_indent) {
        block_content_indent = static_cast<int>(indent);
      }
      if (block_content_indent >= 0 && static_cast<int>(indent) >= block_content_indent) {
        continue;  // scalar content
      }
      block_scalar_indent = -1;
      block_content_indent = -1;
    }
    if (indent == absl::string_view::npos) continue;
    // In block context: whether the next token starts a value (line start,
    // after "- ", ": ", "? ", "--- ") or follows a finished quoted scalar or
    // flow collection. A ',' there is the token yaml-cpp cannot take.
    bool value_start = quote == 0 && flow_depth == 0;
    bool after_node = false;
    char last = 0;  // the line's last significant character outside quotes
    for (size_t k = indent; k < line.size(); ++k) {
      const char c = line[k];
      if (quote != 0) {
        if (quote == '"' && c == '\\') {
          ++k;
        } else if (c == quote) {
          if (quote == '\'' && k + 1 < line.size() && line[k + 1] == '\'') {
            ++k;  // '' inside '...'
          } else {
            quote = 0;
            after_node = flow_depth == 0;
            last = c;
          }
        }
        continue;
      }
      if (c == ' ' || c == '\t' || c == '\r') continue;
      if (c == '#' && (k == 0 || line[k - 1] == ' ' || line[k - 1] == '\t')) break;  // comment
      const bool spaced = k + 1 >= line.size() || line[k + 1] == ' ' || line[k + 1] == '\t';
      // After a quoted scalar or a closed [...] / {...} in block context
      // only ':' (it was a key) or a comment may follow on the line.
      if (flow_depth == 0 && after_node && c != ':' && c != ',') {
        return absl::InvalidArgumentError(
            absl::StrCat(name, ":", line_number, ": invalid YAML: unexpected '", std::string(1, c),
                         "' after a quoted or bracketed value"));
      }
      if (flow_depth == 0 && c == ',' && (value_start || after_node)) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, ":", line_number,
                         ": invalid YAML: ',' cannot start a value outside [...] or {...}"));
      }
      // Tags, anchors and aliases: a job spec needs none, and yaml-cpp
      // mishandles them too (a tag followed by ',' loops like the above).
      if ((c == '!' || c == '&' || c == '*') &&
          (value_start || (k > indent && (line[k - 1] == '[' || line[k - 1] == '{' ||
                                          line[k - 1] == ',' || line[k - 1] == ' ')))) {
        const bool plain_text = !value_start && flow_depth == 0;
        if (!plain_text) {
          return absl::InvalidArgumentError(
              absl::StrCat(name, ":", line_number, ": YAML tags, anchors and aliases ('",
                           std::string(1, c), "') are not supported in job specs"));
        }
      }
      if (flow_depth == 0 && (c == '-' || c == ':' || c == '?') && spaced) {
        value_start = true;  // an indicator: a value follows
        after_node = false;
      } else if (flow_depth == 0 && c == '-' && k == 0 && absl::StartsWith(line, "---") &&
                 (line.size() == 3 || line[3] == ' ' || line[3] == '\t')) {
        value_start = true;  // a document marker
        after_node = false;
        k += 2;
      } else if (c == '"' || c == '\'') {
        quote = c;
        value_start = false;
      } else if (c == '[' || c == '{') {
        // yaml-cpp's cost grows steeply with unclosed nesting; a spec nests
        // a few levels.
        if (++flow_depth > kMaxFlowDepth) {
          return absl::InvalidArgumentError(absl::StrCat(
              name, ":", line_number, ": [...] / {...} nested more than ", kMaxFlowDepth, " deep"));
        }
        value_start = false;
      } else if (c == ']' || c == '}') {
        if (flow_depth > 0 && --flow_depth == 0) after_node = true;
      } else if (flow_depth == 0) {
        value_start = false;  // a plain scalar: its commas are text
        after_node = false;
      }
      last = c;
    }
    // "key: |", "key: >-", "- |+2": the following more-indented lines are text.
    if (quote == 0 && flow_depth == 0 && last != 0 && last != '"' && last != '\'') {
      absl::string_view trimmed = absl::StripTrailingAsciiWhitespace(line);
      const size_t hash = trimmed.find(" #");
      if (hash != absl::string_view::npos) {
        trimmed = absl::StripTrailingAsciiWhitespace(trimmed.substr(0, hash));
      }
      size_t end = trimmed.size();
      while (end > 0 && (trimmed[end - 1] == '-' || trimmed[end - 1] == '+' ||
                         (trimmed[end - 1] >= '1' && trimmed[end - 1] <= '9'))) {
        --end;
      }
      if (end > 0 && (trimmed[end - 1] == '|' || trimmed[end - 1] == '>') &&
          (end == 1 || trimmed[end - 2] == ' ')) {
        block_scalar_indent = static_cast<int>(indent);
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<YamlNode> LoadSingleDocument(const std::string& text, absl::string_view name) {
  CLUEDROP_RETURN_IF_ABSL_ERROR(RefuseBlockComma(text, name));
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<YamlNode> documents, ParseYaml(text, name));
  if (documents.empty() || documents[0].IsNull()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": the job spec is empty"));
  }
  if (documents.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ":", documents[1].line(), ": expected one YAML document, found more"));
  }
  return std::move(documents[0]);
}

void ResolvePath(const std::filesystem::path& base, std::string* path) {
  if (path->empty() || absl::StrContains(*path, "://")) return;
  const std::filesystem::path p(*path);
  if (p.is_absolute()) return;
  *path = (base / p).lexically_normal().string();
}

void ResolveModel(const std::filesystem::path& base, v1::ReferenceModel* model) {
  ResolvePath(base, model->mutable_checkpoint_dir());
}

}  // namespace

absl::StatusOr<v1::JobSpec> ParseJobSpecText(absl::string_view text, absl::string_view name,
                                             JobSpecLines* lines) {
  JobSpecLines local;
  if (lines == nullptr) lines = &local;
  lines->set_file(std::string(name));
  std::string yaml(text);
  if (IsJson(text, name)) {
    CLUEDROP_RETURN_IF_ABSL_ERROR(CheckJsonSyntax(text, name));
    yaml = JsonAsYaml(text);
  }
  CLUEDROP_ASSIGN_OR_RETURN(YamlNode root, LoadSingleDocument(yaml, name));
  v1::JobSpec spec;
  CLUEDROP_RETURN_IF_ABSL_ERROR(YamlToMessage(root, &spec, lines));
  return spec;
}

absl::StatusOr<v1::JobSpec> ParseJobSpecFile(const std::string& path, JobSpecLines* lines) {
  StatusOr<std::string> read = ReadFile(path);
  if (!read.ok()) return ToAbslStatus(read.status());
  std::string text = std::move(*read);
  CLUEDROP_ASSIGN_OR_RETURN(v1::JobSpec spec, ParseJobSpecText(text, path, lines));
  std::error_code error;
  std::filesystem::path dir = std::filesystem::absolute(path, error).parent_path();
  if (error) {
    return absl::InternalError(
        absl::StrCat(path, ": cannot make the path absolute: ", error.message()));
  }
  ResolveJobSpecPaths(dir.string(), &spec);
  return spec;
}

void ResolveJobSpecPaths(const std::string& base_dir, v1::JobSpec* spec) {
  const std::filesystem::path base(base_dir);
  if (spec->has_corpus()) {
    for (std::string& path : *spec->mutable_corpus()->mutable_paths()) ResolvePath(base, &path);
  }
  if (spec->has_reference_models()) {
    v1::ReferenceModelsSpec* models = spec->mutable_reference_models();
    if (models->has_large()) ResolveModel(base, models->mutable_large());
    if (models->has_small()) ResolveModel(base, models->mutable_small());
  }
  if (spec->has_target_model()) {
    v1::TargetModelSpec* target = spec->mutable_target_model();
    if (target->has_checkpoint_dir()) ResolvePath(base, target->mutable_checkpoint_dir());
    if (target->has_from_scratch_config()) {
      ResolvePath(base, target->mutable_from_scratch_config());
    }
    ResolvePath(base, target->mutable_tokenizer_dir());
  }
  if (spec->has_evaluation()) {
    ResolvePath(base, spec->mutable_evaluation()->mutable_prompt_table());
    ResolvePath(base, spec->mutable_evaluation()->mutable_fewshot_pool());
  }
  ResolvePath(base, spec->mutable_output_dir());
}

}  // namespace cluedrop::cli

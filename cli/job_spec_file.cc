#include "cli/job_spec_file.h"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/absl_status.h"
#include "cli/yaml_message.h"
#include "runtime/tls.h"

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

// Valid JSON as YAML that yaml-cpp reads: tabs become spaces (JSON allows
// them only between tokens) and surrogate-pair escapes (`\ud83d\ude00`,
// which yaml-cpp rejects) become the UTF-8 character.
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
  } catch (const nlohmann::json::parse_error& e) {
    absl::string_view what = e.what();
    const size_t bracket = what.find("] ");
    if (bracket != absl::string_view::npos) what.remove_prefix(bracket + 2);
    return absl::InvalidArgumentError(absl::StrCat(name, ": invalid JSON: ", what));
  }
  return absl::OkStatus();
}

absl::StatusOr<YAML::Node> LoadSingleDocument(const std::string& text, absl::string_view name) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(name, ":", e.mark.line + 1, ":",
                                                   e.mark.column + 1, ": invalid YAML: ", e.msg));
  }
  if (documents.empty() || documents[0].IsNull()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": the job spec is empty"));
  }
  if (documents.size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat(name, ":", documents[1].Mark().line + 1,
                                                   ": expected one YAML document, found more"));
  }
  return documents[0];
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
  CLUEDROP_ASSIGN_OR_RETURN(YAML::Node root, LoadSingleDocument(yaml, name));
  v1::JobSpec spec;
  CLUEDROP_RETURN_IF_ABSL_ERROR(YamlToMessage(root, &spec, lines));
  return spec;
}

absl::StatusOr<v1::JobSpec> ParseJobSpecFile(const std::string& path, JobSpecLines* lines) {
  CLUEDROP_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
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

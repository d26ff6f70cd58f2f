#include "runtime/flags.h"

#include <cstdlib>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace cluedrop {
namespace {

std::string Normalize(absl::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c == '-') c = '_';
  }
  return out;
}

absl::StatusOr<bool> ParseBool(absl::string_view text) {
  std::string lower = absl::AsciiStrToLower(text);
  if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") return true;
  if (lower == "false" || lower == "0" || lower == "no" || lower == "off") return false;
  return absl::InvalidArgumentError(absl::StrCat("expected true or false, got '", text, "'"));
}

template <typename T>
std::function<absl::Status(absl::string_view)> IntegerAssigner(T* value) {
  return [value](absl::string_view text) -> absl::Status {
    T parsed;
    if (!absl::SimpleAtoi(text, &parsed)) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected an integer in the type's range, got '", text, "'"));
    }
    *value = parsed;
    return absl::OkStatus();
  };
}

bool LooksLikeBoolValue(absl::string_view text) { return ParseBool(text).ok(); }

}  // namespace

FlagSet::FlagSet(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

FlagSet& FlagSet::AddFlag(absl::string_view name, std::string help, std::string default_text,
                          std::string type_name, bool is_bool,
                          std::function<absl::Status(absl::string_view)> assign) {
  Flag flag;
  flag.name = Normalize(name);
  flag.help = std::move(help);
  flag.default_text = std::move(default_text);
  flag.type_name = std::move(type_name);
  flag.is_bool = is_bool;
  flag.assign = std::move(assign);
  index_[flag.name] = flags_.size();
  flags_.push_back(std::move(flag));
  return *this;
}

FlagSet& FlagSet::Add(absl::string_view name, std::string* value, std::string help) {
  return AddFlag(name, std::move(help), *value, "string", false, [value](absl::string_view text) {
    *value = std::string(text);
    return absl::OkStatus();
  });
}

FlagSet& FlagSet::Add(absl::string_view name, bool* value, std::string help) {
  return AddFlag(name, std::move(help), *value ? "true" : "false", "bool", true,
                 [value](absl::string_view text) -> absl::Status {
                   absl::StatusOr<bool> parsed = ParseBool(text);
                   if (!parsed.ok()) return parsed.status();
                   *value = *parsed;
                   return absl::OkStatus();
                 });
}

FlagSet& FlagSet::Add(absl::string_view name, int32_t* value, std::string help) {
  return AddFlag(name, std::move(help), absl::StrCat(*value), "int", false, IntegerAssigner(value));
}
FlagSet& FlagSet::Add(absl::string_view name, int64_t* value, std::string help) {
  return AddFlag(name, std::move(help), absl::StrCat(*value), "int", false, IntegerAssigner(value));
}
FlagSet& FlagSet::Add(absl::string_view name, uint32_t* value, std::string help) {
  return AddFlag(name, std::move(help), absl::StrCat(*value), "uint", false,
                 IntegerAssigner(value));
}
FlagSet& FlagSet::Add(absl::string_view name, uint64_t* value, std::string help) {
  return AddFlag(name, std::move(help), absl::StrCat(*value), "uint", false,
                 IntegerAssigner(value));
}

FlagSet& FlagSet::Add(absl::string_view name, double* value, std::string help) {
  return AddFlag(
      name, std::move(help), absl::StrCat(*value), "float", false,
      [value](absl::string_view text) -> absl::Status {
        double parsed;
        if (!absl::SimpleAtod(text, &parsed)) {
          return absl::InvalidArgumentError(absl::StrCat("expected a number, got '", text, "'"));
        }
        *value = parsed;
        return absl::OkStatus();
      });
}

FlagSet& FlagSet::Add(absl::string_view name, std::vector<std::string>* value, std::string help) {
  return AddFlag(name, std::move(help), absl::StrJoin(*value, ","), "string, repeatable", false,
                 [value, cleared = false](absl::string_view text) mutable {
                   // The first occurrence replaces the defaults.
                   if (!cleared) value->clear();
                   cleared = true;
                   value->emplace_back(text);
                   return absl::OkStatus();
                 });
}

FlagSet& FlagSet::Env(std::string var) {
  if (!flags_.empty()) flags_.back().env = std::move(var);
  return *this;
}

FlagSet& FlagSet::Required() {
  if (!flags_.empty()) flags_.back().required = true;
  return *this;
}

FlagSet::Flag* FlagSet::Find(absl::string_view name) {
  auto it = index_.find(Normalize(name));
  return it == index_.end() ? nullptr : &flags_[it->second];
}

bool FlagSet::IsSet(absl::string_view name) const {
  auto it = index_.find(Normalize(name));
  return it != index_.end() && flags_[it->second].set;
}

absl::Status FlagSet::Assign(Flag& flag, absl::string_view value, absl::string_view source) {
  absl::Status status = flag.assign(value);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", status.message()));
  }
  flag.set = true;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> FlagSet::Parse(int argc, char** argv, int first) {
  std::vector<std::string> args;
  for (int i = first; i < argc; ++i) args.emplace_back(argv[i]);
  return Parse(args);
}

absl::StatusOr<std::vector<std::string>> FlagSet::Parse(const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      positional.insert(positional.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (arg == "--help" || arg == "-h" || arg == "-help") {
      help_requested_ = true;
      continue;
    }
    if (arg.size() < 2 || arg[0] != '-' || arg == "-") {
      positional.push_back(arg);
      continue;
    }
    absl::string_view body(arg);
    body.remove_prefix(body.substr(0, 2) == "--" ? 2 : 1);
    absl::string_view name = body;
    std::optional<absl::string_view> inline_value;
    if (size_t eq = body.find('='); eq != absl::string_view::npos) {
      name = body.substr(0, eq);
      inline_value = body.substr(eq + 1);
    }
    Flag* flag = Find(name);
    if (flag == nullptr && !inline_value && name.substr(0, 2) == "no") {
      Flag* negated = Find(name.substr(2));
      if (negated != nullptr && negated->is_bool) {
        absl::Status status = Assign(*negated, "false", absl::StrCat("--", negated->name));
        if (!status.ok()) return status;
        continue;
      }
    }
    if (flag == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", Normalize(name), " (see ", program_, " --help)"));
    }
    std::string source = absl::StrCat("--", flag->name);
    std::string value;
    if (inline_value) {
      value = std::string(*inline_value);
    } else if (flag->is_bool) {
      // `--flag true|false` consumes the next word only when it is a boolean.
      if (i + 1 < args.size() && LooksLikeBoolValue(args[i + 1])) {
        value = args[++i];
      } else {
        value = "true";
      }
    } else {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat(source, ": missing value"));
      }
      value = args[++i];
    }
    absl::Status status = Assign(*flag, value, source);
    if (!status.ok()) return status;
  }
  for (Flag& flag : flags_) {
    if (flag.set || flag.env.empty()) continue;
    if (const char* env = std::getenv(flag.env.c_str()); env != nullptr && *env != '\0') {
      absl::Status status = Assign(flag, env, absl::StrCat("$", flag.env));
      if (!status.ok()) return status;
    }
  }
  if (!help_requested_) {
    for (const Flag& flag : flags_) {
      if (flag.required && !flag.set) {
        std::string hint = flag.env.empty() ? "" : absl::StrCat(" (or set $", flag.env, ")");
        return absl::InvalidArgumentError(
            absl::StrCat("--", flag.name, ": required flag is missing", hint));
      }
    }
  }
  return positional;
}

std::string FlagSet::Usage() const {
  std::string out = absl::StrCat(program_, ": ", summary_, "\n");
  for (const std::string& note : notes_) absl::StrAppend(&out, "\n", note, "\n");
  if (!flags_.empty()) absl::StrAppend(&out, "\nFlags:\n");
  for (const Flag& flag : flags_) {
    absl::StrAppend(&out, "  --", flag.name, " (", flag.type_name, ")");
    if (flag.required) {
      absl::StrAppend(&out, " required");
    } else {
      absl::StrAppend(&out, " default: '", flag.default_text, "'");
    }
    if (!flag.env.empty()) absl::StrAppend(&out, " env: $", flag.env);
    absl::StrAppend(&out, "\n      ", flag.help, "\n");
  }
  absl::StrAppend(&out, "  --help\n      Print this text and exit.\n");
  return out;
}

}  // namespace cluedrop

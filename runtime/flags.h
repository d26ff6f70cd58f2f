// Command-line flags bound to the fields of an *Options struct.
//
// Every daemon and CLI subcommand fills its documented Options struct in one
// place: register each field once, parse, and the struct holds the result.
// Flags accept `--name=value`, `--name value`, and for booleans `--name`,
// `--noname`, `--name=true|false` or `--name true|false`. Dashes and
// underscores in names are interchangeable (`--max-new-tokens` ==
// `--max_new_tokens`). `--` ends flag parsing. A flag may also take its value
// from an environment variable when it is absent from the command line.
//
// Example:
//   ServerOptions options;
//   FlagSet flags("cluedrop-coordinator", "Runs the cluedrop coordinator.");
//   flags.Add("grpc_address", &options.grpc_address, "host:port to serve gRPC on");
//   absl::StatusOr<std::vector<std::string>> args = flags.Parse(argc, argv);
//   if (!args.ok()) { std::cerr << args.status().message(); return 2; }
//   if (flags.help_requested()) { std::cout << flags.Usage(); return 0; }
//
// Not thread-safe; the bound fields must outlive the FlagSet.
#ifndef CLUEDROP_RUNTIME_FLAGS_H_
#define CLUEDROP_RUNTIME_FLAGS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cluedrop {

class FlagSet {
 public:
  FlagSet(std::string program, std::string summary);

  // Binds `--name` to `*value`. The current value is the documented default.
  FlagSet& Add(absl::string_view name, std::string* value, std::string help);
  FlagSet& Add(absl::string_view name, bool* value, std::string help);
  FlagSet& Add(absl::string_view name, int32_t* value, std::string help);
  FlagSet& Add(absl::string_view name, int64_t* value, std::string help);
  FlagSet& Add(absl::string_view name, uint32_t* value, std::string help);
  FlagSet& Add(absl::string_view name, uint64_t* value, std::string help);
  FlagSet& Add(absl::string_view name, double* value, std::string help);
  // Repeatable flag: each occurrence appends one value.
  FlagSet& Add(absl::string_view name, std::vector<std::string>* value, std::string help);

  // The flag added last falls back to environment variable `var`.
  FlagSet& Env(std::string var);
  // The flag added last must be given (on the command line or through Env).
  FlagSet& Required();

  // Parses argv[first..argc). Returns the positional arguments, or
  // INVALID_ARGUMENT naming the flag ("--grpc_port: expected an integer, got
  // 'x'", "unknown flag --foo"). `--help`/`-h` sets help_requested() and
  // skips the Required() check.
  absl::StatusOr<std::vector<std::string>> Parse(int argc, char** argv, int first = 1);
  absl::StatusOr<std::vector<std::string>> Parse(const std::vector<std::string>& args);

  bool help_requested() const { return help_requested_; }
  // True when `name` was given on the command line or through Env.
  bool IsSet(absl::string_view name) const;

  // Multi-line usage text: summary, then every flag with its help and default.
  std::string Usage() const;

  // Appends free-form text (e.g. a "Status:" paragraph) to Usage().
  void AddUsageNote(std::string note) { notes_.push_back(std::move(note)); }

 private:
  struct Flag {
    std::string name;
    std::string help;
    std::string default_text;
    std::string type_name;
    bool is_bool = false;
    bool required = false;
    bool set = false;
    std::string env;
    std::function<absl::Status(absl::string_view)> assign;
  };
  FlagSet& AddFlag(absl::string_view name, std::string help, std::string default_text,
                   std::string type_name, bool is_bool,
                   std::function<absl::Status(absl::string_view)> assign);
  absl::Status Assign(Flag& flag, absl::string_view value, absl::string_view source);
  Flag* Find(absl::string_view name);

  std::string program_;
  std::string summary_;
  std::vector<std::string> notes_;
  std::vector<Flag> flags_;
  std::map<std::string, size_t, std::less<>> index_;
  bool help_requested_ = false;
};

}  // namespace cluedrop

#endif  // CLUEDROP_RUNTIME_FLAGS_H_

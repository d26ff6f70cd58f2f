// Where each field of a job spec file was written: field path -> line.
//
// Field paths use the proto field names, as the coordinator's validation
// errors do: `augmentation.alpha`, `corpus.paths[1]`, `labels["team"]`. The
// CLI uses the map to point a server-side error at the line of the spec file
// it came from.
//
// Example:
//   JobSpecLines lines("job.yaml");
//   lines.Set("augmentation", 10);
//   lines.Set("augmentation.alpha", 12);
//   lines.Find("augmentation.alpha");  // 12
//   lines.Find("augmentation.beta");   // 10 (the closest recorded ancestor)
//   lines.Annotate("augmentation.alpha: must be in [0, 1], got 1.3");
//     // "job.yaml:12: augmentation.alpha: must be in [0, 1], got 1.3"
//
// Not thread-safe for writes; const methods may be called concurrently.
#ifndef CLUEDROP_CLI_JOB_SPEC_LINES_H_
#define CLUEDROP_CLI_JOB_SPEC_LINES_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace cluedrop::cli {

class JobSpecLines {
 public:
  JobSpecLines() = default;
  // `file` names the spec in annotations (as the user gave it).
  explicit JobSpecLines(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }
  void set_file(std::string file) { file_ = std::move(file); }

  // Records that `path` was written on 1-based `line`.
  void Set(std::string path, int line) { lines_[std::move(path)] = line; }

  // The line of `path`, else of its closest recorded ancestor (`a.b[2].c` ->
  // `a.b[2]` -> `a.b` -> `a`); 0 when none is recorded. A leading `spec.`
  // (the field of SubmitJobRequest) is ignored.
  int Find(absl::string_view path) const;

  // Prefixes one error message with "FILE:LINE: ", the line found from the
  // first field path in the message (the text before a ": "), or with
  // "FILE: " when no path in it was written in the file.
  std::string Annotate(absl::string_view error) const;

  // Splits a message holding several errors joined by "; " (the
  // coordinator's validation errors) and annotates each.
  std::vector<std::string> AnnotateAll(absl::string_view message) const;

  const std::map<std::string, int>& lines() const { return lines_; }

 private:
  std::string file_;
  std::map<std::string, int> lines_;
};

}  // namespace cluedrop::cli

#endif  // CLUEDROP_CLI_JOB_SPEC_LINES_H_

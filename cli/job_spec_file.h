// Job spec files: a v1::JobSpec written as YAML or JSON, as `cluedrop submit`
// reads them.
//
// Format. One mapping whose keys are JobSpec's proto field names (snake_case;
// the lowerCamel JSON names are accepted too), nested as in job.proto. Enums
// take the full value name (`AUGMENTATION_MODE_CONTRAST`) or the short one,
// in any case (`contrast`). Fields left out keep the proto default, so the
// coordinator applies its documented defaults. JSON is chosen by a `.json`
// extension or by text that starts with `{`; everything else is YAML (one
// document).
//
//   name: biography-contrast
//   corpus: {paths: [bios.csv], format: csv, field_tags: true}
//   augmentation:
//     mode: contrast
//     alpha: 0.7
//
// Paths. The coordinator reads the files a spec names, so ParseJobSpecFile
// makes every relative path in it absolute against the directory of the spec
// file: corpus.paths, the reference models' and the target model's
// checkpoint_dir, target_model.from_scratch_config and tokenizer_dir,
// output_dir, evaluation.prompt_table and fewshot_pool. Absolute paths and
// values with a URI scheme (`s3://...`) are kept; `~` is not expanded.
//
// Errors are INVALID_ARGUMENT, one per line of the message, each naming the
// file, the line and the field path:
//   job.yaml:12: augmentation.alpah: unknown field (did you mean alpha?)
//   job.yaml:7: training.epochs: expected an integer, got "ten"
#ifndef CLUEDROP_CLI_JOB_SPEC_FILE_H_
#define CLUEDROP_CLI_JOB_SPEC_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cli/job_spec_lines.h"
#include "cluedrop/v1/job.pb.h"

namespace cluedrop::cli {

// Reads and parses the spec file at `path` and resolves its relative paths
// against the file's directory (made absolute). `lines`, when given, receives
// the line of every field written (for annotating server-side errors).
// NOT_FOUND when the file cannot be read; INVALID_ARGUMENT as above.
absl::StatusOr<v1::JobSpec> ParseJobSpecFile(const std::string& path,
                                             JobSpecLines* lines = nullptr);

// Parses spec text; `name` names it in errors and picks JSON when it ends in
// `.json`. Relative paths are left as written.
absl::StatusOr<v1::JobSpec> ParseJobSpecText(absl::string_view text, absl::string_view name,
                                             JobSpecLines* lines = nullptr);

// Rewrites every relative path field of `spec` (the list above) as
// `base_dir/path`, lexically normalised. Fields that are unset stay unset.
void ResolveJobSpecPaths(const std::string& base_dir, v1::JobSpec* spec);

}  // namespace cluedrop::cli

#endif  // CLUEDROP_CLI_JOB_SPEC_FILE_H_

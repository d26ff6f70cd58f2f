// Fuzzes the job-spec path a submit takes: text (JSON when it starts with
// '{', else YAML) -> JobSpec -> validation -> defaults. Any input must
// give an error or a spec; a spec the validator accepts must stay valid once
// its defaults are applied (the coordinator validates, then applies them).
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "cli/job_spec_file.h"
#include "jobspec/job_spec_validator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const bool json = size > 0 && data[0] == '{';
  absl::StatusOr<cluedrop::v1::JobSpec> spec =
      cluedrop::cli::ParseJobSpecText(text, json ? "fuzz.json" : "fuzz.yaml");
  if (!spec.ok()) return 0;
  if (!cluedrop::jobspec::ValidateJobSpec(*spec).ok()) return 0;
  cluedrop::v1::JobSpec with_defaults = *spec;
  cluedrop::jobspec::ApplyJobSpecDefaults(&with_defaults);
  if (!cluedrop::jobspec::ValidateJobSpec(with_defaults).ok()) __builtin_trap();
  return 0;
}

// Fills a protobuf message from a YAML node tree (yaml_tree.h), checking every key and
// value against the message's descriptor so that each error names the file,
// the line and the field path.
//
// Mapping rules (the job spec file format, see job_spec_file.h):
//   - keys are proto field names (`shard_size_docs`) or their JSON names
//     (`shardSizeDocs`); unknown and duplicate keys are errors;
//   - null values (`key:`, `~`, `null`) leave the field unset;
//   - integers must be integers in the field's range, floats finite numbers,
//     booleans `true`/`false`; quoted numbers are accepted;
//   - enums take full or short names (enum_names.h);
//   - repeated fields take a list, maps a mapping, messages a mapping;
//   - at most one field of a oneof may be set.
//
// Example:
//   YamlNode root = ParseYaml(text, "job.yaml")->at(0);
//   v1::JobSpec spec;
//   JobSpecLines lines("job.yaml");
//   absl::Status status = YamlToMessage(root, &spec, &lines);
//   // INVALID_ARGUMENT "job.yaml:7: training.epochs: expected an integer, got \"ten\""
#ifndef CLUEDROP_CLI_YAML_MESSAGE_H_
#define CLUEDROP_CLI_YAML_MESSAGE_H_

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "cli/job_spec_lines.h"
#include "cli/yaml_tree.h"

namespace cluedrop::cli {

// Merges `node` (a mapping) into `*message` and records the line of every
// field written in `*lines` (whose file() names the source in errors).
// Returns INVALID_ARGUMENT listing every error found, one per line of the
// message, each "FILE:LINE: FIELD.PATH: what" (past 20: "FILE: N more errors
// not shown"); `*message` is then partly filled and should be discarded.
absl::Status YamlToMessage(const YamlNode& node, google::protobuf::Message* message,
                           JobSpecLines* lines);

}  // namespace cluedrop::cli

#endif  // CLUEDROP_CLI_YAML_MESSAGE_H_

// Which files a job may make the coordinator read, and where its outputs may
// go (docs/security.md, "Paths"). Checked at SubmitJob, before any read.
//
// Input files (corpus.paths, evaluation.prompt_table, evaluation.fewshot_pool)
// must be regular files (no devices, FIFOs, sockets or directories) outside
// /proc and /sys, and never the coordinator's own secrets or state. With
// `input_roots`, each must also resolve (symlinks and ".." included) inside
// one of them; with `output_roots`, output_dir must be absolute and inside one
// of them. Corpus files together are at most `max_corpus_bytes`.
//
// Example:
//   PathPolicy policy{.input_roots = {"/shared"}, .output_roots = {"/shared/out"}};
//   CLUEDROP_RETURN_IF_ERROR(CheckJobPaths(spec, policy));
#ifndef CLUEDROP_COORDINATOR_PATH_POLICY_H_
#define CLUEDROP_COORDINATOR_PATH_POLICY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cluedrop/v1/job.pb.h"

namespace cluedrop::coordinator {

struct PathPolicy {
  // --corpus_root: directories input files must lie in (empty: anywhere).
  std::vector<std::string> input_roots;
  // --output_root: directories output_dir must lie in (empty: anywhere).
  std::vector<std::string> output_roots;
  // Files and directories a job may never name as input: the coordinator's
  // token files, TLS key and data directory.
  std::vector<std::string> forbidden;
  // --max_corpus_bytes: the corpus files' total size.
  uint64_t max_corpus_bytes = uint64_t{16} << 30;
};

// OK when every path of `spec` obeys `policy`. INVALID_ARGUMENT naming the
// field ("corpus.paths[0]: /etc/passwd is outside --corpus_root /shared",
// "corpus.paths[1]: /dev/zero is not a regular file"); RESOURCE_EXHAUSTED
// naming --max_corpus_bytes when the corpus is larger; NOT_FOUND /
// PERMISSION_DENIED when a file cannot be opened. Never blocks on a FIFO.
absl::Status CheckJobPaths(const v1::JobSpec& spec, const PathPolicy& policy);

// The same rules for one more input file the coordinator is about to read
// (the target's config.json for the memory check), named `field` in errors.
absl::Status CheckInputFile(const std::string& field, const std::string& path,
                            const PathPolicy& policy);

}  // namespace cluedrop::coordinator

#endif  // CLUEDROP_COORDINATOR_PATH_POLICY_H_

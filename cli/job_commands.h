// The job commands of the `cluedrop` CLI, with their seams exposed for
// tests: each takes argv after the subcommand name and a JobCommandEnv
// (streams, stub factory, clock) and returns the exit code.
//
//   cluedrop submit JOB.yaml [--request_id ID] [--watch]
//       stdout: the job id; stderr: `submitted job-x "name": 12 shards, ...`.
//       Spec errors and the coordinator's INVALID_ARGUMENT print one per
//       line with the spec file's line: "cluedrop submit: INVALID_ARGUMENT:
//       job.yaml:7: augmentation.alpha: must be in [0, 1], got 1.3".
//   cluedrop status JOB_ID [--json]
//   cluedrop list [--state S]... [--limit N] [--json]
//   cluedrop watch JOB_ID [--after N] [--max_wait_s S]
//   cluedrop cancel JOB_ID [--reason TEXT]
//   Common: --coordinator (env CLUEDROP_COORDINATOR, default
//   127.0.0.1:50051), --token (env CLUEDROP_TOKEN), --tls, --tls_ca,
//   --tls_cert, --tls_key, --timeout_s.
//
// Exit codes: 0 ok (watch: the job SUCCEEDED), 1 failure (RPC errors other
// than INVALID_ARGUMENT; watch: the job FAILED or was CANCELLED), 2 usage
// (bad flags or arguments, invalid spec, INVALID_ARGUMENT from the server).
//
// Example (a test):
//   JobCommandEnv env;
//   env.out = &out; env.err = &err;
//   int code = StatusCommand({"job-1", "--coordinator", address}, env);
#ifndef CLUEDROP_CLI_JOB_COMMANDS_H_
#define CLUEDROP_CLI_JOB_COMMANDS_H_

#include <string>
#include <vector>

#include "cli/job_client.h"

namespace cluedrop::cli {

int SubmitCommand(const std::vector<std::string>& args, const JobCommandEnv& env);
int StatusCommand(const std::vector<std::string>& args, const JobCommandEnv& env);
int ListCommand(const std::vector<std::string>& args, const JobCommandEnv& env);
int WatchCommand(const std::vector<std::string>& args, const JobCommandEnv& env);
int CancelCommand(const std::vector<std::string>& args, const JobCommandEnv& env);

}  // namespace cluedrop::cli

#endif  // CLUEDROP_CLI_JOB_COMMANDS_H_

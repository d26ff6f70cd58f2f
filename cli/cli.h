// The `cluedrop` command-line tool: a table of subcommands and a dispatcher.
//
// Each subcommand parses its own flags (so `cluedrop <cmd> --help` works) and
// returns an exit code: 0 success, 1 failure, 2 usage error (bad flags, an
// invalid spec, INVALID_ARGUMENT from the coordinator).
#ifndef CLUEDROP_CLI_CLI_H_
#define CLUEDROP_CLI_CLI_H_

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace cluedrop {
class FlagSet;
}  // namespace cluedrop

namespace cluedrop::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct Command {
  std::string name;
  std::string summary;
  // argv after the subcommand name.
  std::function<int(const std::vector<std::string>& args)> run;
};

// Every subcommand, in the order `cluedrop --help` lists them.
std::vector<Command> AllCommands();

// Entry point: `cluedrop <command> [flags]`.
int RunCli(int argc, char** argv);

// Subcommands that talk to a daemon (defined in daemon_commands.cc).
int RunHealth(const std::vector<std::string>& args);
int RunInfo(const std::vector<std::string>& args);
int RunDevices(const std::vector<std::string>& args);

// Subcommands that use the model runtime (defined in model_commands.cc).
int RunTokenize(const std::vector<std::string>& args);
int RunGenerate(const std::vector<std::string>& args);  // generate_command.cc
int RunScore(const std::vector<std::string>& args);     // score_command.cc
int RunEval(const std::vector<std::string>& args);      // eval_command.cc
int RunPlan(const std::vector<std::string>& args);      // plan_command.cc
int RunTrain(const std::vector<std::string>& args);     // train_command.cc
int RunDemo(const std::vector<std::string>& args);      // demo_command.cc
int RunAugment(const std::vector<std::string>& args);   // augment_command.cc (torch-free)

// Subcommands that talk to the coordinator's JobService (job_commands.cc).
int RunSubmit(const std::vector<std::string>& args);
int RunStatus(const std::vector<std::string>& args);
int RunList(const std::vector<std::string>& args);
int RunWatch(const std::vector<std::string>& args);
int RunCancel(const std::vector<std::string>& args);
int RunResults(const std::vector<std::string>& args);

// Parses a subcommand's flags. Returns the exit code when the command should
// stop now (--help printed: 0; bad flag or stray argument: 2, message on
// stderr), nullopt to go on.
std::optional<int> ParseFlagsOrExit(FlagSet& flags, const std::vector<std::string>& args);
// The same for a command that takes exactly one argument (e.g. JOB.yaml),
// stored in `*positional`; another count is "<command>: expected <what>".
std::optional<int> ParseFlagsOrExit(FlagSet& flags, const std::vector<std::string>& args,
                                    const std::string& command, const std::string& what,
                                    std::string* positional);

}  // namespace cluedrop::cli

#endif  // CLUEDROP_CLI_CLI_H_

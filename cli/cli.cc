#include "cli/cli.h"

#include <iostream>
#include <utility>

#include "runtime/build_info.h"
#include "runtime/flags.h"

namespace cluedrop::cli {
namespace {

void PrintUsage(std::ostream& out) {
  out << "cluedrop " << BuildVersion() << ": clue-guided token dropout training as a service.\n\n"
      << "Usage: cluedrop <command> [flags]    (cluedrop <command> --help for its flags)\n\n"
      << "Commands:\n";
  for (const Command& command : AllCommands()) {
    std::string name = command.name;
    name.resize(10, ' ');
    out << "  " << name << command.summary << "\n";
  }
}

}  // namespace

namespace {

// Parses; the exit code when --help was asked or a flag is bad.
std::optional<int> ParseOrExit(FlagSet& flags, const std::vector<std::string>& args,
                               std::vector<std::string>* positional) {
  absl::StatusOr<std::vector<std::string>> parsed = flags.Parse(args);
  if (!parsed.ok()) {
    std::cerr << "cluedrop: " << parsed.status().message() << std::endl;
    return kExitUsage;
  }
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return kExitOk;
  }
  *positional = std::move(*parsed);
  return std::nullopt;
}

}  // namespace

std::optional<int> ParseFlagsOrExit(FlagSet& flags, const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  if (std::optional<int> exit = ParseOrExit(flags, args, &positional)) return exit;
  if (!positional.empty()) {
    std::cerr << "cluedrop: unexpected argument '" << positional.front() << "'" << std::endl;
    return kExitUsage;
  }
  return std::nullopt;
}

std::optional<int> ParseFlagsOrExit(FlagSet& flags, const std::vector<std::string>& args,
                                    const std::string& command, const std::string& what,
                                    std::string* positional) {
  std::vector<std::string> parsed;
  if (std::optional<int> exit = ParseOrExit(flags, args, &parsed)) return exit;
  if (parsed.size() != 1) {
    std::cerr << "cluedrop " << command << ": expected " << what << "; see --help" << std::endl;
    return kExitUsage;
  }
  *positional = std::move(parsed.front());
  return std::nullopt;
}

std::vector<Command> AllCommands() {
  return {
      {"submit", "submit a job spec (YAML or JSON) to the coordinator", RunSubmit},
      {"status", "show one job's state, progress and evaluation", RunStatus},
      {"list", "list jobs", RunList},
      {"watch", "follow a job's events and progress until it ends", RunWatch},
      {"cancel", "cancel a job", RunCancel},
      {"results", "download a job's scored documents as JSONL (checksums verified)", RunResults},
      {"score", "score documents with a large and a small model", RunScore},
      {"augment", "produce token-dropout augmentations from scores", RunAugment},
      {"train", "run a training job in this process (--local) on scored documents", RunTrain},
      {"eval", "QA exact match / F1 of a model on tagged biographies", RunEval},
      {"plan", "the memory a job's trainer ranks need, per device (and whether it fits)", RunPlan},
      {"tokenize", "tokenize text with a tokenizer.json", RunTokenize},
      {"generate", "greedy generation with a Hugging Face checkpoint", RunGenerate},
      {"demo", "run the embedded demo experiment end to end (--quick, --full)", RunDemo},
      {"health", "check a daemon's grpc.health.v1 status", RunHealth},
      {"info", "print a daemon's DaemonInfo (component, version, capabilities)", RunInfo},
      {"devices", "list the GPUs this machine's CUDA runtime sees", RunDevices},
  };
}

int RunCli(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(std::cerr);
    return kExitUsage;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    PrintUsage(std::cout);
    return kExitOk;
  }
  if (name == "--version" || name == "version") {
    std::cout << "cluedrop " << BuildVersion() << " (" << BuildGitCommit() << ")\n";
    return kExitOk;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const Command& command : AllCommands()) {
    if (command.name == name) return command.run(args);
  }
  std::cerr << "cluedrop: unknown command '" << name << "'\n\n";
  PrintUsage(std::cerr);
  return kExitUsage;
}

}  // namespace cluedrop::cli

#include "runtime/daemon_main.h"

#include <iostream>

namespace cluedrop {

int RunDaemonMain(int argc, char** argv, FlagSet& flags,
                  const std::function<absl::Status(ShutdownController*)>& run) {
  const std::string program = argc > 0 ? argv[0] : "cluedrop";
  absl::StatusOr<std::vector<std::string>> positional = flags.Parse(argc, argv);
  if (!positional.ok()) {
    std::cerr << program << ": " << positional.status().message() << std::endl;
    return 2;
  }
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return 0;
  }
  if (!positional->empty()) {
    std::cerr << program << ": unexpected argument '" << positional->front() << "' (see --help)"
              << std::endl;
    return 2;
  }
  // Leaked on purpose: the signal thread may touch it until the process ends.
  auto* shutdown = new ShutdownController();
  if (absl::Status status = WatchTerminationSignals(shutdown); !status.ok()) {
    std::cerr << program << ": " << status << std::endl;
    return 1;
  }
  absl::Status status = run(shutdown);
  if (!status.ok()) {
    std::cerr << program << ": " << status << std::endl;
    return 1;
  }
  return 0;
}

}  // namespace cluedrop

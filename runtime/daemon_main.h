// The body of every daemon's main(): parse flags into the Options struct the
// caller bound to `flags`, print --help, turn SIGTERM/SIGINT into a graceful
// shutdown request, run, and map the result to an exit code:
//   0 success (including a clean shutdown), 1 runtime failure, 2 bad flags.
//
// Example:
//   int main(int argc, char** argv) {
//     cluedrop::CoordinatorOptions options;
//     cluedrop::FlagSet flags("cluedrop-coordinator", "...");
//     cluedrop::RegisterCoordinatorFlags(&flags, &options);
//     return cluedrop::RunDaemonMain(argc, argv, flags,
//         [&](cluedrop::ShutdownController* s) { return RunCoordinator(options, s); });
//   }
#ifndef CLUEDROP_RUNTIME_DAEMON_MAIN_H_
#define CLUEDROP_RUNTIME_DAEMON_MAIN_H_

#include <functional>

#include "absl/status/status.h"
#include "runtime/flags.h"
#include "runtime/shutdown.h"

namespace cluedrop {

int RunDaemonMain(int argc, char** argv, FlagSet& flags,
                  const std::function<absl::Status(ShutdownController*)>& run);

}  // namespace cluedrop

#endif  // CLUEDROP_RUNTIME_DAEMON_MAIN_H_

// Graceful shutdown: a controller that any thread (or a signal) can trigger,
// and a watcher that turns SIGTERM/SIGINT into a shutdown request.
//
// Example (in main, before any other thread starts):
//   ShutdownController shutdown;
//   if (absl::Status s = WatchTerminationSignals(&shutdown); !s.ok()) ...
//   ... server.RunUntilShutdown(&shutdown);
//
// ShutdownController is thread-safe.
#ifndef CLUEDROP_RUNTIME_SHUTDOWN_H_
#define CLUEDROP_RUNTIME_SHUTDOWN_H_

#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace cluedrop {

class ShutdownController {
 public:
  // Requests shutdown; the first reason wins. Later calls are ignored.
  void RequestShutdown(std::string reason);
  // True once shutdown has been requested.
  bool requested() const;
  std::string reason() const;
  // Waits until shutdown is requested or `timeout` passes; returns
  // requested().
  bool WaitFor(absl::Duration timeout) const;
  void Wait() const { WaitFor(absl::InfiniteDuration()); }

 private:
  mutable absl::Mutex mu_;
  bool requested_ ABSL_GUARDED_BY(mu_) = false;
  std::string reason_ ABSL_GUARDED_BY(mu_);
};

// Blocks SIGTERM and SIGINT in the calling thread (and so in every thread it
// creates later) and starts a thread that waits for them: the first one
// requests shutdown on `controller`, a second one exits the process at once
// with 128 + signal. Call once, from main, before starting other threads.
// `controller` must outlive the process.
absl::Status WatchTerminationSignals(ShutdownController* controller);

}  // namespace cluedrop

#endif  // CLUEDROP_RUNTIME_SHUTDOWN_H_

#include "runtime/shutdown.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"

namespace cluedrop {

void ShutdownController::RequestShutdown(std::string reason) {
  absl::MutexLock lock(&mu_);
  if (requested_) return;
  requested_ = true;
  reason_ = std::move(reason);
}

bool ShutdownController::requested() const {
  absl::MutexLock lock(&mu_);
  return requested_;
}

std::string ShutdownController::reason() const {
  absl::MutexLock lock(&mu_);
  return reason_;
}

bool ShutdownController::WaitFor(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&requested_), timeout);
  return requested_;
}

absl::Status WatchTerminationSignals(ShutdownController* controller) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (int rc = pthread_sigmask(SIG_BLOCK, &set, nullptr); rc != 0) {
    return absl::InternalError(absl::StrCat("pthread_sigmask: ", std::strerror(rc)));
  }
  std::thread([set, controller]() {
    int count = 0;
    while (true) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (++count > 1) {
        static constexpr char kMsg[] = "second termination signal: exiting now\n";
        (void)!write(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
        std::_Exit(128 + sig);
      }
      controller->RequestShutdown(sig == SIGTERM ? "SIGTERM" : "SIGINT");
    }
  }).detach();
  return absl::OkStatus();
}

}  // namespace cluedrop

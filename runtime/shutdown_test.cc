#include "runtime/shutdown.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

namespace cluedrop {
namespace {

TEST(ShutdownControllerTest, FirstReasonWinsAndWaitReturns) {
  ShutdownController controller;
  EXPECT_FALSE(controller.requested());
  EXPECT_FALSE(controller.WaitFor(absl::Milliseconds(10)));
  std::thread requester([&] { controller.RequestShutdown("first"); });
  EXPECT_TRUE(controller.WaitFor(absl::Seconds(10)));
  requester.join();
  controller.RequestShutdown("second");
  EXPECT_EQ(controller.reason(), "first");
}

// Signal masks are per process: run each signal case in a forked child.
void ExpectSignalRequestsShutdown(int sig, const char* reason) {
  auto* controller = new ShutdownController();
  if (!WatchTerminationSignals(controller).ok()) std::_Exit(10);
  kill(getpid(), sig);
  if (!controller->WaitFor(absl::Seconds(10))) std::_Exit(11);
  std::_Exit(controller->reason() == reason ? 0 : 12);
}

TEST(ShutdownSignalTest, SigtermRequestsShutdown) {
  EXPECT_EXIT(ExpectSignalRequestsShutdown(SIGTERM, "SIGTERM"), ::testing::ExitedWithCode(0), "");
}

TEST(ShutdownSignalTest, SigintRequestsShutdown) {
  EXPECT_EXIT(ExpectSignalRequestsShutdown(SIGINT, "SIGINT"), ::testing::ExitedWithCode(0), "");
}

TEST(ShutdownSignalTest, SecondSignalExitsAtOnce) {
  EXPECT_EXIT(
      {
        auto* controller = new ShutdownController();
        if (!WatchTerminationSignals(controller).ok()) std::_Exit(10);
        kill(getpid(), SIGTERM);
        controller->WaitFor(absl::Seconds(10));
        kill(getpid(), SIGTERM);
        sleep(10);
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(128 + SIGTERM), "second termination signal");
}

}  // namespace
}  // namespace cluedrop

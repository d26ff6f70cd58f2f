#include "workers/common/worker_daemon.h"

#include <gtest/gtest.h>

namespace cluedrop {
namespace {

TEST(WorkerDaemonTest, AcceptsKnownDevices) {
  for (const char* device : {"auto", "cpu", "cuda", "cuda:0", "cuda:7"}) {
    EXPECT_TRUE(ValidateDevice(device).ok()) << device;
  }
}

TEST(WorkerDaemonTest, RejectsMalformedDevicesNamingTheFlag) {
  for (const char* device : {"gpu", "cuda:", "cuda:-1", "cuda:x", ""}) {
    absl::Status status = ValidateDevice(device);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << device;
    EXPECT_NE(status.message().find("--device"), std::string::npos);
  }
}

TEST(WorkerDaemonTest, RoleSetsDefaultPortsAndCoordinatorComesFromEnv) {
  WorkerRole role{"scorer", "s", "not built", 50061, 9465};
  WorkerOptions options;
  FlagSet flags("cluedrop-scorer", "s");
  RegisterWorkerFlags(role, &flags, &options);
  EXPECT_EQ(options.server.grpc_address, "0.0.0.0:50061");
  EXPECT_EQ(options.server.metrics_address, "0.0.0.0:9465");
  setenv("CLUEDROP_COORDINATOR", "coord:1234", 1);
  ASSERT_TRUE(flags.Parse(std::vector<std::string>{}).ok());
  unsetenv("CLUEDROP_COORDINATOR");
  EXPECT_EQ(options.coordinator, "coord:1234");
  EXPECT_NE(flags.Usage().find("Status: not built"), std::string::npos);
}

}  // namespace
}  // namespace cluedrop

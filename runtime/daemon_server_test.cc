#include "runtime/daemon_server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/support/byte_buffer.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <future>

#include "base/scoped_temp_dir.h"
#include "cluedrop/v1/job_service.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "runtime/channel.h"

namespace cluedrop {
namespace {

using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;

// Minimal HTTP/1.0 GET against 127.0.0.1:port; returns the whole response.
std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return "";
  }
  std::string request = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  (void)!write(fd, request.data(), request.size());
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) response.append(buffer, n);
  close(fd);
  return response;
}

ServerOptions LoopbackOptions() {
  ServerOptions options;
  options.grpc_address = "127.0.0.1:0";
  options.metrics_address = "127.0.0.1:0";
  options.shutdown_drain_ms = 600;
  options.shutdown_grace_ms = 1000;
  return options;
}

HealthCheckResponse::ServingStatus Check(grpc::health::v1::Health::Stub& stub,
                                         const std::string& service) {
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  auto context = MakeClientContext(absl::Seconds(5));
  grpc::Status status = stub.Check(context.get(), request, &response);
  if (!status.ok()) return HealthCheckResponse::UNKNOWN;
  return response.status();
}

TEST(DaemonServerTest, ServesHealthInfoMetricsAndShutsDownGracefully) {
  auto server = DaemonServer::Create("coordinator", LoopbackOptions());
  ASSERT_TRUE(server.ok()) << server.status();
  cluedrop::v1::JobService::Service job_service;  // all methods UNIMPLEMENTED
  (*server)->AddService(&job_service, cluedrop::v1::JobService::service_full_name(), false,
                        "not built yet");
  (*server)->AddCapability("data_dir", true, "/tmp/x");
  ASSERT_TRUE((*server)->Start().ok());
  ASSERT_GT((*server)->grpc_port(), 0);
  ASSERT_GT((*server)->metrics_port(), 0);

  auto channel = MakeChannel({.target = "127.0.0.1:" + std::to_string((*server)->grpc_port())});
  ASSERT_TRUE(channel.ok());
  auto health = grpc::health::v1::Health::NewStub(*channel);
  EXPECT_EQ(Check(*health, ""), HealthCheckResponse::SERVING);
  EXPECT_EQ(Check(*health, "cluedrop.v1.DaemonService"), HealthCheckResponse::SERVING);
  EXPECT_EQ(Check(*health, "cluedrop.v1.JobService"), HealthCheckResponse::NOT_SERVING);

  // DaemonService says what is and is not built.
  auto info_stub = cluedrop::v1::DaemonService::NewStub(*channel);
  cluedrop::v1::DaemonInfo info;
  auto context = MakeClientContext(absl::Seconds(5));
  ASSERT_TRUE(info_stub->GetDaemonInfo(context.get(), {}, &info).ok());
  EXPECT_EQ(info.component(), "coordinator");
  EXPECT_EQ(info.grpc_address(), "127.0.0.1:" + std::to_string((*server)->grpc_port()));
  ASSERT_EQ(info.capabilities_size(), 2);
  EXPECT_EQ(info.capabilities(0).name(), "cluedrop.v1.JobService");
  EXPECT_FALSE(info.capabilities(0).ready());
  EXPECT_EQ(info.capabilities(0).detail(), "not built yet");
  EXPECT_TRUE(info.capabilities(1).ready());

  // An unbuilt method answers UNIMPLEMENTED, and the interceptor counts it.
  auto jobs = cluedrop::v1::JobService::NewStub(*channel);
  cluedrop::v1::Job job;
  auto job_context = MakeClientContext(absl::Seconds(5));
  EXPECT_EQ(jobs->GetJob(job_context.get(), {}, &job).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);

  std::string metrics = HttpGet((*server)->metrics_port(), "/metrics");
  EXPECT_THAT(metrics, HasSubstr("200 OK"));
  EXPECT_THAT(metrics, HasSubstr("cluedrop_build_info{component=\"coordinator\""));
  EXPECT_THAT(metrics, HasSubstr("cluedrop_rpc_server_handled_total{code=\"UNIMPLEMENTED\","
                                 "method=\"GetJob\",service=\"cluedrop.v1.JobService\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("cluedrop_rpc_server_latency_seconds_count{"
                                 "method=\"GetJob\",service=\"cluedrop.v1.JobService\"} 1"));

  // Capabilities can change after start; health follows.
  (*server)->SetCapability("cluedrop.v1.JobService", true, "ready now");
  EXPECT_EQ(Check(*health, "cluedrop.v1.JobService"), HealthCheckResponse::SERVING);

  ShutdownController shutdown;
  auto run = std::async(std::launch::async, [&] { return (*server)->RunUntilShutdown(shutdown); });
  shutdown.RequestShutdown("test");
  // During the drain the server still answers, with NOT_SERVING everywhere.
  HealthCheckResponse::ServingStatus during_drain = HealthCheckResponse::SERVING;
  for (int i = 0; i < 50 && during_drain == HealthCheckResponse::SERVING; ++i) {
    during_drain = Check(*health, "");
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(during_drain, HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(Check(*health, "cluedrop.v1.JobService"), HealthCheckResponse::NOT_SERVING);
  ASSERT_EQ(run.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_TRUE(run.get().ok());
  // After shutdown the port is closed.
  EXPECT_EQ(Check(*health, ""), HealthCheckResponse::UNKNOWN);
}

// Bytes that are not a protobuf message (field 1 with the reserved wire type
// 7) get INVALID_ARGUMENT naming the method, not gRPC's bare INTERNAL, and
// the metrics count that code.
TEST(DaemonServerTest, UnparsableRequestIsInvalidArgumentNamingTheMethod) {
  auto server = DaemonServer::Create("scorer", LoopbackOptions());
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->Start().ok());
  auto channel = MakeChannel({.target = "127.0.0.1:" + std::to_string((*server)->grpc_port())});
  ASSERT_TRUE(channel.ok());
  const std::string method = "/cluedrop.v1.DaemonService/GetDaemonInfo";
  auto call = [&](const std::string& bytes) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    auto context = MakeClientContext(absl::Seconds(5));
    return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
        channel->get(),
        grpc::internal::RpcMethod(method.c_str(), grpc::internal::RpcMethod::NORMAL_RPC),
        context.get(), request, &response);
  };
  grpc::Status bad = call(std::string("\x0f\x01\x02", 3));
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad.error_message();
  EXPECT_THAT(bad.error_message(), HasSubstr(method));
  EXPECT_THAT(bad.error_message(), HasSubstr("do not parse"));
  // A well-formed (empty) request still succeeds on the same server.
  EXPECT_TRUE(call("").ok());
  std::string metrics = HttpGet((*server)->metrics_port(), "/metrics");
  EXPECT_THAT(metrics,
              HasSubstr("cluedrop_rpc_server_handled_total{code=\"INVALID_ARGUMENT\","
                        "method=\"GetDaemonInfo\",service=\"cluedrop.v1.DaemonService\"} 1"));
}

TEST(DaemonServerTest, TakenPortIsUnavailableNotACrash) {
  auto first = DaemonServer::Create("scorer", LoopbackOptions());
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->Start().ok());
  ServerOptions options = LoopbackOptions();
  options.grpc_address = "127.0.0.1:" + std::to_string((*first)->grpc_port());
  auto second = DaemonServer::Create("scorer", options);
  ASSERT_TRUE(second.ok());
  absl::Status status = (*second)->Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr(options.grpc_address));

  ServerOptions metrics_taken = LoopbackOptions();
  metrics_taken.metrics_address = "127.0.0.1:" + std::to_string((*first)->metrics_port());
  auto third = DaemonServer::Create("scorer", metrics_taken);
  EXPECT_EQ(third.status().code(), absl::StatusCode::kUnavailable);
}

TEST(DaemonServerTest, HalfConfiguredTlsIsInvalidArgument) {
  ServerOptions options = LoopbackOptions();
  options.metrics_address = "";  // civetweb's teardown polls for up to 2 s
  options.tls.cert_file = "/nonexistent/cert.pem";
  auto server = DaemonServer::Create("trainer", options);
  ASSERT_TRUE(server.ok());
  absl::Status status = (*server)->Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("tls_key_file"));
}

// A real TLS handshake: a self-signed certificate made with the openssl CLI
// (installed by scripts/setup); a TLS client that trusts it gets SERVING,
// a plaintext client gets nothing.
TEST(DaemonServerTest, ServesOverTlsWhenGivenCertAndKey) {
  const ScopedTempDir scratch("cluedrop-tls");
  const std::string dir = scratch.path();
  const std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  const std::string command =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "
      "/CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << "openssl failed: " << command;
  ServerOptions options = LoopbackOptions();
  options.metrics_address = "";
  options.tls.cert_file = cert;
  options.tls.key_file = key;
  auto server = DaemonServer::Create("coordinator", options);
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE((*server)->Start().ok());
  const std::string target = "127.0.0.1:" + std::to_string((*server)->grpc_port());

  ChannelOptions secure{.target = target, .use_tls = true};
  secure.tls.ca_file = cert;
  auto tls_channel = MakeChannel(secure);
  ASSERT_TRUE(tls_channel.ok()) << tls_channel.status();
  auto tls_health = grpc::health::v1::Health::NewStub(*tls_channel);
  EXPECT_EQ(Check(*tls_health, ""), HealthCheckResponse::SERVING);

  auto plain_channel = MakeChannel({.target = target, .retry_max_attempts = 1});
  ASSERT_TRUE(plain_channel.ok());
  auto plain_health = grpc::health::v1::Health::NewStub(*plain_channel);
  EXPECT_EQ(Check(*plain_health, ""), HealthCheckResponse::UNKNOWN);
}

TEST(DaemonServerTest, WritesReadyFileWithChosenPorts) {
  const ScopedTempDir scratch("daemon_server_test");
  ServerOptions options = LoopbackOptions();
  options.ready_file = scratch.file("ready.json");
  auto server = DaemonServer::Create("trainer", options);
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE((*server)->Start().ok());
  auto contents = ReadFileToString(options.ready_file);
  ASSERT_TRUE(contents.ok());
  EXPECT_THAT(*contents, HasSubstr("\"grpc_port\": " + std::to_string((*server)->grpc_port())));
  EXPECT_THAT(*contents,
              HasSubstr("\"metrics_port\": " + std::to_string((*server)->metrics_port())));
  EXPECT_THAT(*contents, HasSubstr("\"component\": \"trainer\""));
}

}  // namespace
}  // namespace cluedrop

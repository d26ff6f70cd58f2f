// `cluedrop health`, `cluedrop info`, `cluedrop devices`.
#include <google/protobuf/util/json_util.h>

#include <iostream>
#include <optional>

#include "absl/time/time.h"
#include "cli/cli.h"
#include "cluedrop/v1/daemon.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "runtime/channel.h"
#include "runtime/flags.h"
#include "runtime/grpc_status.h"
#include "workers/model/device_inventory.h"

namespace cluedrop::cli {
namespace {

struct DaemonClientOptions {
  ChannelOptions channel;
  int64_t timeout_ms = 5000;
};

void RegisterDaemonClientFlags(FlagSet* flags, DaemonClientOptions* options) {
  options->channel.target = "127.0.0.1:50051";
  flags->Add("address", &options->channel.target, "daemon host:port").Env("CLUEDROP_COORDINATOR");
  flags->Add("tls", &options->channel.use_tls, "connect with TLS");
  flags->Add("tls_ca_file", &options->channel.tls.ca_file, "PEM roots for --tls");
  flags->Add("tls_cert_file", &options->channel.tls.cert_file,
             "PEM client certificate, for a daemon that requires one (mutual TLS)");
  flags->Add("tls_key_file", &options->channel.tls.key_file, "PEM key of --tls_cert_file");
  flags->Add("timeout_ms", &options->timeout_ms, "deadline of the call, in ms");
}

}  // namespace

int RunHealth(const std::vector<std::string>& args) {
  DaemonClientOptions options;
  std::string service;
  FlagSet flags("cluedrop health",
                "asks a daemon's grpc.health.v1 service; exits 0 when SERVING, 1 otherwise.");
  RegisterDaemonClientFlags(&flags, &options);
  flags.Add("service", &service, "service name to check (empty: the whole process)");
  if (std::optional<int> exit = ParseFlagsOrExit(flags, args)) return *exit;

  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(options.channel);
  if (!channel.ok()) {
    std::cerr << "cluedrop health: " << channel.status().message() << std::endl;
    return kExitUsage;
  }
  auto stub = grpc::health::v1::Health::NewStub(*channel);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  auto context = MakeClientContext(absl::Milliseconds(options.timeout_ms));
  grpc::Status status = stub->Check(context.get(), request, &response);
  if (!status.ok()) {
    std::cerr << "cluedrop health: " << options.channel.target << ": " << FromGrpcStatus(status)
              << std::endl;
    return kExitFailure;
  }
  std::cout << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status())
            << std::endl;
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING ? kExitOk
                                                                             : kExitFailure;
}

int RunInfo(const std::vector<std::string>& args) {
  DaemonClientOptions options;
  FlagSet flags("cluedrop info", "prints a daemon's DaemonInfo as JSON.");
  RegisterDaemonClientFlags(&flags, &options);
  if (std::optional<int> exit = ParseFlagsOrExit(flags, args)) return *exit;

  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(options.channel);
  if (!channel.ok()) {
    std::cerr << "cluedrop info: " << channel.status().message() << std::endl;
    return kExitUsage;
  }
  auto stub = cluedrop::v1::DaemonService::NewStub(*channel);
  cluedrop::v1::DaemonInfo info;
  auto context = MakeClientContext(absl::Milliseconds(options.timeout_ms));
  grpc::Status status = stub->GetDaemonInfo(context.get(), {}, &info);
  if (!status.ok()) {
    std::cerr << "cluedrop info: " << options.channel.target << ": " << FromGrpcStatus(status)
              << std::endl;
    return kExitFailure;
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  print.preserve_proto_field_names = true;
  print.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(info, &json, print);
  std::cout << json;
  return kExitOk;
}

int RunDevices(const std::vector<std::string>& args) {
  FlagSet flags("cluedrop devices", "lists the GPUs this machine's CUDA runtime sees.");
  if (std::optional<int> exit = ParseFlagsOrExit(flags, args)) return *exit;
  std::cout << DescribeDevices(QueryDevices()) << std::endl;
  return kExitOk;
}

}  // namespace cluedrop::cli

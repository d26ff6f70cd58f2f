#include "runtime/daemon_info_service.h"

namespace cluedrop {

void DaemonInfoService::SetCapability(const std::string& name, bool ready,
                                      const std::string& detail) {
  absl::MutexLock lock(&mu_);
  cluedrop::v1::Capability* target = nullptr;
  for (auto& capability : *info_.mutable_capabilities()) {
    if (capability.name() == name) target = &capability;
  }
  if (target == nullptr) target = info_.add_capabilities();
  target->set_name(name);
  target->set_ready(ready);
  target->set_detail(detail);
}

void DaemonInfoService::SetAddresses(const std::string& grpc_address,
                                     const std::string& metrics_address) {
  absl::MutexLock lock(&mu_);
  info_.set_grpc_address(grpc_address);
  info_.set_metrics_address(metrics_address);
}

cluedrop::v1::DaemonInfo DaemonInfoService::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return info_;
}

grpc::Status DaemonInfoService::GetDaemonInfo(grpc::ServerContext*,
                                              const cluedrop::v1::GetDaemonInfoRequest*,
                                              cluedrop::v1::DaemonInfo* response) {
  *response = Snapshot();
  return grpc::Status::OK;
}

}  // namespace cluedrop

// DaemonService implementation: answers what this process is and which of
// its capabilities are built and ready. Every cluedrop daemon serves it.
//
// Thread-safe.
#ifndef CLUEDROP_RUNTIME_DAEMON_INFO_SERVICE_H_
#define CLUEDROP_RUNTIME_DAEMON_INFO_SERVICE_H_

#include <string>

#include "absl/synchronization/mutex.h"
#include "cluedrop/v1/daemon.grpc.pb.h"

namespace cluedrop {

class DaemonInfoService final : public cluedrop::v1::DaemonService::Service {
 public:
  explicit DaemonInfoService(cluedrop::v1::DaemonInfo info) : info_(std::move(info)) {}

  // Adds or replaces the capability called `name`.
  void SetCapability(const std::string& name, bool ready, const std::string& detail);
  void SetAddresses(const std::string& grpc_address, const std::string& metrics_address);
  cluedrop::v1::DaemonInfo Snapshot() const;

  grpc::Status GetDaemonInfo(grpc::ServerContext* context,
                             const cluedrop::v1::GetDaemonInfoRequest* request,
                             cluedrop::v1::DaemonInfo* response) override;

 private:
  mutable absl::Mutex mu_;
  cluedrop::v1::DaemonInfo info_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cluedrop

#endif  // CLUEDROP_RUNTIME_DAEMON_INFO_SERVICE_H_

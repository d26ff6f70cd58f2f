#include "workers/trainer/store_address.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cluedrop::trainer {

StatusOr<int> ListenOn(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = host.empty() ? AF_INET : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int rc =
      getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) {
    return InvalidArgumentError("store bind host '" + host + "': " + gai_strerror(rc));
  }
  std::string error = "no address";
  int error_number = 0;
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 2048) != 0) {
      error_number = errno;
      error = std::strerror(errno);
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd >= 0) return fd;
  const std::string what =
      "cannot listen on " + (host.empty() ? "*" : host) + ":" + service + ": " + error;
  if (error_number == EADDRINUSE || error_number == EADDRNOTAVAIL || error_number == EACCES) {
    return FailedPreconditionError(what);
  }
  return UnavailableError(what);
}

Status CheckStoreAddressFree(const std::string& bind_host, int port) {
  if (port < 0 || port > 65535) {
    return InvalidArgumentError("port: " + std::to_string(port) + " is not in [0, 65535]");
  }
  if (port == 0) return OkStatus();  // any free port: nothing to collide with
  CLUEDROP_ASSIGN_OR_RETURN(const int fd, ListenOn(bind_host, port));
  close(fd);
  return OkStatus();
}

}  // namespace cluedrop::trainer

// The address rank 0 hosts a job's rendezvous store (c10d TCPStore) on:
// listening there, and checking that it can. Torch-free, so the trainer
// daemon checks its --store_address at start-up without torch's headers.
//
// Example:
//   CLUEDROP_RETURN_IF_ERROR(CheckStoreAddressFree("127.0.0.1", 29500));
#ifndef CLUEDROP_WORKERS_TRAINER_STORE_ADDRESS_H_
#define CLUEDROP_WORKERS_TRAINER_STORE_ADDRESS_H_

#include <string>

#include "base/status.h"

namespace cluedrop::trainer {

// A socket listening on host:port (port 0: any free port; host "": every
// IPv4 interface), for the TCPStore server to take over
// (TCPStoreOptions::masterListenFd). FAILED_PRECONDITION when the port is
// taken or the address is not this machine's: retrying does not help, the
// configuration must change.
StatusOr<int> ListenOn(const std::string& host, int port);

// OK when rank 0 could listen on bind_host:port now ("": every IPv4
// interface, which a listener on any one address of the port blocks; port 0:
// always). FAILED_PRECONDITION naming the address when the port is taken or
// the address is not this machine's; INVALID_ARGUMENT for a bad host or port.
// Daemons check their store address at start-up with it.
Status CheckStoreAddressFree(const std::string& bind_host, int port);

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_STORE_ADDRESS_H_

// The c10d process group (real TCPStore + ProcessGroupGloo, ranks as threads
// on 127.0.0.1) and the fake collectives.
#include "workers/trainer/process_group.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <torch/torch.h>
#include <unistd.h>

#include <thread>

#include "workers/trainer/process_group_fake.h"
#include "workers/trainer/store_address.h"
#include "workers/trainer/train_test_util.h"

namespace cluedrop::trainer {
namespace {

using testing::RunRanks;

TEST(ProcessGroupTest, GlooAllReduceBroadcastBarrierOverTcpStore) {
  Status s = RunRanks(2, [](int rank, Collectives& pg) -> Status {
    if (pg.rank() != rank || pg.world_size() != 2 || !pg.device().is_cpu()) {
      return InternalError("wrong rank/world/device");
    }
    torch::Tensor sum = torch::full({5}, rank + 1.0);
    CLUEDROP_RETURN_IF_ERROR(pg.AllReduceSync(sum, ReduceOp::kSum));
    if (!torch::equal(sum, torch::full({5}, 3.0))) return InternalError("sum wrong");
    torch::Tensor avg = torch::full({3}, rank == 0 ? 1.0 : 2.0, torch::kDouble);
    CLUEDROP_RETURN_IF_ERROR(pg.AllReduceSync(avg, ReduceOp::kAvg));
    if (!torch::equal(avg, torch::full({3}, 1.5, torch::kDouble)))
      return InternalError("avg wrong");
    // Two overlapping asynchronous all-reduces, waited in reverse order.
    torch::Tensor a = torch::full({4}, 1.0), b = torch::full({1000}, rank * 4.0);
    CLUEDROP_ASSIGN_OR_RETURN(auto wa, pg.AllReduce(a, ReduceOp::kAvg));
    CLUEDROP_ASSIGN_OR_RETURN(auto wb, pg.AllReduce(b, ReduceOp::kAvg));
    CLUEDROP_RETURN_IF_ERROR(wb->Wait());
    CLUEDROP_RETURN_IF_ERROR(wa->Wait());
    if (!torch::equal(a, torch::full({4}, 1.0)) || !torch::equal(b, torch::full({1000}, 2.0))) {
      return InternalError("async avg wrong");
    }
    torch::Tensor bc = torch::full({2}, rank == 1 ? 7.0 : -1.0);
    CLUEDROP_RETURN_IF_ERROR(pg.Broadcast(bc, 1));
    if (!torch::equal(bc, torch::full({2}, 7.0))) return InternalError("broadcast wrong");
    return pg.Barrier();
  });
  EXPECT_TRUE(s.ok()) << s;
}

TEST(ProcessGroupTest, AllReduceRejectsNonContiguousTensors) {
  Status s = RunRanks(1, [](int, Collectives& pg) -> Status {
    torch::Tensor t = torch::ones({4, 4}).t();
    auto work = pg.AllReduce(t, ReduceOp::kSum);
    if (work.ok() || work.status().code() != StatusCode::kInvalidArgument) {
      return InternalError("expected INVALID_ARGUMENT, got " + work.status().ToString());
    }
    return pg.Broadcast(torch::ones({2}), 0);
  });
  EXPECT_TRUE(s.ok()) << s;
}

TEST(ProcessGroupTest, StoreRejectsBadOptions) {
  StoreOptions o;
  o.world_size = 2;
  o.rank = 2;
  EXPECT_EQ(RendezvousStore::Create(o).status().code(), StatusCode::kInvalidArgument);
  o.rank = 1;
  o.port = 0;  // only rank 0 may ask for any port
  EXPECT_EQ(RendezvousStore::Create(o).status().code(), StatusCode::kInvalidArgument);
  o.world_size = 0;
  o.rank = 0;
  EXPECT_EQ(RendezvousStore::Create(o).status().code(), StatusCode::kInvalidArgument);
}

TEST(ProcessGroupTest, ConnectingWithoutRankZeroIsUnavailable) {
  int port;
  {
    StoreOptions o;
    o.port = 0;
    o.world_size = 2;
    auto server = RendezvousStore::Create(o);
    ASSERT_TRUE(server.ok()) << server.status();
    port = (*server)->port();
    EXPECT_GT(port, 0);
  }  // closed again: nothing listens there now
  StoreOptions o;
  o.rank = 1;
  o.world_size = 2;
  o.port = port;
  o.timeout = std::chrono::milliseconds(300);
  auto client = RendezvousStore::Create(o);
  EXPECT_EQ(client.status().code(), StatusCode::kUnavailable) << client.status();
}

// A taken port is a configuration error, named as such, whichever way rank
// 0 binds (a given address, or every interface through the TCPStore).
TEST(ProcessGroupTest, TakenStorePortIsFailedPreconditionNamingTheAddress) {
  StoreOptions holder;
  holder.port = 0;
  holder.world_size = 2;
  holder.bind_host = "127.0.0.1";
  auto held = RendezvousStore::Create(holder);
  ASSERT_TRUE(held.ok()) << held.status();
  const int port = (*held)->port();
  const std::string address = "127.0.0.1:" + std::to_string(port);

  StoreOptions same = holder;
  same.port = port;
  auto bound = RendezvousStore::Create(same);
  EXPECT_EQ(bound.status().code(), StatusCode::kFailedPrecondition) << bound.status();
  EXPECT_NE(bound.status().message().find("cannot listen on " + address), std::string::npos)
      << bound.status();
  EXPECT_NE(bound.status().message().find("in use"), std::string::npos) << bound.status();

  StoreOptions everywhere = same;
  everywhere.bind_host = "";
  auto any = RendezvousStore::Create(everywhere);
  EXPECT_EQ(any.status().code(), StatusCode::kFailedPrecondition) << any.status();
  EXPECT_NE(any.status().message().find("*:" + std::to_string(port)), std::string::npos)
      << any.status();

  EXPECT_EQ(CheckStoreAddressFree("127.0.0.1", port).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckStoreAddressFree("", port).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(CheckStoreAddressFree("127.0.0.1", 0).ok());
  EXPECT_EQ(CheckStoreAddressFree("127.0.0.1", 70000).code(), StatusCode::kInvalidArgument);
  // 192.0.2.1 (TEST-NET-1) is no address of this machine.
  EXPECT_EQ(CheckStoreAddressFree("192.0.2.1", port).code(), StatusCode::kFailedPrecondition);

  held->reset();  // the holder goes: the port is free again
  EXPECT_TRUE(CheckStoreAddressFree("127.0.0.1", port).ok());
  EXPECT_TRUE(CheckStoreAddressFree("", port).ok());
}

// True when a TCP connection to ip:port is accepted.
bool Reachable(const char* ip, int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip, &addr.sin_addr);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

// Store confinement by bind address: rank 0 bound to 127.0.0.1 answers there
// and nowhere else (127.0.0.2 is this machine too, so an all-interfaces
// store answers there); the ranks still meet and reduce.
TEST(ProcessGroupTest, StoreBoundToAnAddressIsReachableOnlyThere) {
  StoreOptions open;
  open.port = 0;
  open.world_size = 2;
  auto everywhere = RendezvousStore::Create(open);
  ASSERT_TRUE(everywhere.ok()) << everywhere.status();
  EXPECT_TRUE(Reachable("127.0.0.2", (*everywhere)->port()));

  StoreOptions bound = open;
  bound.bind_host = "127.0.0.1";
  auto server = RendezvousStore::Create(bound);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  ASSERT_GT(port, 0);
  EXPECT_TRUE(Reachable("127.0.0.1", port));
  EXPECT_FALSE(Reachable("127.0.0.2", port));
  StoreOptions peer;
  peer.rank = 1;
  peer.world_size = 2;
  peer.port = port;
  auto client = RendezvousStore::Create(peer);
  ASSERT_TRUE(client.ok()) << client.status();
  std::vector<Status> results(2);
  std::thread other([&] {
    auto pg = CreateProcessGroup(*client, ProcessGroupOptions());
    if (!pg.ok()) {
      results[1] = pg.status();
      return;
    }
    torch::Tensor t = torch::full({3}, 2.0);
    results[1] = (*pg)->AllReduceSync(t, ReduceOp::kSum);
  });
  auto pg = CreateProcessGroup(*server, ProcessGroupOptions());
  if (pg.ok()) {
    torch::Tensor t = torch::full({3}, 1.0);
    results[0] = (*pg)->AllReduceSync(t, ReduceOp::kSum);
    if (results[0].ok() && !torch::equal(t, torch::full({3}, 3.0))) {
      results[0] = InternalError("sum wrong");
    }
  } else {
    results[0] = pg.status();
  }
  other.join();
  EXPECT_TRUE(results[0].ok()) << results[0];
  EXPECT_TRUE(results[1].ok()) << results[1];

  bound.bind_host = "no-such-host.invalid";
  EXPECT_EQ(RendezvousStore::Create(bound).status().code(), StatusCode::kInvalidArgument);
}

TEST(ProcessGroupTest, BackendMustMatchDevice) {
  StoreOptions so;
  so.port = 0;
  auto store = RendezvousStore::Create(so);
  ASSERT_TRUE(store.ok()) << store.status();
  ProcessGroupOptions o;
  o.backend = CollectiveBackend::kNccl;
  o.device = "cpu";
  EXPECT_EQ(CreateProcessGroup(*store, o).status().code(), StatusCode::kInvalidArgument);
  o.backend = CollectiveBackend::kGloo;
  o.device = "cuda:0";
  EXPECT_EQ(CreateProcessGroup(*store, o).status().code(), StatusCode::kInvalidArgument);
  o.device = "tpu";
  EXPECT_EQ(CreateProcessGroup(*store, o).status().code(), StatusCode::kInvalidArgument);
  if (!torch::cuda::is_available()) {
    // NCCL without a GPU: UNIMPLEMENTED (CPU build) or FAILED_PRECONDITION.
    o.backend = CollectiveBackend::kAuto;
    o.device = "cuda:0";
    StatusCode code = CreateProcessGroup(*store, o).status().code();
    EXPECT_TRUE(code == StatusCode::kUnimplemented || code == StatusCode::kFailedPrecondition)
        << StatusCodeName(code);
  }
}

TEST(FakeCollectivesTest, OtherRanksContributeZerosAndReductionHappensAtWait) {
  FakeCollectives fake(/*rank=*/0, /*world_size=*/4);
  torch::Tensor t = torch::full({3}, 8.0);
  auto work = fake.AllReduce(t, ReduceOp::kAvg);
  ASSERT_TRUE(work.ok());
  EXPECT_TRUE(torch::equal(t, torch::full({3}, 8.0)));
  EXPECT_EQ(fake.pending(), 1);
  ASSERT_TRUE((*work)->Wait().ok());
  EXPECT_TRUE(torch::equal(t, torch::full({3}, 2.0)));
  EXPECT_EQ(fake.pending(), 0);
  torch::Tensor b = torch::ones({2});
  ASSERT_TRUE(fake.Broadcast(b, 1).ok());
  EXPECT_TRUE(torch::equal(b, torch::zeros({2})));
  ASSERT_EQ(fake.calls().size(), 2u);
  EXPECT_EQ(fake.calls()[0].numel, 3);
  fake.FailNextAllReduce(UnavailableError("peer gone"));
  EXPECT_EQ(fake.AllReduce(t, ReduceOp::kSum).status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(fake.AllReduce(t, ReduceOp::kSum).ok());
}

}  // namespace
}  // namespace cluedrop::trainer

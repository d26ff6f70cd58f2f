#include "coordinator/lease_scheduler.h"

#include <gtest/gtest.h>

#include <set>

namespace cluedrop::coordinator {
namespace {

// A fake clock: tests move `now` by hand.
struct FakeClock {
  int64_t now = 1000000;
  void Advance(int64_t ms) { now += ms; }
};

std::vector<ShardInfo> MakeShards(int n) {
  std::vector<ShardInfo> shards(n);
  for (int i = 0; i < n; ++i) {
    shards[i].index = i;
    shards[i].shard_id = "shard-" + std::to_string(i);
    shards[i].doc_count = 10;
  }
  return shards;
}

SchedulerOptions Options() {
  SchedulerOptions options;
  options.lease_ttl_ms = 1000;
  options.worker_ttl_ms = 5000;
  options.max_attempts = 3;
  options.backoff_initial_ms = 100;
  options.backoff_max_ms = 250;
  return options;
}

class LeaseSchedulerTest : public ::testing::Test {
 protected:
  LeaseSchedulerTest() : scheduler_(Options()) {}

  LeaseGrant MustLease(const std::string& worker) {
    absl::StatusOr<std::optional<LeaseGrant>> grant = scheduler_.Lease(worker, clock_.now);
    EXPECT_TRUE(grant.ok()) << grant.status();
    EXPECT_TRUE(grant->has_value());
    return grant->value_or(LeaseGrant{});
  }
  bool NothingToLease(const std::string& worker) {
    absl::StatusOr<std::optional<LeaseGrant>> grant = scheduler_.Lease(worker, clock_.now);
    return grant.ok() && !grant->has_value();
  }

  FakeClock clock_;
  LeaseScheduler scheduler_;
};

TEST_F(LeaseSchedulerTest, ServesJobsInOrderAndShardsInIndexOrder) {
  scheduler_.AddJob("job-b", 2, MakeShards(2));
  scheduler_.AddJob("job-a", 1, MakeShards(2));
  const std::string w = scheduler_.RegisterWorker("w", clock_.now).worker_id;
  std::vector<std::pair<std::string, uint32_t>> order;
  for (int i = 0; i < 4; ++i) {
    LeaseGrant g = MustLease(w);
    order.push_back({g.key.job_id, g.key.index});
    EXPECT_EQ(g.attempt, 1u);
    EXPECT_EQ(g.expire_ms, clock_.now + 1000);
  }
  EXPECT_EQ(order, (std::vector<std::pair<std::string, uint32_t>>{
                       {"job-a", 0}, {"job-a", 1}, {"job-b", 0}, {"job-b", 1}}));
  EXPECT_TRUE(NothingToLease(w));
}

TEST_F(LeaseSchedulerTest, UnknownWorkerIsNotFound) {
  scheduler_.AddJob("job", 1, MakeShards(1));
  EXPECT_EQ(scheduler_.Lease("nobody", clock_.now).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(scheduler_.Heartbeat("nobody", {}, clock_.now).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(LeaseSchedulerTest, HeartbeatExtendsLeaseAndExpiryRequeuesWithBackoff) {
  scheduler_.AddJob("job", 1, MakeShards(1));
  const std::string w = scheduler_.RegisterWorker("w", clock_.now).worker_id;
  LeaseGrant g = MustLease(w);
  clock_.Advance(900);
  ASSERT_TRUE(scheduler_.Heartbeat(w, {g.lease_id}, clock_.now).ok());
  clock_.Advance(900);  // 1800 after the grant, 900 after the heartbeat
  EXPECT_TRUE(scheduler_.Tick(clock_.now).empty());
  clock_.Advance(100);
  std::vector<LeaseLoss> lost = scheduler_.Tick(clock_.now);
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].lease_id, g.lease_id);
  EXPECT_FALSE(lost[0].job_failure.has_value());
  EXPECT_EQ(lost[0].retry_at_ms, clock_.now + 100);
  const ShardInfo* shard = scheduler_.Shard(g.key);
  EXPECT_EQ(shard->state, ShardState::kPending);
  EXPECT_EQ(shard->failures, 1u);
  EXPECT_NE(shard->last_error.find("expired"), std::string::npos);
  // Backoff: not ready before 100 ms.
  const std::string w2 = scheduler_.RegisterWorker("w2", clock_.now).worker_id;
  EXPECT_TRUE(NothingToLease(w2));
  clock_.Advance(100);
  LeaseGrant again = MustLease(w2);
  EXPECT_EQ(again.attempt, 2u);
  EXPECT_NE(again.lease_id, g.lease_id);
  // The expired lease is revoked at the old holder's next heartbeat.
  absl::StatusOr<HeartbeatResult> hb = scheduler_.Heartbeat(w, {g.lease_id}, clock_.now);
  ASSERT_TRUE(hb.ok());
  EXPECT_EQ(hb->revoked_lease_ids, std::vector<std::string>{g.lease_id});
}

TEST_F(LeaseSchedulerTest, BackoffDoublesAndIsCapped) {
  SchedulerOptions options = Options();
  options.max_attempts = 10;
  LeaseScheduler scheduler(options);
  scheduler.AddJob("job", 1, MakeShards(1));
  const std::string w = scheduler.RegisterWorker("w", clock_.now).worker_id;
  std::vector<int64_t> delays;
  for (int i = 0; i < 4; ++i) {
    auto g = scheduler.Lease(w, clock_.now);
    ASSERT_TRUE(g.ok() && g->has_value());
    auto loss = scheduler.Fail(w, (*g)->lease_id, "boom", /*retryable=*/true, false, clock_.now);
    ASSERT_TRUE(loss.ok()) << loss.status();
    delays.push_back(loss->retry_at_ms - clock_.now);
    clock_.Advance(loss->retry_at_ms - clock_.now);
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{100, 200, 250, 250}));
}

TEST_F(LeaseSchedulerTest, MaxAttemptsFailsTheJobWithTheLastError) {
  scheduler_.AddJob("job", 1, MakeShards(2));
  const std::string w = scheduler_.RegisterWorker("w", clock_.now).worker_id;
  std::optional<std::string> failure;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    LeaseGrant g = MustLease(w);
    if (g.key.index != 0) {  // keep shard 1 leased; only shard 0 fails
      g = MustLease(w);
    }
    auto loss = scheduler_.Fail(w, g.lease_id,
                                "CUDA error: out of memory (try " + std::to_string(attempt) + ")",
                                /*retryable=*/true, false, clock_.now);
    ASSERT_TRUE(loss.ok());
    failure = loss->job_failure;
    clock_.Advance(1000);
    if (attempt < 3) {
      EXPECT_FALSE(failure.has_value());
    }
  }
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(*failure,
            "shard shard-0 failed 3 times (max_attempts 3): CUDA error: out of memory (try 3)");
  EXPECT_FALSE(scheduler_.IsActive("job"));
  EXPECT_TRUE(NothingToLease(w));
}

TEST_F(LeaseSchedulerTest, NonRetryableFailureFailsTheJobAtOnce) {
  scheduler_.AddJob("job", 1, MakeShards(3));
  const std::string w = scheduler_.RegisterWorker("w", clock_.now).worker_id;
  LeaseGrant g = MustLease(w);
  LeaseGrant other = MustLease(w);
  auto loss = scheduler_.Fail(w, g.lease_id, "config.json: not found", false, false, clock_.now);
  ASSERT_TRUE(loss.ok());
  ASSERT_TRUE(loss->job_failure.has_value());
  EXPECT_EQ(*loss->job_failure, "shard shard-0 failed: config.json: not found");
  // The other open lease is revoked.
  auto hb = scheduler_.Heartbeat(w, {other.lease_id}, clock_.now);
  EXPECT_EQ(hb->revoked_lease_ids, std::vector<std::string>{other.lease_id});
}

TEST_F(LeaseSchedulerTest, ReleaseRequeuesAtOnceWithoutCounting) {
  scheduler_.AddJob("job", 1, MakeShards(1));
  const std::string w = scheduler_.RegisterWorker("w", clock_.now).worker_id;
  LeaseGrant g = MustLease(w);
  auto loss = scheduler_.Fail(w, g.lease_id, "shutting down", true, /*released=*/true, clock_.now);
  ASSERT_TRUE(loss.ok());
  EXPECT_EQ(scheduler_.Shard(g.key)->failures, 0u);
  EXPECT_EQ(MustLease(w).key.index, 0u);
}

TEST_F(LeaseSchedulerTest, FailOfALeaseNotHeldIsNotFound) {
  scheduler_.AddJob("job", 1, MakeShards(1));
  const std::string a = scheduler_.RegisterWorker("a", clock_.now).worker_id;
  const std::string b = scheduler_.RegisterWorker("b", clock_.now).worker_id;
  LeaseGrant g = MustLease(a);
  EXPECT_EQ(scheduler_.Fail(b, g.lease_id, "x", true, false, clock_.now).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(scheduler_.Fail(a, "lease-bogus", "x", true, false, clock_.now).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(LeaseSchedulerTest, FirstCompletionWinsAndDuplicatesAreDropped) {
  scheduler_.AddJob("job", 1, MakeShards(2));
  const std::string a = scheduler_.RegisterWorker("a", clock_.now).worker_id;
  const std::string b = scheduler_.RegisterWorker("b", clock_.now).worker_id;
  LeaseGrant g = MustLease(a);
  // a's lease expires; b gets the shard; a's late result still wins.
  clock_.Advance(1000);
  ASSERT_EQ(scheduler_.Tick(clock_.now).size(), 1u);
  clock_.Advance(100);
  LeaseGrant g2 = MustLease(b);
  ASSERT_EQ(g2.key, g.key);
  auto first = scheduler_.Complete(g.key, {111, 50, "k1"});
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->accepted);
  EXPECT_FALSE(first->job_scored);
  auto second = scheduler_.Complete(g.key, {222, 50, "k2"});
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->accepted);
  EXPECT_EQ(second->winner_checksum, 111u);
  EXPECT_EQ(scheduler_.Shard(g.key)->payload_key, "k1");
  // b's lease for the now-scored shard is revoked.
  EXPECT_EQ(scheduler_.Heartbeat(b, {g2.lease_id}, clock_.now)->revoked_lease_ids.size(), 1u);
  LeaseGrant last = MustLease(b);
  auto done = scheduler_.Complete(last.key, {333, 70, "k3"});
  EXPECT_TRUE(done->accepted);
  EXPECT_TRUE(done->job_scored);
  EXPECT_EQ(scheduler_.CountByState(), (std::array<uint64_t, 3>{0, 0, 2}));
}

TEST_F(LeaseSchedulerTest, CompletionForStoppedJobIsNotAccepted) {
  scheduler_.AddJob("job", 1, MakeShards(1));
  const std::string w = scheduler_.RegisterWorker("w", clock_.now).worker_id;
  LeaseGrant g = MustLease(w);
  EXPECT_EQ(scheduler_.StopJob("job"), std::vector<std::string>{g.lease_id});
  auto result = scheduler_.Complete(g.key, {1, 1, "k"});
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result->accepted);
  EXPECT_EQ(scheduler_.Complete({"nojob", 0}, {1, 1, "k"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(scheduler_.Complete({"job", 7}, {1, 1, "k"}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(LeaseSchedulerTest, ReRegisteringUnderTheSameNameLosesOldLeases) {
  scheduler_.AddJob("job", 1, MakeShards(1));
  const std::string old_id = scheduler_.RegisterWorker("pod-0", clock_.now).worker_id;
  LeaseGrant g = MustLease(old_id);
  RegisterResult again = scheduler_.RegisterWorker("pod-0", clock_.now);
  EXPECT_NE(again.worker_id, old_id);
  ASSERT_EQ(again.lost.size(), 1u);
  EXPECT_EQ(again.lost[0].lease_id, g.lease_id);
  EXPECT_FALSE(scheduler_.HasWorker(old_id));
  EXPECT_EQ(scheduler_.Shard(g.key)->failures, 1u);
}

TEST_F(LeaseSchedulerTest, SilentWorkersAreForgotten) {
  const std::string w = scheduler_.RegisterWorker("w", clock_.now).worker_id;
  clock_.Advance(5000);
  scheduler_.Tick(clock_.now);
  EXPECT_TRUE(scheduler_.HasWorker(w));
  clock_.Advance(1);
  scheduler_.Tick(clock_.now);
  EXPECT_FALSE(scheduler_.HasWorker(w));
  // The name is free for a new registration.
  EXPECT_TRUE(scheduler_.RegisterWorker("w", clock_.now).lost.empty());
}

TEST_F(LeaseSchedulerTest, RecoveredJobKeepsLeasesScoredAndBackoff) {
  std::vector<ShardInfo> shards = MakeShards(3);
  shards[0].state = ShardState::kScored;
  shards[0].checksum = 9;
  shards[1].state = ShardState::kLeased;
  shards[1].lease_id = "lease-old-1";
  shards[1].worker_id = "worker-old-1";
  shards[1].lease_expire_ms = clock_.now + 1000;
  shards[2].not_before_ms = clock_.now + 500;
  scheduler_.AddJob("job", 1, shards);
  scheduler_.RestoreWorker({"worker-old-1", "pod-0", 0}, clock_.now);
  // The restored worker's heartbeat keeps its lease.
  auto hb = scheduler_.Heartbeat("worker-old-1", {"lease-old-1"}, clock_.now);
  ASSERT_TRUE(hb.ok());
  EXPECT_TRUE(hb->revoked_lease_ids.empty());
  EXPECT_TRUE(NothingToLease("worker-old-1"));
  EXPECT_EQ(scheduler_.NextWakeMs(), clock_.now + 500);
  clock_.Advance(500);
  EXPECT_EQ(MustLease("worker-old-1").key.index, 2u);
  auto done = scheduler_.Complete({"job", 1}, {5, 5, "k"});
  EXPECT_TRUE(done->accepted);
  EXPECT_FALSE(done->job_scored);
}

TEST_F(LeaseSchedulerTest, LeaseIdsAreUnique) {
  scheduler_.AddJob("job", 1, MakeShards(50));
  const std::string w = scheduler_.RegisterWorker("w", clock_.now).worker_id;
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.insert(MustLease(w).lease_id);
  EXPECT_EQ(ids.size(), 50u);
  LeaseScheduler other(Options());
  other.AddJob("job", 1, MakeShards(1));
  const std::string w2 = other.RegisterWorker("w", clock_.now).worker_id;
  auto g = other.Lease(w2, clock_.now);
  EXPECT_EQ(ids.count((*g)->lease_id), 0u) << "a second incarnation must not reuse lease ids";
}

}  // namespace
}  // namespace cluedrop::coordinator

// GradBucketer against FakeCollectives(rank 0 of 2): the other rank
// contributes zeros, so an all-reduce average halves a gradient exactly once
// (never reduced: unchanged; reduced twice: a quarter).
#include "workers/trainer/grad_bucketer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "workers/trainer/process_group_fake.h"

namespace cluedrop::trainer {
namespace {

std::vector<torch::Tensor> Params(const std::vector<int64_t>& sizes) {
  std::vector<torch::Tensor> out;
  for (int64_t n : sizes) out.push_back(torch::randn({n}).requires_grad_(true));
  return out;
}

// sum_i <p_i, c_i>: the gradient of p_i is c_i.
torch::Tensor Loss(const std::vector<torch::Tensor>& params, const std::vector<torch::Tensor>& c,
                   const std::vector<bool>& use = {}) {
  torch::Tensor loss = torch::zeros({});
  for (size_t i = 0; i < params.size(); ++i) {
    if (use.empty() || use[i]) loss = loss + (params[i] * c[i]).sum();
  }
  return loss;
}

std::vector<torch::Tensor> Coefficients(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> c;
  for (const auto& p : params) c.push_back(torch::randn(p.sizes()));
  return c;
}

int64_t AllReduces(const FakeCollectives& fake) {
  int64_t n = 0;
  for (const auto& call : fake.calls()) n += call.kind == FakeCollectives::Kind::kAllReduce;
  return n;
}

TEST(GradBucketerTest, BucketsFillInReverseOrderUpToTheCap) {
  FakeCollectives fake;
  // 40, 80, 20 and 120 bytes; cap 100: [p3] (alone: above the cap), [p2, p1], [p0].
  auto params = Params({10, 20, 5, 30});
  auto b = GradBucketer::Create(params, &fake, {.bucket_cap_bytes = 100});
  ASSERT_TRUE(b.ok()) << b.status();
  const auto& buckets = (*b)->buckets();
  ASSERT_EQ(buckets.size(), 3u);
  EXPECT_EQ(buckets[0].params, (std::vector<size_t>{3}));
  EXPECT_EQ(buckets[1].params, (std::vector<size_t>{2, 1}));
  EXPECT_EQ(buckets[1].offsets, (std::vector<int64_t>{0, 5}));
  EXPECT_EQ(buckets[1].numel, 25);
  EXPECT_EQ(buckets[2].params, (std::vector<size_t>{0}));
}

TEST(GradBucketerTest, DtypeChangeStartsANewBucket) {
  FakeCollectives fake;
  std::vector<torch::Tensor> params = {torch::zeros({4}).requires_grad_(true),
                                       torch::zeros({4}, torch::kBFloat16).requires_grad_(true),
                                       torch::zeros({4}).requires_grad_(true)};
  auto b = GradBucketer::Create(params, &fake, {});
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ((*b)->buckets().size(), 3u);
  EXPECT_EQ((*b)->buckets()[1].dtype, torch::kBFloat16);
}

TEST(GradBucketerTest, EveryGradientIsAveragedExactlyOnce) {
  torch::manual_seed(1);
  FakeCollectives fake(/*rank=*/0, /*world_size=*/2);
  auto params = Params({7, 300, 64, 1, 129, 33});
  auto c = Coefficients(params);
  auto b = GradBucketer::Create(params, &fake, {.bucket_cap_bytes = 600});
  ASSERT_TRUE(b.ok()) << b.status();
  const int64_t buckets = static_cast<int64_t>((*b)->buckets().size());
  ASSERT_GE(buckets, 3);
  (*b)->BeginBackward(/*sync=*/true);
  Loss(params, c).backward();
  // Every bucket was complete, and launched, during backward.
  EXPECT_EQ(AllReduces(fake), buckets);
  EXPECT_EQ(fake.pending(), buckets);
  auto waited = (*b)->FinishSync();
  ASSERT_TRUE(waited.ok()) << waited.status();
  EXPECT_EQ((*b)->launched_during_backward(), buckets);
  EXPECT_EQ(fake.pending(), 0);
  EXPECT_EQ(AllReduces(fake), buckets + 1);  // + the gradient flags
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(torch::equal(params[i].grad(), c[i] / 2)) << "parameter " << i;
  }
  // Each bucket all-reduce covered its parameters exactly.
  int64_t numel = 0;
  for (const auto& call : fake.calls()) numel += call.numel;
  EXPECT_EQ(numel, 7 + 300 + 64 + 1 + 129 + 33 + 6);
}

TEST(GradBucketerTest, AccumulationReducesOnlyAfterTheLastMicroBatch) {
  torch::manual_seed(2);
  FakeCollectives fake(0, 2);
  auto params = Params({16, 8, 40});
  auto b = GradBucketer::Create(params, &fake, {.bucket_cap_bytes = 64});
  ASSERT_TRUE(b.ok());
  std::vector<std::vector<torch::Tensor>> cs = {Coefficients(params), Coefficients(params),
                                                Coefficients(params)};
  for (int m = 0; m < 3; ++m) {
    (*b)->BeginBackward(/*sync=*/m == 2);
    Loss(params, cs[m]).backward();
    if (m < 2) {
      EXPECT_EQ(AllReduces(fake), 0) << "micro-batch " << m;
    }
  }
  ASSERT_TRUE((*b)->FinishSync().ok());
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(torch::allclose(params[i].grad(), (cs[0][i] + cs[1][i] + cs[2][i]) / 2))
        << "parameter " << i;
  }
  // A second optimizer step starts from clean state.
  for (auto& p : params) p.mutable_grad() = torch::Tensor();
  (*b)->BeginBackward(true);
  Loss(params, cs[0]).backward();
  ASSERT_TRUE((*b)->FinishSync().ok());
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(torch::equal(params[i].grad(), cs[0][i] / 2));
  }
}

TEST(GradBucketerTest, ParametersWithoutGradients) {
  torch::manual_seed(3);
  FakeCollectives fake(0, 2);
  auto params = Params({8, 8, 8, 8});
  auto c = Coefficients(params);
  auto b = GradBucketer::Create(params, &fake, {.bucket_cap_bytes = 32});  // one per bucket
  ASSERT_TRUE(b.ok());
  // p1 gets a gradient only in the first micro-batch, p2 never.
  (*b)->BeginBackward(false);
  Loss(params, c, {true, true, false, true}).backward();
  (*b)->BeginBackward(true);
  Loss(params, c, {true, false, false, true}).backward();
  ASSERT_TRUE((*b)->FinishSync().ok());
  // Buckets are [p3], [p2], [p1], [p0]: only [p3] could launch in backward
  // (p2's bucket blocks the ones after it, which keep their order).
  EXPECT_EQ((*b)->launched_during_backward(), 1);
  EXPECT_TRUE(torch::equal(params[0].grad(), c[0]));  // 2 * c / 2
  EXPECT_TRUE(torch::equal(params[1].grad(), c[1] / 2));
  EXPECT_FALSE(params[2].grad().defined());
  EXPECT_TRUE(torch::equal(params[3].grad(), c[3]));
}

TEST(GradBucketerTest, RejectsFrozenParametersAndSecondBucketer) {
  FakeCollectives fake;
  std::vector<torch::Tensor> frozen = {torch::zeros({2})};
  EXPECT_EQ(GradBucketer::Create(frozen, &fake, {}).status().code(), StatusCode::kInvalidArgument);
  auto params = Params({4});
  EXPECT_EQ(GradBucketer::Create(params, &fake, {.bucket_cap_bytes = 0}).status().code(),
            StatusCode::kInvalidArgument);
  {
    auto first = GradBucketer::Create(params, &fake, {});
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(GradBucketer::Create(params, &fake, {}).status().code(),
              StatusCode::kFailedPrecondition);
  }
  EXPECT_TRUE(GradBucketer::Create(params, &fake, {}).ok());  // hooks were removed
}

TEST(GradBucketerTest, FailedLaunchSurfacesInFinishSync) {
  FakeCollectives fake(0, 2);
  auto params = Params({4, 4});
  auto b = GradBucketer::Create(params, &fake, {.bucket_cap_bytes = 16});
  ASSERT_TRUE(b.ok());
  fake.FailNextAllReduce(UnavailableError("peer gone"));
  (*b)->BeginBackward(true);
  Loss(params, Coefficients(params)).backward();
  auto finished = (*b)->FinishSync();
  EXPECT_EQ(finished.status().code(), StatusCode::kUnavailable) << finished.status();
  EXPECT_EQ(fake.pending(), 0);
}

}  // namespace
}  // namespace cluedrop::trainer

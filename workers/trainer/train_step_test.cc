// The train step: micro-batch layout, global-token loss normalisation, and
// data-parallel equivalence (2 Gloo ranks == 1 rank on the same global
// batch, with and without gradient accumulation), LoRA, error agreement.
#include "workers/trainer/train_step.h"

#include <gtest/gtest.h>

#include <mutex>

#include "workers/trainer/process_group_fake.h"
#include "workers/trainer/train_params.h"
#include "workers/trainer/train_test_util.h"

namespace cluedrop::trainer {
namespace {

using testing::RandomSequences;
using testing::RunRanks;
using testing::TinyLlama;

constexpr int64_t kPad = 0;

TrainStepOptions Options() {
  TrainStepOptions o;
  o.optimizer.learning_rate = 1e-3;
  o.optimizer.weight_decay = 0.01;
  o.schedule.kind = LrScheduleKind::kCosine;
  o.schedule.peak_lr = 1e-3;
  o.schedule.warmup_steps = 2;
  o.schedule.total_steps = 10;
  o.grad_clip = 1.0;
  o.bucketing.bucket_cap_bytes = 8 << 10;  // several buckets on the tiny model
  return o;
}

MicroBatch Batch(const std::vector<std::vector<int64_t>>& sequences) {
  auto mb = MakeMicroBatch(sequences, kPad);
  if (!mb.ok()) throw std::runtime_error(mb.status().ToString());
  return *mb;
}

std::vector<std::vector<int64_t>> Slice(const std::vector<std::vector<int64_t>>& v, size_t begin,
                                        size_t count) {
  return {v.begin() + begin, v.begin() + begin + count};
}

double MaxAbsDiff(torch::nn::Module& a, torch::nn::Module& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  double worst = 0;
  for (const auto& item : pa) {
    worst = std::max(worst, (item.value() - pb[item.key()]).abs().max().item<double>());
  }
  return worst;
}

TEST(MakeMicroBatchTest, RightPadsAndShiftsLabels) {
  auto mb = MakeMicroBatch({{1, 2, 3}, {4, 5}}, /*pad_id=*/9);
  ASSERT_TRUE(mb.ok()) << mb.status();
  EXPECT_TRUE(torch::equal(mb->input_ids, torch::tensor({{1, 2, 3}, {4, 5, 9}}, torch::kLong)));
  EXPECT_TRUE(
      torch::equal(mb->attention_mask, torch::tensor({{1, 1, 1}, {1, 1, 0}}, torch::kLong)));
  EXPECT_TRUE(
      torch::equal(mb->labels, torch::tensor({{2, 3, -100}, {5, -100, -100}}, torch::kLong)));
  auto cut = MakeMicroBatch({{1, 2, 3, 4}}, 0, /*max_len=*/2);
  ASSERT_TRUE(cut.ok());
  EXPECT_TRUE(torch::equal(cut->labels, torch::tensor({{2, -100}}, torch::kLong)));
  EXPECT_EQ(MakeMicroBatch({}, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeMicroBatch({{1}, {}}, 0).status().code(), StatusCode::kInvalidArgument);
}

TEST(TrainStepTest, LossIsTheTokenMeanOverTheGlobalBatch) {
  auto model = TinyLlama(3);
  auto sequences = RandomSequences(3, 3, 11, /*seed=*/5);
  // Reference: every sequence alone (no padding), summed token CE / tokens.
  double ce_sum = 0;
  int64_t tokens = 0;
  {
    torch::NoGradGuard no_grad;
    for (const auto& seq : sequences) {
      torch::Tensor ids = torch::tensor(seq, torch::kLong).unsqueeze(0);
      torch::Tensor logp = torch::log_softmax(model->Forward(ids, {}).squeeze(0), -1);
      for (size_t t = 0; t + 1 < seq.size(); ++t) {
        ce_sum -= logp[t][seq[t + 1]].item<double>();
        ++tokens;
      }
    }
  }
  FakeCollectives single;
  auto step = TrainStep::Create(model, &single, Options());
  ASSERT_TRUE(step.ok()) << step.status();
  // Two unequal micro-batches: a per-micro-batch mean would weigh them 1:1.
  auto stats = (*step)->Run({Batch(Slice(sequences, 0, 1)), Batch(Slice(sequences, 1, 2))});
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->tokens, tokens);
  EXPECT_EQ(stats->local_tokens, tokens);
  EXPECT_NEAR(stats->loss, ce_sum / tokens, 1e-5);
  EXPECT_EQ(stats->step, 1);
  EXPECT_DOUBLE_EQ(stats->learning_rate, 5e-4);  // warm-up step 1 of 2
  EXPECT_GT(stats->grad_norm, 0);
  EXPECT_FALSE(stats->skipped);
  EXPECT_GE(stats->step_seconds, stats->allreduce_wait_seconds);
}

// One optimizer step of W ranks x `micro` micro-batches x B sequences
// against one rank with all W*micro*B sequences in one micro-batch.
void ExpectDataParallelEquivalence(int world, int micro, int per_micro) {
  const int total = world * micro * per_micro;
  auto sequences = RandomSequences(total, 4, 14, /*seed=*/42);

  auto reference = TinyLlama(7);
  FakeCollectives single;
  auto ref_step = TrainStep::Create(reference, &single, Options());
  ASSERT_TRUE(ref_step.ok()) << ref_step.status();
  auto ref_stats = (*ref_step)->Run({Batch(sequences)});
  ASSERT_TRUE(ref_stats.ok()) << ref_stats.status();

  std::mutex mu;
  std::vector<double> diffs(world), losses(world), norms(world);
  std::vector<int64_t> launched(world);
  // Built here, not on the rank threads: initialisation draws from torch's
  // global generator. Ranks > 0 start from other weights: the initial
  // broadcast fixes that.
  std::vector<std::shared_ptr<model::CausalLM>> models;
  for (int r = 0; r < world; ++r) models.push_back(TinyLlama(r == 0 ? 7 : 100 + r));
  Status s = RunRanks(world, [&](int rank, Collectives& pg) -> Status {
    auto model = models[rank];
    CLUEDROP_ASSIGN_OR_RETURN(auto step, TrainStep::Create(model, &pg, Options()));
    std::vector<MicroBatch> mine;
    for (int m = 0; m < micro; ++m) {
      mine.push_back(Batch(Slice(sequences, (rank * micro + m) * per_micro, per_micro)));
    }
    CLUEDROP_ASSIGN_OR_RETURN(StepStats stats, step->Run(mine));
    std::lock_guard<std::mutex> lock(mu);
    diffs[rank] = MaxAbsDiff(*model, *reference);
    losses[rank] = stats.loss;
    norms[rank] = stats.grad_norm;
    launched[rank] = step->bucketer().launched_during_backward();
    return OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_GT((*ref_step)->bucketer().buckets().size(), 2u);
  for (int r = 0; r < world; ++r) {
    EXPECT_LE(diffs[r], 1e-6) << "rank " << r;
    EXPECT_NEAR(losses[r], ref_stats->loss, 1e-6 * ref_stats->loss) << "rank " << r;
    EXPECT_NEAR(norms[r], ref_stats->grad_norm, 1e-5 * ref_stats->grad_norm) << "rank " << r;
    EXPECT_GT(launched[r], 0) << "no bucket overlapped backward on rank " << r;
    std::cout << "rank " << r << ": max |param - reference| = " << diffs[r] << ", loss "
              << losses[r] << " vs " << ref_stats->loss << "\n";
  }
  // The step changed the parameters by far more than the tolerance.
  auto initial = TinyLlama(7);
  EXPECT_GT(MaxAbsDiff(*initial, *reference), 1e-4);
}

TEST(DpEquivalenceTest, TwoGlooRanksEqualOneRankOnTheSameGlobalBatch) {
  ExpectDataParallelEquivalence(/*world=*/2, /*micro=*/1, /*per_micro=*/2);
}

TEST(DpEquivalenceTest, TwoGlooRanksWithGradientAccumulationTwo) {
  ExpectDataParallelEquivalence(/*world=*/2, /*micro=*/2, /*per_micro=*/2);
}

TEST(TrainStepTest, RanksDisagreeingOnMicroBatchCountFailTogether) {
  auto sequences = RandomSequences(3, 4, 8, 9);
  std::vector<Status> results(2);
  std::vector<std::shared_ptr<model::CausalLM>> models = {TinyLlama(1), TinyLlama(1)};
  Status s = RunRanks(2, [&](int rank, Collectives& pg) -> Status {
    auto model = models[rank];
    CLUEDROP_ASSIGN_OR_RETURN(auto step, TrainStep::Create(model, &pg, Options()));
    std::vector<MicroBatch> mine = {Batch(Slice(sequences, 0, 1))};
    if (rank == 1) mine.push_back(Batch(Slice(sequences, 1, 2)));
    results[rank] = step->Run(mine).status();
    return OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(results[0].code(), StatusCode::kFailedPrecondition) << results[0];
  EXPECT_EQ(results[1].code(), StatusCode::kFailedPrecondition) << results[1];
}

TEST(TrainStepTest, LoraTrainsOnlyTheAdapters) {
  auto model = TinyLlama(4);
  auto adapted = EnableLoraTraining(*model, {}, /*rank=*/4, /*alpha=*/8);
  ASSERT_TRUE(adapted.ok()) << adapted.status();
  EXPECT_EQ(*adapted, 4);  // q_proj and v_proj of 2 layers
  std::map<std::string, torch::Tensor> before;
  for (const auto& p : model->named_parameters()) before[p.key()] = p.value().detach().clone();
  FakeCollectives single;
  auto step = TrainStep::Create(model, &single, Options());
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ((*step)->trainable().size(), 8u);
  for (int i = 0; i < 2; ++i) {  // B starts at zero: A moves from the 2nd step
    auto stats = (*step)->Run({Batch(RandomSequences(2, 4, 8, 20 + i))});
    ASSERT_TRUE(stats.ok()) << stats.status();
  }
  for (const auto& p : model->named_parameters()) {
    const bool lora = p.key().find(".lora_") != std::string::npos;
    EXPECT_EQ(p.value().requires_grad(), lora) << p.key();
    EXPECT_EQ(torch::equal(p.value(), before[p.key()]), !lora) << p.key();
  }
}

TEST(TrainStepTest, Bf16AutocastOnCpuTracksFloat32Loss) {
  auto sequences = RandomSequences(2, 6, 10, 31);
  double loss[2];
  for (int bf16 = 0; bf16 < 2; ++bf16) {
    auto model = TinyLlama(8);
    FakeCollectives single;
    TrainStepOptions o = Options();
    o.precision = bf16 ? Precision::kBf16 : Precision::kAuto;  // auto: fp32 on CPU
    auto step = TrainStep::Create(model, &single, o);
    ASSERT_TRUE(step.ok());
    auto stats = (*step)->Run({Batch(sequences)});
    ASSERT_TRUE(stats.ok()) << stats.status();
    loss[bf16] = stats->loss;
  }
  EXPECT_NE(loss[0], loss[1]);  // bf16 really ran
  EXPECT_NEAR(loss[1], loss[0], 0.02 * loss[0]);
}

TEST(TrainStepTest, RejectsBadInputAndOptions) {
  auto model = TinyLlama(1);
  FakeCollectives single;
  TrainStepOptions o = Options();
  o.schedule.total_steps = 1;  // <= warmup
  EXPECT_EQ(TrainStep::Create(model, &single, o).status().code(), StatusCode::kInvalidArgument);
  auto step = TrainStep::Create(model, &single, Options());
  ASSERT_TRUE(step.ok());
  EXPECT_EQ((*step)->Run({}).status().code(), StatusCode::kInvalidArgument);
  MicroBatch no_targets = Batch({{5}});  // one token: nothing to predict
  EXPECT_EQ((*step)->Run({no_targets}).status().code(), StatusCode::kInvalidArgument);
  MicroBatch bad = Batch({{1, 2}});
  bad.labels = bad.labels.to(torch::kInt);
  EXPECT_EQ((*step)->Run({bad}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*step)->step(), 0);
}

}  // namespace
}  // namespace cluedrop::trainer

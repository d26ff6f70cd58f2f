// Checkpoints: resume equivalence (save at k, continue to n == restore k in a
// fresh model and optimizer, continue to n: bitwise), RNG and cursor
// round-trips, the `latest` pointer, multi-rank saves, mismatch errors.
#include "workers/trainer/train_checkpoint.h"

#include <dirent.h>
#include <gtest/gtest.h>

#include <fstream>
#include <mutex>

#include "workers/trainer/process_group_fake.h"
#include "workers/trainer/train_test_util.h"

namespace cluedrop::trainer {
namespace {

using testing::RandomSequences;
using testing::RunRanks;
using testing::TempDir;
using testing::TinyLlama;

TrainStepOptions CheckpointedOptions() {
  TrainStepOptions o;
  o.optimizer.weight_decay = 0.1;
  o.schedule.kind = LrScheduleKind::kCosine;  // lr depends on the restored step
  o.schedule.peak_lr = 3e-3;
  o.schedule.warmup_steps = 2;
  o.schedule.total_steps = 6;
  o.grad_clip = 0.5;
  return o;
}

// The data of optimizer step `position` (what a data loader at that cursor
// would produce).
std::vector<MicroBatch> DataAt(int64_t position) {
  auto mb = MakeMicroBatch(RandomSequences(3, 4, 12, 1000 + position), 0);
  if (!mb.ok()) throw std::runtime_error(mb.status().ToString());
  return {*mb};
}

void Train(TrainStep& step, DataCursor& cursor, int64_t until) {
  while (step.step() < until) {
    auto stats = step.Run(DataAt(cursor.position));
    ASSERT_TRUE(stats.ok()) << stats.status();
    ++cursor.position;
  }
}

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(TrainCheckpointTest, ResumeFromStepKEqualsUninterruptedTraining) {
  constexpr int64_t k = 2, n = 5;
  TempDir root;
  FakeCollectives single;

  // Uninterrupted run with a checkpoint at k.
  auto model_a = TinyLlama(11);
  auto step_a = TrainStep::Create(model_a, &single, CheckpointedOptions());
  ASSERT_TRUE(step_a.ok()) << step_a.status();
  DataCursor cursor_a;
  Train(**step_a, cursor_a, k);
  std::mt19937_64 rng_a(77);
  rng_a.discard(5);
  ASSERT_TRUE(SaveTrainCheckpoint(root.path(), **step_a, cursor_a, &single, &rng_a).ok());
  const torch::Tensor draws_a = torch::rand({4});
  const uint64_t std_draw_a = rng_a();
  Train(**step_a, cursor_a, n);

  // A fresh process: other initial weights, new optimizer, scrambled RNGs.
  torch::manual_seed(12345);
  auto model_b = TinyLlama(99);
  auto step_b = TrainStep::Create(model_b, &single, CheckpointedOptions());
  ASSERT_TRUE(step_b.ok());
  auto dir = LatestCheckpoint(root.path());
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(*dir, root.path() + "/step-00000002");
  std::mt19937_64 rng_b(1);
  auto cursor_b = LoadTrainCheckpoint(*dir, **step_b, /*rank=*/0, &rng_b);
  ASSERT_TRUE(cursor_b.ok()) << cursor_b.status();
  EXPECT_EQ(cursor_b->position, k);
  EXPECT_EQ((*step_b)->step(), k);
  EXPECT_TRUE(torch::equal(torch::rand({4}), draws_a));  // torch CPU generator restored
  EXPECT_EQ(rng_b(), std_draw_a);                        // std RNG restored
  Train(**step_b, *cursor_b, n);

  auto pa = model_a->named_parameters(), pb = model_b->named_parameters();
  for (const auto& item : pa) {
    EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
  }
  // And the optimizer really carried state: without it the run diverges.
  auto model_c = TinyLlama(99);
  auto step_c = TrainStep::Create(model_c, &single, CheckpointedOptions());
  ASSERT_TRUE(step_c.ok());
  ASSERT_TRUE(LoadTrainCheckpoint(*dir, **step_c, 0).ok());
  (*step_c)->optimizer().state().clear();  // drop the Adam moments
  DataCursor cursor_c{0, k};
  Train(**step_c, cursor_c, n);
  EXPECT_FALSE(torch::equal(model_c->named_parameters()["lm_head.weight"], pa["lm_head.weight"]));
}

TEST(TrainCheckpointTest, LatestPointsAtTheNewestCompleteCheckpoint) {
  TempDir root;
  EXPECT_EQ(LatestCheckpoint(root.path()).status().code(), StatusCode::kNotFound);
  FakeCollectives single;
  auto model = TinyLlama(5);
  auto step = TrainStep::Create(model, &single, CheckpointedOptions());
  ASSERT_TRUE(step.ok());
  DataCursor cursor;
  Train(**step, cursor, 1);
  ASSERT_TRUE(SaveTrainCheckpoint(root.path(), **step, cursor, nullptr).ok());
  Train(**step, cursor, 2);
  ASSERT_TRUE(SaveTrainCheckpoint(root.path(), **step, cursor, nullptr).ok());
  // The same step again (e.g. after a resume) swaps the directory.
  ASSERT_TRUE(SaveTrainCheckpoint(root.path(), **step, cursor, nullptr).ok());
  EXPECT_EQ(List(root.path()),
            (std::vector<std::string>{"latest", "step-00000001", "step-00000002"}));
  EXPECT_EQ(List(root.path() + "/step-00000002"),
            (std::vector<std::string>{"model.safetensors", "optimizer.pt", "rank-00000.pt",
                                      "trainer_state.json"}));
  auto dir = LatestCheckpoint(root.path());
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(*dir, root.path() + "/step-00000002");
  std::ofstream(root.path() + "/latest") << "step-00000007\n";  // names nothing
  EXPECT_EQ(LatestCheckpoint(root.path()).status().code(), StatusCode::kDataLoss);
}

TEST(TrainCheckpointTest, DifferentTrainableParametersAreFailedPrecondition) {
  TempDir root;
  FakeCollectives single;
  auto model = TinyLlama(5);
  auto step = TrainStep::Create(model, &single, CheckpointedOptions());
  ASSERT_TRUE(step.ok());
  ASSERT_TRUE(SaveTrainCheckpoint(root.path(), **step, {}, nullptr).ok());
  auto lora_model = TinyLlama(5);
  ASSERT_TRUE(EnableLoraTraining(*lora_model, {}, 2, 4).ok());
  auto lora_step = TrainStep::Create(lora_model, &single, CheckpointedOptions());
  ASSERT_TRUE(lora_step.ok());
  auto dir = LatestCheckpoint(root.path());
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(LoadTrainCheckpoint(*dir, **lora_step, 0).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(LoadTrainCheckpoint(*dir, **step, /*rank=*/1).status().code(),
            StatusCode::kFailedPrecondition);  // saved by one rank
}

TEST(TrainCheckpointTest, TwoRanksSaveOneCheckpointWithPerRankCursors) {
  TempDir root;
  std::vector<std::shared_ptr<model::CausalLM>> models = {TinyLlama(3), TinyLlama(3)};
  std::vector<DataCursor> restored(2);
  Status s = RunRanks(2, [&](int rank, Collectives& pg) -> Status {
    CLUEDROP_ASSIGN_OR_RETURN(auto step,
                              TrainStep::Create(models[rank], &pg, CheckpointedOptions()));
    CLUEDROP_RETURN_IF_ERROR(step->Run(DataAt(rank)).status());
    CLUEDROP_RETURN_IF_ERROR(SaveTrainCheckpoint(root.path(), *step, {7, 10 + rank}, &pg));
    CLUEDROP_ASSIGN_OR_RETURN(std::string dir, LatestCheckpoint(root.path()));
    CLUEDROP_ASSIGN_OR_RETURN(restored[rank], LoadTrainCheckpoint(dir, *step, rank));
    return OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(restored[0], (DataCursor{7, 10}));
  EXPECT_EQ(restored[1], (DataCursor{7, 11}));
  EXPECT_EQ(List(root.path() + "/step-00000001"),
            (std::vector<std::string>{"model.safetensors", "optimizer.pt", "rank-00000.pt",
                                      "rank-00001.pt", "trainer_state.json"}));
}

}  // namespace
}  // namespace cluedrop::trainer

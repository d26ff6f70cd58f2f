// The training runner on the oracle's tiny Llama checkpoint: loss goes down,
// an interrupted run resumes bitwise, ranks with unequal data take equal
// steps, LoRA exports an adapter and the QA evaluation runs.
#include "workers/trainer/train_runner.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "workers/trainer/tokenizer_text_encoder.h"
#include "workers/trainer/train_test_util.h"

namespace cluedrop::trainer {
namespace {

std::string ModelDir() {
  const char* dir = std::getenv("CLUEDROP_ORACLE_DIR");
  return std::string(dir != nullptr ? dir : "oracle") + "/models/llama2/model";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Exists(const std::string& path) { return std::ifstream(path).good(); }

// Documents of `texts` scored with a deterministic fake contrast.
std::vector<ScoredDocument> Scored(const std::vector<std::string>& texts) {
  auto encoder = TokenizerTextEncoder::FromPath(ModelDir());
  EXPECT_TRUE(encoder.ok()) << encoder.status().ToString();
  std::vector<ScoredDocument> docs;
  for (size_t i = 0; i < texts.size(); ++i) {
    ScoredDocument d;
    d.id = "bio-" + std::to_string(i);
    d.text = texts[i];
    auto enc = (*encoder)->Encode(d.text);
    EXPECT_TRUE(enc.ok());
    d.tokens = enc->ids;
    d.offsets = enc->offsets;
    d.special = enc->special;
    for (size_t t = 0; t < d.tokens.size(); ++t) {
      d.received_large.push_back(static_cast<float>((t * 37 + i) % 11) / 11.0f);
      d.received_small.push_back(static_cast<float>((t * 13 + i) % 7) / 7.0f);
      d.contrast.push_back(d.received_large.back() - d.received_small.back());
    }
    docs.push_back(std::move(d));
  }
  return docs;
}

// `n` short synthetic biographies.
std::vector<ScoredDocument> Documents(int n) {
  const char* kCities[] = {"Paris", "Boston", "Lima", "Oslo", "Cairo", "Tokyo"};
  std::vector<std::string> texts;
  for (int i = 0; i < n; ++i) {
    texts.push_back("Person " + std::to_string(i) + " was born in " + kCities[i % 6] + " in 19" +
                    std::to_string(50 + i) + ". They work as a baker.");
  }
  return Scored(texts);
}

// The first `n` biographies of the paper's biography_synthetic.csv, field
// tags removed (as the corpus reader does with field_tags).
std::vector<ScoredDocument> PaperBiographies(int n) {
  std::ifstream in(std::string(CLUEDROP_PAPER_DATA_DIR) + "/biography_synthetic.csv");
  EXPECT_TRUE(in.good()) << CLUEDROP_PAPER_DATA_DIR;
  std::vector<std::string> texts;
  std::string line;
  std::getline(in, line);  // header
  while (static_cast<int>(texts.size()) < n && std::getline(in, line)) {
    std::string text;
    bool tag = false;
    for (char c : line) {
      if (c == '<') tag = true;
      if (!tag && c != '"') text.push_back(c);
      if (c == '>') tag = false;
    }
    texts.push_back(text);
  }
  EXPECT_EQ(static_cast<int>(texts.size()), n);
  return Scored(texts);
}

TrainRunOptions BaseOptions() {
  TrainRunOptions o;
  o.model_dir = ModelDir();
  o.learning_rate = 3e-3;
  o.batch_size = 2;
  o.epochs = 2;
  o.seed = 7;
  o.augmentation.copies = 2;
  o.augmentation.seed = 11;
  o.precision = TrainPrecision::kFp32;
  return o;
}

struct RunLog {
  StatusOr<TrainRunResult> result = InternalError("not run");
  std::vector<TrainProgress> steps;
};

RunLog Train(const TrainRunOptions& options, const std::vector<ScoredDocument>& docs,
             int stop_after = -1) {
  InMemoryShardSource source(PartitionDocuments(docs, 0, 1, 2));
  RunLog run;
  TrainCallbacks callbacks;
  callbacks.on_step = [&](const TrainProgress& p) { run.steps.push_back(p); };
  callbacks.stop = [&] {
    return stop_after >= 0 && static_cast<int>(run.steps.size()) >= stop_after;
  };
  run.result = RunTraining(options, source, RendezvousSpec{}, callbacks);
  return run;
}

TEST(TrainRunnerTest, LossDecreasesAndModelIsExported) {
  testing::TempDir tmp;
  TrainRunOptions o = BaseOptions();
  o.epochs = 4;
  o.output_dir = tmp.path() + "/out";
  RunLog run = Train(o, Documents(4));
  ASSERT_TRUE(run.result.ok()) << run.result.status().ToString();
  // 4 documents x 3 samples / batch 2 = 6 steps per epoch.
  ASSERT_EQ(run.steps.size(), 24u);
  EXPECT_EQ(run.result->steps, 24);
  const double first = (run.steps[0].loss + run.steps[1].loss) / 2;
  const double last = (run.steps[22].loss + run.steps[23].loss) / 2;
  EXPECT_LT(last, first * 0.8) << "first " << first << " last " << last;
  EXPECT_EQ(run.result->final_model_dir, o.output_dir + "/final");
  EXPECT_TRUE(Exists(o.output_dir + "/final/model.safetensors"));
  EXPECT_TRUE(Exists(o.output_dir + "/final/tokenizer.json"));
}

TEST(TrainRunnerTest, FromScratchConfigTrainsAndStartsFromADifferentModel) {
  testing::TempDir tmp;
  TrainRunOptions o = BaseOptions();
  o.model_dir.clear();
  o.from_scratch_config = ModelDir() + "/config.json";
  o.tokenizer_dir = ModelDir();
  o.epochs = 4;
  o.output_dir = tmp.path() + "/out";
  RunLog scratch = Train(o, Documents(4));
  ASSERT_TRUE(scratch.result.ok()) << scratch.result.status().ToString();
  ASSERT_EQ(scratch.steps.size(), 24u);
  const double first = (scratch.steps[0].loss + scratch.steps[1].loss) / 2;
  const double last = (scratch.steps[22].loss + scratch.steps[23].loss) / 2;
  EXPECT_LT(last, first * 0.8) << "first " << first << " last " << last;
  EXPECT_TRUE(Exists(o.output_dir + "/final/model.safetensors"));
  EXPECT_TRUE(Exists(o.output_dir + "/final/tokenizer.json"));
  // A fresh random init, not the checkpoint's weights: the first loss differs
  // from fine-tuning the checkpoint on the same first batch.
  TrainRunOptions checkpoint = BaseOptions();
  checkpoint.epochs = 1;
  RunLog tuned = Train(checkpoint, Documents(4));
  ASSERT_TRUE(tuned.result.ok());
  EXPECT_NE(scratch.steps[0].loss, tuned.steps[0].loss);
}

// Stops `o` after 3 steps (checkpoints every 2), resumes it, and checks the
// steps and the final parameters equal an uninterrupted run of `o`.
void ExpectResumeEqualsUninterrupted(const TrainRunOptions& o,
                                     const std::vector<ScoredDocument>& docs) {
  testing::TempDir tmp;
  TrainRunOptions full = o;
  full.checkpoint_root = tmp.path() + "/ck-full";
  full.output_dir = tmp.path() + "/out-full";
  RunLog reference = Train(full, docs);
  ASSERT_TRUE(reference.result.ok()) << reference.result.status().ToString();
  ASSERT_EQ(reference.steps.size(), 10u);  // 2 epochs x ceil(9 / 2)
  EXPECT_EQ(reference.steps[0].total_steps, 10);

  TrainRunOptions cut = o;
  cut.checkpoint_root = tmp.path() + "/ck-cut";
  cut.output_dir = tmp.path() + "/out-cut";
  RunLog first = Train(cut, docs, /*stop_after=*/3);
  ASSERT_EQ(first.result.status().code(), StatusCode::kCancelled);
  ASSERT_EQ(first.steps.size(), 3u);
  RunLog second = Train(cut, docs);
  ASSERT_TRUE(second.result.ok()) << second.result.status().ToString();
  EXPECT_EQ(second.result->resumed_from_step, 2);
  ASSERT_EQ(second.steps.size(), 8u);

  for (size_t i = 0; i < 10; ++i) {
    const TrainProgress& got = i < 2 ? first.steps[i] : second.steps[i - 2];
    EXPECT_EQ(got.step, reference.steps[i].step);
    EXPECT_EQ(got.loss, reference.steps[i].loss) << "step " << i + 1;
    EXPECT_EQ(got.learning_rate, reference.steps[i].learning_rate) << "step " << i + 1;
  }
  const std::string a = ReadFile(full.output_dir + "/final/model.safetensors");
  const std::string b = ReadFile(cut.output_dir + "/final/model.safetensors");
  ASSERT_FALSE(a.empty());
  EXPECT_TRUE(a == b) << "final parameters differ";
  // Rank 0's training log: one line per step; the resumed run appended the
  // steps after its checkpoint again (step 3), so the last line per step
  // is the one to keep.
  std::istringstream log(ReadFile(cut.output_dir + "/train_log.jsonl"));
  std::vector<int> logged;
  for (std::string line; std::getline(log, line);) {
    logged.push_back(std::stoi(line.substr(line.find(':') + 1)));
  }
  EXPECT_EQ(logged, (std::vector<int>{1, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10}));
}

TEST(TrainRunnerTest, ResumeAfterStopEqualsUninterruptedRun) {
  TrainRunOptions o = BaseOptions();
  o.schedule = TrainSchedule::kCosine;
  o.warmup_steps = 1;
  o.checkpoint_interval_steps = 2;
  ExpectResumeEqualsUninterrupted(o, Documents(3));
}

// The shuffle buffer: a seeded order (the same run twice is identical, a
// different seed or no shuffle is not), and a resumed run draws the same
// order, so it still equals the uninterrupted one.
TEST(TrainRunnerTest, ShuffleBufferIsSeededAndResumesBitwise) {
  const std::vector<ScoredDocument> docs = Documents(3);
  TrainRunOptions o = BaseOptions();
  o.schedule = TrainSchedule::kCosine;
  o.warmup_steps = 1;
  o.checkpoint_interval_steps = 2;
  o.shuffle_buffer = 5;
  auto losses = [&](const TrainRunOptions& options) {
    RunLog run = Train(options, docs);
    EXPECT_TRUE(run.result.ok()) << run.result.status().ToString();
    std::vector<double> out;
    for (const TrainProgress& p : run.steps) out.push_back(p.loss);
    return out;
  };
  const std::vector<double> shuffled = losses(o);
  ASSERT_EQ(shuffled.size(), 10u);
  EXPECT_EQ(losses(o), shuffled);
  TrainRunOptions unshuffled = o;
  unshuffled.shuffle_buffer = 0;
  EXPECT_NE(losses(unshuffled), shuffled);
  TrainRunOptions reseeded = o;
  reseeded.seed = o.seed + 1;  // from a checkpoint, full fine-tuning: the seed keys only the order
  EXPECT_NE(losses(reseeded), shuffled);
  ExpectResumeEqualsUninterrupted(o, docs);
}

TEST(TrainRunnerTest, RanksWithUnequalDataTakeEqualSteps) {
  const std::vector<ScoredDocument> docs = Documents(5);
  TrainRunOptions o = BaseOptions();
  o.schedule = TrainSchedule::kLinear;
  constexpr int kWorld = 2;
  std::promise<int> port;
  std::shared_future<int> port_future = port.get_future().share();
  std::vector<RunLog> runs(kWorld);
  std::vector<std::thread> threads;
  for (int rank = 0; rank < kWorld; ++rank) {
    threads.emplace_back([&, rank] {
      // Shards of one document: rank 0 gets 3 documents, rank 1 gets 2.
      InMemoryShardSource source(PartitionDocuments(docs, rank, kWorld, 1));
      RendezvousSpec r;
      r.rank = rank;
      r.world_size = kWorld;
      r.timeout_ms = 60000;
      if (rank == 0) {
        r.on_store_port = [&](int p) { port.set_value(p); };
      } else {
        r.store_port = port_future.get();
      }
      TrainCallbacks callbacks;
      callbacks.on_step = [&, rank](const TrainProgress& p) { runs[rank].steps.push_back(p); };
      runs[rank].result = RunTraining(o, source, r, callbacks);
    });
  }
  for (auto& t : threads) t.join();
  for (int rank = 0; rank < kWorld; ++rank) {
    ASSERT_TRUE(runs[rank].result.ok()) << runs[rank].result.status().ToString();
    // Rank 0: 9 samples / batch 2 = 5 steps per epoch; rank 1 follows.
    EXPECT_EQ(runs[rank].result->steps, 10) << "rank " << rank;
    ASSERT_EQ(runs[rank].steps.size(), 10u);
    EXPECT_EQ(runs[rank].steps[0].total_steps, 10);
  }
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(runs[0].steps[i].loss, runs[1].steps[i].loss);
  }
}

TEST(TrainRunnerTest, LoraExportsAdapterAndEvaluates) {
  testing::TempDir tmp;
  TrainRunOptions o = BaseOptions();
  o.epochs = 1;
  o.lora_rank = 4;
  o.lora_alpha = 8;
  o.output_dir = tmp.path() + "/out";
  QaQuestion q;
  q.subject = "Person 0";
  q.field = "city";
  q.answers = {"Paris"};
  q.prompt = "Person 0 was born in";
  o.eval_questions = {q};
  o.eval.max_new_tokens = 3;
  RunLog run = Train(o, Documents(2));
  ASSERT_TRUE(run.result.ok()) << run.result.status().ToString();
  EXPECT_TRUE(run.result->lora);
  EXPECT_TRUE(Exists(o.output_dir + "/final/adapter_model.safetensors"));
  ASSERT_TRUE(run.result->evaluation.has_value());
  ASSERT_EQ(run.result->evaluation->predictions.size(), 1u);
  EXPECT_FALSE(run.result->evaluation->fields.empty());
}

// Issue 19: a layer split over 2 CPU "devices", activation checkpointing,
// and both, train step for step like one device (LoRA and full
// fine-tuning). On the CPU the split moves nothing, so equality is exact;
// the GPU run repeats it over real devices.
TEST(TrainRunnerTest, LayerSplitAndCheckpointingTrainLikeOneDevice) {
  for (const bool lora : {true, false}) {
    TrainRunOptions o = BaseOptions();
    o.epochs = 1;
    if (lora) {
      o.lora_rank = 4;
      o.lora_alpha = 8;
    }
    RunLog plain = Train(o, Documents(3));
    ASSERT_TRUE(plain.result.ok()) << plain.result.status().ToString();
    ASSERT_GE(plain.steps.size(), 4u);
    struct Variant {
      const char* name;
      std::vector<int64_t> split;
      int64_t checkpointing;
    };
    for (const Variant& v : {Variant{"split 1+1", {1, 1}, 0}, Variant{"checkpoint every 1", {}, 1},
                             Variant{"split + checkpoint every 2", {1, 1}, 2}}) {
      TrainRunOptions other = o;
      other.layer_split = v.split;
      other.activation_checkpointing = v.checkpointing;
      RunLog run = Train(other, Documents(3));
      ASSERT_TRUE(run.result.ok()) << v.name << ": " << run.result.status().ToString();
      ASSERT_EQ(run.steps.size(), plain.steps.size()) << v.name;
      for (size_t i = 0; i < plain.steps.size(); ++i) {
        EXPECT_NEAR(run.steps[i].loss, plain.steps[i].loss, 1e-6)
            << v.name << (lora ? " lora" : " full") << " step " << i + 1;
        EXPECT_NEAR(run.steps[i].grad_norm, plain.steps[i].grad_norm, 1e-6)
            << v.name << (lora ? " lora" : " full") << " step " << i + 1;
      }
    }
  }
  TrainRunOptions bad = BaseOptions();
  bad.layer_split = {1, 2};
  RunLog run = Train(bad, Documents(1));
  EXPECT_EQ(run.result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(run.result.status().message(),
            "device_map.layer_split: sums to 3, the model has 2 layers");
}

// Issue 19: a checkpoint saved on one split resumes on another (and with
// checkpointing on) and ends bitwise like the uninterrupted one-device run.
TEST(TrainRunnerTest, CheckpointFromOneSplitResumesOnAnother) {
  testing::TempDir tmp;
  TrainRunOptions o = BaseOptions();
  o.checkpoint_interval_steps = 2;
  TrainRunOptions full = o;
  full.checkpoint_root = tmp.path() + "/ck-full";
  full.output_dir = tmp.path() + "/out-full";
  RunLog reference = Train(full, Documents(3));
  ASSERT_TRUE(reference.result.ok()) << reference.result.status().ToString();
  TrainRunOptions cut = o;
  cut.checkpoint_root = tmp.path() + "/ck-cut";
  cut.output_dir = tmp.path() + "/out-cut";
  cut.layer_split = {1, 1};
  RunLog first = Train(cut, Documents(3), /*stop_after=*/3);
  ASSERT_EQ(first.result.status().code(), StatusCode::kCancelled);
  cut.layer_split.clear();
  cut.activation_checkpointing = 1;
  RunLog second = Train(cut, Documents(3));
  ASSERT_TRUE(second.result.ok()) << second.result.status().ToString();
  EXPECT_EQ(second.result->resumed_from_step, 2);
  ASSERT_EQ(second.steps.size() + 2, reference.steps.size());
  for (size_t i = 2; i < reference.steps.size(); ++i) {
    EXPECT_EQ(second.steps[i - 2].loss, reference.steps[i].loss) << "step " << i + 1;
  }
  EXPECT_TRUE(ReadFile(full.output_dir + "/final/model.safetensors") ==
              ReadFile(cut.output_dir + "/final/model.safetensors"))
      << "final parameters differ";
}

// Issue 19: LoRA on an int8 base learns the paper's biographies (the loss
// falls), exports only the adapter, and int8 without LoRA is refused.
TEST(TrainRunnerTest, LoraOnAnInt8BaseLowersTheLoss) {
  testing::TempDir tmp;
  TrainRunOptions o = BaseOptions();
  o.epochs = 4;
  o.lora_rank = 8;
  o.lora_alpha = 16;
  o.learning_rate = 1e-2;
  o.quantize_int8 = true;
  o.output_dir = tmp.path() + "/out";
  const std::vector<ScoredDocument> bios = PaperBiographies(4);
  RunLog run = Train(o, bios);
  ASSERT_TRUE(run.result.ok()) << run.result.status().ToString();
  const size_t n = run.steps.size();
  ASSERT_GE(n, 16u);  // 4 epochs of at least 4 steps (long biographies are windowed)
  const double first = (run.steps[0].loss + run.steps[1].loss) / 2;
  const double last = (run.steps[n - 2].loss + run.steps[n - 1].loss) / 2;
  std::cout << "LoRA on int8, the paper's first 4 biographies: " << n << " steps, loss " << first
            << " -> " << last << "\n";
  EXPECT_LT(last, first * 0.8) << "first " << first << " last " << last;
  EXPECT_TRUE(Exists(o.output_dir + "/final/adapter_model.safetensors"));
  EXPECT_FALSE(Exists(o.output_dir + "/final/model.safetensors"));
  // Not the float32 base's run: the base really is int8.
  TrainRunOptions f32 = o;
  f32.quantize_int8 = false;
  f32.output_dir = tmp.path() + "/out-f32";
  f32.epochs = 1;
  RunLog reference = Train(f32, bios);
  ASSERT_TRUE(reference.result.ok());
  EXPECT_NE(reference.steps[0].loss, run.steps[0].loss);
  EXPECT_NEAR(reference.steps[0].loss, run.steps[0].loss, 0.05 * reference.steps[0].loss);

  TrainRunOptions bad = BaseOptions();
  bad.quantize_int8 = true;
  RunLog refused = Train(bad, Documents(1));
  EXPECT_EQ(refused.result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.result.status().message(),
            "quantization: int8 needs lora.rank > 0 (the int8 base is frozen)");
}

TEST(TrainRunnerTest, RejectsLoraDropoutAndBadSizes) {
  TrainRunOptions o = BaseOptions();
  o.lora_rank = 4;
  o.lora_dropout = 0.1;
  EXPECT_EQ(ValidateTrainRunOptions(o).code(), StatusCode::kInvalidArgument);
  o = BaseOptions();
  o.batch_size = 0;
  EXPECT_EQ(ValidateTrainRunOptions(o).code(), StatusCode::kInvalidArgument);
  o = BaseOptions();
  o.from_scratch_config = "/x/config.json";
  EXPECT_EQ(ValidateTrainRunOptions(o).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateTrainRunOptions(BaseOptions()).ok());
}

// Issue 18 row 11: a forged out-of-vocabulary id crashed the trainer (which
// then rejoined forever). The run now stops with INVALID_ARGUMENT naming the
// document, before any step; the daemon turns that into a failed job.
TEST(TrainRunnerTest, OutOfVocabularyIdsFailTheRunNamingTheDocument) {
  std::vector<ScoredDocument> docs = Documents(4);
  docs[3].tokens[2] = 1 << 30;
  RunLog run = Train(BaseOptions(), docs);
  ASSERT_FALSE(run.result.ok());
  EXPECT_EQ(run.result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(run.result.status().message().find("document bio-3: tokens[2] = 1073741824 is "
                                               "outside the target vocabulary [0, "),
            std::string::npos)
      << run.result.status().ToString();
  docs[3] = Documents(4)[3];
  docs[0].tokens[1] = -5;  // in the first shard: no step runs
  run = Train(BaseOptions(), docs);
  EXPECT_EQ(run.result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(run.steps.empty());
  // Lengths and spans are checked too.
  ScoredDocument d = Documents(1)[0];
  d.contrast.pop_back();
  EXPECT_EQ(ValidateScoredDocument(d, 1 << 20).code(), StatusCode::kInvalidArgument);
  d = Documents(1)[0];
  d.offsets.back().second = d.text.size() + 1;
  EXPECT_EQ(ValidateScoredDocument(d, 1 << 20).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateScoredDocument(Documents(1)[0], 1 << 20).ok());
}

TEST(TrainRunnerTest, PartitionDealsShardsRoundRobin) {
  std::vector<ScoredDocument> docs(5);
  for (int i = 0; i < 5; ++i) docs[i].id = std::to_string(i);
  auto r0 = PartitionDocuments(docs, 0, 2, 2);
  auto r1 = PartitionDocuments(docs, 1, 2, 2);
  ASSERT_EQ(r0.size(), 2u);
  ASSERT_EQ(r1.size(), 1u);
  EXPECT_EQ(r0[1][0].id, "4");
  EXPECT_EQ(r1[0][1].id, "3");
}

}  // namespace
}  // namespace cluedrop::trainer

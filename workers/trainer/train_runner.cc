// The training runner's torch body (train_runner.h).
#include "workers/trainer/train_runner.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <utility>

#include "workers/model/generation.h"
#include "workers/model/hf_export.h"
#include "workers/model/model_config.h"
#include "workers/model/model_loader.h"
#include "workers/model/torch_status.h"
#include "workers/trainer/device_peak.h"
#include "workers/trainer/process_group.h"
#include "workers/trainer/process_group_fake.h"
#include "workers/trainer/tokenizer_text_encoder.h"
#include "workers/trainer/train_checkpoint.h"
#include "workers/trainer/train_params.h"
#include "workers/trainer/train_step.h"

namespace cluedrop::trainer {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// <output_dir>/train_log.jsonl (rank 0): one JSON object per optimizer step,
// appended and flushed as the step ends. A resumed run appends the steps
// after its checkpoint again: readers keep the last line of each step.
class TrainLog {
 public:
  static StatusOr<std::unique_ptr<TrainLog>> Open(const std::string& output_dir) {
    std::error_code ec;
    std::filesystem::create_directories(output_dir, ec);
    const std::string path = output_dir + "/train_log.jsonl";
    std::FILE* f = std::fopen(path.c_str(), "a");
    if (f == nullptr) return InternalError(path + ": cannot open for appending");
    return std::unique_ptr<TrainLog>(new TrainLog(f));
  }
  ~TrainLog() { std::fclose(file_); }
  void Append(const TrainProgress& p) {
    std::fprintf(file_,
                 "{\"step\": %lld, \"total_steps\": %lld, \"epoch\": %lld, \"loss\": %.9g, "
                 "\"learning_rate\": %.9g, \"grad_norm\": %.9g, \"tokens\": %lld, "
                 "\"tokens_per_second\": %.6g, \"step_seconds\": %.6g, \"dropout_rate\": %.6g}\n",
                 static_cast<long long>(p.step), static_cast<long long>(p.total_steps),
                 static_cast<long long>(p.epoch), p.loss, p.learning_rate, p.grad_norm,
                 static_cast<long long>(p.tokens), p.tokens_per_second, p.step_seconds,
                 p.dropout_rate);
    std::fflush(file_);
  }

 private:
  explicit TrainLog(std::FILE* file) : file_(file) {}
  std::FILE* file_;
};

// Samples Augmenter::SamplesForEpoch yields per document.
int64_t SamplesPerDocument(const AugmentationOptions& a) {
  if (a.mode == AugmentMode::kNone) return 1;
  return (a.keep_original ? 1 : 0) + static_cast<int64_t>(a.copies);
}

// One epoch of a rank's samples, in order: shards, documents, samples.
// position() counts every sample handed out or skipped (empty ones too).
class EpochStream {
 public:
  // shuffle_buffer > 0: samples leave through a buffer of that many, each a
  // uniform draw (mt19937_64 keyed by shuffle_key) from the buffered ones.
  EpochStream(ScoredShardSource& source, const Augmenter& augmenter, uint32_t epoch,
              int64_t shuffle_buffer = 0, uint64_t shuffle_key = 0)
      : source_(source),
        augmenter_(augmenter),
        epoch_(epoch),
        per_document_(SamplesPerDocument(augmenter.options())),
        shuffle_buffer_(shuffle_buffer),
        rng_(shuffle_key) {}

  // The next non-empty sample's tokens; nullopt at the epoch's end.
  StatusOr<std::optional<std::vector<int64_t>>> Next() {
    while (true) {
      CLUEDROP_ASSIGN_OR_RETURN(bool more, Fill());
      if (!more) return std::optional<std::vector<int64_t>>();
      Pending sample = Pop();
      if (!sample.first.empty()) {
        dropped_ += sample.second.first;
        droppable_ += sample.second.second;
        return std::optional<std::vector<int64_t>>(
            std::vector<int64_t>(sample.first.begin(), sample.first.end()));
      }
    }
  }

  // Discards `count` samples. Without shuffling, whole documents are skipped
  // without augmenting; with it, samples are drawn as Next draws them.
  Status Skip(int64_t count) {
    while (count > 0) {
      if (shuffle_buffer_ == 0 && pending_.empty()) {
        CLUEDROP_ASSIGN_OR_RETURN(const ScoredDocument* doc, NextDocument());
        if (doc == nullptr) return PastTheEnd(count);
        if (count >= per_document_) {
          position_ += per_document_;
          count -= per_document_;
        } else {
          CLUEDROP_RETURN_IF_ERROR(Expand(*doc));
        }
        continue;
      }
      CLUEDROP_ASSIGN_OR_RETURN(bool more, Fill());
      if (!more) return PastTheEnd(count);
      Pop();
      --count;
    }
    return OkStatus();
  }

  int64_t position() const { return position_; }
  // Dropped and droppable tokens of the samples handed out so far; Reset
  // starts a new count (per step).
  std::pair<int64_t, int64_t> TakeDropCounts() {
    const auto counts = std::make_pair(dropped_, droppable_);
    dropped_ = droppable_ = 0;
    return counts;
  }

 private:
  using Pending = std::pair<std::vector<int32_t>, std::pair<int64_t, int64_t>>;

  static Status PastTheEnd(int64_t count) {
    return DataLossError("resume: the checkpoint's data cursor is past the epoch's end (" +
                         std::to_string(count) + " samples short): the data changed");
  }

  // Expands documents until a sample is pending (with shuffling: until the
  // buffer is full or the partition ends). False at the epoch's end.
  StatusOr<bool> Fill() {
    const size_t want = shuffle_buffer_ > 0 ? static_cast<size_t>(shuffle_buffer_) : 1;
    while (!done_ && pending_.size() < want) {
      CLUEDROP_ASSIGN_OR_RETURN(const ScoredDocument* doc, NextDocument());
      if (doc == nullptr) break;
      CLUEDROP_RETURN_IF_ERROR(Expand(*doc));
    }
    return !pending_.empty();
  }

  // Takes the next sample: the front, or with shuffling a uniform draw.
  Pending Pop() {
    if (shuffle_buffer_ > 0 && pending_.size() > 1) {
      const size_t pick = static_cast<size_t>(rng_() % pending_.size());
      std::swap(pending_[pick], pending_.front());
    }
    Pending sample = std::move(pending_.front());
    pending_.pop_front();
    ++position_;
    return sample;
  }

  // The next document (null at the partition's end).
  StatusOr<const ScoredDocument*> NextDocument() {
    while (!done_ && (!shard_.has_value() || document_ >= shard_->size())) {
      CLUEDROP_ASSIGN_OR_RETURN(shard_, source_.Shard(next_shard_));
      ++next_shard_;
      document_ = 0;
      if (!shard_.has_value()) done_ = true;
    }
    if (done_) return static_cast<const ScoredDocument*>(nullptr);
    return &(*shard_)[document_++];
  }

  Status Expand(const ScoredDocument& doc) {
    CLUEDROP_ASSIGN_OR_RETURN(std::vector<AugmentedSample> samples,
                              augmenter_.SamplesForEpoch(doc, epoch_));
    if (static_cast<int64_t>(samples.size()) != per_document_) {
      return InternalError("augmenter gave " + std::to_string(samples.size()) +
                           " samples for document " + doc.id + ", expected " +
                           std::to_string(per_document_));
    }
    for (AugmentedSample& s : samples) {
      pending_.emplace_back(std::move(s.tokens),
                            std::make_pair(static_cast<int64_t>(s.dropped.size()),
                                           static_cast<int64_t>(s.droppable)));
    }
    return OkStatus();
  }

  ScoredShardSource& source_;
  const Augmenter& augmenter_;
  const uint32_t epoch_;
  const int64_t per_document_;
  std::optional<std::vector<ScoredDocument>> shard_;
  uint64_t next_shard_ = 0;
  size_t document_ = 0;
  bool done_ = false;
  const int64_t shuffle_buffer_;
  std::mt19937_64 rng_;
  // Samples not handed out yet: tokens, (dropped, droppable).
  std::deque<Pending> pending_;
  int64_t position_ = 0;
  int64_t dropped_ = 0;
  int64_t droppable_ = 0;
};

// Greedy generation with the in-memory model, for the QA evaluation.
class ModelQaGenerator : public QaGenerator {
 public:
  ModelQaGenerator(model::CausalLM& model, const model::Tokenizer& tokenizer, int64_t pad_id)
      : model_(model), tokenizer_(tokenizer), pad_id_(pad_id) {}

  StatusOr<std::vector<std::string>> Generate(const std::vector<std::string>& prompts,
                                              int64_t max_new_tokens) override {
    std::vector<std::vector<int64_t>> ids;
    for (const std::string& prompt : prompts) {
      CLUEDROP_ASSIGN_OR_RETURN(model::Encoding enc, tokenizer_.Encode(prompt, true));
      ids.emplace_back(enc.ids.begin(), enc.ids.end());
    }
    model::GenerationOptions options;
    options.max_new_tokens = max_new_tokens;
    options.stop_token_ids = model_.config().eos_token_ids;
    options.pad_token_id = pad_id_;
    torch::NoGradGuard no_grad;
    CLUEDROP_ASSIGN_OR_RETURN(auto generated, model::GreedyGenerate(model_, ids, options));
    std::vector<std::string> out;
    for (const auto& row : generated) {
      std::vector<int32_t> new_ids(row.begin(), row.end());
      CLUEDROP_ASSIGN_OR_RETURN(std::string text, tokenizer_.Decode(new_ids, true));
      out.push_back(std::move(text));
    }
    return out;
  }

 private:
  model::CausalLM& model_;
  const model::Tokenizer& tokenizer_;
  int64_t pad_id_;
};

// Model creation touches torch's global generator: one at a time.
std::mutex& InitMutex() {
  static std::mutex mu;
  return mu;
}

StatusOr<std::shared_ptr<model::CausalLM>> LoadModel(const TrainRunOptions& o,
                                                     const torch::Device& device) {
  std::lock_guard<std::mutex> lock(InitMutex());
  torch::manual_seed(o.seed);
  std::shared_ptr<model::CausalLM> model;
  if (!o.model_dir.empty()) {
    model::LoadOptions load;
    if (device.is_cuda()) load.devices = {device};
    load.dtype = torch::kFloat;
    CLUEDROP_ASSIGN_OR_RETURN(model, model::LoadCausalLM(o.model_dir, load));
  } else {
    CLUEDROP_ASSIGN_OR_RETURN(model::ModelConfig config,
                              model::LoadModelConfig(o.from_scratch_config));
    CLUEDROP_ASSIGN_OR_RETURN(model, model::CreateCausalLM(config));
    if (device.is_cuda()) {
      CLUEDROP_RETURN_IF_ERROR(
          model->Place(model::DeviceMap::Even(config.num_layers, {device}), torch::kFloat));
    }
  }
  if (o.lora_rank > 0) {
    CLUEDROP_RETURN_IF_ERROR(
        EnableLoraTraining(*model, o.lora_targets, o.lora_rank, o.lora_alpha).status());
    if (device.is_cuda()) {
      CLUEDROP_RETURN_IF_ERROR(model->Place(
          model::DeviceMap::Even(model->config().num_layers, {device}), torch::kFloat));
    }
  }
  return model;
}

TrainStepOptions StepOptions(const TrainRunOptions& o, int64_t total_steps) {
  TrainStepOptions s;
  s.optimizer.learning_rate = o.learning_rate;
  s.optimizer.weight_decay = o.weight_decay;
  s.schedule.kind = o.schedule == TrainSchedule::kLinear   ? LrScheduleKind::kLinear
                    : o.schedule == TrainSchedule::kCosine ? LrScheduleKind::kCosine
                                                           : LrScheduleKind::kConstant;
  s.schedule.peak_lr = o.learning_rate;
  s.schedule.warmup_steps = o.warmup_steps;
  s.schedule.total_steps = total_steps;
  s.schedule.min_lr_ratio = o.min_lr_ratio;
  s.grad_clip = o.grad_clip;
  s.precision = o.precision == TrainPrecision::kFp32   ? Precision::kFp32
                : o.precision == TrainPrecision::kBf16 ? Precision::kBf16
                                                       : Precision::kAuto;
  return s;
}

// A small double tensor on the collectives' device, all-reduced (sum).
StatusOr<std::vector<double>> SumAcrossRanks(Collectives& c, const std::vector<double>& values) {
  torch::Tensor t;
  CLUEDROP_RETURN_IF_ERROR(model::TorchCall(
      "flag tensor", [&] { t = torch::tensor(values, torch::kDouble).to(c.device()); }));
  CLUEDROP_RETURN_IF_ERROR(c.AllReduceSync(t, ReduceOp::kSum));
  t = t.cpu();
  return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
}

// The schedule's total steps (header comment), agreed by every rank.
StatusOr<int64_t> TotalSteps(const TrainRunOptions& o, ScoredShardSource& source, Collectives& c) {
  CLUEDROP_ASSIGN_OR_RETURN(uint64_t docs, source.DocumentCount());
  std::vector<double> per_rank(c.world_size(), 0.0);
  per_rank[c.rank()] = static_cast<double>(docs);
  CLUEDROP_ASSIGN_OR_RETURN(per_rank, SumAcrossRanks(c, per_rank));
  const int64_t max_docs =
      static_cast<int64_t>(*std::max_element(per_rank.begin(), per_rank.end()));
  const int64_t samples = max_docs * SamplesPerDocument(o.augmentation);
  const int64_t per_step = o.batch_size * o.grad_accumulation;
  return o.epochs * ((samples + per_step - 1) / per_step);
}

struct Collective {
  std::shared_ptr<RendezvousStore> store;
  std::unique_ptr<Collectives> collectives;
};

StatusOr<Collective> Join(const RendezvousSpec& r, const torch::Device& device) {
  Collective out;
  if (r.world_size == 1) {
    out.collectives = std::make_unique<FakeCollectives>(0, 1, device);
    return out;
  }
  StoreOptions so;
  so.host = r.store_host;
  so.port = r.store_port;
  so.rank = r.rank;
  so.world_size = r.world_size;
  so.timeout = std::chrono::milliseconds(r.timeout_ms);
  CLUEDROP_ASSIGN_OR_RETURN(out.store, RendezvousStore::Create(so));
  if (r.rank == 0 && r.on_store_port) r.on_store_port(out.store->port());
  ProcessGroupOptions po;
  po.device = device.str();
  po.timeout = std::chrono::milliseconds(r.timeout_ms);
  if (r.store_host == "127.0.0.1" || r.store_host == "localhost") po.gloo_hostname = "127.0.0.1";
  CLUEDROP_ASSIGN_OR_RETURN(out.collectives, CreateProcessGroup(out.store, po));
  return out;
}

}  // namespace

StatusOr<uint64_t> ScoredShardSource::DocumentCount() {
  uint64_t count = 0;
  for (uint64_t k = 0;; ++k) {
    CLUEDROP_ASSIGN_OR_RETURN(auto shard, Shard(k));
    if (!shard.has_value()) return count;
    count += shard->size();
  }
}

StatusOr<std::optional<std::vector<ScoredDocument>>> InMemoryShardSource::Shard(uint64_t k) {
  if (k >= shards_.size()) return std::optional<std::vector<ScoredDocument>>();
  return std::optional<std::vector<ScoredDocument>>(shards_[k]);
}

std::vector<std::vector<ScoredDocument>> PartitionDocuments(
    const std::vector<ScoredDocument>& documents, int rank, int world_size, size_t shard_size) {
  if (shard_size == 0) shard_size = 1;
  std::vector<std::vector<ScoredDocument>> out;
  size_t shard = 0;
  for (size_t begin = 0; begin < documents.size(); begin += shard_size, ++shard) {
    if (static_cast<int>(shard % world_size) != rank) continue;
    const size_t end = std::min(documents.size(), begin + shard_size);
    out.emplace_back(documents.begin() + begin, documents.begin() + end);
  }
  return out;
}

Status ValidateTrainRunOptions(const TrainRunOptions& o) {
  if (o.model_dir.empty() == o.from_scratch_config.empty()) {
    return InvalidArgumentError("target model: exactly one of model_dir and from_scratch_config");
  }
  if (!o.from_scratch_config.empty() && o.tokenizer_dir.empty()) {
    return InvalidArgumentError("tokenizer_dir: required with from_scratch_config");
  }
  if (o.lora_rank < 0) return InvalidArgumentError("lora.rank: must be >= 0");
  if (o.lora_rank > 0 && !(o.lora_alpha > 0))
    return InvalidArgumentError("lora.alpha: must be > 0");
  if (o.lora_dropout != 0) {
    return InvalidArgumentError("lora.dropout: must be 0 (adapter dropout is not implemented)");
  }
  if (o.batch_size < 1) return InvalidArgumentError("batch_size: must be >= 1");
  if (o.grad_accumulation < 1) return InvalidArgumentError("grad_accumulation: must be >= 1");
  if (o.epochs < 1) return InvalidArgumentError("epochs: must be >= 1");
  if (o.max_seq_len < 0) return InvalidArgumentError("max_seq_len: must be >= 0");
  if (o.shuffle_buffer < 0) return InvalidArgumentError("shuffle_buffer: must be >= 0");
  if (o.checkpoint_interval_steps < 0) {
    return InvalidArgumentError("checkpoint_interval_steps: must be >= 0");
  }
  if (o.total_steps < 0) return InvalidArgumentError("total_steps: must be >= 0");
  CLUEDROP_RETURN_IF_ERROR(ValidateAugmentationOptions(o.augmentation).Annotated("augmentation"));
  return OkStatus();
}

StatusOr<TrainRunResult> RunTraining(const TrainRunOptions& o, ScoredShardSource& source,
                                     const RendezvousSpec& rendezvous,
                                     const TrainCallbacks& callbacks) {
  CLUEDROP_RETURN_IF_ERROR(ValidateTrainRunOptions(o));
  if (rendezvous.world_size < 1 || rendezvous.rank < 0 ||
      rendezvous.rank >= rendezvous.world_size) {
    return InvalidArgumentError("rendezvous: bad rank / world size");
  }
  torch::Device device(torch::kCPU);
  CLUEDROP_RETURN_IF_ERROR(
      model::TorchCall("device " + o.device, [&] { device = torch::Device(o.device); }));

  CLUEDROP_ASSIGN_OR_RETURN(std::shared_ptr<model::CausalLM> model, LoadModel(o, device));
  const std::string tokenizer_dir = o.model_dir.empty() ? o.tokenizer_dir : o.model_dir;
  CLUEDROP_ASSIGN_OR_RETURN(auto encoder, TokenizerTextEncoder::FromPath(tokenizer_dir));
  Augmenter augmenter(o.augmentation, encoder.get());
  const model::ModelConfig& config = model->config();
  const int64_t pad_id = config.pad_token_id.has_value() ? *config.pad_token_id
                         : !config.eos_token_ids.empty() ? config.eos_token_ids[0]
                                                         : 0;
  const int64_t max_len = o.max_seq_len > 0 ? o.max_seq_len : config.max_position_embeddings;

  CLUEDROP_ASSIGN_OR_RETURN(Collective joined, Join(rendezvous, device));
  Collectives& collectives = *joined.collectives;

  int64_t total_steps = o.total_steps;
  if (total_steps == 0 && o.schedule != TrainSchedule::kConstant) {
    CLUEDROP_ASSIGN_OR_RETURN(total_steps, TotalSteps(o, source, collectives));
  }
  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<TrainStep> step,
                            TrainStep::Create(model, &collectives, StepOptions(o, total_steps)));

  TrainRunResult result;
  result.lora = o.lora_rank > 0;
  DataCursor cursor;
  if (!o.checkpoint_root.empty()) {
    StatusOr<std::string> latest = LatestCheckpoint(o.checkpoint_root);
    if (latest.ok()) {
      CLUEDROP_ASSIGN_OR_RETURN(cursor, LoadTrainCheckpoint(*latest, *step, rendezvous.rank));
      result.resumed_from_step = step->step();
    } else if (latest.status().code() != StatusCode::kNotFound) {
      return latest.status();
    }
  }

  auto save = [&](const DataCursor& at) -> Status {
    if (o.checkpoint_root.empty()) return OkStatus();
    return SaveTrainCheckpoint(o.checkpoint_root, *step, at, &collectives)
        .Annotated("checkpoint at step " + std::to_string(step->step()));
  };

  int64_t parameters = 0;
  for (const torch::Tensor& p : model->parameters()) parameters += p.numel();
  const double peak_flops = o.peak_flops > 0 ? o.peak_flops : DevicePeakFlops(device);
  std::unique_ptr<TrainLog> train_log;
  if (rendezvous.rank == 0 && !o.output_dir.empty()) {
    CLUEDROP_ASSIGN_OR_RETURN(train_log, TrainLog::Open(o.output_dir));
  }
  auto last = Clock::now();
  for (int64_t epoch = cursor.epoch; epoch < o.epochs; ++epoch) {
    // Shuffle key: (seed, epoch, rank) mixed by splitmix64 steps.
    const uint64_t shuffle_key =
        SplitMix64(SplitMix64(SplitMix64(o.seed) ^ static_cast<uint64_t>(epoch)) ^
                   static_cast<uint64_t>(rendezvous.rank));
    EpochStream stream(source, augmenter, static_cast<uint32_t>(epoch), o.shuffle_buffer,
                       shuffle_key);
    if (epoch == cursor.epoch && cursor.position > 0) {
      CLUEDROP_RETURN_IF_ERROR(stream.Skip(cursor.position));
    }
    while (true) {
      const auto data_start = Clock::now();
      std::vector<MicroBatch> micro_batches;
      bool has_data = false;
      for (int64_t a = 0; a < o.grad_accumulation; ++a) {
        std::vector<std::vector<int64_t>> sequences;
        for (int64_t b = 0; b < o.batch_size; ++b) {
          CLUEDROP_ASSIGN_OR_RETURN(auto sample, stream.Next());
          if (!sample.has_value()) break;
          sequences.push_back(std::move(*sample));
        }
        if (sequences.empty()) {
          sequences.push_back({pad_id});  // no target token: weighs nothing
        } else {
          has_data = true;
        }
        CLUEDROP_ASSIGN_OR_RETURN(MicroBatch mb, MakeMicroBatch(sequences, pad_id, max_len));
        micro_batches.push_back(std::move(mb));
      }
      const bool stop = callbacks.stop && callbacks.stop();
      CLUEDROP_ASSIGN_OR_RETURN(
          std::vector<double> flags,
          SumAcrossRanks(collectives, {has_data ? 1.0 : 0.0, stop ? 1.0 : 0.0}));
      if (flags[1] > 0)
        return CancelledError("training stopped at step " + std::to_string(step->step()));
      if (flags[0] == 0) break;
      const double data_seconds = std::chrono::duration<double>(Clock::now() - data_start).count();
      CLUEDROP_ASSIGN_OR_RETURN(StepStats stats, step->Run(micro_batches));
      result.final_loss = stats.loss;
      TrainProgress progress;
      progress.epoch = epoch;
      progress.step = stats.step;
      progress.total_steps = total_steps;
      progress.loss = stats.loss;
      progress.learning_rate = stats.learning_rate;
      progress.grad_norm = stats.grad_norm;
      progress.tokens = stats.tokens;
      progress.step_seconds = stats.step_seconds;
      progress.allreduce_wait_seconds = stats.allreduce_wait_seconds;
      progress.compute_seconds = stats.compute_seconds;
      progress.data_seconds = data_seconds;
      const auto [dropped, droppable] = stream.TakeDropCounts();
      progress.dropout_rate =
          droppable > 0 ? static_cast<double>(dropped) / static_cast<double>(droppable) : 0;
      const double wall = std::chrono::duration<double>(Clock::now() - last).count();
      progress.tokens_per_second = wall > 0 ? static_cast<double>(stats.tokens) / wall : 0;
      // Model FLOPs utilisation: 6 N FLOPs per token (forward + backward).
      if (peak_flops > 0 && stats.step_seconds > 0) {
        progress.mfu = 6.0 * static_cast<double>(parameters) * static_cast<double>(stats.tokens) /
                       (stats.step_seconds * collectives.world_size() * peak_flops);
      }
      progress.peak_flops = peak_flops;
      if (o.checkpoint_interval_steps > 0 && stats.step % o.checkpoint_interval_steps == 0) {
        const auto checkpoint_start = Clock::now();
        CLUEDROP_RETURN_IF_ERROR(save(DataCursor{epoch, stream.position()}));
        progress.checkpointed = true;
        progress.checkpoint_seconds =
            std::chrono::duration<double>(Clock::now() - checkpoint_start).count();
      }
      if (train_log != nullptr) train_log->Append(progress);
      if (callbacks.on_step) callbacks.on_step(progress);
      last = Clock::now();
    }
    CLUEDROP_RETURN_IF_ERROR(save(DataCursor{epoch + 1, 0}));
  }
  result.steps = step->step();

  if (rendezvous.rank == 0 && !o.output_dir.empty()) {
    result.final_model_dir = o.output_dir + "/final";
    if (result.lora) {
      CLUEDROP_RETURN_IF_ERROR(model::SaveLoraAdapter(*model, result.final_model_dir, o.model_dir));
    } else {
      model::ExportOptions export_options;
      export_options.tokenizer_dir = tokenizer_dir;
      CLUEDROP_RETURN_IF_ERROR(model::SaveHfModel(*model, result.final_model_dir, export_options));
    }
  }
  CLUEDROP_RETURN_IF_ERROR(collectives.Barrier().Annotated("final barrier"));

  if (rendezvous.rank == 0 && !o.eval_questions.empty()) {
    ModelQaGenerator generator(*model, encoder->tokenizer(), pad_id);
    CLUEDROP_ASSIGN_OR_RETURN(QaEvalResult eval, EvaluateQa(generator, o.eval_questions, o.eval));
    result.evaluation = std::move(eval);
  }
  return result;
}

}  // namespace cluedrop::trainer

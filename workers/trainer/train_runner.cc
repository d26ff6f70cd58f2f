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
#include <thread>
#include <utility>

#include "modelspec/model_config.h"
#include "workers/model/generation.h"
#include "workers/model/hf_export.h"
#include "workers/model/model_loader.h"
#include "workers/model/torch_status.h"
#include "workers/trainer/device_peak.h"
#include "workers/trainer/epoch_stream.h"
#include "workers/trainer/model_qa_generator.h"
#include "workers/trainer/process_group.h"
#include "workers/trainer/process_group_fake.h"
#include "workers/trainer/tokenizer_text_encoder.h"
#include "workers/trainer/train_checkpoint.h"
#include "workers/trainer/train_log.h"
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

// Model creation touches torch's global generator: one at a time.
std::mutex& InitMutex() {
  static std::mutex mu;
  return mu;
}

// The devices of the rank's model: layer_split over devices of `device`'s
// kind (cuda:0, cuda:1, ... / the CPU), else `device` for every layer.
StatusOr<model::DeviceMap> TargetDeviceMap(const TrainRunOptions& o, int64_t num_layers,
                                           const torch::Device& device) {
  if (o.layer_split.empty()) return model::DeviceMap::Even(num_layers, {device});
  model::DeviceMap map;
  int64_t total = 0;
  for (size_t k = 0; k < o.layer_split.size(); ++k) {
    const torch::Device d =
        device.is_cuda() ? torch::Device(torch::kCUDA, static_cast<int8_t>(k)) : device;
    if (d.is_cuda() && d.index() >= static_cast<int>(torch::cuda::device_count())) {
      return FailedPreconditionError("device_map.layer_split: needs " +
                                     std::to_string(o.layer_split.size()) + " GPUs on this rank, " +
                                     std::to_string(torch::cuda::device_count()) + " visible");
    }
    map.layer_devices.insert(map.layer_devices.end(), o.layer_split[k], d);
    total += o.layer_split[k];
  }
  if (total != num_layers) {
    return InvalidArgumentError("device_map.layer_split: sums to " + std::to_string(total) +
                                ", the model has " + std::to_string(num_layers) + " layers");
  }
  return map;
}

StatusOr<std::shared_ptr<model::CausalLM>> LoadModel(const TrainRunOptions& o,
                                                     const torch::Device& device) {
  std::lock_guard<std::mutex> lock(InitMutex());
  torch::manual_seed(o.seed);
  std::shared_ptr<model::CausalLM> model;
  // Straight onto a single GPU when nothing is done to the weights first;
  // int8 and layer splits load into host memory, then quantize and place
  // (host memory must hold the float32 checkpoint once).
  const bool direct = device.is_cuda() && !o.quantize_int8 && o.layer_split.empty();
  if (!o.model_dir.empty()) {
    model::LoadOptions load;
    if (direct) load.devices = {device};
    load.dtype = torch::kFloat;
    CLUEDROP_ASSIGN_OR_RETURN(model, model::LoadCausalLM(o.model_dir, load));
  } else {
    CLUEDROP_ASSIGN_OR_RETURN(model::ModelConfig config,
                              model::LoadModelConfig(o.from_scratch_config));
    CLUEDROP_ASSIGN_OR_RETURN(model, model::CreateCausalLM(config));
  }
  // On the CPU first: quantize, add adapters (their init draws from the
  // seeded generator in the same order whatever the placement), then place.
  if (o.quantize_int8) CLUEDROP_RETURN_IF_ERROR(model->QuantizeBaseInt8().status());
  if (o.lora_rank > 0) {
    CLUEDROP_RETURN_IF_ERROR(
        EnableLoraTraining(*model, o.lora_targets, o.lora_rank, o.lora_alpha).status());
  }
  CLUEDROP_ASSIGN_OR_RETURN(model::DeviceMap map,
                            TargetDeviceMap(o, model->config().num_layers, device));
  if (!o.layer_split.empty() || device.is_cuda()) {
    CLUEDROP_RETURN_IF_ERROR(model->Place(map, torch::kFloat));  // a no-op when direct
  }
  model->SetActivationCheckpointing(o.activation_checkpointing);
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
  so.bind_host = r.store_bind_host;
  so.rank = r.rank;
  so.world_size = r.world_size;
  so.timeout = std::chrono::milliseconds(r.timeout_ms);
  StatusOr<std::shared_ptr<RendezvousStore>> store = RendezvousStore::Create(so);
  // Rank 0 cannot host the store (its port is taken): a few tries, in case
  // the holder is on its way out, then the caller gets FAILED_PRECONDITION.
  for (int attempt = 1; attempt < 3 && store.status().code() == StatusCode::kFailedPrecondition;
       ++attempt) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    store = RendezvousStore::Create(so);
  }
  if (!store.ok()) return store.status();
  out.store = std::move(*store);
  if (r.rank == 0 && r.on_store_port) r.on_store_port(out.store->port());
  ProcessGroupOptions po;
  po.device = device.str();
  po.timeout = std::chrono::milliseconds(r.timeout_ms);
  if (r.store_host == "127.0.0.1" || r.store_host == "localhost") po.gloo_hostname = "127.0.0.1";
  CLUEDROP_ASSIGN_OR_RETURN(out.collectives, CreateProcessGroup(out.store, po));
  return out;
}

}  // namespace

StatusOr<TrainRunResult> RunTraining(const TrainRunOptions& o, ScoredShardSource& unchecked,
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
  // Scored documents come from the network: no id outside the vocabulary
  // reaches the embedding (a bad document fails the run, naming it).
  ValidatingShardSource source(unchecked, config.vocab_size);
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

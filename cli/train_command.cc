// `cluedrop train JOB.yaml --local --scores FILE.jsonl [--ranks N]`: runs a
// job's training in this process on already scored documents (the JSONL of
// `cluedrop score` / `cluedrop results`). Without --scores, a job whose
// augmentation.mode is none (plain language-model training, which needs no
// scores: `cluedrop demo` pretrains its reference models this way) trains on
// the spec's corpus, read like the coordinator reads it (LoadCorpus) and
// encoded with the target tokenizer. The spec is validated and defaulted as
// the coordinator does it (jobspec/) and maps onto the runner with
// TrainRunOptionsFromSpec; --ranks (default: training.world_size) threads
// each join a Gloo group over a local TCPStore and train their round-robin
// share of shards of corpus.shard_size_docs documents, the partition the
// coordinator streams, so the same spec trains bit-identically here and on
// the cluster.
// Checkpoints go to <output_dir>/checkpoints, so rerunning an interrupted
// command resumes where it stopped. Prints one line per optimizer step and,
// when the spec has an evaluation, the QA table of the corpus' field tags.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli/cli.h"
#include "cli/job_spec_file.h"
#include "coordinator/corpus_loader.h"
#include "jobspec/augment_mode_proto.h"
#include "jobspec/job_spec_validator.h"
#include "runtime/flags.h"
#include "workers/trainer/qa_fewshot.h"
#include "workers/trainer/qa_prompt_table.h"
#include "workers/trainer/qa_prompts.h"
#include "workers/trainer/scored_jsonl.h"
#include "workers/trainer/tokenizer_text_encoder.h"
#include "workers/trainer/train_runner.h"
#include "workers/trainer/train_spec.h"

namespace cluedrop::cli {
namespace {

int Fail(const std::string& what, int code = kExitFailure) {
  std::cerr << "cluedrop train: " << what << std::endl;
  return code;
}

StatusOr<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void PrintStep(const trainer::TrainProgress& p) {
  std::printf("step %lld", static_cast<long long>(p.step));
  if (p.total_steps > 0) std::printf("/%lld", static_cast<long long>(p.total_steps));
  std::printf("  epoch %lld  loss %.4f  lr %.3e  grad_norm %.3f  tok/s %.0f%s\n",
              static_cast<long long>(p.epoch), p.loss, p.learning_rate, p.grad_norm,
              p.tokens_per_second, p.checkpointed ? "  [checkpoint]" : "");
  std::fflush(stdout);
}

void PrintEvaluation(const trainer::QaEvalResult& result) {
  std::printf("%-16s %9s %6s %6s\n", "FIELD", "QUESTIONS", "EM%", "F1%");
  for (const trainer::QaFieldScore& s : result.fields) {
    std::printf("%-16s %9u %6.1f %6.1f\n", s.field.c_str(), s.questions, 100 * s.exact_match,
                100 * s.f1);
  }
  std::fflush(stdout);
}

// The spec's corpus as documents without scores (mode none), encoded with
// the target tokenizer exactly as the augmenter encodes originals.
StatusOr<std::vector<ScoredDocument>> UnscoredCorpus(const v1::JobSpec& spec,
                                                     const trainer::TrainRunOptions& options) {
  absl::StatusOr<std::vector<v1::Document>> corpus = coordinator::LoadCorpus(spec.corpus());
  if (!corpus.ok()) return InvalidArgumentError(std::string(corpus.status().message()));
  const std::string& tokenizer =
      options.tokenizer_dir.empty() ? options.model_dir : options.tokenizer_dir;
  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<TokenizerTextEncoder> encoder,
                            TokenizerTextEncoder::FromPath(tokenizer));
  std::vector<ScoredDocument> documents;
  documents.reserve(corpus->size());
  for (const v1::Document& d : *corpus) {
    CLUEDROP_ASSIGN_OR_RETURN(EncodedText encoded, encoder->Encode(d.text()));
    ScoredDocument& doc = documents.emplace_back();
    doc.id = d.id();
    doc.text = d.text();
    doc.tokens = std::move(encoded.ids);
    doc.offsets = std::move(encoded.offsets);
    doc.special = std::move(encoded.special);
  }
  return documents;
}

}  // namespace

int RunTrain(const std::vector<std::string>& args) {
  bool local = false;
  std::string scores, output_dir, device = "cpu";
  int32_t ranks = 0;
  uint32_t shard_size = 0;
  FlagSet flags("cluedrop train",
                "cluedrop train JOB.yaml --local [--scores FILE.jsonl] [--ranks N]: trains the "
                "job's target model in this process on scored documents (without --scores: on "
                "the spec's corpus, augmentation.mode none only); reruns resume from "
                "<output_dir>/checkpoints.");
  flags.Add("local", &local, "train in this process (required: cluster training is submitted)");
  flags.Add("scores", &scores,
            "scored documents (.jsonl of `cluedrop score` / `results`); omit to train on the "
            "spec's corpus (augmentation.mode none)");
  flags.Add("ranks", &ranks,
            "data-parallel ranks (threads over Gloo); 0: the spec's training.world_size");
  flags.Add("shard_size", &shard_size,
            "documents per shard dealt round-robin to the ranks; 0: the spec's "
            "corpus.shard_size_docs, as the coordinator shards");
  flags.Add("output_dir", &output_dir, "overrides the spec's output_dir");
  flags.Add("device", &device, "cpu or cuda:N");
  absl::StatusOr<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional.ok()) return Fail(std::string(positional.status().message()), kExitUsage);
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return kExitOk;
  }
  if (positional->size() != 1) return Fail("expected one JOB.yaml argument", kExitUsage);
  if (!local)
    return Fail("only --local is supported (submit the job for cluster training)", kExitUsage);
  if (ranks < 0) return Fail("--ranks must be >= 0", kExitUsage);

  const std::string& spec_path = positional->front();
  absl::StatusOr<v1::JobSpec> spec = ParseJobSpecFile(spec_path);
  if (!spec.ok()) return Fail(std::string(spec.status().message()), kExitUsage);
  const size_t slash = spec_path.find_last_of('/');
  ResolveJobSpecPaths(slash == std::string::npos ? "." : spec_path.substr(0, slash), &*spec);
  if (!output_dir.empty()) spec->set_output_dir(output_dir);
  // Without scores only mode none can train; say so before the spec's own
  // checks, since it is the flags that are wrong.
  const AugmentMode mode = jobspec::AugmentModeFromProto(spec->augmentation().mode());
  if (scores.empty() && mode != AugmentMode::kNone) {
    return Fail("--scores is required: augmentation.mode " + std::string(AugmentModeName(mode)) +
                    " ranks tokens by their scores (only mode none trains on the raw corpus)",
                kExitUsage);
  }
  // The coordinator's own validation and defaults (jobspec/), minus the
  // reference models, which training on given scores does not use.
  if (absl::Status valid = jobspec::ValidateJobSpec(*spec, {.require_reference_models = false});
      !valid.ok()) {
    return Fail(std::string(valid.message()), kExitUsage);
  }
  jobspec::ApplyJobSpecDefaults(&*spec);
  if (ranks == 0) ranks = static_cast<int32_t>(std::max(1u, spec->training().world_size()));
  if (shard_size == 0) shard_size = spec->corpus().shard_size_docs();
  absl::StatusOr<trainer::TrainRunOptions> options = trainer::TrainRunOptionsFromSpec(*spec);
  if (!options.ok()) return Fail(std::string(options.status().message()), kExitUsage);
  options->device = device;

  std::vector<ScoredDocument> documents;
  if (scores.empty()) {
    StatusOr<std::vector<ScoredDocument>> unscored = UnscoredCorpus(*spec, *options);
    if (!unscored.ok()) return Fail(unscored.status().ToString(), kExitUsage);
    documents = std::move(*unscored);
  } else {
    StatusOr<std::string> content = ReadAll(scores);
    if (!content.ok()) return Fail(content.status().ToString());
    StatusOr<std::vector<ScoredRecord>> records = ParseScoredJsonl(*content, scores);
    if (!records.ok()) return Fail(records.status().ToString(), kExitUsage);
    for (ScoredRecord& r : *records) documents.push_back(std::move(r.document));
  }

  StatusOr<std::vector<trainer::QaQuestion>> questions =
      trainer::EvaluationQuestionsFromSpec(*spec, options->eval);
  if (!questions.ok()) return Fail(questions.status().ToString(), kExitUsage);
  options->eval_questions = std::move(*questions);

  std::promise<int> port;
  std::shared_future<int> port_future = port.get_future().share();
  std::vector<StatusOr<trainer::TrainRunResult>> results(ranks, InternalError("not run"));
  std::vector<std::thread> threads;
  for (int rank = 0; rank < ranks; ++rank) {
    threads.emplace_back([&, rank] {
      trainer::InMemoryShardSource source(
          trainer::PartitionDocuments(documents, rank, ranks, shard_size));
      trainer::RendezvousSpec r;
      r.rank = rank;
      r.world_size = ranks;
      if (rank == 0) {
        r.on_store_port = [&](int p) { port.set_value(p); };
      } else if (ranks > 1) {
        r.store_port = port_future.get();
      }
      trainer::TrainCallbacks callbacks;
      if (rank == 0) callbacks.on_step = PrintStep;
      results[rank] = trainer::RunTraining(*options, source, r, callbacks);
      // Unblock the others when rank 0 failed before hosting the store.
      if (rank == 0 && ranks > 1 && !results[0].ok()) {
        try {
          port.set_value(-1);
        } catch (const std::future_error&) {
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int rank = 0; rank < ranks; ++rank) {
    if (!results[rank].ok()) {
      return Fail("rank " + std::to_string(rank) + ": " + results[rank].status().ToString());
    }
  }
  const trainer::TrainRunResult& result = *results[0];
  std::cerr << "cluedrop train: " << result.steps << " steps";
  if (result.resumed_from_step > 0)
    std::cerr << " (resumed from step " << result.resumed_from_step << ")";
  if (!result.final_model_dir.empty()) {
    std::cerr << "; final " << (result.lora ? "LoRA adapter" : "model") << ": "
              << result.final_model_dir;
  }
  std::cerr << std::endl;
  if (result.evaluation.has_value()) PrintEvaluation(*result.evaluation);
  return kExitOk;
}

}  // namespace cluedrop::cli

// `cluedrop augment`: token-dropout augmentations of scored documents
// (workers/trainer/augment_job.h; docs/augmentation.md). Exit codes: 0 ok,
// 2 usage error or invalid input (INVALID_ARGUMENT, naming file:line), 1
// anything else (a missing file or tokenizer, a write error). Torch-free:
// it lives in its own library so that its test links without libtorch.
#include <iostream>
#include <optional>

#include "cli/cli.h"
#include "runtime/flags.h"
#include "workers/trainer/augment_job.h"

namespace cluedrop::cli {
namespace {

// ParseFlagsOrExit's rules (cli.cc), kept here so this file links alone.
std::optional<int> ParseOrExit(FlagSet& flags, const std::vector<std::string>& args) {
  absl::StatusOr<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional.ok()) {
    std::cerr << "cluedrop augment: " << positional.status().message() << std::endl;
    return kExitUsage;
  }
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return kExitOk;
  }
  if (!positional->empty()) {
    std::cerr << "cluedrop augment: unexpected argument '" << positional->front() << "'"
              << std::endl;
    return kExitUsage;
  }
  return std::nullopt;
}

int Fail(const Status& status) {
  std::cerr << "cluedrop augment: " << status.message() << std::endl;
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

}  // namespace

int RunAugment(const std::vector<std::string>& args) {
  AugmentJobOptions o;
  o.augmentation.keep_original = false;
  std::string mode = "contrast", form = "blank", resample = "epoch";
  std::vector<std::string> protected_tokens;
  FlagSet flags("cluedrop augment",
                "writes token-dropout augmentations of the documents in --scores (the JSONL of "
                "`cluedrop score` / `cluedrop results`) for one epoch: one JSONL line per sample, "
                "{\"id\", \"copy\" (-1: the original), \"text\", \"tokens\", \"dropped\" "
                "(positions in the input tokens)}. Token rank r drops with probability "
                "alpha * (1 - exp(-beta * r)); special tokens and --protected_token texts never "
                "drop (docs/augmentation.md).");
  flags.Add("scores", &o.scores_path, "scored documents (.jsonl)").Required();
  flags
      .Add("tokenizer", &o.tokenizer_path,
           "the target tokenizer the scores use: tokenizer.json or its directory")
      .Required();
  flags.Add("output", &o.output_path, "output .jsonl (written atomically)").Required();
  flags.Add("mode", &mode, "none, random, large, small, contrast or position");
  flags.Add("alpha", &o.augmentation.alpha, "drop probability of the far tail, in [0, 1]");
  flags.Add("beta", &o.augmentation.beta, "rise of p(r) with the rank r, >= 0");
  flags.Add("copies", &o.augmentation.copies, "augmented copies per document");
  flags.Add("keep_original", &o.augmentation.keep_original,
            "also write each original (copy -1) before its copies");
  flags.Add("form", &form,
            "blank (dropped characters become spaces, text re-tokenized) or delete (ids removed)");
  flags.Add("resample", &resample,
            "epoch (masks keyed by --epoch) or fixed (epoch 0's masks for every epoch)");
  flags.Add("epoch", &o.epoch, "the epoch whose samples to write");
  flags.Add("seed", &o.augmentation.seed, "mask seed (masks: f(seed, id, epoch, copy))");
  flags.Add("protected_token", &protected_tokens,
            "a token text never dropped (whitespace-stripped match); repeatable; replaces the "
            "default set \",\" \".\"");
  if (std::optional<int> exit = ParseOrExit(flags, args)) return *exit;

  StatusOr<AugmentMode> parsed_mode = ParseAugmentMode(mode);
  if (!parsed_mode.ok()) return Fail(InvalidArgumentError("--" + parsed_mode.status().message()));
  StatusOr<DropForm> parsed_form = ParseDropForm(form);
  if (!parsed_form.ok()) return Fail(InvalidArgumentError("--" + parsed_form.status().message()));
  StatusOr<Resample> parsed_resample = ParseResample(resample);
  if (!parsed_resample.ok())
    return Fail(InvalidArgumentError("--" + parsed_resample.status().message()));
  o.augmentation.mode = *parsed_mode;
  o.augmentation.form = *parsed_form;
  o.augmentation.resample = *parsed_resample;
  if (!protected_tokens.empty()) o.augmentation.protected_tokens = protected_tokens;

  StatusOr<AugmentJobSummary> summary = RunAugmentJob(o);
  if (!summary.ok()) return Fail(summary.status());
  std::cerr << "cluedrop augment: wrote " << o.output_path << ": " << summary->samples
            << " samples of " << summary->documents << " documents, mean dropout rate "
            << summary->mean_dropout_rate << std::endl;
  return kExitOk;
}

}  // namespace cluedrop::cli

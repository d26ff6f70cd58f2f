// `cluedrop score`: attention-contrast scores of every document in a file.
#include <iostream>
#include <optional>

#include "cli/cli.h"
#include "runtime/flags.h"
#include "workers/scorer/score_job.h"

namespace cluedrop::cli {

int RunScore(const std::vector<std::string>& args) {
  scorer::ScoreJobOptions o;
  bool include_self = true;
  std::string kernel = "auto";
  FlagSet flags("cluedrop score",
                "scores every token of every document by attention received in --large minus "
                "attention received in --small (docs/design.md section 1) and writes JSONL: id, "
                "text, tokens, offsets (UTF-8 byte spans), received_large, received_small, "
                "contrast (null where undefined). Progress on stderr.");
  flags.Add("large", &o.large_dir, "large reference model (checkpoint dir with tokenizer.json)")
      .Required();
  flags.Add("small", &o.small_dir, "small reference model (same tokenizer as --large)").Required();
  flags.Add("target_tokenizer", &o.target_tokenizer_dir,
            "dir with the target model's tokenizer.json; scores are mapped onto its tokens through "
            "byte offsets (default: the reference tokenizer)");
  flags
      .Add("input", &o.input,
           ".jsonl (id, text), .csv with a text column (field tags stripped) or "
           "plain text (one document per paragraph)")
      .Required();
  flags.Add("output", &o.output, "output .jsonl (written atomically at the end)").Required();
  flags.Add("device", &o.device, "cpu, cuda or cuda:N");
  flags.Add("dtype", &o.dtype, "float32, bfloat16 or float16");
  flags.Add("batch_tokens", &o.score.batch_tokens, "token budget of one forward batch");
  flags.Add(
      "window_tokens", &o.score.window_tokens,
      "documents longer than this are scored in consecutive windows (0: the models' context)");
  flags.Add("include_self", &include_self, "count a token's attention to itself");
  flags.Add("attention_kernel", &kernel,
            "auto (for now: tiled), tiled, or fused (the fused CUDA kernel; not yet verified on a "
            "GPU. On the CPU: its slow float32 host emulation, for checks)");
  if (std::optional<int> exit = ParseFlagsOrExit(flags, args)) return *exit;
  o.score.include_self = include_self;
  std::optional<scorer::AttentionKernel> parsed = scorer::ParseAttentionKernel(kernel);
  if (!parsed) {
    std::cerr << "cluedrop score: " << scorer::AttentionKernelFlagError(kernel) << std::endl;
    return kExitUsage;
  }
  o.score.kernel = *parsed;
  Status status = scorer::RunScoreJob(o, &std::cerr);
  if (!status.ok()) {
    std::cerr << "cluedrop score: " << status.message() << std::endl;
    return kExitFailure;
  }
  std::cerr << "cluedrop score: wrote " << o.output << std::endl;
  return kExitOk;
}

}  // namespace cluedrop::cli

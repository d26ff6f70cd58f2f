#include "workers/trainer/train_log.h"

#include <filesystem>
#include <system_error>

namespace cluedrop::trainer {

StatusOr<std::unique_ptr<TrainLog>> TrainLog::Open(const std::string& output_dir) {
  std::error_code ec;
  std::filesystem::create_directories(output_dir, ec);
  const std::string path = output_dir + "/train_log.jsonl";
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) return InternalError(path + ": cannot open for appending");
  return std::unique_ptr<TrainLog>(new TrainLog(f));
}

TrainLog::~TrainLog() { std::fclose(file_); }

void TrainLog::Append(const TrainProgress& p) {
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

}  // namespace cluedrop::trainer

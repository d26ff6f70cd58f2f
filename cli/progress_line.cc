#include "cli/progress_line.h"

#include <ostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/job_format.h"

namespace cluedrop::cli {

ProgressLine::ProgressLine(std::ostream* err, bool tty, std::function<absl::Time()> now,
                           absl::Duration plain_interval)
    : err_(err), tty_(tty), now_(std::move(now)), plain_interval_(plain_interval) {}

void ProgressLine::Update(const v1::JobProgress& progress) {
  latest_time_ = now_();
  latest_ = progress;
  if (!scoring_start_ && progress.shards_total() > 0) {
    scoring_start_ = Start{latest_time_, progress.shards_scored(), progress.tokens_scored()};
  }
  if (!training_start_ && progress.training_step() > 0) {
    training_start_ = Start{latest_time_, progress.training_step(), 0};
  }
  if (tty_) {
    Draw();
    return;
  }
  if (last_plain_ && latest_time_ - *last_plain_ < plain_interval_) return;
  last_plain_ = latest_time_;
  *err_ << Text() << std::endl;
}

void ProgressLine::PrintLine(std::ostream& out, absl::string_view line) {
  if (drawn_) {
    *err_ << "\r\033[K" << std::flush;
    drawn_ = false;
  }
  out << line << std::endl;
  if (tty_ && latest_) Draw();
}

void ProgressLine::Finish() {
  if (drawn_) *err_ << std::endl;
  drawn_ = false;
}

void ProgressLine::Draw() {
  *err_ << "\r" << Text() << "\033[K" << std::flush;
  drawn_ = true;
}

std::string ProgressLine::Eta(double remaining, double rate) {
  if (remaining <= 0) return "";
  if (rate <= 0) return ", ETA ?";
  return absl::StrCat(", ETA ", HumanDuration(absl::Seconds(remaining / rate)));
}

std::string ProgressLine::Text() const {
  if (!latest_) return "";
  const v1::JobProgress& p = *latest_;
  std::string text;
  const bool training = p.training_step() > 0 || p.training_steps_total() > 0;
  const bool scoring = p.shards_total() > 0 && (p.shards_scored() < p.shards_total() || !training);
  if (scoring) {
    text = absl::StrCat("scoring ", p.shards_scored(), "/", p.shards_total(), " shards (",
                        Percent(p.shards_scored(), p.shards_total()), ")");
    const double seconds = absl::ToDoubleSeconds(latest_time_ - scoring_start_->time);
    if (seconds > 0) {
      const double shard_rate =
          (static_cast<double>(p.shards_scored()) - scoring_start_->done) / seconds;
      const double token_rate =
          (static_cast<double>(p.tokens_scored()) - scoring_start_->tokens) / seconds;
      absl::StrAppend(&text, absl::StrFormat(", %.2f shards/s", shard_rate), ", ",
                      HumanCount(token_rate), " tokens/s");
      absl::StrAppend(&text,
                      Eta(static_cast<double>(p.shards_total()) - p.shards_scored(), shard_rate));
    }
  }
  if (training) {
    if (!text.empty()) absl::StrAppend(&text, " | ");
    absl::StrAppend(&text, "training step ", p.training_step());
    if (p.training_steps_total() > 0) {
      absl::StrAppend(&text, "/", p.training_steps_total(), " (",
                      Percent(p.training_step(), p.training_steps_total()), ")");
    }
    absl::StrAppend(&text, ", epoch ", p.epoch(), absl::StrFormat(", loss %.4f", p.loss()), ", ",
                    HumanCount(p.tokens_per_second()), " tokens/s");
    if (training_start_ && p.training_steps_total() > 0) {
      const double seconds = absl::ToDoubleSeconds(latest_time_ - training_start_->time);
      const double step_rate =
          seconds > 0 ? (static_cast<double>(p.training_step()) - training_start_->done) / seconds
                      : 0;
      absl::StrAppend(&text, Eta(static_cast<double>(p.training_steps_total()) -
                                     static_cast<double>(p.training_step()),
                                 step_rate));
    }
  }
  if (text.empty()) text = "waiting for progress";
  return text;
}

}  // namespace cluedrop::cli

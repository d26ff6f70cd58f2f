// The progress line `cluedrop watch` keeps on stderr: shards scored/total,
// percent, shards/s and tokens/s, ETA while scoring; step/total, epoch, loss,
// tokens/s and ETA while training. Rates are measured on the client between
// progress events (the first event of a phase starts its clock).
//
// On a terminal the line is redrawn in place (carriage return + erase);
// otherwise it is printed as plain lines, at most one per `plain_interval`.
// Other output (event lines on stdout) goes through PrintLine() so that it
// never lands in the middle of the line.
//
// Example:
//   ProgressLine progress(&std::cerr, /*tty=*/true, [] { return absl::Now(); });
//   progress.Update(event.progress());
//   progress.PrintLine(std::cout, "[10:31:02] state TRAINING");
//   progress.Finish();
//
// Not thread-safe; the streams must outlive it.
#ifndef CLUEDROP_CLI_PROGRESS_LINE_H_
#define CLUEDROP_CLI_PROGRESS_LINE_H_

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cluedrop/v1/job.pb.h"

namespace cluedrop::cli {

class ProgressLine {
 public:
  ProgressLine(std::ostream* err, bool tty, std::function<absl::Time()> now,
               absl::Duration plain_interval = absl::Seconds(2));

  // Records `progress` and shows the line (throttled when not a terminal).
  void Update(const v1::JobProgress& progress);

  // Prints `line` and a newline on `out`, clearing and redrawing the
  // in-place progress line around it.
  void PrintLine(std::ostream& out, absl::string_view line);

  // Ends the in-place line with a newline (nothing when not a terminal).
  void Finish();

  // The text of the line for the latest progress ("" before any).
  std::string Text() const;

 private:
  // Where a phase's rate clock started.
  struct Start {
    absl::Time time;
    uint64_t done = 0;
    uint64_t tokens = 0;
  };
  void Draw();
  static std::string Eta(double remaining, double rate);

  std::ostream* err_;
  bool tty_;
  std::function<absl::Time()> now_;
  absl::Duration plain_interval_;
  std::optional<v1::JobProgress> latest_;
  std::optional<Start> scoring_start_;
  std::optional<Start> training_start_;
  absl::Time latest_time_;
  std::optional<absl::Time> last_plain_;
  bool drawn_ = false;  // an in-place line is on the terminal
};

}  // namespace cluedrop::cli

#endif  // CLUEDROP_CLI_PROGRESS_LINE_H_

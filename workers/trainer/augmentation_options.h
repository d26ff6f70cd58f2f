// The knobs of clue-guided token dropout (DESIGN.md section 1; the proto
// twin is cluedrop.v1.AugmentationSpec; the mode enum is jobspec/augment_mode.h): which ranking,
// how strongly, how a dropped token disappears, how many copies and when masks are redrawn. Torch-
// and abseil-free.
//
// Example:
//   AugmentationOptions options;             // the paper's defaults
//   options.mode = AugmentMode::kContrast;
//   options.seed = 17;
//   CLUEDROP_RETURN_IF_ERROR(ValidateAugmentationOptions(options));
//   CLUEDROP_ASSIGN_OR_RETURN(options.form, ParseDropForm("delete"));
#ifndef CLUEDROP_WORKERS_TRAINER_AUGMENTATION_OPTIONS_H_
#define CLUEDROP_WORKERS_TRAINER_AUGMENTATION_OPTIONS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "jobspec/augment_mode.h"
#include "jobspec/job_spec_defaults.h"

namespace cluedrop {

enum class DropForm {
  kBlank,   // the token's characters become spaces; the text is re-tokenized
  kDelete,  // the token is removed from the id sequence
};

enum class Resample {
  kEpoch,  // fresh masks every epoch
  kFixed,  // `copies` masks drawn once (epoch 0's), reused every epoch: the paper
};

struct AugmentationOptions {
  AugmentMode mode = AugmentMode::kContrast;
  // Defaults: jobspec/job_spec_defaults.h (the values a job spec gets).
  double alpha = jobspec::kDefaultAlpha;  // in [0, 1]: the far tail's drop probability
  double beta = jobspec::kDefaultBeta;    // >= 0: how fast p(r) rises with the rank
  uint32_t copies = jobspec::kDefaultCopies;
  bool keep_original = true;
  DropForm form = DropForm::kBlank;
  Resample resample = Resample::kEpoch;
  // Tokens whose text (the document bytes they cover), stripped of ASCII
  // whitespace, equals one of these are never dropped. Entries are compared
  // stripped too; "" protects whitespace-only tokens.
  std::vector<std::string> protected_tokens = {",", "."};
  uint64_t seed = 0;
};

// OK, or INVALID_ARGUMENT naming the field: alpha outside [0, 1] or NaN,
// beta negative or not finite, no sample at all (copies 0 without
// keep_original, for a mode other than none).
Status ValidateAugmentationOptions(const AugmentationOptions& options);

// "blank", "delete".
StatusOr<DropForm> ParseDropForm(std::string_view name);
// "epoch", "fixed".
StatusOr<Resample> ParseResample(std::string_view name);

const char* DropFormName(DropForm form);
const char* ResampleName(Resample resample);

}  // namespace cluedrop

#endif  // CLUEDROP_WORKERS_TRAINER_AUGMENTATION_OPTIONS_H_

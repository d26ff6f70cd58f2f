// cluedrop.v1.AugmentationMode (the wire) <-> AugmentMode (the cores): the one
// place the two are joined. UNSPECIFIED means the default, contrast, as
// ApplyJobSpecDefaults writes it.
#ifndef CLUEDROP_JOBSPEC_AUGMENT_MODE_PROTO_H_
#define CLUEDROP_JOBSPEC_AUGMENT_MODE_PROTO_H_

#include "cluedrop/v1/job.pb.h"
#include "jobspec/augment_mode.h"

namespace cluedrop::jobspec {

// UNSPECIFIED (and any value ValidateJobSpec would refuse) -> kContrast.
AugmentMode AugmentModeFromProto(v1::AugmentationMode mode);
v1::AugmentationMode AugmentModeToProto(AugmentMode mode);

}  // namespace cluedrop::jobspec

#endif  // CLUEDROP_JOBSPEC_AUGMENT_MODE_PROTO_H_

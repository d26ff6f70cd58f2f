// Helpers for the model oracle tests: fixture paths, the device/dtype the
// run targets (CLUEDROP_TEST_DEVICE / CLUEDROP_TEST_DTYPE) and reading
// reference tensors the Python oracle wrote.
#ifndef CLUEDROP_WORKERS_MODEL_MODEL_TEST_UTIL_H_
#define CLUEDROP_WORKERS_MODEL_MODEL_TEST_UTIL_H_

#include <torch/torch.h>

#include <string>

#include "workers/model/checkpoint/checkpoint_reader.h"

namespace cluedrop::model::testing {

// $CLUEDROP_ORACLE_DIR/models, default <build>/oracle/models (the suite's
// fixture step writes it).
std::string ModelFixtureDir();
// "cpu" unless CLUEDROP_TEST_DEVICE says otherwise.
torch::Device TestDevice();
// float32 unless CLUEDROP_TEST_DTYPE says otherwise.
torch::ScalarType TestDtype();
// A reference tensor as a CPU tensor (copied out of the mapping); throws
// std::runtime_error naming the file and tensor when absent.
torch::Tensor ReadTensor(const CheckpointReader& reader, const std::string& name);
// The python of the oracle venv ($CLUEDROP_PYTHON, default: the build's).
std::string OraclePython();
// Root of the source tree ($CLUEDROP_SOURCE_DIR, default: the build's).
std::string SourceDir();

}  // namespace cluedrop::model::testing

#endif  // CLUEDROP_WORKERS_MODEL_MODEL_TEST_UTIL_H_

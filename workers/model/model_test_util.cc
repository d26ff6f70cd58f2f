#include "workers/model/model_test_util.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "workers/model/torch_dtype.h"

namespace cluedrop::model::testing {
namespace {

// The environment variable, else the build's default.
std::string Env(const char* name, const char* fallback = "") {
  const char* v = std::getenv(name);
  return v == nullptr || *v == 0 ? fallback : v;
}

}  // namespace

std::string ModelFixtureDir() {
  std::string root = Env("CLUEDROP_ORACLE_DIR", CLUEDROP_ORACLE_DIR_DEFAULT);
  return root.empty() ? "" : root + "/models";
}

torch::Device TestDevice() {
  std::string d = Env("CLUEDROP_TEST_DEVICE");
  return torch::Device(d.empty() ? "cpu" : d);
}

torch::ScalarType TestDtype() {
  std::string d = Env("CLUEDROP_TEST_DTYPE");
  if (d == "bfloat16" || d == "bf16") return torch::kBFloat16;
  if (d == "float16" || d == "fp16") return torch::kHalf;
  return torch::kFloat;
}

torch::Tensor ReadTensor(const CheckpointReader& reader, const std::string& name) {
  auto view = reader.Get(name);
  if (!view.ok()) throw std::runtime_error(view.status().ToString());
  return TensorFromView(*view).clone();
}

std::string OraclePython() { return Env("CLUEDROP_PYTHON", CLUEDROP_PYTHON_DEFAULT); }
std::string SourceDir() { return Env("CLUEDROP_SOURCE_DIR", CLUEDROP_SOURCE_DIR_DEFAULT); }

}  // namespace cluedrop::model::testing

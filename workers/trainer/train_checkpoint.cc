#include "workers/trainer/train_checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/core/Generator.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>
#include <vector>

#include "workers/model/checkpoint/atomic_file.h"
#include "workers/model/checkpoint/checkpoint_reader.h"
#include "workers/model/checkpoint/safetensors_writer.h"
#include "workers/model/torch_dtype.h"
#include "workers/model/torch_status.h"

namespace cluedrop::trainer {
namespace {

constexpr char kFormat[] = "cluedrop-train-checkpoint-v1";
constexpr char kLatest[] = "latest";
constexpr char kModelFile[] = "model.safetensors";
constexpr char kOptimizerFile[] = "optimizer.pt";
constexpr char kStateFile[] = "trainer_state.json";

std::string RankFileName(int rank) {
  char name[32];
  std::snprintf(name, sizeof(name), "rank-%05d.pt", rank);
  return name;
}

Status ErrnoError(const std::string& what, int err) {
  const std::string message = what + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return NotFoundError(message);
    case EACCES:
    case EPERM:
      return Status(StatusCode::kPermissionDenied, message);
    case ENOSPC:
    case EDQUOT:
      return ResourceExhaustedError(message);
    default:
      return InternalError(message);
  }
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Status MakeDirs(const std::string& path) {
  std::string prefix;
  std::stringstream parts(path);
  std::string part;
  if (!path.empty() && path[0] == '/') prefix = "/";
  while (std::getline(parts, part, '/')) {
    if (part.empty()) continue;
    prefix += part;
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoError("mkdir " + prefix, errno);
    }
    prefix += "/";
  }
  return OkStatus();
}

// nftw-based removal: libtorch.so exports a std::filesystem::remove_all that
// crashes (docs/model-runtime.md).
void RemoveTree(const std::string& path) {
  ::nftw(
      path.c_str(),
      [](const char* p, const struct stat*, int, struct FTW*) { return std::remove(p); }, 16,
      FTW_DEPTH | FTW_PHYS);
}

Status FsyncPath(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open " + path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError("fsync " + path, err);
  return OkStatus();
}

Status WriteText(const std::string& path, const std::string& text) {
  CLUEDROP_ASSIGN_OR_RETURN(auto out, model::AtomicFileWriter::Create(path));
  CLUEDROP_RETURN_IF_ERROR(out->Append(text));
  return out->Commit();
}

StatusOr<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoError("open " + path, errno == 0 ? ENOENT : errno);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The default generators of the CUDA devices the model runs on (never of
// other devices: touching a generator creates a CUDA context there).
std::vector<std::pair<int64_t, at::Generator>> CudaGenerators(const model::CausalLM& model) {
  std::vector<std::pair<int64_t, at::Generator>> out;
  for (const c10::Device& device : {model.input_device(), model.output_device()}) {
    if (!device.is_cuda()) continue;
    const int64_t index = device.has_index() ? device.index() : 0;
    if (!out.empty() && out.back().first == index) continue;
    out.emplace_back(index, at::globalContext().defaultGenerator(
                                c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index))));
  }
  return out;
}

at::Tensor GeneratorState(at::Generator generator) {
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void SetGeneratorState(at::Generator generator, const at::Tensor& state) {
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

// Rank 0: model, optimizer and metadata into `dir`.
Status WriteSharedFiles(const std::string& dir, TrainStep& step, int world_size) {
  std::vector<at::Tensor> cpu;  // keeps the bytes alive until Write
  model::SafetensorsWriter writer;
  nlohmann::json names = nlohmann::json::array();
  Status s = model::TorchCall("collecting parameters", [&] {
    for (const NamedParameter& p : step.trainable()) {
      cpu.push_back(p.tensor.detach().to(torch::kCPU).contiguous());
      names.push_back(p.name);
    }
  });
  if (!s.ok()) return s;
  for (size_t i = 0; i < cpu.size(); ++i) {
    const at::Tensor& t = cpu[i];
    CLUEDROP_ASSIGN_OR_RETURN(model::DType dtype, model::DTypeOf(t.scalar_type()));
    CLUEDROP_RETURN_IF_ERROR(
        writer.Add(step.trainable()[i].name, dtype, t.sizes().vec(), t.data_ptr(), t.nbytes()));
  }
  writer.SetMetadata("step", std::to_string(step.step()));
  CLUEDROP_RETURN_IF_ERROR(writer.Write(dir + "/" + kModelFile));
  const std::string optimizer_path = dir + "/" + kOptimizerFile;
  s = model::TorchCall("saving " + optimizer_path,
                       [&] { torch::save(step.optimizer(), optimizer_path); });
  if (!s.ok()) return s;
  CLUEDROP_RETURN_IF_ERROR(FsyncPath(optimizer_path));
  nlohmann::json state = {
      {"format", kFormat}, {"step", step.step()}, {"world_size", world_size}, {"trainable", names}};
  return WriteText(dir + "/" + kStateFile, state.dump(2) + "\n");
}

Status WriteRankFile(const std::string& path, const model::CausalLM& model,
                     const DataCursor& cursor, const std::mt19937_64* std_rng) {
  Status s = model::TorchCall("saving " + path, [&] {
    torch::serialize::OutputArchive archive;
    archive.write("cpu_rng", GeneratorState(at::detail::getDefaultCPUGenerator()));
    for (auto& [index, generator] : CudaGenerators(model)) {
      archive.write("cuda_rng_" + std::to_string(index), GeneratorState(generator));
    }
    archive.write("epoch", c10::IValue(cursor.epoch));
    archive.write("position", c10::IValue(cursor.position));
    if (std_rng != nullptr) {
      std::ostringstream os;
      os << *std_rng;
      archive.write("std_rng", c10::IValue(os.str()));
    }
    archive.save_to(path);
  });
  if (!s.ok()) return s;
  return FsyncPath(path);
}

// Every rank learns whether any rank failed (an all-reduce of failure flags,
// so no rank waits forever for one that gave up).
Status Agree(Collectives* collectives, const Status& local, const std::string& stage) {
  if (collectives == nullptr || collectives->world_size() == 1) return local;
  at::Tensor flag;
  Status s = model::TorchCall("checkpoint vote", [&] {
    flag = at::full({1}, local.ok() ? 0.0 : 1.0, at::TensorOptions().device(collectives->device()));
  });
  if (!s.ok()) return s;
  CLUEDROP_RETURN_IF_ERROR(collectives->AllReduceSync(flag, ReduceOp::kSum));
  if (!local.ok()) return local;
  if (flag.item<double>() > 0) return InternalError(stage + " failed on another rank");
  return OkStatus();
}

// Moves `tmp` onto `final_dir`; an existing `final_dir` is atomically swapped
// out (renameat2 RENAME_EXCHANGE) and then removed.
Status Publish(const std::string& tmp, const std::string& final_dir) {
  if (Exists(final_dir)) {
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_EXCHANGE) != 0) {
      return ErrnoError("exchanging " + tmp + " and " + final_dir, errno);
    }
    RemoveTree(tmp);
    return OkStatus();
  }
  if (::rename(tmp.c_str(), final_dir.c_str()) != 0) {
    return ErrnoError("renaming " + tmp + " to " + final_dir, errno);
  }
  return OkStatus();
}

}  // namespace

std::string CheckpointDirName(int64_t step) {
  char name[32];
  std::snprintf(name, sizeof(name), "step-%08lld", static_cast<long long>(step));
  return name;
}

Status SaveTrainCheckpoint(const std::string& root, TrainStep& step, const DataCursor& cursor,
                           Collectives* collectives, const std::mt19937_64* std_rng) {
  const int rank = collectives == nullptr ? 0 : collectives->rank();
  const int world = collectives == nullptr ? 1 : collectives->world_size();
  const std::string name = CheckpointDirName(step.step());
  const std::string tmp = root + "/.tmp-" + name;
  const std::string final_dir = root + "/" + name;

  Status local;
  if (rank == 0) {
    local = MakeDirs(root);
    if (local.ok()) {
      RemoveTree(tmp);  // a crashed earlier attempt
      if (::mkdir(tmp.c_str(), 0755) != 0) local = ErrnoError("mkdir " + tmp, errno);
    }
  }
  CLUEDROP_RETURN_IF_ERROR(Agree(collectives, local, "preparing " + tmp));

  local = WriteRankFile(tmp + "/" + RankFileName(rank), step.model(), cursor, std_rng);
  if (local.ok() && rank == 0) local = WriteSharedFiles(tmp, step, world);
  Status agreed = Agree(collectives, local, "writing " + tmp);
  if (!agreed.ok()) {
    if (rank == 0) RemoveTree(tmp);
    return agreed;
  }

  local = OkStatus();
  if (rank == 0) {
    local = FsyncPath(tmp);
    if (local.ok()) local = Publish(tmp, final_dir);
    if (local.ok()) local = FsyncPath(root);
    if (local.ok()) local = WriteText(root + "/" + kLatest, name + "\n");
    if (!local.ok()) RemoveTree(tmp);
  }
  return Agree(collectives, local, "publishing " + final_dir);
}

StatusOr<std::string> LatestCheckpoint(const std::string& root) {
  const std::string latest = root + "/" + kLatest;
  if (!Exists(latest)) return NotFoundError(latest + ": no checkpoint saved yet");
  CLUEDROP_ASSIGN_OR_RETURN(std::string text, ReadText(latest));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.empty() || text.find('/') != std::string::npos || text[0] == '.') {
    return DataLossError(latest + ": bad content '" + text + "'");
  }
  const std::string dir = root + "/" + text;
  if (!Exists(dir + "/" + kStateFile)) {
    return DataLossError(latest + " names " + dir + ", which has no " + kStateFile);
  }
  return dir;
}

StatusOr<DataCursor> LoadTrainCheckpoint(const std::string& dir, TrainStep& step, int rank,
                                         std::mt19937_64* std_rng) {
  CLUEDROP_ASSIGN_OR_RETURN(std::string state_text, ReadText(dir + "/" + kStateFile));
  nlohmann::json state = nlohmann::json::parse(state_text, nullptr, /*allow_exceptions=*/false);
  if (!state.is_object() || state.value("format", "") != kFormat || !state.contains("step") ||
      !state["step"].is_number_integer() || !state.contains("trainable") ||
      !state["trainable"].is_array()) {
    return DataLossError(dir + "/" + kStateFile + ": not a " + kFormat + " file");
  }
  const int64_t saved_step = state["step"].get<int64_t>();
  const auto& saved_names = state["trainable"];
  const auto& trainable = step.trainable();
  if (saved_names.size() != trainable.size()) {
    return FailedPreconditionError(dir + ": " + std::to_string(saved_names.size()) +
                                   " trainable parameters saved, the model has " +
                                   std::to_string(trainable.size()));
  }
  for (size_t i = 0; i < trainable.size(); ++i) {
    if (!saved_names[i].is_string() || saved_names[i].get<std::string>() != trainable[i].name) {
      return FailedPreconditionError(dir + ": trainable parameter #" + std::to_string(i) + " is " +
                                     saved_names[i].dump() + " in the checkpoint, '" +
                                     trainable[i].name + "' in the model");
    }
  }
  const std::string rank_path = dir + "/" + RankFileName(rank);
  if (!Exists(rank_path)) {
    return FailedPreconditionError(rank_path + ": missing (checkpoint written by " +
                                   state.value("world_size", nlohmann::json(0)).dump() + " ranks)");
  }

  const std::string model_path = dir + "/" + kModelFile;
  auto reader = model::CheckpointReader::OpenFile(model_path);
  if (!reader.ok()) return reader.status();
  for (const NamedParameter& p : trainable) {
    auto view = (*reader)->Get(p.name);
    if (!view.ok()) return DataLossError(view.status().message());
    Status s = model::TorchCall("restoring " + p.name, [&] {
      at::Tensor saved = model::TensorFromView(*view);
      if (saved.sizes() != p.tensor.sizes() || saved.scalar_type() != p.tensor.scalar_type()) {
        std::ostringstream os;
        os << "checkpoint has " << saved.scalar_type() << saved.sizes() << ", the model "
           << p.tensor.scalar_type() << p.tensor.sizes();
        throw std::runtime_error(os.str());
      }
      torch::NoGradGuard no_grad;
      p.tensor.detach().copy_(saved);
    });
    if (!s.ok()) return FailedPreconditionError(s.message());
  }
  const std::string optimizer_path = dir + "/" + kOptimizerFile;
  Status s = model::TorchCall("loading " + optimizer_path,
                              [&] { torch::load(step.optimizer(), optimizer_path); });
  if (!s.ok()) return DataLossError(s.message());
  step.set_step(saved_step);

  DataCursor cursor;
  s = model::TorchCall("loading " + rank_path, [&] {
    torch::serialize::InputArchive archive;
    archive.load_from(rank_path);
    at::Tensor cpu_state;
    archive.read("cpu_rng", cpu_state);
    SetGeneratorState(at::detail::getDefaultCPUGenerator(), cpu_state);
    for (auto& [index, generator] : CudaGenerators(step.model())) {
      at::Tensor cuda_state;
      if (archive.try_read("cuda_rng_" + std::to_string(index), cuda_state)) {
        SetGeneratorState(generator, cuda_state);
      }
    }
    c10::IValue value;
    archive.read("epoch", value);
    cursor.epoch = value.toInt();
    archive.read("position", value);
    cursor.position = value.toInt();
    if (std_rng != nullptr) {
      if (!archive.try_read("std_rng", value)) {
        throw std::runtime_error("no std_rng state saved");
      }
      std::istringstream is(value.toStringRef());
      is >> *std_rng;
      if (!is) throw std::runtime_error("bad std_rng state");
    }
  });
  if (!s.ok()) return DataLossError(s.message());
  return cursor;
}

}  // namespace cluedrop::trainer

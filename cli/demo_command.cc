// `cluedrop demo [--quick | --full] [--data DIR] [--out DIR]`: the embedded
// demo experiment. The orchestration (data generation, the tokenizer, the
// reference models' pretraining with `cluedrop train`, the local cluster of
// real daemons, the job grid and the report with its plots) is the Python
// package demo/cluedrop_demo, run with the build's Python (the venv that
// provides libtorch and matplotlib); this command execs it with the
// directory of this binary, so it drives the daemons built next to it.
// $CLUEDROP_PYTHON and $CLUEDROP_DEMO_DIR override the build-time paths.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.h"

#ifndef CLUEDROP_DEMO_PYTHON
#define CLUEDROP_DEMO_PYTHON "python3"
#endif
#ifndef CLUEDROP_DEMO_DIR
#define CLUEDROP_DEMO_DIR "demo"
#endif

namespace cluedrop::cli {
namespace {

std::string EnvOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

std::string BinaryDirectory() {
  std::vector<char> buffer(4096);
  const ssize_t n = readlink("/proc/self/exe", buffer.data(), buffer.size() - 1);
  if (n <= 0) return ".";
  std::string path(buffer.data(), static_cast<size_t>(n));
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

int RunDemo(const std::vector<std::string>& args) {
  const std::string python = EnvOr("CLUEDROP_PYTHON", CLUEDROP_DEMO_PYTHON);
  const std::string demo_dir = EnvOr("CLUEDROP_DEMO_DIR", CLUEDROP_DEMO_DIR);
  if (access((demo_dir + "/cluedrop_demo/__main__.py").c_str(), R_OK) != 0) {
    std::cerr << "cluedrop demo: the demo package is not at " << demo_dir
              << "/cluedrop_demo (set $CLUEDROP_DEMO_DIR to the source tree's demo/)" << std::endl;
    return kExitFailure;
  }
  // The demo package and the daemon launcher it uses (python/cluedrop_local),
  // a sibling of demo/ in the source tree.
  const std::string packages = demo_dir + ":" + demo_dir + "/../python";
  const char* old_path = std::getenv("PYTHONPATH");
  const std::string path =
      old_path != nullptr && *old_path != '\0' ? packages + ":" + old_path : packages;
  setenv("PYTHONPATH", path.c_str(), 1);
  std::vector<std::string> argv = {python, "-m", "cluedrop_demo", "--bin", BinaryDirectory()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> c_argv;
  for (std::string& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  execvp(python.c_str(), c_argv.data());
  std::cerr << "cluedrop demo: cannot run " << python << ": " << std::strerror(errno)
            << " (set $CLUEDROP_PYTHON to a Python with matplotlib)" << std::endl;
  return kExitFailure;
}

}  // namespace cluedrop::cli

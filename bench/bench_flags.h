// `--name value` flags of the bench tools, header-only: each tool starts from
// a map of its flags' defaults and ParseBenchFlags overwrites the ones given.
//
// Example:
//   std::map<std::string, std::string> f = {{"steps", "5"}, {"threads", "0"}};
//   if (!bench::ParseBenchFlags(argc, argv, f)) return 2;  // printed why
//   const int steps = std::stoi(f["steps"]);
#ifndef CLUEDROP_BENCH_BENCH_FLAGS_H_
#define CLUEDROP_BENCH_BENCH_FLAGS_H_

#include <iostream>
#include <map>
#include <string>

namespace cluedrop::bench {

// Sets flags[name] for every `--name value` pair of argv. False (after
// printing "unknown flag ...") for a name not in `flags` or without "--".
inline bool ParseBenchFlags(int argc, char** argv, std::map<std::string, std::string>& flags) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    if (key.rfind("--", 0) != 0 || flags.count(key.substr(2)) == 0) {
      std::cerr << "unknown flag " << key << "\n";
      return false;
    }
    flags[key.substr(2)] = argv[i + 1];
  }
  return true;
}

}  // namespace cluedrop::bench

#endif  // CLUEDROP_BENCH_BENCH_FLAGS_H_

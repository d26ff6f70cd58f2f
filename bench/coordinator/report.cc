// coordinator_bench: latency figures, plain-text tables, the machine's description.
#include "bench/coordinator/bench.h"

namespace cluedrop::bench {

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::string Fmt(double v, int decimals) {
  if (std::isnan(v)) return "-";
  return absl::StrFormat("%.*f", decimals, v);
}

std::string Ratio(double a, double b) { return b > 0 ? absl::StrFormat("%.3f", a / b) : "-"; }

std::string FirstLineWith(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      const size_t colon = line.find(':');
      return colon == std::string::npos ? line
                                        : line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

std::string DescribeFilesystem(const std::string& path) {
  std::error_code ec;
  const std::string real = fs::canonical(path, ec).string();
  std::ifstream mounts("/proc/self/mounts");
  std::string device, mount_point, type, best_device = "?", best_mount, best_type = "?";
  std::string rest;
  while (mounts >> device >> mount_point >> type && std::getline(mounts, rest)) {
    const bool covers =
        mount_point == "/" || real == mount_point || real.rfind(mount_point + "/", 0) == 0;
    if (covers && mount_point.size() >= best_mount.size()) {
      best_device = device;
      best_mount = mount_point;
      best_type = type;
    }
  }
  std::string rotational = "?";
  if (best_device.rfind("/dev/", 0) == 0) {
    const std::string name = best_device.substr(5);
    for (const std::string& candidate :
         {absl::StrCat("/sys/class/block/", name, "/queue/rotational"),
          absl::StrCat("/sys/class/block/", name, "/../queue/rotational")}) {
      std::ifstream in(candidate);
      if (in >> rotational) break;
    }
  }
  return absl::StrCat(best_type, " on ", best_device, " (mounted at ", best_mount, ", rotational ",
                      rotational, ")");
}

}  // namespace cluedrop::bench

// Version and source revision baked into every cluedrop binary.
#ifndef CLUEDROP_RUNTIME_BUILD_INFO_H_
#define CLUEDROP_RUNTIME_BUILD_INFO_H_

#include <string_view>

namespace cluedrop {

// Semantic version of the project, e.g. "0.1.0".
std::string_view BuildVersion();
// Git commit the build was configured from ("unknown" outside a checkout).
std::string_view BuildGitCommit();

}  // namespace cluedrop

#endif  // CLUEDROP_RUNTIME_BUILD_INFO_H_

// Declaration-only stand-in; see ../README.md.
#pragma once

#include <chrono>

namespace gloo {

class Context {
 public:
  // Declared (never defined here, never called by cluedrop) so that the
  // inline ProcessGroupGloo::setTimeout parses.
  void setTimeout(std::chrono::milliseconds timeout);
};

}  // namespace gloo

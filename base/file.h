// Reads a whole file into a string.
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(std::string text, ReadFile(dir + "/config.json"));
#ifndef CLUEDROP_BASE_FILE_H_
#define CLUEDROP_BASE_FILE_H_

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

#include "base/errno_status.h"
#include "base/status.h"

namespace cluedrop {

// The file's bytes. Errors name the file: "<path>: cannot open: <reason>"
// with the code ErrnoStatus gives (NOT_FOUND for a missing file), DATA_LOSS
// for a read error.
inline StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoStatus(errno, path + ": cannot open");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return DataLossError(path + ": read error");
  return buffer.str();
}

}  // namespace cluedrop

#endif  // CLUEDROP_BASE_FILE_H_

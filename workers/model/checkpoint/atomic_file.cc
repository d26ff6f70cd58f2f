#include "workers/model/checkpoint/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "base/errno_status.h"

namespace cluedrop::model {
namespace {

constexpr size_t kBufferBytes = 1 << 20;

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status WriteAll(int fd, const char* data, size_t size, const std::string& name) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, name + ": write failed");
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return OkStatus();
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::string path, int fd)
    : path_(std::move(path)), tmp_path_(path_ + ".tmp"), fd_(fd) {}

StatusOr<std::unique_ptr<AtomicFileWriter>> AtomicFileWriter::Create(const std::string& path) {
  const std::string tmp = path + ".tmp";
  int fd;
  do {
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoStatus(errno, tmp + ": cannot create");
  return std::unique_ptr<AtomicFileWriter>(new AtomicFileWriter(path, fd));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_path_.c_str());
}

Status AtomicFileWriter::Append(const void* data, size_t size) {
  if (fd_ < 0) return FailedPreconditionError(tmp_path_ + ": writer already committed or failed");
  if (size == 0) return OkStatus();
  const char* bytes = static_cast<const char*>(data);
  if (buffer_.size() + size <= kBufferBytes) {
    buffer_.append(bytes, size);
    return OkStatus();
  }
  Status status = Flush();
  if (status.ok()) {
    if (size < kBufferBytes) {
      buffer_.append(bytes, size);
    } else {
      status = WriteAll(fd_, bytes, size, tmp_path_);
    }
  }
  if (!status.ok()) {  // Refuse further writes; the destructor removes the .tmp file.
    ::close(fd_);
    fd_ = -1;
  }
  return status;
}

Status AtomicFileWriter::Flush() {
  Status status = WriteAll(fd_, buffer_.data(), buffer_.size(), tmp_path_);
  buffer_.clear();
  return status;
}

Status AtomicFileWriter::Commit() {
  if (fd_ < 0) return FailedPreconditionError(tmp_path_ + ": writer already committed or failed");
  Status status = Flush();
  if (status.ok() && ::fsync(fd_) != 0) status = ErrnoStatus(errno, tmp_path_ + ": fsync failed");
  if (::close(fd_) != 0 && status.ok()) status = ErrnoStatus(errno, tmp_path_ + ": close failed");
  fd_ = -1;
  if (!status.ok()) return status;  // The destructor removes the .tmp file.
  if (::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    return ErrnoStatus(errno, tmp_path_ + ": cannot rename onto " + path_);
  }
  committed_ = true;
  // Make the rename itself durable. Best effort: some filesystems refuse
  // fsync on directories, and the data is already in place.
  const std::string dir = DirectoryOf(path_);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return OkStatus();
}

}  // namespace cluedrop::model

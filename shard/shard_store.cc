#include "shard/shard_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <system_error>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/absl_status.h"
#include "base/errno_status.h"
#include "shard/crc32c.h"
#include "shard/record_codec.h"

namespace cluedrop::shard {
namespace {

// docs/shard-format.md.
constexpr char kMagic[8] = {'C', 'L', 'D', 'S', 'H', 'R', 'D', '\0'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 32;
constexpr size_t kHeaderCrcOffset = 28;
constexpr size_t kMaxIdBytes = 200;
constexpr size_t kCrcBlockBytes = 1 << 20;
constexpr char kSuffix[] = ".shard";

absl::Status Errno(int err, const std::string& what) {
  return ToAbslStatus(ErrnoStatus(err, what));
}

void PutLe32(uint32_t v, char* p) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void PutLe64(uint64_t v, char* p) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint32_t GetLe32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}
uint64_t GetLe64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}

absl::Status CheckId(const char* what, const std::string& id) {
  bool ok = !id.empty() && id.size() <= kMaxIdBytes && id[0] != '.';
  for (char c : id) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      what, ": \"", absl::CHexEscape(id.substr(0, kMaxIdBytes)),
      "\" is not a valid file name (1 to 200 bytes of [A-Za-z0-9._-], no leading '.')"));
}

// Closes a descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now; returns close()'s errno-based error.
  absl::Status Close(const std::string& what) {
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) return Errno(errno, what + ": close");
    return absl::OkStatus();
  }

 private:
  int fd_;
};

absl::Status FsyncDir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return Errno(errno, dir + ": open directory");
  if (::fsync(fd.get()) != 0) return Errno(errno, dir + ": fsync directory");
  return fd.Close(dir);
}

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno(errno, path + ": write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Reads exactly `size` bytes at `offset`; DATA_LOSS if the file ends first.
absl::Status PreadAll(int fd, uint64_t offset, size_t size, char* out, const std::string& path) {
  while (size > 0) {
    const ssize_t n = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno(errno, path + ": read");
    }
    if (n == 0) return absl::DataLossError(path + ": file ended early (changed while reading?)");
    out += n;
    offset += static_cast<uint64_t>(n);
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// Reads and verifies the header of an open shard file of `file_size` bytes.
absl::StatusOr<ShardFileInfo> ReadHeader(int fd, uint64_t file_size, const std::string& path) {
  if (file_size < kHeaderSize) {
    return absl::DataLossError(absl::StrCat(path, ": truncated: ", file_size,
                                            " bytes, the header alone is ", kHeaderSize));
  }
  char h[kHeaderSize];
  CLUEDROP_RETURN_IF_ABSL_ERROR(PreadAll(fd, 0, kHeaderSize, h, path));
  if (absl::string_view(h, sizeof(kMagic)) != absl::string_view(kMagic, sizeof(kMagic))) {
    return absl::DataLossError(path + ": bad magic (not a cluedrop shard file)");
  }
  const uint32_t stored_crc = GetLe32(h + kHeaderCrcOffset);
  const uint32_t crc = Crc32c(absl::string_view(h, kHeaderCrcOffset));
  if (stored_crc != crc) {
    return absl::DataLossError(absl::StrFormat(
        "%s: header checksum mismatch (stored %08x, computed %08x)", path, stored_crc, crc));
  }
  const uint32_t version = GetLe32(h + 8);
  if (version != kVersion) {
    return absl::DataLossError(absl::StrCat(path, ": unsupported version ", version,
                                            " (this build reads ", kVersion, ")"));
  }
  ShardFileInfo info;
  info.document_count = GetLe32(h + 12);
  info.payload_bytes = GetLe64(h + 16);
  info.checksum = GetLe32(h + 24);
  const uint64_t payload_on_disk = file_size - kHeaderSize;
  if (payload_on_disk < info.payload_bytes) {
    return absl::DataLossError(absl::StrCat(path, ": truncated: payload is ", payload_on_disk,
                                            " bytes, the header says ", info.payload_bytes));
  }
  if (payload_on_disk > info.payload_bytes) {
    return absl::DataLossError(
        absl::StrCat(path, ": ", payload_on_disk - info.payload_bytes, " bytes after the payload"));
  }
  return info;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ShardStore>> ShardStore::Open(std::string dir) {
  if (dir.empty()) return absl::InvalidArgumentError("shard store: empty directory");
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Errno(ec.value(), dir + ": create directory");
  if (!fs::is_directory(dir, ec)) return Errno(ENOTDIR, dir);
  // Remove temp files of writes that never reached their rename. Readers
  // never open them, so one that cannot be removed is left alone.
  fs::directory_iterator jobs(dir, ec);
  if (ec) return Errno(ec.value(), dir + ": list directory");
  for (; !ec && jobs != fs::directory_iterator(); jobs.increment(ec)) {
    std::error_code job_ec;
    if (!jobs->is_directory(job_ec)) continue;
    fs::directory_iterator files(jobs->path(), job_ec);
    for (; !job_ec && files != fs::directory_iterator(); files.increment(job_ec)) {
      const std::string name = files->path().filename().string();
      if (name[0] == '.' && name.find(".tmp-") != std::string::npos) {
        std::error_code ignored;
        fs::remove(files->path(), ignored);
      }
    }
  }
  if (ec) return Errno(ec.value(), dir + ": list directory");
  return std::unique_ptr<ShardStore>(new ShardStore(std::move(dir)));
}

std::string ShardStore::PathFor(const std::string& job_id, const std::string& shard_id) const {
  return absl::StrCat(dir_, "/", job_id, "/", shard_id, kSuffix);
}

absl::StatusOr<uint32_t> ShardStore::Write(const std::string& job_id, const std::string& shard_id,
                                           const std::vector<v1::ScoredDocument>& docs) {
  CLUEDROP_RETURN_IF_ABSL_ERROR(CheckId("job_id", job_id));
  CLUEDROP_RETURN_IF_ABSL_ERROR(CheckId("shard_id", shard_id));
  if (docs.size() > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError("shard store: more than 2^32-1 documents in a shard");
  }
  // The whole file in memory: header (filled last), then the records.
  std::string file(kHeaderSize, '\0');
  for (size_t i = 0; i < docs.size(); ++i) {
    const v1::ScoredDocument& doc = docs[i];
    const size_t size = doc.ByteSizeLong();
    if (size > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
      return absl::InvalidArgumentError(absl::StrCat("shard store: document ", i, " is ", size,
                                                     " bytes; protobuf's limit is 2 GiB"));
    }
    AppendRecord(doc, &file);
  }
  const uint32_t checksum = Crc32c(absl::string_view(file).substr(kHeaderSize));
  std::memcpy(&file[0], kMagic, sizeof(kMagic));
  PutLe32(kVersion, &file[8]);
  PutLe32(static_cast<uint32_t>(docs.size()), &file[12]);
  PutLe64(file.size() - kHeaderSize, &file[16]);
  PutLe32(checksum, &file[24]);
  PutLe32(Crc32c(absl::string_view(file.data(), kHeaderCrcOffset)), &file[kHeaderCrcOffset]);

  absl::ReaderMutexLock lock(&mu_);
  const std::string job_dir = absl::StrCat(dir_, "/", job_id);
  if (::mkdir(job_dir.c_str(), 0755) == 0) {
    CLUEDROP_RETURN_IF_ABSL_ERROR(FsyncDir(dir_));  // make the new job directory durable
  } else if (errno != EEXIST) {
    return Errno(errno, job_dir + ": create directory");
  }
  const std::string path = PathFor(job_id, shard_id);
  const std::string temp = absl::StrCat(job_dir, "/.", shard_id, kSuffix, ".tmp-", ::getpid(), "-",
                                        temp_counter_.fetch_add(1));
  absl::Status status = [&]() -> absl::Status {
    Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd.get() < 0) return Errno(errno, temp + ": create");
    CLUEDROP_RETURN_IF_ABSL_ERROR(WriteAll(fd.get(), file, temp));
    if (::fsync(fd.get()) != 0) return Errno(errno, temp + ": fsync");
    CLUEDROP_RETURN_IF_ABSL_ERROR(fd.Close(temp));
    if (::rename(temp.c_str(), path.c_str()) != 0) return Errno(errno, path + ": rename");
    return absl::OkStatus();
  }();
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  CLUEDROP_RETURN_IF_ABSL_ERROR(FsyncDir(job_dir));
  return checksum;
}

absl::StatusOr<int> ShardStore::OpenForRead(const std::string& job_id,
                                            const std::string& shard_id) const {
  CLUEDROP_RETURN_IF_ABSL_ERROR(CheckId("job_id", job_id));
  CLUEDROP_RETURN_IF_ABSL_ERROR(CheckId("shard_id", shard_id));
  const std::string path = PathFor(job_id, shard_id);
  absl::ReaderMutexLock lock(&mu_);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) return fd;
  if (errno == ENOENT) {
    return absl::NotFoundError(
        absl::StrCat("shard ", job_id, "/", shard_id, " not found (", path, ")"));
  }
  return Errno(errno, path + ": open");
}

absl::StatusOr<ShardFileInfo> ShardStore::Info(const std::string& job_id,
                                               const std::string& shard_id) const {
  CLUEDROP_ASSIGN_OR_RETURN(const int raw_fd, OpenForRead(job_id, shard_id));
  Fd fd(raw_fd);
  const std::string path = PathFor(job_id, shard_id);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Errno(errno, path + ": stat");
  return ReadHeader(fd.get(), static_cast<uint64_t>(st.st_size), path);
}

absl::Status ShardStore::ReadChunks(const std::string& job_id, const std::string& shard_id,
                                    size_t max_chunk_bytes, const ChunkSink& sink) const {
  CLUEDROP_ASSIGN_OR_RETURN(const int raw_fd, OpenForRead(job_id, shard_id));
  Fd fd(raw_fd);
  const std::string path = PathFor(job_id, shard_id);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Errno(errno, path + ": stat");
  CLUEDROP_ASSIGN_OR_RETURN(const ShardFileInfo info,
                            ReadHeader(fd.get(), static_cast<uint64_t>(st.st_size), path));

  // Pass 1: the payload checksum, block by block.
  std::string buffer;
  uint32_t crc = 0;
  for (uint64_t done = 0; done < info.payload_bytes;) {
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(kCrcBlockBytes, info.payload_bytes - done));
    buffer.resize(n);
    CLUEDROP_RETURN_IF_ABSL_ERROR(PreadAll(fd.get(), kHeaderSize + done, n, buffer.data(), path));
    crc = Crc32c(buffer, crc);
    done += n;
  }
  if (crc != info.checksum) {
    return absl::DataLossError(absl::StrFormat(
        "%s: payload checksum mismatch (stored %08x, computed %08x)", path, info.checksum, crc));
  }

  // Pass 2: the records, chunk by chunk. Files are only ever replaced by
  // rename, so the open descriptor still reads the bytes just verified.
  std::vector<v1::ScoredDocument> chunk;
  size_t chunk_bytes = 0;
  uint64_t offset = kHeaderSize;
  const uint64_t end = kHeaderSize + info.payload_bytes;
  for (uint32_t i = 0; i < info.document_count; ++i) {
    char length_bytes[4];
    if (end - offset < 4) {
      return absl::DataLossError(
          absl::StrCat(path, ": document ", i, ": payload ends in a length"));
    }
    CLUEDROP_RETURN_IF_ABSL_ERROR(PreadAll(fd.get(), offset, 4, length_bytes, path));
    const uint32_t length = GetLe32(length_bytes);
    offset += 4;
    if (length > end - offset) {
      return absl::DataLossError(
          absl::StrCat(path, ": document ", i, ": length ", length, " runs past the payload"));
    }
    buffer.resize(length);
    CLUEDROP_RETURN_IF_ABSL_ERROR(PreadAll(fd.get(), offset, length, buffer.data(), path));
    offset += length;
    if (!chunk.empty() && chunk_bytes + length > max_chunk_bytes) {
      if (!sink(std::move(chunk), /*last=*/false, crc)) {
        return absl::CancelledError(absl::StrCat(path, ": reading stopped by the receiver"));
      }
      chunk.clear();
      chunk_bytes = 0;
    }
    if (!chunk.emplace_back().ParseFromString(buffer)) {
      return absl::DataLossError(absl::StrCat(path, ": document ", i, " does not parse"));
    }
    chunk_bytes += length;
  }
  if (offset != end) {
    return absl::DataLossError(absl::StrCat(path, ": ", end - offset, " payload bytes after ",
                                            info.document_count, " documents"));
  }
  sink(std::move(chunk), /*last=*/true, crc);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::ScoredDocument>> ShardStore::Read(
    const std::string& job_id, const std::string& shard_id) const {
  std::vector<v1::ScoredDocument> docs;
  CLUEDROP_RETURN_IF_ABSL_ERROR(
      ReadChunks(job_id, shard_id, std::numeric_limits<size_t>::max(),
                 [&docs](std::vector<v1::ScoredDocument>&& chunk, bool, uint32_t) {
                   docs = std::move(chunk);
                   return true;
                 }));
  return docs;
}

bool ShardStore::Exists(const std::string& job_id, const std::string& shard_id) const {
  if (!CheckId("job_id", job_id).ok() || !CheckId("shard_id", shard_id).ok()) return false;
  struct stat st;
  return ::stat(PathFor(job_id, shard_id).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

absl::Status ShardStore::RemoveJob(const std::string& job_id) {
  CLUEDROP_RETURN_IF_ABSL_ERROR(CheckId("job_id", job_id));
  absl::WriterMutexLock lock(&mu_);
  const std::string job_dir = absl::StrCat(dir_, "/", job_id);
  std::error_code ec;
  const uintmax_t removed = std::filesystem::remove_all(job_dir, ec);
  if (ec) return Errno(ec.value(), job_dir + ": remove");
  if (removed > 0) CLUEDROP_RETURN_IF_ABSL_ERROR(FsyncDir(dir_));
  return absl::OkStatus();
}

}  // namespace cluedrop::shard

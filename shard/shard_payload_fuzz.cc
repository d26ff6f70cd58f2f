// Fuzzes the scored-shard payload decoder that StreamShards and `cluedrop
// results` read through (ShardStore::ReadChunks, docs/shard-format.md): any
// file must give an error or documents; documents that decode must encode
// again to a file that decodes to the same documents. Inputs starting with
// 'H' are whole files (the header checks); the others are a document count
// (4 bytes) and a payload wrapped in a header with valid checksums, so that
// mutations reach the record parser behind the CRCs.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/scoped_temp_dir.h"
#include "shard/crc32c.h"
#include "shard/shard_store.h"

namespace {

cluedrop::shard::ShardStore& Store() {
  static cluedrop::ScopedTempDir dir("shard_fuzz");  // removed at exit
  static cluedrop::shard::ShardStore* store =
      cluedrop::shard::ShardStore::Open(dir.path())->release();
  return *store;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cluedrop::shard::ShardStore& store = Store();
  const std::string path = store.PathFor("job-fuzz", "input");
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::string file;
  if (size > 0 && data[0] == 'H') {
    file.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  } else if (size >= 4) {
    const std::string payload(reinterpret_cast<const char*>(data) + 4, size - 4);
    char header[32] = {'C', 'L', 'D', 'S', 'H', 'R', 'D', '\0'};
    auto put32 = [&](int at, uint32_t v) {
      for (int i = 0; i < 4; ++i) header[at + i] = static_cast<char>(v >> (8 * i));
    };
    put32(8, 1);                        // version
    std::memcpy(header + 12, data, 4);  // document_count
    const uint64_t n = payload.size();
    for (int i = 0; i < 8; ++i) header[16 + i] = static_cast<char>(n >> (8 * i));
    put32(24, cluedrop::shard::Crc32c(payload));                        // payload_crc
    put32(28, cluedrop::shard::Crc32c(absl::string_view(header, 28)));  // header_crc
    file = std::string(header, 32) + payload;
  } else {
    return 0;
  }
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(file.data(), static_cast<std::streamsize>(file.size()));
  }
  std::vector<cluedrop::v1::ScoredDocument> docs;
  uint32_t crc = 0;
  const absl::Status read = store.ReadChunks(
      "job-fuzz", "input", 4096,
      [&](std::vector<cluedrop::v1::ScoredDocument>&& chunk, bool, uint32_t checksum) {
        crc = checksum;
        for (auto& d : chunk) docs.push_back(std::move(d));
        return true;
      });
  if (!read.ok()) return 0;
  absl::StatusOr<uint32_t> written = store.Write("job-fuzz", "again", docs);
  if (!written.ok()) __builtin_trap();
  absl::StatusOr<std::vector<cluedrop::v1::ScoredDocument>> again = store.Read("job-fuzz", "again");
  if (!again.ok() || again->size() != docs.size()) __builtin_trap();
  for (size_t i = 0; i < docs.size(); ++i) {
    if ((*again)[i].SerializeAsString() != docs[i].SerializeAsString()) __builtin_trap();
  }
  (void)crc;
  return 0;
}

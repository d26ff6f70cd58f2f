// Input files and output directories a job may name (issue 18 rows 7, 8, 14).
#include "coordinator/path_policy.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace cluedrop::coordinator {
namespace {

namespace fs = std::filesystem;

class PathPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "path_policy.XXXXXX").string();
    dir_ = fs::canonical(mkdtemp(pattern.data())).string();
    fs::create_directories(dir_ + "/shared/corpora");
    fs::create_directories(dir_ + "/shared/out");
    fs::create_directories(dir_ + "/private");
    std::ofstream(dir_ + "/shared/corpora/bio.jsonl") << "{\"id\": \"a\", \"text\": \"x\"}\n";
    std::ofstream(dir_ + "/private/secret.jsonl") << "{\"id\": \"s\", \"text\": \"token\"}\n";
    policy_.input_roots = {dir_ + "/shared"};
    policy_.output_roots = {dir_ + "/shared/out"};
  }
  void TearDown() override { fs::remove_all(dir_); }

  v1::JobSpec Spec(const std::string& corpus) {
    v1::JobSpec spec;
    spec.mutable_corpus()->add_paths(corpus);
    return spec;
  }

  std::string dir_;
  PathPolicy policy_;
};

TEST_F(PathPolicyTest, InsideTheRootsIsFine) {
  v1::JobSpec spec = Spec(dir_ + "/shared/corpora/bio.jsonl");
  spec.set_output_dir(dir_ + "/shared/out/run-1/model");
  EXPECT_TRUE(CheckJobPaths(spec, policy_).ok()) << CheckJobPaths(spec, policy_);
}

TEST_F(PathPolicyTest, EscapesThroughDotDotOrSymlinksAreRefused) {
  absl::Status s =
      CheckJobPaths(Spec(dir_ + "/shared/corpora/../../private/secret.jsonl"), policy_);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "corpus.paths[0]: " + dir_ +
                "/shared/corpora/../../private/secret.jsonl is outside --corpus_root " + dir_ +
                "/shared");
  fs::create_symlink(dir_ + "/private/secret.jsonl", dir_ + "/shared/corpora/link.jsonl");
  s = CheckJobPaths(Spec(dir_ + "/shared/corpora/link.jsonl"), policy_);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(CheckJobPaths(Spec("/etc/passwd"), policy_).code(), absl::StatusCode::kInvalidArgument);
  s = CheckJobPaths(Spec("corpora/bio.jsonl"), policy_);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("must be an absolute path"), absl::string_view::npos) << s;
  // Outputs.
  v1::JobSpec spec = Spec(dir_ + "/shared/corpora/bio.jsonl");
  for (const std::string& out : {dir_ + "/shared/out/../../private/model", std::string("/"),
                                 dir_ + "/shared/corpora", std::string("relative/out")}) {
    spec.set_output_dir(out);
    s = CheckJobPaths(spec, policy_);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << out;
    EXPECT_EQ(s.message().substr(0, 12), "output_dir: ") << s;
  }
  fs::create_directory_symlink(dir_ + "/private", dir_ + "/shared/out/escape");
  spec.set_output_dir(dir_ + "/shared/out/escape/model");
  EXPECT_EQ(CheckJobPaths(spec, policy_).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PathPolicyTest, DevicesFifosAndKernelFilesAreRefusedWithoutRoots) {
  PathPolicy open;  // no roots: anywhere, but only regular files
  const std::string fifo = dir_ + "/shared/corpora/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  absl::Status s = CheckJobPaths(Spec(fifo), open);  // must not block
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "corpus.paths[0]: " + fifo + " is not a regular file");
  s = CheckJobPaths(Spec("/dev/zero"), open);
  EXPECT_EQ(s.message(), "corpus.paths[0]: /dev/zero is not a regular file");
  s = CheckJobPaths(Spec("/proc/self/environ"), open);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "corpus.paths[0]: /proc/self/environ is a kernel file (/proc, /sys), not a corpus");
  EXPECT_EQ(CheckJobPaths(Spec(dir_ + "/shared"), open).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckJobPaths(Spec(dir_ + "/missing.jsonl"), open).code(), absl::StatusCode::kNotFound);
}

TEST_F(PathPolicyTest, TheCoordinatorsOwnFilesAreNeverInputs) {
  PathPolicy open;
  open.forbidden = {dir_ + "/private"};
  absl::Status s = CheckJobPaths(Spec(dir_ + "/private/secret.jsonl"), open);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "corpus.paths[0]: " + dir_ +
                             "/private/secret.jsonl is one of the coordinator's own files");
  v1::JobSpec spec = Spec(dir_ + "/shared/corpora/bio.jsonl");
  spec.mutable_evaluation()->set_prompt_table(dir_ + "/private/secret.jsonl");
  s = CheckJobPaths(spec, open);
  EXPECT_EQ(s.message().substr(0, 25), "evaluation.prompt_table: ") << s;
}

TEST_F(PathPolicyTest, CorpusSizeIsCapped) {
  policy_.max_corpus_bytes = 10;
  absl::Status s = CheckJobPaths(Spec(dir_ + "/shared/corpora/bio.jsonl"), policy_);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "corpus.paths: 25 bytes, more than --max_corpus_bytes=10");
}

}  // namespace
}  // namespace cluedrop::coordinator

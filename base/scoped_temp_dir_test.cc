#include "base/scoped_temp_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>

namespace cluedrop {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Sets an environment variable for one scope, then restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(ScopedTempDirTest, MakesAUniqueDirectoryUnderTmpdirAndRemovesItsWholeTree) {
  ScopedTempDir root("scoped_temp_dir_test_root");
  ScopedEnv tmpdir("TMPDIR", root.path().c_str());
  std::string a_path, nested;
  {
    ScopedTempDir a("job"), b("job");
    a_path = a.path();
    EXPECT_NE(a.path(), b.path());
    EXPECT_EQ(a.path().rfind(root.path() + "/job.", 0), 0u) << a.path();
    EXPECT_EQ(a.file("x.txt"), a.path() + "/x.txt");
    ASSERT_EQ(::mkdir(a.file("sub").c_str(), 0755), 0);
    nested = a.file("sub") + "/deep.txt";
    std::ofstream(nested) << "bytes";
    ASSERT_TRUE(Exists(nested));
  }
  EXPECT_FALSE(Exists(nested));
  EXPECT_FALSE(Exists(a_path));
  EXPECT_TRUE(Exists(root.path()));  // only its own tree goes
}

TEST(ScopedTempDirTest, ThrowsNamingThePathWhenItCannotMakeTheDirectory) {
  ScopedEnv tmpdir("TMPDIR", "/nonexistent/cluedrop-scoped-temp-dir-test");
  try {
    ScopedTempDir dir("x");
    FAIL() << "made " << dir.path();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/cluedrop-scoped-temp-dir-test/x."),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace cluedrop

// Roles, token tables, credential-file permissions and certificate subjects.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "auth/certificate_identity.h"
#include "auth/roles.h"
#include "auth/secret_file.h"
#include "auth/token_table.h"

namespace cluedrop::auth {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "auth_test.XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text, mode_t mode) const {
    const std::string path = path_ + "/" + name;
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
    return path;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const char kTable[] =
    "# token identity roles\n"
    "aaaaaaaaaaaaaaaa1 scorer-a scorer\n"
    "bbbbbbbbbbbbbbbb2\talice   submitter   # a comment\n"
    "\n"
    "cccccccccccccccc3 ops submitter,admin\n";

TEST(RolesTest, ParseAndPrint) {
  absl::StatusOr<RoleSet> roles = ParseRoles("trainer, scorer");
  ASSERT_TRUE(roles.ok()) << roles.status();
  EXPECT_TRUE(roles->Has(Role::kScorer));
  EXPECT_TRUE(roles->Has(Role::kTrainer));
  EXPECT_FALSE(roles->Has(Role::kSubmitter));
  EXPECT_EQ(roles->ToString(), "scorer,trainer");
  absl::StatusOr<RoleSet> bad = ParseRoles("scorer,root");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "unknown role \"root\" (known: submitter, scorer, trainer, admin)");
}

TEST(TokenTableTest, FindsEachIdentityAndNothingElse) {
  absl::StatusOr<TokenTable> table = TokenTable::Parse(kTable, "tokens");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->size(), 3u);
  const Identity* alice = table->Find("bbbbbbbbbbbbbbbb2");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->name, "alice");
  EXPECT_EQ(alice->roles.ToString(), "submitter");
  EXPECT_EQ(alice->via, "token");
  EXPECT_EQ(table->Find("cccccccccccccccc3")->roles.ToString(), "submitter,admin");
  EXPECT_EQ(table->Find("bbbbbbbbbbbbbbbb"), nullptr);    // a prefix
  EXPECT_EQ(table->Find("bbbbbbbbbbbbbbbb22"), nullptr);  // longer
  EXPECT_EQ(table->Find(""), nullptr);
}

TEST(TokenTableTest, ErrorsNameTheLineAndNeverTheToken) {
  struct Case {
    std::string text, message;
  } cases[] = {
      {"short scorer-a scorer\n",
       "t:1: token for \"scorer-a\": 5 characters; at least 16 are required"},
      {"\naaaaaaaaaaaaaaaa1 scorer-a\n", "t:2: expected 3 fields (token identity roles), got 2"},
      {"aaaaaaaaaaaaaaaa1 bad/name scorer\n",
       "t:1: identity \"bad/name\": use 1-128 letters, digits and . _ - @ :"},
      {"aaaaaaaaaaaaaaaa1 a scorer,root\n",
       "t:1: unknown role \"root\" (known: submitter, scorer, trainer, admin)"},
      {"aaaaaaaaaaaaaaaa1 a scorer\naaaaaaaaaaaaaaaa1 b trainer\n",
       "t:2: token for \"b\": the same token is already given to \"a\""},
      {"# nothing\n", "t: no tokens"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<TokenTable> table = TokenTable::Parse(c.text, "t");
    ASSERT_FALSE(table.ok()) << c.text;
    EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(table.status().message(), c.message);
    EXPECT_EQ(std::string(table.status().message()).find("aaaaaaaaaaaaaaaa1"), std::string::npos);
  }
}

TEST(SecretFileTest, RefusesFilesOtherUsersCanRead) {
  TempDir dir;
  const std::string open = dir.Write("open", "aaaaaaaaaaaaaaaa1 a scorer\n", 0644);
  absl::StatusOr<TokenTable> table = TokenTable::Load(open);
  EXPECT_EQ(table.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(table.status().message(),
            "--auth_token_file " + open +
                ": mode 0644 lets every local user read it; restrict it (chmod 600, or 640 for "
                "a group) and retry");
  const std::string group = dir.Write("group", "aaaaaaaaaaaaaaaa1 a scorer\n", 0640);
  EXPECT_TRUE(TokenTable::Load(group).ok());
  EXPECT_EQ(TokenTable::Load(dir.path() + "/missing").status().code(), absl::StatusCode::kNotFound);
}

TEST(SecretFileTest, TokenFileIsOneLineWithoutSpaces) {
  TempDir dir;
  absl::StatusOr<std::string> token =
      ReadTokenFile(dir.Write("t", "  abc-def_123\n", 0600), "--token_file");
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, "abc-def_123");
  EXPECT_EQ(ReadTokenFile(dir.Write("e", "\n \n", 0600), "--token_file").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadTokenFile(dir.Write("s", "two words\n", 0600), "--token_file").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SecretFileTest, AFifoOrDirectoryIsRefusedWithoutBlocking) {
  TempDir dir;
  const std::string fifo = dir.path() + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  absl::StatusOr<std::string> read = ReadSecretFile(fifo, "--token_file");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(read.status().message(), "--token_file " + fifo + ": not a regular file");
  chmod(dir.path().c_str(), 0700);
  EXPECT_EQ(ReadSecretFile(dir.path(), "--token_file").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(CertificateIdentityTest, CommonNameAndRoleUnits) {
  absl::StatusOr<Identity> who = IdentityFromSubject("CN=scorer-0,OU=scorer,OU=ml-team,O=acme");
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->name, "scorer-0");
  EXPECT_EQ(who->roles.ToString(), "scorer");
  EXPECT_EQ(who->via, "certificate");
  // Multi-valued RDNs and escapes.
  who = IdentityFromSubject("CN=ops+OU=admin,OU=submitter,O=Acme\\, Inc.");
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->roles.ToString(), "submitter,admin");
}

TEST(CertificateIdentityTest, EscapesAreValuesNotSeparators) {
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> parts =
      ParseDistinguishedName("CN=a\\,OU\\=admin,O=x\\2Cy");
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0], (std::pair<std::string, std::string>{"CN", "a,OU=admin"}));
  EXPECT_EQ((*parts)[1], (std::pair<std::string, std::string>{"O", "x,y"}));
  // An escaped separator cannot smuggle a role in.
  absl::StatusOr<Identity> who = IdentityFromSubject("CN=a\\,OU\\=admin,O=x");
  EXPECT_EQ(who.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(CertificateIdentityTest, WhatACertificateLacksIsSaid) {
  absl::StatusOr<Identity> who = IdentityFromSubject("CN=scorer-0,O=acme");
  EXPECT_EQ(who.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(who.status().message(),
            "client certificate \"CN=scorer-0,O=acme\": names no role; add OU=submitter, "
            "OU=scorer, OU=trainer or OU=admin");
  EXPECT_EQ(IdentityFromSubject("OU=scorer").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(IdentityFromSubject("CN=a,CN=b,OU=scorer").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(IdentityFromSubject("CN=a b,OU=scorer").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(IdentityFromSubject("garbage").status().code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace cluedrop::auth

#include "service/listener_security.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace micromongo::service {
namespace {

TEST(ListenerSecurityTest, LoopbackAddresses) {
  struct Case {
    const char* listen;
    bool loopback;
  };
  const Case cases[] = {
      {"127.0.0.1:50051", true},      {"127.1.2.3:1", true},
      {"localhost:50051", true},      {"LOCALHOST:0", true},
      {"[::1]:50051", true},          {"ipv4:127.0.0.1:5", true},
      {"[::ffff:127.0.0.1]:5", true}, {"0.0.0.0:50051", false},
      {"[::]:50051", false},          {":50051", false},
      {"10.0.0.1:50051", false},      {"128.0.0.1:1", false},
      {"example.com:50051", false},   {"localhost.example.com:1", false},
      {"[::2]:1", false},             {"unix:/tmp/s.sock", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(IsLoopbackAddress(c.listen), c.loopback) << c.listen;
  }
  EXPECT_TRUE(IsUnixAddress("unix:/tmp/x"));
  EXPECT_TRUE(IsUnixAddress("unix-abstract:x"));
  EXPECT_FALSE(IsUnixAddress("127.0.0.1:1"));
}

TEST(ListenerSecurityTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_FALSE(ConstantTimeEquals("secret", ""));
  // Equal up to the shorter length, and a zero byte where the other one ends.
  EXPECT_FALSE(ConstantTimeEquals(std::string("ab\0", 3), "ab"));
}

TEST(ListenerSecurityTest, CheckToken) {
  SecurityOptions options;  // health exempt, reflection not
  struct Case {
    const char* method;
    const char* authorization;
    bool ok;
  };
  const Case cases[] = {
      {"/micromongo.v1.DataService/Find", "Bearer s3cret", true},
      {"/micromongo.v1.DataService/Find", "bearer s3cret", true},  // scheme is case-insensitive
      {"/micromongo.v1.DataService/Find", "Bearer s3cre", false},
      {"/micromongo.v1.DataService/Find", "Bearer s3cret ", false},
      {"/micromongo.v1.DataService/Find", "Basic s3cret", false},
      {"/micromongo.v1.DataService/Find", "s3cret", false},
      {"/micromongo.v1.DataService/Find", "", false},
      {"/micromongo.v1.AdminService/Shutdown", "", false},
      {"/grpc.health.v1.Health/Check", "", true},
      {"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", "", false},
  };
  for (const Case& c : cases) {
    absl::Status s = CheckToken(c.method, c.authorization, "s3cret", options);
    EXPECT_EQ(s.ok(), c.ok) << c.method << " " << c.authorization;
    if (!s.ok()) {
      EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
      EXPECT_EQ(s.message().rfind("[18 AuthenticationFailed] ", 0), 0u) << s.message();
    }
  }
  options.exempt_health = false;
  options.exempt_reflection = true;
  EXPECT_FALSE(CheckToken("/grpc.health.v1.Health/Check", "", "s3cret", options).ok());
  EXPECT_TRUE(CheckToken("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", "",
                         "s3cret", options).ok());
}

class ListenerSecurityFilesTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mm-security-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(ListenerSecurityFilesTest, ReadTokenFile) {
  auto t = ReadTokenFile(Write("a", "abc-DEF_123\n"));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t, "abc-DEF_123");
  EXPECT_EQ(*ReadTokenFile(Write("b", "xyz\r\n  \t")), "xyz");
  EXPECT_FALSE(ReadTokenFile(Write("c", "\n\n")).ok());
  EXPECT_FALSE(ReadTokenFile(Write("d", "two words")).ok());
  EXPECT_FALSE(ReadTokenFile(Write("e", "caf\xc3\xa9")).ok());
  auto missing = ReadTokenFile((dir_ / "none").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("none"), std::string::npos);
}

TEST_F(ListenerSecurityFilesTest, ListenerRules) {
  SecurityOptions plain;
  // Loopback and unix listeners need nothing; a wildcard needs TLS or --insecure.
  EXPECT_TRUE(ListenerCredentials({"127.0.0.1:0", "unix:/tmp/x.sock"}, plain).ok());
  auto refused = ListenerCredentials({"127.0.0.1:0", "0.0.0.0:50051"}, plain);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("0.0.0.0:50051"), std::string::npos);
  EXPECT_NE(refused.status().message().find("--insecure"), std::string::npos);
  SecurityOptions insecure;
  insecure.insecure = true;
  auto creds = ListenerCredentials({"0.0.0.0:50051", "unix:/tmp/x.sock"}, insecure);
  ASSERT_TRUE(creds.ok());
  EXPECT_EQ(creds->size(), 2u);

  SecurityOptions half;
  half.tls_cert_file = Write("cert.pem", "-----BEGIN CERTIFICATE-----\n");
  EXPECT_FALSE(ListenerCredentials({"127.0.0.1:0"}, half).ok());
  SecurityOptions ca_only;
  ca_only.tls_client_ca_file = half.tls_cert_file;
  EXPECT_FALSE(ListenerCredentials({"127.0.0.1:0"}, ca_only).ok());
  SecurityOptions not_pem;
  not_pem.tls_cert_file = Write("c2.pem", "hello");
  not_pem.tls_key_file = Write("k2.pem", "hello");
  EXPECT_FALSE(ListenerCredentials({"0.0.0.0:1"}, not_pem).ok());
  SecurityOptions unreadable;
  unreadable.tls_cert_file = (dir_ / "missing.pem").string();
  unreadable.tls_key_file = (dir_ / "missing.key").string();
  auto s = ListenerCredentials({"0.0.0.0:1"}, unreadable);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("missing.pem"), std::string::npos);
  SecurityOptions bad_token;
  bad_token.auth_token_file = Write("empty", "");
  EXPECT_FALSE(ListenerCredentials({"127.0.0.1:0"}, bad_token).ok());
}

}  // namespace
}  // namespace micromongo::service

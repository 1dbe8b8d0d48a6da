#include "wire/scram.h"

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "document/status.h"

namespace micromongo::wire {
namespace {

// RFC 7677 section 3: the SCRAM-SHA-256 exchange of user "user" with password "pencil".
constexpr std::string_view kClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view kServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view kServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view kClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view kServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

ScramCredentials Rfc7677Credentials(std::string_view password = "pencil") {
  std::string salt;
  EXPECT_TRUE(absl::Base64Unescape("W22ZaJ0SNY7soEsUEjb6gQ==", &salt));
  auto c = ScramCredentials::Derive(password, salt, 4096);
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

TEST(ScramTest, Rfc7677Exchange) {
  ScramCredentials credentials = Rfc7677Credentials();
  ScramConversation conversation("user", &credentials, std::string(kServerNonce));
  auto server_first = conversation.Start(kClientFirst);
  ASSERT_TRUE(server_first.ok()) << server_first.status();
  EXPECT_EQ(*server_first, kServerFirst);
  auto server_final = conversation.Finish(kClientFinal);
  ASSERT_TRUE(server_final.ok()) << conversation.failure_reason();
  EXPECT_EQ(*server_final, kServerFinal);
  EXPECT_EQ(conversation.client_user(), "user");
}

TEST(ScramTest, RandomSaltAndNonceAreFreshAndWellFormed) {
  auto a = ScramCredentials::Derive("pencil");
  auto b = ScramCredentials::Derive("pencil");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->salt.size(), 28u);
  EXPECT_NE(a->salt, b->salt);
  EXPECT_NE(a->stored_key, b->stored_key);
  EXPECT_EQ(a->iterations, 15000);
  ScramConversation conversation("user", &*a);
  auto first = conversation.Start(kClientFirst);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->rfind("r=rOprNGfwEbeRWgbNEkqO", 0), 0u);
  EXPECT_EQ(first->find(',', 2), 2 + 20 + 32);  // client nonce + 24 random bytes in base64
}

// Every failure answers the same 18 "Authentication failed." (no hint for a guesser); the
// reason is only for the log.
TEST(ScramTest, FailuresAreAuthenticationFailed) {
  ScramCredentials credentials = Rfc7677Credentials();
  ScramCredentials wrong_password = Rfc7677Credentials("pencil2");
  struct Case {
    const char* name;
    std::string user;
    const ScramCredentials* credentials;
    std::string client_first;
    std::string client_final;
  };
  std::string final_ok(kClientFinal);
  std::string tampered = final_ok;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  const Case cases[] = {
      {"wrong password", "user", &wrong_password, std::string(kClientFirst), final_ok},
      {"unknown user", "other", &credentials, std::string(kClientFirst), final_ok},
      {"tampered proof", "user", &credentials, std::string(kClientFirst), tampered},
      {"channel binding asked", "user", &credentials, "p=tls-unique,,n=user,r=abc", final_ok},
      {"authorization identity", "user", &credentials, "n,a=admin,n=user,r=abc", final_ok},
      {"no nonce", "user", &credentials, "n,,n=user", final_ok},
      {"bad name escape", "user", &credentials, "n,,n=us=er,r=abc", final_ok},
      {"garbage", "user", &credentials, "hello", final_ok},
      {"other nonce", "user", &credentials, std::string(kClientFirst),
       "c=biws,r=rOprNGfwEbeRWgbNEkqOother,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="},
      {"other binding", "user", &credentials, std::string(kClientFirst),
       "c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
       "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="},
      {"short proof", "user", &credentials, std::string(kClientFirst),
       "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=AAAA"},
      {"no proof", "user", &credentials, std::string(kClientFirst),
       "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"},
  };
  for (const Case& c : cases) {
    ScramConversation conversation(c.user, c.credentials, std::string(kServerNonce));
    absl::Status failed;
    auto first = conversation.Start(c.client_first);
    if (first.ok()) {
      auto final_message = conversation.Finish(c.client_final);
      failed = final_message.status();
    } else {
      failed = first.status();
    }
    EXPECT_EQ(MongoCodeOf(failed), kAuthenticationFailed) << c.name;
    EXPECT_EQ(failed.message(), "Authentication failed.") << c.name;
    EXPECT_FALSE(conversation.failure_reason().empty()) << c.name;
  }
}

TEST(ScramTest, StepsOutOfOrderFail) {
  ScramCredentials credentials = Rfc7677Credentials();
  ScramConversation early("user", &credentials, std::string(kServerNonce));
  EXPECT_EQ(MongoCodeOf(early.Finish(kClientFinal).status()), kAuthenticationFailed);
  ScramConversation twice("user", &credentials, std::string(kServerNonce));
  ASSERT_TRUE(twice.Start(kClientFirst).ok());
  EXPECT_EQ(MongoCodeOf(twice.Start(kClientFirst).status()), kAuthenticationFailed);
  // A failed conversation stays failed, even if the right final message follows.
  EXPECT_EQ(MongoCodeOf(twice.Finish(kClientFinal).status()), kAuthenticationFailed);
}

TEST(ScramTest, UserNameEscapesAndSaslPrep) {
  // "=2C" and "=3D" are ',' and '=' in SCRAM user names.
  auto credentials = ScramCredentials::Derive("pencil", "salt", 4096);
  ASSERT_TRUE(credentials.ok());
  ScramConversation conversation("a,b=c", &*credentials);
  ASSERT_TRUE(conversation.Start("n,,n=a=2Cb=3Dc,r=abc").ok()) << conversation.failure_reason();
  EXPECT_EQ(conversation.client_user(), "a,b=c");
  // RFC 4013: SASLprep maps a non-ASCII space to ' ' and removes a soft hyphen, so these
  // passwords derive the same keys as their plain forms; prohibited characters fail.
  auto plain = ScramCredentials::Derive("I X", "salt", 4096);
  auto mapped = ScramCredentials::Derive("I\u00A0X", "salt", 4096);
  auto hyphen = ScramCredentials::Derive("I\u00ADX", "salt", 4096);
  auto ix = ScramCredentials::Derive("IX", "salt", 4096);
  ASSERT_TRUE(plain.ok() && mapped.ok() && hyphen.ok() && ix.ok());
  EXPECT_EQ(plain->stored_key, mapped->stored_key);
  EXPECT_EQ(ix->stored_key, hyphen->stored_key);
  EXPECT_FALSE(ScramCredentials::Derive("a\u0007b", "salt", 4096).ok());
}

}  // namespace
}  // namespace micromongo::wire

#include "wire/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <unicode/usprep.h>
#include <unicode/ustring.h>

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "document/status.h"

namespace micromongo::wire {
namespace {

constexpr size_t kKeyBytes = SHA256_DIGEST_LENGTH;
constexpr size_t kSaltBytes = 28;
constexpr size_t kNonceBytes = 24;

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

// RFC 4013 SASLprep through ICU's StringPrep profile. Printable ASCII maps to itself, so
// the common case skips ICU.
absl::StatusOr<std::string> SaslPrep(std::string_view password) {
  bool ascii = true;
  for (char c : password) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) ascii = false;
  }
  if (ascii) return std::string(password);
  UErrorCode status = U_ZERO_ERROR;
  int32_t len16 = 0;
  u_strFromUTF8(nullptr, 0, &len16, password.data(), static_cast<int32_t>(password.size()), &status);
  if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status)) {
    return MongoError(kBadValue, "the password is not valid UTF-8");
  }
  status = U_ZERO_ERROR;
  std::vector<UChar> in(static_cast<size_t>(len16) + 1);
  u_strFromUTF8(in.data(), len16 + 1, nullptr, password.data(), static_cast<int32_t>(password.size()), &status);
  if (U_FAILURE(status)) return MongoError(kBadValue, "the password is not valid UTF-8");
  UStringPrepProfile* profile = usprep_openByType(USPREP_RFC4013_SASLPREP, &status);
  if (U_FAILURE(status)) return MongoError(kInternalError, "ICU has no SASLprep profile");
  std::vector<UChar> out(in.size() * 4 + 16);
  int32_t out_len = usprep_prepare(profile, in.data(), len16, out.data(), static_cast<int32_t>(out.size()),
                                   USPREP_DEFAULT, nullptr, &status);
  usprep_close(profile);
  if (U_FAILURE(status)) {
    return MongoError(kBadValue, "the password has characters SASLprep (RFC 4013) prohibits");
  }
  int32_t len8 = 0;
  status = U_ZERO_ERROR;
  std::string utf8(static_cast<size_t>(out_len) * 3 + 1, '\0');
  u_strToUTF8(utf8.data(), static_cast<int32_t>(utf8.size()), &len8, out.data(), out_len, &status);
  if (U_FAILURE(status)) return MongoError(kInternalError, "SASLprep output is not convertible");
  utf8.resize(static_cast<size_t>(len8));
  return utf8;
}

// The value of attribute `name` ("n=value") at the front of `part`; false if absent.
bool Attribute(std::string_view part, char name, std::string_view* value) {
  if (part.size() < 2 || part[0] != name || part[1] != '=') return false;
  *value = part.substr(2);
  return true;
}

std::vector<std::string_view> SplitCommas(std::string_view text) {
  std::vector<std::string_view> parts;
  for (absl::string_view part : absl::StrSplit(absl::string_view(text.data(), text.size()), ',')) {
    parts.emplace_back(part.data(), part.size());
  }
  return parts;
}

// A SCRAM saslname: "=2C" is ',' and "=3D" is '='; any other '=' is malformed.
bool DecodeSaslName(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '=') {
      out->push_back(in[i]);
    } else if (in.substr(i, 3) == "=2C") {
      out->push_back(',');
      i += 2;
    } else if (in.substr(i, 3) == "=3D") {
      out->push_back('=');
      i += 2;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    // OpenSSL's generator failing to seed is not something to run on: a predictable salt
    // or nonce would weaken every authentication.
    std::abort();
  }
  return out;
}

std::string Sha256(std::string_view data) {
  unsigned char out[kKeyBytes];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<char*>(out), kKeyBytes);
}

absl::StatusOr<ScramCredentials> ScramCredentials::Derive(std::string_view password, std::string salt,
                                                         int iterations) {
  auto prepared = SaslPrep(password);
  if (!prepared.ok()) return prepared.status();
  ScramCredentials c;
  c.salt = salt.empty() ? RandomBytes(kSaltBytes) : std::move(salt);
  c.iterations = iterations;
  unsigned char salted[kKeyBytes];
  if (PKCS5_PBKDF2_HMAC(prepared->data(), static_cast<int>(prepared->size()),
                        reinterpret_cast<const unsigned char*>(c.salt.data()), static_cast<int>(c.salt.size()),
                        iterations, EVP_sha256(), kKeyBytes, salted) != 1) {
    return MongoError(kInternalError, "PBKDF2 failed");
  }
  std::string salted_password(reinterpret_cast<char*>(salted), kKeyBytes);
  OPENSSL_cleanse(salted, sizeof salted);
  c.stored_key = Sha256(Hmac(salted_password, "Client Key"));
  c.server_key = Hmac(salted_password, "Server Key");
  OPENSSL_cleanse(salted_password.data(), salted_password.size());
  return c;
}

ScramConversation::ScramConversation(std::string user, const ScramCredentials* credentials,
                                     std::string server_nonce)
    : user_(std::move(user)),
      credentials_(credentials),
      server_nonce_(server_nonce.empty() ? absl::Base64Escape(RandomBytes(kNonceBytes))
                                         : std::move(server_nonce)) {}

absl::Status ScramConversation::Fail(std::string reason) {
  step_ = Step::kFailed;
  failure_reason_ = std::move(reason);
  return MongoError(kAuthenticationFailed, "Authentication failed.");
}

absl::StatusOr<std::string> ScramConversation::Start(std::string_view client_first) {
  if (step_ != Step::kStart) return Fail("saslStart twice in one conversation");
  // gs2-header: a channel binding flag and an optional authorization identity.
  // "p=..." asks for channel binding, which this server does not offer.
  size_t first = client_first.find(',');
  size_t second = first == std::string_view::npos ? first : client_first.find(',', first + 1);
  if (second == std::string_view::npos) return Fail("malformed SCRAM client-first message");
  std::string_view flag = client_first.substr(0, first);
  if (flag != "n" && flag != "y") return Fail("SCRAM channel binding is not supported");
  std::string_view authzid = client_first.substr(first + 1, second - first - 1);
  if (!authzid.empty()) return Fail("SCRAM authorization identities are not supported");
  gs2_header_ = std::string(client_first.substr(0, second + 1));
  client_first_bare_ = std::string(client_first.substr(second + 1));
  std::vector<std::string_view> parts = SplitCommas(client_first_bare_);
  std::string_view name, client_nonce;
  // RFC 5802: "m=" is reserved for mandatory extensions, which no server understands.
  if (parts.size() < 2 || !Attribute(parts[0], 'n', &name) || !Attribute(parts[1], 'r', &client_nonce) ||
      client_nonce.empty()) {
    return Fail("malformed SCRAM client-first message");
  }
  if (!DecodeSaslName(name, &client_user_)) return Fail("malformed SCRAM user name");
  if (client_user_ != user_ || credentials_ == nullptr) return Fail(StrCat("no user named ", client_user_));
  nonce_ = StrCat(client_nonce, server_nonce_);
  server_first_ = StrCat("r=", nonce_, ",s=", absl::Base64Escape(credentials_->salt), ",i=",
                         credentials_->iterations);
  step_ = Step::kFinish;
  return server_first_;
}

absl::StatusOr<std::string> ScramConversation::Finish(std::string_view client_final) {
  if (step_ != Step::kFinish) return Fail("SCRAM client-final message out of order");
  size_t proof_at = client_final.rfind(",p=");
  if (proof_at == std::string_view::npos) return Fail("SCRAM client-final message without a proof");
  std::string_view without_proof = client_final.substr(0, proof_at);
  std::vector<std::string_view> parts = SplitCommas(without_proof);
  std::string_view binding, nonce;
  if (parts.size() < 2 || !Attribute(parts[0], 'c', &binding) || !Attribute(parts[1], 'r', &nonce)) {
    return Fail("malformed SCRAM client-final message");
  }
  if (binding != absl::Base64Escape(gs2_header_)) return Fail("SCRAM channel binding data differs");
  if (nonce != nonce_) return Fail("SCRAM nonce differs");
  std::string proof;
  std::string_view encoded = client_final.substr(proof_at + 3);
  if (!absl::Base64Unescape(absl::string_view(encoded.data(), encoded.size()), &proof) ||
      proof.size() != kKeyBytes) {
    return Fail("malformed SCRAM client proof");
  }
  std::string auth_message = StrCat(client_first_bare_, ",", server_first_, ",", without_proof);
  std::string client_signature = Hmac(credentials_->stored_key, auth_message);
  std::string client_key(kKeyBytes, '\0');
  for (size_t i = 0; i < kKeyBytes; ++i) client_key[i] = static_cast<char>(proof[i] ^ client_signature[i]);
  std::string stored = Sha256(client_key);
  if (CRYPTO_memcmp(stored.data(), credentials_->stored_key.data(), kKeyBytes) != 0) {
    return Fail("wrong password");
  }
  step_ = Step::kDone;
  return StrCat("v=", absl::Base64Escape(Hmac(credentials_->server_key, auth_message)));
}

}  // namespace micromongo::wire

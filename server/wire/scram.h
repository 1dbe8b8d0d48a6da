#pragma once

// The server side of SCRAM-SHA-256 (RFC 5802 and RFC 7677), the mechanism MongoDB's drivers
// and shells authenticate with by default. The server keeps only the derived keys (StoredKey
// and ServerKey), never the password; a conversation checks the client's proof and proves
// the server's knowledge of the keys in return.

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace micromongo::wire {

// SHA-256 of `data` (32 bytes): SCRAM's H(), and a session's uid (the hash of its user).
std::string Sha256(std::string_view data);
// `n` bytes from OpenSSL's generator (salts, nonces, session ids). Aborts if it cannot
// seed: predictable values would weaken authentication.
std::string RandomBytes(size_t n);

// What the server stores for one user (MongoDB's SCRAM-SHA-256 credentials document).
struct ScramCredentials {
  std::string salt;  // raw bytes
  int iterations = 0;
  std::string stored_key;  // H(ClientKey)
  std::string server_key;  // HMAC(SaltedPassword, "Server Key")

  // Derives the keys from a password (SASLprep-ed as RFC 7677 requires; a password that
  // SASLprep rejects is an error). `salt` empty: 28 random bytes, MongoDB's salt length.
  // MongoDB's default iteration count is 15000.
  static absl::StatusOr<ScramCredentials> Derive(std::string_view password, std::string salt = "",
                                                 int iterations = 15000);
};

// One authentication conversation: Start with the client-first message, Finish with the
// client-final message. Errors are 18 AuthenticationFailed with MongoDB's message (the
// reason is for the server log, never for the client: the message is always the same).
class ScramConversation {
 public:
  // `user` is the one user that exists; `credentials` must outlive the conversation.
  // `server_nonce` empty: 24 random bytes, base64-encoded (tests pass RFC 7677's).
  ScramConversation(std::string user, const ScramCredentials* credentials,
                    std::string server_nonce = "");

  // client-first-message ("n,,n=user,r=nonce") → server-first-message ("r=...,s=...,i=...").
  absl::StatusOr<std::string> Start(std::string_view client_first);
  // client-final-message ("c=biws,r=...,p=proof") → server-final-message ("v=signature").
  // Success means the client proved it knows the password.
  absl::StatusOr<std::string> Finish(std::string_view client_final);

  // The user name the client gave (SCRAM's "=2C"/"=3D" escapes undone), once Start ran.
  const std::string& client_user() const { return client_user_; }
  // Why the last step failed, for the server log (never sent to the client).
  const std::string& failure_reason() const { return failure_reason_; }

 private:
  absl::Status Fail(std::string reason);

  std::string user_;
  const ScramCredentials* credentials_;
  std::string server_nonce_;
  std::string client_user_;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string server_first_;
  std::string nonce_;  // client nonce + server nonce
  enum class Step { kStart, kFinish, kDone, kFailed } step_ = Step::kStart;
  std::string failure_reason_;
};

}  // namespace micromongo::wire

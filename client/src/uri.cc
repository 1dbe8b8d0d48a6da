#include "uri.h"

#include <strings.h>

#include "document/status.h"
#include "micromongo/error.h"

namespace micromongo::internal {
namespace {

[[noreturn]] void Bad(std::string_view uri, std::string_view why) {
  throw Error(kInvalidOptions, ErrorCodeName(kInvalidOptions),
              StrCat("invalid MongoDB URI '", uri, "': ", why));
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Option values are percent-encoded (a path's slashes may be %2F).
std::string PercentDecode(std::string_view uri, std::string_view value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      out += value[i];
      continue;
    }
    if (i + 2 >= value.size() || HexDigit(value[i + 1]) < 0 || HexDigit(value[i + 2]) < 0) {
      Bad(uri, "bad percent-encoding in an option value");
    }
    out += static_cast<char>(HexDigit(value[i + 1]) * 16 + HexDigit(value[i + 2]));
    i += 2;
  }
  return out;
}

}  // namespace

ParsedUri ParseUri(std::string_view uri) {
  constexpr std::string_view kScheme = "mongodb://";
  if (uri.substr(0, kScheme.size()) != kScheme) Bad(uri, "must start with mongodb://");
  std::string_view rest = uri.substr(kScheme.size());
  size_t slash = rest.find('/');
  size_t question = rest.find('?');
  std::string_view hosts = rest.substr(0, std::min(slash, question));
  std::string_view path, query;
  if (slash != std::string_view::npos && (question == std::string_view::npos || slash < question)) {
    path = rest.substr(slash + 1, question == std::string_view::npos ? rest.npos : question - slash - 1);
  }
  if (question != std::string_view::npos) query = rest.substr(question + 1);

  // user:pass@ is accepted and ignored: the worker knows no users (tokens: authToken).
  if (size_t at = hosts.rfind('@'); at != std::string_view::npos) hosts = hosts.substr(at + 1);
  std::string_view first = hosts.substr(0, hosts.find(','));
  if (first.empty()) Bad(uri, "no host");
  ParsedUri out;
  size_t colon = first.rfind(':');
  if (colon != std::string_view::npos && first.find(']') == std::string_view::npos) {
    out.host = std::string(first.substr(0, colon));
    std::string_view port = first.substr(colon + 1);
    if (port.empty() || port.size() > 5) Bad(uri, "bad port");
    for (char c : port) {
      if (c < '0' || c > '9') Bad(uri, "bad port");
    }
    out.port = std::stoi(std::string(port));
    if (out.port == 0 || out.port > 65535) Bad(uri, "port out of range");
  } else {
    out.host = std::string(first);
  }
  out.database = path.empty() ? "test" : std::string(path);

  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) Bad(uri, StrCat("option '", pair, "' has no value"));
    std::string_view key = pair.substr(0, eq);
    std::string decoded = PercentDecode(uri, pair.substr(eq + 1));
    std::string_view value = decoded;
    // Option names are case-insensitive in MongoDB's connection strings.
    auto is = [&](std::string_view name) {
      return key.size() == name.size() && strncasecmp(key.data(), name.data(), key.size()) == 0;
    };
    if (is("tls") || is("ssl")) {
      if (value != "true" && value != "false") Bad(uri, StrCat(key, " must be true or false"));
      out.tls = value == "true";
    } else if (is("tlsCAFile")) {
      out.tls_ca_file = value;
    } else if (is("tlsCertificateKeyFile")) {
      out.tls_certificate_key_file = value;
    } else if (is("authToken")) {
      out.auth_token = value;
    } else if (is("authTokenFile")) {
      out.auth_token_file = value;
    } else if (is("useWorker") || is("mongodbListener")) {
      if (value != "true" && value != "false") Bad(uri, StrCat(key, " must be true or false"));
      if (is("useWorker")) {
        out.use_worker = value == "true";
      } else {
        out.mongodb_listener = value == "true";
      }
    }
    // Other options (w, readPreference, ...) have no meaning for an embedded worker.
  }
  return out;
}

}  // namespace micromongo::internal

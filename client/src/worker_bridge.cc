#include <cctype>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <absl/synchronization/mutex.h>
#include <grpcpp/support/client_interceptor.h>

#include "bridge_impl.h"
#include "document/bson_view.h"
#include "document/builder.h"
#include "document/status.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "micromongo/error.h"

namespace micromongo {
namespace {

[[noreturn]] void WorkerFail(const std::string& message) {
  throw WorkerError(kHostUnreachable, ErrorCodeName(kHostUnreachable), message);
}

// Adds "authorization: Bearer <token>" to every call of a channel. An interceptor rather
// than call credentials: gRPC sends call credentials only over TLS, and a token also
// protects plaintext loopback listeners.
class TokenInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit TokenInterceptor(const std::string* header) : header_(header) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace("authorization", *header_);
    }
    methods->Proceed();
  }

 private:
  const std::string* header_;
};

class TokenInterceptorFactory : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit TokenInterceptorFactory(std::string token) : header_("Bearer " + token) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* /*info*/) override {
    return new TokenInterceptor(&header_);
  }

 private:
  std::string header_;  // lives as long as the channel, which owns the factory
};

std::string ReadPem(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(kInvalidOptions, ErrorCodeName(kInvalidOptions),
                StrCat("cannot read ", what, " ", path));
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::shared_ptr<grpc::ChannelCredentials> CredentialsFor(const ConnectOptions& options,
                                                         grpc::ChannelArguments* args) {
  bool tls = options.tls || !options.tls_ca_file.empty() ||
             !options.tls_certificate_key_file.empty();
  if (!tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  if (!options.tls_ca_file.empty()) ssl.pem_root_certs = ReadPem(options.tls_ca_file, "the CA file");
  if (!options.tls_certificate_key_file.empty()) {
    // MongoDB's tlsCertificateKeyFile: certificate chain and key in one PEM file; gRPC
    // takes the whole file for both and picks the blocks it needs.
    std::string pem = ReadPem(options.tls_certificate_key_file, "the certificate key file");
    ssl.pem_cert_chain = pem;
    ssl.pem_private_key = pem;
  }
  if (!options.tls_server_name.empty()) {
    args->SetSslTargetNameOverride(options.tls_server_name);
  }
  return grpc::SslCredentials(ssl);
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const ConnectOptions& options) {
  // Debian builds Abseil without NDEBUG, which turns on the deadlock detector of every
  // absl::Mutex, gRPC's included: a lock-order graph updated on each lock, a cost on every
  // call (the worker turns it off too). Abseil's release builds have it off; this makes the
  // client's process match them, once, at its first channel.
  static std::once_flag deadlock_detection_off;
  std::call_once(deadlock_detection_off, [] {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  });
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  // Reconnect quickly: a spawned worker is on the same machine and starts in milliseconds.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 20);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 20);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Every bridge gets its own connection, even to the same address.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // Channelz keeps per-call statistics that nothing here reads.
  args.SetInt(GRPC_ARG_ENABLE_CHANNELZ, 0);
  std::shared_ptr<grpc::ChannelCredentials> credentials = CredentialsFor(options, &args);
  if (options.auth_token.empty()) return grpc::CreateCustomChannel(address, credentials, args);
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> factories;
  factories.push_back(std::make_unique<TokenInterceptorFactory>(options.auth_token));
  return grpc::experimental::CreateCustomChannelWithInterceptors(address, credentials, args,
                                                                 std::move(factories));
}

}  // namespace

namespace internal {

void ThrowMongo(int code, const std::string& code_name, const std::string& message,
                Document details, const std::vector<std::string>& labels) {
  std::string name = code_name.empty() ? ErrorCodeName(code) : code_name;
  auto labelled = [&](auto error) {
    for (const std::string& label : labels) error.AddErrorLabel(label);
    return error;
  };
  if (code == kDuplicateKey) throw labelled(DuplicateKeyError(code, name, message, std::move(details)));
  if (code == kHostUnreachable) throw labelled(WorkerError(code, name, message));
  throw labelled(Error(code, name, message, std::move(details)));
}

Document DetailsOf(const std::string& bson) {
  if (bson.empty() || !bson::Validate(bson).ok()) return Document();
  return bson::Decode(bson::DocView(bson));
}

}  // namespace internal

WorkerBridge::Impl::Impl(std::string address, std::unique_ptr<internal::WorkerProcess> process,
                         const ConnectOptions& connect)
    : address_(std::move(address)), connect_(connect), process_(std::move(process)) {
  auto connection = std::make_shared<Connection>();
  connection->channel = MakeChannel(address_, connect_);
  connection->data = v1::DataService::NewStub(connection->channel);
  connection->admin = v1::AdminService::NewStub(connection->channel);
  connection_ = std::move(connection);
}

std::shared_ptr<const WorkerBridge::Impl::Connection> WorkerBridge::Impl::Acquire() {
  std::lock_guard<std::mutex> l(mu_);
  if (connection_ == nullptr) WorkerFail("the worker bridge was terminated");
  return connection_;
}

void WorkerBridge::Impl::ThrowFor(const grpc::Status& status) {
  v1::ErrorInfo info;
  if (!status.error_details().empty() && info.ParseFromString(status.error_details()) &&
      info.code() != 0) {
    // The server's message repeats the code for manual callers; the exception keeps it bare.
    internal::ThrowMongo(info.code(), info.code_name(), info.message(),
                         internal::DetailsOf(info.details()),
                         std::vector<std::string>(info.error_labels().begin(), info.error_labels().end()));
  }
  if (terminated_.load()) WorkerFail("the worker bridge was terminated");
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    // The server's token check runs before any handler, so its status carries no
    // ErrorInfo; its message starts with "[18 AuthenticationFailed] " for manual callers.
    std::string message = status.error_message();
    constexpr std::string_view kPrefix = "[18 AuthenticationFailed] ";
    if (message.rfind(kPrefix, 0) == 0) message.erase(0, kPrefix.size());
    internal::ThrowMongo(kAuthenticationFailed, "", message);
  }
  if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
      status.error_message().find("larger than max") != std::string::npos) {
    // A request (or reply) past the message limit of the client or the server
    // (--max-message-bytes): MongoDB answers a command document that is too large with
    // BSONObjectTooLarge.
    internal::ThrowMongo(kBSONObjectTooLarge, "",
                         StrCat("the message is too large: ", status.error_message()));
  }
  if (process_ != nullptr && status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    // A dropped connection usually means the worker is dying: a killed multi-threaded
    // process can take a moment before it can be reaped. Wait briefly to say which.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1000);
    while (process_->Running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  if (process_ != nullptr && !process_->Running()) {
    WorkerFail(StrCat("worker died: micromongo-server (pid ", process_->pid(), ") ",
                      process_->ExitDescription()));
  }
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
      status.error_code() == grpc::StatusCode::CANCELLED) {
    WorkerFail(StrCat("worker unreachable at ", address_, ": ", status.error_message()));
  }
  internal::ThrowMongo(kInternalError, "", StrCat("RPC failed: ", status.error_message()));
}

bool WorkerBridge::Impl::HealthCheck(std::chrono::milliseconds timeout) {
  return CheckHealth(timeout).ok();
}

grpc::Status WorkerBridge::Impl::CheckHealth(std::chrono::milliseconds timeout) {
  std::shared_ptr<const Connection> connection;
  {
    std::lock_guard<std::mutex> l(mu_);
    connection = connection_;
  }
  if (connection == nullptr) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "terminated");
  auto stub = grpc::health::v1::Health::NewStub(connection->channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  context.set_wait_for_ready(true);
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status s = stub->Check(&context, request, &response);
  if (s.ok() && response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is not serving");
  }
  return s;
}

void WorkerBridge::Impl::WaitUntilServing(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (process_ != nullptr && !process_->Running()) {
      std::string log = process_->LogTail();
      std::string why = StrCat("micromongo-server (", process_->server_path(), ") ",
                               process_->ExitDescription(), " during startup",
                               log.empty() ? "" : ": ", log);
      process_->Stop(std::chrono::milliseconds(0));
      WorkerFail(why);
    }
    if (HealthCheck(std::chrono::milliseconds(100))) return;
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string log = process_ != nullptr ? process_->LogTail() : "";
      if (process_ != nullptr) process_->Stop(std::chrono::milliseconds(0));
      WorkerFail(StrCat("worker at ", address_, " did not report SERVING within ",
                        timeout.count(), " ms", log.empty() ? "" : ": ", log));
    }
  }
}

void WorkerBridge::Impl::Terminate() {
  std::lock_guard<std::mutex> l(terminate_mu_);
  if (terminated_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    connection_.reset();
  }
  if (process_ != nullptr) process_->Stop(std::chrono::milliseconds(5000));
}

bool WorkerBridge::Impl::IsAlive() {
  if (terminated_.load()) return false;
  if (process_ != nullptr) return process_->Running();
  return HealthCheck(std::chrono::milliseconds(1000));
}

// ---- WorkerBridge -------------------------------------------------------------------------

WorkerBridge::WorkerBridge(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WorkerBridge::~WorkerBridge() { impl_->Terminate(); }

std::shared_ptr<WorkerBridge> WorkerBridge::Create(const WorkerOptions& options) {
  auto process = internal::WorkerProcess::Spawn(options);
  std::string address = process->address();
  auto impl = std::make_unique<Impl>(address, std::move(process));
  impl->WaitUntilServing(options.startup_timeout);
  return std::shared_ptr<WorkerBridge>(new WorkerBridge(std::move(impl)));
}

std::shared_ptr<WorkerBridge> WorkerBridge::Connect(const std::string& address,
                                                    std::chrono::milliseconds timeout) {
  return Connect(address, ConnectOptions{.timeout = timeout});
}

std::shared_ptr<WorkerBridge> WorkerBridge::Connect(const std::string& address,
                                                    const ConnectOptions& options) {
  auto impl = std::make_unique<Impl>(address, nullptr, options);
  grpc::Status status = impl->CheckHealth(options.timeout);
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    impl->ThrowForStatus(status);  // the server checks the token on health checks too
  }
  if (!status.ok()) {
    WorkerFail(StrCat("no micromongo server answers at ", address, ": ", status.error_message()));
  }
  return std::shared_ptr<WorkerBridge>(new WorkerBridge(std::move(impl)));
}

void WorkerBridge::Terminate() { impl_->Terminate(); }
bool WorkerBridge::IsAlive() const { return impl_->IsAlive(); }
int WorkerBridge::pid() const {
  return impl_->process() != nullptr ? impl_->process()->pid() : 0;
}
bool WorkerBridge::owns_worker() const { return impl_->process() != nullptr; }
const std::string& WorkerBridge::address() const { return impl_->address(); }

const std::string& WorkerBridge::mongodb_socket_path() const {
  static const std::string kNone;
  internal::WorkerProcess* process = impl_->process();
  return process == nullptr ? kNone : process->mongodb_socket_path();
}

std::string WorkerBridge::mongodb_uri() const {
  const std::string& path = mongodb_socket_path();
  if (path.empty()) return "";
  // A unix socket in a MongoDB connection string is its percent-encoded path.
  std::string uri = "mongodb://";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      uri.push_back(static_cast<char>(c));
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      uri += hex;
    }
  }
  return uri + "/?directConnection=true";
}

}  // namespace micromongo

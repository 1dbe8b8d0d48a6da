// TLS, mutual TLS and token authentication of TCP listeners, and the loopback rule,
// against real servers started by hand (as an operator would), through the public API.

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include "bench/wire_client.h"
#include "micromongo/change_stream.h"
#include "test_util.h"

namespace micromongo {
namespace {

using testing::ErrorCodeOf;
using testing::TempDir;

int RunShell(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// A certificate authority, a server certificate for localhost and 127.0.0.1 signed by it, a
// client certificate signed by it, and an unrelated self-signed CA: made with openssl.
struct Pki {
  explicit Pki(const TempDir& dir) : dir(dir.Sub("pki")) {
    std::filesystem::create_directories(this->dir);
    std::string d = this->dir;
    std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    std::string sh =
        "cd " + d + " && exec > openssl.log 2>&1 && set -e\n"
        "openssl req -x509 " + key + " -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca\n"
        "openssl req -x509 " + key + " -keyout other.key -out other.pem -days 2 -subj /CN=other\n"
        "openssl req " + key + " -keyout server.key -out server.csr -subj /CN=localhost\n"
        "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > server.ext\n"
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out server.pem -days 2 -extfile server.ext\n"
        "openssl req " + key + " -keyout client.key -out client.csr -subj /CN=app\n"
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out client.pem -days 2\n"
        "cat client.pem client.key > client-both.pem\n";
    std::ofstream(d + "/make.sh") << sh;
    ok = RunShell("bash " + d + "/make.sh") == 0;
  }
  std::string File(const std::string& name) const { return dir + "/" + name; }
  std::string dir;
  bool ok = false;
};

// micromongo-server started by hand on 127.0.0.1:0 and a unix socket, with extra flags.
class Server {
 public:
  Server(const TempDir& dir, const std::string& flags, const std::string& listen = "127.0.0.1:0")
      : log_(dir.Sub("server-" + std::to_string(++count_) + ".log")),
        unix_(dir.Sub("s" + std::to_string(count_) + ".sock")) {
    std::string cmd = std::string(MM_SERVER) + " --data-dir " + dir.Sub("data" + std::to_string(count_)) +
                      " --log-format json --listen " + listen + " --listen unix:" + unix_ +
                      " " + flags + " 2> " + log_ + " & echo $!";
    FILE* p = popen(cmd.c_str(), "r");
    if (fscanf(p, "%d", &pid_) != 1) pid_ = 0;
    pclose(p);
    // Until it listens or exits.
    std::regex port_re("\"listen\": *\"127\\.0\\.0\\.1:([0-9]+)");
    for (int i = 0; i < 600; ++i) {
      std::string log = testing::ReadFileText(log_);
      std::smatch m;
      if (std::regex_search(log, m, port_re)) {
        port_ = std::stoi(m[1]);
        return;
      }
      if (!testing::ProcessRunning(pid_)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~Server() {
    if (pid_ > 0) kill(pid_, SIGTERM);
    testing::WaitGone(pid_, std::chrono::seconds(10));
    waitpid(pid_, nullptr, WNOHANG);
  }
  int port() const { return port_; }
  std::string tcp() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string localhost() const { return "localhost:" + std::to_string(port_); }
  std::string unix_address() const { return "unix:" + unix_; }
  std::string log() const { return testing::ReadFileText(log_); }
  bool running() const { return testing::ProcessRunning(pid_); }

 private:
  static inline int count_ = 0;
  std::string log_;
  std::string unix_;
  int pid_ = 0;
  int port_ = 0;
};

void InsertAndCount(const std::shared_ptr<WorkerBridge>& bridge) {
  MongoClient client("mongodb://localhost/sec", {.worker_bridge = bridge});
  auto coll = client.Db("sec")["items"];
  coll.InsertOne(Document{{"x", 1}});
  EXPECT_GE(coll.CountDocuments({}), 1);
}

TEST(SecurityTest, TokenGuardsTcpListenersButNotTheUnixSocket) {
  TempDir dir;
  std::ofstream(dir.Sub("token")) << "s3cret-Token_1\n";
  Server server(dir, "--auth-token-file " + dir.Sub("token"));
  ASSERT_GT(server.port(), 0) << server.log();
  EXPECT_NE(server.log().find("\"auth\": \"token\""), std::string::npos);

  // The health check is exempt by default: Connect succeeds, calls do not.
  auto anonymous = WorkerBridge::Connect(server.tcp());
  EXPECT_EQ(ErrorCodeOf([&] { InsertAndCount(anonymous); }), 18);
  try {
    InsertAndCount(anonymous);
  } catch (const Error& e) {
    EXPECT_EQ(e.code_name(), "AuthenticationFailed");
    EXPECT_NE(std::string(e.what()).find("Bearer"), std::string::npos) << e.what();
  }
  auto wrong = WorkerBridge::Connect(server.tcp(), ConnectOptions{.auth_token = "s3cret-Token_2"});
  EXPECT_EQ(ErrorCodeOf([&] { InsertAndCount(wrong); }), 18);
  auto prefix = WorkerBridge::Connect(server.tcp(), ConnectOptions{.auth_token = "s3cret-Token_"});
  EXPECT_EQ(ErrorCodeOf([&] { InsertAndCount(prefix); }), 18);

  auto good = WorkerBridge::Connect(server.tcp(), ConnectOptions{.auth_token = "s3cret-Token_1"});
  EXPECT_EQ(ErrorCodeOf([&] { InsertAndCount(good); }), 0);
  // The unix socket is private to the machine: no token.
  auto local = WorkerBridge::Connect(server.unix_address());
  EXPECT_EQ(ErrorCodeOf([&] { InsertAndCount(local); }), 0);

  // Through a URI: the token itself, or a file holding it.
  std::string base = "mongodb://127.0.0.1:" + std::to_string(server.port()) + "/sec";
  EXPECT_EQ(ErrorCodeOf([&] {
              MongoClient c(base + "?authToken=s3cret-Token_1");
              EXPECT_GE(c.Db("sec")["items"].CountDocuments({}), 2);
            }),
            0);
  EXPECT_EQ(ErrorCodeOf([&] {
              MongoClient c(base + "?authTokenFile=" + dir.Sub("token"));
              EXPECT_GE(c.Db("sec")["items"].CountDocuments({}), 2);
            }),
            0);
  EXPECT_EQ(ErrorCodeOf([&] {
              MongoClient c(base + "?authToken=nope");
              c.Db("sec")["items"].CountDocuments({});
            }),
            18);
  EXPECT_EQ(ErrorCodeOf([&] { MongoClient c(base + "?authTokenFile=" + dir.Sub("missing")); c.Db("sec")["items"].CountDocuments({}); }),
            72);
  EXPECT_TRUE(server.running());
}

TEST(SecurityTest, AuthExemptNoneProtectsTheHealthCheck) {
  TempDir dir;
  std::ofstream(dir.Sub("token")) << "tok\n";
  Server server(dir, "--auth-token-file " + dir.Sub("token") + " --auth-exempt none");
  ASSERT_GT(server.port(), 0) << server.log();
  EXPECT_EQ(ErrorCodeOf([&] { WorkerBridge::Connect(server.tcp()); }), 18);
  EXPECT_EQ(ErrorCodeOf([&] {
              InsertAndCount(WorkerBridge::Connect(server.tcp(), ConnectOptions{.auth_token = "tok"}));
            }),
            0);
  std::string probe = std::string(MM_SERVER) + " --health-check " + server.tcp();
  EXPECT_EQ(RunShell(probe + " 2> /dev/null"), 1);
  EXPECT_EQ(RunShell(probe + " --auth-token-file " + dir.Sub("token")), 0);
  EXPECT_EQ(RunShell(std::string(MM_SERVER) + " --health-check " + server.unix_address()), 0);
}

TEST(SecurityTest, NonLoopbackListenersNeedTlsOrInsecure) {
  TempDir dir;
  // Refused before anything is bound.
  Server server(dir, "", "0.0.0.0:0");
  EXPECT_EQ(server.port(), 0);
  EXPECT_FALSE(server.running());
  std::string log = server.log();
  EXPECT_NE(log.find("Cannot listen"), std::string::npos) << log;
  EXPECT_NE(log.find("--insecure"), std::string::npos) << log;
  Server half(dir, "--tls-cert " + dir.Sub("none.pem"));
  EXPECT_FALSE(half.running());
  EXPECT_NE(half.log().find("--tls-key"), std::string::npos) << half.log();
}

TEST(SecurityTest, TlsAndMutualTls) {
  TempDir dir;
  Pki pki(dir);
  ASSERT_TRUE(pki.ok) << testing::ReadFileText(pki.File("openssl.log"));
  Server server(dir, "--tls-cert " + pki.File("server.pem") + " --tls-key " + pki.File("server.key"));
  ASSERT_GT(server.port(), 0) << server.log();
  EXPECT_NE(server.log().find("\"tls\": \"on\""), std::string::npos);

  ConnectOptions tls{.tls_ca_file = pki.File("ca.pem")};
  EXPECT_EQ(ErrorCodeOf([&] { InsertAndCount(WorkerBridge::Connect(server.localhost(), tls)); }), 0);
  // The certificate names 127.0.0.1 too.
  EXPECT_EQ(ErrorCodeOf([&] { InsertAndCount(WorkerBridge::Connect(server.tcp(), tls)); }), 0);
  // Plaintext to a TLS listener, or a certificate from a CA the client does not trust:
  // nothing answers.
  ConnectOptions quick{.timeout = std::chrono::milliseconds(1500)};
  EXPECT_EQ(ErrorCodeOf([&] { WorkerBridge::Connect(server.tcp(), quick); }), 6);
  ConnectOptions untrusted{.timeout = std::chrono::milliseconds(1500), .tls_ca_file = pki.File("other.pem")};
  EXPECT_EQ(ErrorCodeOf([&] { WorkerBridge::Connect(server.localhost(), untrusted); }), 6);
  // A name the certificate does not carry.
  ConnectOptions wrong_name{.timeout = std::chrono::milliseconds(1500), .tls_ca_file = pki.File("ca.pem"),
                            .tls_server_name = "db.example.com"};
  EXPECT_EQ(ErrorCodeOf([&] { WorkerBridge::Connect(server.localhost(), wrong_name); }), 6);
  EXPECT_EQ(ErrorCodeOf([&] {
              MongoClient c("mongodb://localhost:" + std::to_string(server.port()) +
                            "/sec?tls=true&tlsCAFile=" + pki.File("ca.pem"));
              EXPECT_GE(c.Db("sec")["items"].CountDocuments({}), 2);
            }),
            0);
  EXPECT_EQ(ErrorCodeOf([&] { InsertAndCount(WorkerBridge::Connect(server.unix_address())); }), 0);

  // Mutual TLS and a token together.
  std::ofstream(dir.Sub("token")) << "tok\n";
  Server mutual(dir, "--tls-cert " + pki.File("server.pem") + " --tls-key " +
                         pki.File("server.key") + " --tls-client-ca " + pki.File("ca.pem") +
                         " --auth-token-file " + dir.Sub("token"));
  ASSERT_GT(mutual.port(), 0) << mutual.log();
  EXPECT_NE(mutual.log().find("\"tls\": \"mutual\""), std::string::npos);
  ConnectOptions no_cert{.timeout = std::chrono::milliseconds(1500), .auth_token = "tok",
                         .tls_ca_file = pki.File("ca.pem")};
  EXPECT_EQ(ErrorCodeOf([&] { WorkerBridge::Connect(mutual.localhost(), no_cert); }), 6);
  ConnectOptions with_cert = no_cert;
  with_cert.tls_certificate_key_file = pki.File("client-both.pem");
  EXPECT_EQ(ErrorCodeOf([&] { InsertAndCount(WorkerBridge::Connect(mutual.localhost(), with_cert)); }), 0);
  ConnectOptions cert_no_token = with_cert;
  cert_no_token.auth_token.clear();
  EXPECT_EQ(ErrorCodeOf([&] { InsertAndCount(WorkerBridge::Connect(mutual.localhost(), cert_no_token)); }), 18);
  EXPECT_EQ(ErrorCodeOf([&] {
              MongoClient c("mongodb://localhost:" + std::to_string(mutual.port()) +
                            "/sec?tls=true&tlsCAFile=" + pki.File("ca.pem") +
                            "&tlsCertificateKeyFile=" + pki.File("client-both.pem") +
                            "&authToken=tok");
              EXPECT_GE(c.Db("sec")["items"].CountDocuments({}), 1);
            }),
            0);
}

TEST(SecurityTest, AKeyThatIsNotTheCertificatesStopsTheServerAtStartup) {
  TempDir dir;
  Pki pki(dir);
  ASSERT_TRUE(pki.ok) << testing::ReadFileText(pki.File("openssl.log"));
  Server server(dir, "--tls-cert " + pki.File("server.pem") + " --tls-key " + pki.File("other.key"));
  EXPECT_EQ(server.port(), 0);
  for (int i = 0; i < 100 && server.running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(server.running()) << server.log();
  EXPECT_NE(server.log().find("other.key"), std::string::npos) << server.log();
}

TEST(SecurityTest, RequestLimits) {
  TempDir dir;
  Server server(dir, "--max-message-bytes 1048576");
  ASSERT_GT(server.port(), 0) << server.log();
  auto bridge = WorkerBridge::Connect(server.tcp());
  MongoClient client("mongodb://localhost/sec", {.worker_bridge = bridge});
  auto coll = client.Db("sec")["big"];
  std::string big(2 << 20, 'x');
  EXPECT_EQ(ErrorCodeOf([&] { coll.InsertOne(Document{{"s", big}}); }), 10334);
  EXPECT_EQ(coll.CountDocuments({}), 0);
  coll.InsertOne(Document{{"s", std::string(1000, 'y')}});
  EXPECT_EQ(coll.CountDocuments({}), 1);
  EXPECT_TRUE(server.running());
}

// --max-concurrent-requests: a change stream holds the only place (its Watch call runs
// for as long as it is open), so other requests are refused at once with
// RESOURCE_EXHAUSTED rather than queued; once it closes they are served again.
TEST(SecurityTest, ConcurrentRequestCapRefusesTheRestAndRecovers) {
  TempDir dir;
  Server server(dir, "--max-concurrent-requests 1");
  ASSERT_GT(server.port(), 0) << server.log();
  auto bridge = WorkerBridge::Connect(server.unix_address());
  MongoClient client("mongodb://localhost/sec", {.worker_bridge = bridge});
  auto coll = client.Db("sec")["capped_calls"];
  coll.InsertOne(Document{{"x", 1}});
  {
    ChangeStream stream = coll.Watch();
    EXPECT_FALSE(stream.TryNext().has_value());
    std::string message;
    try {
      coll.CountDocuments({});
    } catch (const Error& e) {
      message = e.what();
    }
    EXPECT_NE(message.find("too many requests"), std::string::npos) << message;
  }
  // The stream's call ends within its cancellation check (100 ms).
  int64_t count = -1;
  for (int i = 0; i < 100 && count < 0; ++i) {
    try {
      count = coll.CountDocuments({});
    } catch (const Error&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  EXPECT_EQ(count, 1);
  EXPECT_TRUE(server.running());
}

// A raw connection that never speaks: it holds one of the server's connection places (gRPC
// waits two minutes for its HTTP/2 preface). -1 on failure.
int HoldConnection(const std::string& address) {
  int fd = -1;
  if (address.rfind("unix:", 0) == 0) {
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::string path = address.substr(5);
    std::memcpy(un.sun_path, path.data(), std::min(path.size(), sizeof un.sun_path - 1));
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&un), sizeof un) != 0) fd = (close(fd), -1);
  } else {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    in.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1))));
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&in), sizeof in) != 0) fd = (close(fd), -1);
  }
  return fd;
}

// gRPC 1.51 bounds no connection count itself: the server's listener counts the
// connections of every --listen address, closes one past --max-connections with a log
// line, and admits again once one has closed.
TEST(SecurityTest, ConnectionCapSpansEveryListener) {
  TempDir dir;
  Server server(dir, "--max-connections 2");
  ASSERT_GT(server.port(), 0) << server.log();
  std::vector<int> held = {HoldConnection(server.tcp()), HoldConnection(server.unix_address())};
  ASSERT_GE(held[0], 0);
  ASSERT_GE(held[1], 0);
  // Both are accepted before the client below comes: its connection queues behind the
  // held one on the TCP listener, but nothing orders it after the unix socket's.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto try_connect = [&](std::chrono::milliseconds timeout) {
    return ErrorCodeOf([&] {
      auto bridge = WorkerBridge::Connect(server.tcp(), ConnectOptions{.timeout = timeout});
      InsertAndCount(bridge);
    });
  };
  EXPECT_NE(try_connect(std::chrono::milliseconds(1500)), 0);
  EXPECT_NE(server.log().find("too many connections are open"), std::string::npos) << server.log();
  // The unix socket's place frees one: a client gets in (after gRPC's reconnect backoff).
  close(held[1]);
  EXPECT_EQ(try_connect(std::chrono::seconds(20)), 0) << server.log();
  // serverStatus counts them: the held one and this client's are open, none is available.
  auto bridge = WorkerBridge::Connect(server.tcp(), ConnectOptions{.timeout = std::chrono::seconds(20)});
  Document status = MongoClient("mongodb://localhost/sec", {.worker_bridge = bridge}).ServerStatus();
  const Document& connections = status.GetDocument("connections");
  EXPECT_EQ(connections.Get("current").ToInt64(), 2) << status.ToJson();
  EXPECT_EQ(connections.Get("available").ToInt64(), 0) << status.ToJson();
  EXPECT_GE(connections.Get("rejected").ToInt64(), 1) << status.ToJson();
  close(held[0]);
  EXPECT_TRUE(server.running());
}

// The wire protocol's listener has its own cap (--mongodb-max-connections) and counts into
// the same serverStatus.
TEST(SecurityTest, WireConnectionCap) {
  TempDir dir;
  std::string wire = dir.Sub("m.sock");
  Server server(dir, "--mongodb-listen unix:" + wire + " --mongodb-max-connections 1");
  ASSERT_GT(server.port(), 0) << server.log();
  int held = HoldConnection("unix:" + wire);
  ASSERT_GE(held, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // accepted before the next
  auto hello = [&] {
    bench::WireClient client(wire);
    return Document::FromBson(client.Run(Document{{"hello", 1}, {"$db", "admin"}}.ToBson()));
  };
  EXPECT_THROW(hello(), std::runtime_error);  // accepted and closed at once
  EXPECT_NE(server.log().find("too many connections are open"), std::string::npos) << server.log();
  close(held);
  // Until the server has seen the close; then serverStatus on that same connection (the
  // cap of one leaves no room for another).
  Document reply, status;
  for (int i = 0; i < 100; ++i) {
    try {
      bench::WireClient client(wire);
      reply = Document::FromBson(client.Run(Document{{"hello", 1}, {"$db", "admin"}}.ToBson()));
      status = Document::FromBson(client.Run(Document{{"serverStatus", 1}, {"$db", "admin"}}.ToBson()));
      break;
    } catch (const std::runtime_error&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  EXPECT_EQ(reply.Get("isWritablePrimary"), Value(true)) << reply.ToJson();
  ASSERT_TRUE(status.Has("connections")) << status.ToJson();
  EXPECT_GE(status.Get("connections").AsDocument().Get("rejected").ToInt64(), 1) << status.ToJson();
}

}  // namespace
}  // namespace micromongo

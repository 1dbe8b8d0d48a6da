// The worker's gRPC health service (grpc.health.v1.Health) through the generated stubs, as
// container probes, load balancers and grpcurl use it: Check and Watch of the whole server
// and of unknown names, and a watch that sees the server stop (the gRPC health checking
// protocol: SERVING, NOT_FOUND / SERVICE_UNKNOWN, then NOT_SERVING).

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "test_util.h"

namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using Clock = std::chrono::system_clock;

class HealthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_ = dir_.path() + "/s.sock";
    pid_ = micromongo::testing::SpawnServerOnSocket(MM_SERVER, socket_, dir_.path() + "/data");
    health_ = Health::NewStub(grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    health_.reset();
    if (pid_ > 0) Stop();
  }
  // SIGTERM, as an orchestrator stops a container; waits for the exit.
  int Stop() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  grpc::Status Check(const std::string& service, HealthCheckResponse* out) {
    grpc::ClientContext ctx;
    ctx.set_wait_for_ready(true);
    ctx.set_deadline(Clock::now() + std::chrono::seconds(20));
    HealthCheckRequest req;
    req.set_service(service);
    return health_->Check(&ctx, req, out);
  }

  micromongo::testing::TempDir dir_;
  std::string socket_;
  pid_t pid_ = -1;
  std::unique_ptr<Health::Stub> health_;
};

TEST_F(HealthServiceTest, CheckAnswersForTheWholeServerOnly) {
  struct Case {
    std::string service;
    grpc::StatusCode code;
  };
  for (const Case& c : {Case{"", grpc::StatusCode::OK},
                        Case{"micromongo.v1.DataService", grpc::StatusCode::NOT_FOUND},
                        Case{"no.such.Service", grpc::StatusCode::NOT_FOUND}}) {
    HealthCheckResponse r;
    grpc::Status s = Check(c.service, &r);
    EXPECT_EQ(s.error_code(), c.code) << "'" << c.service << "': " << s.error_message();
    if (s.ok()) {
      EXPECT_EQ(r.status(), HealthCheckResponse::SERVING);
    }
  }
}

TEST_F(HealthServiceTest, WatchSeesServingThenNotServingWhenTheServerStops) {
  HealthCheckResponse first;
  ASSERT_TRUE(Check("", &first).ok());  // connected and serving
  grpc::ClientContext ctx;
  ctx.set_deadline(Clock::now() + std::chrono::seconds(30));
  HealthCheckRequest req;
  auto stream = health_->Watch(&ctx, req);
  HealthCheckResponse r;
  ASSERT_TRUE(stream->Read(&r));
  EXPECT_EQ(r.status(), HealthCheckResponse::SERVING);

  // A watch of an unknown name stays open with SERVICE_UNKNOWN; the client may cancel it.
  {
    grpc::ClientContext other;
    other.set_deadline(Clock::now() + std::chrono::seconds(30));
    HealthCheckRequest unknown;
    unknown.set_service("no.such.Service");
    auto s = health_->Watch(&other, unknown);
    HealthCheckResponse u;
    ASSERT_TRUE(s->Read(&u));
    EXPECT_EQ(u.status(), HealthCheckResponse::SERVICE_UNKNOWN);
    other.TryCancel();
    EXPECT_FALSE(s->Read(&u));
  }

  auto t0 = std::chrono::steady_clock::now();
  std::thread stopper([&] { Stop(); });
  bool heard = stream->Read(&r);
  bool ended = heard && !stream->Read(&r);
  stopper.join();
  ASSERT_TRUE(heard) << "the watch ended without NOT_SERVING";
  EXPECT_EQ(r.status(), HealthCheckResponse::NOT_SERVING);
  EXPECT_TRUE(ended);
  // The open watch did not hold the shutdown up to its deadline.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
}

}  // namespace

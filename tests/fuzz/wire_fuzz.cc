// The MongoDB wire protocol end to end, in-process: the input is one message (header
// included) as a client would send it, parsed (OP_MSG or OP_QUERY) and run by the
// CommandRunner against a temporary database. Refusals are fine; a crash, a sanitizer
// report or a reply that is not valid BSON is a finding.

#include <cstring>

#include "fuzz_util.h"
#include "service/change_stream_cursor.h"
#include "wire/command_runner.h"
#include "wire/message.h"

using namespace micromongo;

namespace {

// What uses the shared engine; renewed with it.
struct Services {
  Services() {
    // A getMore awaiting change events would idle a second per input.
    service::SetAwaitLimitForTesting(std::chrono::milliseconds(0));
    // A user exists, so that saslStart/saslContinue and hello's authentication fields
    // get past their first checks.
    fuzz::Check(runner.SetPassword("fuzz-password").ok(), "the password is accepted");
    // As the server runs by default: sessions, transactions and snapshot reads reachable.
    runner.EnableReplicaSet("rs0");
  }
  service::CursorManager cursors{std::chrono::milliseconds(60000)};
  service::DataOperations ops{fuzz::SharedEngine(), &cursors};
  service::AdminOperations admin{fuzz::SharedEngine(), &cursors};
  wire::CommandRunner runner{&ops, &admin};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Services* services = fuzz::ServicesOverSharedEngine<Services>();
  wire::CommandRunner* runner = &services->runner;
  // Each input is a new connection, so that the authentication state of one input does
  // not carry into the next (a crash must reproduce from its input alone).
  wire::ConnectionInfo connection{.id = 1, .peer = "fuzz"};
  if (size < wire::kHeaderBytes || size > (1 << 20)) return 0;
  // The length field is made to agree with the input, as the listener reads exactly that
  // many bytes; everything else is the fuzzer's.
  std::string message(reinterpret_cast<const char*>(data), size);
  int32_t length = static_cast<int32_t>(size);
  std::memcpy(message.data(), &length, 4);
  auto header = wire::ParseHeader(message);
  if (!header.ok()) return 0;
  std::string reply;
  if (header->op_code == wire::kOpMsg) {
    auto msg = wire::ParseOpMsg(message);
    if (!msg.ok()) return 0;
    reply = runner->Run(wire::Command(msg->body, &msg->sequences), &connection);
  } else if (header->op_code == wire::kOpQuery) {
    auto query = wire::ParseOpQuery(message);
    if (!query.ok()) return 0;
    reply = runner->RunLegacy(query->query, &connection);
  } else {
    return 0;
  }
  fuzz::Check(bson::Validate(reply).ok(), "a command reply is valid BSON");
  runner->EndAllSessions();
  return 0;
}

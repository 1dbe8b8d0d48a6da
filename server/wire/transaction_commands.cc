// commitTransaction and abortTransaction: the end of a multi-statement transaction, whose
// state the command's session holds (service/sessions.h). The runner has checked that they
// run on admin, checked the transaction fields and checked the session out before these run.

#include "document/status.h"
#include "wire/handlers.h"

namespace micromongo::wire {
namespace {

absl::Status RequireTransaction(const HandlerContext& context, const Command& command) {
  if (context.statement == nullptr || !context.statement->in_transaction()) {
    return MongoError(kInvalidOptions,
                      StrCat(command.name(), " must be run within a transaction (lsid, txnNumber and "
                                             "autocommit: false)"));
  }
  return absl::OkStatus();
}

absl::Status CommitTransaction(const HandlerContext& context, const Command& command, bson::Builder*) {
  if (auto s = RequireTransaction(context, command); !s.ok()) return s;
  return context.statement->CommitTransaction();
}

absl::Status AbortTransaction(const HandlerContext& context, const Command& command, bson::Builder*) {
  if (auto s = RequireTransaction(context, command); !s.ok()) return s;
  return context.statement->AbortTransaction();
}

}  // namespace

std::span<const CommandEntry> TransactionCommands() {
  static const CommandEntry kTable[] = {
      {"commitTransaction", CommitTransaction},
      {"abortTransaction", AbortTransaction},
  };
  return kTable;
}

}  // namespace micromongo::wire

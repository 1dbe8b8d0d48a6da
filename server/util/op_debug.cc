#include "util/op_debug.h"

namespace micromongo {
namespace {
thread_local std::shared_ptr<OpDebug> current_op;
}  // namespace

OpDebug* CurrentOpDebug() { return current_op.get(); }

void SetCurrentOpDebug(std::shared_ptr<OpDebug> op) { current_op = std::move(op); }

}  // namespace micromongo

#include "service/request_counters.h"

namespace micromongo::service {

RequestCounters& GlobalRequestCounters() {
  static RequestCounters counters;
  return counters;
}

}  // namespace micromongo::service

// Helpers shared by the service layer's unit tests (one definition for every test file of
// service_test, so that they also build as one unit).
#ifndef MICROMONGO_SERVER_SERVICE_SERVICE_TEST_UTIL_H_
#define MICROMONGO_SERVER_SERVICE_SERVICE_TEST_UTIL_H_

#include <memory>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "document/json.h"
#include "query/matcher.h"

namespace micromongo::service::testing_util {

// The BSON of Extended JSON `json`; a test failure (and "") if it does not parse.
inline std::string Bson(std::string_view json) {
  auto b = bson::JsonToBson(json);
  EXPECT_TRUE(b.ok()) << json;
  return b.ok() ? *b : std::string();
}

// The parsed filter `json`.
inline std::unique_ptr<query::Matcher> Filter(std::string_view json) {
  return *query::Matcher::Parse(Bson(json));
}

}  // namespace micromongo::service::testing_util

#endif  // MICROMONGO_SERVER_SERVICE_SERVICE_TEST_UTIL_H_

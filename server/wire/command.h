#pragma once

// One database command as it arrived in an OP_MSG: its name, target database, value (the
// first field: usually the collection) and arguments, with typed accessors that answer
// malformed arguments the way MongoDB's command parsers (IDL) do: 14 TypeMismatch naming
// the field and both types, 40415 for a field the command does not take.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "wire/message.h"

namespace micromongo::wire {

class Command {
 public:
  // `body` and `sequences` must outlive this object.
  Command(bson::DocView body, const std::vector<DocumentSequence>* sequences);

  // The first field's name ("find"); empty for an empty body.
  std::string_view name() const { return name_; }
  // The first field's value.
  const bson::ValueView& value() const { return value_; }
  bson::DocView body() const { return body_; }

  // The "$db" field: OP_MSG requires it (40571 otherwise).
  absl::StatusOr<std::string> Database() const;
  // The first field as a collection name (73 InvalidNamespace when not a string).
  absl::StatusOr<std::string> Collection() const;

  // 40415 for any field outside `known` and the generic fields every command accepts
  // ($db, lsid, $readPreference, writeConcern, readConcern, comment, maxTimeMS, ...).
  absl::Status CheckFields(std::initializer_list<std::string_view> known) const;

  // Whether the body has the field (document sequences are not looked at).
  bool Has(std::string_view key) const;
  // Whether the body has the field or a document sequence carries it.
  bool HasFieldOrSequence(std::string_view key) const;
  // The field's value when present.
  std::optional<bson::ValueView> Get(std::string_view key) const;
  // An object field (14 when another type); nullopt when absent.
  absl::StatusOr<std::optional<bson::DocView>> Object(std::string_view key) const;
  // An array of objects, from the body or from the document sequence of that name.
  absl::StatusOr<std::vector<bson::DocView>> Objects(std::string_view key) const;
  // A number that is a whole value (int, long, or a double without a fraction).
  absl::StatusOr<int64_t> Integer(std::string_view key, int64_t default_value) const;
  // A boolean; numbers count as their truth value, as MongoDB accepts them.
  absl::StatusOr<bool> Bool(std::string_view key, bool default_value) const;
  absl::StatusOr<std::string> String(std::string_view key, std::string default_value) const;

  // 14 TypeMismatch: "BSON field '<cmd>.<key>' is the wrong type '<t>', expected type '<e>'".
  absl::Status WrongType(std::string_view key, const bson::ValueView& v,
                         std::string_view expected) const;

 private:
  bson::DocView body_;
  const std::vector<DocumentSequence>* sequences_;
  std::string_view name_;
  bson::ValueView value_{};
  std::vector<std::pair<std::string_view, bson::ValueView>> fields_;  // the body's, in order
};

}  // namespace micromongo::wire

#pragma once

// Command-line flags of the micromongo tool: "--name value", "--name=value" and boolean
// "--name", checked against each command's table. Not thread-safe (parsed once).

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace micromongo::tools {

// A mistake on the command line: the tool prints it with the command's usage, exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct FlagSpec {
  std::string name;        // without dashes: "db"
  bool takes_value = true;
  std::string help;        // one line for the usage text
  std::string short_name;  // optional single letter: "d" for -d
};

class Flags {
 public:
  // Parses `args` (the words after the command) against `specs`. Throws UsageError for an
  // unknown flag, a missing value or a stray positional argument.
  static Flags Parse(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs);

  bool Has(std::string_view name) const { return values_.count(std::string(name)) > 0; }
  // The flag's value, or `fallback`.
  std::string Get(std::string_view name, std::string_view fallback = "") const;
  // A non-negative integer value; throws UsageError if malformed.
  std::optional<int64_t> GetInt(std::string_view name) const;
  // A comma-separated list ("a,b.c"), empty entries dropped.
  std::vector<std::string> GetList(std::string_view name) const;

 private:
  std::map<std::string, std::string> values_;
};

// The field names of --fields (comma-separated) or, if given, --fieldFile (one per line,
// blank lines skipped). Throws UsageError if the file cannot be read.
std::vector<std::string> FieldNames(const Flags& flags);

// The usage lines of a flag table, aligned.
std::string FlagUsage(const std::vector<FlagSpec>& specs);

}  // namespace micromongo::tools

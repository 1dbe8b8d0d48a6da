#include "flags.h"

#include <algorithm>
#include <charconv>
#include <fstream>

namespace micromongo::tools {

Flags Flags::Parse(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs) {
  Flags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    std::string name;
    std::optional<std::string> value;
    if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
      name = arg.substr(2);
      if (size_t eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name.resize(eq);
      }
    } else if (arg.size() == 2 && arg[0] == '-' && arg[1] != '-') {
      name = arg.substr(1);
    } else {
      throw UsageError("unexpected argument '" + arg + "'");
    }
    auto spec = std::find_if(specs.begin(), specs.end(), [&](const FlagSpec& s) {
      return s.name == name || (!s.short_name.empty() && s.short_name == name);
    });
    if (spec == specs.end()) throw UsageError("unknown flag '" + arg + "'");
    if (spec->takes_value) {
      if (!value) {
        if (i + 1 >= args.size()) throw UsageError("flag --" + spec->name + " needs a value");
        value = args[++i];
      }
    } else if (value) {
      if (*value != "true" && *value != "false") {
        throw UsageError("flag --" + spec->name + " takes no value");
      }
      if (*value == "false") continue;
    }
    flags.values_[spec->name] = value.value_or("true");
  }
  return flags;
}

std::string Flags::Get(std::string_view name, std::string_view fallback) const {
  auto it = values_.find(std::string(name));
  return it == values_.end() ? std::string(fallback) : it->second;
}

std::optional<int64_t> Flags::GetInt(std::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return std::nullopt;
  const std::string& v = it->second;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < 0) {
    throw UsageError("flag --" + std::string(name) + " needs a non-negative integer, not '" + v + "'");
  }
  return n;
}

std::vector<std::string> Flags::GetList(std::string_view name) const {
  std::vector<std::string> out;
  std::string v = Get(name);
  size_t start = 0;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    if (comma == std::string::npos) comma = v.size();
    std::string item = v.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

std::vector<std::string> FieldNames(const Flags& flags) {
  if (!flags.Has("fieldFile")) return flags.GetList("fields");
  std::ifstream in(flags.Get("fieldFile"));
  if (!in) throw UsageError("cannot read --fieldFile " + flags.Get("fieldFile"));
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::string FlagUsage(const std::vector<FlagSpec>& specs) {
  std::string out;
  for (const FlagSpec& s : specs) {
    std::string left = "  ";
    left += s.short_name.empty() ? "    " : "-" + s.short_name + ", ";
    left += "--" + s.name + (s.takes_value ? " VALUE" : "");
    if (left.size() < 30) left.resize(30, ' ');
    else left += "  ";
    out += left + s.help + "\n";
  }
  return out;
}

}  // namespace micromongo::tools

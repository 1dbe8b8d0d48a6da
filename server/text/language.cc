#include "text/language.h"

#include <map>
#include <memory>

#include "text/stop_words.h"

namespace micromongo::text {
namespace {

struct Entry {
  const char* name;
  const char* code;
  const char* stemmer;
};

// MongoDB's version 3 languages; "none" tokenizes without stemming or stop words.
constexpr Entry kLanguages[] = {
    {"danish", "da", "danish"},       {"dutch", "nl", "dutch"},
    {"english", "en", "english"},     {"finnish", "fi", "finnish"},
    {"french", "fr", "french"},       {"german", "de", "german"},
    {"hungarian", "hu", "hungarian"}, {"italian", "it", "italian"},
    {"norwegian", "nb", "norwegian"}, {"portuguese", "pt", "portuguese"},
    {"romanian", "ro", "romanian"},   {"russian", "ru", "russian"},
    {"spanish", "es", "spanish"},     {"swedish", "sv", "swedish"},
    {"turkish", "tr", "turkish"},     {"none", "none", nullptr},
};

const std::map<std::string, std::shared_ptr<const Language>, std::less<>>& Registry() {
  static const auto* registry = [] {
    auto* m = new std::map<std::string, std::shared_ptr<const Language>, std::less<>>();
    for (const Entry& e : kLanguages) {
      auto lang = std::make_shared<Language>();
      lang->name = e.name;
      lang->stemmer = e.stemmer;
      lang->english = lang->name == "english";
      lang->turkish = lang->name == "turkish";
      std::string_view words = StopWordList(e.name);
      while (!words.empty()) {
        size_t space = words.find(' ');
        if (space > 0) lang->stop_words.emplace(words.substr(0, space));
        if (space == std::string_view::npos) break;
        words.remove_prefix(space + 1);
      }
      (*m)[e.name] = lang;
      (*m)[e.code] = lang;
    }
    return m;
  }();
  return *registry;
}

}  // namespace

const Language* FindLanguage(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  auto it = Registry().find(lower);
  return it == Registry().end() ? nullptr : it->second.get();
}

}  // namespace micromongo::text

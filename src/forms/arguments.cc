#include "forms/arguments.h"

#include <charconv>

#include "flowrepo/error.h"

namespace flowrepo::forms {

int ParseVersion(const std::string& text, const char* what) {
  if (text == "latest") return 0;
  const std::string digits = !text.empty() && text[0] == 'v' ? text.substr(1) : text;
  int n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || n <= 0) {
    throw Error(ErrorCode::kInvalidArgument, std::string("invalid ") + what + " '" + text + "': use N, vN or 'latest'");
  }
  return n;
}

}  // namespace flowrepo::forms

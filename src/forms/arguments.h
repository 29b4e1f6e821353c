#ifndef FLOWREPO_FORMS_ARGUMENTS_H_
#define FLOWREPO_FORMS_ARGUMENTS_H_

// Values both front ends take from their users the same way: the command
// line's options and the HTTP API's parameters.

#include <string>

namespace flowrepo::forms {

/// A version as --version, FLOW@vN and the API's "version" give it: N, vN,
/// or 'latest' (0). \a what names the argument in the error. Throws
/// kInvalidArgument.
int ParseVersion(const std::string& text, const char* what);

}  // namespace flowrepo::forms

#endif  // FLOWREPO_FORMS_ARGUMENTS_H_

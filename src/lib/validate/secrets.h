#ifndef FLOWREPO_VALIDATE_SECRETS_H_
#define FLOWREPO_VALIDATE_SECRETS_H_

// The plain-text secret scanner: known token formats (cloud keys, service
// tokens, private keys, JWTs), credentials in URLs and Authorization
// headers, assignments of secrets in script bodies, and values under
// key-like field names ("password", "apiKey", "clientSecret", ...). A value
// written as a secret reference ("{{secret:x}}", "${VAR}", "vault:...",
// "={{ $env.X }}") passes, and so do look-alikes: documentation examples
// ("...EXAMPLE"), all-X or repeated-character placeholders, UUIDs, commit
// ids and base64 images outside key-like fields.
//
// Messages name the rule and the JSON pointer, never the value.

#include <string>
#include <string_view>
#include <vector>

#include "flowrepo/validation.h"
#include "json/json_io.h"

namespace flowrepo {

/// Appends a problem for every secret found in \a document (file \a file):
/// string values, and object keys that are themselves tokens. Pointers
/// follow RFC 6901 ("~" as "~0", "/" as "~1"); rules are "secret/<id>".
void ScanSecrets(const Json& document, const std::string& file, std::vector<Problem>& problems);

/// The rule id matching \a value found under field \a key (empty key: a
/// free-form value), or empty when it holds no secret.
std::string DetectSecret(std::string_view key, std::string_view value);

/// The format rule id matching anywhere in \a text (no field context), or
/// empty. For non-JSON text such as a script file.
std::string DetectSecretInText(std::string_view text);

/// True when \a value, as a whole, is a reference to a secret kept
/// elsewhere, not a secret.
bool IsSecretReference(std::string_view value);

/// One rule of the scanner, for documentation and reports.
struct SecretRuleInfo {
  std::string_view id;           ///< "github-pat"; problems use "secret/github-pat"
  std::string_view description;  ///< "GitHub personal access token"
};
/// Every rule the scanner applies, in the order it applies them.
const std::vector<SecretRuleInfo>& SecretRules();

}  // namespace flowrepo

#endif  // FLOWREPO_VALIDATE_SECRETS_H_

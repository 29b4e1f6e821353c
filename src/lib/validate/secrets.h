#ifndef FLOWREPO_VALIDATE_SECRETS_H_
#define FLOWREPO_VALIDATE_SECRETS_H_

// The plain-text secret scanner: known token formats (cloud keys, service
// tokens, private keys, JWTs; provider rules from gitleaks' rule set),
// credentials in URLs, Authorization and Cookie headers, assignments of
// secrets in script bodies and env files, and values under key-like field
// names ("password", "pass", "apiKey", "client_secret", "x-functions-key",
// env variables like DB_PASS), the name taken from a sibling where flows
// keep name/value pairs; JSON held in strings is scanned as JSON. A value
// written as a secret reference ("{{secret:x}}", "${VAR}", "vault:...",
// "={{ $env.X }}") passes, and so do look-alikes: documentation examples
// ("...EXAMPLE"), all-X or repeated-character placeholders, UUIDs, commit
// ids and base64 images outside key-like fields.
//
// Messages name the rule and the JSON pointer, never the value; pointer
// and path segments that are secrets themselves are masked. The rules are
// specified in docs/validation-and-hooks.md.

#include <string>
#include <string_view>
#include <vector>

#include "flowrepo/validation.h"
#include "json/json_io.h"

namespace flowrepo {

/// Appends a problem for every secret found in \a document (file \a file):
/// string values (and JSON held in strings), numbers under password fields,
/// the lines of an array joined when they hold a private key, and object
/// keys that are themselves tokens. In flowrepo's own documents, keys of
/// data maps (app_definition.json "references", workspace.json "roles";
/// known by \a file's base name) are data, not field names. Pointers follow
/// RFC 6901 ("~" as "~0", "/" as "~1"), with any segment holding a secret
/// masked; rules are "secret/<id>".
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

/// \a text with the secret of every rule match replaced by "****" after the
/// rule's prefix ("ghp_****"; a private key from its "-----BEGIN" on; a
/// context rule to the end of its line). Text that matches only once
/// percent-decoded is "****" as a whole. For messages that name things a
/// user wrote: node, flow and group names, keys.
std::string MaskSecrets(std::string_view text);

/// MaskSecrets of each segment of a JSON pointer ("/headers/ghp_****").
std::string MaskSecretsInPointer(std::string_view pointer);

/// MaskSecrets of each '/'-separated segment of a path.
std::string MaskSecretsInPath(std::string_view path);

/// Masks a problem's file, pointer and message in place. Every problem that
/// leaves validation goes through it, so no message carries a secret that a
/// rule recognises.
void MaskSecrets(Problem& problem);

/// One rule of the scanner, for documentation and reports.
struct SecretRuleInfo {
  std::string_view id;           ///< "github-pat"; problems use "secret/github-pat"
  std::string_view description;  ///< "GitHub personal access token"
};
/// Every rule the scanner applies, in the order it applies them.
const std::vector<SecretRuleInfo>& SecretRules();

}  // namespace flowrepo

#endif  // FLOWREPO_VALIDATE_SECRETS_H_

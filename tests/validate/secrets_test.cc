// The secret scanner against a corpus generated at run time: samples of
// every format in several placements (a value, free text, a nested array, a
// script body, a header map, a percent-encoded URL, an object key), field
// context samples, and benign look-alikes. Nothing here is a real secret and
// no full token is written in this file: values are assembled from a prefix
// and seeded random characters when the test runs, so the repository never
// trips push protection. The test prints the detection rate and the false
// positives (docs/validation-and-hooks.md quotes them).

#include "validate/secrets.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "flowrepo/error.h"
#include "json/json_io.h"
#include "support/test_support.h"
#include "validate/flow_validator.h"

namespace flowrepo {
namespace {

class Gen {
 public:
  explicit Gen(unsigned seed) : rng_(seed) {}
  std::string From(std::string_view alphabet, std::size_t n) {
    std::string out;
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    for (std::size_t i = 0; i < n; ++i) out += alphabet[pick(rng_)];
    return out;
  }
  std::string Alnum(std::size_t n) { return From(kAlnum, n); }
  std::string Word(std::size_t n) { return From(std::string(kAlnum) + "_", n); }
  std::string WordDash(std::size_t n) { return From(std::string(kAlnum) + "_-", n); }
  std::string Hex(std::size_t n) { return From("0123456789abcdef", n); }
  std::string Digits(std::size_t n) { return From("0123456789", n); }
  std::string Alpha(std::size_t n) { return From("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", n); }
  std::string Base64(std::size_t n) { return From(std::string(kAlnum) + "+/", n); }
  std::string Base64Url(std::string_view bytes) {
    static constexpr char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (unsigned char c : bytes) {
      acc = (acc << 8) | c;
      bits += 8;
      while (bits >= 6) {
        bits -= 6;
        out += kTable[(acc >> bits) & 63];
      }
    }
    if (bits > 0) out += kTable[(acc << (6 - bits)) & 63];
    return out;
  }
  std::string Base64Std(std::string_view bytes) {
    std::string url = Base64Url(bytes);
    for (char& c : url) c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (url.size() % 4) url += '=';
    return url;
  }
  std::string Uuid() { return Hex(8) + "-" + Hex(4) + "-4" + Hex(3) + "-a" + Hex(3) + "-" + Hex(12); }
  std::string Lower(std::size_t n) { return From("abcdefghijklmnopqrstuvwxyz0123456789", n); }
  std::string Upper(std::size_t n) { return From("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", n); }
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

 private:
  static constexpr char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::mt19937 rng_;
};

struct Sample {
  std::string rule;   ///< expected rule id
  std::string key;    ///< field name; empty for format samples
  std::string value;  ///< the whole string value
};

// Format samples: the value alone names the secret.
std::vector<Sample> FormatSamples(Gen& g) {
  std::vector<Sample> s;
  const std::string base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  auto add = [&](std::string rule, std::string value) { s.push_back({std::move(rule), "", std::move(value)}); };
  add("aws-access-key-id",
      "AK"
      "IA" +
          g.From(base32, 16));
  add("aws-access-key-id",
      "AS"
      "IA" +
          g.From(base32, 16));
  add("aws-secret-access-key", "aws_secret_access_key = " + g.Base64(40));
  add("aws-secret-access-key", "export AWS_SECRET_ACCESS_KEY=\"" + g.Base64(40) + "\"");
  add("github-pat",
      "gh"
      "p_" +
          g.Alnum(36));
  add("github-fine-grained-pat",
      "github"
      "_pat_" +
          g.Word(82));
  add("github-oauth-token",
      "gh"
      "o_" +
          g.Alnum(36));
  add("github-app-token",
      "gh"
      "s_" +
          g.Alnum(36));
  add("github-app-token",
      "gh"
      "u_" +
          g.Alnum(36));
  add("github-refresh-token",
      "gh"
      "r_" +
          g.Alnum(36));
  add("gitlab-pat",
      "glpat"
      "-" +
          g.Alnum(20));
  add("slack-bot-token",
      "xox"
      "b-" +
          g.Digits(12) + "-" + g.Digits(12) + "-" + g.Alnum(24));
  add("slack-user-token",
      "xox"
      "p-" +
          g.Digits(11) + "-" + g.Digits(11) + "-" + g.Digits(12) + "-" + g.Hex(32));
  add("slack-app-token",
      "xap"
      "p-1-A" +
          g.From("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10) + "-" + g.Digits(13) + "-" + g.Hex(64));
  add("slack-webhook-url",
      "https://hooks.slack"
      ".com/services/T" +
          g.From("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 8) + "/B" +
          g.From("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10) + "/" + g.Alnum(24));
  for (std::string kind : {"RSA ", "EC ", "OPENSSH ", ""}) {
    std::string body;
    for (int i = 0; i < 8; ++i) body += g.Base64(64) + "\n";
    add("private-key", "-----BEGIN " + kind +
                           "PRIVATE"
                           " KEY-----\n" +
                           body + "-----END " + kind + "PRIVATE KEY-----\n");
  }
  {
    std::string header = g.Base64Url(R"({"alg":"HS256","typ":"JWT"})");
    std::string payload = g.Base64Url("{\"sub\":\"" + g.Alnum(12) + "\",\"iat\":" + g.Digits(10) + "}");
    add("jwt", header + "." + payload + "." + g.Base64Url(g.Alnum(32)));
  }
  add("gcp-api-key",
      "AI"
      "za" +
          g.WordDash(35));
  add("stripe-key",
      "sk_"
      "live_" +
          g.Alnum(24));
  add("stripe-key",
      "rk_"
      "live_" +
          g.Alnum(24));
  add("stripe-key",
      "sk_"
      "test_" +
          g.Alnum(24));
  add("twilio-api-key",
      "S"
      "K" +
          g.Hex(32));
  add("sendgrid-api-key",
      "S"
      "G." +
          g.WordDash(22) + "." + g.WordDash(43));
  add("npm-token",
      "np"
      "m_" +
          g.Alnum(36));
  add("pypi-token",
      "pypi-AgEIcHl"
      "waS5vcmc" +
          g.WordDash(70));
  add("openai-api-key",
      "sk"
      "-proj-" +
          g.WordDash(100));
  add("openai-api-key",
      "sk"
      "-" +
          g.Alnum(20) +
          "T3Blbk"
          "FJ" +
          g.Alnum(20));
  add("anthropic-api-key",
      "sk"
      "-ant-api03-" +
          g.WordDash(93) + "AA");
  add("azure-ad-client-secret", g.Alnum(3) + g.Digits(1) +
                                    "Q"
                                    "~" +
                                    g.From("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_~.-", 34));
  add("azure-storage-key",
      "DefaultEndpointsProtocol=https;AccountName=flows;Account"
      "Key=" +
          g.Base64(86) + "==;EndpointSuffix=core.windows.net");
  add("azure-shared-access-key",
      "Endpoint=sb://bus.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccess"
      "Key=" +
          g.Base64(43) + "=");
  add("url-credentials", "postgres://app:" + g.Alnum(16) + "@db.internal:5432/app");
  add("url-credentials", "https://deploy:" + g.Alnum(12) + "@git.example.com/org/repo.git");
  add("vault-token",
      "hv"
      "s." +
          g.WordDash(95));
  add("bearer-token", "curl -H 'Authorization: Bearer " + g.Alnum(40) + "' https://api.example.com/v1");
  add("basic-auth-header", "Authorization: Basic " + g.Base64Std("svc-flows:" + g.Alnum(14)));
  add("shopify-token",
      "shp"
      "at_" +
          g.Hex(32));
  add("digitalocean-token",
      "dop"
      "_v1_" +
          g.Hex(64));
  add("databricks-token",
      "da"
      "pi" +
          g.Hex(32));
  add("huggingface-token",
      "h"
      "f_" +
          g.Alpha(34));
  add("age-secret-key",
      "AGE-SECRET"
      "-KEY-1" +
          g.From("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58));
  add("generic-assignment", "const password = \"" + g.Alnum(14) + "\";\nreturn login(user, password);");
  add("generic-assignment", "API_KEY=" + g.Alnum(32));
  return s;
}

// Field samples: the field name makes the value a secret.
std::vector<Sample> FieldSamples(Gen& g) {
  return {
      {"password-field", "password", "Summer" + g.Digits(4) + "!"},
      {"password-field", "dbPassword", g.Alnum(10)},
      {"password-field", "smtp_passwd", g.Alnum(12)},
      {"secret-field", "clientSecret", g.Alnum(32)},
      {"secret-field", "apiKey", g.Alnum(40)},
      {"secret-field", "X-Api-Key", g.Alnum(32)},
      {"secret-field", "access_token", g.Alnum(20) + "." + g.Alnum(20)},
      {"secret-field", "privateKey", g.Base64(48)},
      {"secret-field", "signingSecret", g.Hex(32)},
      {"authorization-header", "Authorization", "Token " + g.Alnum(30)},
      {"connection-string-secret", "connectionString",
       "Server=db;Database=flows;User Id=sa;Password=" + g.Alnum(14) + ";"},
  };
}

// How a format sample is placed in a document.
std::vector<std::pair<std::string, std::function<Json(const std::string&)>>> Placements() {
  auto percent = [](const std::string& v) {
    std::string out;
    char buf[4];
    for (unsigned char c : v) {
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        out += static_cast<char>(c);
      } else {
        std::snprintf(buf, sizeof buf, "%%%02X", c);
        out += buf;
      }
    }
    return out;
  };
  return {
      {"value",
       [](const std::string& v) {
         return Json{{"note", v}};
       }},
      {"free text",
       [](const std::string& v) {
         return Json{{"description", "Call it with " + v + " please."}};
       }},
      {"nested array",
       [](const std::string& v) {
         return Json{{"steps", {{1, {{"x", {v}}}}}}};
       }},
      {"script body",
       [](const std::string& v) {
         return Json{{"nodes", {{{"config", {{"code", "// setup\nconst cfg = `" + v + "`;\nreturn cfg;"}}}}}}};
       }},
      {"header map",
       [](const std::string& v) {
         return Json{{"headers", {{"X-Custom", v}}}};
       }},
      {"multiline note",
       [](const std::string& v) {
         return Json{{"notes", "first line\n" + v + "\nlast line"}};
       }},
      {"percent-encoded",
       [percent](const std::string& v) {
         return Json{{"url", "https://api.example.com/cb?t=" + percent(v)}};
       }},
  };
}

struct Tally {
  int total = 0, detected = 0, right_rule = 0;
  std::vector<std::string> misses;
};

void Check(const Json& doc, const Sample& s, const std::string& where, Tally& t) {
  std::vector<Problem> problems;
  ScanSecrets(doc, "f.json", problems);
  ++t.total;
  bool hit = !problems.empty(), right = false;
  for (const auto& p : problems) {
    EXPECT_EQ(p.message.find(s.value), std::string::npos) << "message leaks the value";
    if (s.value.size() > 12) {
      EXPECT_EQ(p.message.find(s.value.substr(s.value.size() - 12)), std::string::npos);
    }
    if (p.rule == "secret/" + s.rule) right = true;
  }
  t.detected += hit;
  t.right_rule += right;
  if (!hit || !right) {
    t.misses.push_back(s.rule + " in " + where + (hit ? " (as " + problems[0].rule + ")" : " (missed)"));
  }
}

TEST(SecretScannerTest, CorpusDetectionRateAndLookAlikes) {
  Gen g(20261123);
  Tally t;
  const auto placements = Placements();
  for (int round = 0; round < 10; ++round) {
    for (const auto& s : FormatSamples(g)) {
      for (const auto& [where, place] : placements) {
        if (where == "percent-encoded" && (s.rule == "private-key" || s.rule == "generic-assignment" ||
                                           s.rule == "bearer-token" || s.rule == "basic-auth-header")) {
          continue;  // multi-word forms are not URL parameters
        }
        Check(place(s.value), s, where, t);
      }
      // The token as an object key (headers keyed by token, lookup maps).
      if (s.value.find_first_of(" \n") == std::string::npos) Check(Json{{s.value, true}}, s, "object key", t);
    }
    for (const auto& s : FieldSamples(g)) {
      Check(Json{{s.key, s.value}}, s, "field", t);
      Check(Json{{"nodes", {{{"config", {{s.key, s.value}}}}}}}, s, "nested field", t);
      Check(Json{{"variables", {{{"name", s.key}, {"value", s.value}}}}}, s, "env variable", t);
    }
  }

  // Benign look-alikes: documentation examples, placeholders, references,
  // ids, hashes, images, prose, and key-like names with harmless values.
  std::vector<Json> benign;
  const std::vector<std::string> references = {"{{secret:stripe}}",
                                               "${STRIPE_KEY}",
                                               "vault:finance/core-banking/api-key",
                                               "={{ $env.OPENAI_API_KEY }}",
                                               "{{ $credentials.apiKey }}",
                                               "$API_TOKEN",
                                               "${{ secrets.NPM_TOKEN }}",
                                               "op://Flows/Core banking/password",
                                               "arn:aws:secretsmanager:eu-west-1:123456789012:secret:core",
                                               "{{env.CORE_BANKING_KEY}}",
                                               "$env:DB_PASSWORD",
                                               "secret:db-password",
                                               "%DB_PASSWORD%"};
  const std::vector<std::string> secret_keys = {"password",      "apiKey",           "clientSecret", "token",
                                                "Authorization", "connectionString", "privateKey"};
  for (const auto& r : references) {
    for (const auto& k : secret_keys) benign.push_back({{k, r}});
  }
  for (const auto& k : secret_keys) {
    benign.push_back({{k, ""}});
    benign.push_back({{k, "********"}});
    benign.push_back({{k, "XXXXXXXXXXXXXXXXXXXXXXXX"}});
    benign.push_back({{k, "<your-secret-here>"}});
    benign.push_back({{k, "YOUR_API_KEY"}});
    benign.push_back({{k, "changeme"}});
  }
  for (const std::string& v : std::vector<std::string>{
           "AKIAIOSFODNN7EXAMPLE",
           "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
           "gh"
           "p_" +
               std::string(36, 'x'),
           "sk_"
           "live_" +
               std::string(24, 'X'),
           "AK"
           "IA" +
               std::string(16, 'X'),
           "xox"
           "b-000000000000-000000000000-xxxxxxxxxxxxxxxxxxxxxxxx",
           "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
           "-----BEGIN PUBLIC KEY-----\n" + g.Base64(64) + "\n" + g.Base64(64) + "\n-----END PUBLIC KEY-----",
           "-----BEGIN CERTIFICATE-----\n" + g.Base64(64) + "\n-----END CERTIFICATE-----",
           "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
           "Authorization: Bearer {{env.TOKEN}}",
           "Authorization: Bearer ${TOKEN}",
           "https://{{user}}:{{password}}@db.example.com",
           "postgres://app:${DB_PASSWORD}@db/app",
           "https://user:password@example.com",
           "redis://:****@cache:6379",
           "https://api.example.com/v1/users?id=5&page=2",
           "git@github.com:org/repo.git",
           "https://alice@example.com/path",
           "mailto:alice@example.com",
           "The token expires after 3600 seconds.",
           "Bearer tokens are validated by the gateway.",
           "Basic authentication is disabled.",
           "s.substring(0, 10)",
           "this.state.secretName",
           "msg.payload.token",
           "={{ $json.token }}",
           "eyeglasses.eyebrow.eyelid.example",
           "SKU-1234567890",
           "sk-...",
           "ghp_...",
           "TODO: rotate the key",
           "kyc.status == 'verified'",
           "password = getPassword();",
           "const token = await auth.token();",
           "apiKey: config.apiKey",
           "return { answer: 'Please complete identity verification first.' };",
           "{{accounts.body}}",
           "1.2.3-alpha+build.5",
           "2026-11-23T10:00:00Z",
           "+1 415 555 0100"}) {
    benign.push_back({{"note", v}});
  }
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"tokenizer", "cl100k_base"},
           {"max_tokens", "600"},
           {"passwordPolicy", "strict"},
           {"secretName", "core-banking-api"},
           {"token_url", "https://auth.example.com/oauth/token"},
           {"auth", "mtls"},
           {"key", "customer_id"},
           {"primaryKey", "id"},
           {"apiKeyHeader", "X-Api-Key"},
           {"tokenType", "Bearer"},
           {"secretRef", "vault:x/y"},
           {"passwordField", "pwd"},
           {"Authorization", "Bearer"},
           {"apiKey", "none"},
           {"token", "true"},
           {"connectionString", "Server=db;Database=flows;Trusted_Connection=True;"},
           {"connectionString", "Server=db;Database=flows;User Id=sa;Password={{secret:db}};"}}) {
    benign.push_back({{k, v}});
  }
  for (int i = 0; i < 100; ++i) {
    benign.push_back({{"id", g.Uuid()}});
    benign.push_back({{"apiKey", g.Uuid()}});  // UUIDs are ids, even under a key-like name
    benign.push_back({{"commit", g.Hex(40)}});
    benign.push_back({{"note", "fixed in " + g.Hex(40) + " and " + g.Hex(7)}});
    benign.push_back({{"checksum", g.Hex(64)}});
  }
  for (int i = 0; i < 30; ++i) {
    std::string png;
    for (int b = 0; b < 3000 + 400 * i; ++b) png += static_cast<char>(g.Int(0, 255));
    benign.push_back({{"icon", "data:image/png;base64," + g.Base64Std(png)}});
  }
  int flagged = 0;
  std::vector<std::string> false_positives;
  for (const auto& doc : benign) {
    std::vector<Problem> problems;
    ScanSecrets(doc, "f.json", problems);
    if (!problems.empty()) {
      ++flagged;
      false_positives.push_back(problems[0].rule + ": " + doc.dump().substr(0, 120));
    }
  }

  double rate = 100.0 * t.detected / t.total;
  double fp = 100.0 * flagged / static_cast<double>(benign.size());
  std::printf(
      "secret corpus: %d/%d samples detected (%.1f%%), %d with the expected rule; "
      "look-alikes: %d/%zu flagged (%.2f%% false positives)\n",
      t.detected, t.total, rate, t.right_rule, flagged, benign.size(), fp);
  ::testing::Test::RecordProperty("secret_samples", t.total);
  ::testing::Test::RecordProperty("secret_detected", t.detected);
  ::testing::Test::RecordProperty("lookalikes", static_cast<int>(benign.size()));
  ::testing::Test::RecordProperty("lookalikes_flagged", flagged);
  for (const auto& m : t.misses) ADD_FAILURE() << "not detected as expected: " << m;
  for (const auto& f : false_positives) ADD_FAILURE() << "false positive: " << f;
  EXPECT_GE(t.total, 2500);
  EXPECT_GE(benign.size(), 500u);
}

TEST(SecretScannerTest, AtLeastTwentyFormatRules) {
  int formats = 0;
  for (const auto& r : SecretRules()) {
    if (r.id.find("field") == std::string_view::npos && r.id != "authorization-header" &&
        r.id != "connection-string-secret" && r.id != "generic-assignment") {
      ++formats;
    }
  }
  EXPECT_GE(formats, 30);
}

TEST(SecretScannerTest, PointersAreEscapedAndMessagesNameRuleNotValue) {
  Gen g(7);
  std::string token =
      "gh"
      "p_" +
      g.Alnum(36);
  Json doc = {{"a/b", {{"c~d", {1, token}}}}};
  std::vector<Problem> problems;
  ScanSecrets(doc, "flows/x/flow_definition.json", problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].pointer, "/a~1b/c~0d/1");
  EXPECT_EQ(problems[0].rule, "secret/github-pat");
  EXPECT_EQ(problems[0].message, "plain-text secret (GitHub personal access token); store a secret reference instead");
  EXPECT_EQ(problems[0].ToString(),
            "flows/x/flow_definition.json:/a~1b/c~0d/1: plain-text secret (GitHub personal access "
            "token); store a secret reference instead [secret/github-pat]");
}

TEST(SecretScannerTest, ReferencesPassButNotWhenTheyHoldAToken) {
  for (const char* r : {"{{secret:x}}", "${VAR}", "vault:kv/x", "={{ $env.X }}", "$TOKEN", "${{ secrets.X }}"}) {
    EXPECT_TRUE(IsSecretReference(r)) << r;
    EXPECT_EQ(DetectSecret("password", r), "") << r;
  }
  Gen g(3);
  std::string expression =
      "={{ 'Bearer "
      "gh"
      "p_" +
      g.Alnum(36) + "' }}";
  EXPECT_FALSE(IsSecretReference(expression));
  EXPECT_EQ(DetectSecret("Authorization", expression), "github-pat");
  EXPECT_FALSE(IsSecretReference("{{a}} plain {{b}}"));
}

TEST(SecretScannerTest, KeyWordsAreSplitBeforeMatching) {
  Gen g(5);
  std::string value = g.Alnum(32);
  EXPECT_EQ(DetectSecret("apiKey", value), "secret-field");
  EXPECT_EQ(DetectSecret("API_KEY", value), "secret-field");
  EXPECT_EQ(DetectSecret("x-auth-token", value), "secret-field");
  EXPECT_EQ(DetectSecret("max_tokens", value), "");
  EXPECT_EQ(DetectSecret("tokenizer", value), "");
  EXPECT_EQ(DetectSecret("tokenType", value), "");
  EXPECT_EQ(DetectSecret("keyboard", value), "");
}

TEST(SecretScannerTest, ScansALargeFlowQuickly) {
  Json nodes = Json::array();
  for (int i = 0; i < 20000; ++i) {
    nodes.push_back({{"id", "n" + std::to_string(i)},
                     {"type", "api"},
                     {"config",
                      {{"url", "https://api.example.com/v1/items/" + std::to_string(i)},
                       {"headers", {{"Accept", "application/json"}, {"X-Api-Key", "{{env.KEY}}"}}},
                       {"prompt", "Summarise the ticket and answer politely, citing the policy."}}}});
  }
  Json doc = {{"nodes", nodes}};
  std::string text = doc.dump();
  auto start = std::chrono::steady_clock::now();
  std::vector<Problem> problems;
  ScanSecrets(doc, "f.json", problems);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("scanned %.1f MB of flow JSON in %.1f ms (%.0f MB/s)\n", text.size() / 1e6, ms, text.size() / 1e3 / ms);
  EXPECT_TRUE(problems.empty());
  EXPECT_LT(ms, 2000.0);
}

}  // namespace
}  // namespace flowrepo

namespace flowrepo {
namespace {

// Real n8n and Node-RED flows (../shared/corpus, when present): community
// workflows do leak credentials, so hits are not all false positives; the
// count is printed for review and bounded.
TEST(SecretScannerTest, RealFlowCorpus) {
  namespace fs = std::filesystem;
  fs::path corpus = fs::path(FLOWREPO_SOURCE_DIR) / ".." / "shared" / "corpus";
  std::error_code ec;
  if (!fs::is_directory(corpus, ec)) GTEST_SKIP() << "no corpus at " << corpus;
  int files = 0, flagged = 0;
  for (const auto& e : fs::recursive_directory_iterator(corpus, ec)) {
    if (e.path().extension() != ".json") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    try {
      std::vector<Problem> problems;
      ScanSecrets(ParseJson(text.str(), "corpus.json"), "corpus.json", problems);
      ++files;
      flagged += !problems.empty();
    } catch (const Error&) {
    }
  }
  std::printf("real flows: %d of %d files flagged\n", flagged, files);
  EXPECT_LE(flagged * 20, files);
}

}  // namespace
}  // namespace flowrepo

namespace flowrepo {
namespace {

// ---- the planted-secret and look-alike corpora ------------------------------
//
// tests/data/secrets/planted.json: one case per class of secret that reached
// an exported package (issue 14, item 15) and per provider, in n8n, Node-RED
// and native flow shapes; lookalikes.json: values that must pass. Secret
// bodies are templates, "@@<generator>@@", expanded with seeded random
// characters when the test runs: the repository holds no real-looking token.

struct CorpusCase {
  std::string name, cls, shape, rule, file;
  Json doc;
};

std::vector<CorpusCase> LoadCorpus(const std::string& name) {
  const std::string path = testing::SourceDir() + "/tests/data/secrets/" + name;
  Json cases = ParseJson(testing::ReadFile(path), path);
  std::vector<CorpusCase> out;
  for (const auto& c : cases) {
    out.push_back({c.at("name"), c.value("class", ""), c.value("shape", ""), c.value("rule", ""),
                   c.value("file", "flow_definition.json"), c.at("doc")});
  }
  return out;
}

// Expands the templates of a corpus document and remembers every generated
// value of 8 or more characters (the secrets a message must never show).
class Expander {
 public:
  explicit Expander(Gen& g) : g_(g) {}

  Json Expand(const Json& j) {
    if (j.is_string()) return ExpandText(j.get<std::string>());
    if (j.is_array()) {
      Json out = Json::array();
      for (const auto& item : j) out.push_back(Expand(item));
      return out;
    }
    if (j.is_object()) {
      Json out = Json::object();
      for (const auto& [k, v] : j.items()) out[ExpandText(k)] = Expand(v);
      return out;
    }
    return j;
  }

  const std::vector<std::string>& generated() const { return generated_; }

 private:
  std::string ExpandText(const std::string& text) {
    std::string out;
    std::size_t pos = 0;
    while (true) {
      std::size_t open = text.find("@@", pos);
      if (open == std::string::npos) break;
      std::size_t close = text.find("@@", open + 2);
      if (close == std::string::npos) break;
      out += text.substr(pos, open - pos);
      std::string value = Generate(text.substr(open + 2, close - open - 2));
      if (value.size() >= 8) generated_.push_back(value);
      out += value;
      pos = close + 2;
    }
    return out + text.substr(pos);
  }

  std::string Generate(const std::string& spec) {
    auto colon = spec.find(':');
    const std::string kind = spec.substr(0, colon);
    const std::string arg = colon == std::string::npos ? "" : spec.substr(colon + 1);
    auto n = [&] { return static_cast<std::size_t>(std::stoul(arg)); };
    if (kind == "alnum") return g_.Alnum(n());
    if (kind == "hex") return g_.Hex(n());
    if (kind == "digits") return g_.Digits(n());
    if (kind == "word") return g_.Word(n());
    if (kind == "wd") return g_.WordDash(n());
    if (kind == "b64") return g_.Base64(n());
    if (kind == "lower") return g_.Lower(n());
    if (kind == "upper") return g_.Upper(n());
    if (kind == "b32") return g_.From("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", n());
    if (kind == "uuid") return g_.Uuid();
    if (kind == "discordid") return g_.Base64Url("1" + g_.Digits(17));
    if (kind == "basic") return g_.Base64Std(arg + ":" + g_.Alnum(14));
    if (kind == "png") {
      std::string bytes = "\x89PNG\r\n\x1a\n";
      bytes += std::string(64, '\0');  // headers hold runs of zero bytes: "AAAA" in base64
      for (std::size_t i = 0; i < n(); ++i) bytes += static_cast<char>(g_.Int(0, 255));
      return g_.Base64Std(bytes);
    }
    if (kind == "jwt") {
      return g_.Base64Url(R"({"alg":"HS256","typ":"JWT"})") + "." +
             g_.Base64Url("{\"sub\":\"" + g_.Alnum(12) + "\",\"iat\":" + g_.Digits(10) + "}") + "." +
             g_.Base64Url(g_.Alnum(32));
    }
    if (kind == "pem") {
      std::string body;
      for (int i = 0; i < 8; ++i) body += g_.Base64(64) + "\n";
      return "-----BEGIN " + arg +
             "PRIVATE"
             " KEY-----\n" +
             body + "-----END " + arg + "PRIVATE KEY-----";
    }
    ADD_FAILURE() << "unknown generator '" << spec << "'";
    return spec;
  }

  Gen& g_;
  std::vector<std::string> generated_;
};

// Problems of \a doc scanned as \a file of a flow in the corpus group.
std::vector<Problem> ScanCase(const CorpusCase& c, const Json& doc) {
  std::vector<Problem> problems;
  ScanSecrets(doc, "flows/corpus/" + c.shape + "/" + c.file, problems);
  return problems;
}

TEST(SecretCorpusTest, DetectsEveryPlantedSecretAndNoLookAlike) {
  const std::vector<CorpusCase> planted = LoadCorpus("planted.json");
  const std::vector<CorpusCase> lookalikes = LoadCorpus("lookalikes.json");
  constexpr int kRounds = 20;                           // fresh random values each round
  std::map<std::string, std::pair<int, int>> by_class;  // class -> (detected, total)
  std::map<std::string, int> by_shape;
  std::set<std::string> missed, wrong_rule, leaked, flagged;
  int planted_detected = 0, lookalikes_flagged = 0;
  for (int round = 0; round < kRounds; ++round) {
    Gen g(9000 + round);
    for (const auto& c : planted) {
      Expander x(g);
      const Json doc = x.Expand(c.doc);
      const std::vector<Problem> problems = ScanCase(c, doc);
      auto& [detected, total] = by_class[c.cls];
      ++total;
      if (round == 0) ++by_shape[c.shape];
      if (problems.empty()) {
        missed.insert(c.name);
        continue;
      }
      ++detected;
      if (round == 0) ++planted_detected;
      bool right = false;
      for (const auto& p : problems) {
        right |= p.rule == "secret/" + c.rule;
        for (const auto& secret : x.generated()) {
          for (const std::string* text : {&p.file, &p.pointer, &p.message}) {
            if (text->find(secret) != std::string::npos) leaked.insert(c.name + ": " + p.pointer);
          }
        }
      }
      if (!right) wrong_rule.insert(c.name + " (found " + problems[0].rule + ")");
    }
    for (const auto& c : lookalikes) {
      Expander x(g);
      const std::vector<Problem> problems = ScanCase(c, x.Expand(c.doc));
      if (problems.empty()) continue;
      if (round == 0) ++lookalikes_flagged;
      for (const auto& p : problems) flagged.insert(c.name + ": " + p.rule + " at " + p.pointer);
    }
  }

  std::printf(
      "planted secrets: %d of %zu cases detected (%d n8n, %d Node-RED, %d native; "
      "%d rounds of fresh values)\n",
      planted_detected, planted.size(), by_shape["n8n"], by_shape["node-red"], by_shape["native"], kRounds);
  for (const auto& [cls, counts] : by_class) {
    std::printf("  %-20s %4d/%-4d\n", cls.c_str(), counts.first, counts.second);
  }
  std::printf("look-alikes: %d of %zu flagged\n", lookalikes_flagged, lookalikes.size());
  for (const auto& m : missed) std::printf("  missed: %s\n", m.c_str());
  for (const auto& f : flagged) std::printf("  false positive: %s\n", f.c_str());
  ::testing::Test::RecordProperty("planted", static_cast<int>(planted.size()));
  ::testing::Test::RecordProperty("planted_detected", planted_detected);
  ::testing::Test::RecordProperty("lookalikes", static_cast<int>(lookalikes.size()));
  ::testing::Test::RecordProperty("lookalikes_flagged", lookalikes_flagged);

  EXPECT_GE(planted.size(), 73u);
  EXPECT_GE(by_shape["n8n"], 20);
  EXPECT_GE(by_shape["node-red"], 20);
  EXPECT_GE(by_shape["native"], 20);
  for (const auto& m : missed) ADD_FAILURE() << "planted secret not detected: " << m;
  for (const auto& w : wrong_rule) ADD_FAILURE() << "planted secret detected by another rule: " << w;
  for (const auto& l : leaked) ADD_FAILURE() << "problem text shows the secret: " << l;
  for (const auto& f : flagged) ADD_FAILURE() << "look-alike flagged: " << f;
}

// ---- masking (issue 14, item 16) -----------------------------------------

TEST(SecretMaskTest, PointerSegmentsHoldingSecretsAreMasked) {
  Gen g(16);
  const std::string pat =
      "gh"
      "p_" +
      g.Alnum(36);
  const std::string slack =
      "xox"
      "b-" +
      g.Digits(12) + "-" + g.Digits(12) + "-" + g.Alnum(24);
  EXPECT_EQ(MaskSecretsInPointer("/headers/" + pat), "/headers/ghp_****");
  EXPECT_EQ(MaskSecretsInPointer("/headers/" + pat + "/0"), "/headers/ghp_****/0");
  EXPECT_EQ(MaskSecretsInPointer("/nodes/3/name"), "/nodes/3/name");
  EXPECT_EQ(MaskSecretsInPath("flows/ops/" + slack + "/flow_definition.json"),
            "flows/ops/xoxb-****/flow_definition.json");
  EXPECT_EQ(MaskSecrets("node '" + slack + "' uses flow 'x', which does not exist"),
            "node 'xoxb-****' uses flow 'x', which does not exist");
  EXPECT_EQ(MaskSecrets("no secret here: flows/a/b"), "no secret here: flows/a/b");
  // Only percent-decoded is it a token: the whole text goes.
  EXPECT_EQ(MaskSecrets("gh"
                        "p%5F" +
                        g.Alnum(36)),
            "****");
}

TEST(SecretMaskTest, KeysThatAreSecretsAreMaskedInTheirPointer) {
  Gen g(17);
  const std::string pat =
      "gh"
      "p_" +
      g.Alnum(36);
  Json doc = {{"headers", {{pat, "1"}}}};
  std::vector<Problem> problems;
  ScanSecrets(doc, "flows/a/b/flow_definition.json", problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].pointer, "/headers/ghp_****");
  EXPECT_EQ(problems[0].rule, "secret/github-pat");
}

// A flow whose group, id and node names are tokens: every problem that
// ValidateFlow returns is masked, whichever check made it.
TEST(SecretMaskTest, ValidateFlowMasksGroupsIdsAndNames) {
  Gen g(18);
  const std::string id =
      "np"
      "m_" +
      g.Lower(36);
  const std::string group =
      "glpat"
      "-" +
      g.Lower(20);
  const std::string node =
      "xox"
      "b-" +
      g.Digits(12) + "-" + g.Digits(12) + "-" + g.Alnum(24);
  Flow flow = testing::MakeFlow(id, group);
  Json def = ParseJson(flow.flow_definition, "def");
  def["edges"].push_back({{"from", node}, {"to", "end"}});  // a dangling edge names the node
  flow.flow_definition = CanonicalJson(def);
  std::vector<Problem> problems = ValidateFlow(flow, {});
  ASSERT_FALSE(problems.empty());
  bool secret_found = false;
  for (const auto& p : problems) {
    secret_found |= p.rule.rfind("secret/", 0) == 0;
    for (const std::string& secret : {id, group, node}) {
      for (const std::string& text : {p.file, p.pointer, p.message, p.ToString()}) {
        EXPECT_EQ(text.find(secret), std::string::npos) << p.ToString();
      }
    }
  }
  EXPECT_TRUE(secret_found);
}

// ---- data maps are not field names (issue 14, item 17) ----------------------

TEST(SecretScannerTest, ReferenceIdsOfAppDefinitionsAreNotFieldNames) {
  Gen g(19);
  Json app = {{"id", "billing-sync-2024"},
              {"name", "Billing sync 2024"},
              {"format", "n8n"},
              {"references",
               {{g.Alnum(13) + "Pwd", "invoice-export-2024"},
                {g.Alnum(12) + "Token", "ledger-close-q4-2025"},
                {g.Alnum(11) + "Secret", "payout-batch-77"}}}};
  std::vector<Problem> problems;
  ScanSecrets(app, "flows/billing/billing-sync-2024/app_definition.json", problems);
  EXPECT_TRUE(problems.empty()) << problems[0].ToString();
  // Elsewhere the same keys are field names; and a token is a token even
  // as a reference key.
  ScanSecrets(app["references"], "flows/x/y/flow_definition.json", problems);
  EXPECT_FALSE(problems.empty());
  problems.clear();
  app["references"]
     ["gh"
      "p_" +
      g.Alnum(36)] = "x";
  ScanSecrets(app, "flows/billing/billing-sync-2024/app_definition.json", problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].pointer, "/references/ghp_****");
}

// ---- end to end: flow add, validate, publish agree; messages are masked -------

class SecretsEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::RunResult r = Run("init repo");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    repo_ = dir_ / "repo";
  }
  testing::RunResult Run(const std::string& args) {
    return testing::Flowrepo("--user alice@example.com " + args, repo_.empty() ? dir_.path() : repo_);
  }
  static Json Workflow(const std::string& name, const std::string& id, Json nodes) {
    return {{"name", name},
            {"id", id},
            {"nodes", nodes},
            {"connections", Json::object()},
            {"settings", {{"executionOrder", "v1"}}}};
  }
  static Json Node(const std::string& name, const std::string& type, Json params) {
    return {{"parameters", params}, {"id", name + "-id"}, {"name", name},
            {"type", type},         {"typeVersion", 1},   {"position", {0, 0}}};
  }

  testing::TempDir dir_;
  std::string repo_;
};

// 10,000 generated n8n workflows were accepted by flow add and refused by
// publish: the ids of the workflows they call became keys of
// app_definition.json's "references", and "…Pwd" read as a password field.
TEST_F(SecretsEndToEndTest, WorkflowIdsEndingInSecretWordsPassAddPublishAndValidate) {
  Gen g(20);
  Json callees = Json::array();
  Json calls = Json::array({Node("When called", "n8n-nodes-base.manualTrigger", Json::object())});
  int n = 0;
  for (const std::string suffix : {"Pwd", "Token", "Secret", "Passwd", "ApiKey"}) {
    const std::string id = g.Alnum(16 - suffix.size()) + suffix;
    const std::string name = "Ledger step " + std::to_string(2024 + n++);
    testing::WriteFile(
        dir_ / ("in/callee-" + suffix + ".json"),
        Workflow(name, id, {Node("Start", "n8n-nodes-base.executeWorkflowTrigger", Json::object())}).dump(2));
    calls.push_back(Node("Run " + suffix, "n8n-nodes-base.executeWorkflow",
                         {{"source", "database"}, {"workflowId", {{"__rl", true}, {"mode", "id"}, {"value", id}}}}));
  }
  testing::WriteFile(dir_ / "in/caller.json", Workflow("Ledger close 2025", g.Alnum(16), calls).dump(2));

  testing::RunResult r = Run("flow add " + testing::Quote(dir_ / "in") + " --draft ledger --group Finance --json");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  Json added = Json::parse(r.out);
  int references = 0;
  for (const auto& f : added["flows"]) references += static_cast<int>(f["references"].size());
  EXPECT_EQ(references, 5) << r.out;

  r = Run("validate drafts/main/ledger --json");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Json::parse(r.out)["ok"].get<bool>()) << r.out;
  r = Run("publish --draft ledger -m 'ledger close'");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  r = Run("validate --json");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Json::parse(r.out)["ok"].get<bool>()) << r.out;
}

// What publish would refuse in the app definition flowrepo writes (here a
// file name that is a token), add refuses too, and writes nothing.
TEST_F(SecretsEndToEndTest, AddRefusesWhatPublishWouldRefuseInTheAppDefinition) {
  Gen g(21);
  const std::string token =
      "gh"
      "p_" +
      g.Alnum(36);
  testing::WriteFile(
      dir_ / ("in/" + token + ".json"),
      Workflow("Nightly export", g.Alnum(16), {Node("Start", "n8n-nodes-base.manualTrigger", Json::object())}).dump(2));
  testing::RunResult r = Run("flow add " + testing::Quote(dir_ / "in") + " --draft d");
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_NE(r.err.find("source_file"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(token), std::string::npos) << r.err;
  EXPECT_EQ(Run("draft list").out, "(no drafts)\n");
}

TEST_F(SecretsEndToEndTest, NoMessageOrJsonProblemShowsTheSecret) {
  Gen g(22);
  const std::string pat =
      "gh"
      "p_" +
      g.Alnum(36);
  const std::string slack =
      "xox"
      "b-" +
      g.Digits(12) + "-" + g.Digits(12) + "-" + g.Alnum(24);
  // A header keyed by a token, a node named by one.
  Json wf = Workflow(
      "Keyed headers", g.Alnum(16),
      {Node("Start", "n8n-nodes-base.manualTrigger", Json::object()),
       Node(slack, "n8n-nodes-base.httpRequest", {{"url", "https://api.example.com"}, {"headers", {{pat, "1"}}}})});
  wf["connections"] = {{"Start", {{"main", {{{{"node", slack}, {"type", "main"}, {"index", 0}}}}}}}};
  testing::WriteFile(dir_ / "keyed.json", wf.dump(2));
  for (const std::string json : {"", " --json"}) {
    testing::RunResult r = Run("flow add " + testing::Quote(dir_ / "keyed.json") + " --draft d" + json);
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
    for (const std::string& secret : {pat, slack}) {
      EXPECT_EQ(r.out.find(secret), std::string::npos) << r.out;
      EXPECT_EQ(r.err.find(secret), std::string::npos) << r.err;
    }
  }

  // A work tree whose group and flow folder names are tokens, and a header
  // keyed by a token.
  const std::string id =
      "np"
      "m_" +
      g.Lower(36);
  const std::string group =
      "glpat"
      "-" +
      g.Lower(20);
  Flow flow = testing::MakeFlow(id, group);
  Json def = ParseJson(flow.flow_definition, "def");
  def["nodes"][1]["config"]["headers"] = {{pat, "1"}};
  flow.flow_definition = CanonicalJson(def);
  const std::string folder = dir_ / ("tree/flows/" + group + "/" + id);
  testing::WriteFile(folder + "/flow_definition.json", flow.flow_definition);
  testing::WriteFile(folder + "/app_definition.json", flow.app_definition);
  testing::WriteFile(folder + "/env_variables.json", flow.env_variables);
  testing::RunResult r = Run("validate " + testing::Quote(dir_ / "tree/flows") + " --json");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  for (const std::string& secret : {id, group, pat}) {
    EXPECT_EQ(r.out.find(secret), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find(secret), std::string::npos) << r.err;
  }
  EXPECT_NE(r.out.find("secret/npm-token"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/nodes/1/config/headers/ghp_****"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace flowrepo

#include "support/test_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "json/json_io.h"

namespace flowrepo::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/flowrepo-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

TempDir::~TempDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  if (info && info->result()->Failed()) {
    std::fprintf(stderr, "kept test directory %s\n", path_.c_str());
    return;
  }
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

RunResult Shell(const std::string& command, const std::string& cwd) {
  TempDir scratch;
  std::string out_file = scratch / "out", err_file = scratch / "err";
  std::string full =
      "cd " + Quote(cwd) + " && ( " + command + " ) </dev/null >" + Quote(out_file) + " 2>" + Quote(err_file);
  int status = std::system(full.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadFile(out_file);
  r.err = ReadFile(err_file);
  return r;
}

RunResult Flowrepo(const std::string& args, const std::string& cwd) {
  std::string command = FLOWREPO_BINARY;  // built up in steps: GCC 12 warns
  command += ' ';                         // falsely on operator+ here
  command += args;
  return Shell(command, cwd);
}

void ExpectFsckClean(const std::string& repo) {
  RunResult r = Shell("git fsck --full --strict --no-dangling 2>&1", repo);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

std::string RefsSnapshot(const std::string& repo) {
  return Shell("git for-each-ref --format='%(refname) %(objectname)'", repo).out;
}

FlowRepository InitRepository(const std::string& path, const std::string& admin, InitOptions::Layout layout) {
  InitOptions options;
  options.user = admin;
  options.layout = layout;
  return FlowRepository::Init(path, options);
}

Flow MakeFlow(const std::string& id, const std::string& group, int nodes, const std::string& subflow) {
  Json def = {{"mode", "sync"},
              {"inputs", Json::array({{{"name", "question"}, {"type", "string"}, {"scanners", {"pii"}}}})},
              {"outputs", Json::array({{{"name", "answer"}, {"type", "string"}}})},
              {"nodes", Json::array({{{"id", "start"}, {"type", "start"}}})},
              {"edges", Json::array()}};
  std::string prev = "start";
  for (int i = 0; i < nodes; ++i) {
    std::string nid = "call-" + std::to_string(i);
    def["nodes"].push_back({{"id", nid},
                            {"type", "api"},
                            {"component", "http@1"},
                            {"config", {{"method", "GET"}, {"url", "https://api.example.com/" + nid}}},
                            {"timeout_ms", 5000}});
    def["edges"].push_back({{"from", prev}, {"to", nid}});
    prev = nid;
  }
  if (!subflow.empty()) {
    def["nodes"].push_back({{"id", "sub"}, {"type", "subflow"}, {"config", {{"flow", subflow}}}});
    def["edges"].push_back({{"from", prev}, {"to", "sub"}});
    prev = "sub";
  }
  def["nodes"].push_back({{"id", "end"}, {"type", "end"}});
  def["edges"].push_back({{"from", prev}, {"to", "end"}});
  Flow flow;
  flow.summary = {id, "Flow " + id, group, std::string(kNativeFormat)};
  flow.flow_definition = CanonicalJson(def);
  flow.app_definition =
      CanonicalJson({{"id", id}, {"name", "Flow " + id}, {"description", "test flow"}, {"format", kNativeFormat}});
  flow.env_variables =
      CanonicalJson({{"variables", Json::array({{{"name", "API_BASE"}, {"value", "https://api.example.com"}}})}});
  return flow;
}

void WriteFile(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

void ExpectError(ErrorCode code, const std::string& message, const std::function<void()>& fn) {
  try {
    fn();
    ADD_FAILURE() << "expected Error(" << ErrorCodeName(code) << ")";
  } catch (const Error& e) {
    EXPECT_EQ(ErrorCodeName(e.code()), std::string(ErrorCodeName(code))) << e.what();
    if (!message.empty()) {
      EXPECT_EQ(std::string(e.what()), message);
    }
  }
}

std::string SourceDir() { return FLOWREPO_SOURCE_DIR; }

}  // namespace flowrepo::testing

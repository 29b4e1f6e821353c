// Teams sharing one server (docs/teams.md), end to end over every transport:
// a path, file://, git:// (git daemon), HTTPS (lighttpd + git http-backend,
// TLS, basic authentication) and SSH (sshd, a key per user). Each test runs
// the flowrepo binary in clones owned by different users against a bare
// server repository with the server hook installed.

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "support/git_servers.h"
#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::Quote;
using testing::RunResult;
using testing::Shell;
using testing::TempDir;

const std::string kAdmin = "alice@example.com";
const std::string kViewer = "vic@example.com";
const std::vector<std::string> kIntegrators = {"bob@example.com", "carol@example.com", "dave@example.com",
                                               "erin@example.com"};
// Fixture flows and their folders.
const std::map<std::string, std::string> kFlows = {{"faq-answerer", "Support/Knowledge"},
                                                   {"ticket-triage", "Support"},
                                                   {"kyc-check", "Finance/Compliance"},
                                                   {"nightly-report", "Operations"}};

std::string Fixtures() { return testing::SourceDir() + "/fixtures"; }

class RemoteTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    root_ = dir_ / "srv";
    std::filesystem::create_directories(root_);
    server_ = root_ + "/flows.git";
    ASSERT_EQ(testing::Flowrepo("--user " + kAdmin + " init --bare " + Quote(server_)).exit_code, 0);
    ASSERT_EQ(Admin("flow put --draft initial " + Quote(Fixtures() + "/flows")).exit_code, 0);
    ASSERT_EQ(Admin("publish --draft initial -m first").exit_code, 0);
    for (const auto& u : kIntegrators) ASSERT_EQ(Admin("role grant " + u + " integrator").exit_code, 0);
    ASSERT_EQ(Admin("role grant git-daemon@example.com integrator").exit_code, 0);
    ASSERT_EQ(Admin("role grant " + kViewer + " viewer").exit_code, 0);
    ASSERT_EQ(Admin("hooks install --server").exit_code, 0);
    // Only the path and file transports need this: there the pushing
    // process itself runs the hook, and names its user.
    ASSERT_EQ(Shell("git config flowrepo.trustUserEnvironment true && git config core.logAllRefUpdates always", server_)
                  .exit_code,
              0);
    transport_ = testing::MakeGitServer(GetParam(), root_, dir_ / "server-files");
    for (const auto& u : Users()) transport_->AddUser(u, Home(u));
    transport_->Start();
  }

  static std::vector<std::string> Users() {
    std::vector<std::string> all = kIntegrators;
    all.push_back(kAdmin);
    all.push_back(kViewer);
    return all;
  }
  std::string Home(const std::string& user) const { return dir_ / ("home-" + user.substr(0, user.find('@'))); }
  RunResult Admin(const std::string& args) {
    return testing::Flowrepo("--user " + kAdmin + " -C " + Quote(server_) + " " + args);
  }
  // flowrepo as \a user on that user's machine (HOME), in \a cwd.
  std::string As(const std::string& user) const {
    // GIT_SSL_CAINFO would override the user's http.sslCAInfo.
    return "env -u GIT_SSL_CAINFO HOME=" + Quote(Home(user)) + " FLOWREPO_USER=" + user + " " + Quote(FLOWREPO_BINARY) +
           " ";
  }
  RunResult Run(const std::string& user, const std::string& args, const std::string& cwd) {
    return Shell(As(user) + args, cwd);
  }
  std::string Clone(const std::string& user) {
    std::string target = dir_ / ("clone-" + user.substr(0, user.find('@')));
    RunResult r = Run(user, "clone " + Quote(transport_->Url("flows.git")) + " " + Quote(target), dir_.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return target;
  }
  // Puts \a flow with a new description on \a draft of \a clone.
  void Edit(const std::string& user, const std::string& clone, const std::string& draft, const std::string& flow,
            const std::string& description) {
    std::string folder = dir_ / ("edit-" + user + "-" + draft + "-" + flow);
    std::string target = folder + "/flows/" + kFlows.at(flow);
    std::filesystem::create_directories(target);
    std::filesystem::copy(Fixtures() + "/flows/" + kFlows.at(flow) + "/" + flow, target + "/" + flow);
    std::string app = target + "/" + flow + "/app_definition.json";
    auto j = nlohmann::json::parse(testing::ReadFile(app));
    j["description"] = description;
    testing::WriteFile(app, j.dump(2) + "\n");
    RunResult r = Run(user, "flow put --draft " + draft + " " + Quote(folder + "/flows"), clone);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string ServerTag(const std::string& tag) {
    RunResult r = Shell("git rev-parse --verify -q " + tag + "^{commit}", server_);
    return r.exit_code == 0 ? r.out : "";
  }
  std::string Description(const std::string& repo, const std::string& rev, const std::string& flow) {
    RunResult r = Shell("git show " + rev + ":flows/" + kFlows.at(flow) + "/" + flow + "/app_definition.json", repo);
    return r.exit_code == 0 ? nlohmann::json::parse(r.out).value("description", "") : "";
  }
  // After a round: versions 1..n of every flow on the server, none twice;
  // every clone, pulled, agrees with it; fsck and flowrepo check clean.
  void ExpectConsistent(const std::vector<std::pair<std::string, std::string>>& clones) {
    testing::ExpectFsckClean(server_);
    RunResult check = Admin("check");
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
    std::string server_tags = Shell("git for-each-ref --format='%(refname) %(objectname)' refs/tags", server_).out;
    for (const auto& [flow, group] : kFlows) {
      std::set<int> numbers;
      std::string prefix = "refs/tags/main/" + flow + "/v";
      for (std::size_t at = server_tags.find(prefix); at != std::string::npos; at = server_tags.find(prefix, at + 1)) {
        numbers.insert(std::stoi(server_tags.substr(at + prefix.size())));
      }
      EXPECT_EQ(numbers.size(), numbers.empty() ? 0u : static_cast<std::size_t>(*numbers.rbegin())) << flow;
    }
    for (const auto& [user, clone] : clones) {
      RunResult pull = Run(user, "pull", clone);
      EXPECT_EQ(pull.exit_code, 0) << pull.err;
      testing::ExpectFsckClean(clone);
      EXPECT_EQ(Shell("git for-each-ref --format='%(refname) %(objectname)' refs/tags", clone).out, server_tags)
          << user;
      EXPECT_EQ(Shell("git rev-parse main", clone).out, Shell("git rev-parse main", server_).out) << user;
      RunResult c = Run(user, "check", clone);
      EXPECT_EQ(c.exit_code, 0) << user << ": " << c.out << c.err;
      EXPECT_EQ(Shell("git status --porcelain", clone).out, "") << user;
    }
  }

  TempDir dir_;
  std::string root_, server_;
  std::unique_ptr<testing::GitServer> transport_;
};

// Runs each command in the background at once; returns their results.
std::vector<RunResult> AtOnce(const std::vector<std::pair<std::string, std::string>>& commands, const TempDir& dir) {
  std::string script;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const std::string n = std::to_string(i);
    script += "(cd " + Quote(commands[i].second) + " && " + commands[i].first + " >" + Quote(dir / ("o" + n)) + " 2>" +
              Quote(dir / ("e" + n)) + "; echo $? >" + Quote(dir / ("rc" + n)) + ") &\n";
  }
  Shell(script + "wait");
  std::vector<RunResult> out;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const std::string n = std::to_string(i);
    out.push_back({std::stoi(testing::ReadFile(dir / ("rc" + n))), testing::ReadFile(dir / ("o" + n)),
                   testing::ReadFile(dir / ("e" + n))});
  }
  return out;
}

TEST_P(RemoteTest, CloneBringsWorkspacesTagsAndTheUpstream) {
  std::string clone = Clone("bob@example.com");
  EXPECT_EQ(Shell("git config branch.main.remote", clone).out, "origin\n");
  EXPECT_EQ(Shell("git status --porcelain", clone).out, "");
  RunResult h = Run("bob@example.com", "history faq-answerer --json", clone);
  ASSERT_EQ(h.exit_code, 0) << h.err;
  EXPECT_EQ(nlohmann::json::parse(h.out)["versions"].size(), 1u);
  RunResult s = Run("bob@example.com", "status --json", clone);
  ASSERT_EQ(s.exit_code, 0) << s.err;
  auto status = nlohmann::json::parse(s.out);
  EXPECT_EQ(status["remote"], "origin");
  EXPECT_EQ(status["branches"][0]["ahead"], 0);
  EXPECT_EQ(status["branches"][0]["behind"], 0);
}

// Both change one flow; the server numbers them: the second publish is
// refused naming both changes, draft update settles it, it lands as v3.
TEST_P(RemoteTest, TwoClonesPublishingOneFlowGetServerNumbers) {
  const std::string bob = "bob@example.com", carol = "carol@example.com";
  std::string b = Clone(bob), c = Clone(carol);
  Edit(bob, b, "warmer", "faq-answerer", "bob's answer");
  Edit(carol, c, "cooler", "faq-answerer", "carol's answer");
  RunResult first = Run(bob, "publish --draft warmer -m bob --json", b);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(nlohmann::json::parse(first.out)["remote"], "origin");
  EXPECT_EQ(Description(server_, "main/faq-answerer/v2", "faq-answerer"), "bob's answer");

  RunResult second = Run(carol, "publish --draft cooler -m carol", c);
  EXPECT_EQ(second.exit_code, 5) << second.err;
  EXPECT_NE(second.err.find("flow 'faq-answerer'"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("flowrepo draft update cooler"), std::string::npos) << second.err;
  EXPECT_EQ(ServerTag("main/faq-answerer/v3"), "");
  EXPECT_EQ(Shell("git tag -l 'main/faq-answerer/*'", c).out, "main/faq-answerer/v1\nmain/faq-answerer/v2\n");

  RunResult unsettled = Run(carol, "draft update cooler", c);
  EXPECT_EQ(unsettled.exit_code, 5) << unsettled.err;
  RunResult update = Run(carol, "draft update cooler --keep-draft faq-answerer", c);
  ASSERT_EQ(update.exit_code, 0) << update.err;
  RunResult again = Run(carol, "publish --draft cooler -m carol", c);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("faq-answerer v3"), std::string::npos) << again.out;
  EXPECT_EQ(Description(server_, "main/faq-answerer/v3", "faq-answerer"), "carol's answer");
  EXPECT_EQ(Description(server_, "main/faq-answerer/v2", "faq-answerer"), "bob's answer");
  ExpectConsistent({{bob, b}, {carol, c}});
}

// A rename lands on the server with its numbers continued: the hook takes
// v2 of the new id after v1 of the old one, from the publish commit.
TEST_P(RemoteTest, RenamedFlowLandsWithItsVersionsContinued) {
  const std::string bob = "bob@example.com", carol = "carol@example.com";
  std::string b = Clone(bob);
  ASSERT_EQ(Run(bob, "flow mv kyc-check --id kyc-verification", b).exit_code, 0);
  RunResult r = Run(bob, "publish --draft rename-kyc-check -m renamed --json", b);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(ServerTag("main/kyc-verification/v2"), "");
  EXPECT_EQ(ServerTag("main/kyc-verification/v1"), "");
  std::string c = Clone(carol);
  RunResult h = Run(carol, "history kyc-verification --json", c);
  ASSERT_EQ(h.exit_code, 0) << h.err;
  const auto versions = nlohmann::json::parse(h.out)["versions"];
  ASSERT_EQ(versions.size(), 2u) << h.out;
  EXPECT_EQ(versions[1]["flow"], "kyc-check");
  ExpectConsistent({{bob, b}, {carol, c}});
}

// The branch and its tags move together or not at all: a stray tag on the
// server claiming the next number makes the whole push fail, and the
// server's workspace stays where it was although the branch alone could
// have moved.
TEST_P(RemoteTest, APublishWhoseTagIsRefusedDoesNotMoveTheBranch) {
  const std::string bob = "bob@example.com";
  std::string b = Clone(bob);
  Edit(bob, b, "warmer", "faq-answerer", "bob's answer");
  // Made on the server itself (as an admin repairing by hand would), after bob's clone.
  ASSERT_EQ(Shell("git tag -a -m stray main/faq-answerer/v2 main~0", server_).exit_code, 0);
  const std::string before = Shell("git rev-parse main", server_).out;
  RunResult r = Run(bob, "publish --draft warmer -m bob", b);
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("main/faq-answerer/v2"), std::string::npos) << r.err;
  EXPECT_EQ(Shell("git rev-parse main", server_).out, before);
  EXPECT_EQ(Shell("git rev-parse main", b).out, before);
  EXPECT_EQ(Shell("git rev-parse --verify -q refs/heads/drafts/main/warmer", b).exit_code, 0);  // kept
}

// Four clones at once: on different flows all land (retrying when another
// landed first); on one flow one lands, the others are refused with exit 5
// and land as the next versions after draft update.
TEST_P(RemoteTest, FourClonesPublishingAtOnce) {
  std::vector<std::pair<std::string, std::string>> clones;
  for (const auto& u : kIntegrators) clones.push_back({u, Clone(u)});
  std::vector<std::pair<std::string, std::string>> commands;
  auto flow = kFlows.begin();
  for (const auto& [user, clone] : clones) {
    Edit(user, clone, "own", flow->first, "by " + user);
    commands.push_back({As(user) + "publish --draft own -m own", clone});
    ++flow;
  }
  for (const auto& r : AtOnce(commands, dir_)) {
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;  // its tags reached the server
  }
  for (const auto& [id, group] : kFlows) EXPECT_NE(ServerTag("main/" + id + "/v2"), "") << id;
  ExpectConsistent(clones);

  commands.clear();
  for (const auto& [user, clone] : clones) {
    Edit(user, clone, "same", "kyc-check", "kyc by " + user);
    commands.push_back({As(user) + "publish --draft same -m same", clone});
  }
  std::vector<RunResult> results = AtOnce(commands, dir_);
  int landed = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i].exit_code == 0) {
      ++landed;
      continue;
    }
    EXPECT_EQ(results[i].exit_code, 5) << results[i].err;
    const auto& [user, clone] = clones[i];
    ASSERT_EQ(Run(user, "draft update same --keep-draft kyc-check", clone).exit_code, 0);
    RunResult r = Run(user, "publish --draft same -m same", clone);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(landed, 1);
  std::set<std::string> descriptions;
  for (int v = 3; v <= 6; ++v)
    descriptions.insert(Description(server_, "main/kyc-check/v" + std::to_string(v), "kyc-check"));
  EXPECT_EQ(descriptions.size(), 4u);  // every acknowledged publish is a version of its own
  EXPECT_EQ(ServerTag("main/kyc-check/v7"), "");
  ExpectConsistent(clones);
}

// Transports where the server authenticates the user (HTTP basic
// authentication, an SSH key): the hook uses that identity.
class AuthenticatedRemoteTest : public RemoteTest {};

// A viewer is refused by the server with the identity the transport
// authenticated, even when the pusher claims to be the admin.
TEST_P(AuthenticatedRemoteTest, AViewerIsRefusedWhateverHeClaims) {
  std::string v = Clone(kViewer);
  Edit(kAdmin, v, "sneaky", "faq-answerer", "the viewer's change");  // claiming alice locally
  const std::string before = Shell("git rev-parse main", server_).out;
  // Locally he claims to be alice (the CLI's own check passes), and sets
  // FLOWREPO_USER for the server too.
  RunResult r = Shell("env -u GIT_SSL_CAINFO HOME=" + Quote(Home(kViewer)) + " FLOWREPO_USER=" + kAdmin + " " +
                          Quote(FLOWREPO_BINARY) + " --user " + kAdmin + " publish --draft sneaky -m sneaky",
                      v);
  EXPECT_EQ(r.exit_code, 8) << r.err;
  EXPECT_NE(r.err.find("remote: flowrepo: refs/heads/main: user '" + kViewer + "' needs role 'integrator'"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(Shell("git rev-parse main", server_).out, before);
  EXPECT_EQ(Shell("git rev-parse main", v).out, before);  // nothing moved here either
  EXPECT_EQ(Shell("git tag -l 'main/faq-answerer/*'", v).out, "main/faq-answerer/v1\n");
  EXPECT_EQ(Shell("git rev-parse --verify -q refs/heads/drafts/main/sneaky", v).exit_code, 0);  // kept
}

// Trust comes from the user's machine, never from the command line.
TEST_P(AuthenticatedRemoteTest, UntrustedServersAndBadCredentialsAreRefused) {
  const std::string bob = "bob@example.com";
  std::string target = dir_ / "refused";
  if (GetParam() == "https") {
    // No trusted CA: the certificate check fails closed.
    testing::WriteFile(
        Home(bob) + "/.gitconfig",
        "[user]\n\temail = " + bob + "\n[credential]\n\thelper = store --file=" + Home(bob) + "/.git-credentials\n");
    RunResult r = Run(bob, "clone " + Quote(transport_->Url("flows.git")) + " " + Quote(target), dir_.path());
    EXPECT_EQ(r.exit_code, 8) << r.err;
    EXPECT_NE(r.err.find("TLS certificate is not trusted"), std::string::npos) << r.err;
    // A password in the URL is refused before anything is sent.
    std::string url = transport_->Url("flows.git");
    url.insert(url.find("://") + 3, "bob:secret@");
    r = Run(bob, "clone " + Quote(url) + " " + Quote(target), dir_.path());
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("carries a password"), std::string::npos) << r.err;
    // A wrong password: authentication fails, the helper is told.
    transport_->AddUser(bob, Home(bob));
    std::string creds = testing::ReadFile(Home(bob) + "/.git-credentials");
    testing::WriteFile(Home(bob) + "/.git-credentials", creds.replace(creds.find(":pw-"), 4, ":wrong-"));
    r = Run(bob, "clone " + Quote(transport_->Url("flows.git")) + " " + Quote(target), dir_.path());
    EXPECT_EQ(r.exit_code, 8) << r.err;
    EXPECT_NE(r.err.find("authentication failed"), std::string::npos) << r.err;
  } else {
    // An unknown host key, then a changed one: refused.
    testing::WriteFile(Home(bob) + "/.ssh/known_hosts", "");
    RunResult r = Run(bob, "clone " + Quote(transport_->Url("flows.git")) + " " + Quote(target), dir_.path());
    EXPECT_EQ(r.exit_code, 8) << r.err;
    EXPECT_NE(r.err.find("is not in ~/.ssh/known_hosts"), std::string::npos) << r.err;
    Shell("ssh-keygen -q -t ed25519 -N '' -f other", dir_.path());
    std::string url = transport_->Url("flows.git");
    std::string port = url.substr(url.find("127.0.0.1:") + 10);
    port = port.substr(0, port.find('/'));
    Shell("echo \"[127.0.0.1]:" + port + " $(cut -d' ' -f1,2 other.pub)\" > " + Quote(Home(bob) + "/.ssh/known_hosts"),
          dir_.path());
    r = Run(bob, "clone " + Quote(transport_->Url("flows.git")) + " " + Quote(target), dir_.path());
    EXPECT_EQ(r.exit_code, 8) << r.err;
    EXPECT_NE(r.err.find("is not the one in known_hosts"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(target));  // a failed clone leaves nothing
}

INSTANTIATE_TEST_SUITE_P(Transports, AuthenticatedRemoteTest, ::testing::Values("https", "ssh"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

class OfflineTest : public RemoteTest {};

// A publish made without the server is never lost and never clashes: pull
// turns it into a draft, sets its tag aside, and brings the server's in.
TEST_P(OfflineTest, AnOfflinePublishBecomesADraftOnPull) {
  const std::string bob = "bob@example.com", carol = "carol@example.com";
  std::string b = Clone(bob), c = Clone(carol);
  Edit(bob, b, "offline", "nightly-report", "made on a plane");
  RunResult r = Run(bob, "publish --draft offline --offline -m plane", b);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string offline_tag = Shell("git rev-parse main/nightly-report/v2", b).out;
  ASSERT_NE(offline_tag, "");
  Edit(carol, c, "landed", "nightly-report", "carol's, on the server");
  ASSERT_EQ(Run(carol, "publish --draft landed -m landed", c).exit_code, 0);

  // bob's next publish refuses until he pulls: the server decides numbers.
  Edit(bob, b, "later", "faq-answerer", "later");
  r = Run(bob, "publish --draft later", b);
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("run 'flowrepo pull' first"), std::string::npos) << r.err;

  r = Run(bob, "pull --json", b);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto report = nlohmann::json::parse(r.out);
  std::string draft;
  for (const auto& ch : report["changes"]) {
    if (ch["what"] == "unpublished-to-draft") draft = ch["detail"];
  }
  ASSERT_NE(draft, "") << r.out;
  EXPECT_EQ(report["tags_set_aside"], nlohmann::json::array({"main/nightly-report/v2"}));
  EXPECT_EQ(Shell("git rev-parse refs/flowrepo/set-aside-tags/main/nightly-report/v2", b).out, offline_tag);
  EXPECT_EQ(Description(b, "main", "nightly-report"), "carol's, on the server");
  EXPECT_EQ(Description(b, "drafts/main/" + draft, "nightly-report"), "made on a plane");

  // Both changed nightly-report: settle, publish, and it is v3 everywhere.
  ASSERT_EQ(Run(bob, "draft update " + draft + " --keep-draft nightly-report", b).exit_code, 0);
  r = Run(bob, "publish --draft " + draft + " -m 'from the plane'", b);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Description(server_, "main/nightly-report/v3", "nightly-report"), "made on a plane");
  // "later" was started on the offline publish: it carries that change,
  // now on the server as v3, and its own; only its own is published.
  r = Run(bob, "publish --draft later --json", b);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto later = nlohmann::json::parse(r.out);
  ASSERT_EQ(later["versions"].size(), 1u) << r.out;
  EXPECT_EQ(later["versions"][0]["flow"], "faq-answerer");
  ExpectConsistent({{bob, b}, {carol, c}});
}

// A repository made with git init and given a remote by hand gets its
// workspaces, and their upstream, from its first pull.
TEST_P(OfflineTest, PullGivesARepositoryWithARemoteItsUpstream) {
  const std::string bob = "bob@example.com";
  std::string mine = dir_ / "by-hand";
  ASSERT_EQ(Shell("git init -q " + Quote(mine) + " && git -C " + Quote(mine) + " remote add origin " +
                  Quote(transport_->Url("flows.git")))
                .exit_code,
            0);
  RunResult r = Run(bob, "pull", mine);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Shell("git config branch.main.remote", mine).out, "origin\n");
  Edit(bob, mine, "by-hand", "ticket-triage", "by hand");
  r = Run(bob, "publish --draft by-hand --json", mine);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["remote"], "origin");
  EXPECT_EQ(Description(server_, "main/ticket-triage/v2", "ticket-triage"), "by hand");
}

// The same change published from two clones is one version: the second
// publish is told its changes are already there, and makes none.
TEST_P(OfflineTest, TheSameChangeFromTwoClonesIsOneVersion) {
  const std::string bob = "bob@example.com", carol = "carol@example.com";
  std::string b = Clone(bob), c = Clone(carol);
  Edit(bob, b, "fix", "kyc-check", "the agreed fix");
  Edit(carol, c, "fix", "kyc-check", "the agreed fix");
  ASSERT_EQ(Run(bob, "publish --draft fix", b).exit_code, 0);
  RunResult r = Run(carol, "publish --draft fix", c);
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("already holds every change of draft 'fix'"), std::string::npos) << r.err;
  EXPECT_EQ(ServerTag("main/kyc-check/v3"), "");
  ExpectConsistent({{bob, b}, {carol, c}});
}

INSTANTIATE_TEST_SUITE_P(Transports, OfflineTest, ::testing::Values("path"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

INSTANTIATE_TEST_SUITE_P(Transports, RemoteTest, ::testing::Values("path", "file", "git", "https", "ssh"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace flowrepo

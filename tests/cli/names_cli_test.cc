// Issue 14, items 10-12 through the flowrepo binary: the group depth limit
// (one limit for put, publish, export and import), invisible and
// look-alike names and groups, and JSON numbers no document may lose.

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "hostile/corpus.h"
#include "support/raw_zip.h"
#include "support/test_support.h"

namespace flowrepo {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::Flowrepo;
using testing::Quote;
using testing::ReadFile;
using testing::RefsSnapshot;
using testing::RunResult;
using testing::Shell;
using testing::TempDir;
using testing::WriteFile;

const char kDefinition[] =
    R"({"mode": "sync", "inputs": [], "outputs": [], "nodes": [{"id": "start", "type": "start"},)"
    R"( {"id": "end", "type": "end"}], "edges": [{"from": "start", "to": "end"}]})";

// The code points of issue 14, item 11, as UTF-8.
const std::vector<std::pair<std::string, std::string>> kInvisible = {
    {"U+00AD", "\u00ad"},
    {"U+3164", "\u3164"},
    {"U+115F", "\u115f"},
    {"U+FFA0", "\uffa0"},
    {"U+E0041", "\U000E0041"},
    {"U+E007F", "\U000E007F"},
    {"U+FE0F", "\ufe0f"},
    {"U+180E", "\u180e"},
    {"U+034F", "\u034f"},
    {"U+17B4", "\u17b4"},
    {"U+061C", "\u061c"},
    // LRM, RLM and ZWJ, which package entry names already refused.
    {"U+200E", "\u200e"},
    {"U+200F", "\u200f"},
    {"U+200D", "\u200d"}};

class NamesCliTest : public ::testing::Test {
 protected:
  void SetUp() override { repo_ = NewRepo("repo"); }
  std::string NewRepo(const std::string& name) {
    RunResult r = Flowrepo("--user alice@example.com init " + name, dir_.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return dir_ / name;
  }
  RunResult Run(const std::string& args, const std::string& repo = "") {
    return Flowrepo("--user alice@example.com " + args, repo.empty() ? repo_ : repo);
  }
  // A native flow folder \a id (display name \a name) under \a root/<group>,
  // so that `flow put DRAFT root` reads the group from the folders.
  std::string FlowFolder(const std::string& root, const std::string& group, const std::string& id,
                         const std::string& name, const std::string& definition = kDefinition) {
    std::string folder = root + "/" + (group.empty() ? "" : group + "/") + id;
    WriteFile(folder + "/app_definition.json",
              json({{"id", id}, {"name", name}, {"format", "flowrepo/flow@1"}}).dump());
    WriteFile(folder + "/flow_definition.json", definition);
    return folder;
  }
  // A flow folder on its own, put with --group.
  RunResult PutWithGroup(const std::string& draft, const std::string& id, const std::string& group,
                         const std::string& name = "A flow") {
    std::string folder = FlowFolder(dir_ / ("in-" + draft + "-" + id), "", id, name);
    return Run("flow put --draft " + draft + " " + Quote(folder) + " --group " + Quote(group));
  }
  // Commits \a files (path in the tree -> content) onto a new draft with
  // plain git, as a work tree user would.
  void CommitWithGit(const std::string& draft, const std::map<std::string, std::string>& files) {
    std::string tree = dir_ / ("wt-" + draft);
    RunResult r = Shell("git worktree add -q " + Quote(tree) + " -b drafts/main/" + draft + " main", repo_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const auto& [path, content] : files) WriteFile(tree + "/" + path, content);
    r = Shell("git add -A && git -c user.name=T -c user.email=t@example.com commit -qm " + Quote(draft) + " && cd " +
                  Quote(repo_) + " && git worktree remove --force " + Quote(tree),
              tree);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::map<std::string, std::string> GitFlow(const std::string& group, const std::string& id,
                                             const std::string& name = "A flow",
                                             const std::string& definition = kDefinition) {
    std::string folder = "flows/" + (group.empty() ? "" : group + "/") + id;
    return {{folder + "/app_definition.json",
             json({{"id", id}, {"name", name}, {"format", "flowrepo/flow@1"}}).dump(2) + "\n"},
            {folder + "/flow_definition.json", json::parse(definition).dump(2) + "\n"}};
  }
  static std::string Deep(std::size_t levels) {
    std::string group = "L1";
    for (std::size_t i = 2; i <= levels; ++i) group += "/L" + std::to_string(i);
    return group;
  }

  TempDir dir_;
  std::string repo_;
};

// ---- item 10: one group depth limit ------------------------------------------

TEST_F(NamesCliTest, GroupDeeperThanTheImportLimitIsRefusedWhenWritten) {
  const std::string deep = Deep(30);
  const std::string message =
      "flowrepo: error: invalid group '" + deep + "': is deeper than 29 levels (the most a package can hold)\n";
  std::string before = RefsSnapshot(repo_);
  RunResult r = PutWithGroup("deep", "too-deep", deep);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, message);
  // From folders: the group is the folder path.
  std::string root = dir_ / "tree";
  FlowFolder(root, deep, "too-deep", "A flow");
  r = Run("flow put --draft deep " + Quote(root));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, message);
  r = Run("flow new too-deep --group " + Quote(deep));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, message);
  WriteFile(dir_ / "n8n.json", R"({"name": "Deep", "nodes": [], "connections": {}})");
  r = Run("flow add " + Quote(dir_ / "n8n.json") + " --draft deep --group " + Quote(deep));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, message);
  ASSERT_EQ(Run("flow new shallow --draft base").exit_code, 0);
  ASSERT_EQ(Run("publish --draft base").exit_code, 0);
  before = RefsSnapshot(repo_);
  r = Run("copy shallow --name Copy --group " + Quote(deep));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, message);
  EXPECT_EQ(RefsSnapshot(repo_), before);

  // Written with plain git: validate and publish refuse it.
  CommitWithGit("by-git", GitFlow(deep, "too-deep"));
  r = Run("validate drafts/main/by-git");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("flows/" + deep + "/too-deep: invalid group '" + deep +
                       "': is deeper than 29 levels (the most a package can hold) [group]"),
            std::string::npos)
      << r.out;
  before = RefsSnapshot(repo_);
  r = Run("publish --draft by-git");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("is deeper than 29 levels"), std::string::npos) << r.err;
  EXPECT_EQ(RefsSnapshot(repo_), before);
}

TEST_F(NamesCliTest, GroupAtTheLimitRoundTripsThroughPublishExportImport) {
  const std::string deep = Deep(29);
  RunResult r = PutWithGroup("deep", "at-the-limit", deep);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(Run("publish --draft deep").exit_code, 0);
  r = Run("export at-the-limit -o deep.studiopkg");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Run("validate deep.studiopkg").exit_code, 0);
  std::string other = NewRepo("other");
  r = Run("import " + Quote(repo_ + "/deep.studiopkg") + " --draft in", other);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Run("publish --draft in", other);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json flows = json::parse(Run("flow list --json", other).out);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0]["group"], deep);
}

// ---- item 11: invisible and look-alike names ---------------------------------

TEST_F(NamesCliTest, InvisibleCharactersInGroupsAreRefusedEverywhere) {
  for (const auto& [hex, c] : kInvisible) {
    const std::string group = "Fin" + c + "ance";
    RunResult r = PutWithGroup("invisible", "flow", group);
    EXPECT_EQ(r.exit_code, 2) << hex;
    EXPECT_EQ(r.err, "flowrepo: error: invalid group '" + group +
                         "': has an invisible or direction-changing character (" + hex + ")\n")
        << hex;
    // A group of nothing but the character.
    r = PutWithGroup("invisible", "flow", c);
    EXPECT_EQ(r.exit_code, 2) << hex;
  }
  EXPECT_EQ(Shell("git branch --list 'drafts/*'", repo_).out, "");
}

TEST_F(NamesCliTest, InvisibleCharactersInDisplayNamesAreRefused) {
  for (const auto& [hex, c] : kInvisible) {
    for (const std::string& name : {"Pay" + c + "roll", c, c + c + c}) {
      // A draft is work in progress: put keeps it; publish and validate refuse.
      RunResult r = PutWithGroup("names", "payroll", "Finance", name);
      ASSERT_EQ(r.exit_code, 0) << hex << r.err;
      r = Run("validate drafts/main/names");
      EXPECT_EQ(r.exit_code, 1) << hex;
      EXPECT_NE(r.out.find("flows/Finance/payroll/app_definition.json:/name: name has an invisible or "
                           "direction-changing character (" +
                           hex + ") [name]"),
                std::string::npos)
          << hex << r.out;
      r = Run("publish names");
      EXPECT_EQ(r.exit_code, 4) << hex;
      EXPECT_NE(r.err.find("(" + hex + ") [name]"), std::string::npos) << hex << r.err;
    }
  }
  ASSERT_EQ(Run("draft drop names").exit_code, 0);
  // Names given on the command line are refused at once.
  ASSERT_EQ(Run("flow new payroll --name Payroll --draft base").exit_code, 0);
  ASSERT_EQ(Run("publish --draft base").exit_code, 0);
  for (const auto& [hex, c] : kInvisible) {
    RunResult r = Run("copy payroll --name " + Quote("Pay" + c + "roll"));
    EXPECT_EQ(r.exit_code, 2) << hex;
    EXPECT_EQ(r.err, "flowrepo: error: invalid name 'Pay" + c +
                         "roll': has an invisible or direction-changing character (" + hex + ")\n");
    r = Run("flow new other --name " + Quote(c));
    EXPECT_EQ(r.exit_code, 2) << hex;
  }
  // An emoji keeps its picture without a joiner or variation selector.
  EXPECT_EQ(Run("copy payroll --name " + Quote("\u2764 Payroll") + " --id heart").exit_code, 0);
}

TEST_F(NamesCliTest, InvisibleCharactersInForeignNamesAreDropped) {
  // The n8n name keeps its characters in the document; the display name
  // flowrepo makes from it drops them, so the flow can be published.
  std::string name = "Pay\u00adroll\u3164 \u200dReport\ufe0f";
  WriteFile(dir_ / "wf.json", json({{"name", name}, {"nodes", json::array()}, {"connections", json::object()}}).dump());
  RunResult r = Run("flow add " + Quote(dir_ / "wf.json") + " --draft n8n --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json added = json::parse(r.out);
  EXPECT_EQ(added["flows"][0]["name"], "Payroll Report");
  r = Run("publish --draft n8n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// The clash examples of item 11: case, normalisation, compatibility.
const std::vector<std::pair<std::string, std::string>> kClashes = {
    {"Finance", "finance"}, {"Caf\u00e9", "Cafe\u0301"}, {"K-Team", "\u212a-Team"}};

TEST_F(NamesCliTest, GroupsThatDifferOnlyByCaseOrNormalisationClashWhenWritten) {
  for (std::size_t i = 0; i < kClashes.size(); ++i) {
    const auto& [first, second] = kClashes[i];
    repo_ = NewRepo("repo-" + std::to_string(i));
    ASSERT_EQ(PutWithGroup("first", "a", "Ops/" + first).exit_code, 0);
    ASSERT_EQ(Run("publish first").exit_code, 0);
    std::string before = RefsSnapshot(repo_);
    const std::string message = "group 'Ops/" + second + "' clashes with group 'Ops/" + first +
                                "': names in one folder may not differ only in case, Unicode normalisation or "
                                "look-alike characters";
    RunResult r = PutWithGroup("second", "b", "Ops/" + second);
    EXPECT_EQ(r.exit_code, 5) << second;
    EXPECT_EQ(r.err, "flowrepo: error: " + message + "\n");
    r = Run("flow new b --group " + Quote("Ops/" + second));
    EXPECT_EQ(r.exit_code, 5) << second;
    EXPECT_EQ(r.err, "flowrepo: error: " + message + "\n");
    r = Run("copy a --name B --id b --group " + Quote("Ops/" + second));
    EXPECT_EQ(r.exit_code, 5) << second;
    EXPECT_EQ(r.err, "flowrepo: error: " + message + "\n");
    WriteFile(dir_ / "wf.json", R"({"name": "B", "nodes": [], "connections": {}})");
    r = Run("flow add " + Quote(dir_ / "wf.json") + " --draft second --group " + Quote("Ops/" + second));
    EXPECT_EQ(r.exit_code, 5) << second;
    EXPECT_EQ(r.err, "flowrepo: error: " + message + "\n");
    EXPECT_EQ(RefsSnapshot(repo_), before);
    // The same spelling is the same group.
    ASSERT_EQ(PutWithGroup("same", "c", "Ops/" + first).exit_code, 0);

    // Two drafts that each looked fine on their own: the second publish
    // refuses.
    ASSERT_EQ(PutWithGroup("third", "d", "Top/" + first).exit_code, 0);
    ASSERT_EQ(PutWithGroup("fourth", "e", "Top/" + second).exit_code, 0);
    ASSERT_EQ(Run("publish --draft third").exit_code, 0);
    before = RefsSnapshot(repo_);
    r = Run("publish --draft fourth");
    EXPECT_EQ(r.exit_code, 4) << second;
    EXPECT_EQ(r.err,
              "flowrepo: error: publish refused: 1 problem(s) in 1 flow(s); workspace 'main' unchanged\n"
              "  flows/Top/" +
                  second + ": group 'Top/" + second + "' clashes with group 'Top/" + first +
                  "': names in one folder may not differ only in case, Unicode normalisation or "
                  "look-alike characters [name-clash]\n");
    EXPECT_EQ(RefsSnapshot(repo_), before);

    // Written with plain git: validate names the clash, publish refuses.
    CommitWithGit("by-git", GitFlow("Ops/" + second, "f"));
    r = Run("validate drafts/main/by-git");
    EXPECT_EQ(r.exit_code, 1);
    // Both are new to a full check: the later in byte order is named first.
    const std::string reverse = "flows/Ops/" + first + ": group 'Ops/" + first + "' clashes with group 'Ops/" + second +
                                "': names in one folder";
    EXPECT_TRUE(r.out.find("flows/Ops/" + second + ": " + message + " [name-clash]") != std::string::npos ||
                r.out.find(reverse) != std::string::npos)
        << r.out;
    r = Run("publish --draft by-git");
    EXPECT_EQ(r.exit_code, 4);
    EXPECT_NE(r.err.find(message + " [name-clash]"), std::string::npos) << r.err;
  }
}

TEST_F(NamesCliTest, ImportRefusesAPackageWhoseGroupsClash) {
  ASSERT_EQ(PutWithGroup("in", "a", "Finance").exit_code, 0);
  ASSERT_EQ(PutWithGroup("in", "b", "Ops").exit_code, 0);
  ASSERT_EQ(Run("publish --draft in").exit_code, 0);
  ASSERT_EQ(Run("export --all -o good.studiopkg").exit_code, 0);
  // The same flows in a workspace that has "finance": refused, nothing written.
  std::string other = NewRepo("other");
  ASSERT_EQ(Run("flow new c --group finance --draft mine", other).exit_code, 0);
  ASSERT_EQ(Run("publish --draft mine", other).exit_code, 0);
  std::string before = RefsSnapshot(other);
  RunResult r = Run("import " + Quote(repo_ + "/good.studiopkg"), other);
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("flows/Finance: group 'Finance' clashes with group 'finance': names in one folder may "
                       "not differ only in case, Unicode normalisation or look-alike characters [name-clash]"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(RefsSnapshot(other), before);

  // A package that holds both spellings itself: b's group renamed "finance".
  auto entries = testing::ReadZipEntries(repo_ + "/good.studiopkg");
  for (auto& [name, data] : entries) {
    if (name.rfind("flows/Ops/", 0) == 0) name = "flows/finance/" + name.substr(10);
    if (name != "manifest.json") continue;
    json m = json::parse(data);
    for (auto& f : m["flows"]) {
      if (f["id"] == "b") {
        f["group"] = "finance";
        f["path"] = "flows/finance/b";
      }
    }
    m["groups"]["groups"]["finance"] = m["groups"]["groups"]["Ops"];
    m["groups"]["groups"].erase("Ops");
    data = m.dump(2) + "\n";
  }
  WriteFile(dir_ / "both.studiopkg", testing::RezipStored(entries));
  const std::string clash =
      "manifest.json:/groups: group 'finance' clashes with group 'Finance': names in one folder may not differ "
      "only in case, Unicode normalisation or look-alike characters [name-clash]";
  r = Run("validate " + Quote(dir_ / "both.studiopkg"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find(clash), std::string::npos) << r.out;
  std::string third = NewRepo("third");
  r = Run("import " + Quote(dir_ / "both.studiopkg"), third);
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find(clash), std::string::npos) << r.err;
}

// ---- item 12: numbers are kept or refused, never rewritten ---------------------

TEST_F(NamesCliTest, NumbersBeyondSixtyFourBitsAreRefusedNotRewritten) {
  json def = json::parse(kDefinition);
  def["nodes"][0]["config"] = {{"x", 1}};
  std::string text = def.dump();
  text.replace(text.find("\"x\":1"), 5, "\"x\":123456789012345678901234567890");
  std::string root = dir_ / "big";
  FlowFolder(root, "", "big", "Big", text);
  const std::string where =
      "flows/big/flow_definition.json: number at /nodes/0/config/x does not fit in 64 bits; "
      "quote it as a string";
  RunResult r = Run("flow put --draft big " + Quote(root));
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.err, "flowrepo: error: " + where + "\n");
  EXPECT_EQ(Shell("git branch --list 'drafts/*'", repo_).out, "");
  r = Run("validate " + Quote(root));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("/flow_definition.json: number at /nodes/0/config/x does not fit in 64 bits; quote it as a "
                       "string [json]"),
            std::string::npos)
      << r.out;

  // A double that cannot keep the digits written.
  std::string precise = text;
  precise.replace(precise.find("123456789012345678901234567890"), 30, "0.1000000000000000055511151231257827");
  FlowFolder(root, "", "big", "Big", precise);
  r = Run("flow put --draft big " + Quote(root));
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.err,
            "flowrepo: error: flows/big/flow_definition.json: number at /nodes/0/config/x has more digits "
            "than a 64-bit float keeps (or is too small for one); quote it as a string\n");

  // n8n and Node-RED files: refused by flow add, the file named.
  WriteFile(dir_ / "n8n/wf.json",
            R"({"name": "Chat", "nodes": [{"name": "Set", "type": "n8n-nodes-base.set", "typeVersion": 1,)"
            R"( "position": [0, 0], "parameters": {"chatId": 123456789012345678901234567890}}], "connections": {}})");
  r = Run("flow add " + Quote(dir_ / "n8n/wf.json") + " --draft n8n");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("number at /nodes/0/parameters/chatId does not fit in 64 bits; quote it as a string"),
            std::string::npos)
      << r.err;
  WriteFile(dir_ / "red/flows.json",
            R"([{"id": "t1", "type": "tab", "label": "T"}, {"id": "n1", "type": "inject", "z": "t1",)"
            R"( "payload": 99999999999999999999, "wires": []}])");
  r = Run("flow add " + Quote(dir_ / "red/flows.json") + " --draft red");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("number at /1/payload does not fit in 64 bits"), std::string::npos) << r.err;

  // A package holding one: import and validate refuse it.
  FlowFolder(root, "", "big", "Big");
  ASSERT_EQ(Run("flow put --draft big " + Quote(root)).exit_code, 0);
  ASSERT_EQ(Run("publish --draft big").exit_code, 0);
  ASSERT_EQ(Run("export big -o good.studiopkg").exit_code, 0);
  std::string evil =
      testing::hostile::WithEntry(ReadFile(repo_ + "/good.studiopkg"), "flows/big/flow_definition.json", text);
  WriteFile(dir_ / "big.studiopkg", evil);
  r = Run("validate " + Quote(dir_ / "big.studiopkg"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("number at /nodes/0/config/x does not fit in 64 bits"), std::string::npos) << r.out;
  std::string other = NewRepo("other");
  r = Run("import " + Quote(dir_ / "big.studiopkg"), other);
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("number at /nodes/0/config/x does not fit in 64 bits"), std::string::npos) << r.err;

  // Committed with plain git: publish refuses rather than rewrite it.
  CommitWithGit("by-git", {{"flows/big/flow_definition.json", text}});
  r = Run("publish --draft by-git");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("number at /nodes/0/config/x does not fit in 64 bits"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace flowrepo

// Data-driven rule tests: every tests/rules/*.case file is a small payments
// file with the alerts it must and must not produce, so a rule author can add
// a case without writing C++. Format (see tests/rules/README.md):
//
//   # comment
//   expect alert <account> <rule_id>
//   expect no-alert <account> [<rule_id>]
//   expect alerts <n>
//   expect rejects <n>
//   pack <path relative to the repository>      (default: built-in pack)
//   --- payments
//   <canonical CSV, header included>
//
// Each case runs through the real CSV reader and the in-process engine
// (in-memory state), exactly as a back-test would.
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/str_split.h"
#include "connectors/file_source.h"
#include "engine/driver.h"
#include "engine/memory.h"
#include "engine/processor.h"
#include "gtest/gtest.h"
#include "rules/rule_pack.h"

namespace txflag {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> ListCases() {
  std::vector<std::string> cases;
  fs::path dir = fs::path(TXFLAG_SOURCE_DIR) / "tests" / "rules";
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".case") {
      cases.push_back(entry.path().stem().string());
    }
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

struct Expectation {
  int line;
  std::string kind;  // alert, no-alert, alerts, rejects
  std::vector<std::string> args;
};

class RuleCase : public ::testing::TestWithParam<std::string> {};

TEST_P(RuleCase, ProducesTheExpectedAlerts) {
  const fs::path path =
      fs::path(TXFLAG_SOURCE_DIR) / "tests" / "rules" / (GetParam() + ".case");
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::vector<Expectation> expectations;
  std::string pack_path;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line == "--- payments") break;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> words =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (words[0] == "pack" && words.size() == 2) {
      pack_path = (fs::path(TXFLAG_SOURCE_DIR) / words[1]).string();
    } else if (words[0] == "expect" && words.size() >= 3) {
      expectations.push_back(
          {n, words[1],
           std::vector<std::string>(words.begin() + 2, words.end())});
    } else {
      FAIL() << path.string() << ":" << n << ": cannot read '" << line << "'";
    }
  }
  const int csv_first_line = n + 1;
  std::stringstream csv;
  csv << in.rdbuf();
  ASSERT_FALSE(csv.str().empty()) << path << ": no '--- payments' section";
  fs::path tmp = fs::path(TXFLAG_BINARY_DIR) / "testdata" / "cases";
  fs::create_directories(tmp);
  fs::path input = tmp / (GetParam() + ".csv");
  std::ofstream(input) << csv.str();

  auto pack = pack_path.empty() ? rules::CompileRulePack(
                                      rules::DefaultRulePackText(), "default")
                                : rules::LoadRulePackFile(pack_path);
  ASSERT_TRUE(pack.ok()) << pack.status();
  auto source = connectors::OpenFileSource(
      input.string(), connectors::FileFormat::kCanonicalCsv);
  ASSERT_TRUE(source.ok()) << source.status();
  engine::MemoryStateStore store;
  engine::MemoryRejectSink rejects;
  auto processor =
      engine::Processor::Open(&*pack, {}, &store, &rejects, nullptr);
  ASSERT_TRUE(processor.ok()) << processor.status();
  ASSERT_TRUE(engine::RunToEnd(source->get(), processor->get(), {}).ok());

  std::map<std::string, std::set<std::string>> alerted;  // account -> rules
  int alerts = 0;
  ASSERT_TRUE((*processor)
                  ->ForEachAlert([&](const txflag::v1::Alert& a) {
                    ++alerts;
                    for (const auto& r : a.rules())
                      alerted[a.account()].insert(r);
                  })
                  .ok());
  std::string rejected;
  for (const auto& r : rejects.rows()) {
    rejected += "\n  " + r.location + ": " + r.reason;
  }
  std::string all;
  for (const auto& [account, rules] : alerted) {
    for (const auto& r : rules) all += "\n  " + account + " " + r;
  }
  for (const auto& e : expectations) {
    std::string where = path.filename().string() + ":" + std::to_string(e.line);
    if (e.kind == "alert" && e.args.size() == 2) {
      EXPECT_TRUE(alerted[e.args[0]].contains(e.args[1]))
          << where << ": expected alert " << e.args[0] << " " << e.args[1]
          << "; alerts:" << all << "\nrejects:" << rejected;
    } else if (e.kind == "no-alert" && e.args.size() == 1) {
      EXPECT_TRUE(alerted[e.args[0]].empty())
          << where << ": expected no alert on " << e.args[0]
          << "; alerts:" << all;
    } else if (e.kind == "no-alert" && e.args.size() == 2) {
      EXPECT_FALSE(alerted[e.args[0]].contains(e.args[1]))
          << where << ": expected no " << e.args[1] << " alert on "
          << e.args[0];
    } else if (e.kind == "alerts" && e.args.size() == 1) {
      EXPECT_EQ(alerts, std::stoi(e.args[0])) << where << "; alerts:" << all;
    } else if (e.kind == "rejects" && e.args.size() == 1) {
      EXPECT_EQ(static_cast<int>(rejects.rows().size()), std::stoi(e.args[0]))
          << where << "; rejects:" << rejected;
    } else {
      ADD_FAILURE() << where << ": unknown expectation '" << e.kind << "'";
    }
  }
  (void)csv_first_line;
}

INSTANTIATE_TEST_SUITE_P(Cases, RuleCase, ::testing::ValuesIn(ListCases()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c)))
                               c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace txflag

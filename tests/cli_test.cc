// The txflag executable as a user meets it: --help, exit codes, error
// messages that name where and what, the rejects file.
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/subprocess.h"

namespace txflag::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kHeader[] =
    "id,timestamp,debtor_account,debtor_name,debtor_country,creditor_account,"
    "creditor_name,creditor_country,amount,currency,channel,mcc,reference\n";

std::string WriteFile(const std::string& dir, const std::string& name,
                      const std::string& text) {
  std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string SmallInput(const std::string& dir) {
  return WriteFile(dir, "in.csv",
                   std::string(kHeader) +
                       "p1,2025-03-01T20:00:00Z,DK01,Ann,DK,DK02,Bo,DK,250.00,"
                       "DKK,MOBILE,,pizza\n"
                       "p2,2025-03-01T20:05:00Z,DK03,Cy,DK,DK02,Bo,DK,-5.00,"
                       "DKK,MOBILE,,bad\n"
                       "p3,2025-03-01T20:06:00Z,DK03,Cy,DK,DK02,Bo,DK,12.00,"
                       "DKK,PIGEON,,bad\n"
                       "p4,2025-03-01T20:07:00Z,DK03,Cy,DK,DK02,Bo,DK,12.00,"
                       "DKK,MOBILE,,ok\n");
}

TEST(Cli, EveryCommandHasHelp) {
  for (std::vector<std::string> args : {std::vector<std::string>{"--help"},
                                        {"backtest", "--help"},
                                        {"gen", "--help"},
                                        {"demo", "--help"}}) {
    args.insert(args.begin(), TxflagBinary());
    CommandResult r = RunCommand(args);
    EXPECT_EQ(r.exit_code, 0) << args[1];
    EXPECT_THAT(r.out, HasSubstr("Usage")) << args[1];
  }
  CommandResult r = RunCommand({TxflagBinary(), "backtest", "--help"});
  EXPECT_THAT(r.out, HasSubstr("--input"));
  EXPECT_THAT(r.out, HasSubstr("--labels"));
  EXPECT_THAT(r.out, HasSubstr("--allowed-lateness"));
}

TEST(Cli, BadArgumentsExitWithTwo) {
  EXPECT_EQ(RunCommand({TxflagBinary()}).exit_code, 2);
  EXPECT_EQ(RunCommand({TxflagBinary(), "backtest", "--out", "x"}).exit_code,
            2);
  EXPECT_EQ(RunCommand({TxflagBinary(), "frobnicate"}).exit_code, 2);
  std::string dir = FreshDir("cli_missing_input");
  CommandResult r = RunCommand({TxflagBinary(), "backtest", "--input",
                                dir + "/nope.csv", "--out", dir + "/out"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("nope.csv"));
}

TEST(Cli, InvalidRulePackExitsWithTwoNamingFileLineAndKey) {
  std::string dir = FreshDir("cli_bad_pack");
  std::string pack = WriteFile(dir, "bad.pack",
                               "name: \"x\"\nversion: \"1\"\n"
                               "rule {\n  id: \"r\"\n  typology: \"SE\"\n"
                               "  small_transfers { window_days: 0 }\n}\n");
  CommandResult r =
      RunCommand({TxflagBinary(), "backtest", "--input", SmallInput(dir),
                  "--rules", pack, "--out", dir + "/out"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("bad.pack:6"));
  EXPECT_THAT(r.err, HasSubstr("window_days"));
}

TEST(Cli, MalformedRowsGoToRejectsAndTheRunGoesOn) {
  std::string dir = FreshDir("cli_rejects");
  CommandResult r = RunCommand({TxflagBinary(), "backtest", "--input",
                                SmallInput(dir), "--out", dir + "/out"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("rejected"));
  std::string rejects = ReadFile(dir + "/out/rejects.csv");
  EXPECT_THAT(rejects, HasSubstr("in.csv:3"));
  EXPECT_THAT(rejects, HasSubstr("in.csv:4"));
  EXPECT_THAT(rejects, HasSubstr("PIGEON"));
  std::string summary = ReadFile(dir + "/out/summary.json");
  EXPECT_THAT(summary, HasSubstr("\"rejected\": 2"));
  EXPECT_THAT(summary, HasSubstr("\"payments\": 2"));
}

TEST(Cli, StrictStopsAtTheFirstBadRowWithThree) {
  std::string dir = FreshDir("cli_strict");
  CommandResult r =
      RunCommand({TxflagBinary(), "backtest", "--input", SmallInput(dir),
                  "--out", dir + "/out", "--strict"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("in.csv:3"));
  EXPECT_THAT(r.err, HasSubstr("amount"));
}

TEST(Cli, UnrecognisedHeaderIsBadInput) {
  std::string dir = FreshDir("cli_header");
  std::string input = WriteFile(dir, "x.csv", "a,b,c\n1,2,3\n");
  CommandResult r = RunCommand(
      {TxflagBinary(), "backtest", "--input", input, "--out", dir + "/out"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("x.csv:1"));
}

TEST(Cli, StateFromAnotherRulePackExitsWithFour) {
  std::string dir = FreshDir("cli_state");
  std::string input = SmallInput(dir);
  ASSERT_EQ(RunCommand({TxflagBinary(), "backtest", "--input", input, "--out",
                        dir + "/out"})
                .exit_code,
            0);
  // The same state dir with a different pack (the default pack minus its
  // description line is another content hash).
  std::string other = WriteFile(dir, "other.pack",
                                "name: \"other\"\nversion: \"2\"\n"
                                "rule { id: \"r\" typology: \"SE\" "
                                "ad_payments { watchlist_name: \"x\" } }\n");
  CommandResult r = RunCommand({TxflagBinary(), "backtest", "--input", input,
                                "--rules", other, "--out", dir + "/out"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("--fresh"));
  // --fresh starts over.
  EXPECT_EQ(RunCommand({TxflagBinary(), "backtest", "--input", input, "--rules",
                        other, "--out", dir + "/out", "--fresh"})
                .exit_code,
            0);
}

TEST(Cli, ARerunOnACompletedStateGivesTheSameOutputs) {
  std::string dir = FreshDir("cli_rerun");
  std::string input = SmallInput(dir);
  ASSERT_EQ(RunCommand({TxflagBinary(), "backtest", "--input", input, "--out",
                        dir + "/out"})
                .exit_code,
            0);
  std::string alerts = ReadFile(dir + "/out/alerts.jsonl");
  std::string rejects = ReadFile(dir + "/out/rejects.csv");
  ASSERT_EQ(RunCommand({TxflagBinary(), "backtest", "--input", input, "--out",
                        dir + "/out"})
                .exit_code,
            0);
  EXPECT_EQ(ReadFile(dir + "/out/alerts.jsonl"), alerts);
  EXPECT_EQ(ReadFile(dir + "/out/rejects.csv"), rejects);
}

TEST(Cli, GenRejectsBadOptions) {
  std::string dir = FreshDir("cli_gen_bad");
  CommandResult r =
      RunCommand({TxflagBinary(), "gen", "--accounts", "5", "--out", dir});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("accounts"));
}

TEST(Cli, RunConfigFileErrorsNameFileAndLineAndExitTwo) {
  std::string dir = FreshDir("cli_run_config");
  const std::string config = dir + "/run.conf";
  {
    std::ofstream out(config);
    out << "brokers = 127.0.0.1:1\n# a comment\nbogus = 3\n";
  }
  CommandResult r = RunCommand({TxflagBinary(), "run", "--config", config,
                                "--state-dir", dir + "/state"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr(config + ":3: unknown key 'bogus'"));
  r = RunCommand({TxflagBinary(), "run", "--config", dir + "/missing.conf",
                  "--state-dir", dir + "/state"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("missing.conf"));
}

}  // namespace
}  // namespace txflag::testing

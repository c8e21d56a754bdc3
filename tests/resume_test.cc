// Kill-and-resume: a back-test killed with SIGKILL part-way and started again
// on the same state dir ends with exactly the alerts, rejects and counts of an
// uninterrupted run.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/subprocess.h"

namespace txflag::testing {
namespace {

// Strips the timing fields, which differ between runs by nature.
std::string StableSummary(std::string summary) {
  std::string out;
  size_t pos = 0;
  while (pos < summary.size()) {
    size_t end = summary.find('\n', pos);
    if (end == std::string::npos) end = summary.size();
    std::string line = summary.substr(pos, end - pos);
    if (line.find("elapsed_seconds") == std::string::npos &&
        line.find("records_this_run") == std::string::npos &&
        line.find("records_per_second") == std::string::npos &&
        line.find("state_dir") == std::string::npos) {
      out += line + "\n";
    }
    pos = end + 1;
  }
  return out;
}

class KillAndResume : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new std::string(FreshDir("resume_data"));
    CommandResult gen =
        RunCommand({TxflagBinary(), "gen", "--seed", "5", "--accounts", "20000",
                    "--days", "45", "--out", *data_});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    // Append a few malformed and late rows so rejects are resumed too.
    std::string input = *data_ + "/payments.csv";
    FILE* f = fopen(input.c_str(), "a");
    fputs("bad1,2030-01-01T00:00:00Z,DK1,a,DK,DK2,b,DK,-1.00,DKK,MOBILE,,x\n",
          f);
    fputs("late1,2000-01-01T00:00:00Z,DK1,a,DK,DK2,b,DK,1.00,DKK,MOBILE,,x\n",
          f);
    fclose(f);
  }
  static void TearDownTestSuite() { delete data_; }

  std::vector<std::string> Backtest(const std::string& out) {
    return {TxflagBinary(),
            "backtest",
            "--input",
            *data_ + "/payments.csv",
            "--labels",
            *data_ + "/labels.csv",
            "--out",
            out,
            "--commit-interval-ms",
            "20",
            "--no-progress"};
  }

  static std::string* data_;
};

std::string* KillAndResume::data_ = nullptr;

TEST_F(KillAndResume, SigkillAtAnyPointThenRestartGivesTheUninterruptedAlerts) {
  std::string ref = FreshDir("resume_ref");
  auto t0 = std::chrono::steady_clock::now();
  CommandResult r = RunCommand(Backtest(ref));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  double full_ms = std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - t0)
                       .count();
  std::string ref_alerts = ReadFile(ref + "/alerts.jsonl");
  ASSERT_FALSE(ref_alerts.empty());

  int killed_mid_run = 0;
  for (double fraction : {0.15, 0.4, 0.7}) {
    std::string out = FreshDir("resume_" + std::to_string(int(fraction * 100)));
    // Kill once, then kill the resumed run once more, then finish.
    for (int kill = 0; kill < 2; ++kill) {
      pid_t pid = Start(Backtest(out));
      std::this_thread::sleep_for(std::chrono::milliseconds(
          static_cast<int>(full_ms * fraction * (kill == 0 ? 1 : 0.5))));
      ::kill(pid, SIGKILL);
      CommandResult k = Wait(pid);
      if (k.signal == SIGKILL) ++killed_mid_run;
    }
    CommandResult done = RunCommand(Backtest(out));
    ASSERT_EQ(done.exit_code, 0) << done.err;
    EXPECT_EQ(ReadFile(out + "/alerts.jsonl"), ref_alerts)
        << "killed at " << fraction;
    EXPECT_EQ(ReadFile(out + "/rejects.csv"), ReadFile(ref + "/rejects.csv"));
    EXPECT_EQ(StableSummary(ReadFile(out + "/summary.json")),
              StableSummary(ReadFile(ref + "/summary.json")));
  }
  // The kills must really have hit running processes for the test to mean
  // anything.
  EXPECT_GE(killed_mid_run, 4)
      << "the back-test finished too fast to be killed";
}

TEST_F(KillAndResume, SigtermCommitsExitsWith130AndTheRerunFinishes) {
  std::string ref = FreshDir("sigterm_ref");
  CommandResult r = RunCommand(Backtest(ref));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string out = FreshDir("sigterm");
  pid_t pid = Start(Backtest(out));
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ::kill(pid, SIGTERM);
  CommandResult stopped = Wait(pid);
  // 130 when the signal came mid-run (the usual case); 0 if it finished.
  EXPECT_TRUE(stopped.exit_code == 130 || stopped.exit_code == 0)
      << stopped.exit_code;
  CommandResult done = RunCommand(Backtest(out));
  ASSERT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(ReadFile(out + "/alerts.jsonl"), ReadFile(ref + "/alerts.jsonl"));
  EXPECT_EQ(ReadFile(out + "/rejects.csv"), ReadFile(ref + "/rejects.csv"));
}

}  // namespace
}  // namespace txflag::testing

#include "cli/run_command.h"

#include <string>

#include "gtest/gtest.h"

namespace txflag::cli {
namespace {

TEST(RunConfig, ReadsKeysQuotesPropertiesAndComments) {
  RunOptions o;
  o.properties = {"linger.ms=1"};  // from the command line
  const std::string text =
      "# comment\n"
      "brokers = \"h1:9092,h2:9092\"\n"
      "\n"
      "group=g7\r\n"
      "state-dir = /var/lib/txflag\n"
      "metrics-port = 9464\n"
      "allowed-lateness = 600\n"
      "mode = in-process\n"
      "X = security.protocol=SASL_SSL\n"
      "X = linger.ms=20\n";
  ASSERT_TRUE(ApplyRunConfig(text, "run.conf", nullptr, &o).ok());
  EXPECT_EQ(o.brokers, "h1:9092,h2:9092");
  EXPECT_EQ(o.group, "g7");
  EXPECT_EQ(o.state_dir, "/var/lib/txflag");
  EXPECT_EQ(o.metrics_port, 9464);
  EXPECT_EQ(o.allowed_lateness_seconds, 600);
  EXPECT_EQ(o.mode, "in-process");
  // The file's properties first, the command line's last (it wins).
  EXPECT_EQ(o.properties,
            (std::vector<std::string>{"security.protocol=SASL_SSL",
                                      "linger.ms=20", "linger.ms=1"}));
}

TEST(RunConfig, CommandLineWins) {
  RunOptions o;
  o.group = "from-flag";
  ASSERT_TRUE(ApplyRunConfig(
                  "group = from-file\nbrokers = b:1\n", "f",
                  [](std::string_view key) { return key == "group"; }, &o)
                  .ok());
  EXPECT_EQ(o.group, "from-flag");
  EXPECT_EQ(o.brokers, "b:1");
}

TEST(RunConfig, ErrorsNameFileAndLine) {
  RunOptions o;
  absl::Status s =
      ApplyRunConfig("brokers = b:1\nbogus = 1\n", "run.conf", nullptr, &o);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("run.conf:2: unknown key 'bogus'"),
            std::string_view::npos)
      << s;
  s = ApplyRunConfig("\n\ncommit-interval-ms = soon\n", "run.conf", nullptr,
                     &o);
  EXPECT_NE(s.message().find("run.conf:3: commit-interval-ms must be a whole "
                             "number"),
            std::string_view::npos)
      << s;
  s = ApplyRunConfig("brokers\n", "run.conf", nullptr, &o);
  EXPECT_NE(s.message().find("run.conf:1: expected 'key = value'"),
            std::string_view::npos)
      << s;
  s = ApplyRunConfigFile("/nonexistent/run.conf", nullptr, &o);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace txflag::cli

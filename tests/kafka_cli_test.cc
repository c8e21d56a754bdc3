// `txflag broker` and `txflag produce` as a user runs them: the broker as a
// subprocess found through its --bootstrap-file, the producer against it or
// against an in-test mock cluster; what lands in the topic is read back.
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "connectors/kafka/mock_cluster.h"
#include "connectors/kafka/test_consumer.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/payment.pb.h"
#include "tests/subprocess.h"

namespace txflag::connectors::kafka {
namespace {

using ::testing::HasSubstr;
using txflag::testing::CommandResult;
using txflag::testing::FreshDir;
using txflag::testing::ReadFile;
using txflag::testing::RunCommand;
using txflag::testing::TxflagBinary;
using txflag::v1::Payment;

constexpr char kHeader[] =
    "id,timestamp,debtor_account,debtor_name,debtor_country,creditor_account,"
    "creditor_name,creditor_country,amount,currency,channel,mcc,reference\n";

// Five valid rows (p3 a cash deposit: no debtor) and two bad ones (lines 3
// and 6).
constexpr char kRows[] =
    "p1,2025-03-01T20:00:00Z,DK01,Ann,DK,DK02,Bo,DK,250.00,DKK,MOBILE,,pizza\n"
    "p2,2025-03-01T20:05:00Z,DK03,Cy,DK,DK02,Bo,DK,-5.00,DKK,MOBILE,,bad\n"
    "p3,2025-03-01T20:06:00Z,,,,DK02,Bo,DK,1200.00,DKK,CASH,,\n"
    "p4,2025-03-01T20:07:00Z,DK03,Cy,DK,DK04,Di,DK,12.00,DKK,TRANSFER,,rent\n"
    "p5,2025-03-01T20:08:00Z,DK03,Cy,DK,DK02,Bo,DK,12.00,DKK,PIGEON,,bad\n"
    "p6,2025-03-01T20:09:00Z,DK01,Ann,DK,,,,300.00,DKK,CASH,,atm\n"
    "p7,2025-03-01T20:10:00Z,DK05,Ed,SE,DK02,Bo,DK,99.50,EUR,CARD,5812,x\n";

std::string WriteInput(const std::string& dir) {
  std::string path = dir + "/in.csv";
  std::ofstream(path) << kHeader << kRows;
  return path;
}

// Kills the subprocess if the test ends before it was stopped.
struct ProcessGuard {
  pid_t pid;
  ~ProcessGuard() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      txflag::testing::Wait(pid);
    }
  }
};

// The messages of `topic`, by payment id, checking there are exactly
// `expected` and each one's key.
std::map<std::string, Payment> ReadPayments(const std::string& brokers,
                                            const std::string& topic,
                                            int partitions, size_t expected,
                                            bool json) {
  auto count = testing::CountMessages(brokers, topic, partitions);
  EXPECT_TRUE(count.ok()) << count.status();
  if (count.ok()) {
    EXPECT_EQ(*count, static_cast<int64_t>(expected));
  }
  auto messages = testing::ReadTopic(brokers, topic, partitions, expected,
                                     /*timeout_ms=*/5000);
  EXPECT_TRUE(messages.ok()) << messages.status();
  std::map<std::string, Payment> out;
  if (!messages.ok()) return out;
  for (const auto& m : *messages) {
    Payment p;
    if (json) {
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(m.value, &p).ok())
          << m.value;
    } else {
      EXPECT_TRUE(p.ParseFromString(m.value));
    }
    EXPECT_EQ(m.key, p.debtor_account().empty() ? p.creditor_account()
                                                : p.debtor_account())
        << p.id();
    EXPECT_EQ(out.count(p.id()), 0u) << "duplicate " << p.id();
    out[p.id()] = p;
  }
  return out;
}

std::set<std::string> Ids(const std::map<std::string, Payment>& payments) {
  std::set<std::string> ids;
  for (const auto& [id, p] : payments) ids.insert(id);
  return ids;
}

TEST(KafkaCli, BrokerAndProduceHaveHelp) {
  for (const char* command : {"broker", "produce"}) {
    CommandResult r = RunCommand({TxflagBinary(), command, "--help"});
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_THAT(r.out, HasSubstr("Usage")) << command;
  }
  CommandResult r = RunCommand({TxflagBinary(), "produce", "--help"});
  EXPECT_THAT(r.out, HasSubstr("--brokers"));
  EXPECT_THAT(r.out, HasSubstr("-X"));
  EXPECT_THAT(r.out, HasSubstr("--json"));
}

TEST(KafkaCli, ProduceToBrokerSubprocessSendsValidRowsAndRejectsBadOnes) {
  const std::string dir = FreshDir("kafka_cli_broker");
  const std::string bootstrap_file = dir + "/bootstrap";
  ProcessGuard broker{txflag::testing::Start(
      {TxflagBinary(), "broker", "--partitions", "3", "--topics",
       "payments,alerts", "--bootstrap-file", bootstrap_file})};
  std::string brokers;
  for (int i = 0; i < 100 && brokers.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    brokers = std::string(absl::StripAsciiWhitespace(ReadFile(bootstrap_file)));
  }
  ASSERT_FALSE(brokers.empty()) << "txflag broker wrote no bootstrap file";
  EXPECT_EQ(std::vector<std::string>(absl::StrSplit(brokers, ',')).size(), 3u);

  CommandResult r = RunCommand(
      {TxflagBinary(), "produce", "--brokers", brokers, "--topic", "payments",
       "--input", WriteInput(dir), "--rejects", dir + "/rejects.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("5 payments"));
  EXPECT_THAT(r.out, HasSubstr("2 rejected"));

  const std::string rejects = ReadFile(dir + "/rejects.csv");
  EXPECT_THAT(rejects, HasSubstr("in.csv:3,"));
  EXPECT_THAT(rejects, HasSubstr("in.csv:6,"));
  EXPECT_EQ(std::count(rejects.begin(), rejects.end(), '\n'), 3) << rejects;

  auto payments = ReadPayments(brokers, "payments", 3, 5, /*json=*/false);
  EXPECT_EQ(Ids(payments),
            (std::set<std::string>{"p1", "p3", "p4", "p6", "p7"}));
  EXPECT_EQ(payments["p7"].amount_minor(), 9950);
  EXPECT_EQ(payments["p7"].mcc(), 5812u);

  // SIGTERM: a clean stop that removes the bootstrap file.
  ASSERT_EQ(kill(broker.pid, SIGTERM), 0);
  CommandResult stopped = txflag::testing::Wait(broker.pid);
  broker.pid = 0;
  EXPECT_EQ(stopped.exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(bootstrap_file));
}

TEST(KafkaCli, ProduceJsonFromJsonLinesInput) {
  auto cluster = MockCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->CreateTopic("payments", 2, 3).ok());
  const std::string dir = FreshDir("kafka_cli_json");
  const std::string input = dir + "/in.jsonl";
  std::ofstream(input)
      << R"({"id":"j1","timestamp":"2025-03-01T20:00:00Z",)"
      << R"("debtor_account":"DK1","creditor_account":"DK2",)"
      << R"("amount_minor":"500","currency":"DKK","channel":"MOBILE"})"
      << "\n"
      << R"({"id":"j2","timestamp":"2025-03-01T20:00:00Z","bogus":1})"
      << "\n";
  CommandResult r = RunCommand(
      {TxflagBinary(), "produce", "--brokers", (*cluster)->bootstrap_servers(),
       "--topic", "payments", "--input", input, "--json", "--rejects",
       dir + "/rejects.csv", "-X", "linger.ms=1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto payments = ReadPayments((*cluster)->bootstrap_servers(), "payments", 2,
                               1, /*json=*/true);
  EXPECT_EQ(Ids(payments), (std::set<std::string>{"j1"}));
  EXPECT_THAT(ReadFile(dir + "/rejects.csv"), HasSubstr("in.jsonl:2,"));
}

TEST(KafkaCli, StrictStopsAtFirstBadRowWithExitThreeAfterSendingEarlierOnes) {
  auto cluster = MockCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->CreateTopic("payments", 2, 3).ok());
  const std::string dir = FreshDir("kafka_cli_strict");
  CommandResult r = RunCommand(
      {TxflagBinary(), "produce", "--brokers", (*cluster)->bootstrap_servers(),
       "--topic", "payments", "--input", WriteInput(dir), "--strict"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("in.csv:3"));
  auto payments = ReadPayments((*cluster)->bootstrap_servers(), "payments", 2,
                               1, /*json=*/false);
  EXPECT_EQ(Ids(payments), (std::set<std::string>{"p1"}));
}

TEST(KafkaCli, ProduceArgumentErrorsExitTwoAndUnreachableBrokersExitOne) {
  const std::string dir = FreshDir("kafka_cli_errors");
  const std::string input = WriteInput(dir);
  CommandResult no_brokers = RunCommand(
      {TxflagBinary(), "produce", "--topic", "payments", "--input", input});
  EXPECT_EQ(no_brokers.exit_code, 2);
  EXPECT_THAT(no_brokers.err, HasSubstr("--brokers"));
  CommandResult bad_property =
      RunCommand({TxflagBinary(), "produce", "--brokers", "127.0.0.1:1",
                  "--topic", "payments", "--input", input, "--rejects",
                  dir + "/rejects.csv", "-X", "acks=1"});
  EXPECT_EQ(bad_property.exit_code, 2);
  EXPECT_THAT(bad_property.err, HasSubstr("acks"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/rejects.csv"));
  CommandResult missing =
      RunCommand({TxflagBinary(), "produce", "--brokers", "127.0.0.1:1",
                  "--topic", "payments", "--input", dir + "/nope.csv"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("nope.csv"));
  // Nothing listens on port 1 of loopback: delivery times out.
  CommandResult unreachable =
      RunCommand({TxflagBinary(), "produce", "--brokers", "127.0.0.1:1",
                  "--topic", "payments", "--input", input, "--rejects",
                  dir + "/rejects.csv", "-X", "message.timeout.ms=1000"});
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_THAT(unreachable.err, HasSubstr("_MSG_TIMED_OUT"));
}

}  // namespace
}  // namespace txflag::connectors::kafka

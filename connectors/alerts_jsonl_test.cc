#include "connectors/alerts_jsonl.h"

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/strings.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace txflag::connectors {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string TempPath(std::string_view name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return absl::StrCat(::testing::TempDir(), "/txflag_", info->test_suite_name(),
                      "_", info->name(), "_", Av(name));
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

txflag::v1::Alert MakeAlert(std::string id, uint32_t revision) {
  txflag::v1::Alert a;
  a.set_alert_id(std::move(id));
  a.set_revision(revision);
  a.set_account("DK5000400440116243");
  a.add_typologies("SE");
  a.add_rules("fan_in_small");
  a.mutable_window_start()->set_seconds(1709327700);  // 2024-03-01T21:15:00Z
  a.mutable_window_end()->set_seconds(1709414100);
  a.mutable_evidence()->add_transactions("p1");
  auto* agg = a.mutable_evidence()->add_aggregates();
  agg->set_name("distinct_payers");
  agg->set_value(12);
  agg->set_threshold(8);
  agg->set_unit("count");
  a.set_explanation("12 payers in 24h");
  a.mutable_rule_pack()->set_name("default");
  return a;
}

TEST(AlertToJson, OneLineWithProtoNamesZeroesAndRfc3339) {
  txflag::v1::Alert a = MakeAlert("a1", 0);
  std::string json = AlertToJson(a);
  EXPECT_THAT(json, Not(HasSubstr("\n")));
  EXPECT_THAT(json, HasSubstr("\"alert_id\":\"a1\""));
  EXPECT_THAT(json, HasSubstr("\"revision\":0"));
  EXPECT_THAT(json, HasSubstr("\"score\":0"));
  EXPECT_THAT(json, HasSubstr("\"window_start\":\"2024-03-01T21:15:00Z\""));
  EXPECT_THAT(json, HasSubstr("\"transactions_omitted\":0"));
  txflag::v1::Alert back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &back).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(a, back));
}

TEST(AlertToJson, UnprintableAlertGivesAnErrorObject) {
  txflag::v1::Alert a = MakeAlert("bad", 1);
  a.mutable_window_start()->set_seconds(-100000000000LL);  // before year 1
  std::string out;
  EXPECT_EQ(AppendAlertJson(a, &out).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(AlertToJson(a), HasSubstr("\"error\""));
}

TEST(JsonlAlertFile, WritesOneLinePerAlert) {
  std::string path = TempPath("alerts.jsonl");
  auto file = JsonlAlertFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->Write(MakeAlert("a1", 1)).ok());
  ASSERT_TRUE((*file)->Write(MakeAlert("a2", 3)).ok());
  EXPECT_EQ((*file)->lines(), 2u);
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ((*file)->Write(MakeAlert("a3", 1)).code(),
            absl::StatusCode::kFailedPrecondition);
  std::vector<std::string> lines = Lines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], AlertToJson(MakeAlert("a1", 1)));
  EXPECT_THAT(lines[1], HasSubstr("\"revision\":3"));
  EXPECT_EQ(JsonlAlertFile::Open(TempPath("no/such/dir")).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(JsonlAlertSink, AppendsEveryRevision) {
  std::string path = TempPath("revisions.jsonl");
  std::remove(path.c_str());
  for (int run = 0; run < 2; ++run) {
    auto sink = JsonlAlertSink::Open(path);
    ASSERT_TRUE(sink.ok()) << sink.status();
    engine::AlertSink& s = **sink;
    ASSERT_TRUE(s.Emit(MakeAlert("a1", 1)).ok());
    ASSERT_TRUE(s.Emit(MakeAlert("a1", 2)).ok());
    ASSERT_TRUE(s.Flush().ok());
    EXPECT_EQ(Lines(path).size(), 2u * (run + 1));
  }
}

}  // namespace
}  // namespace txflag::connectors

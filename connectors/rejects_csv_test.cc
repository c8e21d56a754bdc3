#include "connectors/rejects_csv.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace txflag::connectors {
namespace {

std::string TempPath(std::string_view name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return absl::StrCat(::testing::TempDir(), "/txflag_", info->test_suite_name(),
                      "_", info->name(), "_", Av(name));
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(AppendCsvField, QuotesOnlyWhenNeeded) {
  std::string out;
  AppendCsvField("plain", &out);
  out += '|';
  AppendCsvField("a,b", &out);
  out += '|';
  AppendCsvField("say \"hi\"", &out);
  out += '|';
  AppendCsvField("two\nlines", &out);
  EXPECT_EQ(out, "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"");
}

TEST(CsvRejectSink, WritesHeaderAndQuotedRows) {
  std::string path = TempPath("rejects.csv");
  std::remove(path.c_str());
  auto sink = CsvRejectSink::Open(path);
  ASSERT_TRUE(sink.ok()) << sink.status();
  ASSERT_TRUE((*sink)->Restore("").ok());
  ASSERT_TRUE(
      (*sink)->Write("p.csv:3", "amount '0' is zero", "a,\"b\"\nc").ok());
  ASSERT_TRUE((*sink)->Write("p.csv:9", "bad", "x").ok());
  EXPECT_EQ((*sink)->rows(), 2u);
  ASSERT_TRUE((*sink)->Flush().ok());
  EXPECT_EQ(Slurp(path),
            "location,reason,raw\n"
            "p.csv:3,amount '0' is zero,\"a,\"\"b\"\"\nc\"\n"
            "p.csv:9,bad,x\n");
  EXPECT_TRUE((*sink)->Close().ok());
  EXPECT_EQ((*sink)->Close().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*sink)->Write("a", "b", "c").code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(CsvRejectSink, RestoreTruncatesToTheCheckpoint) {
  std::string path = TempPath("rejects.csv");
  std::remove(path.c_str());
  std::string checkpoint;
  std::string committed;
  {
    auto sink = CsvRejectSink::Open(path, {.sync = true});
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Write("f:2", "r1", "raw1").ok());
    absl::StatusOr<std::string> cp = (*sink)->Flush();
    ASSERT_TRUE(cp.ok());
    checkpoint = *cp;
    committed = Slurp(path);
    // Written after the commit, then the process "crashes".
    ASSERT_TRUE((*sink)->Write("f:3", "r2", "raw2").ok());
    ASSERT_TRUE((*sink)->Flush().ok());
  }
  EXPECT_NE(Slurp(path), committed);
  {
    auto sink = CsvRejectSink::Open(path);
    ASSERT_TRUE(sink.ok()) << sink.status();
    ASSERT_TRUE((*sink)->Restore(checkpoint).ok());
    EXPECT_EQ(Slurp(path), committed);
    EXPECT_EQ((*sink)->rows(), 1u);
    ASSERT_TRUE((*sink)->Write("f:3", "r2", "raw2").ok());
    ASSERT_TRUE((*sink)->Flush().ok());
    EXPECT_EQ((*sink)->rows(), 2u);
    EXPECT_EQ(Slurp(path), committed + "f:3,r2,raw2\n");
    // An empty checkpoint: a fresh run keeps only the header.
    ASSERT_TRUE((*sink)->Restore("").ok());
    EXPECT_EQ(Slurp(path), "location,reason,raw\n");
    EXPECT_EQ((*sink)->rows(), 0u);
    EXPECT_EQ((*sink)->Restore("12").code(),
              absl::StatusCode::kInvalidArgument);
    // A checkpoint beyond the file: committed rows were lost.
    EXPECT_EQ((*sink)->Restore("100000:5").code(), absl::StatusCode::kDataLoss);
  }
}

TEST(CsvRejectSink, RefusesToOverwriteAnotherFile) {
  std::string path = TempPath("payments.csv");
  {
    std::ofstream out(path, std::ios::trunc);
    out << "id,timestamp\n";
  }
  EXPECT_EQ(CsvRejectSink::Open(path).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Slurp(path), "id,timestamp\n");
  EXPECT_EQ(CsvRejectSink::Open(TempPath("no/such/dir.csv")).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace txflag::connectors

#include "cli/json_writer.h"

#include "base/strings.h"
#include "gtest/gtest.h"

namespace txflag::cli {
namespace {

TEST(JsonWriter, WritesNestedDocumentsWithEscapes) {
  JsonWriter w;
  w.BeginObject();
  w.Key("name").String("a \"quoted\"\nline");
  w.Key("n").Int(-3);
  w.Key("list").BeginArray().Double(0.5).Bool(true).Null().EndArray();
  w.Key("empty").BeginObject().EndObject();
  w.EndObject();
  EXPECT_EQ(w.str(),
            "{\n  \"name\": \"a \\\"quoted\\\"\\nline\",\n  \"n\": -3,\n"
            "  \"list\": [\n    0.5,\n    true,\n    null\n  ],\n"
            "  \"empty\": {}\n}");
}

TEST(JsonQuote, EscapesControlCharacters) {
  EXPECT_EQ(JsonQuote(std::string("a\x01", 2)), "\"a\\u0001\"");
}

}  // namespace
}  // namespace txflag::cli

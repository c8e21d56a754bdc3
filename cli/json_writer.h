// File: cli/json_writer.h
//
// A minimal streaming JSON writer for summary.json: objects, arrays, strings
// (escaped), numbers. The alert and payment JSON comes from protobuf's JSON
// mapping instead; this is for the few hand-shaped reports.
#ifndef TXFLAG_CLI_JSON_WRITER_H_
#define TXFLAG_CLI_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace txflag::cli {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // Inside an object: the next value's key.
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // The document so far, pretty-printed with two-space indents.
  const std::string& str() const { return out_; }

 private:
  void BeforeValue();
  void Newline();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element yet
  bool after_key_ = false;
};

}  // namespace txflag::cli

#endif  // TXFLAG_CLI_JSON_WRITER_H_

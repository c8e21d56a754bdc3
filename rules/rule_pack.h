// File: rules/rule_pack.h
//
// Loading and validating a rule pack (protobuf text format, schema in
// proto/rule_pack.proto) into the rules the engine runs.
//
//   absl::StatusOr<CompiledPack> pack = LoadRulePackFile("rules/default.pack");
//   if (!pack.ok()) { std::cerr << pack.status() << "\n"; return 2; }
//   for (const auto& rule : pack->rules) ...
//
// Every error is InvalidArgument (NotFound for a missing file) and names
// file:line and the key: syntax errors, unknown keys, wrong types, out-of-
// range values, duplicate rule ids, unknown currencies or time zones.
#ifndef TXFLAG_RULES_RULE_PACK_H_
#define TXFLAG_RULES_RULE_PACK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/alert.pb.h"
#include "proto/rule_pack.pb.h"
#include "rules/rule.h"

namespace txflag::rules {

struct CompiledPack {
  // The pack as written, defaults not filled in (proto2 accessors return
  // them).
  txflag::v1::RulePack proto;
  // name, version and "sha256:<hex of the file's bytes>".
  txflag::v1::RulePackStamp stamp;
  // Enabled rules, in file order.
  std::vector<std::unique_ptr<Rule>> rules;
  // Minor-unit exponent of proto.base_currency().
  int base_exponent = 2;
  // Currency code -> base-currency units for one unit (1.0 for the base).
  absl::flat_hash_map<std::string, double> rates;
  absl::TimeZone time_zone;
  // Longest window of any rule, seconds.
  int64_t max_window_seconds = 0;
};

// Parses and validates pack text. `source_name` is used in error messages
// ("rules/default.pack:12: ...").
absl::StatusOr<CompiledPack> CompileRulePack(std::string_view text,
                                             std::string_view source_name);

// Reads `path` and compiles it. NotFound if it cannot be read.
absl::StatusOr<CompiledPack> LoadRulePackFile(const std::string& path);

// The pack shipped in the repository (rules/default.pack), compiled into the
// binary so `txflag` works without a --rules flag.
std::string_view DefaultRulePackText();

// LoadRulePackFile(path), or the built-in default pack when `path` is empty.
absl::StatusOr<CompiledPack> LoadRulePackOrDefault(const std::string& path);

}  // namespace txflag::rules

#endif  // TXFLAG_RULES_RULE_PACK_H_

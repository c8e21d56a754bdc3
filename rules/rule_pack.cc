#include "rules/rule_pack.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/currency.h"
#include "base/hash.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "rules/rule_factory.h"
#include "rules/text_match.h"

namespace txflag::rules {

// Generated from rules/default.pack at build time (rules/embed_pack.cmake).
namespace internal {
extern const char kDefaultRulePack[];
extern const size_t kDefaultRulePackSize;
}  // namespace internal

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::TextFormat;
using ParseInfoTree = TextFormat::ParseInfoTree;

// Built-in exchange rates: DKK for one unit of the currency, approximate 2024
// averages (docs/rules.md lists them with their sources). A pack's `rate`
// entries override them.
struct BuiltinRate {
  const char* code;
  double dkk;
};
constexpr BuiltinRate kBuiltinRates[] = {
    {"EUR", 7.46},    {"USD", 6.90},  {"GBP", 8.81},   {"SEK", 0.65},
    {"NOK", 0.64},    {"PLN", 1.73},  {"RON", 1.50},   {"CHF", 7.83},
    {"CNY", 0.96},    {"JPY", 0.046}, {"AUD", 4.55},   {"CAD", 5.03},
    {"BRL", 1.28},    {"MXN", 0.38},  {"RUB", 0.075},  {"INR", 0.083},
    {"SAR", 1.84},    {"ILS", 1.87},  {"NGN", 0.0047}, {"THB", 0.196},
    {"MAD", 0.69},    {"UAH", 0.17},  {"UGX", 0.0018}, {"XBT", 450000},
    {"ISK", 0.050},   {"CZK", 0.30},  {"HUF", 0.019},  {"TRY", 0.21},
    {"VND", 0.00027}, {"PHP", 0.12},  {"KRW", 0.0051}, {"HKD", 0.88},
    {"SGD", 5.16},    {"NZD", 4.17},  {"ZAR", 0.38},   {"AED", 1.88},
};

// Keeps the first error protobuf's text parser reports.
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (has_error_) return;
    has_error_ = true;
    line_ = line;
    column_ = column;
    message_ = message;
  }
  void AddWarning(int line, google::protobuf::io::ColumnNumber column,
                  const std::string& message) override {}

  bool has_error() const { return has_error_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& message() const { return message_; }

 private:
  bool has_error_ = false;
  int line_ = -1;
  int column_ = -1;
  std::string message_;
};

// Where a message's fields were written: its ParseInfoTree (may be null when
// the message was not written at all) and the 0-based line to blame when a
// field is absent.
struct Node {
  const ParseInfoTree* tree = nullptr;
  const Descriptor* descriptor = nullptr;
  int line = 0;
  std::string path;  // "rule[2].small_transfers"; empty at the top

  // 0-based line of `field` (index -1 for a singular field), or of the
  // enclosing message when the field is absent.
  int LineOf(std::string_view field, int index = -1) const {
    const FieldDescriptor* f = Field(field, index);
    if (f == nullptr) return line;
    int l = tree->GetLocation(f, index).line;
    return l >= 0 ? l : line;
  }
  // "rule[2].small_transfers.max_amount" (index >= 0 adds "[index]").
  std::string PathOf(std::string_view field, int index = -1) const {
    std::string p =
        path.empty() ? std::string(field) : absl::StrCat(path, ".", Av(field));
    if (index >= 0) absl::StrAppend(&p, "[", index, "]");
    return p;
  }
  // The node of nested message `field`. Its absent fields are blamed on the
  // nested message's own line, or on this node's line when `blame_parent`
  // (a rule's kind block: absent thresholds point at the `rule {` line).
  Node Child(std::string_view field, const Descriptor* child_descriptor,
             int index = -1, bool blame_parent = false) const {
    Node child;
    child.descriptor = child_descriptor;
    child.line = blame_parent ? line : LineOf(field, index);
    child.path = PathOf(field, index);
    const FieldDescriptor* f = Field(field, index);
    if (f != nullptr) child.tree = tree->GetTreeForNested(f, index);
    return child;
  }

  // The descriptor of `field` when the tree can be asked about (field,
  // index): protobuf aborts on index -1 for a repeated field and on an index
  // for a singular one.
  const FieldDescriptor* Field(std::string_view field, int index) const {
    if (tree == nullptr || descriptor == nullptr) return nullptr;
    const FieldDescriptor* f = descriptor->FindFieldByName(std::string(field));
    if (f == nullptr || f->is_repeated() != (index >= 0)) return nullptr;
    return f;
  }
};

class Validator {
 public:
  explicit Validator(std::string_view source) : source_(source) {}

  // InvalidArgument "<source>:<line>: <path>: <message>".
  absl::Status Error(const Node& node, std::string_view field, int index,
                     std::string_view message) const {
    return absl::InvalidArgumentError(
        absl::StrCat(Av(source_), ":", node.LineOf(field, index) + 1, ": ",
                     node.PathOf(field, index), ": ", Av(message)));
  }
  absl::Status Error(const Node& node, std::string_view field,
                     std::string_view message) const {
    return Error(node, field, -1, message);
  }

  absl::Status Range(const Node& node, std::string_view field, int64_t value,
                     int64_t lo, int64_t hi, std::string_view unit = "") const {
    if (value >= lo && value <= hi) return absl::OkStatus();
    return Error(
        node, field,
        absl::StrCat("must be between ", lo, " and ", hi,
                     unit.empty() ? "" : " ", Av(unit), ", got ", value));
  }
  absl::Status AtLeastOne(const Node& node, std::string_view field,
                          int64_t value) const {
    if (value >= 1) return absl::OkStatus();
    return Error(node, field, absl::StrCat("must be >= 1, got ", value));
  }
  absl::Status Amount(const Node& node, std::string_view field,
                      double value) const {
    if (!std::isfinite(value) || value < 0) {
      return Error(node, field,
                   absl::StrCat("must be a finite amount >= 0, got ", value));
    }
    if (value > 1e15) {
      return Error(node, field,
                   absl::StrCat("must be at most 1e15, got ", value));
    }
    return absl::OkStatus();
  }
  absl::Status Channels(
      const Node& node,
      const google::protobuf::RepeatedField<int>& channels) const {
    for (int i = 0; i < channels.size(); ++i) {
      if (channels[i] == txflag::v1::Payment::CHANNEL_UNSPECIFIED) {
        return Error(node, "channel", i,
                     "CHANNEL_UNSPECIFIED is not a channel; use TRANSFER, "
                     "CARD, MOBILE, CASH, REMITTANCE or DIRECT_DEBIT");
      }
    }
    return absl::OkStatus();
  }

 private:
  std::string_view source_;
};

bool IsRuleId(const std::string& id) {
  if (id.empty()) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

absl::Status ValidateSmallTransfers(const Validator& v, const Node& n,
                                    const txflag::v1::SmallTransfersRule& c) {
  TXFLAG_RETURN_IF_ERROR(v.Range(n, "window_days", c.window_days(), 1, 366));
  TXFLAG_RETURN_IF_ERROR(v.Amount(n, "min_amount", c.min_amount()));
  TXFLAG_RETURN_IF_ERROR(v.Amount(n, "max_amount", c.max_amount()));
  if (c.max_amount() < c.min_amount()) {
    return v.Error(n, "max_amount",
                   absl::StrCat("must be >= min_amount (", c.min_amount(),
                                "), got ", c.max_amount()));
  }
  TXFLAG_RETURN_IF_ERROR(v.Channels(n, c.channel()));
  TXFLAG_RETURN_IF_ERROR(v.AtLeastOne(n, "min_payments", c.min_payments()));
  TXFLAG_RETURN_IF_ERROR(
      v.AtLeastOne(n, "min_counterparties", c.min_counterparties()));
  TXFLAG_RETURN_IF_ERROR(
      v.AtLeastOne(n, "min_active_days", c.min_active_days()));
  if (c.min_active_days() > c.window_days()) {
    return v.Error(n, "min_active_days",
                   absl::StrCat("must be <= window_days (", c.window_days(),
                                "), got ", c.min_active_days()));
  }
  if (!(c.min_night_share() >= 0 && c.min_night_share() <= 1)) {
    return v.Error(n, "min_night_share",
                   absl::StrCat("must be a share between 0 and 1, got ",
                                c.min_night_share()));
  }
  TXFLAG_RETURN_IF_ERROR(
      v.Range(n, "night_start_hour", c.night_start_hour(), 0, 23));
  TXFLAG_RETURN_IF_ERROR(
      v.Range(n, "night_end_hour", c.night_end_hour(), 0, 23));
  if (c.min_night_share() > 0 && c.night_start_hour() == c.night_end_hour()) {
    return v.Error(n, "night_end_hour",
                   absl::StrCat("must differ from night_start_hour (",
                                c.night_start_hour(),
                                ") when min_night_share > 0: an empty night "
                                "never meets the share"));
  }
  return absl::OkStatus();
}

absl::Status ValidateAdPayments(const Validator& v, const Node& n,
                                const txflag::v1::AdPaymentsRule& c) {
  TXFLAG_RETURN_IF_ERROR(v.Range(n, "window_days", c.window_days(), 1, 366));
  TXFLAG_RETURN_IF_ERROR(v.AtLeastOne(n, "min_payments", c.min_payments()));
  TXFLAG_RETURN_IF_ERROR(v.Amount(n, "max_amount", c.max_amount()));
  for (int i = 0; i < c.watchlist_name_size(); ++i) {
    if (Tokenize(c.watchlist_name(i)).empty()) {
      return v.Error(n, "watchlist_name", i,
                     absl::StrCat("'", c.watchlist_name(i),
                                  "' has no letters or digits to match"));
    }
  }
  for (int i = 0; i < c.watchlist_account_size(); ++i) {
    if (c.watchlist_account(i).empty()) {
      return v.Error(n, "watchlist_account", i, "must not be empty");
    }
  }
  for (int i = 0; i < c.mcc_size(); ++i) {
    if (c.mcc(i) > 9999) {
      return v.Error(n, "mcc", i,
                     absl::StrCat("must be a merchant category code 0-9999, "
                                  "got ",
                                  c.mcc(i)));
    }
  }
  TXFLAG_RETURN_IF_ERROR(
      v.AtLeastOne(n, "min_watchlist_payments", c.min_watchlist_payments()));
  if (c.require_watchlist() && c.watchlist_name().empty() &&
      c.watchlist_account().empty()) {
    return v.Error(n, "require_watchlist",
                   "is true but watchlist_name and watchlist_account are "
                   "empty, so the rule can never fire; add watchlist entries "
                   "or set require_watchlist: false");
  }
  return absl::OkStatus();
}

absl::Status ValidateRentPatterns(const Validator& v, const Node& n,
                                  const txflag::v1::RentPatternsRule& c) {
  TXFLAG_RETURN_IF_ERROR(v.Range(n, "window_days", c.window_days(), 1, 366));
  for (int i = 0; i < c.reference_keyword_size(); ++i) {
    std::vector<std::string> tokens = Tokenize(c.reference_keyword(i));
    if (tokens.size() != 1 || tokens[0].size() > 64) {
      return v.Error(
          n, "reference_keyword", i,
          absl::StrCat("'", c.reference_keyword(i),
                       "' must be one word of letters or digits (at most 64 "
                       "bytes); keywords match whole words of the reference"));
    }
  }
  TXFLAG_RETURN_IF_ERROR(v.Channels(n, c.channel()));
  TXFLAG_RETURN_IF_ERROR(v.AtLeastOne(n, "min_payments_per_landlord",
                                      c.min_payments_per_landlord()));
  TXFLAG_RETURN_IF_ERROR(
      v.Amount(n, "min_total_per_landlord", c.min_total_per_landlord()));
  TXFLAG_RETURN_IF_ERROR(v.AtLeastOne(n, "min_landlords", c.min_landlords()));
  TXFLAG_RETURN_IF_ERROR(
      v.Amount(n, "min_landlord_total", c.min_landlord_total()));
  TXFLAG_RETURN_IF_ERROR(v.AtLeastOne(n, "min_payers", c.min_payers()));
  return absl::OkStatus();
}

absl::Status ValidateRule(const Validator& v, const Node& n,
                          const txflag::v1::Rule& rule) {
  if (!IsRuleId(rule.id())) {
    return v.Error(n, "id",
                   rule.has_id()
                       ? absl::StrCat("'", rule.id(),
                                      "' must be lower-case letters, digits "
                                      "and '_' ([a-z0-9_]+)")
                       : std::string("is required ([a-z0-9_]+, unique)"));
  }
  if (rule.typology().empty()) {
    return v.Error(n, "typology",
                   "at least one is required: SE (sexual exploitation), FL "
                   "(forced labour) or DB (debt bondage)");
  }
  absl::flat_hash_set<std::string> typologies;
  for (int i = 0; i < rule.typology_size(); ++i) {
    const std::string& t = rule.typology(i);
    if (t != "SE" && t != "FL" && t != "DB") {
      return v.Error(n, "typology", i,
                     absl::StrCat("'", t, "' is not SE, FL or DB"));
    }
    if (!typologies.insert(t).second) {
      return v.Error(n, "typology", i, absl::StrCat("'", t, "' is repeated"));
    }
  }
  if (!(rule.base_score() > 0 && rule.base_score() <= 100)) {
    return v.Error(
        n, "base_score",
        absl::StrCat("must be in (0, 100], got ", rule.base_score()));
  }
  switch (rule.kind_case()) {
    case txflag::v1::Rule::kSmallTransfers:
      return ValidateSmallTransfers(
          v,
          n.Child("small_transfers",
                  txflag::v1::SmallTransfersRule::descriptor(), -1, true),
          rule.small_transfers());
    case txflag::v1::Rule::kAdPayments:
      return ValidateAdPayments(
          v,
          n.Child("ad_payments", txflag::v1::AdPaymentsRule::descriptor(), -1,
                  true),
          rule.ad_payments());
    case txflag::v1::Rule::kRentPatterns:
      return ValidateRentPatterns(
          v,
          n.Child("rent_patterns", txflag::v1::RentPatternsRule::descriptor(),
                  -1, true),
          rule.rent_patterns());
    case txflag::v1::Rule::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(v.Error(n, "kind", "").message(),
                   "no rule kind set: add one of small_transfers { ... }, "
                   "ad_payments { ... } or rent_patterns { ... }"));
}

// Fills pack->rates from the built-ins and the pack's `rate` entries.
absl::Status BuildRates(const Validator& v, const Node& root,
                        CompiledPack* pack) {
  const txflag::v1::RulePack& proto = pack->proto;
  const std::string& base = proto.base_currency();
  absl::flat_hash_map<std::string, double> given;  // from the pack
  for (int i = 0; i < proto.rate_size(); ++i) {
    const txflag::v1::ExchangeRate& r = proto.rate(i);
    Node n = root.Child("rate", txflag::v1::ExchangeRate::descriptor(), i);
    if (!CurrencyExponent(r.currency()).has_value()) {
      return v.Error(n, "currency",
                     absl::StrCat("'", r.currency(),
                                  "' is not an ISO 4217 currency code (or "
                                  "XBT); write it in upper case, e.g. EUR"));
    }
    if (!(std::isfinite(r.rate()) && r.rate() > 0)) {
      return v.Error(
          n, "rate",
          absl::StrCat("must be a finite number > 0 (", base, " for one ",
                       r.currency(), "), got ", r.rate()));
    }
    if (r.currency() == base && r.rate() != 1.0) {
      return v.Error(n, "rate",
                     absl::StrCat("the base currency ", base,
                                  " is worth 1 of itself, got ", r.rate()));
    }
    if (!given.emplace(r.currency(), r.rate()).second) {
      return v.Error(n, "currency",
                     absl::StrCat("'", r.currency(),
                                  "' already has a rate earlier in the pack"));
    }
  }

  // DKK for one unit of the base currency.
  double dkk_per_base = 0;
  if (base == "DKK") {
    dkk_per_base = 1;
  } else if (auto it = given.find("DKK"); it != given.end()) {
    dkk_per_base = 1.0 / it->second;
  } else {
    for (const BuiltinRate& b : kBuiltinRates) {
      if (base == b.code) dkk_per_base = b.dkk;
    }
  }
  if (dkk_per_base <= 0) {
    return v.Error(root, "base_currency",
                   absl::StrCat("no built-in DKK rate for ", base,
                                " to convert the built-in exchange rates; add "
                                "rate { currency: \"DKK\" rate: <",
                                base, " for one DKK> }"));
  }
  pack->rates.clear();
  pack->rates["DKK"] = 1.0 / dkk_per_base;
  for (const BuiltinRate& b : kBuiltinRates) {
    pack->rates[b.code] = b.dkk / dkk_per_base;
  }
  for (const auto& [code, rate] : given) pack->rates[code] = rate;
  pack->rates[base] = 1.0;
  return absl::OkStatus();
}

// Protobuf reports an unknown key at the token after it; find where the key
// itself starts on 0-based `line` (the name is quoted last in `message`).
// Returns `column` unchanged when it cannot tell.
int KeyColumn(std::string_view text, int line, int column,
              const std::string& message) {
  size_t close = message.rfind('"');
  size_t open = close == std::string::npos || close == 0
                    ? std::string::npos
                    : message.rfind('"', close - 1);
  if (open == std::string::npos || line < 0) return column;
  std::string_view key(message.data() + open + 1, close - open - 1);
  size_t start = 0;
  for (int l = 0; l < line; ++l) {
    start = text.find('\n', start);
    if (start == std::string_view::npos) return column;
    ++start;
  }
  size_t end = text.find('\n', start);
  std::string_view text_line =
      text.substr(start, end == std::string_view::npos ? end : end - start);
  size_t at = text_line.rfind(
      key, column < 0 ? std::string_view::npos : static_cast<size_t>(column));
  return at == std::string_view::npos || key.empty() ? column
                                                     : static_cast<int>(at);
}

}  // namespace

absl::StatusOr<CompiledPack> CompileRulePack(std::string_view text,
                                             std::string_view source_name) {
  CompiledPack pack;
  FirstErrorCollector errors;
  ParseInfoTree tree;
  TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&tree);
  if (!parser.ParseFromString(std::string(text), &pack.proto) ||
      errors.has_error()) {
    std::string hint;
    int column = errors.column();
    if (errors.message().find("has no field named") != std::string::npos) {
      hint =
          " (the keys are listed in proto/rule_pack.proto and docs/rules.md)";
      column = KeyColumn(text, errors.line(), column, errors.message());
    }
    return absl::InvalidArgumentError(absl::StrCat(
        Av(source_name), ":", errors.line() + 1, ":", column + 1, ": ",
        errors.has_error() ? errors.message() : "cannot parse the pack", hint));
  }

  const txflag::v1::RulePack& p = pack.proto;
  Validator v(source_name);
  Node root;
  root.tree = &tree;
  root.descriptor = txflag::v1::RulePack::descriptor();
  root.line = 0;

  if (p.name().empty()) {
    return v.Error(root, "name",
                   "is required: name the pack, e.g. name: \"txflag-default\"");
  }
  if (p.version().empty()) {
    return v.Error(root, "version",
                   "is required: version the pack, e.g. version: \"1.0.0\"");
  }
  std::optional<int> exponent = CurrencyExponent(p.base_currency());
  if (!exponent.has_value()) {
    return v.Error(root, "base_currency",
                   absl::StrCat("'", p.base_currency(),
                                "' is not an ISO 4217 currency code (or XBT); "
                                "write it in upper case, e.g. DKK"));
  }
  pack.base_exponent = *exponent;
  if (!absl::LoadTimeZone(Av(p.time_zone()), &pack.time_zone)) {
    return v.Error(
        root, "time_zone",
        absl::StrCat("cannot load time zone '", p.time_zone(),
                     "': use an IANA name such as Europe/Copenhagen, and make "
                     "sure the time zone database is installed (Debian: "
                     "apt-get install tzdata)"));
  }
  TXFLAG_RETURN_IF_ERROR(
      v.Range(root, "suppression_days", p.suppression_days(), 1, 3650, "days"));
  TXFLAG_RETURN_IF_ERROR(v.Range(root, "max_evidence_transactions",
                                 p.max_evidence_transactions(), 1, 100000));
  TXFLAG_RETURN_IF_ERROR(BuildRates(v, root, &pack));

  absl::flat_hash_map<std::string, int> ids;  // id -> index
  for (int i = 0; i < p.rule_size(); ++i) {
    const txflag::v1::Rule& rule = p.rule(i);
    Node n = root.Child("rule", txflag::v1::Rule::descriptor(), i);
    TXFLAG_RETURN_IF_ERROR(ValidateRule(v, n, rule));
    auto [it, inserted] = ids.emplace(rule.id(), i);
    if (!inserted) {
      return v.Error(
          n, "id",
          absl::StrCat("'", rule.id(), "' is already the id of rule[",
                       it->second, "]; rule ids must be unique"));
    }
    if (!rule.enabled()) continue;
    absl::StatusOr<std::unique_ptr<Rule>> compiled =
        MakeRule(rule, pack.base_exponent, p.base_currency());
    if (!compiled.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Av(source_name), ":", n.line + 1, ": ", n.path, ": ",
                       compiled.status().message()));
    }
    pack.max_window_seconds =
        std::max(pack.max_window_seconds, (*compiled)->window_seconds());
    pack.rules.push_back(*std::move(compiled));
  }

  pack.stamp.set_name(p.name());
  pack.stamp.set_version(p.version());
  pack.stamp.set_content_hash(absl::StrCat("sha256:", Sha256Hex(text)));
  return pack;
}

absl::StatusOr<CompiledPack> LoadRulePackFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return absl::NotFoundError(absl::StrCat(
        "cannot read rule pack '", path, "': it is a directory, not a file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read rule pack '", path,
                                            "': ", std::strerror(errno)));
  }
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  if (in.bad()) {
    return absl::NotFoundError(
        absl::StrCat("cannot read rule pack '", path, "': read error"));
  }
  return CompileRulePack(text, path);
}

std::string_view DefaultRulePackText() {
  return std::string_view(internal::kDefaultRulePack,
                          internal::kDefaultRulePackSize);
}

absl::StatusOr<CompiledPack> LoadRulePackOrDefault(const std::string& path) {
  if (path.empty()) {
    return CompileRulePack(DefaultRulePackText(), "<built-in default pack>");
  }
  return LoadRulePackFile(path);
}

}  // namespace txflag::rules

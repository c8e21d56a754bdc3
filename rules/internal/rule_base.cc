#include "rules/internal/rule_base.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/decimal.h"
#include "base/strings.h"

namespace txflag::rules::internal {
namespace {

double Pow10(int e) {
  double p = 1;
  for (int i = 0; i < e; ++i) p *= 10;
  return p;
}

// "1234567.89" -> "1,234,567.89".
std::string GroupThousands(const std::string& plain) {
  size_t start = plain[0] == '-' ? 1 : 0;
  size_t dot = plain.find('.');
  size_t int_end = dot == std::string::npos ? plain.size() : dot;
  std::string out = plain.substr(0, start);
  for (size_t i = start; i < int_end; ++i) {
    if (i > start && (int_end - i) % 3 == 0) out.push_back(',');
    out.push_back(plain[i]);
  }
  out.append(plain, int_end, std::string::npos);
  return out;
}

}  // namespace

absl::StatusOr<int64_t> Money::ToMinor(double major) const {
  if (!std::isfinite(major) || major < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "amount ", major, " is not a finite, non-negative number"));
  }
  double minor = major * Pow10(exponent);
  if (minor >= 9.0e18) {
    return absl::InvalidArgumentError(
        absl::StrCat("amount ", major, " ", code, " is too large"));
  }
  return static_cast<int64_t>(std::llround(minor));
}

double Money::ToMajor(int64_t minor) const {
  return static_cast<double>(minor) / Pow10(exponent);
}

std::string Money::Format(int64_t minor) const {
  return absl::StrCat(GroupThousands(FormatMinor(minor, exponent)), " ", code);
}

std::string Money::FormatThreshold(int64_t minor) const {
  std::string plain = FormatMinor(minor, exponent);
  size_t dot = plain.find('.');
  if (dot != std::string::npos &&
      plain.find_first_not_of('0', dot + 1) == std::string::npos) {
    plain.resize(dot);
  }
  return GroupThousands(plain);
}

RuleBase::RuleBase(const txflag::v1::Rule& config, uint32_t window_days,
                   Money money)
    : id_(config.id()),
      typologies_(config.typology().begin(), config.typology().end()),
      base_score_(config.base_score()),
      window_days_(window_days),
      window_seconds_(static_cast<int64_t>(window_days) * 86400),
      money_(std::move(money)) {}

txflag::v1::Aggregate RuleBase::MakeAggregate(std::string_view name,
                                              double value, double threshold,
                                              std::string_view unit) {
  txflag::v1::Aggregate a;
  a.set_name(std::string(name));
  a.set_value(value);
  a.set_threshold(threshold);
  a.set_unit(std::string(unit));
  return a;
}

txflag::v1::Aggregate RuleBase::TotalAggregate(std::string_view name,
                                               int64_t minor) const {
  return MakeAggregate(name, money_.ToMajor(minor), 0, money_.code);
}

std::string Plural(size_t n, std::string_view singular,
                   std::string_view plural) {
  return absl::StrCat(n, " ", Av(n == 1 ? singular : plural));
}

}  // namespace txflag::rules::internal

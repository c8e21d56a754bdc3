#include "connectors/labels.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "connectors/file_source.h"

namespace txflag::connectors {

absl::StatusOr<engine::Labels> ReadLabelsCsv(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot open labels file '", path, "'"));
  }
  engine::Labels labels;
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    absl::string_view text = absl::StripSuffix(line, "\r");
    if (n == 1) {
      if (absl::StripPrefix(text, "\xEF\xBB\xBF") != "account,typology") {
        return absl::InvalidArgumentError(
            absl::StrCat(path,
                         ":1: the labels file must start with the header "
                         "'account,typology', found '",
                         text, "'"));
      }
      continue;
    }
    if (text.empty()) continue;
    std::vector<absl::string_view> fields = absl::StrSplit(text, ',');
    if (fields.size() != 2 || fields[0].empty() || fields[1].empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":", n,
          ": expected 'account,typology' with both fields non-empty, found '",
          text, "'"));
    }
    labels.positives[std::string(fields[0])].insert(std::string(fields[1]));
  }
  if (in.bad()) {
    return absl::UnavailableError(
        absl::StrCat("error reading labels file '", path, "'"));
  }
  return labels;
}

absl::StatusOr<engine::Labels> ReadAmlworldLabels(const std::string& path) {
  TXFLAG_ASSIGN_OR_RETURN(auto source,
                          FileSource::Open(path, FileFormat::kAmlworld));
  engine::Labels labels;
  engine::SourceRecord record;
  while (true) {
    TXFLAG_ASSIGN_OR_RETURN(bool more, source->Next(&record));
    if (!more) break;
    if (record.kind != engine::SourceRecord::Kind::kPayment ||
        !record.label.value_or(false)) {
      continue;
    }
    for (const std::string* account : {&record.payment.debtor_account(),
                                       &record.payment.creditor_account()}) {
      if (!account->empty()) labels.positives[*account].insert("laundering");
    }
  }
  return labels;
}

}  // namespace txflag::connectors

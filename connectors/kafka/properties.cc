#include "connectors/kafka/properties.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/strings.h"

namespace txflag::connectors::kafka {

absl::StatusOr<std::pair<std::string, std::string>> ParseKafkaProperty(
    std::string_view key_value) {
  const size_t eq = key_value.find('=');
  const absl::string_view key =
      eq == std::string_view::npos
          ? absl::string_view()
          : absl::StripAsciiWhitespace(Av(key_value.substr(0, eq)));
  if (key.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Kafka property '", Av(key_value),
                     "' is not key=value (e.g. -X linger.ms=20)"));
  }
  return std::make_pair(std::string(key),
                        std::string(key_value.substr(eq + 1)));
}

}  // namespace txflag::connectors::kafka

#include "engine/memory.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "base/strings.h"

namespace txflag::engine {

absl::StatusOr<std::optional<std::string>> MemoryStateStore::Get(
    std::string_view key) {
  auto it = data_.find(key);
  if (it == data_.end()) return std::nullopt;
  return it->second;
}

absl::Status MemoryStateStore::Write(const StateBatch& batch) {
  batch.ForEach(
      [&](std::string_view key, std::optional<std::string_view> value) {
        if (value.has_value()) {
          data_[std::string(key)] = std::string(*value);
        } else if (auto it = data_.find(key); it != data_.end()) {
          data_.erase(it);
        }
      });
  ++writes_;
  return absl::OkStatus();
}

absl::Status MemoryStateStore::Scan(
    std::string_view prefix,
    absl::FunctionRef<bool(std::string_view, std::string_view)> fn) {
  for (auto it = data_.lower_bound(prefix);
       it != data_.end() && std::string_view(it->first).starts_with(prefix);
       ++it) {
    if (!fn(it->first, it->second)) break;
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> VectorSource::Next(SourceRecord* record) {
  if (next_ >= records_.size()) return false;
  *record = records_[next_++];
  return true;
}

std::string VectorSource::Checkpoint() const { return std::to_string(next_); }

absl::Status VectorSource::Restore(std::string_view checkpoint) {
  if (checkpoint.empty()) {
    next_ = 0;
    return absl::OkStatus();
  }
  size_t n = 0;
  auto [ptr, ec] = std::from_chars(checkpoint.data(),
                                   checkpoint.data() + checkpoint.size(), n);
  if (ec != std::errc() || ptr != checkpoint.data() + checkpoint.size() ||
      n > records_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad vector source checkpoint '", Av(checkpoint), "'"));
  }
  next_ = n;
  return absl::OkStatus();
}

double VectorSource::Progress() const {
  return records_.empty() ? 1.0 : static_cast<double>(next_) / records_.size();
}

absl::Status MemoryRejectSink::Write(std::string_view location,
                                     std::string_view reason,
                                     std::string_view raw) {
  rows_.push_back(
      {std::string(location), std::string(reason), std::string(raw)});
  return absl::OkStatus();
}

absl::StatusOr<std::string> MemoryRejectSink::Flush() {
  return std::to_string(rows_.size());
}

absl::Status MemoryRejectSink::Restore(std::string_view checkpoint) {
  size_t n = 0;
  if (!checkpoint.empty()) {
    auto [ptr, ec] = std::from_chars(checkpoint.data(),
                                     checkpoint.data() + checkpoint.size(), n);
    if (ec != std::errc() || n > rows_.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad reject checkpoint '", Av(checkpoint), "'"));
    }
  }
  rows_.resize(n);
  return absl::OkStatus();
}

}  // namespace txflag::engine

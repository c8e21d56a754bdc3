#include "cli/exit_code.h"

#include <string>

#include "absl/strings/cord.h"

namespace txflag::cli {
namespace {
constexpr char kExitPayload[] = "txflag/exit";
}  // namespace

absl::Status WithExit(absl::Status status, int code) {
  if (!status.ok()) {
    status.SetPayload(kExitPayload, absl::Cord(std::to_string(code)));
  }
  return status;
}

int ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  if (auto payload = status.GetPayload(kExitPayload); payload.has_value()) {
    return std::stoi(std::string(*payload));
  }
  switch (status.code()) {
    case absl::StatusCode::kCancelled:
      return kExitInterrupted;
    case absl::StatusCode::kFailedPrecondition:
      return kExitState;
    default:
      return kExitFailure;
  }
}

}  // namespace txflag::cli

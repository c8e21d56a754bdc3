// File: base/status_macros.h
//
// The Abseil shipped with Debian 12 (20220623) has no status macros, so txflag
// defines its own, once, here.
//
//   absl::Status Load(...) {
//     TXFLAG_RETURN_IF_ERROR(Open(...));
//     TXFLAG_ASSIGN_OR_RETURN(Pack pack, Parse(...));
//   }
//
// IgnoreError() is the single, searchable place where a Status is dropped on
// purpose (RocksDB's PermitUncheckedError()).
#ifndef TXFLAG_BASE_STATUS_MACROS_H_
#define TXFLAG_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define TXFLAG_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status txflag_status_ = (expr);          \
    if (!txflag_status_.ok()) return txflag_status_; \
  } while (0)

#define TXFLAG_STATUS_CONCAT_INNER(a, b) a##b
#define TXFLAG_STATUS_CONCAT(a, b) TXFLAG_STATUS_CONCAT_INNER(a, b)

#define TXFLAG_ASSIGN_OR_RETURN(lhs, rexpr) \
  TXFLAG_ASSIGN_OR_RETURN_IMPL(             \
      TXFLAG_STATUS_CONCAT(txflag_statusor_, __LINE__), lhs, rexpr)

#define TXFLAG_ASSIGN_OR_RETURN_IMPL(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

namespace txflag {

// Drops `status` deliberately. Use only where failure is harmless and say why
// at the call site.
inline void IgnoreError(const absl::Status& status) { (void)status; }

}  // namespace txflag

#endif  // TXFLAG_BASE_STATUS_MACROS_H_

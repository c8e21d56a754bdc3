// File: connectors/labels.h
//
// Ground truth for back-tests: which accounts are positives.
//
//  - A labels CSV with the header `account,typology` and one row per positive
//    account (an account may have several rows, one per typology), as
//    `txflag gen` writes it.
//  - AMLworld's transaction labels: both accounts of every transaction with
//    Is Laundering = 1 are positives, with typology "laundering".
#ifndef TXFLAG_CONNECTORS_LABELS_H_
#define TXFLAG_CONNECTORS_LABELS_H_

#include <string>

#include "absl/status/statusor.h"
#include "engine/metrics.h"

namespace txflag::connectors {

// Reads a labels CSV. NotFound if it cannot be opened; InvalidArgument naming
// "<path>:<line>" for a wrong header, a row without exactly two fields or an
// empty account or typology.
absl::StatusOr<engine::Labels> ReadLabelsCsv(const std::string& path);

// Reads the positives out of an AMLworld transaction file (the payments
// input itself). Rows the reader rejects are skipped (the back-test reports
// them already).
absl::StatusOr<engine::Labels> ReadAmlworldLabels(const std::string& path);

}  // namespace txflag::connectors

#endif  // TXFLAG_CONNECTORS_LABELS_H_

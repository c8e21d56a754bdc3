// File: connectors/generator/generator.h
//
// `txflag gen`: a synthetic, labelled population of a Danish retail bank, in
// the canonical payment CSV. Normal customers (salaries, rent, card
// purchases, MobilePay, direct debits, cash), "traps" (normal customers that
// look like trafficking indicators: landlords, club treasurers, students,
// shops buying ads, migrant workers, ...) and trafficking rings (sexual
// exploitation SE, forced labour FL, debt bondage DB) that each show only a
// random subset of the indicators in docs/indicators, with parameters varied
// per ring. The labels let rule packs be back-tested for recall and for alert
// volume on normal customers. See docs/generator.md.
//
//   GeneratorOptions options;
//   options.seed = 7;
//   options.accounts = 150000;
//   options.days = 30;
//   absl::StatusOr<GeneratorStats> stats = GeneratePopulation(options, "out");
//
// Writes into the output directory (created if missing, files overwritten):
//   payments.csv  id,timestamp,debtor_account,debtor_name,debtor_country,
//                 creditor_account,creditor_name,creditor_country,amount,
//                 currency,channel,mcc,reference
//                 (rows in non-decreasing timestamp order, ids P000000000001..)
//   labels.csv    account,typology      one row per trafficking-linked account
//   traps.csv     account,trap          normal customers resembling indicators
//   rings.csv     ring,typology,account,role,indicators
//
// Deterministic: the same options give byte-identical files on every machine
// (own PRNG and distributions, no floating-point library calls).
#ifndef TXFLAG_CONNECTORS_GENERATOR_GENERATOR_H_
#define TXFLAG_CONNECTORS_GENERATOR_GENERATOR_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace txflag::generator {

struct GeneratorOptions {
  // Seed of the pseudo-random generator; any value. Default 1.
  uint64_t seed = 1;
  // Customers (accounts) of the simulated bank, 100 to 20,000,000. Each makes
  // about 2-3 payments a day. Default 10,000.
  int64_t accounts = 10000;
  // Local (Europe/Copenhagen) calendar days simulated, 1 to 3,660. The first
  // rows are at local midnight of start_date, i.e. 22:00 or 23:00 UTC the day
  // before. Default 60.
  int days = 60;
  // First local day, "YYYY-MM-DD" (1971-9998). Default "2025-01-01".
  std::string start_date = "2025-01-01";
  // Trafficking rings; -1 means accounts / 1500, at least 3. At most
  // accounts / 40. With 3 or more rings every typology (SE, FL, DB) is
  // present. Default -1.
  int rings = -1;
  // Scale of the trap populations (landlords, club treasurers, ...): 1 is
  // the documented share of each, 0 leaves them out. 0 to 10. Default 1.
  double trap_scale = 1.0;

  // InvalidArgument naming the field, its value and the allowed range.
  absl::Status Validate() const;
  // rings, with -1 resolved.
  int EffectiveRings() const;
};

struct GeneratorStats {
  int64_t payments = 0;          // rows of payments.csv
  int64_t customers = 0;         // accounts of the simulated bank
  int64_t external_parties = 0;  // counterparties at other banks, merchants
  int64_t rings = 0;             // rings described in rings.csv
  int64_t rings_se = 0, rings_fl = 0, rings_db = 0;
  int64_t labelled_accounts = 0;  // rows of labels.csv
  int64_t trap_accounts = 0;      // rows of traps.csv
  int64_t payments_bytes = 0;     // size of payments.csv
  int64_t first_timestamp = 0;    // Unix seconds of the first and last row
  int64_t last_timestamp = 0;
};

// Progress callback: called after each simulated day with the day just
// written (1-based), the number of days and the payments written so far.
using GeneratorProgress =
    std::function<void(int day, int days, int64_t payments)>;

// Generates the population described by `options` into `out_dir`.
// Errors: InvalidArgument from options.Validate(); NotFound,
// PermissionDenied, ResourceExhausted (disk full) or Internal when a file
// cannot be created or written (partial files may remain).
// Single-threaded; independent calls may run concurrently with different
// output directories.
absl::StatusOr<GeneratorStats> GeneratePopulation(
    const GeneratorOptions& options, const std::string& out_dir,
    GeneratorProgress progress = {});

}  // namespace txflag::generator

#endif  // TXFLAG_CONNECTORS_GENERATOR_GENERATOR_H_

// End-to-end benchmark: back-tests a generated file of about 5 million
// payments with the default rule pack and RocksDB state, exactly as
// `txflag backtest` does (it runs the built binary), and prints payments/s and
// peak RSS next to the ceiling measured in the same run: a bare read of the
// same file through the CSV reader.
//
//   build/bench/backtest_bench [--accounts 120000] [--days 20] [--dir DIR]
//
// Targets (developers' brief): >= 500,000 payments/s single thread, peak RSS
// < 2 GiB. Exit code 1 when a target is missed.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "connectors/file_source.h"
#include "connectors/generator/generator.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct ChildResult {
  int exit_code = -1;
  double seconds = 0;
  long max_rss_kib = 0;
};

ChildResult RunChild(const std::vector<std::string>& argv) {
  auto start = Clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  struct rusage usage = {};
  wait4(pid, &status, 0, &usage);
  ChildResult r;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.max_rss_kib = usage.ru_maxrss;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t accounts = 120000;
  int days = 20;
  std::string dir = std::string(TXFLAG_BINARY_DIR) + "/bench-data";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--accounts")) accounts = std::stoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--days")) days = std::stoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
  }
  const std::string data =
      dir + "/data-" + std::to_string(accounts) + "-" + std::to_string(days);
  const std::string input = data + "/payments.csv";
  if (!fs::exists(input)) {
    txflag::generator::GeneratorOptions g;
    g.seed = 42;
    g.accounts = accounts;
    g.days = days;
    auto t0 = Clock::now();
    auto stats = txflag::generator::GeneratePopulation(g, data);
    if (!stats.ok()) {
      std::fprintf(stderr, "gen failed: %s\n",
                   std::string(stats.status().message()).c_str());
      return 2;
    }
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf(
        "generated %lld payments (%.0f MiB) in %.1f s: %.0f payments/s\n",
        static_cast<long long>(stats->payments),
        stats->payments_bytes / 1048576.0, s, stats->payments / s);
  }

  // Ceiling: the CSV reader alone over the same file.
  auto t0 = Clock::now();
  auto source = txflag::connectors::OpenFileSource(
      input, txflag::connectors::FileFormat::kAuto);
  if (!source.ok()) return 2;
  txflag::engine::SourceRecord record;
  int64_t rows = 0;
  while ((*source)->Next(&record).value_or(false)) ++rows;
  double read_s = std::chrono::duration<double>(Clock::now() - t0).count();
  double read_rate = rows / read_s;

  // The product: txflag backtest, fresh RocksDB state.
  const std::string out = dir + "/out";
  ChildResult bt =
      RunChild({std::string(TXFLAG_BINARY_DIR) + "/txflag", "backtest",
                "--input", input, "--labels", data + "/labels.csv", "--out",
                out, "--fresh", "--no-progress"});
  if (bt.exit_code != 0) {
    std::fprintf(stderr, "backtest failed with exit code %d\n", bt.exit_code);
    return 2;
  }
  double rate = rows / bt.seconds;
  double rss_mib = bt.max_rss_kib / 1024.0;
  std::printf("\ninput: %s (%lld payments, %.0f MiB)\n", input.c_str(),
              static_cast<long long>(rows), fs::file_size(input) / 1048576.0);
  std::printf("BM_CsvReadOnly      %10.0f payments/s  (%.2f s)\n", read_rate,
              read_s);
  std::printf(
      "BM_BacktestEndToEnd %10.0f payments/s  (%.2f s, process wall "
      "time incl. start-up and writing alerts)  peak RSS %.0f MiB\n",
      rate, bt.seconds, rss_mib);
  std::printf("ratio end-to-end / read-only: %.2f\n", rate / read_rate);
  bool ok = rate >= 500000 && rss_mib < 2048;
  std::printf("targets: >= 500,000 payments/s: %s; peak RSS < 2 GiB: %s\n",
              rate >= 500000 ? "met" : "MISSED",
              rss_mib < 2048 ? "met" : "MISSED");
  return ok ? 0 : 1;
}

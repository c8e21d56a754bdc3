#include "cli/broker_command.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "cli/exit_code.h"
#include "connectors/kafka/mock_cluster.h"

namespace txflag::cli {
namespace {

namespace fs = std::filesystem;
// Writes `text` to `path` through a temporary file and a rename, so a reader
// polling for the file sees all of it or nothing.
absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      return absl::UnavailableError(
          absl::StrCat("cannot write the bootstrap file ", tmp));
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot rename ", tmp, " to ", path, ": ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status BrokerOptions::Validate() const {
  if (partitions < 1 || partitions > 10000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--partitions must be between 1 and 10000, not ", partitions));
  }
  if (topics.empty()) {
    return absl::InvalidArgumentError("--topics: no topic given");
  }
  for (const std::string& topic : topics) {
    if (topic.empty()) {
      return absl::InvalidArgumentError(
          "--topics: empty topic name (a stray comma?)");
    }
  }
  if (stop == nullptr) {
    return absl::InvalidArgumentError("broker: no stop flag (internal error)");
  }
  return absl::OkStatus();
}

absl::Status RunBroker(const BrokerOptions& options) {
  if (absl::Status s = options.Validate(); !s.ok()) {
    return WithExit(s, kExitUsage);
  }
  absl::StatusOr<std::unique_ptr<connectors::kafka::MockCluster>> cluster =
      connectors::kafka::MockCluster::Start();
  if (!cluster.ok()) return WithExit(cluster.status(), kExitFailure);
  connectors::kafka::MockCluster& c = **cluster;
  for (const std::string& topic : options.topics) {
    absl::Status s =
        c.CreateTopic(topic, options.partitions, std::min(3, c.broker_count()));
    if (!s.ok()) return WithExit(s, kExitFailure);
  }
  const std::string& servers = c.bootstrap_servers();
  if (!options.bootstrap_file.empty()) {
    absl::Status s =
        WriteFileAtomically(options.bootstrap_file, servers + "\n");
    if (!s.ok()) return WithExit(s, kExitFailure);
  }
  std::printf("%s\n", servers.c_str());
  std::fflush(stdout);
  std::fprintf(stderr,
               "txflag broker: %d brokers on %s (librdkafka mock cluster: "
               "about 5 MiB kept per partition, no transactions)\n"
               "  topics: %s (%d partitions each, replication factor %d)\n"
               "  try: kcat -b %s -L\n"
               "  Ctrl-C to stop\n",
               c.broker_count(), servers.c_str(),
               absl::StrJoin(options.topics, ", ").c_str(), options.partitions,
               std::min(3, c.broker_count()), servers.c_str());
  while (!options.stop->load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::fprintf(stderr, "txflag broker: stopping\n");
  if (!options.bootstrap_file.empty()) {
    std::error_code ec;  // already gone is fine
    fs::remove(options.bootstrap_file, ec);
  }
  return absl::OkStatus();
}

}  // namespace txflag::cli

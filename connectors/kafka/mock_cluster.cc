#include "connectors/kafka/mock_cluster.h"

// rdkafka_mock.h needs rdkafka.h first (it does not include it).
#include <librdkafka/rdkafka.h>
// clang-format off
#include <librdkafka/rdkafka_mock.h>
// clang-format on

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "connectors/kafka/internal/rdkafka_handles.h"

namespace txflag::connectors::kafka {

namespace {

struct MockClusterDeleter {
  void operator()(rd_kafka_mock_cluster_t* cluster) const {
    rd_kafka_mock_cluster_destroy(cluster);
  }
};

}  // namespace

struct MockCluster::Impl {
  // Declaration order matters: the cluster is destroyed before the handle it
  // lives in.
  internal::HandlePtr handle;
  std::unique_ptr<rd_kafka_mock_cluster_t, MockClusterDeleter> cluster;
  std::string bootstrap_servers;
  int brokers = 0;
};

absl::Status MockClusterOptions::Validate() const {
  if (brokers < 1 || brokers > 32) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mock cluster: brokers must be between 1 and 32, not ", brokers));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<MockCluster>> MockCluster::Start(
    MockClusterOptions options) {
  TXFLAG_RETURN_IF_ERROR(options.Validate());
  // The handle only hosts the brokers: it never connects anywhere (no
  // bootstrap.servers), and logs only errors.
  TXFLAG_ASSIGN_OR_RETURN(
      internal::ConfPtr conf,
      internal::NewConf(
          {{"client.id", "txflag-mock-cluster"}, {"log_level", "3"}}));
  auto impl = std::make_unique<Impl>();
  TXFLAG_ASSIGN_OR_RETURN(
      impl->handle, internal::NewHandle(RD_KAFKA_PRODUCER, std::move(conf)));
  impl->cluster.reset(
      rd_kafka_mock_cluster_new(impl->handle.get(), options.brokers));
  if (impl->cluster == nullptr) {
    return absl::InternalError(
        "cannot start librdkafka's mock cluster (is the loopback interface "
        "up?)");
  }
  impl->bootstrap_servers =
      rd_kafka_mock_cluster_bootstraps(impl->cluster.get());
  impl->brokers = options.brokers;
  return std::unique_ptr<MockCluster>(new MockCluster(std::move(impl)));
}

MockCluster::MockCluster(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MockCluster::~MockCluster() = default;

const std::string& MockCluster::bootstrap_servers() const {
  return impl_->bootstrap_servers;
}

int MockCluster::broker_count() const { return impl_->brokers; }

absl::Status MockCluster::CreateTopic(std::string_view topic, int partitions,
                                      int replication_factor) {
  if (topic.empty()) {
    return absl::InvalidArgumentError("mock cluster: empty topic name");
  }
  if (partitions < 1 || partitions > 10000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mock cluster: topic '", Av(topic),
        "': partitions must be between 1 and 10000, not ", partitions));
  }
  if (replication_factor < 1 || replication_factor > impl_->brokers) {
    return absl::InvalidArgumentError(
        absl::StrCat("mock cluster: topic '", Av(topic),
                     "': replication factor ", replication_factor,
                     " is not between 1 and the ", impl_->brokers, " brokers"));
  }
  const std::string name(topic);
  return internal::KafkaStatus(
      rd_kafka_mock_topic_create(impl_->cluster.get(), name.c_str(), partitions,
                                 replication_factor),
      absl::StrCat("mock cluster: creating topic '", name, "'"));
}

absl::Status MockCluster::CheckBrokerId(int32_t broker_id) const {
  if (broker_id == kAllBrokers ||
      (broker_id >= 1 && broker_id <= impl_->brokers)) {
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("mock cluster: no broker ", broker_id,
                                          " (brokers are 1..", impl_->brokers,
                                          ", or -1 for all)"));
}

absl::Status MockCluster::SetBrokerDown(int32_t broker_id) {
  TXFLAG_RETURN_IF_ERROR(CheckBrokerId(broker_id));
  return internal::KafkaStatus(
      rd_kafka_mock_broker_set_down(impl_->cluster.get(), broker_id),
      absl::StrCat("mock cluster: setting broker ", broker_id, " down"));
}

absl::Status MockCluster::SetBrokerUp(int32_t broker_id) {
  TXFLAG_RETURN_IF_ERROR(CheckBrokerId(broker_id));
  return internal::KafkaStatus(
      rd_kafka_mock_broker_set_up(impl_->cluster.get(), broker_id),
      absl::StrCat("mock cluster: setting broker ", broker_id, " up"));
}

absl::Status MockCluster::SetBrokerRtt(int32_t broker_id, int rtt_ms) {
  TXFLAG_RETURN_IF_ERROR(CheckBrokerId(broker_id));
  if (rtt_ms < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("mock cluster: negative rtt ", rtt_ms, " ms"));
  }
  return internal::KafkaStatus(
      rd_kafka_mock_broker_set_rtt(impl_->cluster.get(), broker_id, rtt_ms),
      absl::StrCat("mock cluster: setting broker ", broker_id, "'s rtt"));
}

absl::Status MockCluster::SetPartitionLeader(std::string_view topic,
                                             int32_t partition,
                                             int32_t broker_id) {
  if (broker_id == kAllBrokers) {
    return absl::InvalidArgumentError(
        "mock cluster: a partition has one leader, not every broker");
  }
  TXFLAG_RETURN_IF_ERROR(CheckBrokerId(broker_id));
  const std::string name(topic);
  return internal::KafkaStatus(
      rd_kafka_mock_partition_set_leader(impl_->cluster.get(), name.c_str(),
                                         partition, broker_id),
      absl::StrCat("mock cluster: leader of ", name, "/", partition));
}

absl::Status MockCluster::SetGroupCoordinator(std::string_view group,
                                              int32_t broker_id) {
  if (broker_id == kAllBrokers) {
    return absl::InvalidArgumentError(
        "mock cluster: a group has one coordinator, not every broker");
  }
  TXFLAG_RETURN_IF_ERROR(CheckBrokerId(broker_id));
  const std::string name(group);
  return internal::KafkaStatus(
      rd_kafka_mock_coordinator_set(impl_->cluster.get(), "group", name.c_str(),
                                    broker_id),
      absl::StrCat("mock cluster: coordinator of group ", name));
}

}  // namespace txflag::connectors::kafka

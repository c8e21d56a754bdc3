// File: connectors/kafka/mock_cluster.h
//
// A Kafka cluster inside the process, for tests, demos and benchmarks:
// librdkafka's mock cluster (brokers 1..N listening on 127.0.0.1, random
// ports). Any Kafka client, in this process or another (kcat), can talk to it
// through bootstrap_servers() while the MockCluster object lives.
//
//   TXFLAG_ASSIGN_OR_RETURN(std::unique_ptr<MockCluster> cluster,
//                           MockCluster::Start());
//   TXFLAG_RETURN_IF_ERROR(cluster->CreateTopic("payments", 8, 3));
//   producer_options.bootstrap_servers = cluster->bootstrap_servers();
//   ...
//   TXFLAG_RETURN_IF_ERROR(cluster->SetBrokerDown(MockCluster::kAllBrokers));
//
// Limits of the mock (librdkafka 2.0.2), which tests must respect:
//   - each partition keeps only about 5 MiB (or 100,000 batches): older
//     messages vanish silently, so produce and consume concurrently for large
//     volumes;
//   - the first consumer-group join takes ~3 s, and a member joining a settled
//     group waits session.timeout.ms - 1000 ms: use session.timeout.ms=6000;
//   - transactions are acknowledged but not honoured;
//   - SetBrokerDown() disconnects a broker but does not move its partitions'
//     leadership elsewhere: producing to them waits (and finally times out
//     after message.timeout.ms) until the broker is up again;
//   - the Admin API (CreateTopics) is not supported: use CreateTopic().
//
// Thread-safe: the methods may be called from any thread while the cluster
// lives. The destructor stops the brokers: clients still connected then see
// their connections drop (destroy them first for a quiet shutdown).
#ifndef TXFLAG_CONNECTORS_KAFKA_MOCK_CLUSTER_H_
#define TXFLAG_CONNECTORS_KAFKA_MOCK_CLUSTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace txflag::connectors::kafka {

struct MockClusterOptions {
  // Number of brokers, ids 1..brokers. Default 3 (enough for replication
  // factor 3 and for taking one broker down).
  int brokers = 3;

  // InvalidArgument unless 1 <= brokers <= 32.
  absl::Status Validate() const;
};

class MockCluster {
 public:
  // SetBrokerDown/Up() argument meaning every broker.
  static constexpr int32_t kAllBrokers = -1;

  // Starts the brokers. InvalidArgument for bad options; Internal when
  // librdkafka cannot start them (e.g. no loopback interface).
  static absl::StatusOr<std::unique_ptr<MockCluster>> Start(
      MockClusterOptions options = {});

  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;
  ~MockCluster();

  // "127.0.0.1:PORT,127.0.0.1:PORT,...": librdkafka's bootstrap.servers.
  const std::string& bootstrap_servers() const;

  int broker_count() const;

  // Creates `topic` with `partitions` partitions, each replicated on
  // `replication_factor` brokers. InvalidArgument for an empty name,
  // partitions < 1, or a replication factor outside 1..broker_count();
  // otherwise the mock's error translated (AlreadyExists when the topic
  // exists).
  absl::Status CreateTopic(std::string_view topic, int partitions,
                           int replication_factor);

  // Disconnects broker `broker_id` (1..broker_count(), or kAllBrokers) and
  // refuses new connections until SetBrokerUp(). NotFound for an unknown id.
  absl::Status SetBrokerDown(int32_t broker_id);
  absl::Status SetBrokerUp(int32_t broker_id);

  // Delays every response of broker `broker_id` (1..broker_count(), or
  // kAllBrokers) by `rtt_ms` (0 removes the delay): a slow or distant
  // broker. NotFound for an unknown id, InvalidArgument for rtt_ms < 0.
  absl::Status SetBrokerRtt(int32_t broker_id, int rtt_ms);

  // Makes broker `broker_id` the leader of `topic`'s partition `partition`
  // (clients learn it from their next metadata refresh). NotFound for an
  // unknown broker id, InvalidArgument for kAllBrokers; the mock's error
  // translated otherwise. The mock creates a topic it does not know (with
  // its default partition count) rather than refuse: create it first.
  absl::Status SetPartitionLeader(std::string_view topic, int32_t partition,
                                  int32_t broker_id);

  // Makes broker `broker_id` the coordinator of consumer group `group`
  // (offset commits and fetches, joins), for clients that look it up from
  // now on. Errors as SetPartitionLeader.
  absl::Status SetGroupCoordinator(std::string_view group, int32_t broker_id);

 private:
  struct Impl;
  explicit MockCluster(std::unique_ptr<Impl> impl);
  absl::Status CheckBrokerId(int32_t broker_id) const;

  std::unique_ptr<Impl> impl_;
};

}  // namespace txflag::connectors::kafka

#endif  // TXFLAG_CONNECTORS_KAFKA_MOCK_CLUSTER_H_

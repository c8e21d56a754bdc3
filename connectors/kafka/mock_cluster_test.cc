// The mock cluster: starts on loopback, creates topics, takes brokers down,
// slows them and moves partition leaders.
#include "connectors/kafka/mock_cluster.h"

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace txflag::connectors::kafka {
namespace {

using C = absl::StatusCode;

TEST(MockCluster, StartsThreeBrokersOnLoopback) {
  auto cluster = MockCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  EXPECT_EQ((*cluster)->broker_count(), 3);
  std::vector<std::string> brokers =
      absl::StrSplit((*cluster)->bootstrap_servers(), ',');
  ASSERT_EQ(brokers.size(), 3u) << (*cluster)->bootstrap_servers();
  for (const auto& b : brokers) {
    EXPECT_TRUE(absl::StartsWith(b, "127.0.0.1:")) << b;
  }
}

TEST(MockCluster, CreateTopicChecksItsArguments) {
  auto cluster = MockCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  MockCluster& c = **cluster;
  EXPECT_TRUE(c.CreateTopic("payments", 8, 3).ok());
  EXPECT_EQ(c.CreateTopic("", 1, 1).code(), C::kInvalidArgument);
  EXPECT_EQ(c.CreateTopic("t", 0, 1).code(), C::kInvalidArgument);
  EXPECT_EQ(c.CreateTopic("t", 1, 4).code(), C::kInvalidArgument);
}

TEST(MockCluster, BrokersGoDownAndUpByIdAndUnknownIdIsNotFound) {
  auto cluster = MockCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  MockCluster& c = **cluster;
  EXPECT_TRUE(c.SetBrokerDown(2).ok());
  EXPECT_TRUE(c.SetBrokerUp(2).ok());
  EXPECT_TRUE(c.SetBrokerDown(MockCluster::kAllBrokers).ok());
  EXPECT_TRUE(c.SetBrokerUp(MockCluster::kAllBrokers).ok());
  EXPECT_EQ(c.SetBrokerDown(4).code(), C::kNotFound);
  EXPECT_EQ(c.SetBrokerUp(0).code(), C::kNotFound);
}

TEST(MockCluster, RttAndLeaderCheckTheirArguments) {
  auto cluster = MockCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  MockCluster& c = **cluster;
  ASSERT_TRUE(c.CreateTopic("t", 2, 1).ok());
  EXPECT_TRUE(c.SetBrokerRtt(2, 100).ok());
  EXPECT_TRUE(c.SetBrokerRtt(MockCluster::kAllBrokers, 0).ok());
  EXPECT_EQ(c.SetBrokerRtt(4, 100).code(), C::kNotFound);
  EXPECT_EQ(c.SetBrokerRtt(1, -1).code(), C::kInvalidArgument);
  EXPECT_TRUE(c.SetPartitionLeader("t", 1, 3).ok());
  EXPECT_EQ(c.SetPartitionLeader("t", 0, MockCluster::kAllBrokers).code(),
            C::kInvalidArgument);
  EXPECT_EQ(c.SetPartitionLeader("t", 0, 4).code(), C::kNotFound);
  // The mock creates a topic it does not know rather than refuse.
  EXPECT_TRUE(c.SetPartitionLeader("auto", 0, 1).ok());
  EXPECT_EQ(c.CreateTopic("auto", 1, 1).code(), C::kAlreadyExists);
}

TEST(MockClusterOptions, RejectsZeroBrokers) {
  MockClusterOptions o;
  o.brokers = 0;
  EXPECT_EQ(MockCluster::Start(o).status().code(), C::kInvalidArgument);
}

}  // namespace
}  // namespace txflag::connectors::kafka

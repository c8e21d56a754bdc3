#include "connectors/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/metrics_registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace txflag::connectors {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Sends `request` to 127.0.0.1:port and returns everything read until the
// server closes (5 s receive timeout), or "" if the connection failed.
std::string Fetch(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return "";
  }
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (int i = 0; i < 1000; ++i) {  // Bounded: at most ~4 MB.
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

std::string Get(int port, const std::string& path) {
  return Fetch(port, "GET " + path +
                         " HTTP/1.1\r\nHost: localhost\r\n"
                         "User-Agent: txflag-test\r\n\r\n");
}

std::string Body(const std::string& response) {
  size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine::Counter* alerts = *registry_.GetCounter("txflag_alerts_total",
                                                    "Alerts produced, by rule.",
                                                    {{"rule", "ad_payments"}});
    alerts->Increment(7);
    HttpServerOptions options;
    options.port = 0;
    options.metrics = [this] { return registry_.RenderPrometheusText(); };
    options.ready = [this] { return ready_.load(); };
    absl::StatusOr<std::unique_ptr<HttpServer>> server =
        HttpServer::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ASSERT_GT(server_->port(), 0);
  }

  engine::MetricsRegistry registry_;
  std::atomic<bool> ready_{false};
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, ServesMetrics) {
  std::string response = Get(server_->port(), "/metrics");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(response, HasSubstr("Content-Type: text/plain; version=0.0.4; "
                                  "charset=utf-8\r\n"));
  EXPECT_THAT(response, HasSubstr("Connection: close\r\n"));
  std::string body = Body(response);
  EXPECT_EQ(body, registry_.RenderPrometheusText());
  EXPECT_THAT(response,
              HasSubstr(absl::StrCat("Content-Length: ", body.size(), "\r\n")));
  EXPECT_THAT(body, HasSubstr("txflag_alerts_total{rule=\"ad_payments\"} 7\n"));
  // A query string is ignored.
  EXPECT_THAT(Get(server_->port(), "/metrics?x=1"),
              StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST_F(HttpServerTest, HealthzFollowsReadiness) {
  std::string response = Get(server_->port(), "/healthz");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 503 Service Unavailable\r\n"));
  EXPECT_EQ(Body(response), "not ready\n");
  ready_ = true;
  response = Get(server_->port(), "/healthz");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_EQ(Body(response), "ready\n");
}

TEST_F(HttpServerTest, OtherRequests) {
  std::string response = Get(server_->port(), "/nope");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 404 Not Found\r\n"));
  EXPECT_THAT(response, HasSubstr("Connection: close\r\n"));
  EXPECT_EQ(Body(response), "not found\n");

  response = Fetch(server_->port(),
                   "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 405 Method Not Allowed\r\n"));
  EXPECT_THAT(response, HasSubstr("Allow: GET, HEAD\r\n"));

  response = Fetch(server_->port(), "HEAD /healthz HTTP/1.1\r\n\r\n");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 503 "));
  EXPECT_THAT(response, HasSubstr("Content-Length: 10\r\n"));
  EXPECT_EQ(Body(response), "");

  EXPECT_THAT(Fetch(server_->port(), "hello\r\n\r\n"),
              StartsWith("HTTP/1.1 400 Bad Request\r\n"));
}

TEST_F(HttpServerTest, SilentClientDoesNotBlockOthersForever) {
  // A client that connects and sends nothing is dropped after
  // client_timeout_ms (2 s); the next request is served after it.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_THAT(Get(server_->port(), "/healthz"), StartsWith("HTTP/1.1 503 "));
  close(fd);
}

TEST_F(HttpServerTest, SecondServerOnSamePortFails) {
  HttpServerOptions options;
  options.port = server_->port();
  absl::StatusOr<std::unique_ptr<HttpServer>> second =
      HttpServer::Start(std::move(options));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(),
              HasSubstr(absl::StrCat("port ", server_->port())));
  // The first one still serves.
  EXPECT_THAT(Get(server_->port(), "/healthz"), StartsWith("HTTP/1.1 503 "));
}

TEST_F(HttpServerTest, StopIsPromptAndIdempotent) {
  int port = server_->port();
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  server_->Stop();
  EXPECT_EQ(Get(port, "/healthz"), "");  // Nobody listens any more.
  server_.reset();
}

TEST(HttpServerStartTest, BadAddressOrPort) {
  HttpServerOptions options;
  options.address = "localhost";  // Not numeric.
  EXPECT_EQ(HttpServer::Start(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.address = "127.0.0.1";
  options.port = 70000;
  EXPECT_EQ(HttpServer::Start(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(HttpServerStartTest, NoMetricsCallbackMeans404AndAlwaysReady) {
  absl::StatusOr<std::unique_ptr<HttpServer>> server =
      HttpServer::Start(HttpServerOptions{});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_THAT(Get((*server)->port(), "/metrics"), StartsWith("HTTP/1.1 404 "));
  EXPECT_EQ(Body(Get((*server)->port(), "/healthz")), "ready\n");
}

}  // namespace
}  // namespace txflag::connectors

// File: connectors/http_server.h
//
// A minimal HTTP/1.1 server for operations endpoints, on one background
// thread (POSIX sockets, no dependency):
//
//   GET /metrics  200, Content-Type text/plain; version=0.0.4, the body from
//                 `metrics` (for instance
//                 MetricsRegistry::RenderPrometheusText)
//   GET /healthz  200 "ready\n" when `ready()` is true, else 503
//                 "not ready\n"
//   anything else 404 (405 for a method other than GET or HEAD, 400 for a
//                 request that is not HTTP)
//
// Every response carries `Connection: close`; requests are served one at a
// time (scrapes and probes are rare and small). The callbacks run on the
// server's thread and must be thread-safe.
//
//   HttpServerOptions options;
//   options.port = 9464;
//   options.metrics = [&] { return registry.RenderPrometheusText(); };
//   options.ready = [&] { return assigned && restored; };
//   TXFLAG_ASSIGN_OR_RETURN(std::unique_ptr<HttpServer> server,
//                           HttpServer::Start(std::move(options)));
//   ... server->port() ...
//   server.reset();  // Or Stop(): returns within about poll_interval_ms.
#ifndef TXFLAG_CONNECTORS_HTTP_SERVER_H_
#define TXFLAG_CONNECTORS_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace txflag::connectors {

struct HttpServerOptions {
  // Numeric IPv4 or IPv6 address to listen on ("0.0.0.0" for all interfaces).
  std::string address = "127.0.0.1";
  // 0: an ephemeral port, see HttpServer::port().
  int port = 0;
  // Body of GET /metrics; when empty, /metrics is 404.
  std::function<std::string()> metrics;
  // Readiness for GET /healthz; when empty, always ready.
  std::function<bool()> ready;
  // How often the thread checks for Stop() while idle or waiting on a client.
  int poll_interval_ms = 50;
  // A client that has not sent its request headers (or taken the response)
  // within this time is dropped.
  int client_timeout_ms = 2000;
};

class HttpServer {
 public:
  // Binds, listens and starts the thread. Errors: InvalidArgument for a bad
  // address or port; FailedPrecondition naming the address and port when it is
  // in use; PermissionDenied for a privileged port; Internal otherwise.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      HttpServerOptions options);

  ~HttpServer();  // Stop().
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Stops accepting, finishes or drops the request in progress, joins the
  // thread and closes the socket. Idempotent.
  void Stop();

  // The bound port (the ephemeral one when options.port was 0).
  int port() const { return port_; }
  const std::string& address() const { return options_.address; }

 private:
  HttpServer(HttpServerOptions options, int listen_fd, int port);
  void Run();
  void Serve(int fd);

  const HttpServerOptions options_;
  int listen_fd_;
  const int port_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace txflag::connectors

#endif  // TXFLAG_CONNECTORS_HTTP_SERVER_H_

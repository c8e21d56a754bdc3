#include "connectors/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace txflag::connectors {
namespace {

constexpr size_t kMaxRequestHeaderBytes = 8192;

std::string ErrnoText(int err) {
  return std::error_code(err, std::generic_category()).message();
}

using Clock = std::chrono::steady_clock;

int MillisUntil(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

std::string Response(int code, std::string_view reason,
                     std::string_view content_type, std::string_view body,
                     bool head) {
  std::string out = absl::StrCat(
      "HTTP/1.1 ", code, " ", absl::string_view(reason.data(), reason.size()),
      "\r\nContent-Type: ",
      absl::string_view(content_type.data(), content_type.size()),
      "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n\r\n");
  if (!head) out.append(body);
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    HttpServerOptions options) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("HTTP server: port ", options.port, " out of range"));
  }
  const std::string where = absl::StrCat(options.address, ":", options.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* info = nullptr;
  const std::string port_text = std::to_string(options.port);
  int gai =
      getaddrinfo(options.address.c_str(), port_text.c_str(), &hints, &info);
  if (gai != 0 || info == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "HTTP server: '", options.address,
        "' is not a numeric IPv4 or IPv6 address: ", gai_strerror(gai)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> info_owner(info,
                                                                freeaddrinfo);

  int fd =
      socket(info->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("HTTP server: socket(): ", ErrnoText(errno)));
  }
  // Lets a restarted process bind while old connections sit in TIME_WAIT; on
  // Linux it does not let two sockets listen on one port (no SO_REUSEPORT).
  int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  if (bind(fd, info->ai_addr, info->ai_addrlen) != 0) {
    int err = errno;
    close(fd);
    std::string message = absl::StrCat("HTTP server: cannot listen on ", where,
                                       ": ", ErrnoText(err));
    if (err == EADDRINUSE) {
      return absl::FailedPreconditionError(absl::StrCat(
          "HTTP server: port ", options.port, " on ", options.address,
          " is already in use (choose another with --metrics-port)"));
    }
    if (err == EACCES) return absl::PermissionDeniedError(message);
    if (err == EADDRNOTAVAIL) return absl::InvalidArgumentError(message);
    return absl::InternalError(message);
  }
  if (listen(fd, 16) != 0) {
    int err = errno;
    close(fd);
    if (err == EADDRINUSE) {
      return absl::FailedPreconditionError(
          absl::StrCat("HTTP server: port ", options.port, " on ",
                       options.address, " is already in use"));
    }
    return absl::InternalError(
        absl::StrCat("HTTP server: listen on ", where, ": ", ErrnoText(err)));
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
    int err = errno;
    close(fd);
    return absl::InternalError(
        absl::StrCat("HTTP server: getsockname: ", ErrnoText(err)));
  }
  int port = bound.ss_family == AF_INET6
                 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                 : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  std::unique_ptr<HttpServer> server(
      new HttpServer(std::move(options), fd, port));
  server->thread_ = std::thread([s = server.get()] { s->Run(); });
  return server;
}

HttpServer::HttpServer(HttpServerOptions options, int listen_fd, int port)
    : options_(std::move(options)), listen_fd_(listen_fd), port_(port) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) {
    close(listen_fd_);
    listen_fd_ = -1;
  }
}

void HttpServer::Run() {
  while (!stop_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    int n = poll(&p, 1, options_.poll_interval_ms);
    if (n <= 0) continue;  // Timeout, or EINTR: check stop_ again.
    int fd =
        accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) continue;  // EAGAIN, ECONNABORTED, EMFILE: try again later.
    Serve(fd);
    close(fd);
  }
}

void HttpServer::Serve(int fd) {
  const Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(options_.client_timeout_ms);
  // Waits until `fd` is ready for `events`; false on timeout, stop or error.
  auto wait = [&](short events) {
    while (!stop_.load()) {
      int left = MillisUntil(deadline);
      if (left == 0) return false;
      pollfd p{fd, events, 0};
      int n = poll(&p, 1, std::min(left, options_.poll_interval_ms));
      if (n > 0) return true;
      if (n < 0 && errno != EINTR) return false;
    }
    return false;
  };

  std::string request;
  size_t header_end = std::string::npos;
  while (header_end == std::string::npos) {
    if (request.size() > kMaxRequestHeaderBytes) break;
    if (!wait(POLLIN)) return;
    char buf[2048];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n == 0) return;  // Closed before a whole request.
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      return;
    }
    request.append(buf, static_cast<size_t>(n));
    header_end = request.find("\r\n\r\n");
  }

  std::string response;
  std::string_view line(request);
  line = line.substr(0, line.find("\r\n"));
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (header_end == std::string::npos || sp2 == std::string_view::npos ||
      !line.substr(sp2 + 1).starts_with("HTTP/1.")) {
    response = Response(400, "Bad Request", "text/plain; charset=utf-8",
                        "bad request\n", false);
  } else {
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    target = target.substr(0, target.find('?'));
    const bool head = method == "HEAD";
    if (method != "GET" && !head) {
      response =
          Response(405, "Method Not Allowed", "text/plain; charset=utf-8",
                   "method not allowed\n", false);
      response.insert(response.find("\r\n") + 2, "Allow: GET, HEAD\r\n");
    } else if (target == "/metrics" && options_.metrics) {
      response = Response(200, "OK", "text/plain; version=0.0.4; charset=utf-8",
                          options_.metrics(), head);
    } else if (target == "/healthz") {
      bool ready = !options_.ready || options_.ready();
      response =
          ready ? Response(200, "OK", "text/plain; charset=utf-8", "ready\n",
                           head)
                : Response(503, "Service Unavailable",
                           "text/plain; charset=utf-8", "not ready\n", head);
    } else {
      response = Response(404, "Not Found", "text/plain; charset=utf-8",
                          "not found\n", head);
    }
  }

  size_t sent = 0;
  while (sent < response.size()) {
    ssize_t n =
        send(fd, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait(POLLOUT)) return;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return;
    }
  }
  shutdown(fd, SHUT_WR);
}

}  // namespace txflag::connectors

#include "tests/subprocess.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace txflag::testing {

std::string TxflagBinary() {
  return std::string(TXFLAG_BINARY_DIR) + "/txflag";
}

namespace {

pid_t Spawn(const std::vector<std::string>& argv, const std::string& out,
            const std::string& err) {
  pid_t pid = fork();
  if (pid == 0) {
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

CommandResult Wait(pid_t pid) {
  CommandResult r;
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

CommandResult RunCommand(const std::vector<std::string>& argv) {
  static int counter = 0;
  std::string base = std::string(TXFLAG_BINARY_DIR) + "/test-cmd-" +
                     std::to_string(getpid()) + "-" + std::to_string(counter++);
  pid_t pid = Spawn(argv, base + ".out", base + ".err");
  CommandResult r = Wait(pid);
  r.out = ReadFile(base + ".out");
  r.err = ReadFile(base + ".err");
  std::filesystem::remove(base + ".out");
  std::filesystem::remove(base + ".err");
  return r;
}

pid_t Start(const std::vector<std::string>& argv) {
  return Spawn(argv, "/dev/null", "/dev/null");
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string FreshDir(const std::string& name) {
  std::string dir = std::string(TXFLAG_BINARY_DIR) + "/testdata/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace txflag::testing

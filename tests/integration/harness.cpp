#include "harness.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace rec::test {

namespace {

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

fs::path built_binary(const char* path, const char* target) {
    if (std::string(path).empty())
        FAIL(target << " was not built (no CMake target '" << target << "')");
    if (!fs::exists(path)) FAIL(path << " does not exist: build the '" << target << "' target");
    return path;
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

}  // namespace

fs::path recd_bin() { return built_binary(RECD_BIN, "recd"); }
fs::path recctl_bin() { return built_binary(RECCTL_BIN, "recctl"); }
fs::path test_pattern_bin() { return built_binary(TEST_PATTERN_BIN, "test_pattern"); }
fs::path pattern_psnr_bin() { return built_binary(PATTERN_PSNR_BIN, "pattern_psnr"); }

std::string fixture_display() {
    const fs::path file = fs::path(XVFB_STATE_DIR) / "display";
    std::string display = read_file(file);
    while (!display.empty() && std::isspace(static_cast<unsigned char>(display.back()))) {
        display.pop_back();
    }
    if (display.empty()) {
        FAIL("no Xvfb fixture (" << file
                                 << " missing): run the tests through ctest, which starts it");
    }
    return display;
}

std::string fixture_pulse_server() {
    const fs::path file = fs::path(PULSE_STATE_DIR) / "server";
    std::string server = read_file(file);
    while (!server.empty() && std::isspace(static_cast<unsigned char>(server.back()))) {
        server.pop_back();
    }
    if (server.empty()) {
        FAIL("no PulseAudio fixture ("
             << file << " missing): run the tests through ctest, which starts it");
    }
    return server;
}

long rss_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

size_t open_fds(pid_t pid) {
    const fs::path dir = "/proc/" + std::to_string(pid) + "/fd";
    return static_cast<size_t>(std::distance(fs::directory_iterator(dir), {}));
}

std::string unused_display() {
    for (int n = 700; n < 1000; ++n) {
        const std::string number = std::to_string(n);
        if (!fs::exists("/tmp/.X11-unix/X" + number) && !fs::exists("/tmp/.X" + number + "-lock")) {
            return ":" + number;
        }
    }
    FAIL("no unused X display number in 700..999");
    return {};
}

std::vector<std::string> environment_with(const std::vector<std::string>& overrides,
                                          const std::vector<std::string>& removed) {
    auto name_of = [](std::string_view entry) { return entry.substr(0, entry.find('=')); };
    auto dropped = [&](std::string_view name) {
        for (const auto& o : overrides) {
            if (name_of(o) == name) return true;
        }
        for (const auto& r : removed) {
            if (r == name) return true;
        }
        return false;
    };
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        if (!dropped(name_of(*e))) env.emplace_back(*e);
    }
    env.insert(env.end(), overrides.begin(), overrides.end());
    return env;
}

// ---- Process

Process::Process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                 fs::path stdout_file, fs::path stderr_file)
    : out_(std::move(stdout_file)), err_(std::move(stderr_file)) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    // The child starts with default signal dispositions and an empty mask whatever the test did.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    auto args = c_strings(argv);
    auto envp = c_strings(env);
    int rc = posix_spawnp(&pid_, args[0], &actions, &attr, args.data(), envp.data());
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
}

Process::~Process() {
    if (running()) {
        ::kill(pid_, SIGKILL);
        wait_for(10s);
    }
}

bool Process::running() { return !wait_for(0ms).has_value(); }

std::optional<int> Process::wait_for(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!status_) {
        int status = 0;
        pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            status_ = decode_status(status);
        } else if (r < 0 && errno != EINTR) {
            status_ = -1;  // not our child any more: nothing to wait for
        } else if (std::chrono::steady_clock::now() >= deadline) {
            break;
        } else {
            std::this_thread::sleep_for(10ms);
        }
    }
    return status_;
}

void Process::signal(int sig) {
    if (!status_) ::kill(pid_, sig);
}

std::string Process::out() const { return read_file(out_); }
std::string Process::err() const { return read_file(err_); }

// ---- Sandbox

Sandbox::Sandbox() : display_(fixture_display()), pulse_server_(fixture_pulse_server()) {
    std::string tmpl = (fs::temp_directory_path() / "recd-it-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) FAIL("mkdtemp " << tmpl << ": " << std::strerror(errno));
    dir_ = tmpl;
    fs::create_directory(runtime_dir());
    fs::permissions(runtime_dir(), fs::perms::owner_all, fs::perm_options::replace);
    fs::create_directory(output_dir());
    write_config();
}

Sandbox::~Sandbox() {
    if (std::getenv("RECD_TEST_KEEP")) {
        std::cerr << "RECD_TEST_KEEP: kept " << dir_ << "\n";
        return;
    }
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
}

void Sandbox::write_config(const std::string& video_extra, const std::string& tables) {
    std::ofstream(config_file()) << "[output]\ndirectory = \"" << output_dir().string()
                                 << "\"\n\n[video]\n"
                                 << video_lines(video_extra) << "\n"
                                 << tables;
}

// recd's default is "vfr"; the tests' is the constant rate whose frames check_recording() counts,
// unless a test chooses.
std::string video_lines(const std::string& extra) {
    const bool chosen = extra.find("frame_rate_mode") != std::string::npos;
    return "fps = 30\n" + std::string(chosen ? "" : "frame_rate_mode = \"cfr\"\n") + extra;
}

std::vector<std::string> Sandbox::env() const {
    std::vector<std::string> set = {
        "DISPLAY=" + display_, "XDG_RUNTIME_DIR=" + runtime_dir().string(), "HOME=" + dir_.string(),
        "XDG_CONFIG_HOME=" + (dir_ / "config").string(), "PULSE_SERVER=" + pulse_server_};
    set.insert(set.end(), extra_env_.begin(), extra_env_.end());
    return environment_with(set, {"RECD_SOCKET", "XDG_VIDEOS_DIR", "RECD_FAULT"});
}

fs::path Sandbox::new_file(std::string_view stem) {
    return dir_ / (std::string(stem) + "-" + std::to_string(++files_) + ".txt");
}

// ---- Recd

Recd::Recd(Sandbox& box, std::vector<std::string> extra_args)
    : process_(
          [&] {
              std::vector<std::string> argv = {recd_bin().string(), "--config",
                                               box.config_file().string()};
              argv.insert(argv.end(), extra_args.begin(), extra_args.end());
              // For looking into a test's run: its recd logs at this level (kept with
              // RECD_TEST_KEEP).
              if (const char* level = std::getenv("RECD_TEST_LOG_LEVEL"))
                  argv.insert(argv.end(), {"--log-level", level});
              return argv;
          }(),
          box.env(), box.new_file("recd-stdout"), box.new_file("recd-stderr")),
      socket_(box.socket()) {}

Recd::~Recd() {
    if (process_.running()) terminate(SIGTERM, 20s);
    std::cerr << "----- recd (pid " << process_.pid() << ") stderr -----\n"
              << log() << "----- end of recd stderr -----\n";
}

bool Recd::wait_ready(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (!process_.running()) return false;
        if (RawClient::pings(socket_, 500ms)) return true;
        std::this_thread::sleep_for(50ms);
    }
    return false;
}

std::optional<int> Recd::terminate(int sig, std::chrono::milliseconds timeout) {
    process_.signal(sig);
    return process_.wait_for(timeout);
}

// ---- recctl

std::string CtlResult::describe() const {
    std::ostringstream text;
    text << "recctl exit code " << code << "\nstdout: " << out << "\nstderr: " << err;
    return text.str();
}

CtlResult recctl(Sandbox& box, const std::vector<std::string>& args, bool json,
                 std::chrono::milliseconds timeout) {
    std::vector<std::string> argv = {recctl_bin().string()};
    if (json) argv.emplace_back("--json");
    argv.insert(argv.end(), args.begin(), args.end());
    CtlResult result;
    {
        Process ctl(argv, box.env(), box.new_file("recctl-stdout"), box.new_file("recctl-stderr"));
        result.code = ctl.wait_for(timeout).value_or(-1);
        result.out = ctl.out();
        result.err = ctl.err();
    }
    if (json) result.json = Json::parse(result.out, nullptr, /*allow_exceptions=*/false);
    if (result.json.is_discarded()) result.json = nullptr;
    return result;
}

// ---- EventLog

EventLog::EventLog(Sandbox& box)
    : process_({recctl_bin().string(), "--json", "events"}, box.env(), box.new_file("events-out"),
               box.new_file("events-err")) {
    // Its first line is the reply to subscribe.
    for (int i = 0; i < 100 && process_.out().empty(); ++i) std::this_thread::sleep_for(20ms);
}

std::vector<Json> EventLog::lines() const {
    std::vector<Json> out;
    std::istringstream text(process_.out());
    for (std::string line; std::getline(text, line);)
        out.push_back(Json::parse(line, nullptr, /*allow_exceptions=*/false));
    return out;
}

Json EventLog::find(const std::string& kind, const std::string& session,
                    std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        for (const Json& e : lines())
            if (e.is_object() && e.value("event", "") == kind && e.value("session", "") == session)
                return e;
        if (std::chrono::steady_clock::now() >= deadline) return nullptr;
        std::this_thread::sleep_for(50ms);
    }
}

// ---- RawClient

RawClient::RawClient(const fs::path& socket) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket.c_str(), sizeof(addr.sun_path) - 1);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        std::string why = std::strerror(errno);
        if (fd_ >= 0) ::close(fd_);
        throw std::runtime_error("cannot connect to " + socket.string() + ": " + why);
    }
}

RawClient::~RawClient() { ::close(fd_); }

bool RawClient::send(std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

std::optional<std::string> RawClient::read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (auto end = buffer_.find('\n'); end != std::string::npos) {
            std::string line = buffer_.substr(0, end);
            buffer_.erase(0, end + 1);
            return line;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{fd_, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            return std::nullopt;
        }
        char chunk[4096];
        ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
        if (n <= 0) return std::nullopt;
        buffer_.append(chunk, static_cast<size_t>(n));
    }
}

bool RawClient::closed_by_peer(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{fd_, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
        char chunk[4096];
        ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
        if (n < 0) return false;
    }
}

Json RawClient::request(std::string_view line) {
    if (!send(std::string(line) + "\n")) return nullptr;
    auto reply = read_line(10s);
    if (!reply) return nullptr;
    Json json = Json::parse(*reply, nullptr, /*allow_exceptions=*/false);
    return json.is_discarded() ? Json(nullptr) : json;
}

bool RawClient::pings(const fs::path& socket, std::chrono::milliseconds timeout) {
    try {
        RawClient client(socket);
        if (!client.send("{\"v\":1,\"id\":\"ping\",\"cmd\":\"ping\"}\n")) return false;
        auto line = client.read_line(timeout);
        if (!line) return false;
        Json reply = Json::parse(*line, nullptr, /*allow_exceptions=*/false);
        return reply.is_object() && reply.value("ok", false);
    } catch (const std::runtime_error&) {
        return false;
    }
}

}  // namespace rec::test

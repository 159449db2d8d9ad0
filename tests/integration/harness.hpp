#pragma once
// What the integration tests use to drive recd the way a user does: processes with their own
// environment, recctl invocations, a raw socket client for the protocol, and a per-test sandbox
// (runtime dir, output dir, config) so tests can run in parallel against the shared Xvfb.
// Everything here runs on the test's main thread.
#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rec::test {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using namespace std::chrono_literals;

// Binaries and fixture state, from the build (tests/integration/CMakeLists.txt).
fs::path recd_bin();    // fails the test if recd was not built
fs::path recctl_bin();  // fails the test if recctl was not built
fs::path test_pattern_bin();
fs::path pattern_psnr_bin();  // tests/tools/pattern_psnr: a recording of test_pattern against it
inline constexpr int screen_width = SCREEN_WIDTH;
inline constexpr int screen_height = SCREEN_HEIGHT;

// The private Xvfb the "xvfb" ctest fixture started (fixtures/xvfb_start.sh), e.g. ":5".
// Fails the test with a hint when the fixture is not running (the binary was run outside ctest).
std::string fixture_display();

// The private PulseAudio server the "pulse" ctest fixture started (fixtures/pulse_start.sh), as
// a PULSE_SERVER value. Fails the test with a hint when the fixture is not running.
std::string fixture_pulse_server();

// A display string no X server answers on (no socket, no lock file).
std::string unused_display();

// The [video] lines of a test's configuration: fps 30, a constant frame rate unless `extra`
// chooses a mode, then `extra`.
std::string video_lines(const std::string& extra);

// What process `pid` holds now: its resident memory (VmRSS) and its open descriptors.
long rss_kib(pid_t pid);
size_t open_fds(pid_t pid);

// The environment of this process with `overrides` ("NAME=value") replacing or adding entries and
// `removed` names dropped.
std::vector<std::string> environment_with(const std::vector<std::string>& overrides,
                                          const std::vector<std::string>& removed = {});

// A child process: stdin is /dev/null, stdout and stderr go to files. The destructor kills
// (SIGKILL) and reaps a child that is still running, so a failing test leaves nothing behind.
class Process {
public:
    // argv[0] without a '/' is looked up in PATH. Throws std::runtime_error if it cannot start.
    Process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
            fs::path stdout_file, fs::path stderr_file);
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    ~Process();

    pid_t pid() const { return pid_; }
    bool running();
    // The exit code, 128 + N when killed by signal N; nullopt if still running after `timeout`.
    std::optional<int> wait_for(std::chrono::milliseconds timeout);
    void signal(int sig);
    std::string out() const;
    std::string err() const;

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
    fs::path out_;
    fs::path err_;
};

// One test's private world: DIR/run (mode 0700, XDG_RUNTIME_DIR), DIR/out (output directory),
// DIR/recd.toml. DIR is under /tmp so the socket path stays short; it is removed at the end
// unless RECD_TEST_KEEP is set.
class Sandbox {
public:
    Sandbox();
    Sandbox(const Sandbox&) = delete;
    Sandbox& operator=(const Sandbox&) = delete;
    ~Sandbox();

    // Replaces the config: output directory, fps 30 and (unless `video_extra` chooses a mode)
    // a constant frame rate always, plus `video_extra` lines for the [video] table, then `tables`
    // (e.g. "[audio]\nrequired = true\n"). The default uses quality "low" (x264 ultrafast) to keep
    // the suite cheap.
    void write_config(const std::string& video_extra = "quality = \"low\"\n",
                      const std::string& tables = "");

    const fs::path& dir() const { return dir_; }
    fs::path runtime_dir() const { return dir_ / "run"; }
    fs::path output_dir() const { return dir_ / "out"; }
    fs::path config_file() const { return dir_ / "recd.toml"; }
    fs::path socket() const { return runtime_dir() / "recd.sock"; }
    const std::string& display() const { return display_; }
    // For recd and recctl: DISPLAY, XDG_RUNTIME_DIR, HOME and XDG_CONFIG_HOME point into the
    // sandbox, PULSE_SERVER at the fixture's PulseAudio (so recd never reaches a user's own);
    // RECD_SOCKET is removed.
    std::vector<std::string> env() const;
    const std::string& pulse_server() const { return pulse_server_; }
    // One more "NAME=value" for env(), e.g. RECD_FAULT for a recd started afterwards.
    void add_env(std::string entry) { extra_env_.push_back(std::move(entry)); }
    // Another PULSE_SERVER for env(), e.g. one nobody listens on.
    void set_pulse_server(std::string server) { pulse_server_ = std::move(server); }
    // A fresh file name in the sandbox for a child's output.
    fs::path new_file(std::string_view stem);

private:
    fs::path dir_;
    std::string display_;
    std::string pulse_server_;
    std::vector<std::string> extra_env_;
    int files_ = 0;
};

// recd running in a sandbox with --config, logging to a file. The destructor stops it (SIGTERM,
// then SIGKILL) and always prints its stderr, so a failing test shows what recd said.
class Recd {
public:
    explicit Recd(Sandbox& box, std::vector<std::string> extra_args = {});
    Recd(const Recd&) = delete;
    Recd& operator=(const Recd&) = delete;
    ~Recd();

    // Until the socket answers `ping`; false if recd exited or `timeout` passed.
    bool wait_ready(std::chrono::milliseconds timeout = 10s);
    std::string log() const { return process_.err(); }
    Process& process() { return process_; }
    // Sends `sig` and waits for the exit code (nullopt: still running after `timeout`).
    std::optional<int> terminate(int sig = SIGTERM, std::chrono::milliseconds timeout = 20s);

private:
    Process process_;
    fs::path socket_;
};

struct CtlResult {
    int code = -1;  // exit code; 128 + N if killed by signal N; -1 on timeout
    std::string out;
    std::string err;
    Json json;  // stdout parsed when --json was given and it is JSON; null otherwise
    std::string describe() const;  // for INFO()
};

// Runs `recctl --json ARGS...` (without --json if `json` is false) in the sandbox's environment.
CtlResult recctl(Sandbox& box, const std::vector<std::string>& args, bool json = true,
                 std::chrono::milliseconds timeout = 30s);

// `recctl --json events` for the rest of the test: the constructor returns once it is subscribed
// (what happened before is not told); every line it printed so far, parsed, on demand.
class EventLog {
public:
    explicit EventLog(Sandbox& box);

    std::vector<Json> lines() const;  // a line that is not JSON is a discarded value
    // The first event of `kind` about `session`, waiting up to `timeout` for it; null if none.
    Json find(const std::string& kind, const std::string& session,
              std::chrono::milliseconds timeout = 0ms) const;
    Process& process() { return process_; }

private:
    Process process_;
};

// A client speaking raw bytes to recd's socket, for what recctl would never send.
class RawClient {
public:
    explicit RawClient(const fs::path& socket);  // throws std::runtime_error if it cannot connect
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;
    ~RawClient();

    // Writes all of `bytes`; false if the peer closed the connection first.
    bool send(std::string_view bytes);
    // The next line without its '\n'; nullopt on end of file, error or timeout.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout = 5s);
    // True if the peer closes the connection (end of file) within `timeout`.
    bool closed_by_peer(std::chrono::milliseconds timeout = 5s);
    // Sends `line` + '\n' and parses the reply line (null if none or not JSON).
    Json request(std::string_view line);

    // True if `socket` answers {"cmd":"ping"} with ok within `timeout`.
    static bool pings(const fs::path& socket, std::chrono::milliseconds timeout = 1s);

private:
    int fd_ = -1;
    std::string buffer_;
};

}  // namespace rec::test

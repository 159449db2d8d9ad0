// libFuzzer target for recd's control protocol (issue 5; scripts/fuzz.sh builds and runs it).
// One input is what one client writes on one connection: its lines go, in order, to
// ipc::parse_request and to a real Dispatcher (real io_context, worker pool, Config and
// SessionManager), and every reply is checked against docs/protocol.md. A broken contract
// aborts, so libFuzzer reports it with the input.
//
// Threads: libFuzzer calls LLVMFuzzerTestOneInput on its main thread, which plays recd's io
// thread; the dispatcher's slow work runs on the process's one-thread worker pool, drained
// before the input is done. Every input gets a fresh io_context, SessionManager and Dispatcher
// and nothing of it outlives the input, so a crash reproduces from its input alone.
//
// No recording can start: DISPLAY names a display that does not exist and a start request's
// own "display" is replaced by it (this machine may run X servers: the integration tests start
// Xvfb), so "start" fails at once with DISPLAY_UNAVAILABLE. PulseAudio points at a socket that
// does not exist, so "devices" fails at once with AUDIO_UNAVAILABLE.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/config.hpp"
#include "common/error.hpp"
#include "common/ipc/asio.hpp"
#include "common/ipc/protocol.hpp"
#include "daemon/dispatcher.hpp"
#include "daemon/encode/probe.hpp"
#include "daemon/session_manager.hpp"

namespace {

using rec::ipc::Json;
namespace asio = boost::asio;

constexpr const char* unreachable_display = ":999";
// Longer than any request takes here ("encoders" probes x264 with one frame, ~0.1 s; the rest
// answer in microseconds): a request without a reply by then is hung.
constexpr auto reply_timeout = std::chrono::seconds(10);

// docs/protocol.md, "Error codes"; keep in step.
constexpr std::string_view error_codes[] = {"BAD_REQUEST",
                                            "UNSUPPORTED_VERSION",
                                            "UNKNOWN_COMMAND",
                                            "INVALID_ARGUMENT",
                                            "TOO_LARGE",
                                            "NOT_FOUND",
                                            "AMBIGUOUS",
                                            "DISPLAY_UNAVAILABLE",
                                            "DISPLAY_LOST",
                                            "SOURCE_UNAVAILABLE",
                                            "SOURCE_LOST",
                                            "ENCODER_UNAVAILABLE",
                                            "AUDIO_UNAVAILABLE",
                                            "INVALID_STATE",
                                            "OUTPUT_FAILED",
                                            "DISK_FULL",
                                            "SHUTTING_DOWN",
                                            "PERMISSION_DENIED",
                                            "BUSY",
                                            "INTERNAL"};

// RECD_FUZZ_LOG=1: recd's log and every reply on stderr, to replay one input.
bool verbose() {
    static const bool on = std::getenv("RECD_FUZZ_LOG") != nullptr;
    return on;
}

[[noreturn]] void violation(std::string_view what, std::string_view detail) {
    constexpr size_t shown = 2000;  // an input can be 70 KB
    std::fprintf(stderr, "fuzz_request: %.*s: %.*s%s\n", static_cast<int>(what.size()), what.data(),
                 static_cast<int>(std::min(detail.size(), shown)), detail.data(),
                 detail.size() > shown ? "..." : "");
    std::abort();
}

// What a request line promises about its reply, as parse_request saw it.
struct Expected {
    Json id;          // the id the reply must echo (null when the line has none)
    std::string cmd;  // empty when parse_request refused the line
};

// recd's worker pool, one for the whole process: a pool per input would start and join a thread
// per input (~0.5 ms under ASan, more than most requests cost). With one thread, handlers run in
// the order they were posted, so drain_workers() can tell when an input's work is all done.
asio::thread_pool& workers() {
    static asio::thread_pool pool{1};
    return pool;
}

// Blocks (bounded) until the pool has run everything posted to it before this call.
void drain_workers() {
    // Shared: the promise must outlive set_value(), which may still run when the wait returns.
    auto drained = std::make_shared<std::promise<void>>();
    asio::post(workers(), [drained] { drained->set_value(); });
    if (drained->get_future().wait_for(reply_timeout) != std::future_status::ready)
        violation("the worker pool did not finish its work", "");
}

// The config recd would have with no recd.toml; files (none are written) would go to a private
// directory. Built once by LLVMFuzzerInitialize, read-only afterwards.
rec::Config& config() {
    static rec::Config config;
    return config;
}

// parse_request's contract (protocol.hpp): a Request carrying the body's "cmd" and "id", or
// rec::Error with BAD_REQUEST / UNSUPPORTED_VERSION. A start's non-empty "display" is replaced
// in `line` (see the top of this file).
Expected check_parse(std::string& line) {
    Expected expected;
    try {
        auto request = rec::ipc::parse_request(line, expected.id);
        if (!request.body.is_object() || request.body.value("cmd", Json()) != request.cmd ||
            request.id != request.body.value("id", Json()) || request.id != expected.id)
            violation("parse_request returned a request unlike its line", line);
        expected.cmd = request.cmd;
        if (auto display = request.body.find("display");
            request.cmd == "start" && display != request.body.end() && display->is_string() &&
            !display->get<std::string>().empty()) {
            *display = unreachable_display;
            line = request.body.dump();
        }
    } catch (const rec::Error& e) {
        if (e.code() != rec::ErrorCode::bad_request &&
            e.code() != rec::ErrorCode::unsupported_version)
            violation(std::string("parse_request threw ") + std::string(to_string(e.code())), line);
    } catch (const std::exception& e) {
        violation(std::string("parse_request threw a non-rec::Error: ") + e.what(), line);
    }
    return expected;
}

// What an ok reply to each command carries (docs/protocol.md, "Requests"): one of these.
std::vector<const char*> ok_fields(std::string_view cmd) {
    if (cmd == "hello" || cmd == "ping") return {"daemon"};
    if (cmd == "start" || cmd == "pause" || cmd == "resume" || cmd == "split") return {"session"};
    if (cmd == "stop") return {"session", "sessions"};
    if (cmd == "status") return {"session", "daemon"};
    if (cmd == "list" || cmd == "shutdown") return {"sessions"};
    if (cmd == "encoders") return {"encoders"};
    if (cmd == "devices") return {"sinks"};
    if (cmd == "subscribe") return {"subscribed"};
    return {};  // no ok reply at all: an unknown command or a refused line
}

// One reply line: one JSON object and its newline, {"v":1,"id":<echoed>,"ok":true,...} or
// {"v":1,"id":...,"ok":false,"error":{"code":<a protocol code>,"message":"..."}}.
void check_reply(const std::string& reply, const Expected& expected) {
    if (reply.empty() || reply.find('\n') != reply.size() - 1)
        violation("a reply must be one line ending in a newline", reply);
    const Json r = Json::parse(std::string_view(reply).substr(0, reply.size() - 1), nullptr, false);
    if (!r.is_object()) violation("a reply must be a JSON object", reply);
    if (r.value("v", Json()) != Json(rec::ipc::protocol_version))
        violation("a reply must have \"v\":1", reply);
    if (auto id = r.find("id"); id == r.end() || *id != expected.id)
        violation("a reply must echo the request's id", reply);
    const auto ok = r.find("ok");
    if (ok == r.end() || !ok->is_boolean()) violation("a reply needs \"ok\", a boolean", reply);
    if (ok->get<bool>()) {
        const auto fields = ok_fields(expected.cmd);
        if (std::none_of(fields.begin(), fields.end(), [&](auto f) { return r.contains(f); }))
            violation("an ok reply lacks what its command answers", reply);
        return;
    }
    const auto error = r.find("error");
    if (error == r.end() || !error->is_object() || !error->value("message", Json()).is_string())
        violation("an error reply needs \"error\": {\"code\", \"message\"}", reply);
    const Json code = error->value("code", Json());
    if (!code.is_string() || std::find(std::begin(error_codes), std::end(error_codes),
                                       code.get<std::string>()) == std::end(error_codes))
        violation("an error reply's code must be one of the protocol's", reply);
}

// recd as one connection sees it, fresh for each input; lives on libFuzzer's thread.
class Daemon {
public:
    Daemon()
        : dispatcher_(rec::DaemonContext{io_, workers(), config(), "/nonexistent/recd-fuzz.sock",
                                         rec::Clock::now(),
                                         [this](auto done) { shutdown(std::move(done)); },
                                         [this] { return shutting_down_; }, events_, unfinished_},
                      sessions_) {}

    // Hands one line to the dispatcher and runs the io loop until its reply came, as a
    // Connection does before it reads the next line.
    void request(std::string_view line, Expected expected) {
        const size_t index = requests_.size();
        requests_.push_back({std::move(expected), 0});
        dispatcher_.handle(
            line, [this, index](std::string reply) { on_reply(index, reply); },
            [this](const std::string& event) { return on_event(event); });
        const auto deadline = rec::Clock::now() + reply_timeout;
        while (requests_[index].replies == 0) {
            if (rec::Clock::now() >= deadline) violation("no reply within 10 s", line);
            io_.run_one_until(deadline);
        }
        io_.poll();  // whatever else is ready: a second reply would run here
    }

    // After the last line: the pool's work is done, the io loop has nothing left, and every
    // request was answered exactly once.
    void finish() {
        guard_.reset();
        do {
            drain_workers();
            io_.restart();
        } while (io_.poll() > 0);  // what ran may have posted to the pool again
        for (const auto& r : requests_)
            if (r.replies != 1)
                violation("a request was not answered exactly once", r.expected.cmd);
    }

private:
    struct Pending {
        Expected expected;
        int replies = 0;
    };

    // The dispatcher's ReplyFn: once per request, on the io thread.
    void on_reply(size_t index, const std::string& reply) {
        if (verbose()) std::fprintf(stderr, "reply: %s", reply.c_str());
        if (std::this_thread::get_id() != io_thread_) violation("a reply off the io thread", reply);
        auto& r = requests_.at(index);
        if (++r.replies > 1) violation("a second reply to one request", reply);
        check_reply(reply, r.expected);
    }

    // The dispatcher's PushFn after a subscribe: one event line, on the io thread. None come
    // here (they come from recordings), but one that did must be a line of JSON naming its event.
    bool on_event(const std::string& line) {
        if (std::this_thread::get_id() != io_thread_) violation("an event off the io thread", line);
        if (line.empty() || line.find('\n') != line.size() - 1)
            violation("an event must be one line ending in a newline", line);
        const Json e =
            Json::parse(std::string_view(line).substr(0, line.size() - 1), nullptr, false);
        if (!e.is_object() || !e.value("event", Json()).is_string())
            violation("an event must be a JSON object with \"event\"", line);
        return true;  // still subscribed
    }

    // DaemonContext::shutdown as Server::shutdown does it, except that nothing exits: stop what
    // records, wait for it on the pool, answer on the io thread with every session.
    void shutdown(std::function<void(Json)> done) {
        shutting_down_ = true;
        auto active = sessions_.active();
        for (const auto& s : active) s->request_stop();
        asio::post(workers(), [this, active, done = std::move(done)] {
            for (const auto& s : active) s->wait();
            asio::post(io_, [this, done] {
                Json list = Json::array();
                for (const auto& s : sessions_.all()) list.push_back(s->status());
                done(std::move(list));
            });
        });
    }

    const std::thread::id io_thread_ = std::this_thread::get_id();
    asio::io_context io_;
    // Keeps run_one_until() waiting for the pool's answer instead of returning at once.
    asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
    rec::Events events_{io_};
    const rec::ipc::Json unfinished_ = rec::ipc::Json::array();
    rec::OpenFiles open_files_{{}};  // no journal: nothing is recorded
    rec::SessionManager sessions_{config(), events_, open_files_};
    bool shutting_down_ = false;
    std::vector<Pending> requests_;
    rec::Dispatcher dispatcher_;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    setenv("DISPLAY", unreachable_display, 1);
    setenv("PULSE_SERVER", "unix:/nonexistent/recd-fuzz/pulse", 1);
    const auto output = std::filesystem::temp_directory_path() / "recd-fuzz";
    std::filesystem::create_directories(output);
    config().output.directory = output.string();
    // Millions of requests: recd's log and FFmpeg's chatter off unless verbose().
    if (!verbose()) spdlog::set_level(spdlog::level::off);
    rec::install_ffmpeg_log();
    return 0;
}

// Lines as a Connection splits them: at '\n', a trailing '\r' dropped, blank lines skipped, a
// last line without its newline still a request; a line of 64 KiB or more (newline included)
// gets TOO_LARGE and closes the connection.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    Daemon daemon;
    while (!rest.empty()) {
        const size_t newline = rest.find('\n');
        std::string line(rest.substr(0, newline));
        rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
        if (line.size() >= rec::ipc::max_message_bytes) {
            check_reply(rec::ipc::error_reply(nullptr, rec::ErrorCode::too_large, "too large"),
                        Expected{});
            break;
        }
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        auto expected = check_parse(line);
        // "encoders" probes x264 with a real frame (~0.1 s, thousands of times what any other
        // request costs): only the process's first one is dispatched, the rest are parsed only.
        static bool encoders_probed = false;
        if (expected.cmd == "encoders" && std::exchange(encoders_probed, true)) continue;
        daemon.request(line, std::move(expected));
    }
    daemon.finish();
    return 0;
}

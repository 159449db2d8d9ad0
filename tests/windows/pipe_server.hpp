#pragma once
// recd's control pipe for the Windows tests (test_named_pipe.cpp, test_recctl.cpp): the real
// NamedPipeServer, Connection and protocol, with a request handler that keeps sessions as
// bookkeeping only (the recording pipeline needs FFmpeg, which the tests do not link).
#include <windows.h>

#include <functional>
#include <future>
#include <map>
#include <random>
#include <string>
#include <thread>

#include "common/error.hpp"
#include "common/ipc/protocol.hpp"
#include "common/win32.hpp"
#include "daemon/named_pipe_server.hpp"

namespace rec::test {

// hello, start, status and stop as recd answers them, without recording anything. Runs on the
// server's io thread only.
class SessionBook final : public RequestHandler {
public:
    explicit SessionBook(std::wstring pipe) : pipe_(to_utf8(pipe)) {}

    void handle(std::string_view line, ReplyFn reply, PushFn) override {
        ipc::Json id;
        try {
            const auto request = ipc::parse_request(line, id);
            reply(ipc::ok_reply(id, answer(request.cmd, request.body)));
        } catch (const Error& e) {
            reply(ipc::error_reply(id, e.code(), e.what()));
        }
    }

private:
    ipc::Json answer(const std::string& cmd, const ipc::Json& body) {
        if (cmd == "hello") return {{"daemon", daemon()}};
        if (cmd == "start") {
            const auto id = "s" + std::to_string(sessions_.size() + 1);
            sessions_[id] = {{"id", id},
                             {"state", "recording"},
                             {"file", "C:\\Videos\\" + id + ".mkv"},
                             {"duration", 0.0}};
            if (auto name = ipc::get_string(body, "name")) sessions_[id]["name"] = *name;
            return {{"session", sessions_[id]}};
        }
        if (cmd == "status" && !body.contains("session")) {
            ipc::Json list = ipc::Json::array();
            for (const auto& [id, session] : sessions_) list.push_back(session);
            return {{"daemon", daemon()}, {"sessions", list}};
        }
        if (cmd == "status") return {{"session", find(body)}};
        if (cmd == "stop") {
            ipc::Json& session = find(body);
            session["state"] = "stopped";
            return {{"session", session}};
        }
        throw Error(ErrorCode::unknown_command, "unknown command " + cmd);
    }

    // The session the request names, or the only one if it names none (as recd does).
    ipc::Json& find(const ipc::Json& body) {
        const auto id = ipc::get_string(body, "session");
        if (!id && sessions_.size() == 1) return sessions_.begin()->second;
        if (!id) throw Error(ErrorCode::invalid_argument, "which session? give its id");
        if (!sessions_.count(*id)) throw Error(ErrorCode::not_found, "no session " + *id);
        return sessions_[*id];
    }

    ipc::Json daemon() const {
        return {{"version", RECD_VERSION}, {"pid", GetCurrentProcessId()}, {"socket", pipe_}};
    }

    const std::string pipe_;
    std::map<std::string, ipc::Json> sessions_;  // by id
};

// A NamedPipeServer serving a SessionBook on `name` (by default a pipe of its own), on an io
// thread of its own for the owner's lifetime. Constructed and destroyed by the test's thread.
struct PipeServer {
    explicit PipeServer(std::wstring pipe = L"\\\\.\\pipe\\recd-test-" +
                                            std::to_wstring(std::random_device{}()))
        : name(std::move(pipe)) {
        server.start();
        thread = std::thread([this] { io.run(); });
    }
    ~PipeServer() {
        boost::asio::post(io, [this] { server.stop(); });
        work.reset();
        thread.join();
    }
    std::filesystem::path path() const { return name; }
    // The connections being served, asked on the io thread.
    size_t connections() {
        std::promise<size_t> n;
        boost::asio::post(io, [&] { n.set_value(server.connections()); });
        return n.get_future().get();
    }
    // Wait up to `limit` for the server to serve at most / at least `n` connections.
    bool serving_at_most(size_t n, std::chrono::milliseconds limit) {
        return serving_such([n](size_t now) { return now <= n; }, limit);
    }
    bool serving_at_least(size_t n, std::chrono::milliseconds limit) {
        return serving_such([n](size_t now) { return now >= n; }, limit);
    }
    bool serving_such(const std::function<bool(size_t)>& enough, std::chrono::milliseconds limit) {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (!enough(connections())) {
            if (std::chrono::steady_clock::now() > until) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return true;
    }

    const std::wstring name;
    boost::asio::io_context io;
    SessionBook book{name};
    NamedPipeServer server{io, name, book};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{
        io.get_executor()};
    std::thread thread;
};

}  // namespace rec::test

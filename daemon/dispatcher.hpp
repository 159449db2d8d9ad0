#pragma once
// Turns one request line into one reply line. Runs on the io thread; work that blocks (opening
// a display and an encoder, draining a recording) is handed to the worker pool and its result
// posted back to the io thread, where the reply is sent.
#include <functional>
#include <string>
#include <string_view>

#include "../common/config.hpp"
#include "../common/ipc/asio.hpp"
#include "../common/ipc/protocol.hpp"
#include "events.hpp"
#include "request_handler.hpp"
#include "session_manager.hpp"

namespace rec {

struct DaemonContext {
    boost::asio::io_context& io;
    boost::asio::thread_pool& workers;
    const Config& config;
    std::string socket;
    TimePoint started;
    // Finalizes everything, then calls its argument with the finished sessions, then exits.
    std::function<void(std::function<void(ipc::Json)>)> shutdown;
    std::function<bool()> shutting_down;
    Events& events;
    // Files an earlier recd died writing (OpenFiles::recover), reported by `status`.
    const ipc::Json& unfinished;
};

class Dispatcher final : public RequestHandler {
public:
    Dispatcher(DaemonContext context, SessionManager& sessions)
        : ctx_(std::move(context)), sessions_(sessions) {}

    // `push` sends event lines to the same client later, if it subscribes.
    void handle(std::string_view line, ReplyFn reply, PushFn push) override;
    // A recording recd starts by itself (LoginSession's autostart): `body` as a start request's,
    // `directory` (may hold {user}) instead of output.directory unless empty. `reply` gets what
    // a client would, on the io thread.
    void start_own(const ipc::Json& body, const std::string& directory, ReplyFn reply);

private:
    using Handler = void (Dispatcher::*)(const ipc::Request&, ReplyFn&);
    void subscribe(const ipc::Request& request, ReplyFn& reply, PushFn push);
    void hello(const ipc::Request& request, ReplyFn& reply);
    void start(const ipc::Request& request, ReplyFn& reply);
    void stop(const ipc::Request& request, ReplyFn& reply);
    void status(const ipc::Request& request, ReplyFn& reply);
    void list(const ipc::Request& request, ReplyFn& reply);
    void pause(const ipc::Request& request, ReplyFn& reply);
    void resume(const ipc::Request& request, ReplyFn& reply);
    void split(const ipc::Request& request, ReplyFn& reply);
    void devices(const ipc::Request& request, ReplyFn& reply);
    void encoders(const ipc::Request& request, ReplyFn& reply);
    void shutdown(const ipc::Request& request, ReplyFn& reply);

    void launch(SessionOptions options, const ipc::Json& id, ReplyFn reply);
    SessionOptions start_options(const ipc::Json& body) const;
    VideoConfig video_options(const ipc::Json& body) const;
    AudioConfig audio_options(const ipc::Json& body, bool screen) const;
    void source_options(const ipc::Json& body, SessionOptions& options) const;
    std::shared_ptr<Session> target(const ipc::Json& body) const;
    std::vector<std::shared_ptr<Session>> stop_targets(const ipc::Json& body) const;
    ipc::Json daemon_info() const;
    // Runs `work` on the worker pool, then `done(error)` on the io thread.
    void offload(std::function<void()> work, std::function<void(std::exception_ptr)> done);

    DaemonContext ctx_;
    SessionManager& sessions_;
};

// The reply for an exception caught while handling a request.
std::string error_reply_for(const ipc::Json& id, std::exception_ptr error);

}  // namespace rec

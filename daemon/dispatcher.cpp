#include "dispatcher.hpp"

#include <fmt/format.h>

#include <map>
#include <regex>

#include "../common/log.hpp"
#include "../common/shm/ring_layout.hpp"
#include "capture/sources.hpp"
#include "encode/probe.hpp"
#include "process.hpp"

namespace rec {
namespace {

using ipc::Json;

[[noreturn]] void fail(ErrorCode code, const std::string& message) { throw Error(code, message); }

Json session_list(const std::vector<std::shared_ptr<Session>>& sessions) {
    Json list = Json::array();
    for (const auto& s : sessions) list.push_back(s->status());
    return list;
}

// The request's `key`, which must be one of `allowed`, else `fallback`.
std::string one_of(const Json& body, const char* key, std::initializer_list<const char*> allowed,
                   const std::string& fallback) {
    auto value = ipc::get_string(body, key);
    if (!value) return fallback;
    std::string names;
    for (const char* a : allowed) {
        if (*value == a) return *value;
        names += (names.empty() ? "" : ", ") + std::string(a);
    }
    fail(ErrorCode::invalid_argument,
         fmt::format("{} must be one of {}, got \"{}\"", key, names, *value));
}

}  // namespace

std::string error_reply_for(const Json& id, std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const Error& e) {
        return ipc::error_reply(id, e.code(), e.what());
    } catch (const std::exception& e) {
        return ipc::error_reply(id, ErrorCode::internal, e.what());
    }
}

void Dispatcher::handle(std::string_view line, ReplyFn reply, PushFn push) {
    static const std::map<std::string, Handler, std::less<>> handlers{
        {"hello", &Dispatcher::hello},       {"ping", &Dispatcher::hello},
        {"start", &Dispatcher::start},       {"stop", &Dispatcher::stop},
        {"status", &Dispatcher::status},     {"list", &Dispatcher::list},
        {"pause", &Dispatcher::pause},       {"resume", &Dispatcher::resume},
        {"split", &Dispatcher::split},       {"devices", &Dispatcher::devices},
        {"encoders", &Dispatcher::encoders}, {"shutdown", &Dispatcher::shutdown}};
    Json id;
    try {
        auto request = ipc::parse_request(line, id);
        if (request.cmd == "subscribe") return subscribe(request, reply, std::move(push));
        auto handler = handlers.find(request.cmd);
        if (handler == handlers.end())
            fail(ErrorCode::unknown_command,
                 fmt::format("unknown command \"{}\"; commands: hello, ping, start, stop, pause, "
                             "resume, split, status, list, devices, encoders, subscribe, shutdown",
                             request.cmd));
        (this->*handler->second)(request, reply);
    } catch (...) {
        reply(error_reply_for(id, std::current_exception()));
    }
}

void Dispatcher::offload(std::function<void()> work, std::function<void(std::exception_ptr)> done) {
    boost::asio::post(ctx_.workers, [this, work = std::move(work), done = std::move(done)] {
        set_thread_name("worker");
        std::exception_ptr error;
        try {
            work();
        } catch (...) {
            error = std::current_exception();
        }
        boost::asio::post(ctx_.io, [done, error] { done(error); });
    });
}

Json Dispatcher::daemon_info() const {
    return {{"version", RECD_VERSION},     {"protocol", ipc::protocol_version},
            {"pid", current_process_id()}, {"uptime", Seconds(Clock::now() - ctx_.started).count()},
            {"socket", ctx_.socket},       {"unfinished_files", ctx_.unfinished}};
}

// From now on the client also gets every event as a line of its own (docs/protocol.md); it
// may go on sending requests on the same connection.
void Dispatcher::subscribe(const ipc::Request& request, ReplyFn& reply, PushFn push) {
    reply(ipc::ok_reply(request.id, {{"subscribed", true}}));
    ctx_.events.subscribe(std::move(push));
}

void Dispatcher::hello(const ipc::Request& request, ReplyFn& reply) {
    reply(ipc::ok_reply(request.id, {{"daemon", daemon_info()}}));
}

SessionOptions Dispatcher::start_options(const Json& body) const {
    SessionOptions o;
    source_options(body, o);
    if (auto region = body.find("region"); region != body.end() && !region->is_null())
        o.region = ipc::parse_region(*region);
    o.monitor = ipc::get_string(body, "monitor").value_or("");
    if (o.region && !o.monitor.empty())
        fail(ErrorCode::invalid_argument, "region and monitor exclude each other: give one");
    o.video = video_options(body);
    o.output = ctx_.config.output;
    o.output.container = one_of(body, "container", {"mkv", "mp4", "mpegts"}, o.output.container);
    o.strict_encoder = ipc::get_bool(body, "strict").value_or(false);
    o.name = ipc::get_string(body, "name").value_or("");
    static const std::regex valid_name(R"([A-Za-z0-9_-][A-Za-z0-9._-]{0,63})");
    if (!o.name.empty() && !std::regex_match(o.name, valid_name))
        fail(ErrorCode::invalid_argument,
             "name must be 1..64 of A-Z a-z 0-9 . _ - and not start with '.', got \"" + o.name +
                 "\"");
    o.audio = audio_options(body, o.shm_ring.empty());
    if (!o.shm_ring.empty()) return o;
    // The display last: a request's own mistakes are reported before the environment's.
    o.display = choose_display(ipc::get_string(body, "display"), ctx_.config.video.display);
    return o;
}

// "source": the screen (the default: "x11" on Linux, screen_source_name()) or "shm:NAME" (a
// shared-memory ring, with "wait"). The screen's own fields make no sense with a ring and are
// refused.
void Dispatcher::source_options(const Json& body, SessionOptions& o) const {
    const std::string screen(screen_source_name());
    const auto source = ipc::get_string(body, "source").value_or(screen);
    o.wait_for_source = ipc::get_bool(body, "wait").value_or(false);
    if (source == screen) {
        if (o.wait_for_source)
            fail(ErrorCode::invalid_argument, "wait applies to a source \"shm:NAME\" only");
        return;
    }
    if (source.rfind("shm:", 0) != 0)
        fail(ErrorCode::invalid_argument,
             fmt::format("source must be \"{}\" or \"shm:NAME\", got \"{}\"", screen, source));
    o.shm_ring = source.substr(4);
    if (!shm::valid_ring_name(o.shm_ring))
        fail(ErrorCode::invalid_argument,
             fmt::format("source shm:NAME: NAME must be 1..64 of A-Z a-z 0-9 . _ - and not start "
                         "with '.', got \"{}\"",
                         o.shm_ring));
    for (const char* screen_only : {"display", "region", "monitor"})
        if (auto it = body.find(screen_only); it != body.end() && !it->is_null())
            fail(ErrorCode::invalid_argument,
                 fmt::format("{} applies to {}, not to source {}", screen_only,
                             screen_description(), source));
}

// fps, encoder, codec, quality, size over the config's [video].
VideoConfig Dispatcher::video_options(const Json& body) const {
    VideoConfig v = ctx_.config.video;
    v.fps = static_cast<int>(ipc::get_int(body, "fps", 1, 240).value_or(v.fps));
    if (auto encoder = body.find("encoder"); encoder != body.end() && !encoder->is_null())
        v.encoder = {one_of(body, "encoder", {"nvenc", "x264"}, "")};
    v.codec = one_of(body, "codec", {"h264", "hevc"}, v.codec);
    v.quality = one_of(body, "quality", {"low", "medium", "high"}, v.quality);
    if (auto size = ipc::get_string(body, "size")) {
        static const std::regex valid(R"([1-9]\d{0,4}x[1-9]\d{0,4})");
        if (!std::regex_match(*size, valid))
            fail(ErrorCode::invalid_argument,
                 "size must be WxH (e.g. 1280x720), got \"" + *size + "\"");
        int w = 0, h = 0;
        std::sscanf(size->c_str(), "%dx%d", &w, &h);
        if (w < 16 || h < 16 || w > 8192 || h > 8192 || w % 2 || h % 2)
            fail(ErrorCode::invalid_argument,
                 "size must be even, 16..8192 on each side, got \"" + *size + "\"");
        v.size = *size;
    }
    return v;
}

// "audio": {"system","mic","system_device","mic_device","codec"} over the config's [audio].
// A shared-memory source's frames are not the desktop's: its session records no audio tracks
// unless the request asks for them.
AudioConfig Dispatcher::audio_options(const Json& body, bool screen) const {
    AudioConfig a = ctx_.config.audio;
    if (!screen) a.system = a.mic = false;
    auto it = body.find("audio");
    if (it == body.end() || it->is_null()) return a;
    if (!it->is_object())
        fail(ErrorCode::invalid_argument,
             fmt::format("audio must be an object, got {}", it->type_name()));
    a.system = ipc::get_bool(*it, "system").value_or(a.system);
    a.mic = ipc::get_bool(*it, "mic").value_or(a.mic);
    a.system_device = ipc::get_string(*it, "system_device").value_or(a.system_device);
    a.mic_device = ipc::get_string(*it, "mic_device").value_or(a.mic_device);
    a.codec = one_of(*it, "codec", {"aac", "opus"}, a.codec);
    return a;
}

void Dispatcher::start(const ipc::Request& request, ReplyFn& reply) {
    if (ctx_.shutting_down()) fail(ErrorCode::shutting_down, "recd is shutting down");
    launch(start_options(request.body), request.id, reply);
}

void Dispatcher::start_own(const Json& body, const std::string& directory, ReplyFn reply) {
    try {
        if (ctx_.shutting_down()) fail(ErrorCode::shutting_down, "recd is shutting down");
        auto options = start_options(body);
        if (!directory.empty()) options.output.directory = directory;
        launch(std::move(options), nullptr, std::move(reply));
    } catch (...) {
        reply(error_reply_for(nullptr, std::current_exception()));
    }
}

// Registers the session, starts it on the worker pool and replies once it records (or failed).
void Dispatcher::launch(SessionOptions options, const Json& id, ReplyFn reply) {
    auto session = sessions_.create(std::move(options));
    offload([session] { session->start(); },
            [this, session, id, reply](std::exception_ptr error) {
                if (error) {
                    sessions_.remove(session->id());
                    reply(error_reply_for(id, error));
                } else {
                    reply(ipc::ok_reply(id, {{"session", session->status()}}));
                }
            });
}

std::vector<std::shared_ptr<Session>> Dispatcher::stop_targets(const Json& body) const {
    if (ipc::get_bool(body, "all").value_or(false)) return sessions_.active();
    if (auto id = ipc::get_string(body, "session")) {
        if (auto session = sessions_.find(*id)) return {session};
        fail(ErrorCode::not_found, "no session \"" + *id + "\"");
    }
    auto active = sessions_.active();
    if (active.empty()) fail(ErrorCode::not_found, "no session is recording");
    if (active.size() > 1) {
        std::string ids;
        for (const auto& s : active) ids += (ids.empty() ? "" : ", ") + s->id();
        fail(ErrorCode::ambiguous,
             fmt::format("{} sessions are recording ({}): name one, or stop all", active.size(),
                         ids));
    }
    return active;
}

void Dispatcher::stop(const ipc::Request& request, ReplyFn& reply) {
    const bool all = ipc::get_bool(request.body, "all").value_or(false);
    auto targets = stop_targets(request.body);
    for (const auto& s : targets) s->request_stop();
    offload(
        [targets] {
            for (const auto& s : targets) s->wait();
        },
        [targets, all, id = request.id, reply](std::exception_ptr error) {
            if (error) return reply(error_reply_for(id, error));
            if (all) return reply(ipc::ok_reply(id, {{"sessions", session_list(targets)}}));
            reply(ipc::ok_reply(id, {{"session", targets.front()->status()}}));
        });
}

// The session a pause/resume names, or the only one that is recording or paused.
std::shared_ptr<Session> Dispatcher::target(const Json& body) const {
    if (auto id = ipc::get_string(body, "session")) {
        if (auto session = sessions_.find(*id)) return session;
        fail(ErrorCode::not_found, "no session \"" + *id + "\"");
    }
    auto active = sessions_.active();
    if (active.empty()) fail(ErrorCode::not_found, "no session is recording");
    if (active.size() > 1)
        fail(ErrorCode::ambiguous, fmt::format("{} sessions are active: name one", active.size()));
    return active.front();
}

void Dispatcher::pause(const ipc::Request& request, ReplyFn& reply) {
    auto session = target(request.body);
    session->pause();
    reply(ipc::ok_reply(request.id, {{"session", session->status()}}));
}

void Dispatcher::resume(const ipc::Request& request, ReplyFn& reply) {
    auto session = target(request.body);
    session->resume();
    reply(ipc::ok_reply(request.id, {{"session", session->status()}}));
}

void Dispatcher::split(const ipc::Request& request, ReplyFn& reply) {
    auto session = target(request.body);
    session->split();
    reply(ipc::ok_reply(request.id, {{"session", session->status()}}));
}

void Dispatcher::devices(const ipc::Request& request, ReplyFn& reply) {
    auto result = std::make_shared<Json>();
    offload([result] { *result = list_audio_devices(); },
            [result, id = request.id, reply](std::exception_ptr error) {
                if (error) return reply(error_reply_for(id, error));
                reply(ipc::ok_reply(id, std::move(*result)));
            });
}

void Dispatcher::encoders(const ipc::Request& request, ReplyFn& reply) {
    auto result = std::make_shared<Json>();
    offload([result] { *result = list_encoders(); },
            [result, id = request.id, reply](std::exception_ptr error) {
                if (error) return reply(error_reply_for(id, error));
                reply(ipc::ok_reply(id, {{"encoders", std::move(*result)}}));
            });
}

void Dispatcher::status(const ipc::Request& request, ReplyFn& reply) {
    if (auto id = ipc::get_string(request.body, "session")) {
        auto session = sessions_.find(*id);
        if (!session) fail(ErrorCode::not_found, "no session \"" + *id + "\"");
        return reply(ipc::ok_reply(request.id, {{"session", session->status()}}));
    }
    reply(ipc::ok_reply(request.id,
                        {{"daemon", daemon_info()}, {"sessions", session_list(sessions_.all())}}));
}

void Dispatcher::list(const ipc::Request& request, ReplyFn& reply) {
    reply(ipc::ok_reply(request.id, {{"sessions", session_list(sessions_.all())}}));
}

void Dispatcher::shutdown(const ipc::Request& request, ReplyFn& reply) {
    ctx_.shutdown([id = request.id, reply](Json sessions) {
        reply(ipc::ok_reply(id, {{"sessions", std::move(sessions)}}));
    });
}

}  // namespace rec

// recctl: one command line in, one request to recd, its reply out (docs/protocol.md).
// Exit codes: 0 ok, 1 recd answered with an error, 2 usage error, 3 recd not reachable.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "common/ipc/client.hpp"
#include "console.hpp"
#include "recctl_endpoint.hpp"
#include "render.hpp"

namespace {

using rec::ipc::Json;

enum class Exit { ok = 0, recd_error = 1, usage = 2, unreachable = 3 };

struct Globals {
    std::string socket;  // recctl_endpoint.hpp says what these two mean on each system
    std::string user;    // root: talk to this user's recd
    bool json = false;
    double timeout_seconds = 60;  // stop waits for the file to be finalized: allow a while
};

// One subcommand: its parser and, once parsed, the request it stands for (without v and id).
struct Command {
    CLI::App* app;
    std::function<Json()> request;
};

Command add_start(CLI::App& app) {
    struct Fields {
        std::string display, region, monitor, name, system_device, mic_device, codec;
        std::string container, encoder, video_codec, quality, size, source;
        int fps = 0;
        bool no_system = false, no_mic = false, strict = false, wait = false;
    };
    auto f = std::make_shared<Fields>();
    auto* sub = app.add_subcommand("start", "Start a recording; prints its id and file");
    auto* display = sub->add_option("--display", f->display, "X display (default: recd's)")
                        ->type_name("DISPLAY");
    auto* region =
        sub->add_option("--region", f->region, "record only this rectangle")->type_name("WxH+X+Y");
    auto* monitor = sub->add_option("--monitor", f->monitor, "record one RandR monitor")
                        ->type_name("NAME")
                        ->excludes(region);
    auto* source = sub->add_option("--source", f->source,
                                   "x11 (the screen, default) or shm:NAME (frames another program "
                                   "publishes in shared memory, e.g. recd-shm-push NAME)")
                       ->type_name("SOURCE");
    sub->add_flag("--wait", f->wait,
                  "shm: start even if the producer is not there yet, and wait for it to come "
                  "back if it goes away")
        ->needs(source);
    auto* fps = sub->add_option("--fps", f->fps, "frames per second, 1..240")->type_name("N");
    auto* name =
        sub->add_option("--name", f->name, "name for the session and file")->type_name("NAME");
    sub->add_flag("--no-system-audio", f->no_system, "do not record the system sound");
    sub->add_flag("--no-mic", f->no_mic, "do not record the microphone");
    auto* system_device =
        sub->add_option("--system-device", f->system_device,
                        "PulseAudio source recorded as system sound (default: the default "
                        "sink's monitor)")
            ->type_name("NAME");
    auto* mic_device =
        sub->add_option("--mic-device", f->mic_device, "PulseAudio source recorded as microphone")
            ->type_name("NAME");
    auto* codec = sub->add_option("--audio-codec", f->codec, "aac or opus (default: recd's config)")
                      ->type_name("CODEC");
    auto* container =
        sub->add_option("--container", f->container, "mkv, mp4 or mpegts")->type_name("FORMAT");
    auto* encoder = sub->add_option("--encoder", f->encoder,
                                    "nvenc or x264 (default: recd's order of preference)")
                        ->type_name("NAME");
    sub->add_flag("--strict", f->strict, "fail if --encoder does not work, instead of falling back")
        ->needs(encoder);
    auto* video_codec =
        sub->add_option("--codec", f->video_codec, "h264 or hevc")->type_name("CODEC");
    auto* quality =
        sub->add_option("--quality", f->quality, "low, medium or high")->type_name("LEVEL");
    auto* size =
        sub->add_option("--size", f->size, "scale to this size (aspect kept)")->type_name("WxH");
    // Only the options given are sent: recd fills in its defaults and validates everything.
    return {sub, [=] {
                Json request = {{"cmd", "start"}};
                if (display->count()) request["display"] = f->display;
                if (region->count()) request["region"] = f->region;
                if (monitor->count()) request["monitor"] = f->monitor;
                if (source->count()) request["source"] = f->source;
                if (f->wait) request["wait"] = true;
                if (fps->count()) request["fps"] = f->fps;
                if (name->count()) request["name"] = f->name;
                Json audio = Json::object();
                if (f->no_system) audio["system"] = false;
                if (f->no_mic) audio["mic"] = false;
                if (system_device->count()) audio["system_device"] = f->system_device;
                if (mic_device->count()) audio["mic_device"] = f->mic_device;
                if (codec->count()) audio["codec"] = f->codec;
                if (!audio.empty()) request["audio"] = audio;
                if (container->count()) request["container"] = f->container;
                if (encoder->count()) request["encoder"] = f->encoder;
                if (f->strict) request["strict"] = true;
                if (video_codec->count()) request["codec"] = f->video_codec;
                if (quality->count()) request["quality"] = f->quality;
                if (size->count()) request["size"] = f->size;
                return request;
            }};
}

Command add_stop(CLI::App& app) {
    struct Fields {
        std::string id;
        bool all = false;
    };
    auto f = std::make_shared<Fields>();
    auto* sub = app.add_subcommand(
        "stop", "Stop a recording (the only one if no ID) and wait until its file is final");
    auto* id = sub->add_option("ID", f->id, "session id, e.g. s1");
    sub->add_flag("--all", f->all, "stop every recording")->excludes(id);
    return {sub, [=] {
                Json request = {{"cmd", "stop"}};
                if (id->count()) request["session"] = f->id;
                if (f->all) request["all"] = true;
                return request;
            }};
}

// A command with an optional session ID.
Command add_with_id(CLI::App& app, const char* cmd, const char* help) {
    auto id = std::make_shared<std::string>();
    auto* sub = app.add_subcommand(cmd, help);
    auto* id_opt = sub->add_option("ID", *id, "session id, e.g. s1");
    return {sub, [=] {
                Json request = {{"cmd", cmd}};
                if (id_opt->count()) request["session"] = *id;
                return request;
            }};
}

Command add_status(CLI::App& app) {
    Command command = add_with_id(app, "status", "Show one session, or recd and all sessions");
    auto watch = std::make_shared<bool>(false);
    command.app->add_flag("--watch,-w", *watch,
                          "refresh every second: duration, fps, dropped and duplicated frames, "
                          "bitrate, size, audio offsets (Ctrl-C ends it)");
    return {command.app, [request = command.request, watch] {
                Json r = request();
                if (*watch) r["watch"] = true;  // recctl's own: removed before sending
                return r;
            }};
}

Command add_plain(CLI::App& app, const char* name, const char* cmd, const char* help) {
    auto* sub = app.add_subcommand(name, help);
    return {sub, [cmd] { return Json{{"cmd", cmd}}; }};
}

void add_globals(CLI::App& app, Globals& g) {
    const auto help = rec::recctl::endpoint_help();
    auto* socket = app.add_option("--socket", g.socket, help.socket)->type_name(help.socket_type);
    auto* user = app.add_option("--user", g.user, help.user)->type_name("NAME");
    if (help.user.empty())
        user->group("");  // hidden where it means nothing, but parsed: choose_endpoint says why
    else
        user->excludes(socket);
    app.add_flag("--json", g.json, "print recd's reply as one JSON line");
    app.add_option("--timeout", g.timeout_seconds, "how long to wait for the reply")
        ->type_name("SECONDS")
        ->check(CLI::Range(0.001, 1e6).description(""))
        ->capture_default_str();
    app.set_version_flag("--version", std::string("recctl ") + RECD_VERSION);
    app.require_subcommand(1);
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
        return fmt::format("recctl: {}\nrecctl: run with --help for usage\n", e.what());
    });
    app.fallthrough();  // global options may also follow the subcommand; set before adding them
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Exit report_unreachable(const std::string& what, const std::filesystem::path& endpoint) {
    std::cerr << "recctl: " << what << "\n" << rec::recctl::unreachable_advice(endpoint);
    return Exit::unreachable;
}

Exit report(const Globals& g, const std::string& cmd, const Json& reply) {
    const bool ok = reply.contains("ok") && reply["ok"] == true;
    if (g.json) std::cout << dump(reply) << "\n";
    if (!ok) {
        std::cerr << "recctl: " << rec::recctl::error_text(reply) << "\n";
        return Exit::recd_error;
    }
    if (!g.json) std::cout << rec::recctl::render(cmd, reply);
    return Exit::ok;
}

// `recctl status --watch`: the status every second, as a refreshed table (or, with --json, one
// reply per line for scripts), until Ctrl-C (exit 0) or recd goes away (exit 3).
Exit watch(const Globals& g, rec::ipc::Client& client, Json request,
           std::chrono::milliseconds timeout) {
    rec::recctl::catch_interrupts();
    const bool screen = !g.json && rec::recctl::stdout_is_ansi_terminal();
    Json before;
    auto last = std::chrono::steady_clock::now();
    while (!rec::recctl::interrupted()) {
        const Json reply = client.call(request, timeout);
        const auto now = std::chrono::steady_clock::now();
        if (!reply.value("ok", false)) return report(g, "status", reply);
        if (g.json) {
            std::cout << dump(reply) << std::endl;
        } else {
            const double interval = std::chrono::duration<double>(now - last).count();
            std::cout << (screen ? "\033[H\033[2J" : "\n")  // home, clear: a refreshed screen
                      << rec::recctl::render_watch(reply, before, interval) << std::flush;
        }
        before = reply;
        last = now;
        for (int i = 0; i < 10 && !rec::recctl::interrupted(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return Exit::ok;
}

// `recctl events`: subscribes, then prints every event until recd closes the connection (exit 0)
// or the user interrupts (SIGINT's default: the process ends).
Exit follow_events(const Globals& g, rec::ipc::Client& client, const Json& request,
                   std::chrono::milliseconds timeout) {
    const Json reply = client.call(request, timeout);
    if (!reply.value("ok", false)) return report(g, "subscribe", reply);
    std::cout << std::unitbuf;  // every event as it comes, also into a pipe
    if (g.json) std::cout << dump(reply) << "\n";
    while (auto event = client.next_event())
        std::cout << (g.json ? dump(*event) + "\n" : rec::recctl::render_event(*event));
    return Exit::ok;
}

Exit send(const Globals& g, Json request) {
    // One request per run today; an incrementing id keeps replies matchable if that changes.
    static int64_t last_id = 0;
    request["v"] = rec::ipc::protocol_version;
    request["id"] = ++last_id;
    try {
        (void)request.dump();  // strict: an argument that is not UTF-8 is the user's to fix
    } catch (const Json::exception&) {
        std::cerr << "recctl: arguments must be valid UTF-8\n";
        return Exit::usage;
    }
    std::filesystem::path endpoint;
    try {
        endpoint = rec::recctl::choose_endpoint(g.socket, g.user);
    } catch (const rec::recctl::EndpointUsage& e) {
        std::cerr << "recctl: " << e.what() << "\n";
        return Exit::usage;
    }
    const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(g.timeout_seconds * 1000));
    try {
        rec::ipc::Client client(endpoint);
        if (request["cmd"] == "subscribe") return follow_events(g, client, request, timeout);
        if (request.value("watch", false)) {
            request.erase("watch");
            return watch(g, client, request, timeout);
        }
        return report(g, request["cmd"], client.call(request, timeout));
    } catch (const rec::ipc::NoAccess& e) {
        std::cerr << "recctl: " << e.what() << "\n" << rec::recctl::no_access_advice();
        return Exit::unreachable;
    } catch (const std::exception& e) {  // ipc::Unreachable, or a path too long for sockaddr_un
        return report_unreachable(e.what(), endpoint);
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"recctl: control recd, the screen-recording daemon", "recctl"};
    Globals globals;
    add_globals(app, globals);
    std::vector<Command> commands{
        add_start(app),
        add_stop(app),
        add_status(app),
        add_with_id(app, "pause",
                    "Pause a recording (the only one if no ID): the pause is cut out"),
        add_with_id(app, "resume", "Resume a paused recording"),
        add_with_id(app, "split", "Start a new file (at a keyframe, nothing lost or repeated)"),
        add_plain(app, "encoders", "encoders",
                  "List the video encoders, whether each works here, and why not"),
        add_plain(app, "devices", "devices", "List the audio server's sinks and sources"),
        add_plain(app, "list", "list", "List sessions: ID NAME STATE SOURCE DURATION FILE"),
        add_plain(app, "ping", "hello", "Check that recd answers; prints its version and pid"),
        add_plain(app, "events", "subscribe",
                  "Print what happens (sessions started, paused, stopped, failed; files opened "
                  "and closed; encoder fallbacks) as it happens, until recd exits or Ctrl-C"),
        add_plain(app, "shutdown", "shutdown", "Finalize every recording, then make recd exit"),
    };
    try {
        auto args = rec::recctl::arguments(argc, argv);
        app.parse(args);
    } catch (const CLI::ParseError& e) {
        // --help and --version are "errors" with exit code 0; every real one is a usage error.
        return app.exit(e) == 0 ? 0 : static_cast<int>(Exit::usage);
    }
    for (auto& command : commands)
        if (command.app->parsed()) return static_cast<int>(send(globals, command.request()));
    return static_cast<int>(Exit::usage);
}

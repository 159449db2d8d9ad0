#include "render.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <utility>
#include <vector>

namespace rec::recctl {
namespace {

using ipc::Json;
using Lines = std::vector<std::pair<std::string, std::string>>;

// The value at `key` if `j` is an object holding a non-null one, else nullptr.
const Json* field(const Json& j, const char* key) {
    if (!j.is_object()) return nullptr;
    auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::string text(const Json* value) {
    if (!value) return "?";
    if (value->is_string()) return value->get<std::string>();
    return value->dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string text(const Json& j, const char* key) { return text(field(j, key)); }

std::optional<double> number(const Json& j, const char* key) {
    auto* value = field(j, key);
    if (!value || !value->is_number()) return std::nullopt;
    return value->get<double>();
}

std::string fixed(const Json& j, const char* key, int decimals) {
    auto n = number(j, key);
    return n ? fmt::format("{:.{}f}", *n, decimals) : text(j, key);
}

std::string seconds(const Json& j, const char* key) {
    auto n = number(j, key);
    return n ? fmt::format("{:.2f} s", *n) : text(j, key);
}

std::string size(const Json& region) {
    if (region.is_string()) return region.get<std::string>();
    return text(region, "width") + "x" + text(region, "height");
}

std::string geometry(const Json& region) {
    if (region.is_string()) return region.get<std::string>();
    return size(region) + "+" + text(region, "x") + "+" + text(region, "y");
}

std::string region_of(const Json& session, bool with_offset) {
    auto* region = field(session, "region");
    if (!region) return "?";
    return with_offset ? geometry(*region) : size(*region);
}

// 1536 -> "1.5 KiB (1536 bytes)": the exact count stays visible for scripts reading by eye.
std::string bytes(const Json& j, const char* key) {
    auto n = number(j, key);
    if (!n) return text(j, key);
    constexpr std::array units{"KiB", "MiB", "GiB", "TiB"};
    if (std::abs(*n) < 1024) return fmt::format("{} bytes", text(j, key));
    double scaled = *n;
    size_t unit = 0;
    for (scaled /= 1024; std::abs(scaled) >= 1024 && unit + 1 < units.size(); ++unit)
        scaled /= 1024;
    return fmt::format("{:.1f} {} ({} bytes)", scaled, units[unit], text(j, key));
}

std::string frames(const Json& session) {
    auto* counts = field(session, "frames");
    if (!counts) return "?";
    auto line = fmt::format("{} captured, {} encoded, {} dropped, {} duplicated",
                            text(*counts, "captured"), text(*counts, "encoded"),
                            text(*counts, "dropped"), text(*counts, "duplicated"));
    if (field(*counts, "unchanged")) line += ", " + text(*counts, "unchanged") + " unchanged";
    if (field(*counts, "overwritten")) line += ", " + text(*counts, "overwritten") + " overwritten";
    return line;
}

// What a session records: its display, or its shared-memory ring ("shm:cam1").
std::string source_of(const Json& session) {
    return field(session, "source") ? text(session, "source") : text(session, "display");
}

// A shared-memory ring's producer: "live, pid 4242, 640x480 bgra, 8 slots".
std::string producer_of(const Json& session) {
    auto* p = field(session, "producer");
    if (!p) return "?";
    std::string line = text(*p, "state");
    if (field(*p, "pid"))
        line += fmt::format(", pid {}, {}x{} {}, {} slots", text(*p, "pid"), text(*p, "width"),
                            text(*p, "height"), text(*p, "format"), text(*p, "capacity"));
    return line;
}

std::string uptime(const Json& daemon) {
    auto n = number(daemon, "uptime");
    if (!n || *n < 0) return text(daemon, "uptime");
    const auto total = static_cast<long long>(*n);
    const auto h = total / 3600, m = total / 60 % 60, s = total % 60;
    if (h) return fmt::format("{}h {:02}m {:02}s", h, m, s);
    if (m) return fmt::format("{}m {:02}s", m, s);
    return fmt::format("{}s", s);
}

std::string error_of(const Json& session) {
    auto* error = field(session, "error");
    return error ? text(*error, "code") + ": " + text(*error, "message") : "";
}

const Json& sessions_of(const Json& reply) {
    static const Json none = Json::array();
    auto* list = field(reply, "sessions");
    return list && list->is_array() ? *list : none;
}

std::string aligned(const Lines& lines) {
    size_t width = 0;
    for (auto& [key, value] : lines) width = std::max(width, key.size());
    std::string out;
    for (auto& [key, value] : lines) out += fmt::format("{:<{}} {}\n", key + ":", width + 1, value);
    return out;
}

std::string session_block(const Json& s) {
    Lines lines{{"id", text(s, "id")}, {"name", text(s, "name")}, {"state", text(s, "state")}};
    if (field(s, "source"))
        lines.insert(lines.end(), {{"source", text(s, "source")},
                                   {"producer", producer_of(s)},
                                   {"size", region_of(s, false)}});
    else
        lines.insert(lines.end(),
                     {{"display", text(s, "display")}, {"region", region_of(s, true)}});
    lines.insert(lines.end(), {{"fps", text(s, "fps")},
                               {"file", text(s, "file")},
                               {"encoder", text(s, "encoder") + " " + text(s, "codec") + " in " +
                                               text(s, "container")},
                               {"duration", seconds(s, "duration")},
                               {"frames", frames(s)},
                               {"bytes", bytes(s, "bytes")}});
    if (auto* tracks = field(s, "audio"); tracks && tracks->is_array()) {
        for (auto& t : *tracks)
            lines.emplace_back(
                "audio " + text(t, "track"),
                fmt::format("{} ({}), {} samples, {} ms silence, drift {} ppm, offset {} ms",
                            text(t, "device"), text(t, "state"), text(t, "samples"),
                            fixed(t, "silence_ms", 0), fixed(t, "drift_ppm", 0),
                            fixed(t, "offset_ms", 1)));
        if (tracks->empty()) lines.emplace_back("audio", "none");
    }
    if (auto* why = field(s, "encoder_fallback_reason"))
        lines.emplace_back("passed over", text(why));
    if (auto* files = field(s, "files"); files && files->is_array())
        for (auto& f : *files)
            lines.emplace_back("closed file",
                               fmt::format("{}  {}  ({})", text(f, "file"), seconds(f, "duration"),
                                           text(f, "end_reason")));
    if (auto* hooks = field(s, "hooks"); hooks && hooks->is_array())
        for (auto& h : *hooks)
            lines.emplace_back(
                "hook", fmt::format("{}: {}{}", text(h, "file"), text(h, "state"),
                                    field(h, "exit_code") ? ", exit " + text(h, "exit_code") : ""));
    if (auto* warnings = field(s, "warnings"); warnings && warnings->is_array())
        for (auto& w : *warnings) lines.emplace_back("warning", text(&w));
    if (auto error = error_of(s); !error.empty()) lines.emplace_back("error", error);
    return aligned(lines);
}

// "file  duration" as stop prints it; a failed session says why.
std::string file_line(const Json& s) {
    auto line = field(s, "file") ? text(s, "file") + "  " + seconds(s, "duration")
                                 : text(s, "id") + ": no file (its source never came)";
    if (auto error = error_of(s); !error.empty())
        line += "  (" + text(s, "state") + ": " + error + ")";
    return line + "\n";
}

std::string file_lines(const Json& reply) {
    const auto& sessions = sessions_of(reply);
    if (sessions.empty()) return "no sessions\n";
    std::string out;
    for (auto& s : sessions) out += file_line(s);
    return out;
}

std::string render_start(const Json& reply) {
    auto* s = field(reply, "session");
    if (!s) return "started\n";
    if (text(*s, "state") == "waiting")
        return fmt::format("{} waiting for {}: recording starts when its producer does\n",
                           text(*s, "id"), source_of(*s));
    return fmt::format("{} {} to {} ({}, {} @ {} fps)\n", text(*s, "id"), text(*s, "state"),
                       text(*s, "file"), text(*s, "encoder"), region_of(*s, false),
                       text(*s, "fps"));
}

std::string render_stop(const Json& reply) {
    if (auto* s = field(reply, "session")) return file_line(*s);
    return file_lines(reply);
}

std::string render_status(const Json& reply) {
    if (auto* s = field(reply, "session")) return session_block(*s);
    std::string out;
    if (auto* d = field(reply, "daemon")) {
        out = fmt::format("recd {} (pid {}), up {}, socket {}\n", text(*d, "version"),
                          text(*d, "pid"), uptime(*d), text(*d, "socket"));
        // Files an earlier recd died writing: they play up to their last write.
        if (auto* files = field(*d, "unfinished_files"); files && files->is_array()) {
            for (const Json& f : *files)
                out += fmt::format("unfinished (an earlier recd died writing it): {}{}\n",
                                   text(f, "file"), f.value("exists", false) ? "" : " (gone)");
        }
    }
    const auto& sessions = sessions_of(reply);
    if (sessions.empty()) return out + "no sessions\n";
    // Not `(out.empty() ? "" : "\n") + block`: GCC 12 warns about it (a false -Wrestrict).
    for (auto& s : sessions) {
        if (!out.empty()) out += "\n";
        out += session_block(s);
    }
    return out;
}

std::string render_list(const Json& reply) {
    const auto& sessions = sessions_of(reply);
    if (sessions.empty()) return "no sessions\n";
    std::vector<std::array<std::string, 6>> rows{
        {"ID", "NAME", "STATE", "SOURCE", "DURATION", "FILE"}};
    for (auto& s : sessions)
        rows.push_back({text(s, "id"), text(s, "name"), text(s, "state"), source_of(s),
                        seconds(s, "duration"), field(s, "file") ? text(s, "file") : "-"});
    std::array<size_t, 5> width{};
    for (auto& row : rows)
        for (size_t c = 0; c < width.size(); ++c) width[c] = std::max(width[c], row[c].size());
    std::string out;
    for (auto& r : rows)
        out += fmt::format("{:<{}}  {:<{}}  {:<{}}  {:<{}}  {:>{}}  {}\n", r[0], width[0], r[1],
                           width[1], r[2], width[2], r[3], width[3], r[4], width[4], r[5]);
    return out;
}

std::string render_hello(const Json& reply) {
    auto* d = field(reply, "daemon");
    if (!d) return "recd answered\n";
    return fmt::format("recd {} (pid {}) at {}\n", text(*d, "version"), text(*d, "pid"),
                       text(*d, "socket"));
}

std::string render_state(const Json& reply) {
    auto* s = field(reply, "session");
    return s ? text(*s, "id") + " " + text(*s, "state") + "\n" : "done\n";
}

std::string render_devices(const Json& reply) {
    std::string out;
    for (const char* kind : {"sinks", "sources"}) {
        out += std::string(kind) + ":\n";
        auto* list = field(reply, kind);
        if (!list || !list->is_array() || list->empty()) out += "  none\n";
        const auto* default_name =
            field(reply, kind == std::string("sinks") ? "default_sink" : "default_source");
        for (auto& d : list && list->is_array() ? *list : Json::array()) {
            const bool is_default = default_name && text(default_name) == text(d, "name");
            out += fmt::format("  {} {}  {}\n", is_default ? "*" : " ", text(d, "name"),
                               text(d, "description"));
        }
    }
    return out;
}

std::string render_encoders(const Json& reply) {
    std::string out;
    auto* list = field(reply, "encoders");
    for (auto& e : list && list->is_array() ? *list : Json::array()) {
        const bool ok = field(e, "available") && *field(e, "available") == true;
        out +=
            fmt::format("{:<6} {:<5} {:<11} {}\n", text(e, "name"), text(e, "codec"),
                        text(e, "ffmpeg"), ok ? "available" : "unavailable: " + text(e, "reason"));
    }
    return out.empty() ? "no encoders\n" : out;
}

std::string render_shutdown(const Json& reply) {
    std::string out;
    for (auto& s : sessions_of(reply)) out += file_line(s);
    return out + "recd finalized its recordings and is exiting\n";
}

}  // namespace

std::string render(std::string_view cmd, const Json& reply) {
    if (cmd == "start") return render_start(reply);
    if (cmd == "stop") return render_stop(reply);
    if (cmd == "status") return render_status(reply);
    if (cmd == "list") return render_list(reply);
    if (cmd == "hello") return render_hello(reply);
    if (cmd == "shutdown") return render_shutdown(reply);
    if (cmd == "pause" || cmd == "resume" || cmd == "split") return render_state(reply);
    if (cmd == "encoders") return render_encoders(reply);
    if (cmd == "devices") return render_devices(reply);
    return reply.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

// The sessions a status reply holds: `status ID` answers with one "session", `status` with all
// "sessions".
Json watched(const Json& reply) {
    if (auto* session = field(reply, "session")) return Json::array({*session});
    return sessions_of(reply);
}

std::string render_watch(const Json& now_reply, const Json& before_reply, double interval) {
    const Json now = watched(now_reply), before = watched(before_reply);
    // The same session's previous figures, for rates.
    const auto previous = [&](const Json& s) -> const Json* {
        for (auto& p : before)
            if (text(p, "id") == text(s, "id")) return &p;
        return nullptr;
    };
    const auto rate = [&](const Json* a, const Json* b) -> std::optional<double> {
        if (!a || !b || !a->is_number() || !b->is_number() || interval <= 0) return std::nullopt;
        return (a->get<double>() - b->get<double>()) / interval;
    };
    std::vector<std::array<std::string, 9>> rows{
        {"ID", "STATE", "DURATION", "FPS", "DROPPED", "DUPLICATED", "BITRATE", "SIZE", "AUDIO"}};
    for (auto& s : now) {
        const Json* p = previous(s);
        const Json* frames = field(s, "frames");
        const Json* old_frames = p ? field(*p, "frames") : nullptr;
        const auto fps = frames && old_frames
                             ? rate(field(*frames, "encoded"), field(*old_frames, "encoded"))
                             : std::nullopt;
        const auto bps = rate(field(s, "bytes"), p ? field(*p, "bytes") : nullptr);
        std::string audio;
        if (auto* tracks = field(s, "audio"); tracks && tracks->is_array())
            for (auto& t : *tracks)
                audio += fmt::format("{}{} {} ms", audio.empty() ? "" : ", ", text(t, "track"),
                                     fixed(t, "offset_ms", 1));
        rows.push_back({text(s, "id"), text(s, "state"), seconds(s, "duration"),
                        fps ? fmt::format("{:.1f}", *fps) : "-",
                        frames ? text(*frames, "dropped") : "?",
                        frames ? text(*frames, "duplicated") : "?",
                        bps ? fmt::format("{:.0f} kbit/s", *bps * 8 / 1000) : "-",
                        fmt::format("{:.1f} MiB", number(s, "bytes").value_or(0) / (1 << 20)),
                        audio.empty() ? "none" : audio});
    }
    if (rows.size() == 1) return "no sessions\n";
    std::array<size_t, 9> width{};
    for (auto& row : rows)
        for (size_t c = 0; c < width.size(); ++c) width[c] = std::max(width[c], row[c].size());
    std::string out;
    for (auto& r : rows) {
        for (size_t c = 0; c + 1 < r.size(); ++c)
            out += c >= 2 ? fmt::format("{:>{}}  ", r[c], width[c])  // figures to the right
                          : fmt::format("{:<{}}  ", r[c], width[c]);
        out += r.back() + "\n";
    }
    return out;
}

// "15:04:05 s1 file_closed /path/f.mkv (2.00 s, 1.2 MiB (...), split)".
std::string render_event(const Json& event) {
    std::string time = text(event, "time");
    if (const auto t = time.find('T'); t != std::string::npos) time = time.substr(t + 1);
    const std::string kind = text(event, "event");
    std::string detail;
    if (kind == "file_closed")
        detail = fmt::format("{} ({}, {}, {})", text(event, "file"), seconds(event, "duration"),
                             bytes(event, "bytes"), text(event, "end_reason"));
    else if (kind == "file_opened")
        detail = text(event, "file");
    else if (kind == "encoder_fallback")
        detail = fmt::format("now {}: {}", text(event, "encoder"), text(event, "reason"));
    else if (auto* status = field(event, "status"); status && kind == "session_failed")
        detail = field(*status, "error") ? error_text(*status) : "";
    else if (status)
        detail = text(*status, "file");
    return fmt::format("{} {} {}{}{}\n", time, text(event, "session"), kind,
                       detail.empty() ? "" : " ", detail);
}

std::string error_text(const Json& reply) {
    auto* error = field(reply, "error");
    if (!error)
        return "ERROR: recd refused without saying why: " +
               reply.dump(-1, ' ', false, Json::error_handler_t::replace);
    return text(*error, "code") + ": " + text(*error, "message");
}

}  // namespace rec::recctl

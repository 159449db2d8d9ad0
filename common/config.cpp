#include "config.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace rec {
namespace {

constexpr std::array log_levels{"trace", "debug", "info", "warn", "error", "critical", "off"};
constexpr std::array encoder_families{"nvenc", "x264"};
constexpr std::array codecs{"h264", "hevc"};
constexpr std::array qualities{"low", "medium", "high"};
constexpr std::array containers{"mkv", "mp4", "mpegts"};

template <size_t N>
std::string join(const std::array<const char*, N>& items) {
    std::string out;
    for (auto* item : items) out += (out.empty() ? "" : ", ") + std::string(item);
    return out;
}

template <size_t N>
bool contains(const std::array<const char*, N>& items, const std::string& value) {
    for (auto* item : items)
        if (value == item) return true;
    return false;
}

// Reads one [section] of the file: each get() names a key it knows, so whatever is left over
// is unknown and becomes a warning.
class Section {
public:
    Section(const toml::table& root, std::string name, const std::string& source, Config& config)
        : name_(std::move(name)), source_(source), config_(config) {
        if (auto* node = root.get(name_)) {
            table_ = node->as_table();
            if (!table_)
                throw ConfigError(
                    fmt::format("{}: {} must be a table ([{}])", source_, name_, name_));
        }
    }
    ~Section() noexcept(false) {
        if (!table_) return;
        for (auto& [key, node] : *table_)
            if (!known_.count(std::string(key.str())))
                config_.warnings.push_back(
                    fmt::format("{}: unknown key {}.{} ignored", source_, name_, key.str()));
    }

    void get(const char* key, std::string& out) {
        if (auto* node = find(key)) {
            auto value = node->value<std::string>();
            if (!value) fail(key, "must be a string, got " + text(*node));
            out = *value;
        }
    }
    // A string that must be one of `allowed`.
    template <size_t N>
    void get(const char* key, std::string& out, const std::array<const char*, N>& allowed) {
        get(key, out);
        if (!contains(allowed, out))
            fail(key, fmt::format("must be one of {}, got \"{}\"", join(allowed), out));
    }
    // A non-empty list of distinct strings, each one of `allowed`.
    template <size_t N>
    void get(const char* key, std::vector<std::string>& out,
             const std::array<const char*, N>& allowed) {
        auto* node = find(key);
        if (!node) return;
        auto* list = node->as_array();
        const auto wrong = [&] {
            fail(key, fmt::format("must be a list of distinct names from {}, e.g. [\"{}\"], got {}",
                                  join(allowed), allowed[0], text(*node)));
        };
        if (!list || list->empty()) wrong();
        out.clear();
        for (auto& item : *list) {
            auto name = item.value<std::string>();
            if (!name || !contains(allowed, *name) ||
                std::find(out.begin(), out.end(), *name) != out.end())
                wrong();
            out.push_back(*name);
        }
    }
    void get(const char* key, std::optional<int>& out, int min, int max) {
        if (find(key)) {
            int value = 0;
            get(key, value, min, max);
            out = value;
        }
    }
    void get(const char* key, bool& out) {
        if (auto* node = find(key)) {
            auto value = node->value_exact<bool>();
            if (!value) fail(key, "must be true or false, got " + text(*node));
            out = *value;
        }
    }
    void get(const char* key, int& out, int min, int max) {
        if (auto* node = find(key)) {
            auto value = node->value_exact<int64_t>();
            if (!value || *value < min || *value > max)
                fail(key, fmt::format("must be an integer {}..{}, got {}", min, max, text(*node)));
            out = static_cast<int>(*value);
        }
    }
    void get(const char* key, double& out, double min, double max) {
        if (auto* node = find(key)) {
            auto value = node->value<double>();
            if (!value || *value < min || *value > max)
                fail(key, fmt::format("must be a number {}..{}, got {}", min, max, text(*node)));
            out = *value;
        }
    }
    [[noreturn]] void fail(const std::string& key, const std::string& what) const {
        throw ConfigError(fmt::format("{}: {}.{} {}", source_, name_, key, what));
    }

private:
    const toml::node* find(const char* key) {
        known_.insert(key);
        return table_ ? table_->get(key) : nullptr;
    }
    static std::string text(const toml::node& node) {
        std::ostringstream out;
        node.visit([&](auto&& v) { out << v; });
        return out.str();
    }

    const toml::table* table_ = nullptr;
    std::string name_;
    const std::string& source_;
    Config& config_;
    std::set<std::string> known_;
};

void read_video(const toml::table& root, const std::string& source, Config& config) {
    Section s(root, "video", source, config);
    auto& v = config.video;
    s.get("display", v.display);
    s.get("fps", v.fps, 1, 240);
    s.get("encoder", v.encoder, encoder_families);
    s.get("codec", v.codec, codecs);
    s.get("quality", v.quality, qualities);
    s.get("crf", v.crf, 0, 51);
    s.get("bitrate_kbps", v.bitrate_kbps, 0, 1'000'000);
    s.get("size", v.size);
    static const std::regex size(R"(|[1-9]\d{0,4}x[1-9]\d{0,4})");
    if (!std::regex_match(v.size, size))
        s.fail("size", "must be \"WxH\" (e.g. \"1280x720\") or \"\", got \"" + v.size + "\"");
    s.get("keyframe_seconds", v.keyframe_seconds, 0.1, 60.0);
}

void read_audio(const toml::table& root, const std::string& source, Config& config) {
    Section s(root, "audio", source, config);
    auto& a = config.audio;
    s.get("system", a.system);
    s.get("mic", a.mic);
    s.get("system_device", a.system_device);
    s.get("mic_device", a.mic_device);
    static constexpr std::array audio_codecs{"aac", "opus"};
    s.get("codec", a.codec, audio_codecs);
    s.get("required", a.required);
}

void read_output(const toml::table& root, const std::string& source, Config& config) {
    Section s(root, "output", source, config);
    auto& o = config.output;
    s.get("directory", o.directory);
    s.get("file_template", o.file_template);
    // Placeholders only; no '/': a template names a file, never a place outside the directory.
    static const std::regex allowed(
        R"(([A-Za-z0-9._-]|\{(date|time|name|session|user|host|seq)\})+)");
    if (!std::regex_match(o.file_template, allowed) || o.file_template.front() == '.')
        s.fail("file_template",
               "may hold only A-Z a-z 0-9 . _ - and {date} {time} {name} {session} {user} {host} "
               "{seq}, not start with '.', got \"" +
                   o.file_template + "\"");
    s.get("container", o.container, containers);
    s.get("segment_seconds", o.segment_seconds, 0.0, 86400.0);
    s.get("segment_megabytes", o.segment_megabytes, 0, 1'000'000);
    s.get("min_free_mb", o.min_free_mb, 0, 1'000'000);
    s.get("on_file_closed", o.on_file_closed);
}

void read_log(const toml::table& root, const std::string& source, Config& config) {
    Section s(root, "log", source, config);
    s.get("level", config.log.level, log_levels);
    s.get("file", config.log.file);
}

void read_control(const toml::table& root, const std::string& source, Config& config) {
    Section s(root, "control", source, config);
    s.get("socket", config.control.socket);
    s.get("admin_group", config.control.admin_group);
    // A name as /etc/group or a directory service (sssd: "domain admins") may hold it: no ':'
    // or ',' (group(5)'s separators), no control characters, no blank at either end. Digits
    // alone would look like a gid, which this key does not take.
    static const std::regex group(R"(|[^\s:,[:cntrl:]]([^:,[:cntrl:]]{0,254}[^\s:,[:cntrl:]])?)");
    static const std::regex digits(R"(\d+)");
    const auto& name = config.control.admin_group;
    if (!std::regex_match(name, group) || std::regex_match(name, digits))
        s.fail("admin_group",
               "must be the name of a group (not a gid; at most 256 characters, no ':' or ',', "
               "no blank at either end) or \"\" for none, got \"" +
                   name + "\"");
}

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

std::filesystem::path home() { return env("HOME").empty() ? "/tmp" : env("HOME"); }

std::filesystem::path config_home() {
    auto xdg = env("XDG_CONFIG_HOME");
    return xdg.empty() ? home() / ".config" : std::filesystem::path(xdg);
}

// XDG_VIDEOS_DIR from the environment or from user-dirs.dirs (XDG_VIDEOS_DIR="$HOME/Videos").
std::filesystem::path videos_dir() {
    if (auto dir = env("XDG_VIDEOS_DIR"); !dir.empty()) return dir;
    std::ifstream dirs(config_home() / "user-dirs.dirs");
    static const std::regex line(R"(^\s*XDG_VIDEOS_DIR\s*=\s*\"(\$HOME)?([^\"]*)\")");
    for (std::string text; std::getline(dirs, text);) {
        std::smatch m;
        if (std::regex_search(text, m, line))
            return m[1].matched ? home().string() + m[2].str() : m[2].str();
    }
    return home() / "Videos";
}

}  // namespace

bool valid_log_level(const std::string& level) { return contains(log_levels, level); }

Config parse_config(const std::string& text, const std::string& source) {
    toml::table root;
    try {
        root = toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        throw ConfigError(
            fmt::format("{}:{}:{}: {}", source, where.line, where.column, e.description()));
    }
    Config config;
    static const std::set<std::string> sections{"video", "audio", "output", "log", "control"};
    for (auto& [key, node] : root)
        if (!sections.count(std::string(key.str())))
            config.warnings.push_back(
                fmt::format("{}: unknown section or key {} ignored", source, key.str()));
    read_video(root, source, config);
    read_audio(root, source, config);
    read_output(root, source, config);
    read_log(root, source, config);
    read_control(root, source, config);
    return config;
}

Config load_config(const std::string& explicit_path) {
    std::vector<std::filesystem::path> candidates;
    if (!explicit_path.empty()) {
        if (!std::filesystem::exists(explicit_path))
            throw ConfigError("config file " + explicit_path + " does not exist");
        candidates.push_back(explicit_path);
    } else {
        candidates = {config_home() / "recd" / "recd.toml", "/etc/recd/recd.toml"};
    }
    for (const auto& path : candidates) {
        std::ifstream in(path);
        if (!in) continue;
        std::stringstream text;
        text << in.rdbuf();
        return parse_config(text.str(), path.string());
    }
    return Config{};
}

std::filesystem::path output_directory(const OutputConfig& output) {
    if (!output.directory.empty()) return output.directory;
    return videos_dir() / "recd";
}

}  // namespace rec

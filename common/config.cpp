#include "config.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <functional>
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
    // A list of strings, each accepted by `valid`; `what` says what an item may be.
    void get(const char* key, std::vector<std::string>& out,
             const std::function<bool(const std::string&)>& valid, const std::string& what) {
        auto* node = find(key);
        if (!node) return;
        auto* list = node->as_array();
        if (!list) fail(key, fmt::format("must be a list of {}, got {}", what, text(*node)));
        out.clear();
        for (auto& item : *list) {
            auto value = item.value<std::string>();
            if (!value || !valid(*value))
                fail(key, fmt::format("must be a list of {}, got {} in it", what, text(item)));
            out.push_back(*value);
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
    static constexpr std::array resize_modes{"scale", "new_file"};
    s.get("on_resize", v.on_resize, resize_modes);
    static constexpr std::array rate_modes{"cfr", "vfr"};
    s.get("frame_rate_mode", v.frame_rate_mode, rate_modes);
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

// A directory that may hold {user} and no other placeholder (a typo such as {users} would
// otherwise become a real directory named so).
void check_directory(Section& s, const char* key, const std::string& directory) {
    if (expand_user(directory, "").find_first_of("{}") != std::string::npos)
        s.fail(key, "may hold {user} (the login name) and no other placeholder or brace, got \"" +
                        directory + "\"");
}

void read_output(const toml::table& root, const std::string& source, Config& config) {
    Section s(root, "output", source, config);
    auto& o = config.output;
    s.get("directory", o.directory);
    check_directory(s, "directory", o.directory);
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

// A user or group name as /etc/passwd, /etc/group or a directory service (sssd: "domain
// admins") may hold it: 1..256 characters, no ':' or ',' (passwd(5)'s and group(5)'s
// separators), no control characters, no blank at either end. Digits alone would look like a
// uid or gid, which these keys do not take.
bool valid_account_name(const std::string& name) {
    static const std::regex account(R"([^\s:,[:cntrl:]]([^:,[:cntrl:]]{0,254}[^\s:,[:cntrl:]])?)");
    static const std::regex digits(R"(\d+)");
    return std::regex_match(name, account) && !std::regex_match(name, digits);
}

void read_control(const toml::table& root, const std::string& source, Config& config) {
    Section s(root, "control", source, config);
    s.get("socket", config.control.socket);
    s.get("admin_group", config.control.admin_group);
    const auto& name = config.control.admin_group;
    if (!name.empty() && !valid_account_name(name))
        s.fail("admin_group",
               "must be the name of a group (not a gid; at most 256 characters, no ':' or ',', "
               "no blank at either end) or \"\" for none, got \"" +
                   name + "\"");
}

void read_autostart(const toml::table& root, const std::string& source, Config& config) {
    Section s(root, "autostart", source, config);
    auto& a = config.autostart;
    s.get("record", a.record);
    static const std::string rules = "no ':' or ',', no blank at either end";
    // "*" (everyone) is for users only: anywhere else it would be a name nobody has.
    const auto name = [](const std::string& n) { return n != "*" && valid_account_name(n); };
    s.get(
        "users", a.users, [](const std::string& n) { return n == "*" || valid_account_name(n); },
        "user names (not uids; " + rules + ") or \"*\" for everyone");
    s.get("groups", a.groups, name, "group names (not gids; " + rules + "; no \"*\")");
    s.get("exclude_users", a.exclude_users, name, "user names (not uids; " + rules + "; no \"*\")");
    s.get("exclude_groups", a.exclude_groups, name,
          "group names (not gids; " + rules + "; no \"*\")");
    s.get("directory", a.directory);
    check_directory(s, "directory", a.directory);
    // recd's working directory is wherever the login hook ran: a policy names a real place.
    if (!a.directory.empty() && a.directory.front() != '/')
        s.fail("directory", "must be an absolute path (or \"\" for output.directory), got \"" +
                                a.directory + "\"");
    if (a.record && a.users.empty() && a.groups.empty())
        config.warnings.push_back(
            fmt::format("{}: autostart.record is true but autostart.users and autostart.groups "
                        "are empty: nobody is recorded at login",
                        source));
}

}  // namespace

bool valid_log_level(const std::string& level) { return contains(log_levels, level); }

Config parse_config(const std::string& text, const std::string& source, bool with_policy) {
    toml::table root;
    try {
        root = toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        throw ConfigError(
            fmt::format("{}:{}:{}: {}", source, where.line, where.column, e.description()));
    }
    Config config;
    static const std::set<std::string> sections{"video", "audio",   "output",
                                                "log",   "control", "autostart"};
    for (auto& [key, node] : root)
        if (!sections.count(std::string(key.str())))
            config.warnings.push_back(
                fmt::format("{}: unknown section or key {} ignored", source, key.str()));
    if (!with_policy && root.contains("autostart"))
        config.warnings.push_back(fmt::format(
            "{}: [autostart] ignored: who is recorded at login is the administrator's to say, in "
            "{}",
            source, system_config_path().string()));
    read_video(root, source, config);
    read_audio(root, source, config);
    read_output(root, source, config);
    read_log(root, source, config);
    read_control(root, source, config);
    if (with_policy) read_autostart(root, source, config);
    return config;
}

namespace {

std::optional<std::string> read_text(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

Config load_config(const std::string& explicit_path, const std::filesystem::path& system_path,
                   const std::filesystem::path& user_path) {
    if (!explicit_path.empty()) {
        if (!std::filesystem::exists(explicit_path))
            throw ConfigError("config file " + explicit_path + " does not exist");
        auto text = read_text(explicit_path);
        if (!text) throw ConfigError("config file " + explicit_path + " cannot be read");
        return parse_config(*text, explicit_path);
    }
    const auto system_text = read_text(system_path);
    const auto user_text = read_text(user_path);
    if (!user_text)
        return system_text ? parse_config(*system_text, system_path.string()) : Config{};
    Config config = parse_config(*user_text, user_path.string(), false);
    // The user's own settings, the administrator's login policy.
    if (system_text) {
        Config system = parse_config(*system_text, system_path.string());
        config.autostart = std::move(system.autostart);
        config.warnings.insert(config.warnings.end(), system.warnings.begin(),
                               system.warnings.end());
    }
    return config;
}

std::filesystem::path output_directory(const OutputConfig& output) {
    if (!output.directory.empty()) return expand_user(output.directory, login_name());
    return videos_dir() / "recd";
}

std::string expand_user(std::string text, const std::string& user) {
    static const std::string placeholder = "{user}";
    for (size_t at = text.find(placeholder); at != std::string::npos;
         at = text.find(placeholder, at + user.size()))
        text.replace(at, placeholder.size(), user);
    return text;
}

std::string login_name() {
    std::string name = account_name();
    for (auto& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
            c = '_';
    if (name.empty() || name == "." || name == "..") name = account_id();
    return name;
}

}  // namespace rec

#pragma once
// recd.toml: every key, its default and its allowed values. config/recd.toml documents the same
// keys for users; keep the two in step. Loaded once by recd's main thread; read-only afterwards.
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "user_dirs.hpp"

namespace rec {

struct VideoConfig {
    std::string display;                                // empty: $DISPLAY
    int fps = 30;                                       // 1..240
    std::vector<std::string> encoder{"nvenc", "x264"};  // preference; x264 always works
    std::string codec = "h264";                         // h264 or hevc (hevc needs nvenc)
    std::string quality = "medium";                     // low, medium, high
    std::optional<int> crf;         // 0..51: overrides the quality's CRF (x264) / CQ (NVENC)
    int bitrate_kbps = 0;           // > 0: average bit rate instead of constant quality
    std::string size;               // "WxH": scale to this size (letterboxed); "": as captured
    double keyframe_seconds = 2.0;  // at most this long between keyframes
    // When the screen's size changes while the whole screen is recorded: "scale" fits the new
    // screen into the file's size (letterboxed); "new_file" goes on in a new file at the new size.
    std::string on_resize = "scale";
    // "cfr": a frame in every 1/fps slot, unchanged pictures and late grabs as repeats, each
    // within half a frame of its grab. "vfr" (the default): only pictures that changed, plus one
    // at least every second and wherever a keyframe is due, each at the time it was grabbed.
    std::string frame_rate_mode = "vfr";
};

struct AudioConfig {
    bool system = true;         // record the system sound (monitor of the default sink)
    bool mic = true;            // record the microphone (default source)
    std::string system_device;  // a source name; empty: the default sink's monitor
    std::string mic_device;     // a source name; empty: the default source
    std::string codec = "aac";  // aac or opus
    bool required = false;      // no audio server: fail the start instead of video only
};

struct OutputConfig {
    std::string directory;  // empty: $XDG_VIDEOS_DIR/recd, else ~/Videos/recd
    std::string file_template = "{date}_{time}_{name}";
    std::string container = "mkv";  // mkv, mp4, mpegts
    double segment_seconds = 0;     // > 0: start a new file after this long
    int segment_megabytes = 0;      // > 0: start a new file after this size
    int min_free_mb = 500;          // refuse to start / stop cleanly below this free space
    std::string on_file_closed;     // command run after each file is final; {path} is its path
};

struct LogConfig {
    std::string level = "info";
    std::string file;  // empty: stderr only
};

// Who is recorded from the moment a graphical login starts (recd --session, run by the login
// hook and the systemd user unit): the administrator's policy, taken from /etc/recd/recd.toml
// even when a user has a config of their own (load_config). A user is recorded when `record`
// is true, the user is named in `users` (or it holds "*") or is a member of a group in
// `groups`, and is neither named in `exclude_users` nor a member of a group in
// `exclude_groups`: exclusions win. Names only (not uids or gids); whether they exist is asked
// when recd starts (daemon/autostart_policy.*).
struct AutostartConfig {
    bool record = false;
    std::vector<std::string> users{"*"};
    std::vector<std::string> groups;
    std::vector<std::string> exclude_users;
    std::vector<std::string> exclude_groups;
    // Where the login recording goes; may hold {user} (the login name). "": output.directory.
    std::string directory;
};

struct ControlConfig {
    std::string socket;  // empty: $XDG_RUNTIME_DIR/recd.sock, else /tmp/recd-<uid>/recd.sock
    // A group whose members are let in like root (recctl --user); empty: none. Only the name is
    // checked here; main() looks the group up when recd starts.
    std::string admin_group;
};

struct Config {
    VideoConfig video;
    AudioConfig audio;
    OutputConfig output;
    LogConfig log;
    ControlConfig control;
    AutostartConfig autostart;
    std::vector<std::string> warnings;  // unknown keys; logged once logging is up
};

// A value a user got wrong: the message names the key, the value and what is allowed.
class ConfigError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Parses TOML text; `source` names it in messages. Throws ConfigError. Without `with_policy`
// (a user's own file) an [autostart] section is not read, only warned about.
Config parse_config(const std::string& text, const std::string& source, bool with_policy = true);

// --config PATH if given (everything from it), else `user_path` (the user's file,
// user_dirs.hpp) with [autostart] from `system_path` (the administrator's), else
// `system_path`, else built-in defaults. An explicit path that does
// not exist is an error; so is a wrong value in `system_path` even when the user's file is the one
// read (its [autostart] applies).
Config load_config(const std::string& explicit_path,
                   const std::filesystem::path& system_path = system_config_path(),
                   const std::filesystem::path& user_path = user_config_path());

// The output directory a config means, with the default filled in and {user} replaced by this
// process's login name.
std::filesystem::path output_directory(const OutputConfig& output);

// `text` with each {user} replaced by `user`.
std::string expand_user(std::string text, const std::string& user);

// This process's login name as {user} puts it in paths: characters other than A-Z a-z 0-9
// . _ - become '_' (a directory service may allow more), and "." or ".." become the uid.
std::string login_name();

bool valid_log_level(const std::string& level);

}  // namespace rec

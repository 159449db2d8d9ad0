#pragma once
// recd.toml: every key, its default and its allowed values. config/recd.toml documents the same
// keys for users; keep the two in step. Loaded once by recd's main thread; read-only afterwards.
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

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
    std::vector<std::string> warnings;  // unknown keys; logged once logging is up
};

// A value a user got wrong: the message names the key, the value and what is allowed.
class ConfigError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Parses TOML text; `source` names it in messages. Throws ConfigError.
Config parse_config(const std::string& text, const std::string& source);

// --config PATH if given, else $XDG_CONFIG_HOME/recd/recd.toml (or ~/.config/...), else
// /etc/recd/recd.toml, else built-in defaults. An explicit path that does not exist is an error.
Config load_config(const std::string& explicit_path);

// The output directory a config means, with the default filled in.
std::filesystem::path output_directory(const OutputConfig& output);

bool valid_log_level(const std::string& level);

}  // namespace rec

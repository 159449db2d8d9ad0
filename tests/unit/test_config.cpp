// recd.toml loading and validation (common/config.*) and the shipped config/recd.toml.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "common/config.hpp"

namespace {

const std::string source = "test.toml";

// The ConfigError message `text` produces; fails the test if it parses.
std::string config_error(const std::string& text) {
    try {
        rec::parse_config(text, source);
    } catch (const rec::ConfigError& e) {
        return e.what();
    }
    FAIL("no ConfigError for: " << text);
    return "";
}

void check_defaults(const rec::Config& c) {
    const rec::Config d;
    CHECK(c.video.display == d.video.display);
    CHECK(c.video.fps == d.video.fps);
    CHECK(c.video.encoder == d.video.encoder);
    CHECK(c.video.codec == d.video.codec);
    CHECK(c.video.quality == d.video.quality);
    CHECK(c.video.crf == d.video.crf);
    CHECK(c.video.bitrate_kbps == d.video.bitrate_kbps);
    CHECK(c.video.size == d.video.size);
    CHECK(c.output.container == d.output.container);
    CHECK(c.output.segment_seconds == d.output.segment_seconds);
    CHECK(c.output.segment_megabytes == d.output.segment_megabytes);
    CHECK(c.output.min_free_mb == d.output.min_free_mb);
    CHECK(c.output.on_file_closed == d.output.on_file_closed);
    CHECK(c.video.keyframe_seconds == d.video.keyframe_seconds);
    CHECK(c.video.on_resize == d.video.on_resize);
    CHECK(c.video.frame_rate_mode == d.video.frame_rate_mode);
    CHECK(c.audio.system == d.audio.system);
    CHECK(c.audio.mic == d.audio.mic);
    CHECK(c.audio.system_device == d.audio.system_device);
    CHECK(c.audio.mic_device == d.audio.mic_device);
    CHECK(c.audio.codec == d.audio.codec);
    CHECK(c.audio.required == d.audio.required);
    CHECK(c.output.directory == d.output.directory);
    CHECK(c.output.file_template == d.output.file_template);
    CHECK(c.log.level == d.log.level);
    CHECK(c.log.file == d.log.file);
    CHECK(c.control.socket == d.control.socket);
    CHECK(c.control.admin_group == d.control.admin_group);
    CHECK(c.autostart.record == d.autostart.record);
    CHECK(c.autostart.users == d.autostart.users);
    CHECK(c.autostart.groups == d.autostart.groups);
    CHECK(c.autostart.exclude_users == d.autostart.exclude_users);
    CHECK(c.autostart.exclude_groups == d.autostart.exclude_groups);
    CHECK(c.autostart.directory == d.autostart.directory);
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

const std::filesystem::path shipped_config =
    std::filesystem::path(RECD_SOURCE_DIR) / "config/recd.toml";

}  // namespace

TEST_CASE("config defaults are the documented ones") {
    auto c = rec::parse_config("", source);
    CHECK(c.warnings.empty());
    CHECK(c.video.display.empty());
    CHECK(c.video.fps == 30);
    CHECK(c.video.encoder == std::vector<std::string>{"nvenc", "x264"});
    CHECK(c.video.codec == "h264");
    CHECK(c.video.quality == "medium");
    CHECK_FALSE(c.video.crf);
    CHECK(c.video.bitrate_kbps == 0);
    CHECK(c.video.size.empty());
    CHECK(c.output.container == "mkv");
    CHECK(c.output.segment_seconds == 0);
    CHECK(c.output.segment_megabytes == 0);
    CHECK(c.output.min_free_mb == 500);
    CHECK(c.output.on_file_closed.empty());
    CHECK(c.video.keyframe_seconds == 2.0);
    CHECK(c.video.on_resize == "scale");
    CHECK(c.video.frame_rate_mode == "vfr");
    CHECK(c.audio.system);
    CHECK(c.audio.mic);
    CHECK(c.audio.system_device.empty());
    CHECK(c.audio.mic_device.empty());
    CHECK(c.audio.codec == "aac");
    CHECK_FALSE(c.audio.required);
    CHECK(c.output.directory.empty());
    CHECK(c.output.file_template == "{date}_{time}_{name}");
    CHECK(c.log.level == "info");
    CHECK(c.log.file.empty());
    CHECK(c.control.socket.empty());
    CHECK(c.control.admin_group.empty());
    CHECK_FALSE(c.autostart.record);
    CHECK(c.autostart.users == std::vector<std::string>{"*"});
    CHECK(c.autostart.groups.empty());
    CHECK(c.autostart.exclude_users.empty());
    CHECK(c.autostart.exclude_groups.empty());
    CHECK(c.autostart.directory.empty());
}

TEST_CASE("config reads every key") {
    auto c = rec::parse_config(R"(
[video]
display = ":1"
fps = 60
encoder = ["x264"]
codec = "hevc"
quality = "high"
crf = 18
bitrate_kbps = 4000
size = "1280x720"
keyframe_seconds = 0.5
on_resize = "new_file"
frame_rate_mode = "vfr"
[audio]
system = false
mic = false
system_device = "s.monitor"
mic_device = "m"
codec = "opus"
required = true
[output]
directory = "/srv/rec"
file_template = "{session}-{name}.{date}"
[log]
level = "debug"
file = "/tmp/recd.log"
[control]
socket = "/tmp/r.sock"
admin_group = "recd-admin"
[autostart]
record = true
users = ["alice", "bob"]
groups = ["recorded"]
exclude_users = ["carol"]
exclude_groups = ["Domain Admins"]
directory = "/var/lib/recd/{user}/screen"
)",
                               source);
    CHECK(c.warnings.empty());
    CHECK(c.video.display == ":1");
    CHECK(c.video.fps == 60);
    CHECK(c.video.encoder == std::vector<std::string>{"x264"});
    CHECK(c.video.codec == "hevc");
    CHECK(c.video.quality == "high");
    CHECK(c.video.crf == 18);
    CHECK(c.video.bitrate_kbps == 4000);
    CHECK(c.video.size == "1280x720");
    CHECK(c.video.keyframe_seconds == 0.5);
    CHECK(c.video.on_resize == "new_file");
    CHECK(c.video.frame_rate_mode == "vfr");
    CHECK_FALSE(c.audio.system);
    CHECK_FALSE(c.audio.mic);
    CHECK(c.audio.system_device == "s.monitor");
    CHECK(c.audio.mic_device == "m");
    CHECK(c.audio.codec == "opus");
    CHECK(c.audio.required);
    CHECK(c.output.directory == "/srv/rec");
    CHECK(c.output.file_template == "{session}-{name}.{date}");
    CHECK(c.log.level == "debug");
    CHECK(c.log.file == "/tmp/recd.log");
    CHECK(c.control.socket == "/tmp/r.sock");
    CHECK(c.control.admin_group == "recd-admin");
    CHECK(c.autostart.record);
    CHECK(c.autostart.users == std::vector<std::string>{"alice", "bob"});
    CHECK(c.autostart.groups == std::vector<std::string>{"recorded"});
    CHECK(c.autostart.exclude_users == std::vector<std::string>{"carol"});
    CHECK(c.autostart.exclude_groups == std::vector<std::string>{"Domain Admins"});
    CHECK(c.autostart.directory == "/var/lib/recd/{user}/screen");
    CHECK(rec::output_directory(c.output) == "/srv/rec");
}

TEST_CASE("config accepts the bounds and an integer keyframe_seconds") {
    auto c = rec::parse_config("[video]\nfps = 240\ncrf = 0\nkeyframe_seconds = 60\n", source);
    CHECK(c.video.fps == 240);
    CHECK(c.video.crf == 0);
    CHECK(c.video.keyframe_seconds == 60.0);
    CHECK(rec::parse_config("[video]\nfps = 1\ncrf = 51\nkeyframe_seconds = 0.1\n", source)
              .video.fps == 1);
}

TEST_CASE("config errors name the file, the key, the value and what is allowed") {
    struct Case {
        const char* text;
        std::vector<std::string> parts;
    };
    const std::vector<Case> cases{
        {"[video]\nfps = 0", {"video.fps", "1..240", "got 0"}},
        {"[video]\nfps = 241", {"video.fps", "1..240", "got 241"}},
        {"[video]\nfps = \"x\"", {"video.fps", "1..240", "x"}},
        {"[video]\nfps = 30.0", {"video.fps", "1..240", "30"}},
        {"[video]\ncrf = -1", {"video.crf", "0..51", "got -1"}},
        {"[audio]\ncodec = \"mp3\"", {"audio.codec", "aac", "opus", "mp3"}},
        {"[audio]\nmic = 1", {"audio.mic", "true or false", "got 1"}},
        {"[audio]\nrequired = \"yes\"", {"audio.required", "true or false", "yes"}},
        {"[video]\ncrf = 52", {"video.crf", "0..51", "got 52"}},
        {"[video]\nquality = \"ultra\"", {"video.quality", "low, medium, high", "ultra"}},
        {"[video]\nquality = 5", {"video.quality", "string", "5"}},
        {"[video]\non_resize = \"stretch\"", {"video.on_resize", "scale, new_file", "stretch"}},
        {"[video]\nframe_rate_mode = \"auto\"", {"video.frame_rate_mode", "cfr, vfr", "auto"}},
        {"[video]\nencoder = [\"vaapi\"]", {"video.encoder", "nvenc, x264", "vaapi"}},
        {"[video]\nencoder = []", {"video.encoder", "list"}},
        {"[video]\nencoder = \"x264\"", {"video.encoder", "list", "x264"}},
        {"[video]\nencoder = [\"x264\", \"x264\"]", {"video.encoder", "distinct"}},
        {"[video]\ncodec = \"av1\"", {"video.codec", "h264, hevc", "av1"}},
        {"[video]\nsize = \"big\"", {"video.size", "WxH", "big"}},
        {"[video]\nbitrate_kbps = -1", {"video.bitrate_kbps", "0..1000000", "-1"}},
        {"[output]\ncontainer = \"avi\"", {"output.container", "mkv, mp4, mpegts", "avi"}},
        {"[output]\nsegment_seconds = -1", {"output.segment_seconds", "0..86400", "-1"}},
        {"[output]\nmin_free_mb = -5", {"output.min_free_mb", "0..1000000", "-5"}},
        {"[output]\nfile_template = \"{nope}\"", {"output.file_template", "{seq}", "{nope}"}},
        {"[video]\nkeyframe_seconds = 0", {"video.keyframe_seconds", "0.1..60", "got 0"}},
        {"[video]\nkeyframe_seconds = 61", {"video.keyframe_seconds", "0.1..60", "got 61"}},
        {"[video]\nkeyframe_seconds = \"2\"", {"video.keyframe_seconds", "0.1..60", "2"}},
        {"[log]\nlevel = \"loud\"", {"log.level", "info", "trace", "loud"}},
        {"[log]\nfile = 3", {"log.file", "string", "3"}},
        {"[output]\nfile_template = \"a/b\"", {"output.file_template", "{date}", "a/b"}},
        {"[output]\nfile_template = \"../x\"", {"output.file_template", "'.'", "../x"}},
        {"[output]\nfile_template = \"..x\"", {"output.file_template", "'.'", "..x"}},
        {"[output]\nfile_template = \"\"", {"output.file_template", "A-Z"}},
        {"[output]\nfile_template = \"a b\"", {"output.file_template", "a b"}},
        {"[control]\nadmin_group = 65534", {"control.admin_group", "string", "65534"}},
        {"[control]\nadmin_group = \"65534\"", {"control.admin_group", "not a gid", "65534"}},
        {"[control]\nadmin_group = \"wheel,adm\"", {"control.admin_group", "','", "wheel,adm"}},
        {"[control]\nadmin_group = \"a:b\"", {"control.admin_group", "':'", "a:b"}},
        {"[control]\nadmin_group = \" adm\"", {"control.admin_group", "blank", " adm"}},
        {"[control]\nadmin_group = \"adm\\n\"", {"control.admin_group", "name of a group"}},
        {"[control]\nadmin_group = [\"adm\"]", {"control.admin_group", "string"}},
        {"[autostart]\nrecord = \"yes\"", {"autostart.record", "true or false", "yes"}},
        {"[autostart]\nusers = \"alice\"", {"autostart.users", "list of user names", "alice"}},
        {"[autostart]\nusers = [\"a:b\"]", {"autostart.users", "\"*\" for everyone", "a:b"}},
        {"[autostart]\nusers = [1000]", {"autostart.users", "not uids", "1000"}},
        {"[autostart]\nusers = [\"1000\"]", {"autostart.users", "not uids", "1000"}},
        {"[autostart]\ngroups = [\"*\"]", {"autostart.groups", "group names", "*"}},
        {"[autostart]\ngroups = [\" adm\"]", {"autostart.groups", "blank", " adm"}},
        {"[autostart]\nexclude_users = [\"*\"]", {"autostart.exclude_users", "user names", "*"}},
        {"[autostart]\nexclude_groups = [\"a,b\"]", {"autostart.exclude_groups", "','", "a,b"}},
        {"[autostart]\ndirectory = \"rec/{user}\"",
         {"autostart.directory", "absolute", "rec/{user}"}},
        {"[autostart]\ndirectory = \"/rec/{users}\"", {"autostart.directory", "{user}", "{users}"}},
        {"[output]\ndirectory = \"/rec/{date}\"", {"output.directory", "{user}", "/rec/{date}"}},
        {"[output]\ndirectory = \"/rec/{user\"", {"output.directory", "brace", "/rec/{user"}},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        auto message = config_error(c.text);
        INFO(message);
        CHECK(message.rfind(source + ": ", 0) == 0);
        for (const auto& part : c.parts) CHECK(message.find(part) != std::string::npos);
    }
}

// Names as /etc/group and directory services (sssd, winbind) spell them are taken as they are;
// whether the group exists is recd's question at start, not the parser's.
TEST_CASE("config: control.admin_group takes any plausible group name") {
    for (const char* name :
         {"adm", "recd-admin", "nogroup", "Domain Admins", "ops@example.com", "svc_rec$", "g1"}) {
        INFO(name);
        auto c =
            rec::parse_config(std::string("[control]\nadmin_group = \"") + name + "\"\n", source);
        CHECK(c.control.admin_group == name);
        CHECK(c.warnings.empty());
    }
    CHECK(rec::parse_config("[control]\nadmin_group = \"\"\n", source).control.admin_group.empty());
    CHECK(rec::parse_config("[control]\nadmin_group = \"" + std::string(256, 'g') + "\"\n", source)
              .control.admin_group.size() == 256);
    CHECK(config_error("[control]\nadmin_group = \"" + std::string(257, 'g') + "\"\n")
              .find("at most 256") != std::string::npos);
}

TEST_CASE("config: a section that is not a table is an error naming it") {
    for (const char* name : {"video", "output", "log", "control", "autostart"}) {
        INFO(name);
        auto message = config_error(std::string(name) + " = 3\n");
        CHECK(message == source + ": " + name + " must be a table ([" + name + "])");
    }
}

TEST_CASE("config: unknown keys and sections are warnings, not errors") {
    auto c = rec::parse_config(
        "colour = 1\n[sound]\nmic = true\n[video]\nfps = 25\nbitrate = 5\n[log]\nlvl = 1\n",
        source);
    CHECK(c.video.fps == 25);
    REQUIRE(c.warnings.size() == 4);
    auto all = c.warnings[0] + c.warnings[1] + c.warnings[2] + c.warnings[3];
    for (const char* part : {"colour", "sound", "video.bitrate", "log.lvl"})
        CHECK(all.find(part) != std::string::npos);
    for (const auto& warning : c.warnings) CHECK(warning.rfind(source + ": ", 0) == 0);
}

TEST_CASE("config: a TOML syntax error names file:line:col") {
    auto message = config_error("[video]\nfps = 30\ncrf = = 3\n");
    INFO(message);
    CHECK(std::regex_search(message, std::regex("^test\\.toml:3:[0-9]+: .+")));
    CHECK(std::regex_search(config_error("[video"), std::regex("^test\\.toml:1:[0-9]+: ")));
}

TEST_CASE("load_config: an explicit path must exist") {
    const std::string missing = "/nonexistent/recd-test/recd.toml";
    try {
        rec::load_config(missing);
        FAIL("no ConfigError");
    } catch (const rec::ConfigError& e) {
        CHECK(std::string(e.what()).find(missing) != std::string::npos);
    }
}

TEST_CASE("load_config reads an explicit file and names it in errors") {
    auto path = std::filesystem::temp_directory_path() /
                ("recd-unit-" + std::to_string(std::random_device{}()) + ".toml");
    std::ofstream(path) << "[video]\nfps = 12\n";
    CHECK(rec::load_config(path.string()).video.fps == 12);
    std::ofstream(path) << "[video]\nfps = 0\n";
    try {
        rec::load_config(path.string());
        FAIL("no ConfigError");
    } catch (const rec::ConfigError& e) {
        CHECK(std::string(e.what()).rfind(path.string() + ": video.fps", 0) == 0);
    }
    std::filesystem::remove(path);
}

TEST_CASE("config: {user} in a directory becomes the login name") {
    CHECK(rec::expand_user("/var/lib/recd/{user}/{user}", "alice") == "/var/lib/recd/alice/alice");
    CHECK(rec::expand_user("/srv/rec", "alice") == "/srv/rec");
    const auto me = rec::login_name();
    CHECK_FALSE(me.empty());
    CHECK(me.find('/') == std::string::npos);
    rec::OutputConfig o;
    o.directory = "/var/lib/recd/{user}";
    CHECK(rec::output_directory(o) == "/var/lib/recd/" + me);
}

TEST_CASE("config: autostart.record with nobody to record is a warning") {
    auto c = rec::parse_config("[autostart]\nrecord = true\nusers = []\n", source);
    REQUIRE(c.warnings.size() == 1);
    CHECK(c.warnings[0].find("nobody is recorded") != std::string::npos);
    CHECK(rec::parse_config("[autostart]\nrecord = true\nusers = []\ngroups = [\"g\"]\n", source)
              .warnings.empty());
}

namespace {

// A temporary directory holding a user config and a system config, removed afterwards.
struct ConfigDirs {
    std::filesystem::path root = std::filesystem::temp_directory_path() /
                                 ("recd-unit-cfg-" + std::to_string(std::random_device{}()));
    std::filesystem::path system = root / "etc-recd.toml";
    std::filesystem::path user = root / "config" / "recd" / "recd.toml";
    ConfigDirs() { std::filesystem::create_directories(user.parent_path()); }
    ~ConfigDirs() { std::filesystem::remove_all(root); }
};

}  // namespace

TEST_CASE("load_config: [autostart] is the administrator's, even beside a user's own file") {
    ConfigDirs dirs;
    std::ofstream(dirs.system) << "[video]\nfps = 10\n[autostart]\nrecord = true\n"
                                  "exclude_users = [\"carol\"]\n";
    // Without a user file, the system file is the config.
    auto c = rec::load_config("", dirs.system, dirs.user);
    CHECK(c.video.fps == 10);
    CHECK(c.autostart.record);
    // A user's file replaces the settings, not the policy, and its own [autostart] is ignored.
    std::ofstream(dirs.user) << "[video]\nfps = 20\n[autostart]\nrecord = false\n";
    c = rec::load_config("", dirs.system, dirs.user);
    CHECK(c.video.fps == 20);
    CHECK(c.autostart.record);
    CHECK(c.autostart.exclude_users == std::vector<std::string>{"carol"});
    REQUIRE(c.warnings.size() == 1);
    CHECK(c.warnings[0].find("[autostart] ignored") != std::string::npos);
    CHECK(c.warnings[0].rfind(dirs.user.string(), 0) == 0);
    // No system file: the user's file without a policy, which records nobody.
    std::filesystem::remove(dirs.system);
    c = rec::load_config("", dirs.system, dirs.user);
    CHECK(c.video.fps == 20);
    CHECK_FALSE(c.autostart.record);
    // A wrong value in the administrator's file stops recd even when the user has a file.
    std::ofstream(dirs.system) << "[autostart]\nrecord = 1\n";
    try {
        rec::load_config("", dirs.system, dirs.user);
        FAIL("no ConfigError");
    } catch (const rec::ConfigError& e) {
        CHECK(std::string(e.what()).rfind(dirs.system.string() + ": autostart.record", 0) == 0);
    }
    // --config names the one file read, policy included.
    std::ofstream(dirs.user) << "[autostart]\nrecord = true\n";
    CHECK(rec::load_config(dirs.user.string(), dirs.system, dirs.user).autostart.record);
}

TEST_CASE("config/recd.toml as shipped equals the built-in defaults") {
    auto c = rec::load_config(shipped_config.string());
    CHECK(c.warnings.empty());
    check_defaults(c);
}

// Uncommenting every "# key = value" line must still give the defaults, and cover every key:
// the file documents the real keys and their real defaults.
TEST_CASE("config/recd.toml documents every key with its true default") {
    static const std::regex setting(R"(^# ([a-z_]+) = .*$)");
    static const std::regex section(R"(^\[([a-z]+)\]$)");
    std::istringstream in(read_file(shipped_config));
    std::string uncommented, current;
    std::set<std::string> keys;
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (std::regex_match(line, m, section)) current = m[1];
        if (std::regex_match(line, m, setting)) {
            keys.insert(current + "." + m[1].str());
            line = line.substr(2);
        }
        uncommented += line + "\n";
    }
    const std::set<std::string> expected{"video.display",
                                         "video.fps",
                                         "video.encoder",
                                         "video.codec",
                                         "video.quality",
                                         "video.crf",
                                         "video.bitrate_kbps",
                                         "video.size",
                                         "output.container",
                                         "output.segment_seconds",
                                         "output.segment_megabytes",
                                         "output.min_free_mb",
                                         "output.on_file_closed",
                                         "video.keyframe_seconds",
                                         "video.on_resize",
                                         "video.frame_rate_mode",
                                         "audio.system",
                                         "audio.mic",
                                         "audio.system_device",
                                         "audio.mic_device",
                                         "audio.codec",
                                         "audio.required",
                                         "output.directory",
                                         "output.file_template",
                                         "log.level",
                                         "log.file",
                                         "control.socket",
                                         "control.admin_group",
                                         "autostart.record",
                                         "autostart.users",
                                         "autostart.groups",
                                         "autostart.exclude_users",
                                         "autostart.exclude_groups",
                                         "autostart.directory"};
    CHECK(keys == expected);
    auto c = rec::parse_config(uncommented, shipped_config.string());
    CHECK(c.warnings.empty());
    // crf has no default (the quality decides); the file shows medium's value as its example.
    CHECK(c.video.crf == 23);
    c.video.crf.reset();
    check_defaults(c);
}

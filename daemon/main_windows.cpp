// recd.exe: the recording daemon of one Windows session (recd-service launches one into every
// interactive session with --session; a user may run it by hand). Reads its arguments and
// config, sets up logging and serves the session's named pipe until `shutdown` (recd-service's
// at logoff and service stop, or recctl's), the end of the Windows session, or Ctrl+C or the
// console's close: every recording is finalized first. With --session the administrator's
// [autostart] policy applies as on Linux (autostart.hpp): the session is recorded from logon
// when it selects the user. Exit codes as recd-service reads them
// (service/windows/session_table.hpp): 0 done, 2 unusable configuration, 1 anything else.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <string>

#include "../common/config.hpp"
#include "../common/error.hpp"
#include "../common/ipc/named_pipe.hpp"
#include "../common/log.hpp"
#include "autostart.hpp"
#include "capture/sources.hpp"
#include "encode/probe.hpp"
#include "named_pipe_server.hpp"
#include "user_directory.hpp"
#include "windows_server.hpp"
#include "windows_session_end.hpp"

namespace {

// The login recording records this session's own desktop (choose_display's default).
void start_login_recording(const rec::Config& config, rec::ControlCore& core) {
    rec::autostart(config, rec::choose_display(std::nullopt, ""),
                   std::bind_front(&rec::ControlCore::start_own, &core));
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"recd: records the screen of this Windows session; control it with recctl"};
    std::string config_path, log_level, log_file;
    bool session = false;
    app.add_option("--config", config_path,
                   "config file (default: %APPDATA%\\recd\\recd.toml, "
                   "%ProgramData%\\recd\\recd.toml)");
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical, off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
    app.add_option("--log-file", log_file, "also log to this file");
    app.add_flag("--session", session,
                 "serve this Windows session for recd-service: [autostart] applies, a recd "
                 "already serving it is no error");
    app.set_version_flag("--version", RECD_VERSION);
    CLI11_PARSE(app, argc, argv);

    rec::Config config;
    try {
        config = rec::load_config(config_path);
    } catch (const rec::ConfigError& e) {
        std::fprintf(stderr, "recd: %s\n", e.what());
        return 2;
    }
    rec::set_thread_name("main");  // the io thread
    const auto level = log_level.empty() ? config.log.level : log_level;
    // Standard error is recd-service's log of this session when it launched recd, else the
    // console.
    rec::setup_logging(level, rec::LogOutput{.to_stderr = true,
                                             .journal = false,
                                             .file = log_file.empty() ? config.log.file : log_file,
                                             .rotating = {}});
    rec::install_ffmpeg_log();  // FFmpeg's errors go to our log, its chatter nowhere
    for (const auto& warning : config.warnings) spdlog::warn("{}", warning);

    try {
        rec::WindowsServer server(config, rec::ipc::pipe_name(rec::ipc::current_session()));
        rec::SessionEndWatch watch(
            [&core = server.core()](std::string why) { core.end(std::move(why)); });
        server.listen();  // another recd serving this session is found before anything is touched
        // As on Linux (main.cpp): a {user} output directory in a shared place is claimed first.
        rec::claim_user_directory(config.output.directory, rec::login_name(), "output.directory");
        if (session) start_login_recording(config, server.core());
        const int code = server.run();
        watch.finished();
        return code;
    } catch (const rec::PipeTaken& e) {
        // recd-service starts a recd at every logon and after a crash: the first one serves.
        if (session) {
            spdlog::info("{}: nothing to do", e.what());
            return 0;
        }
        spdlog::critical("{}", e.what());
        return 1;
    } catch (const rec::Error& e) {
        spdlog::critical("{}", e.what());
        return 1;
    }
}

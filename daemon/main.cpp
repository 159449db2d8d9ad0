// recd: the recording daemon. Reads its arguments and config, takes the single-instance lock,
// sets up logging and runs the control server until SIGINT/SIGTERM/SIGHUP or `recctl shutdown`
// (and, with --session, until its login session's X server goes away).
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <optional>

#include "../common/config.hpp"
#include "../common/error.hpp"
#include "../common/ipc/endpoint.hpp"
#include "../common/log.hpp"
#include "../common/systemd_journal.hpp"
#include "encode/probe.hpp"
#include "glibc_malloc.hpp"
#include "instance_lock.hpp"
#include "login_session.hpp"
#include "server.hpp"
#include "user_directory.hpp"

namespace {

// Under the lock: a login session's recd outside systemd writes its own rotating log instead of
// standard error (which the login hook leaves pointing at ~/.xsession-errors or the desktop's
// log). Under systemd standard error is the journal already.
void widen_logging(const std::string& level, rec::LogOutput output, bool session) {
    if (!session || rec::started_by_systemd()) return;
    try {
        output.rotating = rec::session_log_path();
        spdlog::info("logging to {}", output.rotating.string());
        output.to_stderr = false;
        rec::setup_logging(level, output);
    } catch (const std::exception& e) {
        spdlog::warn("cannot write the session log ({}); logging to standard error", e.what());
    }
}

}  // namespace

int main(int argc, char** argv) {
    rec::keep_large_allocations_mapped();
    CLI::App app{"recd: records the screen of this login session; control it with recctl"};
    std::string config_path, socket_arg, log_level, log_file;
    bool session = false;
    app.add_option("--config", config_path,
                   "config file (default: $XDG_CONFIG_HOME/recd/recd.toml, /etc/recd/recd.toml)");
    app.add_option("--socket", socket_arg, "control socket (default: $XDG_RUNTIME_DIR/recd.sock)");
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical, off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
    app.add_option("--log-file", log_file, "also log to this file");
    app.add_flag("--session", session,
                 "serve this graphical login (the login hook and the systemd unit use it): "
                 "[autostart] applies, recd exits when $DISPLAY's X server does, a recd already "
                 "running is no error, and the log goes to the journal or "
                 "$XDG_STATE_HOME/recd/recd.log");
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
    const rec::LogOutput log{.to_stderr = true,
                             .journal = rec::stderr_is_journal(),
                             .file = log_file.empty() ? config.log.file : log_file,
                             .rotating = {}};
    rec::setup_logging(level, log);
    rec::install_ffmpeg_log();      // FFmpeg's errors go to our log, its chatter nowhere
    std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up is an error code, not a signal

    const auto socket = rec::ipc::socket_path(socket_arg, config.control.socket);
    try {
        // Looked up first: a group that does not exist stops recd before it touches anything.
        std::optional<rec::ipc::AdminGroup> admin;
        if (!config.control.admin_group.empty())
            admin = rec::ipc::find_admin_group(config.control.admin_group);
        rec::ipc::prepare_socket_dir(socket);
        rec::InstanceLock lock(socket);
        widen_logging(level, log, session);
        for (const auto& warning : config.warnings) spdlog::warn("{}", warning);
        rec::claim_user_directory(config.output.directory, rec::login_name(), "output.directory");
        rec::Server server(config, socket, admin);
        std::optional<rec::LoginSession> login;
        if (session) login.emplace(server.core(), config);
        return server.run();
    } catch (const rec::AlreadyRunning& e) {
        // Every way into a login session may start recd (service/linux/): the first one wins.
        if (session) {
            spdlog::info("recd already runs for this session ({}socket {}): nothing to do",
                         e.holder().empty() ? "" : e.holder() + ", ", socket.string());
            return 0;
        }
        spdlog::critical("{}", e.what());
        return 1;
    } catch (const rec::Error& e) {
        spdlog::critical("{}", e.what());
        return 1;
    }
}

// recd: the recording daemon. Reads its arguments and config, takes the single-instance lock,
// sets up logging and runs the control server until SIGINT/SIGTERM/SIGHUP or `recctl shutdown`.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <optional>

#include "../common/config.hpp"
#include "../common/error.hpp"
#include "../common/ipc/endpoint.hpp"
#include "../common/log.hpp"
#include "encode/probe.hpp"
#include "instance_lock.hpp"
#include "server.hpp"

int main(int argc, char** argv) {
    CLI::App app{"recd: records the screen of this login session; control it with recctl"};
    std::string config_path, socket_arg, log_level, log_file;
    app.add_option("--config", config_path,
                   "config file (default: $XDG_CONFIG_HOME/recd/recd.toml, /etc/recd/recd.toml)");
    app.add_option("--socket", socket_arg, "control socket (default: $XDG_RUNTIME_DIR/recd.sock)");
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical, off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
    app.add_option("--log-file", log_file, "also log to this file");
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
    rec::setup_logging(log_level.empty() ? config.log.level : log_level,
                       log_file.empty() ? config.log.file : log_file);
    for (const auto& warning : config.warnings) spdlog::warn("{}", warning);
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
        rec::Server server(config, socket, admin);
        return server.run();
    } catch (const rec::Error& e) {
        spdlog::critical("{}", e.what());
        return 1;
    }
}

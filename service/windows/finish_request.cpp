#include "finish_request.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "common/ipc/named_pipe.hpp"

namespace rec {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view shutdown_request = "{\"v\":1,\"id\":1,\"cmd\":\"shutdown\"}\n";
// A reply is at most one protocol message (64 KiB, docs/protocol.md).
constexpr size_t max_reply = 64 * 1024;
// How often to look for the pipe of a recd that has not made it yet (launched a moment ago).
constexpr std::chrono::milliseconds pipe_retry = 250ms;

// Whole milliseconds left until `deadline`; none once it has passed.
std::chrono::milliseconds time_left(SteadyTime deadline) {
    return std::max(0ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                             deadline - std::chrono::steady_clock::now()));
}

// A wait as Win32 takes it (milliseconds in a DWORD), kept below INFINITE.
DWORD win32_timeout(std::chrono::milliseconds wait) {
    return DWORD(std::clamp<std::chrono::milliseconds::rep>(wait.count(), 0, INFINITE - 1));
}

// Waits for an overlapped ReadFile/WriteFile until `deadline`; cancels it on timeout. False
// (with the reason in `error`) when it failed or timed out.
bool finish_io(HANDLE pipe, OVERLAPPED& ov, BOOL started, DWORD& bytes, SteadyTime deadline,
               std::string& error) {
    if (!started && GetLastError() != ERROR_IO_PENDING) {
        error = last_error_text();
        return false;
    }
    if (GetOverlappedResultEx(pipe, &ov, &bytes, win32_timeout(time_left(deadline)), FALSE))
        return true;
    const DWORD err = GetLastError();
    if (err == WAIT_TIMEOUT) {
        CancelIoEx(pipe, &ov);
        GetOverlappedResult(pipe, &ov, &bytes, TRUE);  // `ov` must outlive the I/O
        error = "no answer before the deadline";
    } else {
        error = err == ERROR_BROKEN_PIPE ? "recd closed the pipe" : win32_error_text(err);
    }
    return false;
}

// Not ipc::Client (common/ipc/named_pipe_client.cpp), which serves recctl: it gives up at once
// on a pipe not made yet, keeps its handle to itself (GetNamedPipeServerProcessId needs it) and
// knows neither recd's process nor an absolute deadline.
// SECURITY_IDENTIFICATION: whoever serves the pipe may learn that LocalSystem is asking but
// cannot act as it (a user's process could create \\.\pipe\recd-<id> before recd does).
UniqueHandle connect(const std::wstring& name, HANDLE process, SteadyTime deadline,
                     std::string& error) {
    for (;;) {
        auto pipe = adopt_handle(CreateFileW(
            name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
            FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, nullptr));
        if (pipe) return pipe;
        const DWORD err = GetLastError();
        // Not there yet (recd starting) or every instance busy (recd makes the next one).
        if (err != ERROR_FILE_NOT_FOUND && err != ERROR_PIPE_BUSY) {
            error = win32_error_text(err);
            return {};
        }
        const auto left = time_left(deadline);
        if (left == 0ms) {
            error = "no pipe before the deadline";
            return {};
        }
        if (WaitForSingleObject(process, win32_timeout(std::min(pipe_retry, left))) ==
            WAIT_OBJECT_0) {
            error = "recd exited first";
            return {};
        }
    }
}

// Sends the request and reads the reply line; false with the reason in `error`.
bool converse(HANDLE pipe, SteadyTime deadline, std::string& reply, std::string& error) {
    UniqueHandle event(CreateEventW(nullptr, TRUE, FALSE, nullptr));
    if (!event) {
        error = last_error_text();
        return false;
    }
    OVERLAPPED ov{};
    ov.hEvent = event.get();
    DWORD bytes = 0;
    BOOL started =
        WriteFile(pipe, shutdown_request.data(), DWORD(shutdown_request.size()), nullptr, &ov);
    if (!finish_io(pipe, ov, started, bytes, deadline, error)) return false;
    char buffer[4096];
    while (reply.find('\n') == std::string::npos) {
        if (reply.size() > max_reply) {
            error = "reply longer than 64 KiB";
            return false;
        }
        ov = OVERLAPPED{};
        ov.hEvent = event.get();
        started = ReadFile(pipe, buffer, sizeof buffer, nullptr, &ov);
        if (!finish_io(pipe, ov, started, bytes, deadline, error)) return false;
        reply.append(buffer, bytes);
    }
    reply.resize(reply.find('\n'));
    return true;
}

std::string reply_error(const nlohmann::json& reply) {
    const auto error = reply.value("error", nlohmann::json::object());
    return error.value("code", std::string("?")) + ": " + error.value("message", std::string());
}

}  // namespace

void ask_recd_to_finish(SessionId session, UniqueHandle process, DWORD pid, SteadyTime deadline) {
    const std::wstring name = ipc::pipe_name(session);
    std::string error, line;
    const auto pipe = connect(name, process.get(), deadline, error);
    if (!pipe) {
        spdlog::warn("session {}: cannot ask recd (pid {}) to finish: {}", session, pid, error);
        return;
    }
    // Only the recd this service launched is told anything (and trusted with a reply).
    ULONG server = 0;
    if (!GetNamedPipeServerProcessId(pipe.get(), &server) || server != pid) {
        spdlog::warn(
            "session {}: \\\\.\\pipe\\recd-{} is served by process {}, not recd (pid {}):"
            " not asked",
            session, session, server, pid);
        return;
    }
    if (!converse(pipe.get(), deadline, line, error)) {
        spdlog::warn("session {}: shutdown request to recd (pid {}): {}", session, pid, error);
        return;
    }
    const auto reply = nlohmann::json::parse(line, nullptr, false);
    if (reply.is_discarded() || !reply.is_object())
        spdlog::warn("session {}: recd (pid {}) answered shutdown with no JSON: {}", session, pid,
                     line.substr(0, 200));
    else if (reply.value("ok", false))
        spdlog::info("session {}: recd (pid {}) finalized its recordings", session, pid);
    else
        spdlog::warn("session {}: recd (pid {}) refused shutdown ({})", session, pid,
                     reply_error(reply));
}

}  // namespace rec

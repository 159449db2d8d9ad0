// Client over recd's named pipe (Windows): \\.\pipe\recd-<session>, as the socket's path.
#include <fmt/format.h>

#include <chrono>
#include <optional>
#include <string>

#include "../win32.hpp"
#include "client.hpp"
#include "line_client.hpp"
#include "named_pipe.hpp"

namespace rec::ipc {

namespace asio = boost::asio;

namespace {

// recd has one instance of its pipe waiting for a client at a time and makes the next once a
// client took it: clients that come together find it taken for a moment. This long is waited
// for an instance before the pipe counts as busy (all 64 serving clients).
constexpr std::chrono::milliseconds busy_wait{2000};

// The session a pipe named \\.\pipe\recd-<N> belongs to (N), or nothing for another name.
std::optional<ULONG> named_session(const std::wstring& name) {
    const auto at = name.rfind(L"\\recd-");
    if (at == std::wstring::npos) return std::nullopt;
    const auto digits = name.substr(at + 6);
    if (digits.empty() || digits.find_first_not_of(L"0123456789") != std::wstring::npos)
        return std::nullopt;
    return static_cast<ULONG>(std::stoul(digits));
}

// Pipe names are global: a program in another session could create recd-<N> before session
// N's recd (at logon, or while it restarts) and wait for that session's recctl. The pipe's
// server must run in the session the name says.
void check_server_session(HANDLE pipe, const std::wstring& name) {
    const auto expected = named_session(name);
    ULONG actual = 0;
    if (!expected || !GetNamedPipeServerSessionId(pipe, &actual) || actual == *expected) return;
    throw NoAccess(fmt::format("{} is served from session {}, not {}: not that session's recd",
                               to_utf8(name), actual, *expected));
}

}  // namespace

struct Client::Impl : LineClient<asio::windows::stream_handle> {};

Client::Client(const std::filesystem::path& pipe) : impl_(std::make_unique<Impl>()) {
    const std::wstring name = pipe.wstring();
    const auto give_up = std::chrono::steady_clock::now() + busy_wait;
    for (;;) {
        // Identification only: whoever serves the pipe (recd, or a program that took the name
        // first) learns who connects but cannot act as them (an administrator's recctl).
        HANDLE h = CreateFileW(
            name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
            FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, nullptr);
        if (h != INVALID_HANDLE_VALUE) {
            impl_->stream.assign(h);
            check_server_session(h, name);
            return;
        }
        const DWORD error = GetLastError();
        const auto message =
            fmt::format("cannot connect to {}: {}", to_utf8(name), win32_error_text(error));
        if (error == ERROR_ACCESS_DENIED) throw NoAccess(message);
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            give_up - std::chrono::steady_clock::now());
        if (error != ERROR_PIPE_BUSY || left.count() <= 0) throw Unreachable(message);
        // Returns when an instance is free, which another client may take first: try again.
        if (!WaitNamedPipeW(name.c_str(), static_cast<DWORD>(left.count()))) Sleep(1);
    }
}

Client::~Client() = default;

Json Client::call(const Json& request, std::chrono::milliseconds timeout) {
    return impl_->call(request, timeout);
}

std::optional<Json> Client::next_event() { return impl_->next_event(); }

}  // namespace rec::ipc

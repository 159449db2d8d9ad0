// Client over recd's named pipe (Windows): \\.\pipe\recd-<session>, as the socket's path.
#include <fmt/format.h>

#include "client.hpp"
#include "line_client.hpp"
#include "named_pipe.hpp"

namespace rec::ipc {

namespace asio = boost::asio;

namespace {

// Every instance of the pipe may be serving another client for a moment; this long is waited
// for one to come free before the pipe counts as busy.
constexpr DWORD busy_wait_ms = 2000;

}  // namespace

struct Client::Impl : LineClient<asio::windows::stream_handle> {};

Client::Client(const std::filesystem::path& pipe) : impl_(std::make_unique<Impl>()) {
    const std::wstring name = pipe.wstring();
    for (int attempt = 0;; ++attempt) {
        HANDLE h = CreateFileW(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                               OPEN_EXISTING, FILE_FLAG_OVERLAPPED, nullptr);
        if (h != INVALID_HANDLE_VALUE) {
            impl_->stream.assign(h);
            return;
        }
        const DWORD error = GetLastError();
        const auto message =
            fmt::format("cannot connect to {}: {}", pipe.string(), win32_message(error));
        if (error == ERROR_ACCESS_DENIED) throw NoAccess(message);
        if (error != ERROR_PIPE_BUSY || attempt > 0 || !WaitNamedPipeW(name.c_str(), busy_wait_ms))
            throw Unreachable(message);
    }
}

Client::~Client() = default;

Json Client::call(const Json& request, std::chrono::milliseconds timeout) {
    return impl_->call(request, timeout);
}

std::optional<Json> Client::next_event() { return impl_->next_event(); }

}  // namespace rec::ipc

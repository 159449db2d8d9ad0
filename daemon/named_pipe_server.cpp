#include "named_pipe_server.hpp"

#include <sddl.h>
#include <spdlog/spdlog.h>

#include <vector>

#include "../common/error.hpp"

namespace rec {

namespace asio = boost::asio;

namespace {

// As many clients at once as the Unix socket serves (server.cpp): a client beyond them finds
// every instance taken (ERROR_PIPE_BUSY) and recctl says recd is busy.
constexpr DWORD max_instances = 64;
// A reply or request line fits whole in the pipe's buffers (64 KiB, ipc::max_message_bytes);
// the sizes are advisory, Windows grows them as needed.
constexpr DWORD buffer_bytes = 64 * 1024;

// "S-1-5-21-...": the SID of this process's user.
std::wstring own_user_sid() {
    HANDLE raw = nullptr;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &raw))
        throw Error(ErrorCode::output_failed,
                    "cannot read this process's user: " + last_error_text());
    const UniqueHandle token(raw);
    DWORD size = 0;
    GetTokenInformation(token.get(), TokenUser, nullptr, 0, &size);
    std::vector<char> buffer(size);
    if (!GetTokenInformation(token.get(), TokenUser, buffer.data(), size, &size))
        throw Error(ErrorCode::output_failed,
                    "cannot read this process's user: " + last_error_text());
    wchar_t* text = nullptr;
    if (!ConvertSidToStringSidW(reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid, &text))
        throw Error(ErrorCode::output_failed,
                    "cannot name this process's user: " + last_error_text());
    std::wstring sid(text);
    LocalFree(text);
    return sid;
}

// A protected DACL (nothing inherited) granting all access to SYSTEM (the service), the
// Administrators and the session's user, and nothing to anyone else.
void* pipe_security() {
    const std::wstring sddl = L"D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;" + own_user_sid() + L")";
    PSECURITY_DESCRIPTOR descriptor = nullptr;
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1,
                                                              &descriptor, nullptr))
        throw Error(ErrorCode::output_failed,
                    "cannot build the pipe's access list: " + last_error_text());
    return descriptor;
}

}  // namespace

NamedPipeServer::NamedPipeServer(asio::io_context& io, std::wstring name, RequestHandler& handler)
    : io_(io), name_(std::move(name)), handler_(handler) {}

NamedPipeServer::~NamedPipeServer() { stop(); }

void NamedPipeServer::start() {
    security_.reset(pipe_security());
    accept();
}

UniqueHandle NamedPipeServer::create_instance() {
    SECURITY_ATTRIBUTES attributes{sizeof attributes, security_.get(), FALSE};
    DWORD open_mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED;
    if (first_) open_mode |= FILE_FLAG_FIRST_PIPE_INSTANCE;
    const DWORD pipe_mode =
        PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS;
    auto pipe = adopt_handle(CreateNamedPipeW(name_.c_str(), open_mode, pipe_mode, max_instances,
                                              buffer_bytes, buffer_bytes, 0, &attributes));
    if (pipe) {
        first_ = false;
        return pipe;
    }
    const DWORD error = GetLastError();
    if (first_ && error == ERROR_ACCESS_DENIED)
        throw Error(ErrorCode::output_failed,
                    to_utf8(name_) + " is already served: another recd runs in this session");
    if (!first_ && error == ERROR_PIPE_BUSY) return {};
    throw Error(ErrorCode::output_failed,
                "cannot create " + to_utf8(name_) + ": " + win32_error_text(error));
}

// One instance waits for a client at a time; when one connects it becomes a Connection and
// the next instance is created.
void NamedPipeServer::accept() {
    if (stopped_) return;
    auto pipe = create_instance();
    if (!pipe) {  // every instance is taken
        waiting_room_ = true;
        return;
    }
    waiting_room_ = false;
    listening_ = std::make_unique<asio::windows::stream_handle>(io_, pipe.release());
    asio::windows::overlapped_ptr overlapped(io_, [this](boost::system::error_code ec, size_t) {
        if (ec == asio::error::operation_aborted || stopped_) return;
        if (ec) {
            spdlog::warn("a client of the control pipe was lost while connecting: {}",
                         ec.message());
        } else {
            auto connection = std::make_shared<Connection>(
                std::make_unique<AsioControlStream<asio::windows::stream_handle>>(
                    std::move(*listening_)),
                handler_, [this](Connection* c) {
                    std::erase_if(connections_, [c](const auto& p) { return p.get() == c; });
                    if (waiting_room_) accept();
                });
            connections_.insert(connection);
            connection->start();
        }
        listening_.reset();
        accept();
    });
    const BOOL connected = ConnectNamedPipe(listening_->native_handle(), overlapped.get());
    const DWORD error = GetLastError();
    if (!connected && error == ERROR_PIPE_CONNECTED) {  // the client came before the call
        overlapped.complete(boost::system::error_code(), 0);
    } else if (!connected && error != ERROR_IO_PENDING) {
        overlapped.complete(
            boost::system::error_code(static_cast<int>(error), asio::error::get_system_category()),
            0);
    } else {
        overlapped.release();  // the completion port will deliver it
    }
}

void NamedPipeServer::stop() {
    if (stopped_) return;
    stopped_ = true;
    if (listening_) {
        boost::system::error_code ignored;
        listening_->close(ignored);
    }
    for (const auto& c : std::set(connections_)) c->close_after_replies();
}

}  // namespace rec

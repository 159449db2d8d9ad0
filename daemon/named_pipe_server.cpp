#include "named_pipe_server.hpp"

#include <sddl.h>
#include <spdlog/spdlog.h>

#include "../common/error.hpp"

namespace rec {

namespace asio = boost::asio;

namespace {

// Instances the pipe may have at once: more than max_connections, so that a client beyond them
// still connects and is told BUSY, as on the socket, instead of finding no instance.
constexpr DWORD max_instances = PIPE_UNLIMITED_INSTANCES;
// A reply or request line fits whole in the pipe's buffers (64 KiB, ipc::max_message_bytes);
// the sizes are advisory, Windows grows them as needed.
constexpr DWORD buffer_bytes = 64 * 1024;
// After an instance could not be created (out of resources), the next try.
constexpr std::chrono::seconds retry_after{1};

// A protected DACL (nothing inherited) granting all access to SYSTEM (the service), the
// Administrators and the session's user, and nothing to anyone else.
UniqueLocal<void> pipe_security() {
    const std::wstring sddl = L"D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;" + own_user_sid() + L")";
    PSECURITY_DESCRIPTOR descriptor = nullptr;
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1,
                                                              &descriptor, nullptr))
        throw Error(ErrorCode::output_failed,
                    "cannot build the pipe's access list: " + last_error_text());
    return UniqueLocal<void>(descriptor);
}

}  // namespace

NamedPipeServer::NamedPipeServer(asio::io_context& io, std::wstring name, RequestHandler& handler)
    : io_(io), name_(std::move(name)), retry_(io), connections_(handler) {}

NamedPipeServer::~NamedPipeServer() { stop(); }

void NamedPipeServer::start() {
    security_ = pipe_security();
    listen(std::make_unique<asio::windows::stream_handle>(io_, create_instance(true).release()));
}

UniqueHandle NamedPipeServer::create_instance(bool first) {
    SECURITY_ATTRIBUTES attributes{sizeof attributes, security_.get(), FALSE};
    DWORD open_mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED;
    if (first) open_mode |= FILE_FLAG_FIRST_PIPE_INSTANCE;
    const DWORD pipe_mode =
        PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS;
    auto pipe = adopt_handle(CreateNamedPipeW(name_.c_str(), open_mode, pipe_mode, max_instances,
                                              buffer_bytes, buffer_bytes, 0, &attributes));
    if (pipe) return pipe;
    const DWORD error = GetLastError();
    if (first && error == ERROR_ACCESS_DENIED)
        throw PipeTaken(ErrorCode::output_failed,
                        to_utf8(name_) +
                            " exists already: another recd serves this session, or "
                            "another program took its name");
    throw Error(ErrorCode::output_failed,
                "cannot create " + to_utf8(name_) + ": " + win32_error_text(error));
}

// Waits for a client on `instance`. One instance waits at a time; the next is made as soon as a
// client took this one, while the connected one keeps the pipe's name alive.
void NamedPipeServer::listen(std::unique_ptr<asio::windows::stream_handle> instance) {
    listening_ = std::move(instance);
    asio::windows::overlapped_ptr overlapped(io_, [this](boost::system::error_code ec, size_t) {
        if (ec == asio::error::operation_aborted || stopped_) return;
        if (ec) {
            // The client went before it was served: the same instance waits for the next one
            // (never closed first, which would let the name lapse for another program to take).
            spdlog::debug("a client of the control pipe went while connecting: {}", ec.message());
            DisconnectNamedPipe(listening_->native_handle());
            return listen(std::move(listening_));
        }
        serve(std::move(listening_));
        next_instance();
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

void NamedPipeServer::serve(std::unique_ptr<asio::windows::stream_handle> instance) {
    if (connections_.full()) {
        spdlog::warn("refused a connection: already serving {}", max_connections);
        boost::system::error_code ignored;
        asio::write(*instance, asio::buffer(busy_reply()), ignored);  // fits the pipe's buffer
        instance->close(ignored);
        return;
    }
    connections_.serve(
        std::make_unique<AsioControlStream<asio::windows::stream_handle>>(std::move(*instance)));
}

// An instance that cannot be made (the system is out of resources) does not end recd: the
// clients already connected go on, and it is tried again.
void NamedPipeServer::next_instance() {
    try {
        listen(
            std::make_unique<asio::windows::stream_handle>(io_, create_instance(false).release()));
    } catch (const Error& e) {
        spdlog::warn("{}; trying again in {} s", e.what(), retry_after.count());
        retry_.expires_after(retry_after);
        retry_.async_wait([this](boost::system::error_code ec) {
            if (!ec && !stopped_) next_instance();
        });
    }
}

void NamedPipeServer::stop() {
    if (stopped_) return;
    stopped_ = true;
    retry_.cancel();
    if (listening_) {
        boost::system::error_code ignored;
        listening_->close(ignored);
    }
    connections_.close_after_replies();
}

}  // namespace rec

// Client over recd's Unix socket (Linux).
#include <fmt/format.h>

#include "client.hpp"
#include "line_client.hpp"

namespace rec::ipc {

namespace asio = boost::asio;
using Local = asio::local::stream_protocol;

struct Client::Impl : LineClient<Local::socket> {};

Client::Client(const std::filesystem::path& socket) : impl_(std::make_unique<Impl>()) {
    boost::system::error_code ec;
    impl_->stream.connect(Local::endpoint(socket.string()), ec);
    if (ec == asio::error::access_denied)
        throw NoAccess(fmt::format("cannot connect to {}: {}", socket.string(), ec.message()));
    if (ec)
        throw Unreachable(fmt::format("cannot connect to {}: {}", socket.string(), ec.message()));
}

Client::~Client() = default;

Json Client::call(const Json& request, std::chrono::milliseconds timeout) {
    return impl_->call(request, timeout);
}

std::optional<Json> Client::next_event() { return impl_->next_event(); }

}  // namespace rec::ipc

#include "client.hpp"

#include <fmt/format.h>

#include "asio.hpp"

namespace rec::ipc {

namespace asio = boost::asio;
using Local = asio::local::stream_protocol;

struct Client::Impl {
    asio::io_context io;
    Local::socket socket{io};
    // Replies can be longer than requests (status of many sessions with long paths); this
    // still bounds what a broken server can make recctl hold.
    asio::streambuf buffer{16 * 1024 * 1024};
    std::filesystem::path path;
};

Client::Client(const std::filesystem::path& socket) : impl_(std::make_unique<Impl>()) {
    impl_->path = socket;
    boost::system::error_code ec;
    impl_->socket.connect(Local::endpoint(socket.string()), ec);
    if (ec)
        throw Unreachable(fmt::format("cannot connect to {}: {}", socket.string(), ec.message()));
}

Client::~Client() = default;

Json Client::call(const Json& request, std::chrono::milliseconds timeout) {
    auto& io = impl_->io;
    boost::system::error_code ec;
    asio::write(impl_->socket, asio::buffer(request.dump() + "\n"), ec);
    // A recd that turns the client away (PERMISSION_DENIED, BUSY) says why and closes before
    // reading: the write then fails, and the reply waiting to be read is the one to report.
    const auto write_error = ec;

    bool done = false;
    asio::async_read_until(impl_->socket, impl_->buffer, '\n',
                           [&](boost::system::error_code e, size_t) { ec = e, done = true; });
    io.restart();
    io.run_for(timeout);
    if (!done) throw Unreachable(fmt::format("recd did not answer within {} ms", timeout.count()));
    if (ec && write_error) throw Unreachable("sending to recd failed: " + write_error.message());
    if (ec) throw Unreachable("reading recd's reply failed: " + ec.message());
    std::string line;
    std::istream in(&impl_->buffer);
    std::getline(in, line);
    Json reply = Json::parse(line, nullptr, false);
    if (!reply.is_object()) throw Unreachable("recd answered something that is not JSON: " + line);
    return reply;
}

std::optional<Json> Client::next_event() {
    boost::system::error_code ec;
    asio::read_until(impl_->socket, impl_->buffer, '\n', ec);
    if (ec) return std::nullopt;
    std::string line;
    std::istream in(&impl_->buffer);
    std::getline(in, line);
    Json event = Json::parse(line, nullptr, false);
    if (!event.is_object()) throw Unreachable("recd sent something that is not JSON: " + line);
    return event;
}

}  // namespace rec::ipc

#include "client.hpp"

#include <fmt/format.h>

#include "asio.hpp"

namespace rec::ipc {

namespace asio = boost::asio;
using Local = asio::local::stream_protocol;

namespace {

// The first line in `buffer` (read_until saw its newline), as the JSON object it must be.
Json take_line(asio::streambuf& buffer) {
    std::string line;
    std::istream in(&buffer);
    std::getline(in, line);
    Json object = Json::parse(line, nullptr, false);
    if (!object.is_object()) throw Unreachable("recd sent something that is not JSON: " + line);
    return object;
}

}  // namespace

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
    if (ec == asio::error::access_denied)
        throw NoAccess(fmt::format("cannot connect to {}: {}", socket.string(), ec.message()));
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
    return take_line(impl_->buffer);
}

std::optional<Json> Client::next_event() {
    boost::system::error_code ec;
    asio::read_until(impl_->socket, impl_->buffer, '\n', ec);
    if (ec) return std::nullopt;
    return take_line(impl_->buffer);
}

}  // namespace rec::ipc

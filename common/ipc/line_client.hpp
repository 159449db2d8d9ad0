#pragma once
// Client::call and Client::next_event over any Asio stream: what the Unix socket client
// (unix_socket_client.cpp) and the named pipe client (named_pipe_client.cpp) share. recctl's
// one thread.
#include <fmt/format.h>

#include <chrono>
#include <istream>
#include <optional>
#include <string>

#include "asio.hpp"
#include "client.hpp"

namespace rec::ipc {

// The first line in `buffer` (read_until saw its newline), as the JSON object it must be.
inline Json take_line(boost::asio::streambuf& buffer) {
    std::string line;
    std::istream in(&buffer);
    std::getline(in, line);
    Json object = Json::parse(line, nullptr, false);
    if (!object.is_object()) throw Unreachable("recd sent something that is not JSON: " + line);
    return object;
}

// One stream, its io_context and what has been read of it.
template <class Stream>
struct LineClient {
    boost::asio::io_context io;
    Stream stream{io};
    // Replies can be longer than requests (status of many sessions with long paths); this
    // still bounds what a broken server can make recctl hold.
    boost::asio::streambuf buffer{16 * 1024 * 1024};

    Json call(const Json& request, std::chrono::milliseconds timeout) {
        namespace asio = boost::asio;
        boost::system::error_code ec;
        asio::write(stream, asio::buffer(request.dump() + "\n"), ec);
        // A recd that turns the client away (PERMISSION_DENIED, BUSY) says why and closes
        // before reading: the write then fails, and the reply waiting to be read is the one
        // to report.
        const auto write_error = ec;
        bool done = false;
        asio::async_read_until(stream, buffer, '\n',
                               [&](boost::system::error_code e, size_t) { ec = e, done = true; });
        io.restart();
        io.run_for(timeout);
        if (!done) {
            // The read still refers to `ec` and `done`: it is cancelled and run to its end here,
            // so a later call starts afresh instead of running it into this returned frame.
            stream.cancel(ec);
            io.restart();
            io.run();
            throw Unreachable(fmt::format("recd did not answer within {} ms", timeout.count()));
        }
        if (ec && write_error)
            throw Unreachable("sending to recd failed: " + write_error.message());
        if (ec) throw Unreachable("reading recd's reply failed: " + ec.message());
        return take_line(buffer);
    }

    std::optional<Json> next_event() {
        boost::system::error_code ec;
        boost::asio::read_until(stream, buffer, '\n', ec);
        if (ec) return std::nullopt;
        return take_line(buffer);
    }
};

}  // namespace rec::ipc

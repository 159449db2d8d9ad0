#pragma once
// One client of the control socket or named pipe. Lives on the io thread. Reads newline-delimited
// requests and answers them strictly in order: the next line is read only after the previous reply
// is written, so a client can pipeline requests and slow commands never interleave replies.
#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "../common/clock.hpp"
#include "../common/ipc/asio.hpp"
#include "control_stream.hpp"
#include "request_handler.hpp"

namespace rec {

// At most this many clients at once, on the socket (server.cpp) or the pipe
// (named_pipe_server.cpp) (issue 5): enough for every script and person on a session, and a
// bound on what a flood of connections can cost.
constexpr size_t max_connections = 64;
// What a client beyond them is told (BUSY) before it is closed; newline included.
std::string busy_reply();

class Connection : public std::enable_shared_from_this<Connection> {
public:
    // `on_close` is called once, on the io thread, when the connection is done. The handler
    // outlives every connection (the server owns both).
    Connection(std::unique_ptr<ControlStream> stream, RequestHandler& handler,
               std::function<void(Connection*)> on_close);

    void start();
    // Shutdown: closes now if idle, else right after the reply being prepared is written.
    void close_after_replies();
    // An event line for a subscribed client, written after what is queued before it. False
    // once the connection is closed; a client that lets max_outbox lines pile up unread is
    // closed (a subscriber must read its events).
    bool push(std::string line);

private:
    void next();
    void read();
    void handle(std::string line);
    void send(std::string reply, bool then_close);
    void write_next();
    void close();
    void watch_partial_message();

    std::unique_ptr<ControlStream> stream_;
    RequestHandler& handler_;
    std::function<void(Connection*)> on_close_;
    boost::asio::steady_timer partial_timer_;
    std::string pending_;             // bytes received and not yet handled
    std::array<char, 4096> chunk_{};  // one read's worth
    bool busy_ = false;               // a request is being answered
    bool eof_ = false;                // the client has sent everything it will send
    bool closing_ = false;
    bool closed_ = false;
    bool partial_watched_ = false;  // the partial-message timer runs
    struct Line {
        std::string text;
        bool reply;       // the answer to the request being handled: read the next once written
        bool then_close;  // the last word
    };
    std::deque<Line> outbox_;  // lines to write, in order; the front one is being written
    bool writing_ = false;
};

// A server's clients (the socket's, server.cpp; the pipe's, named_pipe_server.cpp), on the io
// thread: each served by its Connection and forgotten when that closes. The server owns it.
class Connections {
public:
    explicit Connections(RequestHandler& handler) : handler_(handler) {}
    // max_connections are being served: the next client is told busy_reply() instead.
    bool full() const { return set_.size() >= max_connections; }
    size_t size() const { return set_.size(); }
    void serve(std::unique_ptr<ControlStream> stream);
    // Shutdown: each closes once the reply being prepared is written.
    void close_after_replies();

private:
    RequestHandler& handler_;
    std::set<std::shared_ptr<Connection>> set_;
};

}  // namespace rec

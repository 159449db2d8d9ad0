#include "connection.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "../common/ipc/protocol.hpp"

namespace rec {

namespace asio = boost::asio;

std::string busy_reply() {
    return ipc::error_reply(nullptr, ErrorCode::busy,
                            fmt::format("recd already serves {} connections; try again when some "
                                        "have closed",
                                        max_connections));
}

Connection::Connection(std::unique_ptr<ControlStream> stream, RequestHandler& handler,
                       std::function<void(Connection*)> on_close)
    : stream_(std::move(stream)),
      handler_(handler),
      on_close_(std::move(on_close)),
      partial_timer_(stream_->executor()) {}

void Connection::start() { next(); }

// The one place that decides what happens next: answer a buffered line, or read more.
void Connection::next() {
    if (busy_ || closed_) return;
    if (closing_) return close();
    const auto newline = pending_.find('\n');
    if (newline == std::string::npos ? pending_.size() >= ipc::max_message_bytes
                                     : newline >= ipc::max_message_bytes) {
        busy_ = true;
        return send(ipc::error_reply(nullptr, ErrorCode::too_large,
                                     "a message may be at most 64 KiB, newline included"),
                    true);
    }
    if (newline != std::string::npos) {
        std::string line = pending_.substr(0, newline);
        pending_.erase(0, newline + 1);
        partial_watched_ = false;
        partial_timer_.cancel();
        return handle(std::move(line));
    }
    if (eof_) {  // a last request without its newline still counts
        if (pending_.empty()) return close();
        std::string line = std::move(pending_);
        pending_.clear();
        return handle(std::move(line));
    }
    read();
}

void Connection::handle(std::string line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) return next();  // blank line
    busy_ = true;
    handler_.handle(
        line,
        [self = shared_from_this()](std::string reply) { self->send(std::move(reply), false); },
        [weak = weak_from_this()](const std::string& event) {
            const auto self = weak.lock();
            return self && self->push(event);
        });
}

void Connection::read() {
    watch_partial_message();
    stream_->async_read_some(asio::buffer(chunk_),
                             [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                                 if (ec == asio::error::eof) {
                                     self->eof_ = true;
                                 } else if (ec) {
                                     return self->close();
                                 }
                                 self->pending_.append(self->chunk_.data(), n);
                                 self->next();
                             });
}

// A client that sends part of a line and then nothing is closed after partial_message_timeout.
void Connection::watch_partial_message() {
    if (pending_.empty() || partial_watched_) return;
    partial_watched_ = true;
    partial_timer_.expires_after(ipc::partial_message_timeout);
    partial_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (ec || !self->partial_watched_) return;
        spdlog::debug("closing a connection that sent half a message {} s ago",
                      ipc::partial_message_timeout.count());
        self->close();
    });
}

// Replies and event lines share one queue, so they reach the client whole and in order.
void Connection::send(std::string reply, bool then_close) {
    if (closed_) return;
    outbox_.push_back({std::move(reply), true, then_close});
    write_next();
}

bool Connection::push(std::string line) {
    // An event every few seconds per session: 256 unread lines is a client that stopped reading.
    constexpr size_t max_outbox = 256;
    if (closed_) return false;
    if (outbox_.size() >= max_outbox) {
        spdlog::warn("closing a subscriber that does not read its events");
        close();
        return false;
    }
    outbox_.push_back({std::move(line), false, false});
    write_next();
    return true;
}

void Connection::write_next() {
    if (writing_ || closed_ || outbox_.empty()) return;
    writing_ = true;
    stream_->async_write(asio::buffer(outbox_.front().text),
                         [self = shared_from_this()](boost::system::error_code ec, size_t) {
                             self->writing_ = false;
                             if (self->closed_) return;
                             const Line done = std::move(self->outbox_.front());
                             self->outbox_.pop_front();
                             if (ec || done.then_close) return self->close();
                             if (done.reply) {
                                 self->busy_ = false;
                                 self->next();
                             }
                             self->write_next();
                         });
}

void Connection::close_after_replies() {
    closing_ = true;
    if (!busy_) close();
}

void Connection::close() {
    if (closed_) return;
    closed_ = true;
    partial_timer_.cancel();
    stream_->close();
    on_close_(this);
}

void Connections::serve(std::unique_ptr<ControlStream> stream) {
    auto connection =
        std::make_shared<Connection>(std::move(stream), handler_, [this](Connection* c) {
            std::erase_if(set_, [c](const auto& p) { return p.get() == c; });
        });
    set_.insert(connection);
    connection->start();
}

void Connections::close_after_replies() {
    for (const auto& c : std::set(set_)) c->close_after_replies();  // a copy: they leave the set
}

}  // namespace rec

#pragma once
// What happens to sessions, told to every client that sent {"cmd":"subscribe"}: one JSON line
// per event (docs/protocol.md), so scripts need not poll. publish() from any thread (session
// threads, workers); delivery and the subscriber list live on the io thread.
#include <functional>
#include <string>
#include <vector>

#include "../common/ipc/asio.hpp"
#include "../common/ipc/protocol.hpp"
#include "request_handler.hpp"

namespace rec {

class Events {
public:
    explicit Events(boost::asio::io_context& io) : io_(io) {}

    // Any thread. `event` is e.g. {"event":"file_closed","session":"s1",...}; "time" (UTC,
    // ISO 8601) is added.
    void publish(ipc::Json event);
    // io thread.
    void subscribe(PushFn push) { subscribers_.push_back(std::move(push)); }

private:
    boost::asio::io_context& io_;
    std::vector<PushFn> subscribers_;  // io thread only
};

}  // namespace rec

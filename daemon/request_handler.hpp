#pragma once
// What a control connection hands each request line to: recd's Dispatcher, or the handler of
// the Windows tests (tests/windows), which have no recording pipeline behind the named pipe.
#include <functional>
#include <string>
#include <string_view>

namespace rec {

// Delivers a reply line (newline included) to the connection that asked. Called once per
// request, on the io thread.
using ReplyFn = std::function<void(std::string)>;
// Sends an event line to a subscribed client later; false once the client is gone.
using PushFn = std::function<bool(const std::string& line)>;

class RequestHandler {
public:
    virtual ~RequestHandler() = default;
    // io thread: one request line (without its newline); `reply` is called exactly once, now
    // or later on the io thread. `push` sends event lines to the same client, if it subscribes.
    virtual void handle(std::string_view line, ReplyFn reply, PushFn push) = 0;
};

}  // namespace rec

#pragma once
// Notices when an X server goes away: a connection of its own to the display, watched on the io
// thread for the moment the server closes it. For recd --session (LoginSession): a login
// session is over when its X server exits, and a recd the login hook started would otherwise
// outlive it (nothing else ends it: it is detached from the session's processes).
#include <xcb/xcb.h>

#include <functional>
#include <string>

#include "../common/ipc/asio.hpp"

namespace rec {

class X11DisplayWatch {
public:
    // Main thread, before io runs. Connects to `display`; throws rec::Error(DISPLAY_UNAVAILABLE)
    // if it cannot. `lost` is called once, on the io thread, with what happened.
    X11DisplayWatch(boost::asio::io_context& io, const std::string& display,
                    std::function<void(std::string)> lost);
    // After io has stopped running (the watch lives on main's stack around Server::run).
    ~X11DisplayWatch();
    // io thread: stops watching (recd is shutting down); `lost` is not called any more.
    void cancel();
    X11DisplayWatch(const X11DisplayWatch&) = delete;
    X11DisplayWatch& operator=(const X11DisplayWatch&) = delete;

private:
    void wait();

    xcb_connection_t* conn_ = nullptr;  // owned; its descriptor is lent to fd_
    boost::asio::posix::stream_descriptor fd_;
    std::function<void(std::string)> lost_;
};

}  // namespace rec

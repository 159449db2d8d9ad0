#include "x11_display_watch.hpp"

#include <fmt/format.h>

#include <cstdlib>

#include "../common/error.hpp"

namespace rec {

X11DisplayWatch::X11DisplayWatch(boost::asio::io_context& io, const std::string& display,
                                 std::function<void(std::string)> lost)
    : fd_(io), lost_(std::move(lost)) {
    // At login the server has just started and answers at once; no timeout needed here (the
    // capture's own connection has one).
    conn_ = xcb_connect(display.c_str(), nullptr);
    if (int err = xcb_connection_has_error(conn_)) {
        xcb_disconnect(conn_);  // even a failed connection is to be disconnected
        throw Error(ErrorCode::display_unavailable,
                    fmt::format("cannot open X display \"{}\" (xcb error {}) to follow the login "
                                "session",
                                display, err));
    }
    fd_.assign(xcb_get_file_descriptor(conn_));
    wait();
}

X11DisplayWatch::~X11DisplayWatch() {
    // xcb closes the descriptor; asio must not close it a second time.
    boost::system::error_code ignored;
    fd_.cancel(ignored);
    fd_.release();
    xcb_disconnect(conn_);
}

void X11DisplayWatch::cancel() {
    boost::system::error_code ignored;
    fd_.cancel(ignored);
}

// io thread. Nothing is asked of the server, so what arrives is the odd event every client
// gets (MappingNotify) or the end of the connection; xcb reads either and says which.
void X11DisplayWatch::wait() {
    fd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                   [this](boost::system::error_code ec) {
                       if (ec == boost::asio::error::operation_aborted) return;
                       while (xcb_generic_event_t* event = xcb_poll_for_event(conn_))
                           std::free(event);
                       if (ec || xcb_connection_has_error(conn_)) {
                           lost_(ec ? ec.message() : "its connection closed");
                           return;
                       }
                       wait();
                   });
}

}  // namespace rec

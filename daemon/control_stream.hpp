#pragma once
// The byte stream under a control Connection: a client's Unix socket (server.cpp) or named
// pipe instance (named_pipe_server.cpp). Owned by its Connection; used on the io thread only.
// One small interface instead of a Connection per stream type: control traffic is a few lines
// a second, so a virtual call and a std::function per read are nothing.
#include <cstddef>
#include <functional>

#include "../common/ipc/asio.hpp"

namespace rec {

class ControlStream {
public:
    using Handler = std::function<void(boost::system::error_code, std::size_t)>;
    virtual ~ControlStream() = default;
    virtual boost::asio::any_io_executor executor() = 0;
    virtual void async_read_some(boost::asio::mutable_buffer buffer, Handler done) = 0;
    // All of `buffer`, or an error.
    virtual void async_write(boost::asio::const_buffer buffer, Handler done) = 0;
    virtual void close() = 0;
};

// Any Asio stream (a local socket, a Windows stream_handle) as a ControlStream.
template <class Stream>
class AsioControlStream final : public ControlStream {
public:
    explicit AsioControlStream(Stream stream) : stream_(std::move(stream)) {}
    boost::asio::any_io_executor executor() override { return stream_.get_executor(); }
    void async_read_some(boost::asio::mutable_buffer buffer, Handler done) override {
        stream_.async_read_some(buffer, std::move(done));
    }
    void async_write(boost::asio::const_buffer buffer, Handler done) override {
        boost::asio::async_write(stream_, buffer, std::move(done));
    }
    // A socket is shut down first: a hook's child process that inherited the descriptor must
    // not keep the client waiting for an end of stream.
    void close() override {
        boost::system::error_code ignored;
        if constexpr (requires { stream_.shutdown(Stream::shutdown_both, ignored); })
            stream_.shutdown(Stream::shutdown_both, ignored);
        stream_.close(ignored);
    }

private:
    Stream stream_;
};

}  // namespace rec

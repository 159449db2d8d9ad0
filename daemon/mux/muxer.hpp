#pragma once
// Writes encoded packets into a container through libavformat, over a file descriptor recd
// opened itself (see output_file). Built on a worker thread at session start; afterwards
// write() is called by the session's venc and aenc threads (serialized here) and finish() by
// the venc thread once every other writer has stopped; bytes() may be read from any thread.
#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "../../common/unique_fd.hpp"
#include "../media/av_ptr.hpp"
#include "output_file.hpp"

namespace rec {

class Muxer {
public:
    // `format` is a libavformat muxer name ("matroska"). Throws rec::Error(OUTPUT_FAILED).
    Muxer(OutputFile file, const char* format);
    ~Muxer();

    // Before begin(): adds a stream for `codec`'s output; returns its index.
    int add_stream(const AVCodecContext& codec, const char* title);
    // Writes the header. Throws rec::Error(OUTPUT_FAILED).
    void begin();
    // `packet` is in `time_base` units. Returns false on a write error (error() says why).
    bool write(AVPacket& packet, int stream, AVRational time_base);
    // Writes the trailer (index, duration), syncs and closes the file. Returns false if that
    // failed; what was written before stays playable.
    bool finish();

    const std::filesystem::path& path() const { return path_; }
    uint64_t bytes() const { return bytes_.load(); }
    std::string error() const {
        std::lock_guard lock(mutex_);
        return error_;
    }

private:
    static int write_packet(void* opaque, uint8_t* data, int size);
    static int64_t seek(void* opaque, int64_t offset, int whence);

    mutable std::mutex mutex_;  // one writer at a time into libavformat; guards error_
    UniqueFd fd_;
    std::filesystem::path path_;
    AVFormatContext* format_ = nullptr;
    AVIOContext* io_ = nullptr;
    uint64_t position_ = 0;          // where the next write lands
    std::atomic<uint64_t> bytes_{0};  // the file's size so far
    bool finished_ = false;
    std::string error_;
};

}  // namespace rec

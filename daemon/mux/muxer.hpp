#pragma once
// Writes encoded packets into one file through libavformat, over a file recd opened itself
// (output_file, file_io). Built when a segment opens; then written by whichever pipeline thread the
// Segmenter lets in (it serializes them); bytes() may be read from any thread.
#include <atomic>
#include <filesystem>
#include <string>

#include "../media/av_ptr.hpp"
#include "output_file.hpp"

namespace rec {

enum class Container {
    mkv,        // Matroska, clusters of at most 1 s: playable after a crash
    mp4,        // fragmented MP4 (1 s fragments): playable after a crash; finalized on close
    mpegts,     // MPEG-TS: playable after a crash by nature
    mp4_final,  // a regular MP4 with its index at the front (the finalizer writes it)
};
Container parse_container(const std::string& name);  // "mkv", "mp4", "mpegts"
const char* extension(Container container);

class Muxer {
public:
    // Throws rec::Error(OUTPUT_FAILED).
    Muxer(OutputFile file, Container container);
    ~Muxer();

    // Before begin(): adds a stream; returns its index.
    int add_stream(const AVCodecParameters& codec, AVRational time_base, AVRational frame_rate,
                   const std::string& title);
    // Writes the header. Throws rec::Error(OUTPUT_FAILED).
    void begin();
    // `packet` is in `time_base` units. Returns false on a write error (error() says why).
    bool write(AVPacket& packet, int stream, AVRational time_base);
    // Writes the trailer, syncs and closes the file. Returns false if that failed; what was
    // written before stays playable.
    bool finish();

    const std::filesystem::path& path() const { return path_; }
    Container container() const { return container_; }
    uint64_t bytes() const { return bytes_.load(); }
    const std::string& error() const { return error_; }
    int error_number() const { return errno_; }  // the errno of a failed write (file_io), else 0

private:
    static int write_packet(void* opaque, uint8_t* data, int size);
    static int64_t seek(void* opaque, int64_t offset, int whence);

    WritableFile file_;
    std::filesystem::path path_;
    const Container container_;
    AVFormatContext* format_ = nullptr;
    AVIOContext* io_ = nullptr;
    uint64_t position_ = 0;           // where the next write lands
    std::atomic<uint64_t> bytes_{0};  // the file's size so far
    bool finished_ = false;
    std::string error_;
    int errno_ = 0;
};

// Rewrites the fragmented MP4 at `path` as a regular MP4 with its index at the front, through
// a temporary file renamed over it. Returns an error message, empty on success (the
// fragmented file stays, playable, on failure).
std::string finalize_mp4(const std::filesystem::path& path);

}  // namespace rec

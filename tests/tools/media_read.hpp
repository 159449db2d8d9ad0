#pragma once
// Reading recordings with libavformat/libavcodec for the test tools: open a file, pick streams
// by type or title, decode several streams in one pass with their errors counted per stream.
// Used by sync_analysis (sync_analyze, the integration tests) and the integration tests' audio
// checks; single-threaded (decoder errors are collected through av_log's global callback).
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace rec::media {

struct FormatCloser {
    void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};
struct CodecFreer {
    void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
using FormatPtr = std::unique_ptr<AVFormatContext, FormatCloser>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecFreer>;

std::string av_error(int code);

// Opens `file` and reads its stream info; null with `error` set on failure.
FormatPtr open_input(const std::filesystem::path& file, std::string& error);

// The stream's "title" metadata tag, or "".
std::string stream_title(const AVStream* stream);

// The first audio stream titled `title` (any audio stream when `title` is empty); -1 if none.
int find_audio_stream(const AVFormatContext* format, const std::string& title);

// Seconds of a timestamp in the stream's time base.
double to_seconds(int64_t ts, AVRational time_base);

// One stream's decoder; decode_streams() feeds it its packets and calls `on_frame` for each
// decoded frame (pts set from the packets; skipped priming samples already removed).
class StreamDecoder {
public:
    using FrameFn = std::function<void(const AVFrame& frame)>;
    // Throws std::runtime_error when the stream's codec cannot be opened.
    StreamDecoder(const AVFormatContext* format, int index, FrameFn on_frame);

    int index() const { return index_; }
    const AVCodecContext* codec() const { return codec_.get(); }
    int frames() const { return frames_; }
    int errors() const { return errors_; }  // failed calls, corrupt frames, decoder error logs
    const std::vector<std::string>& error_log() const { return log_; }  // the first few

    void decode(const AVPacket* packet);  // nullptr: flush
    void note_error(const std::string& message);

private:
    int index_;
    CodecPtr codec_;
    FrameFn on_frame_;
    int frames_ = 0;
    int errors_ = 0;
    std::vector<std::string> log_;
};

// Reads the whole file once, decoding the packets of every stream in `decoders`. Returns the
// number of read/demux errors (not counting the end of the file).
int decode_streams(AVFormatContext* format, const std::vector<StreamDecoder*>& decoders);

// Sample `i` of channel `channel` of an audio frame as a float in -1..1, for the sample formats
// encoders give (planar or packed float, double, s16, s32).
float audio_sample(const AVFrame& frame, int channel, int i);

}  // namespace rec::media

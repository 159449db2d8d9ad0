#include "muxer.hpp"

#include <fmt/format.h>

#include "../../common/error.hpp"

namespace rec {
namespace {

// libavformat writes through this buffer; 64 KiB keeps syscalls few at screen bit rates.
constexpr int io_buffer_bytes = 64 * 1024;
// What a crash can lose: the Matroska cluster or MP4 fragment being written. 1 s of it.
constexpr int cluster_milliseconds = 1000;
constexpr int fragment_microseconds = 1'000'000;
// ... and at most this many bytes: a busy screen's cluster reaches the disk (and the free-space
// check) in small steps rather than megabytes at once.
constexpr int cluster_bytes = 256 * 1024;

const char* format_name(Container c) {
    switch (c) {
        case Container::mkv:
            return "matroska";
        case Container::mpegts:
            return "mpegts";
        case Container::mp4:
        case Container::mp4_final:
            return "mp4";
    }
    return "matroska";
}

AVDictionary* header_options(Container c) {
    AVDictionary* options = nullptr;
    switch (c) {
        case Container::mkv:
            av_dict_set_int(&options, "cluster_time_limit", cluster_milliseconds, 0);
            av_dict_set_int(&options, "cluster_size_limit", cluster_bytes, 0);
            break;
        case Container::mp4:
            // A fragment at every keyframe and at least every second, the index up front empty.
            av_dict_set(&options, "movflags", "frag_keyframe+empty_moov+default_base_moof", 0);
            av_dict_set_int(&options, "frag_duration", fragment_microseconds, 0);
            break;
        case Container::mp4_final:
            av_dict_set(&options, "movflags", "faststart", 0);
            break;
        case Container::mpegts:
            break;
    }
    return options;
}

}  // namespace

Container parse_container(const std::string& name) {
    if (name == "mp4") return Container::mp4;
    if (name == "mpegts") return Container::mpegts;
    return Container::mkv;
}

const char* extension(Container c) {
    switch (c) {
        case Container::mkv:
            return "mkv";
        case Container::mpegts:
            return "ts";
        case Container::mp4:
        case Container::mp4_final:
            return "mp4";
    }
    return "mkv";
}

Muxer::Muxer(OutputFile file, Container container)
    : file_(std::move(file.file)), path_(file.path), container_(container) {
    const char* format = format_name(container);
    if (int err = avformat_alloc_output_context2(&format_, nullptr, format, nullptr); err < 0)
        throw Error(ErrorCode::output_failed,
                    fmt::format("container {}: {}", format, av_error_text(err)));
    auto* buffer = static_cast<uint8_t*>(av_malloc(io_buffer_bytes));
    io_ = avio_alloc_context(buffer, io_buffer_bytes, 1, this, nullptr, &Muxer::write_packet,
                             &Muxer::seek);
    format_->pb = io_;
    format_->flags |= AVFMT_FLAG_CUSTOM_IO | AVFMT_FLAG_FLUSH_PACKETS;
    // MP4's faststart reads the file back by name to move the index to the front.
    format_->url = av_strdup(utf8(path_).c_str());
}

Muxer::~Muxer() {
    if (!finished_ && io_) avio_flush(io_);  // a failed start: keep what there is whole
    if (io_) av_freep(&io_->buffer);
    avio_context_free(&io_);
    avformat_free_context(format_);
}

int Muxer::add_stream(const AVCodecParameters& codec, AVRational time_base, AVRational frame_rate,
                      const std::string& title) {
    AVStream* stream = avformat_new_stream(format_, nullptr);
    avcodec_parameters_copy(stream->codecpar, &codec);
    stream->codecpar->codec_tag = 0;  // let each container choose its own tag
    stream->time_base = time_base;
    stream->avg_frame_rate = frame_rate;
    av_dict_set(&stream->metadata, "title", title.c_str(), 0);
    return stream->index;
}

void Muxer::begin() {
    AVDictionary* options = header_options(container_);
    const int err = avformat_write_header(format_, &options);
    av_dict_free(&options);
    if (err < 0)
        throw Error(ErrorCode::output_failed,
                    fmt::format("cannot write {}: {}", utf8(path_),
                                error_.empty() ? av_error_text(err) : error_));
    avio_flush(io_);
}

bool Muxer::write(AVPacket& packet, int stream, AVRational time_base) {
    packet.stream_index = stream;
    av_packet_rescale_ts(&packet, time_base, format_->streams[stream]->time_base);
    if (int err = av_interleaved_write_frame(format_, &packet); err < 0) {
        if (error_.empty()) error_ = "writing " + utf8(path_) + ": " + av_error_text(err);
        return false;
    }
    return true;
}

bool Muxer::finish() {
    finished_ = true;
    bool ok = av_write_trailer(format_) >= 0;
    avio_flush(io_);
    ok = ok && io_->error >= 0;
    if (!file_.sync() && error_.empty()) error_ = "sync: " + file_.error_text();
    file_.close();
    if (!ok && error_.empty()) error_ = "cannot finish " + utf8(path_);
    return ok && error_.empty();
}

int Muxer::write_packet(void* opaque, uint8_t* data, int size) {
    auto* self = static_cast<Muxer*>(opaque);
    if (!self->file_.write_all(data, static_cast<size_t>(size))) {
        self->errno_ = self->file_.error_number();
        if (self->error_.empty())
            self->error_ =
                fmt::format("writing {}: {}", utf8(self->path_), self->file_.error_text());
        return AVERROR(self->errno_);
    }
    self->position_ += static_cast<uint64_t>(size);
    // The header is rewritten in place at the end: the file's size is the furthest write.
    if (self->position_ > self->bytes_) self->bytes_ = self->position_;
    return size;
}

int64_t Muxer::seek(void* opaque, int64_t offset, int whence) {
    auto* self = static_cast<Muxer*>(opaque);
    if (whence & AVSEEK_SIZE) {
        const int64_t size = self->file_.size();
        return size >= 0 ? size : AVERROR(self->file_.error_number());
    }
    const int64_t at = self->file_.seek(offset, whence & ~AVSEEK_FORCE);
    if (at < 0) return AVERROR(self->file_.error_number());
    self->position_ = static_cast<uint64_t>(at);
    return at;
}

}  // namespace rec

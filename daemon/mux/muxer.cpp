#include "muxer.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>

#include "../../common/error.hpp"

extern "C" {
#include <libavutil/opt.h>
}

namespace rec {
namespace {

// libavformat writes through this buffer; 64 KiB keeps syscalls few at screen bit rates.
constexpr int io_buffer_bytes = 64 * 1024;
// Clusters of at most 1 s: what a crash can lose is the cluster being written.
constexpr int cluster_milliseconds = 1000;

}  // namespace

Muxer::Muxer(OutputFile file, const char* format) : fd_(std::move(file.fd)), path_(file.path) {
    if (int err = avformat_alloc_output_context2(&format_, nullptr, format, nullptr); err < 0)
        throw Error(ErrorCode::output_failed,
                    fmt::format("container {}: {}", format, av_error_text(err)));
    auto* buffer = static_cast<uint8_t*>(av_malloc(io_buffer_bytes));
    io_ = avio_alloc_context(buffer, io_buffer_bytes, 1, this, nullptr, &Muxer::write_packet,
                             &Muxer::seek);
    format_->pb = io_;
    format_->flags |= AVFMT_FLAG_CUSTOM_IO | AVFMT_FLAG_FLUSH_PACKETS;
}

Muxer::~Muxer() {
    if (!finished_ && format_) {
        // Not finished (a failed start): flush what there is so the file is not cut mid-buffer.
        avio_flush(io_);
    }
    if (io_) av_freep(&io_->buffer);
    avio_context_free(&io_);
    avformat_free_context(format_);
}

int Muxer::add_stream(const AVCodecContext& codec, const char* title) {
    AVStream* stream = avformat_new_stream(format_, nullptr);
    avcodec_parameters_from_context(stream->codecpar, &codec);
    stream->time_base = codec.time_base;
    stream->avg_frame_rate = codec.framerate;
    av_dict_set(&stream->metadata, "title", title, 0);
    return stream->index;
}

void Muxer::begin() {
    AVDictionary* options = nullptr;
    av_dict_set_int(&options, "cluster_time_limit", cluster_milliseconds, 0);
    const int err = avformat_write_header(format_, &options);
    av_dict_free(&options);
    if (err < 0)
        throw Error(ErrorCode::output_failed,
                    fmt::format("cannot write {}: {}", path_.string(),
                                error_.empty() ? av_error_text(err) : error_));
    avio_flush(io_);
}

bool Muxer::write(AVPacket& packet, int stream, AVRational time_base) {
    std::lock_guard lock(mutex_);
    packet.stream_index = stream;
    av_packet_rescale_ts(&packet, time_base, format_->streams[stream]->time_base);
    if (int err = av_interleaved_write_frame(format_, &packet); err < 0) {
        if (error_.empty()) error_ = "writing " + path_.string() + ": " + av_error_text(err);
        return false;
    }
    return true;
}

bool Muxer::finish() {
    std::lock_guard lock(mutex_);
    finished_ = true;
    bool ok = av_write_trailer(format_) >= 0;
    avio_flush(io_);
    ok = ok && io_->error >= 0;
    if (fsync(fd_.get()) != 0 && error_.empty()) error_ = "sync: " + std::string(strerror(errno));
    fd_.reset();
    if (!ok && error_.empty()) error_ = "cannot finish " + path_.string();
    return ok && error_.empty();
}

int Muxer::write_packet(void* opaque, uint8_t* data, int size) {
    auto* self = static_cast<Muxer*>(opaque);
    for (int done = 0; done < size;) {
        const ssize_t n = ::write(self->fd_.get(), data + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int err = errno;
            if (self->error_.empty())
                self->error_ = fmt::format("writing {}: {}", self->path_.string(), strerror(err));
            return AVERROR(err);
        }
        done += static_cast<int>(n);
        self->position_ += n;
    }
    // The header is rewritten in place at the end: the file's size is the furthest write.
    if (self->position_ > self->bytes_) self->bytes_ = self->position_;
    return size;
}

int64_t Muxer::seek(void* opaque, int64_t offset, int whence) {
    auto* self = static_cast<Muxer*>(opaque);
    if (whence & AVSEEK_SIZE) {
        struct stat st {};
        return fstat(self->fd_.get(), &st) == 0 ? st.st_size : AVERROR(errno);
    }
    const off_t at = lseek(self->fd_.get(), offset, whence & ~AVSEEK_FORCE);
    if (at < 0) return AVERROR(errno);
    self->position_ = static_cast<uint64_t>(at);
    return at;
}

}  // namespace rec

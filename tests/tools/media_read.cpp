#include "media_read.hpp"

extern "C" {
#include <libavutil/log.h>
}

#include <map>
#include <mutex>
#include <stdexcept>

namespace rec::media {

namespace {

struct PacketFreer {
    void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameFreer {
    void operator()(AVFrame* f) const { av_frame_free(&f); }
};

// While decode_streams runs, error-level av_log messages from a decoder are counted against its
// stream (the decoder conceals damage and reports it only through av_log); the rest against the
// file. One decode_streams at a time.
std::mutex log_mutex;
std::map<const void*, StreamDecoder*>* log_targets = nullptr;
int* file_errors = nullptr;

void count_errors(void* avcl, int level, const char* fmt, va_list args) {
    if (level > AV_LOG_ERROR || !log_targets) return;
    char line[512];
    int prefix = 1;
    av_log_format_line2(avcl, level, fmt, args, line, sizeof(line), &prefix);
    if (auto it = log_targets->find(avcl); it != log_targets->end()) {
        it->second->note_error(line);
    } else if (file_errors) {
        ++*file_errors;
    }
}

}  // namespace

std::string av_error(int code) {
    char text[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(code, text, sizeof(text));
    return text;
}

FormatPtr open_input(const std::filesystem::path& file, std::string& error) {
    AVFormatContext* raw = nullptr;
    if (int rc = avformat_open_input(&raw, file.c_str(), nullptr, nullptr); rc < 0) {
        error = "cannot open " + file.string() + ": " + av_error(rc);
        return nullptr;
    }
    FormatPtr format(raw);
    if (int rc = avformat_find_stream_info(format.get(), nullptr); rc < 0) {
        error = "cannot read stream info of " + file.string() + ": " + av_error(rc);
        return nullptr;
    }
    return format;
}

std::string stream_title(const AVStream* stream) {
    const AVDictionaryEntry* entry = av_dict_get(stream->metadata, "title", nullptr, 0);
    return entry ? entry->value : "";
}

int find_audio_stream(const AVFormatContext* format, const std::string& title) {
    for (unsigned i = 0; i < format->nb_streams; ++i) {
        const AVStream* stream = format->streams[i];
        if (stream->codecpar->codec_type != AVMEDIA_TYPE_AUDIO) continue;
        if (title.empty() || stream_title(stream) == title) return static_cast<int>(i);
    }
    return -1;
}

double to_seconds(int64_t ts, AVRational time_base) {
    return static_cast<double>(ts) * time_base.num / time_base.den;
}

StreamDecoder::StreamDecoder(const AVFormatContext* format, int index, FrameFn on_frame)
    : index_(index), on_frame_(std::move(on_frame)) {
    const AVStream* stream = format->streams[index];
    const AVCodec* decoder = avcodec_find_decoder(stream->codecpar->codec_id);
    if (!decoder) throw std::runtime_error("no decoder for stream " + std::to_string(index));
    codec_.reset(avcodec_alloc_context3(decoder));
    avcodec_parameters_to_context(codec_.get(), stream->codecpar);
    codec_->pkt_timebase = stream->time_base;  // so skipped priming samples shift the pts
    codec_->thread_count = 1;                  // tests decode several files at once on 2 cores
    if (int rc = avcodec_open2(codec_.get(), decoder, nullptr); rc < 0) {
        throw std::runtime_error("cannot open the decoder of stream " + std::to_string(index) +
                                 ": " + av_error(rc));
    }
}

void StreamDecoder::note_error(const std::string& message) {
    ++errors_;
    if (log_.size() < 5) log_.push_back(message);
}

void StreamDecoder::decode(const AVPacket* packet) {
    if (int rc = avcodec_send_packet(codec_.get(), packet); rc < 0 && rc != AVERROR_EOF) {
        note_error("send_packet: " + av_error(rc));
    }
    std::unique_ptr<AVFrame, FrameFreer> frame(av_frame_alloc());
    for (;;) {
        int rc = avcodec_receive_frame(codec_.get(), frame.get());
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return;
        if (rc < 0) {
            note_error("receive_frame: " + av_error(rc));
            return;
        }
        ++frames_;
        if (frame->decode_error_flags || (frame->flags & AV_FRAME_FLAG_CORRUPT)) {
            note_error("corrupt frame");
        }
        on_frame_(*frame);
        av_frame_unref(frame.get());
    }
}

int decode_streams(AVFormatContext* format, const std::vector<StreamDecoder*>& decoders) {
    std::map<int, StreamDecoder*> by_index;
    std::map<const void*, StreamDecoder*> by_context;
    for (StreamDecoder* d : decoders) {
        by_index[d->index()] = d;
        by_context[d->codec()] = d;
    }
    int errors = 0;
    std::lock_guard lock(log_mutex);
    log_targets = &by_context;
    file_errors = &errors;
    av_log_set_callback(count_errors);
    std::unique_ptr<AVPacket, PacketFreer> packet(av_packet_alloc());
    int rc = 0;
    while ((rc = av_read_frame(format, packet.get())) >= 0) {
        if (auto it = by_index.find(packet->stream_index); it != by_index.end()) {
            it->second->decode(packet.get());
        }
        av_packet_unref(packet.get());
    }
    if (rc != AVERROR_EOF) ++errors;
    for (StreamDecoder* d : decoders) d->decode(nullptr);
    av_log_set_callback(av_log_default_callback);
    log_targets = nullptr;
    file_errors = nullptr;
    return errors;
}

float audio_sample(const AVFrame& frame, int channel, int i) {
    const auto format = static_cast<AVSampleFormat>(frame.format);
    const bool planar = av_sample_fmt_is_planar(format);
    const int channels = frame.ch_layout.nb_channels;
    const uint8_t* base = planar ? frame.extended_data[channel] : frame.extended_data[0];
    const int at = planar ? i : i * channels + channel;
    switch (av_get_packed_sample_fmt(format)) {
        case AV_SAMPLE_FMT_FLT:
            return reinterpret_cast<const float*>(base)[at];
        case AV_SAMPLE_FMT_DBL:
            return static_cast<float>(reinterpret_cast<const double*>(base)[at]);
        case AV_SAMPLE_FMT_S16:
            return reinterpret_cast<const int16_t*>(base)[at] / 32768.0f;
        case AV_SAMPLE_FMT_S32:
            return static_cast<float>(reinterpret_cast<const int32_t*>(base)[at] / 2147483648.0);
        case AV_SAMPLE_FMT_U8:
            return (base[at] - 128) / 128.0f;
        default:
            return 0;
    }
}

}  // namespace rec::media

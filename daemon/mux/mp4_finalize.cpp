// Turns a fragmented MP4 (crash-safe while recording) into a regular one with its index at the
// front (what every player and editor expects). Called by the Segmenter when a segment closes
// cleanly, on the thread that closes it.
#include <fmt/format.h>

#include "file_io.hpp"
#include "muxer.hpp"

namespace rec {
namespace {

struct InputFree {
    void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};

}  // namespace

std::string finalize_mp4(const std::filesystem::path& path) {
    AVFormatContext* raw = nullptr;
    if (int err = avformat_open_input(&raw, utf8(path).c_str(), nullptr, nullptr); err < 0)
        return "cannot reopen " + utf8(path) + ": " + av_error_text(err);
    std::unique_ptr<AVFormatContext, InputFree> input(raw);
    if (int err = avformat_find_stream_info(input.get(), nullptr); err < 0)
        return "cannot read " + utf8(path) + ": " + av_error_text(err);

    auto temp = path;
    temp += ".finalizing";
    auto file = WritableFile::create_new(temp);
    if (!file) return "cannot create " + utf8(temp);
    std::string error;
    {
        Muxer out(OutputFile{std::move(file), temp}, Container::mp4_final);
        for (unsigned i = 0; i < input->nb_streams; ++i) {
            const AVStream* s = input->streams[i];
            const auto* title = av_dict_get(s->metadata, "title", nullptr, 0);
            out.add_stream(*s->codecpar, s->time_base, s->avg_frame_rate,
                           title ? title->value : "");
        }
        try {
            out.begin();
            PacketPtr packet(av_packet_alloc());
            while (error.empty() && av_read_frame(input.get(), packet.get()) >= 0) {
                const int stream = packet->stream_index;
                if (!out.write(*packet, stream, input->streams[stream]->time_base))
                    error = out.error();
                av_packet_unref(packet.get());
            }
            if (error.empty() && !out.finish()) error = out.error();
        } catch (const std::exception& e) {
            error = e.what();
        }
    }
    // Windows replaces no file that is open without delete sharing, as FFmpeg opens its input.
    input.reset();
    if (error.empty()) {
        if (auto why = replace_file(temp, path); !why.empty())
            error = fmt::format("cannot replace {}: {}", utf8(path), why);
    }
    std::error_code ignored;
    if (!error.empty()) std::filesystem::remove(temp, ignored);
    return error;
}

}  // namespace rec

// Turns a fragmented MP4 (crash-safe while recording) into a regular one with its index at the
// front (what every player and editor expects). Called by the Segmenter when a segment closes
// cleanly, on the thread that closes it.
#include <fcntl.h>
#include <fmt/format.h>

#include <cstdio>

#include "muxer.hpp"

namespace rec {
namespace {

struct InputFree {
    void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};

}  // namespace

std::string finalize_mp4(const std::filesystem::path& path) {
    AVFormatContext* raw = nullptr;
    if (int err = avformat_open_input(&raw, path.c_str(), nullptr, nullptr); err < 0)
        return "cannot reopen " + path.string() + ": " + av_error_text(err);
    std::unique_ptr<AVFormatContext, InputFree> input(raw);
    if (int err = avformat_find_stream_info(input.get(), nullptr); err < 0)
        return "cannot read " + path.string() + ": " + av_error_text(err);

    const auto temp = std::filesystem::path(path.string() + ".finalizing");
    int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return "cannot create " + temp.string();
    std::string error;
    {
        Muxer out(OutputFile{UniqueFd(fd), temp}, Container::mp4_final);
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
    if (error.empty() && std::rename(temp.c_str(), path.c_str()) != 0)
        error = fmt::format("cannot replace {}: {}", path.string(), std::strerror(errno));
    if (!error.empty()) std::remove(temp.c_str());
    return error;
}

}  // namespace rec

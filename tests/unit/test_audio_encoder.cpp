// daemon/encode/audio_encoder.*: blocks of any size, with any stretch the drift controller may
// ask for, encode without failing (a tiny block with a stretch near its own length once made
// swresample divide by zero and took recd down).
#include <catch2/catch.hpp>
#include <vector>

#include "daemon/encode/audio_encoder.hpp"

TEST_CASE("audio encoder: tiny blocks with large stretches, silence, flush", "[audio]") {
    for (const char* codec : {"aac", "opus"}) {
        INFO(codec);
        rec::AudioEncoder encoder(codec);
        int packets = 0;
        const rec::PacketSink sink = [&](AVPacket&) { return ++packets, true; };
        std::vector<float> block(2 * 960, 0.25f);
        for (int frames : {1, 2, 5, 9, 10, 50, 960}) {
            for (int stretch : {-frames, -9, -1, 1, 9, frames, 2 * frames}) {
                CAPTURE(frames, stretch);
                REQUIRE(encoder.write(block.data(), frames, stretch, sink));
            }
        }
        REQUIRE(encoder.write(nullptr, 48000, 0, sink));  // one second of silence
        REQUIRE(encoder.flush(sink));
        CHECK(packets > 40);
        CHECK(encoder.position() > 48000);
    }
}

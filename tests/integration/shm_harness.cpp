#include "shm_harness.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <thread>

#include "media_read.hpp"
#include "tools/test_card.hpp"

namespace rec::test {

fs::path shm_push_bin() {
    const fs::path path = SHM_PUSH_BIN;
    if (!fs::exists(path)) FAIL(path << " does not exist: build the 'recd-shm-push' target");
    return path;
}

RingName::RingName(const std::string& tag) {
    static int n = 0;
    name_ = "it-" + std::to_string(getpid()) + "-" + tag + "-" + std::to_string(n++);
}

RingName::~RingName() { shm_unlink(("/" + segment().filename().string()).c_str()); }

fs::path RingName::segment() const {
    return fs::path("/dev/shm") / ("recd-" + std::to_string(geteuid()) + "-" + name_);
}

std::unique_ptr<Process> start_producer(Sandbox& box, const RingName& ring,
                                        const std::vector<std::string>& args, bool wait_for_ring) {
    std::vector<std::string> argv = {shm_push_bin().string(), ring.name()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto producer = std::make_unique<Process>(argv, box.env(), box.new_file("push-out"),
                                              box.new_file("push-err"));
    if (!wait_for_ring) return producer;
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (!ring.exists() && std::chrono::steady_clock::now() < until && producer->running())
        std::this_thread::sleep_for(10ms);
    INFO("recd-shm-push said: " << producer->err());
    REQUIRE(ring.exists());
    return producer;
}

Json wait_for_state(Sandbox& box, const std::string& id, const std::string& state,
                    std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    Json last;
    do {
        const CtlResult status = recctl(box, {"status", id});
        if (status.code == 0) last = status.json["session"];
        if (last.is_object() && last.value("state", "") == state) break;
        std::this_thread::sleep_for(100ms);
    } while (std::chrono::steady_clock::now() < until);
    return last;
}

int card_number(const AVFrame& frame) {
    const int side = tools::TestCard::block(static_cast<uint32_t>(frame.width));
    int number = 0;
    for (int i = 0; i < tools::TestCard::bits; ++i) {
        // The mean luma of the block's middle: white blocks are far above 128, black far below.
        const int x0 = tools::TestCard::bit_x(static_cast<uint32_t>(frame.width), i) + side / 4;
        const int y0 = tools::TestCard::bit_y() + side / 4;
        int sum = 0;
        for (int y = y0; y < y0 + side / 2; ++y)
            for (int x = x0; x < x0 + side / 2; ++x)
                sum += frame.data[0][y * frame.linesize[0] + x];
        number = number << 1 | (sum > 128 * (side / 2) * (side / 2) ? 1 : 0);
    }
    return number;
}

std::vector<CardFrame> read_card_frames(const fs::path& file, int fps,
                                        const std::function<void(const AVFrame&)>& on_frame) {
    std::string error;
    auto format = media::open_input(file, error);
    INFO(file << ": " << error);
    REQUIRE(format);
    const int index = av_find_best_stream(format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    REQUIRE(index >= 0);
    const AVRational time_base = format->streams[index]->time_base;
    std::vector<CardFrame> frames;
    int64_t first = AV_NOPTS_VALUE;
    media::StreamDecoder decoder(format.get(), index, [&](const AVFrame& frame) {
        if (first == AV_NOPTS_VALUE) first = frame.pts;
        const double time = media::to_seconds(frame.pts - first, time_base);
        frames.push_back({time, std::llround(time * fps), card_number(frame)});
        if (on_frame) on_frame(frame);
    });
    media::decode_streams(format.get(), {&decoder});
    CHECK(decoder.errors() == 0);
    return frames;
}

std::vector<int> numbers_of(const std::vector<CardFrame>& frames) {
    std::vector<int> numbers;
    for (const auto& f : frames)
        if (numbers.empty() || f.number != numbers.back()) numbers.push_back(f.number);
    return numbers;
}

std::vector<int> session_numbers(const Json& session) {
    return numbers_of(read_card_frames(session.value("file", ""), 30));
}

void check_consecutive(const std::vector<int>& numbers) {
    REQUIRE_FALSE(numbers.empty());
    int gaps = 0;
    for (size_t i = 1; i < numbers.size(); ++i)
        if (numbers[i] != numbers[i - 1] + 1) ++gaps;
    INFO("numbers " << numbers.front() << ".." << numbers.back() << " in " << numbers.size()
                    << " distinct frames");
    CHECK(gaps == 0);
}

std::string error_code(const Json& session) {
    return session.contains("error") ? session["error"].value("code", "") : "";
}

}  // namespace rec::test

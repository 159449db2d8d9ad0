#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "daemon/media/bgrx_to_i420.hpp"

namespace {

struct Rgb {
    double r, g, b;
};

// BT.601 video range from full-range RGB, unrounded: the reference the conversion rounds.
double exact_y(Rgb c) { return 16 + (219.0 / 255) * (0.299 * c.r + 0.587 * c.g + 0.114 * c.b); }
double exact_u(Rgb c) {
    return 128 + (224.0 / 255) * (-0.168736 * c.r - 0.331264 * c.g + 0.5 * c.b);
}
double exact_v(Rgb c) {
    return 128 + (224.0 / 255) * (0.5 * c.r - 0.418688 * c.g - 0.081312 * c.b);
}

struct Picture {
    int width, height;
    std::vector<uint8_t> bgrx;  // 4 bytes a pixel, stride width * 4 + 12 (rows need not touch)
    int stride() const { return width * 4 + 12; }
    Rgb at(int x, int y) const {
        const uint8_t* p = &bgrx[static_cast<size_t>(y * stride() + x * 4)];
        return {static_cast<double>(p[2]), static_cast<double>(p[1]), static_cast<double>(p[0])};
    }
};

Picture random_picture(int width, int height, unsigned seed) {
    Picture p{width, height, {}};
    p.bgrx.resize(static_cast<size_t>(p.stride() * height));
    std::mt19937 rng(seed);
    for (auto& byte : p.bgrx) byte = static_cast<uint8_t>(rng());
    return p;
}

struct Planes {
    int width, height;
    std::vector<uint8_t> y, u, v;
    int chroma_width() const { return (width + 1) / 2; }
    explicit Planes(const Picture& p)
        : width(p.width),
          height(p.height),
          y(static_cast<size_t>(width * height)),
          u(static_cast<size_t>(chroma_width() * ((height + 1) / 2))),
          v(u.size()) {
        uint8_t* dst[] = {y.data(), u.data(), v.data()};
        const int dst_stride[] = {width, chroma_width(), chroma_width()};
        rec::bgrx_to_i420(p.bgrx.data(), p.stride(), dst, dst_stride, width, height);
    }
};

// The mean of the 2x2 block of chroma sample (cx, cy), an edge pixel counting twice.
Rgb block_mean(const Picture& p, int cx, int cy) {
    Rgb sum{0, 0, 0};
    for (int dy = 0; dy < 2; ++dy)
        for (int dx = 0; dx < 2; ++dx) {
            const Rgb c =
                p.at(std::min(2 * cx + dx, p.width - 1), std::min(2 * cy + dy, p.height - 1));
            sum = {sum.r + c.r, sum.g + c.g, sum.b + c.b};
        }
    return {sum.r / 4, sum.g / 4, sum.b / 4};
}

}  // namespace

TEST_CASE(
    "BGRx to I420: every sample within half a step (plus the integer coefficients' slack) "
    "of exact BT.601, with no bias",
    "[convert]") {
    for (auto [w, h] : {std::pair{64, 36}, std::pair{1920, 8}, std::pair{7, 5}, std::pair{1, 1}}) {
        const auto picture = random_picture(w, h, static_cast<unsigned>(w * h));
        const Planes out(picture);
        double worst = 0, bias = 0;
        int n = 0;
        const auto check = [&](double exact, uint8_t got) {
            worst = std::max(worst, std::abs(got - exact));
            bias += got - exact;
            ++n;
        };
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) check(exact_y(picture.at(x, y)), out.y[y * w + x]);
        for (int cy = 0; cy < (h + 1) / 2; ++cy)
            for (int cx = 0; cx < out.chroma_width(); ++cx) {
                const Rgb mean = block_mean(picture, cx, cy);
                check(exact_u(mean), out.u[cy * out.chroma_width() + cx]);
                check(exact_v(mean), out.v[cy * out.chroma_width() + cx]);
            }
        INFO(w << "x" << h << ": worst " << worst << ", mean error " << bias / n);
        CHECK(worst < 0.8);  // half a step, and up to 0.3 for the 8-bit luma coefficients
        if (n >= 100) CHECK(std::abs(bias / n) < 0.1);  // a mean over a few says nothing
    }
}

TEST_CASE("BGRx to I420: flat primaries and greys come out exactly rounded", "[convert]") {
    // The colours a desktop is made of; a one-step error on them is a steady error over whole
    // areas (what ruled out libyuv's conversion, see bgrx_to_i420.cpp).
    for (Rgb c : {Rgb{0, 0, 0}, Rgb{255, 255, 255}, Rgb{255, 0, 0}, Rgb{0, 255, 0}, Rgb{0, 0, 255},
                  Rgb{255, 255, 0}, Rgb{0, 255, 255}, Rgb{255, 0, 255}, Rgb{32, 32, 32}}) {
        Picture p{4, 2, {}};
        p.bgrx.resize(static_cast<size_t>(p.stride() * p.height));
        for (int y = 0; y < 2; ++y)
            for (int x = 0; x < 4; ++x) {
                uint8_t* px = &p.bgrx[static_cast<size_t>(y * p.stride() + x * 4)];
                px[0] = static_cast<uint8_t>(c.b);
                px[1] = static_cast<uint8_t>(c.g);
                px[2] = static_cast<uint8_t>(c.r);
            }
        const Planes out(p);
        INFO("rgb " << c.r << " " << c.g << " " << c.b);
        CHECK(out.u[0] == std::lround(exact_u(c)));
        CHECK(out.v[0] == std::lround(exact_v(c)));
        CHECK(std::abs(out.y[0] - exact_y(c)) < 0.75);
    }
}

TEST_CASE("BGRx to I420: the vector rows give the scalar code's bytes, tails included",
          "[convert]") {
    // Whole 32-pixel steps, steps and a tail (odd width and height), a row shorter than a step.
    for (auto [w, h] : {std::pair{1920, 6}, std::pair{77, 5}, std::pair{37, 3}, std::pair{16, 2}}) {
        const auto picture = random_picture(w, h, 7);
        const Planes fast(picture);
        Planes plain(picture);
        uint8_t* dst[] = {plain.y.data(), plain.u.data(), plain.v.data()};
        const int dst_stride[] = {w, plain.chroma_width(), plain.chroma_width()};
        rec::bgrx_to_i420_scalar(picture.bgrx.data(), picture.stride(), dst, dst_stride, w, h);
        INFO(w << "x" << h);
        CHECK(fast.y == plain.y);
        CHECK(fast.u == plain.u);
        CHECK(fast.v == plain.v);
    }
}

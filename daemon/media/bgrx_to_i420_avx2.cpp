// bgrx_to_i420's rows with AVX2 (this file alone is built with -mavx2; bgrx_to_i420.cpp calls it
// only on a CPU that has AVX2). The arithmetic is the scalar code's, term for term, so both give
// the same bytes; 16 pixels of two rows a step.
#include <immintrin.h>

#include <cstdint>

namespace rec::detail {

namespace {

// 16 pixels (two registers of 8) of one row into 16 luma bytes. pmaddubsw multiplies unsigned
// by signed bytes: the weights (25, 129, 66: 129 needs the unsigned side) against the pixels
// made signed by subtracting 128, which takes 128 x (25 + 129 + 66) = 28160 off every sum and
// keeps it within 16 bits; the bias puts it back with the scalar code's 0x1080.
void luma16(__m256i first, __m256i second, uint8_t* out) {
    const __m256i weights = _mm256_set1_epi32(0x00428119);  // bytes 25, 129, 66, 0
    const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
    const __m256i bias = _mm256_set1_epi16(static_cast<short>(28160 + 0x1080));
    const __m256i a = _mm256_maddubs_epi16(weights, _mm256_xor_si256(first, flip));
    const __m256i b = _mm256_maddubs_epi16(weights, _mm256_xor_si256(second, flip));
    // Per 128-bit lane: pixels 0-3 8-11 | 4-7 12-15; unsigned 16-bit sums, then in order.
    __m256i y = _mm256_srli_epi16(_mm256_add_epi16(_mm256_hadd_epi16(a, b), bias), 8);
    y = _mm256_permute4x64_epi64(y, 0xD8);
    const __m256i bytes = _mm256_permute4x64_epi64(_mm256_packus_epi16(y, y), 0xD8);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(bytes));
}

// 8 pixels as 4 horizontal pairs' channel sums, 16 bits each: B0+B1 G0+G1 R0+R1 x0+x1 ...
__m256i pair_sums(__m256i pixels) {
    const __m256i by_channel =
        _mm256_setr_epi8(0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15, 0, 4, 1, 5, 2, 6, 3,
                         7, 8, 12, 9, 13, 10, 14, 11, 15);
    return _mm256_maddubs_epi16(_mm256_shuffle_epi8(pixels, by_channel), _mm256_set1_epi8(1));
}

// 8 chroma samples from the 2x2 sums of 8 blocks (`low`: blocks 0-1 | 2-3, `high`: 4-5 | 6-7)
// for one set of 16-bit weights (B, G, R, x), stored as bytes.
void chroma8(__m256i low, __m256i high, __m256i weights, uint8_t* out) {
    // pmaddwd leaves B*wb+G*wg and R*wr per block, hadd adds them: blocks 0 1 4 5 | 2 3 6 7.
    __m256i blocks =
        _mm256_hadd_epi32(_mm256_madd_epi16(low, weights), _mm256_madd_epi16(high, weights));
    blocks = _mm256_permutevar8x32_epi32(blocks, _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7));
    blocks =
        _mm256_srai_epi32(_mm256_add_epi32(blocks, _mm256_set1_epi32((128 << 17) + (1 << 16))), 17);
    const __m128i words =
        _mm_packus_epi32(_mm256_castsi256_si128(blocks), _mm256_extracti128_si256(blocks, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_packus_epi16(words, words));
}

}  // namespace

int row_pair_avx2(const uint32_t* above, const uint32_t* below, uint8_t* y_above, uint8_t* y_below,
                  uint8_t* u, uint8_t* v, int width) {
    // Chroma weights in units of 2^-15 (bgrx_to_i420.cpp), in B, G, R, x order.
    const __m256i u_weights = _mm256_setr_epi16(14392, -9535, -4857, 0, 14392, -9535, -4857, 0,
                                                14392, -9535, -4857, 0, 14392, -9535, -4857, 0);
    const __m256i v_weights = _mm256_setr_epi16(-2341, -12051, 14392, 0, -2341, -12051, 14392, 0,
                                                -2341, -12051, 14392, 0, -2341, -12051, 14392, 0);
    const auto load = [](const uint32_t* p) {
        return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    };
    int x = 0;
    for (; x + 16 <= width; x += 16) {
        const __m256i a0 = load(above + x), a1 = load(above + x + 8);
        const __m256i b0 = load(below + x), b1 = load(below + x + 8);
        luma16(a0, a1, y_above + x);
        luma16(b0, b1, y_below + x);
        // The 2x2 sums: at most 1020, within 16 bits.
        const __m256i low = _mm256_add_epi16(pair_sums(a0), pair_sums(b0));
        const __m256i high = _mm256_add_epi16(pair_sums(a1), pair_sums(b1));
        chroma8(low, high, u_weights, u + x / 2);
        chroma8(low, high, v_weights, v + x / 2);
    }
    return x;
}

}  // namespace rec::detail

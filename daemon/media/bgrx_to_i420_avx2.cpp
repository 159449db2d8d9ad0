// bgrx_to_i420's rows with AVX2 (this file alone is built with -mavx2; bgrx_to_i420.cpp calls it
// only on a CPU that has AVX2). The arithmetic is the scalar code's, term for term, so both give
// the same bytes; 32 pixels of two rows a step.
//
// The shuffles (one execution port on most x86 cores) are what bound this loop, so there are
// few: each register is loaded as two halves 8 pixels apart (pixels 0-3 | 8-11, 4-7 | 12-15),
// which puts the 2x2 blocks and the luma words in order by lane without moving them across
// lanes; one permute a row orders the luma bytes and one the chroma bytes. A 1080p frame not in
// the cache (as a fresh MIT-SHM picture): 0.59-0.72 ms, against 0.76-0.85 ms with 16 pixels a
// step and a permute per 8 luma or chroma bytes.
#include <immintrin.h>

#include <cstdint>

namespace rec::detail {

namespace {

// Pixels p..p+3 in the low lane, p+8..p+11 in the high one.
__m256i load_split(const uint32_t* p) {
    const __m128i low = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i high = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 8));
    return _mm256_inserti128_si256(_mm256_castsi128_si256(low), high, 1);
}

// Asks for the cache line `ahead` pixels after `p` (an address only: past the picture's end it
// does nothing, as a prefetch never faults).
void prefetch(const uint32_t* p, int ahead) {
    const auto address = reinterpret_cast<uintptr_t>(p) + sizeof(uint32_t) * ahead;
    _mm_prefetch(reinterpret_cast<const char*>(address), _MM_HINT_T0);
}

// One row's 32 pixels as load_split gives them (r[0]: 0-3 | 8-11, r[1]: 4-7 | 12-15, r[2] and
// r[3] the same 16 further on), loaded.
struct Row {
    __m256i r[4];
    explicit Row(const uint32_t* p)
        : r{load_split(p), load_split(p + 4), load_split(p + 16), load_split(p + 20)} {}
};

// The unbiased luma sums of 8 pixels as 32-bit words. pmaddubsw multiplies unsigned by signed
// bytes: the weights (25, 129, 66: 129 needs the unsigned side) against the pixels made signed
// by subtracting 128, which takes 128 x (25 + 129 + 66) = 28160 off every sum and keeps it
// within 16 bits; pmaddwd adds each pixel's two products.
__m256i luma_sums(__m256i pixels) {
    const __m256i weights = _mm256_set1_epi32(0x00428119);  // bytes 25, 129, 66, 0
    const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
    const __m256i products = _mm256_maddubs_epi16(weights, _mm256_xor_si256(pixels, flip));
    return _mm256_madd_epi16(products, _mm256_set1_epi16(1));
}

// 16 luma words from two registers' sums (pixels 0-7 | 8-15 in order): the bias puts the 28160
// back with the scalar code's 0x1080, as unsigned 16-bit.
__m256i luma16(__m256i first, __m256i second) {
    const __m256i bias = _mm256_set1_epi16(static_cast<short>(28160 + 0x1080));
    const __m256i sums = _mm256_packs_epi32(luma_sums(first), luma_sums(second));
    return _mm256_srli_epi16(_mm256_add_epi16(sums, bias), 8);
}

void luma32(const Row& row, uint8_t* out) {
    // Bytes 0-7 16-23 | 8-15 24-31: one permute of 64-bit quarters puts them in order.
    const __m256i bytes =
        _mm256_packus_epi16(luma16(row.r[0], row.r[1]), luma16(row.r[2], row.r[3]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_permute4x64_epi64(bytes, 0xD8));
}

// A register's 8 pixels as 4 horizontal pairs' channel sums, 16 bits each: B0+B1 G0+G1 R0+R1
// x0+x1 ...
__m256i pair_sums(__m256i pixels) {
    const __m256i by_channel =
        _mm256_setr_epi8(0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15, 0, 4, 1, 5, 2, 6, 3,
                         7, 8, 12, 9, 13, 10, 14, 11, 15);
    return _mm256_maddubs_epi16(_mm256_shuffle_epi8(pixels, by_channel), _mm256_set1_epi8(1));
}

// 8 chroma values, 32 bits each, of one set of 16-bit weights (B, G, R, x) from the 2x2 sums of
// blocks 0-1 | 4-5 (`first`) and 2-3 | 6-7 (`second`): pmaddwd leaves B*wb+G*wg and R*wr per
// block, phaddd adds them, in block order 0-3 | 4-7.
__m256i chroma8(__m256i first, __m256i second, __m256i weights) {
    const __m256i blocks =
        _mm256_hadd_epi32(_mm256_madd_epi16(first, weights), _mm256_madd_epi16(second, weights));
    return _mm256_srai_epi32(_mm256_add_epi32(blocks, _mm256_set1_epi32((128 << 17) + (1 << 16))),
                             17);
}

// 16 chroma words (blocks 0-3 8-11 | 4-7 12-15) from the 2x2 sums s[0..3].
__m256i chroma16(const __m256i s[4], __m256i weights) {
    return _mm256_packs_epi32(chroma8(s[0], s[1], weights), chroma8(s[2], s[3], weights));
}

}  // namespace

int row_pair_avx2(const uint32_t* above, const uint32_t* below, uint8_t* y_above, uint8_t* y_below,
                  uint8_t* u, uint8_t* v, int width) {
    // Chroma weights in units of 2^-15 (bgrx_to_i420.cpp), in B, G, R, x order.
    const __m256i u_weights = _mm256_setr_epi16(14392, -9535, -4857, 0, 14392, -9535, -4857, 0,
                                                14392, -9535, -4857, 0, 14392, -9535, -4857, 0);
    const __m256i v_weights = _mm256_setr_epi16(-2341, -12051, 14392, 0, -2341, -12051, 14392, 0,
                                                -2341, -12051, 14392, 0, -2341, -12051, 14392, 0);
    // The picture is not in the cache (the X server has just written it, and it comes from
    // memory): asked for this many pixels (1 KB) ahead of where it is read, it arrives while the
    // pixels before it are converted. Inside recd at 1080p30: 0.61 ms a frame against 0.66
    // without, 0.63 with 512 pixels ahead (each the mean of 8 medians of 300 frames, the three
    // alternated).
    constexpr int prefetch_ahead = 256;
    int x = 0;
    for (; x + 32 <= width; x += 32) {
        for (int k = 0; k < 32; k += 16) {  // a 64-byte cache line is 16 pixels
            prefetch(above + x, prefetch_ahead + k);
            prefetch(below + x, prefetch_ahead + k);
        }
        const Row a(above + x), b(below + x);
        luma32(a, y_above + x);
        luma32(b, y_below + x);
        // The 2x2 sums (at most 1020, within 16 bits): blocks 0-1 | 4-5, 2-3 | 6-7, then the
        // same 8 further on.
        __m256i s[4];
        for (int i = 0; i < 4; ++i) s[i] = _mm256_add_epi16(pair_sums(a.r[i]), pair_sums(b.r[i]));
        // U 0-3 8-11 V 0-3 8-11 | U 4-7 12-15 V 4-7 12-15 as bytes: one permute of 32-bit words
        // makes it U 0-15 | V 0-15.
        const __m256i bytes = _mm256_permutevar8x32_epi32(
            _mm256_packus_epi16(chroma16(s, u_weights), chroma16(s, v_weights)),
            _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(u + x / 2), _mm256_castsi256_si128(bytes));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(v + x / 2), _mm256_extracti128_si256(bytes, 1));
    }
    return x;
}

}  // namespace rec::detail

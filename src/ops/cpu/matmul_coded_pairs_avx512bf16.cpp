// AVX512-BF16 matmul tile for bf16 weights in coded pair panels (Bf16Codes in ops.h: 12 bits a value). Each unit's
// 96 bytes decode in registers to the two pair vectors the plain layout stores (pairs 2u and 2u+1 of 16 rows), and
// each lane then runs the same chain of vdpbf16ps as in the plain tile (matmul_pairs_avx512bf16.cpp): one k pair
// after the other in increasing order, from zero. So a product over coded panels has the plain panels' bits, for
// any M, column range or thread; only 3/4 of the bytes stream.
//
// Decoding a unit: the 64 low bytes are loaded as they are; the 64 codes, a nibble each, index the row quad's
// table (vpshufb: one 16-entry table per 128-bit lane, lane L = rows 4L .. 4L+3) for the high bytes, which an
// escaped unit instead loads from the escapes (a branch that is rarely taken); unpacking the bytes pairs them.
// Fewer than kDecodeOnceRows x rows decode as the panel streams; with more, the first kDecodeOnceRows rows run as
// each (panel, block of 1024 values) decodes, which also stores it into a 128 KB slice (in L2) that every further
// block of x rows then reads.
#include <immintrin.h>

#include <algorithm>

#include "ops/cpu/kernels.h"
#include "ops/cpu/matmul_blocking_avx512.h"
#include "ops/cpu/simd_avx512bf16.h"

namespace fathom::avx512bf16 {

namespace {

constexpr int64_t kP = kPairPanelRows;   // columns per panel: 4 groups of 16
constexpr int64_t kUnitBytes = 96;       // a group's unit: 4 values of 16 rows
constexpr int64_t kStepBytes = 4 * kUnitBytes;
constexpr int64_t kBlockUnits = 256;     // units per decoded slice (1024 values; 128 KB, in L2)
constexpr int64_t kDecodeOnceRows = 4;   // from this many x rows on, decode each (panel, block) once
constexpr int64_t kPfBytes = 4096;       // prefetch distance along the panels

// One group of 16 rows as it streams: its table, its next escaped unit and that unit's high bytes.
struct CodedGroup {
  __m512i table;
  const int32_t* next;
  const uint8_t* escape;

  CodedGroup() = default;
  CodedGroup(const Bf16Codes& c, int64_t G)
      : table(_mm512_loadu_si512(c.tables + G * 64)), next(c.escaped + c.first[G] + G),
        escape(c.escapes + c.first[G] * 64) {}

  // Unit u at p → w0 (pair 2u of the 16 rows), w1 (pair 2u + 1), the plain layout's vectors. Units are decoded in
  // increasing order (the escape list is walked as they pass).
  inline void decode(const uint8_t* p, int64_t u, __m512i& w0, __m512i& w1) {
    const __m512i lo = _mm512_loadu_si512(p);
    __m512i n = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 64)));
    n = _mm512_mask_srli_epi16(n, 0xffff0000u, n, 4);  // positions 32 .. 63: the high nibbles
    n = _mm512_and_si512(n, _mm512_set1_epi8(0x0f));
    __m512i hi = _mm512_shuffle_epi8(table, n);
    if (__builtin_expect(u == *next, 0)) {  // about 2% of units on normal-like weights
      hi = _mm512_loadu_si512(escape);
      escape += 64;
      ++next;
    }
    w0 = _mm512_unpacklo_epi8(lo, hi);
    w1 = _mm512_unpackhi_epi8(lo, hi);
  }
};

// Groups [g.g0, g.g1) of panel q, ready to stream from unit 0.
void start_groups(const WeightView& w, int64_t q, const PanelGroups& g, CodedGroup* out) {
  const int64_t G0 = (w.row0 - w.codes->row0) / 16 + 4 * q;
  for (int64_t j = g.g0; j < g.g1; ++j) out[j - g.g0] = CodedGroup(*w.codes, G0 + j);
}

// The running sums of MR x rows × NZ column groups, held in y (row stride ldy, columns masked per group) between
// blocks: zero at the first block.
template <int MR, int NZ>
inline void load_sums(__m512 (&acc)[MR][NZ], bool first, const float* y, int64_t ldy, const __mmask16* msk) {
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 4
    for (int j = 0; j < NZ; ++j)
      acc[m][j] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(msk[j], y + m * ldy + j * 16);
}
template <int MR, int NZ>
inline void store_sums(const __m512 (&acc)[MR][NZ], float* y, int64_t ldy, const __mmask16* msk) {
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 4
    for (int j = 0; j < NZ; ++j) _mm512_mask_storeu_ps(y + m * ldy + j * 16, msk[j], acc[m][j]);
}

// x rows xr[0 .. MR) (k pairs) × NZ groups of one panel (w: the first group's bytes of unit 0), decoding units
// [u0, u1) as they stream; the sums start at zero (first) or continue from y (the first group's column of row 0).
// kStore: each decoded pair vector is also stored into the slice s (the first group's column at the block's first
// pair; pair p is kP further) for the x blocks that follow.
template <int MR, int NZ, bool kStore>  // not inlined: one copy per block shape
__attribute__((noinline)) void micro_inline(const uint32_t* const* xr, const uint8_t* w, int64_t u0, int64_t u1,
                                            CodedGroup* groups, bool first, float* y, int64_t ldy,
                                            const __mmask16* msk, uint32_t* s) {
  CodedGroup gr[NZ];
#pragma GCC unroll 4
  for (int j = 0; j < NZ; ++j) gr[j] = groups[j];
  __m512 acc[MR][NZ];
  load_sums(acc, first, y, ldy, msk);
  for (int64_t u = u0; u < u1; ++u) {
    const uint8_t* p = w + u * kStepBytes;
    __m512i w0[NZ], w1[NZ];
#pragma GCC unroll 6
    for (int l = 0; l < (NZ * kUnitBytes + 63) / 64; ++l)
      _mm_prefetch(reinterpret_cast<const char*>(p + 64 * l + kPfBytes), _MM_HINT_T0);
#pragma GCC unroll 4
    for (int j = 0; j < NZ; ++j) {
      gr[j].decode(p + j * kUnitBytes, u, w0[j], w1[j]);
      if constexpr (kStore) {
        _mm512_store_si512(s + 16 * j, w0[j]);
        _mm512_store_si512(s + kP + 16 * j, w1[j]);
      }
    }
    if constexpr (kStore) s += 2 * kP;
    add_two_pairs(acc, xr, 2 * u, w0, w1);
  }
  store_sums(acc, y, ldy, msk);
#pragma GCC unroll 4
  for (int j = 0; j < NZ; ++j) groups[j] = gr[j];
}

// x rows xr[0 .. MR) (k pairs, from the block's first pair) × NZ groups of a decoded slice (s: the first group's
// column at the block's first pair; pair p is kP further), n_pairs pairs, continuing the sums in y (or from zero).
// Each step also fetches two lines of the next block's stream into L2 ([*ahead, end), advancing *ahead), so that
// streaming it overlaps this block's arithmetic instead of taking turns with it (small lm_head, 4 alternating
// runs: M = 16 7.0–7.3 ms with it against 8.2–8.8 without, M = 32 11.2–11.4 against 12.8–13.1).
template <int MR, int NZ>
__attribute__((noinline)) void micro_decoded(const uint32_t* const* xr, const uint32_t* s, int64_t n_pairs,
                                             bool first, float* y, int64_t ldy, const __mmask16* msk,
                                             const char** ahead, const char* end) {
  const char* a = *ahead;
  const int64_t fetch_steps = std::min(n_pairs, (end - a + 127) / 128);
  __m512 acc[MR][NZ];
  load_sums(acc, first, y, ldy, msk);
  add_pairs(acc, xr, s, kP, 0, n_pairs, [&](int64_t p) {
    if (p < fetch_steps) {
      _mm_prefetch(a, _MM_HINT_T1);
      _mm_prefetch(a + 64, _MM_HINT_T1);
      a += 128;
    }
  });
  store_sums(acc, y, ldy, msk);
  *ahead = a;
}

// Panel q, columns [q kP + c0, q kP + c1): its groups, its bytes and where its first group's column lies in y.
struct CodedPanel {
  PanelGroups g;
  int64_t n_units;
  const uint8_t* bytes;
  float* y;
  CodedPanel(const WeightView& w, int64_t q, int64_t c0, int64_t c1, float* y_all)
      : g(c0, c1), n_units(w.cols / 4), bytes(static_cast<const uint8_t*>(w.data) + q * n_units * kStepBytes),
        y(y_all + q * kP + 16 * g.g0) {}
};

// Panel q (columns [q kP + c0, q kP + c1)), fewer than kDecodeOnceRows x rows, decoding inline.
void panel_inline(const uint16_t* xb, int64_t ldxb, int64_t M, const WeightView& w, int64_t q, int64_t c0,
                  int64_t c1, float* y, int64_t ldy) {
  const CodedPanel P(w, q, c0, c1, y);
  const PanelGroups& g = P.g;
  CodedGroup groups[4];
  with_groups(g.n(), [&]<int NZ>() {
    avx512::for_each_x_block<false>(M, [&]<int MR>(int64_t m) {
      const uint32_t* xr[MR];
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) xr[i] = reinterpret_cast<const uint32_t*>(xb + (m + i) * ldxb);
      start_groups(w, q, g, groups);  // each x block streams the panel from its start
      micro_inline<MR, NZ, false>(xr, P.bytes + kUnitBytes * g.g0, 0, P.n_units, groups, true, P.y + m * ldy, ldy,
                                  g.msk, nullptr);
    });
  });
}

// Panel q, block by block: the first kDecodeOnceRows x rows run as the block's units decode, which also fills the
// slice; then every further block of x rows reads the slice.
void panel_decoded(const uint16_t* xb, int64_t ldxb, int64_t M, const WeightView& w, int64_t q, int64_t c0,
                   int64_t c1, float* y, int64_t ldy) {
  const CodedPanel P(w, q, c0, c1, y);
  const PanelGroups& g = P.g;
  const int64_t n_units = P.n_units;
  CodedGroup groups[4];
  start_groups(w, q, g, groups);
  alignas(64) uint32_t slice[2 * kBlockUnits * kP];  // [pair of the block][column of the panel], 128 KB
  for (int64_t u0 = 0; u0 < n_units; u0 += kBlockUnits) {
    const int64_t u1 = std::min(n_units, u0 + kBlockUnits);
    const int64_t n_pairs = 2 * (u1 - u0);
    // The stream's next block (in this panel or the next: panels follow each other) is fetched while this one's
    // products from the slice run.
    const char* ahead = reinterpret_cast<const char*>(P.bytes + u1 * kStepBytes);
    const char* ahead_end = ahead + (u1 - u0) * kStepBytes;
    with_groups(g.n(), [&]<int NZ>() {
      constexpr int MR = kDecodeOnceRows;
      const uint32_t* xr[MR];
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) xr[i] = reinterpret_cast<const uint32_t*>(xb + i * ldxb);
      micro_inline<MR, NZ, true>(xr, P.bytes + kUnitBytes * g.g0, u0, u1, groups, u0 == 0, P.y, ldy, g.msk,
                                 slice + 16 * g.g0);
      avx512::for_each_x_block<true>(M - MR, [&]<int NR>(int64_t m0) {
        const int64_t m = m0 + MR;
        const uint32_t* xs[NR];
#pragma GCC unroll 8
        for (int i = 0; i < NR; ++i) xs[i] = reinterpret_cast<const uint32_t*>(xb + (m + i) * ldxb) + 2 * u0;
        micro_decoded<NR, NZ>(xs, slice + 16 * g.g0, n_pairs, u0 == 0, P.y + m * ldy, ldy, g.msk, &ahead,
                              ahead_end);
      });
    });
  }
}

}  // namespace

void matmul_coded_pairs_tile(const uint16_t* xb, int64_t ldxb, int64_t M, const WeightView& w, int64_t n0,
                             int64_t n1, float* y, int64_t ldy) {
  for_each_panel(n0, n1, [&](int64_t q, int64_t c0, int64_t c1) {
    if (M >= kDecodeOnceRows) panel_decoded(xb, ldxb, M, w, q, c0, c1, y, ldy);
    else panel_inline(xb, ldxb, M, w, q, c0, c1, y, ldy);
  });
}

}  // namespace fathom::avx512bf16

// Scalar conversions between the checkpoint formats and f32 (bf16, f16, float8 e4m3fn).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace fathom {

inline float bf16_to_f32(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Round to nearest even on the top 16 bits; NaN stays a quiet NaN.
inline uint16_t f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1u, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
  float v;
  if (exp == 0) {
    v = std::ldexp(static_cast<float>(man), -24);
  } else if (exp == 31) {
    v = man ? NAN : INFINITY;
  } else {
    v = std::ldexp(static_cast<float>(man | 0x400u), static_cast<int>(exp) - 25);
  }
  return sign ? -v : v;
}

// float8 e4m3fn: no infinities, 0x7f/0xff are NaN, max finite 448.
inline float e4m3_to_f32(uint8_t b) {
  const int s = b >> 7, e = (b >> 3) & 15, m = b & 7;
  float v;
  if (e == 15 && m == 7) {
    v = NAN;
  } else if (e == 0) {
    v = std::ldexp(static_cast<float>(m), -9);
  } else {
    v = std::ldexp(1.0f + m / 8.0f, e - 7);
  }
  return s ? -v : v;
}

// The 256-entry decode table used by the kernels (built once, constant after).
struct E4M3Table {
  float v[256];
  E4M3Table() {
    for (int i = 0; i < 256; ++i) v[i] = e4m3_to_f32(static_cast<uint8_t>(i));
  }
};
inline const E4M3Table& e4m3_table() {
  static const E4M3Table t;
  return t;
}

// f32 → e4m3fn, round to nearest even, saturating to ±448 (used by the fp8 checkpoint writer).
inline uint8_t f32_to_e4m3(float f) {
  if (std::isnan(f)) return 0x7f;
  const uint8_t sign = std::signbit(f) ? 0x80 : 0;
  float a = std::fabs(f);
  if (a >= 448.0f) return sign | 0x7e;
  // Search the 127 non-negative finite codes for the nearest (ties to even code).
  const E4M3Table& t = e4m3_table();
  int lo = 0, hi = 0x7e;
  while (lo < hi) {  // first code with value >= a
    int mid = (lo + hi) / 2;
    if (t.v[mid] < a) lo = mid + 1; else hi = mid;
  }
  if (lo == 0) return sign;
  const float up = t.v[lo], down = t.v[lo - 1];
  int code;
  if (a - down < up - a) code = lo - 1;
  else if (up - a < a - down) code = lo;
  else code = ((lo - 1) % 2 == 0) ? lo - 1 : lo;
  return sign | static_cast<uint8_t>(code);
}

}  // namespace fathom

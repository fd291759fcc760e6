// The writer of coded bf16 pair panels (layout: Bf16Codes in ops.h). Portable C++: it runs once, at load.
//
// A bf16 value is s | e (8 bits) | m (7 bits); its low byte (e's last bit and m) is kept as it is. The high byte is
// s and e >> 1, and within the 4 rows that share a table e >> 1 takes few values: the table holds the high byte for
// e >> 1 = 0 (zero, subnormals and e = 1) and for the 7 values up to the rows' largest, each with either sign. A
// value below those (under the rows' largest by 2^13 or more: for normal-like weights about 3 in 10,000) sends its
// unit of 64 to the escapes, where its high bytes are kept whole.
#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <vector>

#include "core/check.h"
#include "ops/ops.h"

namespace fathom {

namespace {

constexpr int64_t kGroupRows = 16, kUnitValues = 64, kUnitBytes = 96;
constexpr int kCodedLevels = 7;  // e >> 1 values a table reaches besides 0

int64_t align64(int64_t n) { return (n + 63) / 64 * 64; }

// Row c (of 16) and value t (of 4) at position i of a unit: the inverse of i = 16 (c/4) + 8 (t/2) + 2 (c%4) + t%2.
constexpr auto kRowOf = [] {
  std::array<int, 64> r{};
  for (int i = 0; i < 64; ++i) r[i] = 4 * (i / 16) + (i % 8) / 2;
  return r;
}();
constexpr auto kValueOf = [] {
  std::array<int, 64> t{};
  for (int i = 0; i < 64; ++i) t[i] = 2 * ((i % 16) / 8) + i % 2;
  return t;
}();

// One group of 16 rows (row-major, K values each): each row quad's base (e >> 1 for code 1, less one), which units
// escape, and the codes of the others.
class GroupCoder {
 public:
  GroupCoder(const uint16_t* rows, int64_t K) : rows_(rows), K_(K), escaped_(K / 4, 0) {
    for (int q = 0; q < 4; ++q) {
      int top = 0;
      for (int64_t k = 0; k < 4 * K; ++k) top = std::max(top, (rows[4 * q * K + k] >> 8) & 0x7f);
      base_[q] = std::max(0, top - kCodedLevels);
    }
    for (int64_t c = 0; c < kGroupRows; ++c) {  // branch-free: a value escapes unless eh is 0 or in the table
      const uint16_t* row = rows + c * K;
      const unsigned b = static_cast<unsigned>(base_[c / 4]) + 1;
      for (int64_t u = 0; u < K / 4; ++u) {
        unsigned bad = 0;
        for (int t = 0; t < 4; ++t) {
          const unsigned eh = (row[4 * u + t] >> 8) & 0x7f;
          bad |= static_cast<unsigned>(eh != 0) & static_cast<unsigned>(eh - b >= kCodedLevels);
        }
        escaped_[u] |= static_cast<uint8_t>(bad);
      }
    }
  }
  // The code of value v at position i of a unit that does not escape.
  int code(int i, uint16_t v) const {
    const int eh = (v >> 8) & 0x7f;
    return (v >> 15) << 3 | (eh ? eh - base_[i / 16] : 0);
  }
  bool escaped(int64_t u) const { return escaped_[u] != 0; }
  int64_t n_escaped() const { return std::count(escaped_.begin(), escaped_.end(), 1); }
  void table(uint8_t* out) const {  // [4 row quads][16 codes]
    for (int q = 0; q < 4; ++q)
      for (int code = 0; code < 16; ++code) {
        const int level = code & 7;
        out[16 * q + code] = static_cast<uint8_t>((code & 8) << 4 | (level ? base_[q] + level : 0));
      }
  }
  // Unit u's bytes: stream[u · step] for the low bytes and codes; high bytes of escaped unit u at escapes[slot[u]].
  void write(uint8_t* stream, int64_t step, uint8_t* escapes, const int64_t* slot) const {
    for (int64_t u = 0; u < K_ / 4; ++u) {
      uint8_t* unit = stream + u * step;
      uint16_t v[kUnitValues];
      for (int i = 0; i < kUnitValues; ++i) v[i] = rows_[kRowOf[i] * K_ + 4 * u + kValueOf[i]];
      for (int i = 0; i < kUnitValues; ++i) unit[i] = static_cast<uint8_t>(v[i] & 0xff);
      if (escaped_[u]) {
        for (int i = 0; i < kUnitValues; ++i) escapes[slot[u] * kUnitValues + i] = static_cast<uint8_t>(v[i] >> 8);
        std::memset(unit + kUnitValues, 0, kUnitBytes - kUnitValues);
        continue;
      }
      for (int i = 0; i < 32; ++i)
        unit[kUnitValues + i] = static_cast<uint8_t>(code(i, v[i]) | code(32 + i, v[32 + i]) << 4);
    }
  }

 private:
  const uint16_t* rows_;
  int64_t K_;
  int base_[4];
  std::vector<uint8_t> escaped_;  // per unit
};

struct Parts {  // where each part of the coded layout lies, from the start of dst
  int64_t groups, units, header, tables, first, escaped, escapes;
  Parts(const WeightView& w, int64_t n_escaped)
      : groups(w.rows / kGroupRows), units(w.cols / 4), header(align64(w.rows * w.cols / 2 * 3)) {
    tables = header + align64(sizeof(Bf16Codes));
    first = tables + groups * 64;
    escaped = first + (groups + 1) * 8;
    escapes = align64(escaped + (n_escaped + groups) * 4);
  }
  int64_t bytes(int64_t n_escaped) const { return escapes + n_escaped * kUnitValues; }
};

const uint16_t* group_rows(const WeightView& w, int64_t G) {
  return reinterpret_cast<const uint16_t*>(w.row_bytes(G * kGroupRows));
}

std::vector<GroupCoder> group_coders(const WeightView& w) {
  std::vector<GroupCoder> coders;
  coders.reserve(w.rows / kGroupRows);
  for (int64_t G = 0; G < w.rows / kGroupRows; ++G) coders.emplace_back(group_rows(w, G), w.cols);
  return coders;
}

int64_t count_escaped(const std::vector<GroupCoder>& coders) {
  int64_t n = 0;
  for (const GroupCoder& c : coders) n += c.n_escaped();
  return n;
}

void check_codable(const WeightView& w) {  // can_pack_panels: rows of whole panels, cols a multiple of 32
  FATHOM_CHECK(w.dtype == DType::BF16 && can_pack_panels(w));
}

}  // namespace

int64_t coded_panels_bytes(const WeightView& w) {
  check_codable(w);
  const int64_t n_escaped = count_escaped(group_coders(w));
  return Parts(w, n_escaped).bytes(n_escaped);
}

WeightView pack_coded_panels(const WeightView& w, void* dst) {
  check_codable(w);
  FATHOM_CHECK(reinterpret_cast<uintptr_t>(dst) % 64 == 0);
  const std::vector<GroupCoder> coders = group_coders(w);
  const int64_t n_escaped = count_escaped(coders);
  const Parts p(w, n_escaped);
  uint8_t* base = static_cast<uint8_t*>(dst);
  auto* codes = new (base + p.header) Bf16Codes;
  uint8_t* tables = base + p.tables;
  auto* first = reinterpret_cast<int64_t*>(base + p.first);
  auto* escaped = reinterpret_cast<int32_t*>(base + p.escaped);
  uint8_t* escapes = base + p.escapes;
  std::vector<int64_t> slot(p.units);
  int64_t e = 0;
  for (int64_t G = 0; G < p.groups; ++G) {
    const GroupCoder& coder = coders[G];
    coder.table(tables + G * 64);
    first[G] = e;
    for (int64_t u = 0; u < p.units; ++u) {
      if (!coder.escaped(u)) continue;
      slot[u] = e;
      escaped[G + e++] = static_cast<int32_t>(u);
    }
    escaped[G + e] = std::numeric_limits<int32_t>::max();
    coder.write(base + ((G / 4) * p.units * 4 + G % 4) * kUnitBytes, 4 * kUnitBytes, escapes, slot.data());
  }
  FATHOM_CHECK(e == n_escaped);
  first[p.groups] = e;
  *codes = Bf16Codes{w.row0, tables, first, escaped, escapes};
  WeightView v = w;
  v.data = dst;
  v.panel = kPairPanelRows;
  v.codes = codes;
  return v;
}

}  // namespace fathom

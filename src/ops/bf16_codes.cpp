// The writer of coded bf16 pair panels (layout: Bf16Codes in ops.h). Portable C++: it runs once, at load.
//
// A bf16 value is s | e (8 bits) | m (7 bits); its low byte (e's last bit and m) is kept as it is. The high byte is
// s and e >> 1, and within the 4 rows that share a table e >> 1 takes few values: the table holds the high byte for
// e >> 1 = 0 (zero, subnormals and e = 1) and for the 7 values up to the rows' largest, each with either sign. A
// value below those (under the rows' largest by 2^13 or more: for normal-like weights about 3 in 10,000) sends its
// unit of 64 to the escapes, where its high bytes are kept whole.
#include <algorithm>
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

// Position of row c's value t in a unit: 16 (c / 4) + 8 (t / 2) + 2 (c % 4) + t % 2.
int position(int64_t c, int64_t t) { return static_cast<int>(16 * (c / 4) + 8 * (t / 2) + 2 * (c % 4) + t % 2); }

// One group of 16 rows (row-major, K values each): each row quad's base (e >> 1 for code 1, less one), the code of
// each value (-1 where none reaches it) and which units escape.
class GroupCoder {
 public:
  GroupCoder(const uint16_t* rows, int64_t K) : rows_(rows), K_(K), escaped_(K / 4, 0) {
    for (int q = 0; q < 4; ++q) {
      int top = 0;
      for (int64_t k = 0; k < 4 * K; ++k) top = std::max(top, (rows[4 * q * K + k] >> 8) & 0x7f);
      base_[q] = std::max(0, top - kCodedLevels);
    }
    for (int64_t c = 0; c < kGroupRows; ++c)
      for (int64_t k = 0; k < K; ++k) escaped_[k / 4] |= code(c, rows[c * K + k]) < 0;
  }
  int code(int64_t c, uint16_t v) const {
    const int eh = (v >> 8) & 0x7f, sign = v >> 15;
    if (eh == 0) return sign << 3;
    const int level = eh - base_[c / 4];
    return level >= 1 && level <= kCodedLevels ? sign << 3 | level : -1;
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
    for (int64_t u = 0; u < K_ / 4; ++u) std::memset(stream + u * step + kUnitValues, 0, kUnitBytes - kUnitValues);
    for (int64_t c = 0; c < kGroupRows; ++c)
      for (int64_t k = 0; k < K_; ++k) {
        const uint16_t v = rows_[c * K_ + k];
        const int64_t u = k / 4;
        const int i = position(c, k % 4);
        uint8_t* unit = stream + u * step;
        unit[i] = static_cast<uint8_t>(v & 0xff);
        if (escaped_[u]) {
          escapes[slot[u] * kUnitValues + i] = static_cast<uint8_t>(v >> 8);
        } else {
          const int cd = code(c, v);
          unit[kUnitValues + i % 32] |= static_cast<uint8_t>(i < 32 ? cd : cd << 4);
        }
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

int64_t count_escaped(const WeightView& w) {
  int64_t n = 0;
  for (int64_t G = 0; G < w.rows / kGroupRows; ++G) n += GroupCoder(group_rows(w, G), w.cols).n_escaped();
  return n;
}

void check_codable(const WeightView& w) {
  FATHOM_CHECK(w.dtype == DType::BF16 && can_pack_panels(w));
  FATHOM_CHECK(w.cols % 4 == 0);
}

}  // namespace

int64_t coded_panels_bytes(const WeightView& w) {
  check_codable(w);
  const int64_t n_escaped = count_escaped(w);
  return Parts(w, n_escaped).bytes(n_escaped);
}

WeightView pack_coded_panels(const WeightView& w, void* dst) {
  check_codable(w);
  FATHOM_CHECK(reinterpret_cast<uintptr_t>(dst) % 64 == 0);
  const int64_t n_escaped = count_escaped(w);
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
    const GroupCoder coder(group_rows(w, G), w.cols);
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

// Fixed-capacity open-addressing map from a page's chained hash to its page id (prefix caching). Sized once for
// the whole pool, so inserting and erasing never allocate. Hash 0 is reserved for "empty".
#pragma once
#include <cstdint>
#include <vector>

namespace fathom {

class PrefixIndex {
 public:
  explicit PrefixIndex(int64_t max_entries);
  int32_t find(uint64_t hash) const;            // page id or -1
  bool insert(uint64_t hash, int32_t block);    // false when the hash is already present
  void erase(uint64_t hash);                    // no-op when absent
  int64_t size() const { return size_; }

 private:
  struct Slot {
    uint64_t hash = 0;
    int32_t block = -1;
  };
  std::vector<Slot> slots_;  // [capacity], capacity a power of two >= 2 * max_entries
  uint64_t mask_ = 0;
  int64_t size_ = 0;
};

}  // namespace fathom

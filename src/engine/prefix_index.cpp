#include "engine/prefix_index.h"

#include "core/check.h"

namespace fathom {

PrefixIndex::PrefixIndex(int64_t max_entries) {
  uint64_t cap = 16;
  while (cap < static_cast<uint64_t>(2 * max_entries)) cap <<= 1;
  slots_.resize(cap);
  mask_ = cap - 1;
}

int32_t PrefixIndex::find(uint64_t hash) const {
  FATHOM_CHECK(hash != 0);
  for (uint64_t i = hash & mask_;; i = (i + 1) & mask_) {
    if (slots_[i].hash == hash) return slots_[i].block;
    if (slots_[i].hash == 0) return -1;
  }
}

bool PrefixIndex::insert(uint64_t hash, int32_t block) {
  FATHOM_CHECK(hash != 0);
  FATHOM_CHECK(static_cast<uint64_t>(2 * (size_ + 1)) <= slots_.size());
  uint64_t i = hash & mask_;
  for (; slots_[i].hash != 0; i = (i + 1) & mask_)
    if (slots_[i].hash == hash) return false;
  slots_[i] = Slot{hash, block};
  ++size_;
  return true;
}

// Linear probing with backward-shift deletion: later entries of the probe run move up so lookups never need
// tombstones.
void PrefixIndex::erase(uint64_t hash) {
  uint64_t i = hash & mask_;
  for (; slots_[i].hash != hash; i = (i + 1) & mask_)
    if (slots_[i].hash == 0) return;
  --size_;
  for (uint64_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
    if (slots_[j].hash == 0) break;
    const uint64_t home = slots_[j].hash & mask_;
    // Move slot j into the hole at i unless its home lies cyclically in (i, j].
    const bool home_in_between = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
    if (!home_in_between) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = Slot{};
}

}  // namespace fathom

// Anonymous memory for large, read-mostly data (model weights), asked to be backed by 2 MiB pages (transparent
// huge pages via madvise). Streaming gigabytes through 4 KiB pages costs a TLB miss every 4 KiB (model_forward_bench:
// small-preset decode from huge pages against small_mmap, from the file mapping).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/status.h"

namespace fathom {

class HugeBuffer {
 public:
  // bytes > 0. The start is 2 MiB-aligned; pages are committed as they are first written.
  static Expected<std::unique_ptr<HugeBuffer>> allocate(size_t bytes);
  ~HugeBuffer();
  HugeBuffer(const HugeBuffer&) = delete;
  HugeBuffer& operator=(const HugeBuffer&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool huge_pages_requested() const { return huge_; }  // false where the kernel refused madvise(MADV_HUGEPAGE)

 private:
  HugeBuffer() = default;
  void* raw_ = nullptr;  // the whole mapping (data_ is its first 2 MiB boundary)
  size_t raw_len_ = 0;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool huge_ = false;
};

}  // namespace fathom

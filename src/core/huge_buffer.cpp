#include "core/huge_buffer.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace fathom {

namespace {
constexpr size_t kHugePage = size_t{2} << 20;
}

Expected<std::unique_ptr<HugeBuffer>> HugeBuffer::allocate(size_t bytes) {
  if (bytes == 0) return Status::error("HugeBuffer: zero bytes");
  const size_t len = (bytes + kHugePage - 1) / kHugePage * kHugePage + kHugePage;  // room to align the start
  void* raw = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED)
    return Status::error("cannot reserve " + std::to_string(bytes >> 20) + " MiB of memory: " + std::strerror(errno));
  std::unique_ptr<HugeBuffer> b(new HugeBuffer());
  b->raw_ = raw;
  b->raw_len_ = len;
  const uintptr_t start = (reinterpret_cast<uintptr_t>(raw) + kHugePage - 1) / kHugePage * kHugePage;
  b->data_ = reinterpret_cast<uint8_t*>(start);
  b->size_ = bytes;
  b->huge_ = madvise(b->data_, (bytes + kHugePage - 1) / kHugePage * kHugePage, MADV_HUGEPAGE) == 0;
  return b;
}

HugeBuffer::~HugeBuffer() {
  if (raw_) munmap(raw_, raw_len_);
}

}  // namespace fathom

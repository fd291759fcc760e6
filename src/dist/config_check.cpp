#include "dist/config_check.h"

#include <cstdint>
#include <vector>

#include "core/file_io.h"

namespace fathom {

Status check_same_config(Comm& comm, const std::string& config_path) {
  auto text = read_text_file(config_path);
  uint64_t h = 0;  // 0: unreadable
  if (text) {
    h = 0xcbf29ce484222325ull;
    for (unsigned char ch : *text) h = (h ^ ch) * 0x100000001b3ull;
    h |= 1;
  }
  std::vector<uint64_t> all(comm.size());
  comm.allgather(&h, sizeof h, all.data());
  for (int r = 0; r < comm.size(); ++r) {
    if (all[r] == 0) return Status::error("rank " + std::to_string(r) + " cannot read " + config_path);
    if (all[r] != all[0])
      return Status::error("rank " + std::to_string(r) + " has a different " + config_path + " than rank 0");
  }
  return Status::ok();
}

}  // namespace fathom

// libFuzzer target: chat-template parsing and rendering. Build and run with build.sh (clang, ASan + UBSan).
#include "fuzz_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fathom::fuzz::run_one(data, size);
  return 0;
}

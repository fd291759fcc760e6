#include "ops/cpu/isa.h"

#include <cstdlib>
#include <cstring>

namespace fathom {

Isa detected_isa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
    // The bf16 kernels decode e4m3 with 128-entry byte tables (vpermi2b), hence VBMI as well.
    if (__builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512vbmi")) return Isa::AVX512_BF16;
    return Isa::AVX512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::AVX2;
  return Isa::SCALAR;
}

static Isa from_env(Isa detected) {
  const char* e = std::getenv("FATHOM_ISA");
  if (!e) return detected;
  Isa want = detected;
  if (!std::strcmp(e, "scalar")) want = Isa::SCALAR;
  else if (!std::strcmp(e, "avx2")) want = Isa::AVX2;
  else if (!std::strcmp(e, "avx512")) want = Isa::AVX512;
  else if (!std::strcmp(e, "avx512bf16")) want = Isa::AVX512_BF16;
  return static_cast<int>(want) < static_cast<int>(detected) ? want : detected;
}

Isa active_isa() {
  static const Isa isa = from_env(detected_isa());
  return isa;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::SCALAR: return "scalar";
    case Isa::AVX2: return "avx2";
    case Isa::AVX512: return "avx512";
    case Isa::AVX512_BF16: return "avx512bf16";
  }
  return "?";
}

}  // namespace fathom

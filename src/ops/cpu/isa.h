// Run-time ISA selection. FATHOM_ISA=scalar|avx2|avx512|avx512bf16 forces a level no higher than the machine has,
// so every path can be tested on one machine.
#pragma once

namespace fathom {

enum class Isa { SCALAR = 0, AVX2 = 1, AVX512 = 2, AVX512_BF16 = 3 };

Isa detected_isa();  // what this CPU supports
Isa active_isa();    // min(detected, FATHOM_ISA), decided once
const char* isa_name(Isa isa);

}  // namespace fathom

// Causal attention of one head of one sequence, for the CPU passes (model/gpt2_cpu.cpp): Tq new
// rows (queries q, keys kn, values vn) over Tp cached rows (kp, vp) and themselves; new row i
// sees keys 0 … Tp+i. out = softmax(scale · q·kᵀ) · v, in fp32 for both precisions.
//
//  * With a past (the prompt pass: Tp > 0, Tq = P): three OpenBLAS GEMMs over the full Tq×Tk
//    score matrix, softmax in between.
//  * Without (the text pass), kernel tier avx512 or avx2 (model/kernel_tier.hpp), head_dim ≤ 64:
//    query blocks of 64 rows; Kᵀ and V packed once per call; the scores of each 8-row tile are
//    computed only up to the 48-key panel that holds its last row, softmax, then P·V over keys
//    0 … (tile's last row) with the register-tile kernels (fp32_tile.hpp, fp32_tile_avx2.hpp) —
//    about half the work of the full square, for long texts. A row's result is one fixed chain
//    of operations whatever the tiles around it. Portable tier: the same 64-row blocks with
//    OpenBLAS.
// Both are tested against the plain reference (tests/unit/test_gpt2_cpu.cpp).
#pragma once

#include <cstddef>

#include "core/matrix.hpp"

namespace promptlens {

// Floats of scratch one `attend` call needs.
size_t attention_scratch_floats(size_t Tp, size_t Tq, size_t head_dim);

// q, kn, vn: Tq×hd; kp, vp: Tp×hd (Tp may be 0); out: Tq×hd; scratch: attention_scratch_floats.
void attend(ConstMatView q, ConstMatView kp, ConstMatView vp, ConstMatView kn, ConstMatView vn,
            float scale, float* scratch, MatView out);

}  // namespace promptlens

// The losses a soft prompt is trained with. Each takes a batch of outputs Z (B×D: one row per
// text, the last position's hidden state or its logits) with the rows' class indices, and returns
// the loss and dLoss/dZ. All in double; formulas (S = same-label pairs i<j, D = different-label
// pairs i<j, |S| and |D| their counts; a term with no pairs is 0):
//
//  token        mean_i −log softmax(Z_i)[target_i]. On label-token logits (D = K classes) the
//               target is the class; on the full vocabulary (D = V) the class's label token id —
//               the golden data's cross-entropy.
//  cosine       mean_S (1 − cos_ij) + mean_D max(0, cos_ij − margin): torch's
//               CosineEmbeddingLoss over every pair of the batch (margin 0 by default).
//  distance     mean_S d_ij + mean_D max(0, margin − d_ij), d_ij = ‖Z_i − Z_j‖₂ (the hinge form
//               of Hadsell et al. 2006); margin in the units of Z.
//  contrastive  supervised contrastive (Khosla et al. 2020) on u_i = Z_i/‖Z_i‖:
//               mean over anchors i with a positive of −1/|P(i)| Σ_{p∈P(i)} log
//               (exp(u_i·u_p/τ) / Σ_{a≠i} exp(u_i·u_a/τ)), P(i) = same-label rows ≠ i. Every other
//               row is a negative, so moving the classes together raises the loss: it cannot
//               collapse the way the pair losses can when one term dominates.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/matrix.hpp"

namespace promptlens::train {

enum class LossKind { token, cosine, distance, contrastive };

LossKind parse_loss_kind(const std::string& name);  // "token" | "cosine" | ... (Error otherwise)
const char* loss_kind_name(LossKind kind);

struct LossOptions {
    LossKind kind = LossKind::token;
    double margin = 0.0;       // cosine: 0 = CosineEmbeddingLoss's default; distance: must be > 0
    double temperature = 0.1;  // contrastive τ (Khosla et al. use 0.1)
};

struct LossValue {
    double value = 0;
    MatrixD grad;  // B×D, dLoss/dZ
};

// targets: per row, the column of Z that is right (token) or the class index (the pair losses).
LossValue compute_loss(const LossOptions& options, const MatrixD& z,
                       std::span<const int32_t> targets);

}  // namespace promptlens::train

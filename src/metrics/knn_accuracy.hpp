// How well the classes can be read off a space: k-nearest-neighbour classification accuracy
// under stratified k-fold cross-validation, exactly scikit-learn 1.2.1's
//   cross_val_score(KNeighborsClassifier(n_neighbors=k), x, y, cv=StratifiedKFold(folds))
// — folds without shuffling, assigned as StratifiedKFold does (classes in order of first
// appearance, per-fold quotas from a round robin over the sorted codes, each class's rows given
// to folds in row order); a uniform majority vote whose ties go to the smallest label value.
// Neighbour ties at equal distance go to the lower row index (sklearn's order there depends on
// its tree/brute backend; see the tests' tolerance).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/matrix.hpp"
#include "core/progress.hpp"

namespace promptlens {

struct KnnAccuracy {
    double mean = 0;               // mean of per_fold (cross_val_score(...).mean())
    std::vector<double> per_fold;  // accuracy on each test fold, fold order
    size_t k = 10, folds = 5;
    // Members of the rarest class. Below `folds` some test folds lack that class: sklearn only
    // warns there, and so do we (the score is still computed); callers may report it.
    size_t smallest_class = 0;
};

// x is N×d, labels has N entries (any int32 values). Needs folds ≥ 2, N ≥ folds, some class with
// at least `folds` members (sklearn's error), and k ≤ rows in every training split.
KnnAccuracy knn_cv_accuracy(ConstMatView x, std::span<const int32_t> labels, size_t k = 10,
                            size_t folds = 5, int threads = 1,
                            const ProgressCallback& progress = {});  // counts folds

// StratifiedKFold(folds).split test-fold id of every row (shuffle=False).
std::vector<int32_t> stratified_test_folds(std::span<const int32_t> labels, size_t folds);

}  // namespace promptlens

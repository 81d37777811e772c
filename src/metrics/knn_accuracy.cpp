#include "metrics/knn_accuracy.hpp"

#include <algorithm>
#include <limits>

#include "core/error.hpp"
#include "metrics/distances.hpp"
#include "metrics/neighbors.hpp"

namespace promptlens {
namespace {

// Codes in order of first appearance (StratifiedKFold's encoding).
std::vector<int32_t> codes_by_appearance(std::span<const int32_t> labels, size_t& n_classes) {
    std::vector<std::pair<int32_t, int32_t>> seen;  // (value, code), sorted by value
    std::vector<int32_t> code(labels.size());
    for (size_t i = 0; i < labels.size(); ++i) {
        auto it = std::lower_bound(seen.begin(), seen.end(), labels[i],
                                   [](const auto& p, int32_t v) { return p.first < v; });
        if (it == seen.end() || it->first != labels[i])
            it = seen.insert(it, {labels[i], static_cast<int32_t>(seen.size())});
        code[i] = it->second;
    }
    n_classes = seen.size();
    return code;
}

}  // namespace

std::vector<int32_t> stratified_test_folds(std::span<const int32_t> labels, size_t folds) {
    const size_t n = labels.size();
    require(folds >= 2, "StratifiedKFold: needs at least 2 folds, got {}", folds);
    require(folds <= n, "StratifiedKFold: {} folds but only {} rows; need folds <= rows", folds, n);
    size_t n_classes = 0;
    const std::vector<int32_t> code = codes_by_appearance(labels, n_classes);
    std::vector<size_t> count(n_classes, 0);
    for (int32_t c : code) ++count[static_cast<size_t>(c)];
    const size_t largest = *std::max_element(count.begin(), count.end());
    require(largest >= folds,
            "StratifiedKFold: {} folds cannot be greater than the number of members in each "
            "class (largest class has {})",
            folds, largest);
    // allocation[f][c]: members of class c in test fold f = how many of the positions of class c
    // in the sorted codes fall on fold f of a round robin (position p → fold p mod folds).
    std::vector<size_t> allocation(folds * n_classes, 0);
    size_t p = 0;
    for (size_t c = 0; c < n_classes; ++c)
        for (size_t i = 0; i < count[c]; ++i, ++p) ++allocation[(p % folds) * n_classes + c];
    // Each class's rows, in row order, take folds 0, 1, ... in blocks of their allocation.
    std::vector<size_t> fold_of_next(n_classes, 0), used(n_classes, 0);
    std::vector<int32_t> fold(n);
    for (size_t i = 0; i < n; ++i) {
        const size_t c = static_cast<size_t>(code[i]);
        while (used[c] == allocation[fold_of_next[c] * n_classes + c]) {
            ++fold_of_next[c];
            used[c] = 0;
        }
        fold[i] = static_cast<int32_t>(fold_of_next[c]);
        ++used[c];
    }
    return fold;
}

KnnAccuracy knn_cv_accuracy(ConstMatView x, std::span<const int32_t> labels, size_t k, size_t folds,
                            int threads, const ProgressCallback& progress) {
    const size_t n = x.rows();
    require(labels.size() == n, "knn accuracy: {} labels for {} rows; need one per row",
            labels.size(), n);
    require(k >= 1, "knn accuracy: k must be at least 1, got 0");
    require(n > k, "knn accuracy: {} rows but k = {}; need more rows than neighbours", n, k);
    require_finite(x, "knn accuracy");
    const std::vector<int32_t> fold = stratified_test_folds(labels, folds);

    KnnAccuracy result;
    result.k = k;
    result.folds = folds;
    {
        size_t n_classes = 0;
        const auto code = codes_by_appearance(labels, n_classes);
        std::vector<size_t> count(n_classes, 0);
        for (int32_t c : code) ++count[static_cast<size_t>(c)];
        result.smallest_class = *std::min_element(count.begin(), count.end());
    }
    // Votes are counted per label value; a tie goes to the smallest value (scipy.stats.mode on
    // the sorted classes_ encoding, as KNeighborsClassifier.predict does).
    std::vector<int32_t> values(labels.begin(), labels.end());
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    auto value_code = [&](int32_t v) {
        return static_cast<size_t>(std::lower_bound(values.begin(), values.end(), v) -
                                   values.begin());
    };

    for (size_t f = 0; f < folds; ++f) {
        std::vector<size_t> train, test;
        for (size_t i = 0; i < n; ++i)
            (static_cast<size_t>(fold[i]) == f ? test : train).push_back(i);
        require(k <= train.size(),
                "knn accuracy: fold {} leaves {} training rows for k = {}; need k <= training rows",
                f, train.size(), k);
        Matrix xtrain(train.size(), x.cols()), xtest(test.size(), x.cols());
        for (size_t i = 0; i < train.size(); ++i)
            std::copy_n(x.row(train[i]).data(), x.cols(), xtrain.row(i).data());
        for (size_t i = 0; i < test.size(); ++i)
            std::copy_n(x.row(test[i]).data(), x.cols(), xtest.row(i).data());
        const ExactNeighbors index(xtrain);
        const Neighbors nb = index.search(xtest, k, {}, threads);
        std::vector<size_t> votes(values.size());
        size_t correct = 0;
        for (size_t q = 0; q < test.size(); ++q) {
            std::fill(votes.begin(), votes.end(), 0);
            for (int32_t j : nb.of(q)) ++votes[value_code(labels[train[static_cast<size_t>(j)]])];
            const size_t predicted = static_cast<size_t>(
                std::max_element(votes.begin(), votes.end()) - votes.begin());  // first max
            if (predicted == value_code(labels[test[q]])) ++correct;
        }
        result.per_fold.push_back(static_cast<double>(correct) / static_cast<double>(test.size()));
        if (progress) progress(f + 1, folds);
    }
    double sum = 0;
    for (double a : result.per_fold) sum += a;
    result.mean = sum / static_cast<double>(folds);
    return result;
}

}  // namespace promptlens

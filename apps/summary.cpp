#include "apps/summary.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/progress.hpp"
#include "metrics/trustworthiness.hpp"

namespace promptlens::cli {

ClusterSummary summarize_clusters(const Labels& labels, std::span<const int32_t> clusters,
                                  size_t n_clusters) {
    ClusterSummary s;
    s.classes = labels.classes;
    s.table = contingency(clusters, n_clusters, labels.codes, labels.n_classes());
    s.purity = purity_table(s.table);
    s.majority_accuracy = majority_accuracy(s.table);
    Matching m = matched_accuracy(s.table);
    s.matched_accuracy = m.accuracy;
    s.class_of_cluster = m.class_of_cluster;
    s.ari = adjusted_rand_index(s.table);
    s.nmi = normalized_mutual_info(s.table);
    return s;
}

std::string format_text(const ClusterSummary& s) {
    // One column per label, as wide as its name; the last column names the majority label.
    std::vector<size_t> width;
    for (const auto& c : s.classes) width.push_back(std::max<size_t>(7, c.size() + 2));
    std::string out = fmt::format("{:<9}{:>8}", "cluster", "rows");
    for (size_t c = 0; c < s.classes.size(); ++c)
        out += fmt::format("{:>{}}", s.classes[c], width[c]);
    out += "   majority\n";
    for (size_t k = 0; k < s.table.clusters; ++k) {
        int64_t size = 0;
        size_t best = 0;
        for (size_t c = 0; c < s.table.classes; ++c) {
            size += s.table.at(k, c);
            if (s.table.at(k, c) > s.table.at(k, best)) best = c;
        }
        out += fmt::format("{:<9}{:>8}", k, size);
        for (size_t c = 0; c < s.table.classes; ++c) {
            out += fmt::format("{:>{}.3f}", s.purity(k, c), width[c]);
        }
        out += size > 0 ? fmt::format("   {}\n", s.classes[best]) : "   (empty)\n";
    }
    out += fmt::format(
        "majority-label accuracy {:.4f}   matched accuracy {:.4f}   ARI {:.4f}   NMI {:.4f}\n",
        s.majority_accuracy, s.matched_accuracy, s.ari, s.nmi);
    return out;
}

std::string format_csv(const ClusterSummary& s) {
    std::string out = "cluster,rows";
    for (const auto& c : s.classes) out += "," + c;
    for (const auto& c : s.classes) out += ",count_" + c;
    out += "\n";
    for (size_t k = 0; k < s.table.clusters; ++k) {
        int64_t size = 0;
        for (size_t c = 0; c < s.table.classes; ++c) size += s.table.at(k, c);
        out += fmt::format("{},{}", k, size);
        for (size_t c = 0; c < s.table.classes; ++c) out += fmt::format(",{:.6f}", s.purity(k, c));
        for (size_t c = 0; c < s.table.classes; ++c) out += fmt::format(",{}", s.table.at(k, c));
        out += "\n";
    }
    return out;
}

nlohmann::ordered_json to_json(const ClusterSummary& s) {
    nlohmann::ordered_json j;
    j["classes"] = s.classes;
    auto& rows = j["clusters"] = nlohmann::ordered_json::array();
    for (size_t k = 0; k < s.table.clusters; ++k) {
        nlohmann::ordered_json r;
        r["cluster"] = k;
        std::vector<int64_t> counts;
        std::vector<double> purity;
        for (size_t c = 0; c < s.table.classes; ++c) {
            counts.push_back(s.table.at(k, c));
            purity.push_back(s.purity(k, c));
        }
        r["counts"] = counts;
        r["purity"] = purity;
        int32_t m = k < s.class_of_cluster.size() ? s.class_of_cluster[k] : -1;
        r["matched_label"] = m >= 0 ? nlohmann::ordered_json(s.classes[static_cast<size_t>(m)])
                                    : nlohmann::ordered_json(nullptr);
        rows.push_back(r);
    }
    j["majority_accuracy"] = s.majority_accuracy;
    j["matched_accuracy"] = s.matched_accuracy;
    j["adjusted_rand_index"] = s.ari;
    j["normalized_mutual_info"] = s.nmi;
    return j;
}

EmbeddingSummary summarize_embedding(ConstMatView coords, const Labels& labels,
                                     ConstMatView features, const EmbeddingOptions& o) {
    EmbeddingSummary s;
    {
        Progress p("k-NN accuracy", o.folds, "folds");
        s.knn = knn_cv_accuracy(coords, labels.codes, o.knn_k, o.folds, o.threads, p.callback());
        p.finish();
    }
    s.silhouette = silhouette_score(coords, labels.codes, o.silhouette_samples, o.seed, o.threads);
    if (features.rows() > 0) {
        const size_t queries =
            o.trust_samples == 0 ? coords.rows() : std::min(o.trust_samples, coords.rows());
        Progress p("trustworthiness", queries, "rows");
        s.trustworthiness = trustworthiness(features, coords, o.trust_k, o.trust_samples, o.seed,
                                            o.threads, p.callback());
        p.finish();
        if (o.knn_in_features) {
            Progress fp("k-NN accuracy in the original space", o.folds, "folds");
            s.knn_features =
                knn_cv_accuracy(features, labels.codes, o.knn_k, o.folds, o.threads, fp.callback());
            fp.finish();
        }
    }
    return s;
}

namespace {
std::string sample_note(const SampledScore& s) {
    return s.sampled ? fmt::format(" (sample of {} rows)", s.sample_size) : "";
}
}  // namespace

std::string format_text(const EmbeddingSummary& s) {
    std::string out =
        fmt::format("{}-NN accuracy ({}-fold CV)   {:.4f}\n", s.knn.k, s.knn.folds, s.knn.mean);
    if (s.knn_features) {
        out += fmt::format("  in the original space     {:.4f}\n", s.knn_features->mean);
    }
    out += fmt::format("silhouette of the labels    {:.4f}{}\n", s.silhouette.value,
                       sample_note(s.silhouette));
    if (s.trustworthiness) {
        out += fmt::format("trustworthiness             {:.4f}{}\n", s.trustworthiness->value,
                           sample_note(*s.trustworthiness));
    }
    return out;
}

nlohmann::ordered_json to_json(const EmbeddingSummary& s) {
    nlohmann::ordered_json j;
    j["knn_accuracy"] = {
        {"k", s.knn.k}, {"folds", s.knn.folds}, {"mean", s.knn.mean}, {"per_fold", s.knn.per_fold}};
    if (s.knn_features) j["knn_accuracy_original_space"] = s.knn_features->mean;
    j["silhouette"] = {{"value", s.silhouette.value},
                       {"sample_size", s.silhouette.sample_size},
                       {"sampled", s.silhouette.sampled}};
    if (s.trustworthiness) {
        j["trustworthiness"] = {{"value", s.trustworthiness->value},
                                {"sample_size", s.trustworthiness->sample_size},
                                {"sampled", s.trustworthiness->sampled}};
    }
    return j;
}

}  // namespace promptlens::cli

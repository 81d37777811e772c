// `promptlens demo`: the seed notebook's analysis grid on a real labelled dataset that Debian
// ships (Fashion-MNIST, package dataset-fashion-mnist): raw and StandardScaler-scaled features,
// PCA to 2-D with its separation metrics, KMeans with as many clusters as classes (purity table)
// and KMeans with 2 clusters (the distances the seed plots). Every result is written under --out.
// It stands in for the full study (extract → reduce → report) until the language-model half lands.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "apps/commands.hpp"
#include "apps/common.hpp"
#include "apps/summary.hpp"
#include "cluster/kmeans.hpp"
#include "core/error.hpp"
#include "core/npy.hpp"
#include "data/idx.hpp"
#include "reduce/pca.hpp"
#include "reduce/scaler.hpp"

namespace promptlens::cli {
namespace {
namespace fs = std::filesystem;

struct DemoOptions {
    std::string out = "out/demo";
    std::string data = "/usr/share/datasets/fashion-mnist";
    std::string split = "t10k";
    size_t rows = 0;  // 0 = all rows of the split
    uint64_t seed = 0;
    int threads = 0;
};

const char* const kFashionClasses[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                       "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

struct Timer {
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    double seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
};

void run_demo(const DemoOptions& o) {
    const fs::path images = fs::path(o.data) / (o.split + "-images-idx3-ubyte.gz");
    const fs::path label_file = fs::path(o.data) / (o.split + "-labels-idx1-ubyte.gz");
    require(fs::exists(images),
            "{}: not found; the demo needs Debian's dataset-fashion-mnist "
            "(make demo installs it) or --data DIR with the IDX files",
            images.string());
    Timer total;
    Matrix all = read_idx_images(images);
    std::vector<int32_t> ids = read_idx_labels(label_file);
    require(ids.size() == all.rows(), "{} has {} labels for {} images", label_file.string(),
            ids.size(), all.rows());
    const size_t n = o.rows == 0 ? all.rows() : std::min(o.rows, all.rows());
    Matrix x = to_matrix(all.row_range(0, n));
    std::vector<std::string> names;
    std::string label_text;
    for (size_t i = 0; i < n; ++i) {
        require(ids[i] >= 0 && ids[i] < 10, "{}: label {} of row {} is not 0..9",
                label_file.string(), ids[i], i);
        names.emplace_back(kFashionClasses[ids[i]]);
        label_text += names.back() + "\n";
    }
    Labels labels = make_labels(names);
    const fs::path out = o.out;
    save_text((out / "labels.txt").string(), label_text);
    fmt::print("promptlens demo: Fashion-MNIST {} split, {} x {} pixels, {} classes\n", o.split,
               x.rows(), x.cols(), labels.n_classes());
    fmt::print(
        "(the seed notebook's grid: raw and scaled features; PCA-2, KMeans with {} and 2 "
        "clusters; results under {})\n\n",
        labels.n_classes(), out.string());

    nlohmann::ordered_json summary;
    summary["dataset"] = {{"name", "Fashion-MNIST"},
                          {"split", o.split},
                          {"rows", x.rows()},
                          {"cols", x.cols()},
                          {"classes", labels.classes}};
    std::string overview =
        fmt::format("{:<8}{:>12}{:>12}{:>12}{:>19}{:>10}{:>10}\n", "", "PCA-2 10-NN", "silhouette",
                    "trust", "KMeans-10 matched", "NMI", "seconds");
    for (bool scaled : {false, true}) {
        Timer t;
        const std::string tag = scaled ? "scaled" : "raw";
        const fs::path dir = out / tag;
        Matrix features = x;
        if (scaled) StandardScaler::fit(features, o.threads).transform_inplace(features, o.threads);

        PcaOptions p;
        p.components = 2;
        p.seed = o.seed;
        p.threads = o.threads;
        PcaModel pca;
        Matrix coords = pca_fit_transform(features, p, &pca);
        write_npy(dir / "pca2.npy", coords);
        EmbeddingOptions e;
        e.seed = o.seed;
        e.threads = o.threads;
        e.silhouette_samples = 0;  // 10,000 rows in 2-D: exact is cheap
        e.knn_in_features = true;
        EmbeddingSummary emb = summarize_embedding(coords, labels, features, e);

        KMeansOptions k;
        k.clusters = labels.n_classes();
        k.seed = o.seed;
        k.threads = o.threads;
        KMeansResult km = kmeans_fit(features, k);
        ClusterSummary cs = summarize_clusters(labels, km.labels, k.clusters);
        save_text((dir / "kmeans10.csv").string(), format_csv(cs));

        KMeansOptions k2 = k;
        k2.clusters = 2;
        KMeansResult km2 = kmeans_fit(features, k2);
        write_npy(dir / "kmeans2_distances.npy",
                  kmeans_transform(km2.centers, features, o.threads));
        ClusterSummary cs2 = summarize_clusters(labels, km2.labels, 2);

        fmt::print("== {} features: PCA-2 (explained variance {:.3f} + {:.3f})\n", tag,
                   pca.explained_variance_ratio[0], pca.explained_variance_ratio[1]);
        fmt::print("{}\n", format_text(emb));
        fmt::print("== {} features: KMeans k={} (inertia {:.6g}), purity per cluster\n{}\n", tag,
                   k.clusters, km.inertia, format_text(cs));
        double secs = t.seconds();
        overview += fmt::format("{:<8}{:>12.4f}{:>12.4f}{:>12.4f}{:>19.4f}{:>10.4f}{:>10.2f}\n",
                                tag, emb.knn.mean, emb.silhouette.value, emb.trustworthiness->value,
                                cs.matched_accuracy, cs.nmi, secs);
        auto& s = summary[tag];
        s["pca2"] = to_json(emb);
        s["pca2"]["explained_variance_ratio"] = pca.explained_variance_ratio;
        s["kmeans10"] = to_json(cs);
        s["kmeans10"]["inertia"] = km.inertia;
        s["kmeans2"] = to_json(cs2);
        s["seconds"] = secs;
    }
    fmt::print("== summary ({} rows; k-NN accuracy is 5-fold cross-validated)\n{}", x.rows(),
               overview);
    summary["seconds"] = total.seconds();
    save_text((out / "summary.json").string(), summary.dump(2) + "\n");
    fmt::print(
        "\nwrote {}/summary.json, labels.txt and raw|scaled/{{pca2.npy, "
        "kmeans2_distances.npy, kmeans10.csv}} in {:.1f}s\n",
        out.string(), total.seconds());
}

}  // namespace

void setup_demo(CLI::App& app) {
    auto o = std::make_shared<DemoOptions>();
    auto* sub = app.add_subcommand(
        "demo",
        "Run the seed notebook's analysis grid (raw/scaled x PCA/KMeans, purity tables, "
        "separation metrics) on Fashion-MNIST");
    sub->add_option("--out", o->out, "Output directory")->capture_default_str();
    sub->add_option("--data", o->data, "Folder with the Fashion-MNIST IDX files (.gz)")
        ->capture_default_str();
    sub->add_option("--split", o->split, "t10k (10,000 rows) or train (60,000 rows)")
        ->capture_default_str()
        ->check(CLI::IsMember({"t10k", "train"}));
    sub->add_option("--rows", o->rows, "Use only the first N rows (0 = all)")
        ->capture_default_str();
    add_seed_option(sub, o->seed);
    add_threads_option(sub, o->threads);
    sub->callback([o] { run_demo(*o); });
}

}  // namespace promptlens::cli

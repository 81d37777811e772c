// `promptlens plot`: 2-D embeddings → a scatter figure coloured by label (one panel per embedding,
// one shared legend, each panel's 10-NN accuracy in its corner), or with --heatmap a cluster ×
// label heatmap of a KMeans assignment. PNG, SVG or PDF by the output's extension.
#include <fmt/format.h>

#include <deque>

#include "apps/commands.hpp"
#include "apps/common.hpp"
#include "core/error.hpp"
#include "core/labels.hpp"
#include "metrics/contingency.hpp"
#include "metrics/knn_accuracy.hpp"
#include "plot/heatmap.hpp"
#include "plot/scatter.hpp"

namespace promptlens::cli {
namespace {

struct PlotOptions {
    std::vector<std::string> panels;  // FILE or FILE=TITLE
    std::string labels, out, title, heatmap;
    std::string x_label = "dimension 1", y_label = "dimension 2";
    size_t columns = 0;
    bool no_metric = false;
    uint64_t seed = 0;
    int threads = 0;
};

void run_heatmap(const PlotOptions& o) {
    const Labels clusters = read_labels(o.heatmap);
    const Labels labels = load_labels(o.labels, clusters.codes.size(), o.heatmap);
    const Contingency t =
        contingency(clusters.codes, clusters.n_classes(), labels.codes, labels.n_classes());
    plot::Heatmap h;
    h.title = o.title.empty() ? fmt::format("{} clusters x {} labels: majority accuracy {:.4f}",
                                            t.clusters, t.classes, majority_accuracy(t))
                              : o.title;
    for (size_t c = 0; c < t.clusters; ++c) {
        h.counts.emplace_back();
        for (size_t l = 0; l < t.classes; ++l) h.counts.back().push_back(t.at(c, l));
    }
    h.row_names = clusters.classes;
    h.col_names = labels.classes;
    plot::write_heatmap(o.out, h);
    fmt::print("wrote {} ({} clusters x {} labels)\n", o.out, t.clusters, t.classes);
}

void run_plot(const PlotOptions& o) {
    check_output_paths({o.out});
    if (!o.heatmap.empty()) {
        require(o.panels.empty(),
                "plot: --heatmap draws a table, not --embedding panels; "
                "give one or the other");
        run_heatmap(o);
        return;
    }
    require(!o.panels.empty(),
            "plot: nothing to draw; give --embedding FILE (repeatable) or "
            "--heatmap CLUSTERS");
    std::deque<Matrix> data;  // stable addresses: panels keep views into these
    std::vector<plot::ScatterPanel> panels;
    Labels labels;
    for (const std::string& spec : o.panels) {
        const size_t eq = spec.find('=');
        const std::string path = spec.substr(0, eq);
        const std::string title = eq == std::string::npos ? path : spec.substr(eq + 1);
        data.push_back(load_features(path, false, o.threads));
        const Matrix& y = data.back();
        require(y.cols() >= 2, "{}: a scatter plot needs at least 2 columns, got {}", path,
                y.cols());
        if (panels.empty()) labels = load_labels(o.labels, y.rows(), path);
        require(y.rows() == labels.codes.size(), "{}: {} rows but {} has {} labels", path, y.rows(),
                o.labels, labels.codes.size());
        plot::ScatterPanel p;
        p.xy = y.view();
        p.codes = labels.codes;
        p.title = title;
        p.subtitle = fmt::format("{} points", y.rows());
        p.x_label = o.x_label;
        p.y_label = o.y_label;
        if (!o.no_metric && labels.n_classes() > 1) {
            const ConstMatView xy2(y.data(), y.rows(), 2, y.cols());  // the plotted columns
            const KnnAccuracy acc = knn_cv_accuracy(xy2, labels.codes, 10, 5, o.threads);
            p.note = fmt::format("10-NN accuracy {:.3f}", acc.mean);
        }
        panels.push_back(p);
    }
    std::vector<plot::LegendEntry> legend;
    std::vector<size_t> counts(labels.n_classes(), 0);
    for (int32_t c : labels.codes) ++counts[static_cast<size_t>(c)];
    for (size_t c = 0; c < labels.n_classes(); ++c)
        legend.push_back({labels.classes[c], counts[c]});
    plot::FigureOptions fo;
    fo.title = o.title;
    fo.columns = o.columns;
    fo.seed = o.seed;
    plot::write_scatter_figure(o.out, panels, legend, fo);
    fmt::print("wrote {} ({} panel{}, {} labels)\n", o.out, panels.size(),
               panels.size() == 1 ? "" : "s", labels.n_classes());
}

}  // namespace

void setup_plot(CLI::App& app) {
    auto o = std::make_shared<PlotOptions>();
    auto* sub = app.add_subcommand(
        "plot",
        "Draw 2-D embeddings as scatter plots coloured by label (PNG, SVG or PDF), one panel per "
        "--embedding with a shared legend; or a cluster x label heatmap with --heatmap");
    sub->add_option("--embedding", o->panels,
                    "N x 2 embedding (.npy/.csv/.tsv), optionally FILE=TITLE; repeat for a grid");
    sub->add_option("--labels", o->labels, "One label per row (text file)")->required();
    sub->add_option("--out", o->out, "Output figure: .png (2x pixels), .svg or .pdf")->required();
    sub->add_option("--heatmap", o->heatmap,
                    "Cluster assignments (one per row, as `cluster --assignments` writes): draw "
                    "the cluster x label table as a heatmap instead");
    sub->add_option("--title", o->title, "Figure title");
    sub->add_option("--x-label", o->x_label, "Horizontal axis name")->capture_default_str();
    sub->add_option("--y-label", o->y_label, "Vertical axis name")->capture_default_str();
    sub->add_option("--columns", o->columns, "Panels per row (0: as square as possible)")
        ->capture_default_str();
    sub->add_flag("--no-metric", o->no_metric,
                  "Leave out the 10-NN accuracy (5-fold, as the seed's table) in each corner");
    add_seed_option(sub, o->seed);
    add_threads_option(sub, o->threads);
    sub->callback([o] { run_plot(*o); });
}

}  // namespace promptlens::cli

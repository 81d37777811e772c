// Loader for tests/data/sklearn/metrics (written by tools/golden_metrics.py): golden.txt holds
// `name v1 v2 ...` lines; the digits features, labels, the KMeans labels and PCA(2) coordinates
// that every metrics test shares are loaded once.
#pragma once

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/npy.hpp"
#include "test_helpers.hpp"

namespace promptlens::test {

struct MetricsGolden {
    std::map<std::string, std::vector<double>> values;
    Matrix x;                       // digits, 1797×64
    Matrix pca2;                    // 1797×2
    std::vector<int32_t> labels;    // digits classes 0..9
    std::vector<int32_t> clusters;  // KMeans(10) labels

    const std::vector<double>& get(const std::string& name) const {
        auto it = values.find(name);
        if (it == values.end())
            fail("golden value '{}' missing; rerun tools/golden_metrics.py", name);
        return it->second;
    }
    double scalar(const std::string& name) const { return get(name).at(0); }
    std::vector<int32_t> ints(const std::string& name) const {
        std::vector<int32_t> out;
        for (double v : get(name)) out.push_back(static_cast<int32_t>(v));
        return out;
    }
};

inline const MetricsGolden& metrics_golden() {
    static const MetricsGolden g = [] {
        MetricsGolden m;
        std::ifstream in(data_path("sklearn/metrics/golden.txt"));
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty() || line[0] == '#') continue;
            std::istringstream s(line);
            std::string name;
            s >> name;
            std::vector<double> v;
            double x;
            while (s >> x) v.push_back(x);
            m.values[name] = v;
        }
        m.x = read_npy_matrix(data_path("digits/X.npy"));
        m.pca2 = read_npy_matrix(data_path("sklearn/metrics/pca2.npy"));
        for (int64_t c : read_npy_ints(data_path("sklearn/metrics/kmeans_labels.npy")))
            m.clusters.push_back(static_cast<int32_t>(c));
        std::ifstream lab(data_path("digits/labels.txt"));
        int v;
        while (lab >> v) m.labels.push_back(v);
        return m;
    }();
    return g;
}

}  // namespace promptlens::test

// Loader for tests/data/umap (written by tools/golden_umap.py from umap-learn 0.5.3): golden.txt
// holds `name v1 v2 ...` lines; graph_*.npy the first 300 rows of the fuzzy graph as CSR; the
// digits data and the fuzzy graph promptlens builds from it are computed once and shared.
#pragma once

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/npy.hpp"
#include "embed/umap.hpp"
#include "test_helpers.hpp"

namespace promptlens::test {

struct UmapGolden {
    std::map<std::string, std::vector<double>> values;
    Matrix x;                     // digits, 1797×64
    std::vector<int32_t> labels;  // 0..9

    const std::vector<double>& get(const std::string& name) const {
        auto it = values.find(name);
        if (it == values.end()) fail("golden value '{}' missing; rerun tools/golden_umap.py", name);
        return it->second;
    }
    // The stored CSR rows of graph `name` ("graph" or "graph_supervised").
    SparseGraph graph_rows(const std::string& name) const {
        SparseGraph g;
        auto indptr = read_npy_ints(data_path("umap/" + name + "_indptr.npy"));
        auto indices = read_npy_ints(data_path("umap/" + name + "_indices.npy"));
        Matrix stored = read_npy_matrix(data_path("umap/" + name + "_values.npy"));
        g.rows = indptr.size() - 1;
        g.cols = x.rows();
        g.indptr.assign(indptr.begin(), indptr.end());
        for (int64_t i : indices) g.indices.push_back(static_cast<int32_t>(i));
        g.values.assign(stored.data(), stored.data() + stored.size());
        return g;
    }
};

inline const UmapGolden& umap_golden() {
    static const UmapGolden g = [] {
        UmapGolden m;
        std::ifstream in(data_path("umap/golden.txt"));
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty() || line[0] == '#') continue;
            std::istringstream s(line);
            std::string name;
            s >> name;
            double v;
            while (s >> v) m.values[name].push_back(v);
        }
        m.x = read_npy_matrix(data_path("digits/X.npy"));
        std::ifstream lab(data_path("digits/labels.txt"));
        int v;
        while (lab >> v) m.labels.push_back(v);
        return m;
    }();
    return g;
}

}  // namespace promptlens::test

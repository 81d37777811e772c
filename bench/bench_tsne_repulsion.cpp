// Times one call of the t-SNE repulsion (FFT interpolation and Barnes-Hut) on synthetic 2-D
// embeddings shaped like t-SNE's: 10 Gaussian blobs (std 1) whose centres spread over `extent`
// units (~1 at the start, 50–100 after early exaggeration).
//
//   promptlens_bench_tsne_repulsion [--n 25000,70000] [--extent 1,50,100] [--threads 1,2]
//                                   [--methods fft,bh] [--repeats 5]
//
// Before timing, every configuration is checked against the exact O(N²) sum on 200 sampled
// points (their r_i exactly, and Z through the sampled rows' share of it); the relative errors
// are printed next to the time. Times are the best wall-clock time of --repeats calls and the
// process CPU time per call (all threads), in milliseconds: on a shared machine the CPU time of a
// 1-thread run is the steadier number.
#include <cmath>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "embed/tsne_repulsion.hpp"
#include "timing.hpp"

using namespace promptlens;
using promptlens::bench::best_of;

namespace {

double cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

std::vector<double> blobs(size_t n, double extent, uint64_t seed) {
    Rng rng(seed, 0);
    std::vector<double> centres(20);
    for (double& v : centres) v = extent * (rng.uniform() - 0.5);
    const double spread = std::min(1.0, extent / 10);  // tiny embeddings: tiny blobs
    std::vector<double> y(2 * n);
    for (size_t i = 0; i < n; ++i) {
        const size_t c = rng.below(10);
        for (size_t d = 0; d < 2; ++d) y[2 * i + d] = centres[2 * c + d] + spread * rng.normal();
    }
    return y;
}

// Exact r_i for the sampled points, compared with the method's. (Z is a sum over all rows; the
// exact Z is computed only when N ≤ 30,000, else reported as -1.)
void check(const std::vector<double>& y, size_t n, const std::vector<double>& rep, double z,
           double& field_error, double& z_error) {
    double worst = 0, scale = 0;
    const size_t samples = 200;
    for (size_t s = 0; s < samples; ++s) {
        const size_t i = s * (n / samples);
        double rx = 0, ry = 0;
        for (size_t j = 0; j < n; ++j) {
            if (j == i) continue;
            const double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
            const double w = 1.0 / (1.0 + dx * dx + dy * dy);
            rx += w * w * dx;
            ry += w * w * dy;
        }
        worst = std::max(worst, std::hypot(rep[2 * i] - rx, rep[2 * i + 1] - ry));
        scale = std::max(scale, std::hypot(rx, ry));
    }
    field_error = worst / scale;
    z_error = -1;
    if (n <= 30000) {
        std::vector<double> exact_rep(2 * n);
        const double z_exact = reference::tsne_repulsion_exact(y, n, 2, exact_rep);
        z_error = std::fabs(z - z_exact) / z_exact;
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Times the t-SNE repulsion methods on synthetic 2-D embeddings"};
    std::vector<size_t> sizes = {25000, 70000};
    std::vector<double> extents = {1, 50, 100};
    std::vector<int> thread_counts = {1, 2};
    std::vector<std::string> methods = {"fft", "bh"};
    int repeats = 5;
    app.add_option("--n", sizes)->delimiter(',');
    app.add_option("--extent", extents)->delimiter(',');
    app.add_option("--threads", thread_counts)->delimiter(',');
    app.add_option("--methods", methods)->delimiter(',');
    app.add_option("--repeats", repeats);
    CLI11_PARSE(app, argc, argv);
    try {
        std::printf("%-6s %7s %7s %7s %10s %10s %10s %10s\n", "method", "n", "extent", "threads",
                    "ms/call", "cpu ms", "field err", "Z err");
        for (size_t n : sizes)
            for (double extent : extents) {
                const std::vector<double> y = blobs(n, extent, 42);
                for (const std::string& m : methods) {
                    TsneRepulsionOptions o;
                    require(m == "fft" || m == "bh", "unknown method '{}' (fft, bh)", m);
                    o.method =
                        m == "fft" ? TsneRepulsionMethod::fft : TsneRepulsionMethod::barnes_hut;
                    std::vector<double> rep(2 * n);
                    o.threads = thread_counts.front();
                    const double z = tsne_repulsion(y, n, 2, rep, o);
                    double field_error = 0, z_error = 0;
                    check(y, n, rep, z, field_error, z_error);
                    for (int t : thread_counts) {
                        o.threads = t;
                        const double cpu0 = cpu_seconds();
                        const double s = best_of(repeats, [&] { tsne_repulsion(y, n, 2, rep, o); });
                        const double cpu = (cpu_seconds() - cpu0) / repeats;
                        std::printf("%-6s %7zu %7.0f %7d %10.2f %10.2f %10.1e %10.1e\n", m.c_str(),
                                    n, extent, t, 1e3 * s, 1e3 * cpu, field_error, z_error);
                        std::fflush(stdout);
                    }
                }
            }
    } catch (const Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}

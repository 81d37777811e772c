#include <sys/resource.h>

#include <atomic>
#include <numeric>
#include <thread>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/delimited.hpp"
#include "core/error.hpp"
#include "core/labels.hpp"
#include "core/memory.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "test_helpers.hpp"

namespace promptlens {
namespace {

using test::TempDir;

TEST(AtomicFile, CommitReplacesTargetAndLeavesNoTemporary) {
    TempDir dir;
    test::write_bytes(dir / "out.txt", "old");
    {
        AtomicFile f(dir / "out.txt");
        f.write("new contents");
        // Before commit, the target still holds the old, complete file.
        EXPECT_EQ(test::read_bytes(dir / "out.txt"), "old");
        f.commit();
    }
    EXPECT_EQ(test::read_bytes(dir / "out.txt"), "new contents");
    size_t files = 0;
    for (auto& e : std::filesystem::directory_iterator(dir.path())) files += e.is_regular_file();
    EXPECT_EQ(files, 1u);
}

TEST(AtomicFile, AbandonedWriteLeavesTargetUntouched) {
    TempDir dir;
    test::write_bytes(dir / "out.txt", "old");
    {
        AtomicFile f(dir / "out.txt");
        f.write("partial");
    }
    EXPECT_EQ(test::read_bytes(dir / "out.txt"), "old");
    size_t files = 0;
    for (auto& e : std::filesystem::directory_iterator(dir.path())) files += e.is_regular_file();
    EXPECT_EQ(files, 1u);
}

TEST(Labels, SortsClassesNumericallyOrLexicographically) {
    Labels l = make_labels(std::vector<std::string>{"good", "bad", "good"});
    EXPECT_EQ(l.classes, (std::vector<std::string>{"bad", "good"}));
    EXPECT_EQ(l.codes, (std::vector<int32_t>{1, 0, 1}));
    Labels n = make_labels(std::vector<std::string>{"10", "9", "1"});
    EXPECT_EQ(n.classes, (std::vector<std::string>{"1", "9", "10"}));
    EXPECT_EQ(n.counts(), (std::vector<size_t>{1, 1, 1}));
}

TEST(Labels, ReadsFileAndRejectsEmptyLines) {
    TempDir dir;
    test::write_bytes(dir / "l.txt", "pos\r\nneg\npos\n");
    Labels l = read_labels(dir / "l.txt");
    EXPECT_EQ(l.size(), 3u);
    EXPECT_EQ(l.classes, (std::vector<std::string>{"neg", "pos"}));
    test::write_bytes(dir / "gap.txt", "a\n\nb\n");
    try {
        read_labels(dir / "gap.txt");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("line 2 is empty"), std::string::npos) << e.what();
    }
    test::write_bytes(dir / "none.txt", "");
    EXPECT_THROW(read_labels(dir / "none.txt"), Error);
}

TEST(Delimited, ReadsCsvWithHeaderAndTsv) {
    TempDir dir;
    test::write_bytes(dir / "m.csv", "a,b\n1,2.5\n-3,4e1\n");
    auto m = read_delimited_matrix(dir / "m.csv");
    EXPECT_EQ(m.header, (std::vector<std::string>{"a", "b"}));
    ASSERT_EQ(m.values.rows(), 2u);
    EXPECT_EQ(m.values(1, 1), 40.0f);
    test::write_bytes(dir / "m.tsv", "1\t2\n3\t4\n");
    EXPECT_EQ(read_matrix(dir / "m.tsv")(1, 0), 3.0f);
}

TEST(Delimited, ErrorsNameLineAndColumn) {
    TempDir dir;
    test::write_bytes(dir / "bad.csv", "1,2\n3,x\n");
    try {
        read_matrix(dir / "bad.csv");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("line 2, column 2: expected a number, got 'x'"),
                  std::string::npos)
            << e.what();
    }
    test::write_bytes(dir / "ragged.csv", "1,2\n3\n");
    EXPECT_THROW(read_matrix(dir / "ragged.csv"), Error);
}

TEST(CheckFinite, NamesRowAndColumn) {
    Matrix m(2, 3, 1.0f);
    m(1, 2) = std::nanf("");
    try {
        check_finite(m, "x.npy");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "x.npy: row 1, column 2: value is NaN; features must be finite");
    }
}

TEST(Parallel, RunsEveryChunkOnceAndRethrows) {
    for (int threads : {1, 2, 4}) {
        std::vector<std::atomic<int>> hits(100);
        parallel_for(100, threads, [&](size_t c) { hits[c]++; });
        for (auto& h : hits) EXPECT_EQ(h.load(), 1);
    }
    EXPECT_THROW(parallel_for(10, 2,
                              [](size_t c) {
                                  if (c == 7) fail("boom");
                              }),
                 Error);
    EXPECT_THROW(resolve_threads(-1), Error);
}

// The pool serves loops one after another with growing and shrinking thread counts, loops started
// from inside a chunk (run serially there) and loops started by two threads at once (the second
// gets threads of its own).
TEST(Parallel, PoolServesRepeatedNestedAndConcurrentLoops) {
    std::atomic<size_t> sum{0};
    for (int round = 0; round < 200; ++round) {
        const int threads = 1 + round % 4;
        parallel_for(64, threads, [&](size_t c) { sum += c; });
    }
    EXPECT_EQ(sum.load(), size_t{200} * (63 * 64 / 2));

    std::vector<std::atomic<int>> inner(8 * 16);
    parallel_for(8, 2, [&](size_t outer) {
        parallel_for(16, 2, [&](size_t c) { inner[outer * 16 + c]++; });
    });
    for (auto& h : inner) EXPECT_EQ(h.load(), 1);

    std::vector<std::atomic<int>> a(5000), b(5000);
    std::thread other([&] {
        for (int r = 0; r < 20; ++r) parallel_for(250, 2, [&](size_t c) { a[r * 250 + c]++; });
    });
    for (int r = 0; r < 20; ++r) parallel_for(250, 2, [&](size_t c) { b[r * 250 + c]++; });
    other.join();
    for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i].load() + b[i].load(), 2) << i;
}

#if !defined(__SANITIZE_ADDRESS__)  // AddressSanitizer's allocator ignores mallopt
// Freed blocks are reused without new page faults: the second round of the same allocations
// (24 matrices of 7 MB, as one text pass's key/value cache) faults nothing in.
TEST(Memory, RetainedBlocksAreReusedWithoutPageFaults) {
    retain_freed_memory();
    const auto faults = [] {
        rusage u{};
        getrusage(RUSAGE_SELF, &u);
        return u.ru_minflt;
    };
    const auto round = [] {
        std::vector<std::vector<float>> blocks;
        for (int i = 0; i < 24; ++i) blocks.emplace_back(2311 * 768, 1.0f);
        return blocks.back()[7];
    };
    round();
    const long before = faults();
    EXPECT_EQ(round(), 1.0f);
    EXPECT_LT(faults() - before, 1000) << "of ~42,000 pages";
}
#endif

TEST(Rng, SameSeedSameStreamAndUniformRange) {
    Rng a(42), b(42), c(42, 1);
    bool differs = false;
    for (int i = 0; i < 1000; ++i) {
        uint64_t x = a.next();
        EXPECT_EQ(x, b.next());
        differs |= x != c.next();
    }
    EXPECT_TRUE(differs);
    Rng r(7);
    double sum = 0;
    for (int i = 0; i < 10000; ++i) {
        double u = r.uniform();
        ASSERT_GE(u, 0.0);
        ASSERT_LT(u, 1.0);
        sum += u;
        ASSERT_LT(r.below(13), 13u);
    }
    EXPECT_NEAR(sum / 10000, 0.5, 0.02);
}

}  // namespace
}  // namespace promptlens

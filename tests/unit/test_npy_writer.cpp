// NpyRowWriter: rows written in any order give numpy's exact bytes (the same as write_npy), the
// file stays under its temporary name until commit, and a partial file is reopened only with the
// shape it was made for.
#include <gtest/gtest.h>

#include "core/npy.hpp"
#include "core/npy_writer.hpp"
#include "test_helpers.hpp"

namespace promptlens {
namespace {

// Whether `text` holds `part`; on failure both are printed.
::testing::AssertionResult contains(const std::string& text, const std::string& part) {
    if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "'" << text << "' lacks '" << part << "'";
}

Matrix sample(size_t rows, size_t cols) {
    Matrix m(rows, cols);
    for (size_t i = 0; i < m.size(); ++i) m.data()[i] = float(i) * 0.25f - 3.0f;
    return m;
}

TEST(NpyRowWriter, RowsInAnyOrderGiveWriteNpyBytes) {
    test::TempDir dir;
    for (auto [rows, cols] : {std::pair<size_t, size_t>{5, 3}, {1, 1}, {17, 200}, {1000, 7}}) {
        const Matrix m = sample(rows, cols);
        write_npy(dir / "ref.npy", m);
        const std::string name = fmt::format("out{}x{}.npy", rows, cols);
        auto w = NpyRowWriter::create(dir / name, rows, cols);
        for (size_t k = rows; k-- > 0;) w.write_row(k, m.row(k));
        EXPECT_TRUE(std::filesystem::exists(dir / (name + ".partial")));
        EXPECT_FALSE(std::filesystem::exists(dir / name));
        w.commit();
        EXPECT_FALSE(std::filesystem::exists(dir / (name + ".partial")));
        EXPECT_EQ(test::read_bytes(dir / name), test::read_bytes(dir / "ref.npy"))
            << rows << "x" << cols;
        EXPECT_EQ(NpyRowWriter::header(rows, cols).size() % 64, 0u);
    }
}

TEST(NpyRowWriter, ReopensAPartialFileAndFillsTheRest) {
    test::TempDir dir;
    const Matrix m = sample(6, 4);
    {
        auto w = NpyRowWriter::create(dir / "x.npy", 6, 4);
        for (size_t i : {0, 2, 4}) w.write_row(i, m.row(i));
    }  // closed without commit: stays partial
    auto w = NpyRowWriter::open_existing(dir / "x.npy", 6, 4);
    for (size_t i : {1, 3, 5}) w.write_row(i, m.row(i));
    w.commit();
    const Matrix back = read_npy_matrix(dir / "x.npy");
    EXPECT_EQ(test::flat(back), test::flat(m));
}

TEST(NpyRowWriter, RefusesAWrongShapeOrRow) {
    test::TempDir dir;
    { auto w = NpyRowWriter::create(dir / "x.npy", 6, 4); }
    EXPECT_TRUE(contains(test::error_of([&] { NpyRowWriter::open_existing(dir / "x.npy", 6, 5); }),
                         "cannot resume into it"));
    EXPECT_TRUE(contains(test::error_of([&] { NpyRowWriter::open_existing(dir / "y.npy", 6, 4); }),
                         "cannot reopen it to resume"));
    auto w = NpyRowWriter::open_existing(dir / "x.npy", 6, 4);
    std::vector<float> row(4);
    EXPECT_TRUE(
        contains(test::error_of([&] { w.write_row(6, row); }), "row 6 with 4 values does not fit"));
}

}  // namespace
}  // namespace promptlens

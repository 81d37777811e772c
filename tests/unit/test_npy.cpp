#include "core/npy.hpp"

#include "core/error.hpp"
#include "test_helpers.hpp"

namespace promptlens {
namespace {

using test::error_of;

using test::TempDir;

// Builds a version-1.0 .npy file by hand, so tests control every byte.
std::string npy_bytes(const std::string& dict, const std::string& data) {
    std::string header = dict;
    size_t total = 10 + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header.push_back('\n');
    std::string out = "\x93NUMPY";
    out += '\x01';
    out += '\x00';
    out += static_cast<char>(header.size() & 0xff);
    out += static_cast<char>(header.size() >> 8);
    return out + header + data;
}

template <class T>
std::string raw(std::initializer_list<T> values) {
    std::string s;
    for (T v : values) s.append(reinterpret_cast<const char*>(&v), sizeof(T));
    return s;
}

TEST(Npy, RoundTripFloat32) {
    TempDir dir;
    Matrix m(3, 2);
    for (size_t i = 0; i < 6; ++i) m.data()[i] = 0.5f * static_cast<float>(i) - 1.0f;
    write_npy(dir / "m.npy", m);
    Matrix back = read_npy_matrix(dir / "m.npy");
    ASSERT_EQ(back.rows(), 3u);
    ASSERT_EQ(back.cols(), 2u);
    for (size_t i = 0; i < 6; ++i) EXPECT_EQ(back.data()[i], m.data()[i]);
    // Header is padded to a multiple of 64 bytes, as numpy writes it.
    EXPECT_EQ(test::read_bytes(dir / "m.npy").size(), 128u + 6 * 4);  // numpy 1.24 writes 152 too
}

TEST(Npy, RoundTripIntegers) {
    TempDir dir;
    std::vector<int32_t> a = {3, -1, 7};
    std::vector<int64_t> b = {1LL << 40, 2};
    write_npy(dir / "a.npy", std::span<const int32_t>(a));
    write_npy(dir / "b.npy", std::span<const int64_t>(b));
    EXPECT_EQ(read_npy_ints(dir / "a.npy"), (std::vector<int64_t>{3, -1, 7}));
    EXPECT_EQ(read_npy_ints(dir / "b.npy"), (std::vector<int64_t>{1LL << 40, 2}));
}

TEST(Npy, ReadsEveryDtype) {
    TempDir dir;
    test::write_bytes(dir / "f8.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, "
                                                "'shape': (2, 1), }",
                                                raw<double>({1.5, -2})));
    test::write_bytes(dir / "i4.npy", npy_bytes("{'descr': '<i4', 'fortran_order': False, "
                                                "'shape': (3,), }",
                                                raw<int32_t>({1, 2, 3})));
    test::write_bytes(dir / "i8.npy", npy_bytes("{'descr': '<i8', 'fortran_order': False, "
                                                "'shape': (1, 2), }",
                                                raw<int64_t>({-4, 9})));
    Matrix f8 = read_npy_matrix(dir / "f8.npy");
    EXPECT_EQ(f8(0, 0), 1.5f);
    EXPECT_EQ(f8(1, 0), -2.0f);
    Matrix i4 = read_npy_matrix(dir / "i4.npy");
    EXPECT_EQ(i4.rows(), 3u);
    EXPECT_EQ(i4(2, 0), 3.0f);
    Matrix i8 = read_npy_matrix(dir / "i8.npy");
    EXPECT_EQ(i8(0, 1), 9.0f);
}

TEST(Npy, ReadsNumpyWrittenFile) {
    Matrix x = read_npy_matrix(test::data_path("digits/X.npy"));
    EXPECT_EQ(x.rows(), 1797u);
    EXPECT_EQ(x.cols(), 64u);
}

TEST(Npy, RejectsTruncatedData) {
    TempDir dir;
    test::write_bytes(dir / "t.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, "
                                               "'shape': (4, 2), }",
                                               raw<float>({1, 2, 3})));
    auto msg = error_of([&] { read_npy_matrix(dir / "t.npy"); });
    EXPECT_NE(msg.find("t.npy: truncated: shape (4, 2) of float32 needs 32 data bytes but the "
                       "file has 12"),
              std::string::npos)
        << msg;
}

TEST(Npy, RejectsHeaderThatUnderstatesSize) {
    TempDir dir;
    test::write_bytes(dir / "l.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, "
                                               "'shape': (1,), }",
                                               raw<float>({1, 2})));
    auto msg = error_of([&] { read_npy_matrix(dir / "l.npy"); });
    EXPECT_NE(msg.find("header says shape (1,)"), std::string::npos) << msg;
}

TEST(Npy, RejectsTruncatedHeader) {
    TempDir dir;
    std::string full =
        npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", raw<float>({1}));
    test::write_bytes(dir / "h.npy", full.substr(0, 30));
    auto msg = error_of([&] { read_npy_matrix(dir / "h.npy"); });
    EXPECT_NE(msg.find("truncated .npy header"), std::string::npos) << msg;
}

TEST(Npy, RejectsUnsupportedLayouts) {
    TempDir dir;
    test::write_bytes(dir / "be.npy", npy_bytes("{'descr': '>f4', 'fortran_order': False, "
                                                "'shape': (1,), }",
                                                raw<float>({1})));
    EXPECT_NE(error_of([&] { read_npy_matrix(dir / "be.npy"); }).find("big-endian"),
              std::string::npos);
    test::write_bytes(dir / "f.npy", npy_bytes("{'descr': '<f4', 'fortran_order': True, "
                                               "'shape': (1, 1), }",
                                               raw<float>({1})));
    EXPECT_NE(error_of([&] { read_npy_matrix(dir / "f.npy"); }).find("Fortran"), std::string::npos);
    test::write_bytes(dir / "u8.npy", npy_bytes("{'descr': '|u1', 'fortran_order': False, "
                                                "'shape': (4,), }",
                                                "abcd"));
    EXPECT_NE(error_of([&] { read_npy_matrix(dir / "u8.npy"); }).find("unsupported dtype '|u1'"),
              std::string::npos);
    test::write_bytes(dir / "3d.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, "
                                                "'shape': (1, 1, 1), }",
                                                raw<float>({1})));
    EXPECT_NE(error_of([&] { read_npy_matrix(dir / "3d.npy"); }).find("expected a 1-D or 2-D"),
              std::string::npos);
    test::write_bytes(dir / "empty.npy", "");
    EXPECT_NE(error_of([&] { read_npy_matrix(dir / "empty.npy"); }).find("empty file"),
              std::string::npos);
    test::write_bytes(dir / "text.npy", "hello, world");
    EXPECT_NE(error_of([&] { read_npy_matrix(dir / "text.npy"); }).find("not a .npy file"),
              std::string::npos);
    EXPECT_NE(error_of([&] { read_npy_matrix(dir / "missing.npy"); }).find("no such file"),
              std::string::npos);
}

TEST(Npy, RejectsFloat64OutOfFloat32Range) {
    TempDir dir;
    test::write_bytes(dir / "big.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, "
                                                 "'shape': (1, 2), }",
                                                 raw<double>({1, 1e300})));
    auto msg = error_of([&] { read_npy_matrix(dir / "big.npy"); });
    EXPECT_NE(msg.find("row 0, column 1"), std::string::npos) << msg;
}

}  // namespace
}  // namespace promptlens

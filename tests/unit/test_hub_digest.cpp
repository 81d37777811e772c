// The checksums the hub downloader verifies files with (hub/digest.hpp), against published values:
// FIPS 180-2's SHA-256 test vectors and the object ids `git hash-object` prints.
#include "hub/digest.hpp"

#include <fstream>

#include "test_helpers.hpp"

namespace promptlens {
namespace {
namespace fs = std::filesystem;

TEST(HubDigest, Sha256KnownVectors) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(HubDigest, GitBlobSha1KnownIds) {
    EXPECT_EQ(git_blob_sha1_hex(""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    EXPECT_EQ(git_blob_sha1_hex("hello\n"), "ce013625030ba8dba906f756967f9e9ca394464a");
}

TEST(HubDigest, FilesHashAsTheirBytes) {
    test::TempDir tmp;
    const fs::path dir = tmp.path();
    // Larger than the 1 MiB read block, so several reads are chained.
    std::string data(3 * (1 << 20) + 12345, '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = char((i * 2654435761u) >> 13);
    std::ofstream(dir / "f", std::ios::binary) << data;
    EXPECT_EQ(sha256_file(dir / "f"), sha256_hex(data));
    EXPECT_EQ(git_blob_sha1_file(dir / "f"), git_blob_sha1_hex(data));
    try {
        (void)sha256_file(dir / "missing");
        FAIL() << "expected an Error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("missing: cannot open"), std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace promptlens

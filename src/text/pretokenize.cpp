#define PCRE2_CODE_UNIT_WIDTH 8
#include "text/pretokenize.hpp"

#include <pcre2.h>

#include "core/error.hpp"

namespace promptlens::text {

struct Pretokenizer::Impl {
    pcre2_code* code = nullptr;
    bool jit = false;
    ~Impl() { pcre2_code_free(code); }
};

Pretokenizer::Pretokenizer(std::string_view pattern) : impl_(std::make_unique<Impl>()) {
    int err = 0;
    PCRE2_SIZE err_offset = 0;
    impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                PCRE2_UTF | PCRE2_UCP, &err, &err_offset, nullptr);
    if (!impl_->code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        fail("pre-tokenisation pattern: {} at offset {}", reinterpret_cast<const char*>(msg),
             err_offset);
    }
    impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

Pretokenizer::~Pretokenizer() = default;
Pretokenizer::Pretokenizer(Pretokenizer&&) noexcept = default;
Pretokenizer& Pretokenizer::operator=(Pretokenizer&&) noexcept = default;

bool Pretokenizer::jit() const {
    return impl_->jit;
}

void Pretokenizer::split(std::string_view text, std::vector<std::string_view>& out) const {
    if (text.empty()) return;
    std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md(
        pcre2_match_data_create_from_pattern(impl_->code, nullptr), &pcre2_match_data_free);
    require(md != nullptr, "pre-tokenisation: out of memory");
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t pos = 0;
    while (pos < text.size()) {
        // The text was validated as UTF-8 by the caller: skip PCRE2's own check (which would
        // otherwise rescan the rest of the subject at every match).
        int rc = impl_->jit ? pcre2_jit_match(impl_->code, subject, text.size(), pos,
                                              PCRE2_NO_UTF_CHECK, md.get(), nullptr)
                            : pcre2_match(impl_->code, subject, text.size(), pos,
                                          PCRE2_NO_UTF_CHECK, md.get(), nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(rc, msg, sizeof msg);
            fail("pre-tokenisation failed at byte {}: {}", pos, reinterpret_cast<const char*>(msg));
        }
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
        // Python's findall skips characters no alternative matches; GPT-2's pattern leaves none.
        if (ov[1] == ov[0]) {  // an empty match (not possible with GPT-2's pattern): step on
            ++pos;
            while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80)
                ++pos;
            continue;
        }
        out.emplace_back(text.data() + ov[0], ov[1] - ov[0]);
        pos = ov[1];
    }
}

std::vector<std::string_view> Pretokenizer::split(std::string_view text) const {
    std::vector<std::string_view> out;
    split(text, out);
    return out;
}

}  // namespace promptlens::text

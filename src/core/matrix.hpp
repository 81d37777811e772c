// Row-major dense matrices: `BasicMatrix<T>` owns its storage, `MatrixView<T>` is a non-owning
// window (a row range, or any block with a row stride). float32 is the working type of the
// analysis code; double is used where accumulation needs it.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

namespace promptlens {

template <class T>
class MatrixView {
  public:
    MatrixView() = default;
    MatrixView(T* data, size_t rows, size_t cols, size_t stride)
        : data_(data), rows_(rows), cols_(cols), stride_(stride) {}
    MatrixView(T* data, size_t rows, size_t cols) : MatrixView(data, rows, cols, cols) {}
    // A view of mutable data converts to a view of const data.
    template <class U, class = std::enable_if_t<std::is_same_v<const U, T>>>
    MatrixView(MatrixView<U> other)  // NOLINT(google-explicit-constructor)
        : data_(other.data()), rows_(other.rows()), cols_(other.cols()), stride_(other.stride()) {}

    size_t rows() const { return rows_; }
    size_t cols() const { return cols_; }
    size_t stride() const { return stride_; }
    T* data() const { return data_; }
    bool contiguous() const { return stride_ == cols_; }

    T& operator()(size_t i, size_t j) const {
        assert(i < rows_ && j < cols_);
        return data_[i * stride_ + j];
    }
    std::span<T> row(size_t i) const {
        assert(i < rows_);
        return {data_ + i * stride_, cols_};
    }
    // Rows [begin, end).
    MatrixView row_range(size_t begin, size_t end) const {
        assert(begin <= end && end <= rows_);
        return {data_ + begin * stride_, end - begin, cols_, stride_};
    }

  private:
    T* data_ = nullptr;
    size_t rows_ = 0, cols_ = 0, stride_ = 0;
};

// Tag for a matrix whose elements start uninitialised, for buffers written in full before they
// are read (the text pass's 170 MB key/value cache would otherwise be zeroed first, ~1% of it).
struct Uninitialized {};
inline constexpr Uninitialized uninitialized{};

// std::allocator, except that elements constructed without a value are default-initialised
// (left as they are, for arithmetic types) instead of zeroed.
template <class T>
struct DefaultInitAllocator : std::allocator<T> {
    template <class U>
    struct rebind {
        using other = DefaultInitAllocator<U>;
    };
    DefaultInitAllocator() = default;
    template <class U>
    DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}  // NOLINT
    template <class U>
    void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
        ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};

template <class T>
class BasicMatrix {
  public:
    BasicMatrix() = default;
    BasicMatrix(size_t rows, size_t cols, T fill = T{})
        : values_(rows * cols, fill), rows_(rows), cols_(cols) {}
    BasicMatrix(size_t rows, size_t cols, Uninitialized)
        : values_(rows * cols), rows_(rows), cols_(cols) {}

    size_t rows() const { return rows_; }
    size_t cols() const { return cols_; }
    size_t size() const { return values_.size(); }
    bool empty() const { return values_.empty(); }
    T* data() { return values_.data(); }
    const T* data() const { return values_.data(); }
    std::span<T> values() { return values_; }
    std::span<const T> values() const { return values_; }

    T& operator()(size_t i, size_t j) {
        assert(i < rows_ && j < cols_);
        return values_[i * cols_ + j];
    }
    const T& operator()(size_t i, size_t j) const {
        assert(i < rows_ && j < cols_);
        return values_[i * cols_ + j];
    }
    std::span<T> row(size_t i) { return {values_.data() + i * cols_, cols_}; }
    std::span<const T> row(size_t i) const { return {values_.data() + i * cols_, cols_}; }

    MatrixView<T> view() { return {values_.data(), rows_, cols_}; }
    MatrixView<const T> view() const { return {values_.data(), rows_, cols_}; }
    operator MatrixView<T>() { return view(); }              // NOLINT
    operator MatrixView<const T>() const { return view(); }  // NOLINT
    MatrixView<T> row_range(size_t b, size_t e) { return view().row_range(b, e); }
    MatrixView<const T> row_range(size_t b, size_t e) const { return view().row_range(b, e); }

  private:
    std::vector<T, DefaultInitAllocator<T>> values_;
    size_t rows_ = 0, cols_ = 0;
};

using Matrix = BasicMatrix<float>;
using MatrixD = BasicMatrix<double>;
using MatView = MatrixView<float>;
using ConstMatView = MatrixView<const float>;

// A copy of any view as an owning matrix.
template <class T>
BasicMatrix<std::remove_const_t<T>> to_matrix(MatrixView<T> v) {
    BasicMatrix<std::remove_const_t<T>> m(v.rows(), v.cols());
    for (size_t i = 0; i < v.rows(); ++i) {
        auto src = v.row(i);
        std::copy(src.begin(), src.end(), m.row(i).begin());
    }
    return m;
}

}  // namespace promptlens

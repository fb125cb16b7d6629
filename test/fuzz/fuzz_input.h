// A reader over a fuzzer's input: takes bytes, integers and sizes from the
// front, and gives zeros once the input is used up (so every input is valid).
#pragma once

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <span>

namespace quarry::fuzz {

class FuzzInput {
public:
	FuzzInput(const uint8_t *data, std::size_t size) : data_(data), size_(size) {}

	template <typename T>
	T
	Take()
	{
		T value{};
		std::size_t n = std::min(sizeof(T), size_ - pos_);
		std::memcpy(&value, data_ + pos_, n);
		pos_ += n;
		return value;
	}

	/// A value in [0, bound) (0 when bound is 0).
	uint32_t
	Below(uint32_t bound)
	{
		return bound == 0 ? 0 : Take<uint32_t>() % bound;
	}

	/// The rest of the input.
	std::span<const uint8_t>
	Rest()
	{
		std::span<const uint8_t> rest(data_ + pos_, size_ - pos_);
		pos_ = size_;
		return rest;
	}

	/// Up to `n` next bytes.
	std::span<const uint8_t>
	Bytes(std::size_t n)
	{
		n = std::min(n, size_ - pos_);
		std::span<const uint8_t> out(data_ + pos_, n);
		pos_ += n;
		return out;
	}

	bool empty() const { return pos_ >= size_; }

private:
	const uint8_t *data_;
	std::size_t size_;
	std::size_t pos_ = 0;
};

/// Stops the fuzzer with a finding: a property that must hold did not.
[[noreturn]] inline void
Violated(const char *what)
{
	std::fprintf(stderr, "property violated: %s\n", what);
	__builtin_trap();
}

} // namespace quarry::fuzz

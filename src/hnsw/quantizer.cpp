#include "hnsw/quantizer.h"
#include "hnsw/quantizer_terms.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace quarry::hnsw {

namespace {

using detail::CodeAt;
using detail::CodeOp;

// The portable kernels: the terms of quantizer_terms.h from the first
// element (std::fma: the decoded value is bit-identical to the SIMD ones').
template <int Bits, CodeOp K>
float
ScalarKernel(const float *q, const std::uint8_t *codes, std::size_t n, float lo, float step)
{
	return detail::AddCodeTerms<Bits, K>(q, codes, 0, n, lo, step, 0.0f);
}

constexpr CodeKernels kScalarCodeKernels{
	Isa::kScalar,
	{ScalarKernel<8, CodeOp::kL2>, ScalarKernel<4, CodeOp::kL2>},
	{ScalarKernel<8, CodeOp::kDot>, ScalarKernel<4, CodeOp::kDot>},
	{ScalarKernel<8, CodeOp::kL1>, ScalarKernel<4, CodeOp::kL1>},
};

// Rounds a non-negative double up to a float that is not below it.
float
RoundUp(double value)
{
	float f = static_cast<float>(value);
	if (static_cast<double>(f) < value)
		f = std::nextafter(f, std::numeric_limits<float>::infinity());
	return f;
}

} // namespace

bool
IsValidStorage(int value)
{
	return value >= static_cast<int>(Storage::kFull) && value <= static_cast<int>(Storage::kSq4);
}

const char *
StorageName(Storage storage)
{
	switch (storage)
	{
		case Storage::kFull:
			return "full";
		case Storage::kSq8:
			return "sq8";
		case Storage::kSq4:
			return "sq4";
	}
	return "unknown";
}

bool
ParseStorage(const char *name, Storage *out)
{
	for (Storage s : {Storage::kFull, Storage::kSq8, Storage::kSq4})
	{
		if (std::strcmp(name, StorageName(s)) == 0)
		{
			*out = s;
			return true;
		}
	}
	return false;
}

int
StorageBits(Storage storage)
{
	return storage == Storage::kSq8 ? 8 : storage == Storage::kSq4 ? 4 : 0;
}

std::size_t
CodeBytes(Storage storage, std::size_t dims)
{
	const std::size_t bytes = (dims * static_cast<std::size_t>(StorageBits(storage)) + 7) / 8;
	return (bytes + 3) / 4 * 4;
}

std::size_t
StoredVectorBytes(Storage storage, std::size_t dims)
{
	if (storage == Storage::kFull)
		return sizeof(float) * dims;
	return sizeof(CodeHeader) + CodeBytes(storage, dims);
}

// Per-vector bounds, codes by rounding to the nearest step, then the error
// and norm of what decodes (computed in double, rounded up).
void
Encode(Storage storage, Metric metric, std::span<const float> x, std::span<std::uint8_t> out)
{
	const int bits = StorageBits(storage);
	const unsigned levels = (1u << bits) - 1;
	std::memset(out.data(), 0, out.size());
	const auto [min_it, max_it] = std::minmax_element(x.begin(), x.end());
	CodeHeader h{};
	h.lo = *min_it;
	h.step = (*max_it - *min_it) / static_cast<float>(levels);
	if (!std::isfinite(h.step) || h.step <= 0.0f)
		h.step = 0.0f;
	std::uint8_t *codes = out.data() + sizeof(CodeHeader);
	double err = 0.0, norm = 0.0;
	for (std::size_t i = 0; i < x.size(); i++)
	{
		long c = h.step > 0.0f ? std::lrint((static_cast<double>(x[i]) - h.lo) / h.step) : 0;
		c = std::clamp<long>(c, 0, static_cast<long>(levels));
		if (bits == 8)
			codes[i] = static_cast<std::uint8_t>(c);
		else
			codes[i / 2] |= static_cast<std::uint8_t>(c << ((i & 1) * 4));
		const float decoded = std::fma(h.step, static_cast<float>(c), h.lo);
		const double diff = static_cast<double>(x[i]) - decoded;
		err += metric == Metric::kL1 ? std::fabs(diff) : diff * diff;
		norm += static_cast<double>(decoded) * decoded;
	}
	h.err = RoundUp(metric == Metric::kL1 ? err : std::sqrt(err));
	h.norm = RoundUp(std::sqrt(norm));
	std::memcpy(out.data(), &h, sizeof h);
}

void
Decode(Storage storage, std::span<const std::uint8_t> stored, std::span<float> out)
{
	CodeHeader h;
	std::memcpy(&h, stored.data(), sizeof h);
	const std::uint8_t *codes = stored.data() + sizeof(CodeHeader);
	for (std::size_t i = 0; i < out.size(); i++)
	{
		const unsigned c = storage == Storage::kSq8 ? CodeAt<8>(codes, i) : CodeAt<4>(codes, i);
		out[i] = std::fma(h.step, static_cast<float>(c), h.lo);
	}
}

const char *
CheckStored(Storage storage, std::span<const std::uint8_t> stored, std::size_t dims)
{
	CodeHeader h;
	std::memcpy(&h, stored.data(), sizeof h);
	if (!std::isfinite(h.lo) || !std::isfinite(h.step) || !std::isfinite(h.err) || !std::isfinite(h.norm))
		return "a code header field is not finite";
	if (h.step < 0.0f || h.err < 0.0f || h.norm < 0.0f)
		return "a code header field is negative";
	const unsigned levels = (1u << StorageBits(storage)) - 1;
	if (!std::isfinite(std::fma(h.step, static_cast<float>(levels), h.lo)))
		return "the codes decode to values that are not finite";
	const std::uint8_t *codes = stored.data() + sizeof(CodeHeader);
	const std::size_t used = (dims * static_cast<std::size_t>(StorageBits(storage)) + 7) / 8;
	for (std::size_t i = used; i < CodeBytes(storage, dims); i++)
		if (codes[i] != 0)
			return "the padding after the codes is not zero";
	if (storage == Storage::kSq4 && (dims & 1) && (codes[dims / 2] >> 4) != 0)
		return "the padding after the codes is not zero";
	return "";
}

const CodeKernels *
CodeKernelsFor(Isa isa)
{
	switch (isa)
	{
		case Isa::kScalar:
			return &kScalarCodeKernels;
		case Isa::kAvx2:
			return detail::Avx2CodeKernels();
		case Isa::kAvx512:
			return detail::Avx512CodeKernels();
	}
	return nullptr;
}

const CodeKernels &
BestCodeKernels()
{
	static const CodeKernels *best = [] {
		for (Isa isa : {Isa::kAvx512, Isa::kAvx2})
			if (const CodeKernels *k = CodeKernelsFor(isa))
				return k;
		return &kScalarCodeKernels;
	}();
	return *best;
}

float
CodeDistance::MarginFor(std::size_t dims)
{
	return std::max(kBoundMargin, 2.0f * static_cast<float>(dims) * std::numeric_limits<float>::epsilon());
}

CodeDistance::CodeDistance(const CodeKernels &k, Storage storage, Metric metric, std::size_t dims)
	: margin_(MarginFor(dims)), metric_(metric), dims_(dims)
{
	const int which = storage == Storage::kSq4 ? 1 : 0;
	fn_ = metric == Metric::kL2 ? k.l2_squared[which] : metric == Metric::kL1 ? k.l1[which] : k.dot[which];
}

float
CodeDistance::Approximate(const float *query, const std::uint8_t *stored) const
{
	CodeHeader h;
	std::memcpy(&h, stored, sizeof h);
	float d = fn_(query, stored + sizeof(CodeHeader), dims_, h.lo, h.step);
	if (metric_ == Metric::kCosine && h.norm > 0.0f)
		d /= h.norm;
	return NegatesKernel(metric_) ? -d : d;
}

// The bounds of quantizer.h, less a relative margin for rounding (MarginFor):
// the exact
// value's own float sums (the SQL operators) and this kernel's may each be a
// little off, and a bound above the exact value would make PostgreSQL's
// reorder queue fail ("index returned tuples in wrong order").
float
CodeDistance::LowerBound(const float *query, float query_norm, const std::uint8_t *stored) const
{
	CodeHeader h;
	std::memcpy(&h, stored, sizeof h);
	const float raw = fn_(query, stored + sizeof(CodeHeader), dims_, h.lo, h.step);
	const float keep = 1.0f - margin_;
	if (metric_ == Metric::kL2)
	{
		const float root = std::sqrt(std::max(raw, 0.0f)) * keep - h.err;
		return root > 0.0f ? root * root * keep : 0.0f;
	}
	if (metric_ == Metric::kL1)
		return std::max(raw * keep - h.err, 0.0f);
	// -q.x >= -q.x^ - |q| err, less the margin on the magnitude of the terms.
	return -raw - query_norm * h.err - margin_ * query_norm * (h.norm + h.err);
}

} // namespace quarry::hnsw

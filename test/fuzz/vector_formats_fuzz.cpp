// pgvector's vector and halfvec bodies (src/hnsw/vector_formats.h) on arbitrary
// bytes: the header check never reads outside its input and accepts a body
// only when it holds exactly its elements; every half converts to the float
// its definition gives (NaN to a NaN); a vector's float converts back to a
// half exactly when a half holds it, and to that very half.
#include "fuzz_input.h"
#include "hnsw/vector_formats.h"

#include <cmath>
#include <cstring>
#include <vector>

using namespace quarry;

namespace {

double
ReferenceHalf(uint16_t h)
{
	const int sign = (h & 0x8000) ? -1 : 1;
	const int exponent = (h >> 10) & 0x1F;
	const int mantissa = h & 0x3FF;
	if (exponent == 0)
		return sign * std::ldexp(mantissa, -24);
	if (exponent == 0x1F)
		return mantissa == 0 ? sign * INFINITY : NAN;
	return sign * std::ldexp(1024 + mantissa, exponent - 25);
}

// Whether some half holds `f` exactly: finite, at most 65504 in magnitude,
// on the 2^-24 grid of the smallest subnormal, with at most 11 significant
// bits.
bool
ReferenceIsHalf(float f)
{
	if (!std::isfinite(f))
		return false;
	const double a = std::fabs(static_cast<double>(f));
	if (a > 65504.0)
		return false;
	const double scaled = a * 0x1p24; // exact: a double has the bits
	if (scaled != std::floor(scaled))
		return false;
	auto k = static_cast<uint64_t>(scaled);
	if (k == 0)
		return true;
	while ((k & 1) == 0)
		k >>= 1;
	return k < 2048;
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size)
{
	fuzz::FuzzInput in(data, size);
	const auto format = in.Take<uint8_t>() % 2 == 0 ? hnsw::InputFormat::kVector : hnsw::InputFormat::kHalfvec;
	std::span<const uint8_t> bytes = in.Rest();
	// A copy of exactly that many bytes, so ASan sees any overread.
	std::vector<unsigned char> body(bytes.begin(), bytes.end());
	int dims = -1;
	const hnsw::PgvectorProblem problem = hnsw::ParsePgvector(format, body.data(), body.size(), dims);
	if (problem != hnsw::PgvectorProblem::kNone)
	{
		if (dims != 0)
			fuzz::Violated("a refused body has dimensions");
		return 0;
	}
	const std::size_t element = format == hnsw::InputFormat::kHalfvec ? 2 : 4;
	if (dims < 1 || dims > hnsw::kPgvectorMaxDimensions ||
		body.size() != hnsw::kPgvectorHeaderBytes + element * static_cast<std::size_t>(dims))
		fuzz::Violated("an accepted body does not hold exactly its elements");
	if (format != hnsw::InputFormat::kHalfvec)
	{
		for (int i = 0; i < dims; i++)
		{
			float f;
			std::memcpy(&f, body.data() + hnsw::kPgvectorHeaderBytes + 4 * i, sizeof(f));
			uint16_t h = 0;
			const bool exact = hnsw::FloatToHalfExact(f, &h);
			if (exact != ReferenceIsHalf(f))
				fuzz::Violated("FloatToHalfExact is wrong about whether a half holds a float");
			const float back = hnsw::HalfToFloat(h);
			if (exact && std::memcmp(&back, &f, sizeof(f)) != 0)
				fuzz::Violated("FloatToHalfExact gave a half that holds another float");
		}
		return 0;
	}
	std::vector<float> out(dims);
	hnsw::HalvesToFloats(body.data() + hnsw::kPgvectorHeaderBytes, dims, out.data());
	for (int i = 0; i < dims; i++)
	{
		uint16_t h;
		std::memcpy(&h, body.data() + hnsw::kPgvectorHeaderBytes + 2 * i, sizeof(h));
		const double expected = ReferenceHalf(h);
		if (std::isnan(expected) ? !std::isnan(out[i]) : static_cast<double>(out[i]) != expected)
			fuzz::Violated("a half converted to another value");
	}
	return 0;
}

// pgvector's vector and halfvec bodies: the header checks, and every IEEE half
// converted exactly.
#include "hnsw/vector_formats.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

using namespace quarry::hnsw;

namespace {

// A body: dim, unused, then `element_bytes` of payload per element.
std::vector<unsigned char>
Body(int dim, std::size_t elements, std::size_t element_bytes)
{
	std::vector<unsigned char> body(kPgvectorHeaderBytes + elements * element_bytes, 0);
	const std::int16_t d = static_cast<std::int16_t>(dim);
	std::memcpy(body.data(), &d, sizeof(d));
	return body;
}

// The value of half `h` from its definition, in double.
double
ReferenceHalf(std::uint16_t h)
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

} // namespace

TEST(VectorFormats, ParsesValidHeaders)
{
	int dims = -1;
	auto v = Body(3, 3, 4);
	EXPECT_EQ(ParsePgvector(InputFormat::kVector, v.data(), v.size(), dims), PgvectorProblem::kNone);
	EXPECT_EQ(dims, 3);
	auto h = Body(3, 3, 2);
	EXPECT_EQ(ParsePgvector(InputFormat::kHalfvec, h.data(), h.size(), dims), PgvectorProblem::kNone);
	EXPECT_EQ(dims, 3);
	auto big = Body(16000, 16000, 2);
	EXPECT_EQ(ParsePgvector(InputFormat::kHalfvec, big.data(), big.size(), dims), PgvectorProblem::kNone);
	EXPECT_EQ(dims, 16000);
}

TEST(VectorFormats, RefusesBadHeaders)
{
	int dims = -1;
	auto v = Body(3, 3, 4);
	EXPECT_EQ(ParsePgvector(InputFormat::kVector, v.data(), 3, dims), PgvectorProblem::kTooShort);
	EXPECT_EQ(dims, 0);
	// A vector's body read as a halfvec (and the other way round) has the wrong length.
	EXPECT_EQ(ParsePgvector(InputFormat::kHalfvec, v.data(), v.size(), dims), PgvectorProblem::kBadLength);
	auto h = Body(3, 3, 2);
	EXPECT_EQ(ParsePgvector(InputFormat::kVector, h.data(), h.size(), dims), PgvectorProblem::kBadLength);
	auto zero = Body(0, 0, 4);
	EXPECT_EQ(ParsePgvector(InputFormat::kVector, zero.data(), zero.size(), dims), PgvectorProblem::kBadDimensions);
	auto negative = Body(-2, 0, 4);
	EXPECT_EQ(ParsePgvector(InputFormat::kVector, negative.data(), negative.size(), dims),
			  PgvectorProblem::kBadDimensions);
	auto too_many = Body(16001, 16001, 2);
	EXPECT_EQ(ParsePgvector(InputFormat::kHalfvec, too_many.data(), too_many.size(), dims),
			  PgvectorProblem::kBadDimensions);
	EXPECT_EQ(ParsePgvector(InputFormat::kVector, v.data(), v.size() + 1, dims), PgvectorProblem::kBadLength);
}

// All 65,536 halves against their definition: every finite half is a float
// exactly, infinities stay infinite, NaN stays NaN.
TEST(VectorFormats, EveryHalfConvertsExactly)
{
	for (std::uint32_t h = 0; h <= 0xFFFF; h++)
	{
		const float f = HalfToFloat(static_cast<std::uint16_t>(h));
		const double expected = ReferenceHalf(static_cast<std::uint16_t>(h));
		if (std::isnan(expected))
		{
			EXPECT_TRUE(std::isnan(f)) << std::hex << h;
			continue;
		}
		EXPECT_EQ(static_cast<double>(f), expected) << std::hex << h;
		EXPECT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << h; // -0 too
	}
	EXPECT_EQ(HalfToFloat(0x3C00), 1.0f);
	EXPECT_EQ(HalfToFloat(0xC000), -2.0f);
	EXPECT_EQ(HalfToFloat(0x7BFF), 65504.0f);	   // largest half
	EXPECT_EQ(HalfToFloat(0x0001), 0x1p-24f);	   // smallest subnormal
	EXPECT_EQ(HalfToFloat(0x0400), 0x1p-14f);	   // smallest normal
}

// The way back: every finite half's float converts to that very half (-0
// too); a float between two halves, beyond the largest or below the smallest
// subnormal, and infinities and NaN have no exact half.
TEST(VectorFormats, FloatToHalfExactInvertsEveryHalf)
{
	for (std::uint32_t h = 0; h <= 0xFFFF; h++)
	{
		const auto half = static_cast<std::uint16_t>(h);
		std::uint16_t back = 0;
		if ((h & 0x7C00) == 0x7C00) // infinity, NaN
		{
			EXPECT_FALSE(FloatToHalfExact(HalfToFloat(half), &back)) << std::hex << h;
			continue;
		}
		ASSERT_TRUE(FloatToHalfExact(HalfToFloat(half), &back)) << std::hex << h;
		EXPECT_EQ(back, half) << std::hex << h;
	}
	std::uint16_t out = 0;
	EXPECT_FALSE(FloatToHalfExact(1.0f + 0x1p-11f, &out)); // between 1 and the next half
	EXPECT_FALSE(FloatToHalfExact(0.1f, &out));
	EXPECT_FALSE(FloatToHalfExact(65536.0f, &out));	   // beyond 65504
	EXPECT_FALSE(FloatToHalfExact(0x1p-25f, &out));	   // below the smallest subnormal
	EXPECT_FALSE(FloatToHalfExact(0x1.8p-24f, &out));   // between two subnormals
	EXPECT_FALSE(FloatToHalfExact(0x1p-140f, &out));	   // a float subnormal
	EXPECT_TRUE(FloatToHalfExact(0x3p-24f, &out));
	EXPECT_EQ(out, 0x0003);
}

TEST(VectorFormats, HalvesToFloatsReadsUnaligned)
{
	const std::uint16_t halves[] = {0x3C00, 0xC000, 0x3800, 0x0001};
	std::vector<unsigned char> bytes(1 + sizeof(halves));
	std::memcpy(bytes.data() + 1, halves, sizeof(halves)); // odd address
	float out[4];
	HalvesToFloats(bytes.data() + 1, 4, out);
	EXPECT_EQ(out[0], 1.0f);
	EXPECT_EQ(out[1], -2.0f);
	EXPECT_EQ(out[2], 0.5f);
	EXPECT_EQ(out[3], 0x1p-24f);
}

TEST(VectorFormats, InputFormatCodes)
{
	EXPECT_TRUE(IsValidInputFormat(1));
	EXPECT_TRUE(IsValidInputFormat(2));
	EXPECT_TRUE(IsValidInputFormat(3));
	EXPECT_FALSE(IsValidInputFormat(0));
	EXPECT_FALSE(IsValidInputFormat(4));
}

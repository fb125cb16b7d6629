#include "fts/codec.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

using namespace quarry::fts;

TEST(Codec, BitsNeeded)
{
	EXPECT_EQ(BitsNeeded(std::vector<uint32_t>{}), 0);
	EXPECT_EQ(BitsNeeded(std::vector<uint32_t>{0, 0}), 0);
	EXPECT_EQ(BitsNeeded(std::vector<uint32_t>{1}), 1);
	EXPECT_EQ(BitsNeeded(std::vector<uint32_t>{2, 1}), 2);
	EXPECT_EQ(BitsNeeded(std::vector<uint32_t>{255}), 8);
	EXPECT_EQ(BitsNeeded(std::vector<uint32_t>{256}), 9);
	EXPECT_EQ(BitsNeeded(std::vector<uint32_t>{0xFFFFFFFFu}), 32);
}

TEST(Codec, PackUnpackRoundTripsEveryWidthAndLength)
{
	std::mt19937 rng(42);
	for (uint8_t bits = 0; bits <= 32; bits++)
	{
		for (std::size_t n : {1u, 2u, 7u, 8u, 31u, 64u, 127u, 128u, 200u})
		{
			std::vector<uint32_t> values(n);
			uint64_t limit = bits == 32 ? 0xFFFFFFFFull : ((1ull << bits) - 1);
			for (auto &v : values)
				v = static_cast<uint32_t>(rng() & limit);
			std::vector<uint8_t> packed(PackedBytes(n, bits));
			Pack(values, bits, packed.data());
			std::vector<uint32_t> out(n, 0xDEADBEEF);
			ASSERT_TRUE(Unpack(packed, bits, out)) << int(bits) << "/" << n;
			ASSERT_EQ(out, values) << "bits " << int(bits) << " n " << n;
		}
	}
}

TEST(Codec, PackMasksToWidth)
{
	std::vector<uint32_t> values{0xFF, 0x1FF};
	std::vector<uint8_t> packed(PackedBytes(2, 4));
	Pack(values, 4, packed.data());
	std::vector<uint32_t> out(2);
	ASSERT_TRUE(Unpack(packed, 4, out));
	EXPECT_EQ(out, (std::vector<uint32_t>{0xF, 0xF}));
}

TEST(Codec, UnpackRejectsShortInputAndBadWidth)
{
	std::vector<uint8_t> packed(PackedBytes(128, 7) - 1);
	std::vector<uint32_t> out(128);
	EXPECT_FALSE(Unpack(packed, 7, out));
	std::vector<uint8_t> enough(1000);
	EXPECT_FALSE(Unpack(enough, 33, out));
}

TEST(Codec, UnpackReadsOnlyItsInput)
{
	// The input ends exactly where the packed data ends: the decoder must not
	// read a byte past it (ASan checks this in the sanitizer build).
	for (uint8_t bits = 1; bits <= 32; bits++)
	{
		std::vector<uint32_t> values(13, (bits == 32) ? 0xFFFFFFFFu : (1u << bits) - 1);
		auto *packed = new uint8_t[PackedBytes(13, bits)];
		Pack(values, bits, packed);
		std::vector<uint32_t> out(13);
		ASSERT_TRUE(Unpack({packed, PackedBytes(13, bits)}, bits, out));
		EXPECT_EQ(out, values);
		delete[] packed;
	}
}

TEST(Codec, PrefixSumGaps)
{
	std::vector<uint32_t> gaps{5, 0, 0, 9};
	ASSERT_TRUE(PrefixSumGaps(gaps, 10));
	EXPECT_EQ(gaps, (std::vector<uint32_t>{15, 16, 17, 27}));
	std::vector<uint32_t> overflow{0xFFFFFFF0u, 100};
	EXPECT_FALSE(PrefixSumGaps(overflow, 0));
}

TEST(Codec, VarintRoundTrip)
{
	std::mt19937_64 rng(7);
	std::vector<uint64_t> values{0, 1, 127, 128, 255, 300, 16383, 16384, 0xFFFFFFFFull, ~0ull};
	for (int i = 0; i < 1000; i++)
		values.push_back(rng() >> (rng() % 64));
	std::vector<uint8_t> buf(values.size() * kMaxVarintBytes);
	std::size_t n = 0;
	for (uint64_t v : values)
		n += PutVarint(v, buf.data() + n);
	std::size_t pos = 0;
	for (uint64_t v : values)
	{
		uint64_t got = 0;
		ASSERT_TRUE(GetVarint({buf.data(), n}, pos, got));
		ASSERT_EQ(got, v);
	}
	EXPECT_EQ(pos, n);
}

TEST(Codec, VarintRejectsTruncatedAndOverlong)
{
	uint8_t truncated[] = {0x80, 0x80};
	std::size_t pos = 0;
	uint64_t v;
	EXPECT_FALSE(GetVarint(truncated, pos, v));
	uint8_t overlong[11];
	std::fill(overlong, overlong + 11, 0x80);
	pos = 0;
	EXPECT_FALSE(GetVarint(overlong, pos, v));
}

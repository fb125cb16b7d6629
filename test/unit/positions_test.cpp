#include "fts/positions.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

using namespace quarry::fts;

namespace {

struct Block {
	std::vector<uint32_t> tfs;
	std::vector<uint32_t> positions; // every document's, in block order
	std::vector<uint8_t> bytes;

	void
	Encode()
	{
		bytes.assign(EncodedPositionsSize(tfs, positions), 0xCC);
		EncodePositions(tfs, positions, bytes);
	}

	// The positions of document d.
	std::vector<uint32_t>
	Doc(std::size_t d) const
	{
		std::size_t start = 0;
		for (std::size_t i = 0; i < d; i++)
			start += tfs[i];
		return {positions.begin() + static_cast<std::ptrdiff_t>(start),
				positions.begin() + static_cast<std::ptrdiff_t>(start + tfs[d])};
	}
};

// Appends tf non-decreasing positions in [1, max_pos] (sorted random draws: so
// repeats happen when tf is large against max_pos).
void
AddDoc(Block &b, std::mt19937 &rng, uint32_t tf, uint32_t max_pos)
{
	std::vector<uint32_t> p(tf);
	for (auto &v : p)
		v = 1 + rng() % max_pos;
	std::sort(p.begin(), p.end());
	b.tfs.push_back(tf);
	b.positions.insert(b.positions.end(), p.begin(), p.end());
}

// Checks that every document of b reads back, in a shuffled order (random
// access) and then in order.
void
ExpectRoundTrip(const Block &b)
{
	PositionsBlockReader reader;
	ASSERT_TRUE(reader.Open(b.bytes, b.tfs));
	EXPECT_EQ(reader.bytes_used(), b.bytes.size());
	ASSERT_EQ(reader.doc_count(), b.tfs.size());
	std::vector<uint32_t> order(b.tfs.size());
	for (std::size_t i = 0; i < order.size(); i++)
		order[i] = static_cast<uint32_t>(i);
	std::mt19937 rng(static_cast<uint32_t>(b.bytes.size()));
	std::shuffle(order.begin(), order.end(), rng);
	for (int pass = 0; pass < 2; pass++)
	{
		for (uint32_t d : order)
		{
			std::vector<uint32_t> out(b.tfs[d], 0xDEADBEEF);
			ASSERT_EQ(reader.Tf(d), b.tfs[d]);
			ASSERT_TRUE(reader.Positions(d, out)) << d;
			ASSERT_EQ(out, b.Doc(d)) << "doc " << d;
		}
		std::sort(order.begin(), order.end());
	}
}

} // namespace

TEST(Positions, RoundTripRandomBlocks)
{
	std::mt19937 rng(11);
	for (int trial = 0; trial < 400; trial++)
	{
		Block b;
		const uint32_t docs = 1 + rng() % kBlockSize;
		const uint32_t max_tf = 1 + rng() % (trial % 4 == 0 ? 300 : 5);
		const uint32_t max_pos = trial % 3 == 0 ? 16383 : 1 + rng() % 200;
		for (uint32_t d = 0; d < docs; d++)
			AddDoc(b, rng, 1 + rng() % max_tf, max_pos);
		b.Encode();
		ASSERT_NO_FATAL_FAILURE(ExpectRoundTrip(b)) << "trial " << trial;
	}
}

TEST(Positions, EdgeCases)
{
	Block one; // a single document, tf 1
	one.tfs = {1};
	one.positions = {1};
	one.Encode();
	EXPECT_EQ(one.bytes.size(), 2u); // a width byte and one byte of 1 bit
	ExpectRoundTrip(one);

	Block full; // 128 documents, tf 1 each, at the largest position
	for (std::size_t d = 0; d < kBlockSize; d++)
	{
		full.tfs.push_back(1);
		full.positions.push_back(16383);
	}
	full.Encode();
	EXPECT_EQ(full.bytes.size(), 1u + 128 * 14 / 8);
	ExpectRoundTrip(full);

	Block clamp; // the clamp: repeats of 16383 (gaps of 0), tf up to 300
	for (uint32_t tf : {300u, 1u, 257u, 128u, 129u})
	{
		clamp.tfs.push_back(tf);
		for (uint32_t i = 0; i < tf; i++)
			clamp.positions.push_back(std::min(16383u, 16300 + i));
	}
	clamp.Encode();
	ExpectRoundTrip(clamp);

	Block zeros; // every gap 0 after the first position
	zeros.tfs = {200, 3};
	zeros.positions.assign(203, 16383);
	zeros.Encode();
	ExpectRoundTrip(zeros);
}

TEST(Positions, TruncatedInputFailsAtOpen)
{
	std::mt19937 rng(3);
	Block b;
	for (int d = 0; d < 40; d++)
		AddDoc(b, rng, 1 + rng() % 9, 500);
	b.Encode();
	PositionsBlockReader reader;
	for (std::size_t len = 0; len < b.bytes.size(); len++)
	{
		// An exact-size copy, so that the sanitizer build sees any overread.
		std::vector<uint8_t> prefix(b.bytes.begin(), b.bytes.begin() + static_cast<std::ptrdiff_t>(len));
		EXPECT_FALSE(reader.Open(prefix, b.tfs)) << len;
	}
	std::vector<uint8_t> longer = b.bytes;
	longer.resize(longer.size() + 9, 0xEE); // trailing bytes are someone else's
	EXPECT_TRUE(reader.Open(longer, b.tfs));
	EXPECT_EQ(reader.bytes_used(), b.bytes.size());
}

TEST(Positions, RejectsMalformedInputAndCalls)
{
	Block b;
	b.tfs = {2, 1};
	b.positions = {5, 9, 3};
	b.Encode();
	PositionsBlockReader reader;
	std::vector<uint32_t> zero_tf{2, 0}, none, too_many(kBlockSize + 1, 1);
	EXPECT_FALSE(reader.Open(b.bytes, zero_tf));
	EXPECT_FALSE(reader.Open(b.bytes, none));
	EXPECT_FALSE(reader.Open(std::vector<uint8_t>(1000, 1), too_many));
	std::vector<uint8_t> wide = b.bytes;
	wide[0] = 33; // a width above 32
	wide.resize(1000);
	EXPECT_FALSE(reader.Open(wide, b.tfs));

	ASSERT_TRUE(reader.Open(b.bytes, b.tfs));
	uint32_t out[2];
	EXPECT_FALSE(reader.Positions(0, {out, 1})); // the output is too small
	EXPECT_FALSE(reader.Positions(2, out));		 // no such document
	EXPECT_TRUE(reader.Positions(0, out));
	EXPECT_EQ(out[0], 5u);
	EXPECT_EQ(out[1], 9u);

	// Gaps that sum past 32 bits: a damaged block, not a wrapped position.
	std::vector<uint32_t> tfs{2};
	std::vector<uint8_t> overflow{32, 0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0, 0, 0};
	ASSERT_TRUE(reader.Open(overflow, tfs));
	EXPECT_FALSE(reader.Positions(0, out));
	// tfs whose sum overflows 32 bits are refused before anything is read.
	std::vector<uint32_t> huge{0xFFFFFFFFu, 2};
	EXPECT_FALSE(reader.Open(overflow, huge));
}

namespace {

// A collection of paragraphs: lengths uniform in [min_len, max_len] words, a
// share of stop words (they take a position but give no lexeme), the others
// drawn from a Zipf(1.07) vocabulary. Returns, per term, its documents' tfs and
// positions in document order.
struct TermPostings {
	std::vector<uint32_t> tfs;
	std::vector<uint32_t> positions;
};

std::vector<TermPostings>
Paragraphs(std::mt19937 &rng, uint32_t docs, uint32_t min_len, uint32_t max_len, double stop_share)
{
	constexpr uint32_t kVocabulary = 200000;
	std::vector<double> cdf(kVocabulary);
	double sum = 0;
	for (uint32_t t = 0; t < kVocabulary; t++)
		cdf[t] = sum += 1.0 / std::pow(t + 1.0, 1.07);
	std::uniform_real_distribution<double> unit(0, sum);
	std::vector<TermPostings> terms(kVocabulary);
	std::vector<std::vector<uint32_t>> doc_positions(kVocabulary);
	std::vector<uint32_t> touched;
	for (uint32_t d = 0; d < docs; d++)
	{
		const uint32_t len = min_len + rng() % (max_len - min_len + 1);
		touched.clear();
		for (uint32_t p = 1; p <= len; p++)
		{
			if (std::generate_canonical<double, 32>(rng) < stop_share)
				continue;
			const uint32_t t = static_cast<uint32_t>(std::lower_bound(cdf.begin(), cdf.end(), unit(rng)) - cdf.begin());
			if (doc_positions[t].empty())
				touched.push_back(t);
			doc_positions[t].push_back(p);
		}
		for (uint32_t t : touched)
		{
			terms[t].tfs.push_back(static_cast<uint32_t>(doc_positions[t].size()));
			terms[t].positions.insert(terms[t].positions.end(), doc_positions[t].begin(), doc_positions[t].end());
			doc_positions[t].clear();
		}
	}
	return terms;
}

struct Measure {
	std::size_t positions = 0;
	std::size_t postings = 0;
	std::size_t bytes = 0;
	double decode_ns_per_position = 0;
	double full_block_ns_per_position = 0; // blocks of 128 documents only
};

// Opens each block and reads every document's positions, `repeat` times;
// returns the nanoseconds per position read, or 0 when a block fails.
double
TimeDecode(const std::vector<std::vector<uint8_t>> &blocks,
		   const std::vector<std::span<const uint32_t>> &block_tfs,
		   bool full_only,
		   int repeat)
{
	PositionsBlockReader reader;
	uint32_t out[4096];
	uint64_t check = 0, read = 0;
	const auto start = std::chrono::steady_clock::now();
	for (int r = 0; r < repeat; r++)
		for (std::size_t b = 0; b < blocks.size(); b++)
		{
			if (full_only && block_tfs[b].size() < kBlockSize)
				continue;
			if (!reader.Open(blocks[b], block_tfs[b]))
				return 0;
			for (uint32_t d = 0; d < reader.doc_count(); d++)
				if (reader.Tf(d) <= 4096 && reader.Positions(d, out))
				{
					check += out[0];
					read += reader.Tf(d);
				}
		}
	const auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
	return check > 0 ? ns / static_cast<double>(read) : 0;
}

// Encodes every term's blocks of 128 documents, then decodes every document of
// every block (in order, as a phrase query's scan would), timing it.
Measure
EncodeAndDecode(const std::vector<TermPostings> &terms)
{
	Measure m;
	std::vector<std::vector<uint8_t>> blocks;
	std::vector<std::span<const uint32_t>> block_tfs;
	for (const TermPostings &t : terms)
	{
		std::size_t at = 0;
		for (std::size_t first = 0; first < t.tfs.size(); first += kBlockSize)
		{
			std::span<const uint32_t> tfs(t.tfs.data() + first, std::min(kBlockSize, t.tfs.size() - first));
			std::size_t n = 0;
			for (uint32_t tf : tfs)
				n += tf;
			std::span<const uint32_t> positions(t.positions.data() + at, n);
			at += n;
			blocks.emplace_back(EncodedPositionsSize(tfs, positions));
			EncodePositions(tfs, positions, blocks.back());
			block_tfs.push_back(tfs);
			m.bytes += blocks.back().size();
			m.positions += n;
			m.postings += tfs.size();
		}
	}
	m.decode_ns_per_position = TimeDecode(blocks, block_tfs, false, 1);
	m.full_block_ns_per_position = TimeDecode(blocks, block_tfs, true, 5);
	return m;
}

} // namespace

TEST(Positions, RealisticSizeIsUnderOneAndAHalfBytesPerPosition)
{
	std::mt19937 rng(2026);
	struct Shape {
		const char *name;
		uint32_t min_len, max_len;
		double stop_share;
	} shapes[] = {{"60-word paragraphs, no stop words", 40, 80, 0.0},
				  {"100-word paragraphs, 35% stop words", 40, 160, 0.35},
				  {"20..400 words, 35% stop words", 20, 400, 0.35}};
	for (const Shape &s : shapes)
	{
		const Measure m = EncodeAndDecode(Paragraphs(rng, 30000, s.min_len, s.max_len, s.stop_share));
		ASSERT_GT(m.positions, 0u);
		const double per_position = static_cast<double>(m.bytes) / static_cast<double>(m.positions);
		std::printf("  %-38s %zu postings, %zu positions, %.3f bytes/position, decode %.1f ns/position "
					"(%.1f in blocks of 128)\n",
					s.name,
					m.postings,
					m.positions,
					per_position,
					m.decode_ns_per_position,
					m.full_block_ns_per_position);
		EXPECT_LT(per_position, 1.5) << s.name;
	}
}

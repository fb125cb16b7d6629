// Rank fusion (src/fusion): RRF and the weighted min-max sum against values
// worked by hand, the tie order, a row on both sides, one side empty, and a
// randomised comparison with a direct (map-based) computation.
#include "fusion/fusion.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

using namespace quarry::fusion;

namespace {

// Fuses and returns the rows in order.
std::vector<Fused>
FuseAll(const std::vector<Candidate> &text, const std::vector<Candidate> &vector, const Options &options)
{
	std::vector<Fused> out(text.size() + vector.size());
	out.resize(Fuse(text, vector, options, out));
	return out;
}

TEST(Fusion, RrfByHand)
{
	// Row 7 is text rank 1 and vector rank 2; row 8 vector rank 1 only; row 9 text rank 2 only.
	auto out = FuseAll({{7, 3.0}, {9, 1.0}}, {{8, 0.1}, {7, 0.2}}, Options{Method::kRrf, 60, 0.5});
	ASSERT_EQ(out.size(), 3u);
	EXPECT_EQ(out[0].row, 7u);
	EXPECT_DOUBLE_EQ(out[0].score, 1.0 / 61 + 1.0 / 62);
	EXPECT_EQ(out[0].text_rank, 1u);
	EXPECT_EQ(out[0].vector_rank, 2u);
	EXPECT_DOUBLE_EQ(out[0].text_score, 3.0);
	EXPECT_DOUBLE_EQ(out[0].vector_distance, 0.2);
	EXPECT_EQ(out[1].row, 8u); // 1/61 beats row 9's 1/62
	EXPECT_EQ(out[1].text_rank, 0u);
	EXPECT_EQ(out[2].row, 9u);
	EXPECT_DOUBLE_EQ(out[2].score, 1.0 / 62);
}

TEST(Fusion, TiesGoToTheTextSideThenByRank)
{
	// Rows 1 (text rank 1) and 2 (vector rank 1) tie at 1/61: the text side's comes first.
	auto out = FuseAll({{1, 5.0}}, {{2, 0.5}}, Options{});
	ASSERT_EQ(out.size(), 2u);
	EXPECT_EQ(out[0].score, out[1].score);
	EXPECT_EQ(out[0].row, 1u);
	EXPECT_EQ(out[1].row, 2u);
	// Same order whichever way the rows are numbered.
	out = FuseAll({{2, 5.0}}, {{1, 0.5}}, Options{});
	EXPECT_EQ(out[0].row, 2u);
	// Vector-only ties: lower vector rank first.
	Fused a{1, 0.5, 0, 3, 0, 0}, b{2, 0.5, 0, 2, 0, 0};
	EXPECT_TRUE(FusedBefore(b, a));
	EXPECT_FALSE(FusedBefore(a, b));
}

TEST(Fusion, LinearMinMaxByHand)
{
	// Text scores 4, 2, 1 -> 1, 1/3, 0; distances 0.1, 0.3 -> 1, 0.
	Options o{Method::kLinear, 60, 0.25};
	auto out = FuseAll({{1, 4.0}, {2, 2.0}, {3, 1.0}}, {{3, 0.1}, {4, 0.3}}, o);
	std::map<uint64_t, double> score;
	for (const Fused &f : out)
		score[f.row] = f.score;
	EXPECT_DOUBLE_EQ(score[1], 0.25);
	EXPECT_DOUBLE_EQ(score[2], 0.25 * (1.0 / 3));
	EXPECT_DOUBLE_EQ(score[3], 0.75); // 0.25 * 0 + 0.75 * 1
	EXPECT_DOUBLE_EQ(score[4], 0.0);
	EXPECT_EQ(out[0].row, 3u);
	EXPECT_EQ(out[1].row, 1u);
	// Rows 4 (vector only) and nothing else at 0: ties resolved, 4 last.
	EXPECT_EQ(out.back().row, 4u);
}

TEST(Fusion, AllEqualValuesNormaliseToOne)
{
	auto out = FuseAll({{1, 2.0}, {2, 2.0}}, {{3, 0.5}}, Options{Method::kLinear, 60, 0.5});
	for (const Fused &f : out)
		EXPECT_DOUBLE_EQ(f.score, 0.5);
	EXPECT_EQ(out[0].row, 1u);
	EXPECT_EQ(out[1].row, 2u);
	EXPECT_EQ(out[2].row, 3u);
}

TEST(Fusion, OneSideEmpty)
{
	auto out = FuseAll({}, {{5, 0.1}, {6, 0.2}}, Options{});
	ASSERT_EQ(out.size(), 2u);
	EXPECT_EQ(out[0].row, 5u);
	EXPECT_EQ(out[0].text_rank, 0u);
	EXPECT_TRUE(FuseAll({}, {}, Options{}).empty());
	out = FuseAll({{9, 1.0}}, {}, Options{Method::kLinear, 60, 0.3});
	ASSERT_EQ(out.size(), 1u);
	EXPECT_DOUBLE_EQ(out[0].score, 0.3);
}

TEST(Fusion, Validate)
{
	EXPECT_EQ(Validate(Options{}), nullptr);
	EXPECT_NE(Validate(Options{Method::kRrf, 0, 0.5}), nullptr);
	EXPECT_NE(Validate(Options{Method::kRrf, -1, 0.5}), nullptr);
	EXPECT_NE(Validate(Options{Method::kLinear, 60, 1.5}), nullptr);
	EXPECT_NE(Validate(Options{Method::kLinear, 60, -0.1}), nullptr);
	EXPECT_EQ(Validate(Options{Method::kLinear, 60, 1.0}), nullptr);
	// Checked whichever fusion reads them.
	EXPECT_NE(Validate(Options{Method::kLinear, -1, 0.5}), nullptr);
	EXPECT_NE(Validate(Options{Method::kRrf, 60, 2}), nullptr);
}

TEST(Fusion, FindRow)
{
	auto out = FuseAll({{30, 1.0}, {10, 0.5}}, {{20, 0.1}, {30, 0.2}}, Options{});
	SortByRow(out);
	ASSERT_NE(FindRow(out, 30), nullptr);
	EXPECT_EQ(FindRow(out, 30)->vector_rank, 2u);
	EXPECT_EQ(FindRow(out, 10)->text_rank, 2u);
	EXPECT_EQ(FindRow(out, 15), nullptr);
	EXPECT_EQ(FindRow(out, 99), nullptr);
}

// Random sides against a direct computation: every row once, the scores, the order.
TEST(Fusion, RandomAgainstDirect)
{
	std::mt19937_64 rng(14);
	for (int round = 0; round < 200; round++)
	{
		std::vector<uint64_t> rows(40);
		for (uint64_t i = 0; i < rows.size(); i++)
			rows[i] = i * 7 + 3;
		std::shuffle(rows.begin(), rows.end(), rng);
		std::size_t nt = rng() % 20, nv = rng() % 20;
		std::vector<Candidate> text, vector;
		double s = 10;
		for (std::size_t i = 0; i < nt; i++)
			text.push_back({rows[i], s -= (rng() % 3) * 0.5}); // repeated scores included
		double d = 0;
		std::shuffle(rows.begin(), rows.end(), rng);
		for (std::size_t i = 0; i < nv; i++)
			vector.push_back({rows[i], d += (rng() % 3) * 0.25});
		Options o{round % 2 ? Method::kLinear : Method::kRrf, 1.0 + round % 70, (round % 11) / 10.0};
		auto out = FuseAll(text, vector, o);
		std::map<uint64_t, double> want;
		auto range = [](const std::vector<Candidate> &c) {
			double lo = c.empty() ? 0 : c[0].value, hi = lo;
			for (auto &x : c)
				lo = std::min(lo, x.value), hi = std::max(hi, x.value);
			return std::pair{lo, hi};
		};
		auto [tlo, thi] = range(text);
		auto [vlo, vhi] = range(vector);
		for (std::size_t i = 0; i < text.size(); i++)
			want[text[i].row] += o.method == Method::kRrf ? 1.0 / (o.k + i + 1)
								 : o.weight * (thi > tlo ? (text[i].value - tlo) / (thi - tlo) : 1.0);
		for (std::size_t i = 0; i < vector.size(); i++)
			want[vector[i].row] += o.method == Method::kRrf ? 1.0 / (o.k + i + 1)
								   : (1 - o.weight) * (vhi > vlo ? (vhi - vector[i].value) / (vhi - vlo) : 1.0);
		ASSERT_EQ(out.size(), want.size());
		for (std::size_t i = 0; i < out.size(); i++)
		{
			EXPECT_DOUBLE_EQ(out[i].score, want[out[i].row]);
			if (i > 0)
			{
				EXPECT_TRUE(FusedBefore(out[i - 1], out[i]));
			}
		}
	}
}

} // namespace

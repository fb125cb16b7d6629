// FieldUnion (BM25F over several fields): block-max WAND, MaxScore and the
// exhaustive run over union cursors return exactly the top k of a brute-force
// BM25F (fts/field_union.h) computed from the documents, scores to the last
// bit; the union's bound covers every document.
#include "fts/field_union.h"

#include "fts_fixture.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>

using namespace quarry::fts;
using namespace quarry::fts::testing;

namespace {

// Two or three fields over the same documents: a Collection per field
// (its own lengths and terms), and a query term's union over them.
struct Fields {
	std::vector<Collection> fields;
	std::vector<FieldNorm> norms;
	Bm25Params params{1.2, 0.75};
	uint32_t docs;

	Fields(std::mt19937 &rng, uint32_t doc_count, uint32_t field_count, uint32_t parts) : docs(doc_count)
	{
		for (uint32_t f = 0; f < field_count; f++)
		{
			fields.emplace_back(rng, doc_count, 30 + 20 * f, parts);
			CollectionStats s = fields.back().Stats();
			norms.push_back(FieldNorm{1.0 + f * 1.5, params.b, s.AverageLength()});
		}
	}

	// BM25F of document d for `terms`, summed in term order (+0.0 for terms
	// it lacks), as the index scores a row's tokens.
	double
	Score(const std::vector<uint32_t> &terms, const std::vector<TermScorer> &scorers, DocId d) const
	{
		double s = 0;
		for (std::size_t i = 0; i < terms.size(); i++)
		{
			double freq = 0;
			for (uint32_t f = 0; f < fields.size(); f++)
			{
				auto it = fields[f].doc_terms[d].find(terms[i]);
				double tf = it == fields[f].doc_terms[d].end() ? 0 : it->second;
				freq += norms[f].Freq(tf, fields[f].lengths[d]);
			}
			s += freq == 0 ? 0.0 : scorers[i].Score(freq, 0);
		}
		return s;
	}
};

// A query over the fields: per field a Query (its cursors), per term a union.
struct FieldQuery {
	std::vector<std::unique_ptr<Query>> per_field;
	std::vector<std::unique_ptr<Lengths>> lengths;
	std::vector<std::vector<FieldUnion::Member>> members;
	std::vector<FieldUnion> unions;
	std::vector<TermScorer> scorers;
	std::vector<TermCursor> cursors;
	std::vector<TermCursor *> order;
	std::vector<double> scratch;

	FieldQuery(const Fields &f, const std::vector<uint32_t> &terms)
	{
		for (const Collection &c : f.fields)
		{
			per_field.push_back(std::make_unique<Query>(c, terms, f.params));
			lengths.push_back(std::make_unique<Lengths>());
			lengths.back()->lengths = &c.lengths;
		}
		const Bm25Params folded{f.params.k1, 0.0};
		CollectionStats stats{f.docs, f.docs};
		members.resize(terms.size());
		unions.resize(terms.size());
		cursors.resize(terms.size());
		for (std::size_t i = 0; i < terms.size(); i++)
		{
			uint32_t df = 0;
			for (const Collection &c : f.fields)
				df = std::max(df, c.df[terms[i]]);
			scorers.emplace_back(folded, stats, df, 1);
		}
		for (std::size_t i = 0; i < terms.size(); i++)
		{
			double freq_bound = 0;
			for (std::size_t k = 0; k < f.fields.size(); k++)
			{
				TermCursor &c = per_field[k]->cursors[i];
				members[i].push_back({&c, lengths[k].get(), f.norms[k]});
				freq_bound += FreqBoundFromScore(per_field[k]->scorers[i], f.norms[k], c.upper_bound());
			}
			double bound = std::isinf(freq_bound) ? scorers[i].weight() * (f.params.k1 + 1)
												  : scorers[i].Score(freq_bound, 0);
			bound *= 1 + kBoundMargin;
			unions[i].Init(members[i].data(), static_cast<uint32_t>(members[i].size()), &scorers[i], bound);
			cursors[i].InitComposite(&unions[i], &scorers[i], bound, static_cast<uint32_t>(i));
			order.push_back(&cursors[i]);
		}
		scratch.resize(terms.size());
	}

	WandInput
	Input(DocLengths *lens)
	{
		WandInput in;
		in.cursors = order;
		in.term_count = static_cast<uint32_t>(cursors.size());
		in.term_scores = scratch.data();
		in.lengths = lens;
		return in;
	}
};

std::vector<ScoredDoc>
BruteForce(const Fields &f, const std::vector<uint32_t> &terms, const std::vector<TermScorer> &scorers, std::size_t k)
{
	std::vector<ScoredDoc> all;
	for (DocId d = 0; d < f.docs; d++)
	{
		double s = f.Score(terms, scorers, d);
		if (s > 0)
			all.push_back({s, d});
	}
	std::sort(all.begin(), all.end(), [](const ScoredDoc &a, const ScoredDoc &b) {
		return a.score != b.score ? a.score > b.score : a.doc < b.doc;
	});
	if (all.size() > k)
		all.resize(k);
	return all;
}

enum class Algorithm { kWand, kMaxScore, kExhaustive };

std::vector<ScoredDoc>
RunOn(const Fields &f, const std::vector<uint32_t> &terms, std::size_t k, Algorithm run)
{
	FieldQuery q(f, terms);
	std::vector<ScoredDoc> storage(k);
	TopK top(storage.data(), k);
	WandInput in = q.Input(q.lengths[0].get());
	if (run == Algorithm::kMaxScore)
	{
		Scratch scratch(256, terms.size());
		MaxScoreTopK(in, scratch.view, top);
	}
	else if (run == Algorithm::kWand)
		BlockMaxWand(in, top);
	else
		ExhaustiveTopK(in, top);
	auto res = top.Finalize();
	return {res.begin(), res.end()};
}

} // namespace

TEST(FieldUnion, TopKEqualsBruteForceBm25f)
{
	std::mt19937 rng(20261205);
	for (int round = 0; round < 30; round++)
	{
		const uint32_t field_count = 2 + round % 2;
		Fields f(rng, 400 + rng() % 1500, field_count, 1 + rng() % 3);
		std::vector<uint32_t> terms;
		const uint32_t n = 1 + rng() % 4;
		while (terms.size() < n)
		{
			uint32_t t = rng() % 30;
			if (std::find(terms.begin(), terms.end(), t) == terms.end())
				terms.push_back(t);
		}
		FieldQuery reference(f, terms);
		const std::size_t k = 1 + rng() % 20;
		auto want = BruteForce(f, terms, reference.scorers, k);
		for (Algorithm run : {Algorithm::kWand, Algorithm::kMaxScore, Algorithm::kExhaustive})
		{
			auto got = RunOn(f, terms, k, run);
			ASSERT_EQ(got.size(), want.size()) << "round " << round << " run " << static_cast<int>(run);
			for (std::size_t i = 0; i < got.size(); i++)
			{
				ASSERT_EQ(got[i].doc, want[i].doc) << "round " << round << " rank " << i;
				ASSERT_EQ(got[i].score, want[i].score) << "round " << round << " rank " << i; // bit for bit
			}
		}
	}
}

TEST(FieldUnion, BoundCoversEveryDocument)
{
	std::mt19937 rng(7);
	Fields f(rng, 2000, 3, 2);
	for (uint32_t t = 0; t < 30; t++)
	{
		FieldQuery q(f, {t});
		TermCursor &c = q.cursors[0];
		for (; c.doc() != kEndDoc; c.Next())
			ASSERT_LE(c.scorer().Score(c.Freq(), 0), c.upper_bound()) << "term " << t << " doc " << c.doc();
	}
}

TEST(FieldUnion, FreqFoldsFieldsWithTheirNormalisation)
{
	FieldNorm title{3.0, 0.75, 4.0}, body{1.0, 0.75, 100.0};
	// tf 1 in a 4-word title: 3 * 1 / 1; tf 2 in a 50-word body: 2 / (0.25 + 0.375).
	EXPECT_DOUBLE_EQ(title.Freq(1, 4), 3.0);
	EXPECT_DOUBLE_EQ(body.Freq(2, 50), 2.0 / 0.625);
	EXPECT_EQ(FieldNorm({1.0, 1.0, 5.0}).Freq(0, 0), 0.0); // an empty field with b = 1: 0, not 0/0
}

TEST(FieldUnion, BlockMaxSkipsStayRankSafeForOneTerm)
{
	std::mt19937 rng(99);
	for (int round = 0; round < 20; round++)
	{
		Fields f(rng, 4000 + rng() % 4000, 2 + round % 2, 1 + rng() % 3);
		const std::vector<uint32_t> terms{static_cast<uint32_t>(rng() % 10)};
		FieldQuery reference(f, terms);
		const std::size_t k = 1 + rng() % 5;
		auto want = BruteForce(f, terms, reference.scorers, k);
		auto got = RunOn(f, terms, k, Algorithm::kWand);
		ASSERT_EQ(got.size(), want.size()) << "round " << round;
		for (std::size_t i = 0; i < got.size(); i++)
		{
			ASSERT_EQ(got[i].doc, want[i].doc) << "round " << round << " rank " << i;
			ASSERT_EQ(got[i].score, want[i].score) << "round " << round << " rank " << i;
		}
	}
}

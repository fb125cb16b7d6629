#include "fts_fixture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <vector>

using namespace quarry::fts;
using namespace quarry::fts::testing;

namespace {

void
ExpectSame(const std::vector<ScoredDoc> &got, const std::vector<ScoredDoc> &want, std::size_t k,
		   const std::string &what)
{
	std::size_t n = std::min(k, want.size());
	ASSERT_EQ(got.size(), n) << what;
	for (std::size_t i = 0; i < n; i++)
	{
		ASSERT_EQ(got[i].doc, want[i].doc) << what << " rank " << i;
		ASSERT_EQ(got[i].score, want[i].score) << what << " rank " << i; // bit-identical
	}
}

enum class Algo { kBlockMaxWand, kExhaustive, kMaxScore };

std::vector<ScoredDoc>
RunWand(Query &q, DocLengths *lengths, DocAdmission *admission, ResumeAfter after, std::size_t k, Algo algo,
		WandCounters *counters = nullptr)
{
	std::vector<ScoredDoc> storage(k);
	TopK top(storage.data(), k);
	WandInput in = q.Input(lengths, admission, after);
	WandCounters c;
	if (algo == Algo::kMaxScore)
	{
		Scratch scratch(256, q.terms.size());
		c = MaxScoreTopK(in, scratch.view, top);
		EXPECT_TRUE(scratch.Clean()) << "MaxScore left its scratch dirty";
	}
	else
		c = algo == Algo::kExhaustive ? ExhaustiveTopK(in, top) : BlockMaxWand(in, top);
	if (counters)
		*counters = c;
	auto res = top.Finalize();
	return {res.begin(), res.end()};
}

} // namespace

TEST(TopK, KeepsTheBestWithDocIdTieBreak)
{
	std::vector<ScoredDoc> storage(3);
	TopK top(storage.data(), 3);
	EXPECT_EQ(top.Threshold(), 0.0);
	for (auto d : std::vector<ScoredDoc>{{1.0, 5}, {2.0, 1}, {1.0, 3}, {3.0, 9}, {1.0, 2}, {0.5, 0}})
		top.Push(d);
	EXPECT_TRUE(top.full());
	EXPECT_EQ(top.Threshold(), 1.0);
	EXPECT_FALSE(top.WouldEnter({1.0, 4})); // ties lose to the smaller doc id held
	EXPECT_TRUE(top.WouldEnter({1.0, 1}));
	auto r = top.Finalize();
	ASSERT_EQ(r.size(), 3u);
	EXPECT_EQ(r[0].doc, 9u);
	EXPECT_EQ(r[1].doc, 1u);
	EXPECT_EQ(r[2].doc, 2u); // of the three docs at 1.0, the smallest id
}

TEST(BlockMaxWand, MatchesExhaustiveTopKOnRandomCollections)
{
	int cases = 0;
	for (uint32_t seed = 0; seed < 60; seed++)
	{
		std::mt19937 rng(seed);
		uint32_t parts = 1 + seed % 4;
		Collection c(rng, 500 + rng() % 3000, 50 + rng() % 400, parts);
		Lengths lengths;
		lengths.lengths = &c.lengths;
		for (int qn = 0; qn < 8; qn++)
		{
			auto terms = RandomTerms(rng, static_cast<uint32_t>(c.df.size()), 1 + rng() % 8);
			for (Bm25Params params : {Bm25Params{1.2, 0.75}, Bm25Params{0.9, 0.4}, Bm25Params{2.0, 1.0},
									  Bm25Params{0.0, 0.5}})
			{
				auto want = BruteForce(c, terms, params, nullptr, {});
				for (std::size_t k : {1u, 3u, 10u, 100u, 5000u})
				{
					for (Algo algo : {Algo::kBlockMaxWand, Algo::kExhaustive, Algo::kMaxScore})
					{
						Query q(c, terms, params);
						auto got = RunWand(q, &lengths, nullptr, {}, k, algo);
						ExpectSame(got, want, k,
								   "seed " + std::to_string(seed) + " k " + std::to_string(k) + " algorithm " +
									   std::to_string(static_cast<int>(algo)));
					}
					cases++;
				}
			}
		}
	}
	EXPECT_GT(cases, 1000);
}

TEST(BlockMaxWand, PrunesOnLongLists)
{
	std::mt19937 rng(99);
	Collection c(rng, 60000, 30, 1);
	Lengths lengths;
	lengths.lengths = &c.lengths;
	std::vector<uint32_t> terms{0, 1, 2, 25};
	Query q(c, terms, Bm25Params{});
	WandCounters counters;
	auto got = RunWand(q, &lengths, nullptr, {}, 10, Algo::kBlockMaxWand, &counters);
	ExpectSame(got, BruteForce(c, terms, Bm25Params{}, nullptr, {}), 10, "long lists");
	uint64_t matching = 0;
	for (auto &dt : c.doc_terms)
		matching += dt.count(0) || dt.count(1) || dt.count(2) || dt.count(25);
	// Block-max WAND must score far fewer documents than match.
	EXPECT_LT(counters.scored * 4, matching) << counters.scored << " of " << matching;
	EXPECT_GT(counters.block_skips, 0u);
}

TEST(BlockMaxWand, AdmissionAndResumeAfter)
{
	std::mt19937 rng(5);
	Collection c(rng, 4000, 200, 3);
	Lengths lengths;
	lengths.lengths = &c.lengths;
	for (int qn = 0; qn < 30; qn++)
	{
		auto terms = RandomTerms(rng, 200, 1 + rng() % 5);
		DropSome drop;
		for (int i = 0; i < 400; i++)
			drop.dropped.insert(rng() % c.doc_count);
		auto all = BruteForce(c, terms, Bm25Params{}, &drop, {});
		// Page through the whole ranking, 7 at a time, resuming after the last row.
		ResumeAfter after;
		std::vector<ScoredDoc> paged;
		for (int page = 0; page < 10000; page++)
		{
			Query q(c, terms, Bm25Params{});
			Algo algo = page % 3 == 0 ? Algo::kBlockMaxWand : (page % 3 == 1 ? Algo::kExhaustive : Algo::kMaxScore);
			auto got = RunWand(q, &lengths, &drop, after, 7, algo);
			paged.insert(paged.end(), got.begin(), got.end());
			if (got.size() < 7)
				break;
			after = {true, got.back().score, got.back().doc};
		}
		ExpectSame(paged, all, all.size(), "paging");
	}
}

TEST(BlockMaxWand, InterruptCheckIsCalled)
{
	std::mt19937 rng(11);
	Collection c(rng, 20000, 5, 1);
	Lengths lengths;
	lengths.lengths = &c.lengths;
	Query q(c, {0, 1, 2, 3, 4}, Bm25Params{});
	int calls = 0;
	WandInput in = q.Input(&lengths, nullptr, {});
	in.interrupt.check = [](void *arg) { ++*static_cast<int *>(arg); };
	in.interrupt.arg = &calls;
	std::vector<ScoredDoc> storage(20000);
	TopK top(storage.data(), 20000);
	ExhaustiveTopK(in, top);
	EXPECT_GT(calls, 0);
	std::size_t matching = 0;
	for (auto &dt : c.doc_terms)
		matching += !dt.empty(); // every doc holds one of the 5 terms
	EXPECT_EQ(top.size(), matching);
}

TEST(MaxScore, SkipsNonEssentialTermsOnLongLists)
{
	std::mt19937 rng(99);
	Collection c(rng, 60000, 30, 2);
	Lengths lengths;
	lengths.lengths = &c.lengths;
	lengths.window = 2038;
	std::vector<uint32_t> terms{0, 1, 2, 25};
	Query q(c, terms, Bm25Params{});
	WandCounters counters;
	auto got = RunWand(q, &lengths, nullptr, {}, 10, Algo::kMaxScore, &counters);
	ExpectSame(got, BruteForce(c, terms, Bm25Params{}, nullptr, {}), 10, "maxscore long lists");
	uint64_t matching = 0;
	for (auto &dt : c.doc_terms)
		matching += dt.count(0) || dt.count(1) || dt.count(2) || dt.count(25);
	// Far fewer documents are scored in full than match.
	EXPECT_LT(counters.scored * 4, matching) << counters.scored << " of " << matching;
}

TEST(MaxScore, WindowsOfOneDocumentStillWork)
{
	std::mt19937 rng(12);
	Collection c(rng, 700, 40, 3);
	Lengths lengths;
	lengths.lengths = &c.lengths;
	lengths.window = 1;
	auto terms = RandomTerms(rng, 40, 4);
	Query q(c, terms, Bm25Params{});
	ExpectSame(RunWand(q, &lengths, nullptr, {}, 20, Algo::kMaxScore), BruteForce(c, terms, Bm25Params{}, nullptr, {}),
			   20, "width 1");
}

namespace {

Clauses
RandomClauses(std::mt19937 &rng, const std::vector<uint32_t> &terms, uint32_t vocabulary)
{
	Clauses clauses;
	for (uint32_t t : terms)
		if (rng() % 3 == 0)
			clauses.required.push_back(t);
	// A group of query terms, one of which must occur (a required prefix's
	// expansions); sometimes empty (a prefix that expands to nothing).
	if (rng() % 3 == 0)
	{
		clauses.required_any.emplace_back();
		for (uint32_t t : terms)
			if (rng() % 2 == 0)
				clauses.required_any.back().push_back(t);
	}
	// Excluded terms may be query terms too ("a -a" matches nothing with a).
	for (uint32_t i = 0, n = rng() % 3; i < n; i++)
		clauses.excluded.push_back(rng() % vocabulary);
	return clauses;
}

} // namespace

// Required and excluded terms filter the ranked run through its admission,
// with required terms checked on the cursors the run moves: every algorithm
// still returns exactly the brute-force top k of the qualifying documents.
TEST(ClauseFilter, RankSafeWithRequiredAndExcludedTerms)
{
	int cases = 0, nonempty = 0;
	for (uint32_t seed = 0; seed < 30; seed++)
	{
		std::mt19937 rng(1000 + seed);
		Collection c(rng, 500 + rng() % 3000, 20 + rng() % 200, 1 + seed % 4);
		Lengths lengths;
		lengths.lengths = &c.lengths;
		const auto vocabulary = static_cast<uint32_t>(c.df.size());
		for (int qn = 0; qn < 10; qn++)
		{
			auto terms = RandomTerms(rng, vocabulary, 1 + rng() % 6);
			Clauses clauses = RandomClauses(rng, terms, vocabulary);
			DropSome drop;
			for (int i = 0; i < 50; i++)
				drop.dropped.insert(rng() % c.doc_count);
			Bm25Params params{0.5 + (rng() % 100) / 50.0, (rng() % 101) / 100.0};
			auto want = BruteForce(c, terms, params, &drop, {}, &clauses);
			nonempty += !want.empty();
			for (std::size_t k : {1u, 10u, 100u, 5000u})
				for (Algo algo : {Algo::kBlockMaxWand, Algo::kExhaustive, Algo::kMaxScore})
				{
					Query q(c, terms, params);
					ClauseAdmission admission(c, q, clauses, params, &drop);
					auto got = RunWand(q, &lengths, &admission.admission, {}, k, algo);
					ExpectSame(got, want, k,
							   "seed " + std::to_string(seed) + " query " + std::to_string(qn) + " k " +
								   std::to_string(k) + " algorithm " + std::to_string(static_cast<int>(algo)));
					cases++;
				}
		}
	}
	EXPECT_GT(cases, 3000);
	EXPECT_GT(nonempty, 200); // the clauses leave something to rank in most queries
}

// Paging through a filtered ranking (resume after the last row, as the index
// scan's continuation does) gives the whole filtered ranking.
TEST(ClauseFilter, PagingThroughAFilteredRanking)
{
	std::mt19937 rng(77);
	Collection c(rng, 4000, 120, 3);
	Lengths lengths;
	lengths.lengths = &c.lengths;
	for (int qn = 0; qn < 20; qn++)
	{
		auto terms = RandomTerms(rng, 120, 2 + rng() % 4);
		Clauses clauses = RandomClauses(rng, terms, 120);
		auto all = BruteForce(c, terms, Bm25Params{}, nullptr, {}, &clauses);
		ResumeAfter after;
		std::vector<ScoredDoc> paged;
		for (int page = 0; page < 10000; page++)
		{
			Query q(c, terms, Bm25Params{});
			ClauseAdmission admission(c, q, clauses, Bm25Params{}, nullptr);
			Algo algo = page % 3 == 0 ? Algo::kBlockMaxWand : (page % 3 == 1 ? Algo::kExhaustive : Algo::kMaxScore);
			auto got = RunWand(q, &lengths, &admission.admission, after, 11, algo);
			paged.insert(paged.end(), got.begin(), got.end());
			if (got.size() < 11)
				break;
			after = {true, got.back().score, got.back().doc};
		}
		ExpectSame(paged, all, all.size(), "filtered paging, query " + std::to_string(qn));
	}
}

TEST(ClauseFilter, MatchesOnTheCursorsWithoutMovingThem)
{
	std::mt19937 rng(3);
	Collection c(rng, 1500, 30, 2);
	Query q(c, {0, 5, 9}, Bm25Params{});
	Clauses clauses{{5}, {9}, {}};
	ClauseAdmission admission(c, q, clauses, Bm25Params{}, nullptr);
	TermCursor &required = q.cursors[1];
	required.NextGeq(700);
	const DocId at = required.doc();
	for (DocId d = 0; d < c.doc_count; d++)
		ASSERT_EQ(admission.admission.Admit(d), clauses.Qualifies(c, d)) << "doc " << d;
	EXPECT_EQ(required.doc(), at);
}

#include "fts/term_cursor.h"
#include "fts/wand.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <vector>

using namespace quarry::fts;

namespace {

// A random collection split into parts, with every term's posting list
// encoded per part, and a brute-force scorer to check against.
struct Collection {
	uint32_t doc_count = 0;
	std::vector<uint32_t> lengths;
	std::vector<std::map<uint32_t, uint32_t>> doc_terms; // doc -> term -> tf
	std::vector<DocId> part_bases;						  // ascending, first 0
	// lists[term][part] = encoded bytes (empty if the term is absent there)
	std::vector<std::vector<std::vector<uint8_t>>> lists;
	std::vector<std::vector<ImpactSummary>> impacts;
	std::vector<uint32_t> df;

	Collection(std::mt19937 &rng, uint32_t docs, uint32_t terms, uint32_t parts)
	{
		doc_count = docs;
		lengths.resize(docs);
		doc_terms.resize(docs);
		df.assign(terms, 0);
		// Zipf-ish term popularity so some terms are long, many short.
		std::vector<double> weights(terms);
		for (uint32_t t = 0; t < terms; t++)
			weights[t] = 1.0 / (t + 1);
		std::discrete_distribution<uint32_t> pick(weights.begin(), weights.end());
		for (uint32_t d = 0; d < docs; d++)
		{
			uint32_t n = 1 + rng() % 40;
			for (uint32_t k = 0; k < n; k++)
				doc_terms[d][pick(rng)] += 1;
			uint32_t len = 0;
			for (auto &[t, tf] : doc_terms[d])
				len += tf;
			lengths[d] = len + rng() % 20; // stop words count in the length too
		}
		for (auto &dt : doc_terms)
			for (auto &[t, tf] : dt)
				df[t]++;
		part_bases.push_back(0);
		for (uint32_t p = 1; p < parts; p++)
			part_bases.push_back(docs * p / parts);
		lists.assign(terms, std::vector<std::vector<uint8_t>>(parts));
		impacts.assign(terms, std::vector<ImpactSummary>(parts));
		for (uint32_t t = 0; t < terms; t++)
			for (uint32_t p = 0; p < parts; p++)
				EncodePart(t, p);
	}

	DocId
	PartEnd(uint32_t p) const
	{
		return p + 1 < part_bases.size() ? part_bases[p + 1] : doc_count;
	}

	void
	EncodePart(uint32_t t, uint32_t p)
	{
		std::vector<DocId> docs;
		std::vector<uint32_t> tfs, lens;
		for (DocId d = part_bases[p]; d < PartEnd(p); d++)
		{
			auto it = doc_terms[d].find(t);
			if (it == doc_terms[d].end())
				continue;
			docs.push_back(d - part_bases[p]);
			tfs.push_back(it->second);
			lens.push_back(lengths[d]);
		}
		if (docs.empty())
			return;
		lists[t][p].resize(EncodedPostingListSize(docs, tfs));
		impacts[t][p] = EncodePostingList(docs, tfs, lens, lists[t][p]);
	}

	CollectionStats
	Stats() const
	{
		CollectionStats s{doc_count, 0};
		for (uint32_t l : lengths)
			s.total_length += l;
		return s;
	}
};

struct Lengths final : DocLengths {
	const std::vector<uint32_t> *lengths;
	uint32_t window = 300; // windows end at multiples of this (like pages)
	uint32_t Length(DocId d) override { return (*lengths)[d]; }
	std::span<const uint32_t>
	Window(DocId first, uint32_t max_count) override
	{
		uint32_t n = std::min<uint32_t>({max_count, window - first % window,
										  static_cast<uint32_t>(lengths->size()) - first});
		return {lengths->data() + first, n};
	}
};

// Zero-filled MaxScore scratch for `terms` terms.
struct Scratch {
	std::vector<double> partial, prefix;
	std::vector<uint32_t> tfs;
	std::vector<uint64_t> marks;
	MaxScoreScratch view;
	Scratch(uint32_t capacity, std::size_t terms)
		: partial(capacity), prefix(terms + 1), tfs(terms * capacity), marks((capacity + 63) / 64)
	{
		view = {capacity, partial.data(), tfs.data(), marks.data(), prefix.data()};
	}
	bool
	Clean() const
	{
		return std::all_of(partial.begin(), partial.end(), [](double d) { return d == 0; }) &&
			   std::all_of(tfs.begin(), tfs.end(), [](uint32_t t) { return t == 0; }) &&
			   std::all_of(marks.begin(), marks.end(), [](uint64_t m) { return m == 0; });
	}
};

struct DropSome final : DocAdmission {
	std::set<DocId> dropped;
	bool Admit(DocId d) override { return dropped.count(d) == 0; }
};

// Everything one query needs, built over a Collection.
struct Query {
	std::vector<uint32_t> terms; // distinct
	std::vector<TermScorer> scorers;
	std::vector<MemoryPostingBytes> bytes;
	std::vector<PostingCursor> part_cursors;
	std::vector<std::vector<TermCursor::Part>> parts;
	std::vector<TermCursor> cursors;
	std::vector<TermCursor *> order;
	std::vector<double> scratch;

	Query(const Collection &c, std::vector<uint32_t> query_terms, Bm25Params params)
		: terms(std::move(query_terms))
	{
		CollectionStats stats = c.Stats();
		scorers.reserve(terms.size());
		bytes.reserve(terms.size() * c.part_bases.size());
		part_cursors.reserve(terms.size() * c.part_bases.size());
		parts.resize(terms.size());
		cursors.resize(terms.size());
		for (std::size_t i = 0; i < terms.size(); i++)
		{
			uint32_t t = terms[i];
			scorers.emplace_back(params, stats, c.df[t], 1);
			double ub = 0;
			for (uint32_t p = 0; p < c.part_bases.size(); p++)
			{
				const auto &list = c.lists[t][p];
				if (list.empty())
					continue;
				bytes.emplace_back(list.data(), list.size());
				part_cursors.emplace_back();
				PostingCursor &pc = part_cursors.back();
				EXPECT_TRUE(pc.Open(&bytes.back()));
				// the list's last doc: walk to it via Contains-free means
				PostingCursor probe;
				probe.Open(&bytes.back());
				DocId last = 0;
				probe.NextGeq(0);
				while (probe.doc() != kEndDoc)
				{
					last = probe.doc();
					probe.Next();
				}
				parts[i].push_back({&pc, c.part_bases[p], c.part_bases[p] + last});
				ub = std::max(ub, c.impacts[t][p].Bound(scorers.back()));
			}
			cursors[i].Init(parts[i].data(), static_cast<uint32_t>(parts[i].size()), &scorers[i], ub,
							static_cast<uint32_t>(i));
			order.push_back(&cursors[i]);
		}
		scratch.resize(terms.size());
	}

	WandInput
	Input(DocLengths *lengths, DocAdmission *admission, ResumeAfter after)
	{
		WandInput in;
		in.cursors = order;
		in.term_count = static_cast<uint32_t>(terms.size());
		in.term_scores = scratch.data();
		in.lengths = lengths;
		in.admission = admission;
		in.after = after;
		return in;
	}
};

// Brute force: every doc with a query term, scored in term order, sorted.
std::vector<ScoredDoc>
BruteForce(const Collection &c, const std::vector<uint32_t> &terms, Bm25Params params, const DropSome *drop,
		   ResumeAfter after)
{
	CollectionStats stats = c.Stats();
	std::vector<ScoredDoc> all;
	for (DocId d = 0; d < c.doc_count; d++)
	{
		std::vector<double> contrib(terms.size(), 0.0);
		bool any = false;
		for (std::size_t i = 0; i < terms.size(); i++)
		{
			auto it = c.doc_terms[d].find(terms[i]);
			if (it == c.doc_terms[d].end())
				continue;
			any = true;
			contrib[i] = TermScorer(params, stats, c.df[terms[i]], 1).Score(it->second, c.lengths[d]);
		}
		if (!any || (drop && drop->dropped.count(d)))
			continue;
		double s = SumInTermOrder(contrib.data(), static_cast<uint32_t>(contrib.size()));
		if (after.Allows(s, d))
			all.push_back({s, d});
	}
	std::sort(all.begin(), all.end(), RanksBefore);
	return all;
}

std::vector<uint32_t>
RandomTerms(std::mt19937 &rng, uint32_t vocabulary, std::size_t n)
{
	std::set<uint32_t> s;
	while (s.size() < n)
		s.insert(rng() % vocabulary);
	std::vector<uint32_t> v(s.begin(), s.end());
	std::shuffle(v.begin(), v.end(), rng);
	return v;
}

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

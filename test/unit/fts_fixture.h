// A small in-memory BM25 collection with encoded posting lists, the cursors
// of a query over it, and a brute-force scorer: the reference the unit tests
// (wand_test.cpp) and the engine fuzzer (test/fuzz/engine_fuzz.cpp) compare
// block-max WAND and MaxScore against.
#pragma once

#include "fts/clause_filter.h"
#include "fts/term_cursor.h"
#include "fts/wand.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <vector>

namespace quarry::fts::testing {

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

	template <typename Rng>
	Collection(Rng &rng, uint32_t docs, uint32_t terms, uint32_t parts)
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
	std::vector<double> partial, prefix, window_prefix;
	std::vector<double> tfs;
	std::vector<uint64_t> marks;
	MaxScoreScratch view;
	Scratch(uint32_t capacity, std::size_t terms)
		: partial(capacity), prefix(terms + 1), window_prefix(terms + 1), tfs(terms * capacity), marks((capacity + 63) / 64)
	{
		view = {capacity, partial.data(), tfs.data(), marks.data(), prefix.data(), window_prefix.data()};
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
				if (!pc.Open(&bytes.back()))
					std::abort(); // a list just encoded always opens
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

// The boolean clauses of a query: terms every result holds (a subset of the
// query's terms), groups of query terms of which every result holds one (a
// required prefix's expansions; possibly empty), and terms no result holds.
struct Clauses {
	std::vector<uint32_t> required;
	std::vector<uint32_t> excluded;
	std::vector<std::vector<uint32_t>> required_any;

	bool
	Qualifies(const Collection &c, DocId d) const
	{
		const auto &held = c.doc_terms[d];
		auto holds = [&](uint32_t t) { return held.count(t) != 0; };
		return std::all_of(required.begin(), required.end(), holds) &&
			   std::none_of(excluded.begin(), excluded.end(), holds) &&
			   std::all_of(required_any.begin(), required_any.end(),
						   [&](const std::vector<uint32_t> &g) { return std::any_of(g.begin(), g.end(), holds); });
	}
};

// The admission of a query with clauses over `ranked` (the query whose cursors
// the run moves): required terms are checked on those very cursors, excluded
// terms on cursors of their own, as the index scan does.
struct ClauseAdmission {
	Query excluded_query;
	std::vector<std::vector<TermCursor *>> required;
	std::vector<CursorGroup> groups;
	std::vector<TermCursor *> excluded;
	FilteredAdmission admission;

	ClauseAdmission(const Collection &c, Query &ranked, const Clauses &clauses, Bm25Params params,
					DocAdmission *base)
		: excluded_query(c, clauses.excluded, params), admission(base, Filter(ranked, clauses))
	{
	}
	ClauseAdmission(const ClauseAdmission &) = delete;
	ClauseAdmission &operator=(const ClauseAdmission &) = delete;

private:
	static TermCursor *
	CursorOf(Query &ranked, uint32_t t)
	{
		auto at = std::find(ranked.terms.begin(), ranked.terms.end(), t);
		if (at == ranked.terms.end())
			std::abort(); // required terms are query terms
		return &ranked.cursors[at - ranked.terms.begin()];
	}

	ClauseFilter
	Filter(Query &ranked, const Clauses &clauses)
	{
		for (uint32_t t : clauses.required)
			required.push_back({CursorOf(ranked, t)});
		for (const std::vector<uint32_t> &g : clauses.required_any)
		{
			required.emplace_back();
			for (uint32_t t : g)
				required.back().push_back(CursorOf(ranked, t));
		}
		for (const std::vector<TermCursor *> &g : required)
			groups.push_back(CursorGroup(g.data(), g.size()));
		for (TermCursor &cursor : excluded_query.cursors)
			excluded.push_back(&cursor);
		return ClauseFilter{groups, excluded};
	}
};

// Brute force: every doc with a query term (and satisfying the clauses, if
// any), scored in term order, sorted.
inline std::vector<ScoredDoc>
BruteForce(const Collection &c, const std::vector<uint32_t> &terms, Bm25Params params, const DropSome *drop,
		   ResumeAfter after, const Clauses *clauses = nullptr)
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
		if (!any || (drop && drop->dropped.count(d)) || (clauses && !clauses->Qualifies(c, d)))
			continue;
		double s = SumInTermOrder(contrib.data(), static_cast<uint32_t>(contrib.size()));
		if (after.Allows(s, d))
			all.push_back({s, d});
	}
	std::sort(all.begin(), all.end(), RanksBefore);
	return all;
}

template <typename Rng>
std::vector<uint32_t>
RandomTerms(Rng &rng, uint32_t vocabulary, std::size_t n)
{
	std::set<uint32_t> s;
	while (s.size() < n)
		s.insert(rng() % vocabulary);
	std::vector<uint32_t> v(s.begin(), s.end());
	std::shuffle(v.begin(), v.end(), rng);
	return v;
}

} // namespace quarry::fts::testing

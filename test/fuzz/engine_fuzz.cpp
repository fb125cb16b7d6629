// Rank safety under fuzzing: a collection and a query shaped by the input
// (sizes, term popularity, parts, k, k1, b, removed documents, a resume point,
// the required and excluded terms of a query with clauses) are searched with
// block-max WAND, windowed MaxScore and exhaustive scoring; all three must
// return exactly the brute-force top k, bit for bit, and MaxScore must leave
// its scratch clean.
#include "fuzz_input.h"
#include "fts_fixture.h"

#include <random>
#include <vector>

using namespace quarry;
using namespace quarry::fts;
using namespace quarry::fts::testing;

namespace {

/// A random bit generator that yields the input's bytes first, then a
/// generator seeded by them: mutations of the input change the collection.
class InputRng {
public:
	using result_type = uint32_t;
	static constexpr result_type min() { return 0; }
	static constexpr result_type max() { return 0xFFFFFFFFu; }
	InputRng(fuzz::FuzzInput &in, uint32_t seed) : in_(in), fallback_(seed) {}
	result_type operator()() { return in_.empty() ? fallback_() : in_.Take<uint32_t>(); }

private:
	fuzz::FuzzInput &in_;
	std::mt19937 fallback_;
};

std::vector<ScoredDoc>
Run(const Collection &c, Query &q, const Clauses &clauses, Bm25Params params, Lengths &lengths, DropSome *drop,
	ResumeAfter after, std::size_t k, int algo)
{
	std::vector<ScoredDoc> storage(k);
	TopK top(storage.data(), k);
	ClauseAdmission admission(c, q, clauses, params, drop);
	WandInput in = q.Input(&lengths, &admission.admission, after);
	if (algo == 0)
		BlockMaxWand(in, top);
	else if (algo == 1)
		ExhaustiveTopK(in, top);
	else
	{
		Scratch scratch(1 + static_cast<uint32_t>(k % 300), q.terms.size());
		MaxScoreTopK(in, scratch.view, top);
		if (!scratch.Clean())
			fuzz::Violated("MaxScore left its scratch dirty");
	}
	auto res = top.Finalize();
	return {res.begin(), res.end()};
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size)
{
	fuzz::FuzzInput in(data, size);
	const uint32_t docs = 1 + in.Below(3000);
	const uint32_t vocabulary = 1 + in.Below(200);
	const uint32_t parts = 1 + in.Below(4);
	const std::size_t k = 1 + in.Below(200);
	const Bm25Params params{in.Below(301) / 100.0, in.Below(101) / 100.0};
	const std::size_t query_terms = 1 + in.Below(std::min<uint32_t>(vocabulary, 8));
	InputRng rng(in, static_cast<uint32_t>(size));
	Collection c(rng, docs, vocabulary, parts);
	std::vector<uint32_t> terms = RandomTerms(rng, vocabulary, query_terms);
	DropSome drop;
	for (uint32_t i = 0, n = rng() % 50; i < n; i++)
		drop.dropped.insert(rng() % docs);
	Clauses clauses;
	if (rng() % 2 == 0)
	{
		for (uint32_t t : terms)
			if (rng() % 3 == 0)
				clauses.required.push_back(t);
		if (rng() % 3 == 0)
		{
			clauses.required_any.emplace_back(); // a required prefix's expansions
			for (uint32_t t : terms)
				if (rng() % 2 == 0)
					clauses.required_any.back().push_back(t);
		}
		for (uint32_t i = 0, n = rng() % 3; i < n; i++)
			clauses.excluded.push_back(rng() % vocabulary);
	}
	ResumeAfter after{};
	std::vector<ScoredDoc> full = BruteForce(c, terms, params, &drop, after, &clauses);
	if (!full.empty() && rng() % 3 == 0)
	{
		const ScoredDoc &pivot = full[rng() % full.size()];
		after = {true, pivot.score, pivot.doc};
	}
	std::vector<ScoredDoc> want = BruteForce(c, terms, params, &drop, after, &clauses);
	if (want.size() > k)
		want.resize(k);
	Lengths lengths;
	lengths.lengths = &c.lengths;
	lengths.window = 1 + rng() % 400;
	for (int algo = 0; algo < 3; algo++)
	{
		Query q(c, terms, params);
		std::vector<ScoredDoc> got = Run(c, q, clauses, params, lengths, &drop, after, k, algo);
		if (got.size() != want.size())
			fuzz::Violated("top-k size differs from brute force");
		for (std::size_t i = 0; i < got.size(); i++)
			if (got[i].doc != want[i].doc || got[i].score != want[i].score)
				fuzz::Violated(algo == 0 ? "block-max WAND differs from brute force"
							   : algo == 1 ? "exhaustive top-k differs from brute force"
										   : "MaxScore differs from brute force");
	}
	return 0;
}

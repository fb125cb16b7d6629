#include "fts/term_expansion.h"

#include <algorithm>

namespace quarry::fts {

// Optimal string alignment by rows (Wagner-Fischer with the transposition
// case), keeping three rows; stops once a whole row exceeds `max`, since no
// later row can fall below its minimum.
uint32_t
BoundedEditDistance(std::span<const uint32_t> a, std::span<const uint32_t> b, uint32_t max,
					std::span<uint32_t> scratch)
{
	const std::size_t n = a.size(), m = b.size();
	if ((n > m ? n - m : m - n) > max)
		return max + 1;
	uint32_t *before = scratch.data();	 // row i - 2
	uint32_t *previous = before + m + 1; // row i - 1
	uint32_t *current = previous + m + 1;
	for (std::size_t j = 0; j <= m; j++)
		previous[j] = static_cast<uint32_t>(j);
	for (std::size_t i = 1; i <= n; i++)
	{
		current[0] = static_cast<uint32_t>(i);
		uint32_t row_min = current[0];
		for (std::size_t j = 1; j <= m; j++)
		{
			const uint32_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			uint32_t d = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
				d = std::min(d, before[j - 2] + 1);
			current[j] = d;
			row_min = std::min(row_min, d);
		}
		if (row_min > max)
			return max + 1;
		std::swap(before, previous); // before <- row i - 1 ...
		std::swap(previous, current); // ... previous <- row i; current is free
	}
	return std::min(previous[m], max + 1);
}

double
FuzzyBoost(uint32_t edits, std::size_t query_chars, std::size_t term_chars)
{
	if (edits == 0)
		return 1.0;
	const std::size_t shorter = std::min(query_chars, term_chars);
	return shorter == 0 ? 0.0 : 1.0 - static_cast<double>(edits) / static_cast<double>(shorter);
}

namespace {

// Sorts by text and folds equal texts into their first candidate.
std::size_t
MergeEqualTexts(std::span<ExpansionCandidate> c)
{
	std::sort(c.begin(), c.end(), [](const ExpansionCandidate &x, const ExpansionCandidate &y) {
		return x.text < y.text;
	});
	std::size_t count = 0;
	for (std::size_t i = 0; i < c.size(); i++)
	{
		if (count > 0 && c[count - 1].text == c[i].text)
		{
			c[count - 1].doc_freq += c[i].doc_freq;
			continue;
		}
		c[count++] = c[i];
	}
	return count;
}

} // namespace

std::size_t
SelectExpansions(std::span<ExpansionCandidate> candidates, ExpansionOrder order, std::size_t max)
{
	const std::size_t count = MergeEqualTexts(candidates);
	auto better = [order](const ExpansionCandidate &x, const ExpansionCandidate &y) {
		if (order == ExpansionOrder::kByEdits && x.edits != y.edits)
			return x.edits < y.edits;
		if (x.doc_freq != y.doc_freq)
			return x.doc_freq > y.doc_freq;
		return x.text < y.text;
	};
	const std::size_t kept = std::min(count, max);
	std::partial_sort(candidates.begin(), candidates.begin() + kept, candidates.begin() + count, better);
	return kept;
}

uint64_t
BlendedDocFreq(std::span<const ExpansionCandidate> kept)
{
	uint64_t df = 0;
	for (const ExpansionCandidate &c : kept)
		df = std::max(df, c.doc_freq);
	return df;
}

} // namespace quarry::fts

// Rank fusion (fusion.h): merging two candidate lists by row, scoring each
// row with RRF or a weighted sum of min-max normalised values, sorting.
#include "fusion/fusion.h"

#include <algorithm>
#include <cmath>

namespace quarry::fusion {
namespace {

// The smallest and largest value of a side (0, 0 when it is empty).
struct Range {
	double min = 0;
	double max = 0;
};

// The range of `side`'s values.
Range
RangeOf(std::span<const Candidate> side)
{
	Range r;
	if (side.empty())
		return r;
	r.min = r.max = side[0].value;
	for (const Candidate &c : side)
	{
		r.min = std::min(r.min, c.value);
		r.max = std::max(r.max, c.value);
	}
	return r;
}

// Min-max normalisation of `value` in `r`, higher is better: a score as it
// is, a distance turned around. All values equal normalise to 1.
double
Normalise(double value, const Range &r, bool lower_is_better)
{
	if (!(r.max > r.min))
		return 1.0;
	return lower_is_better ? (r.max - value) / (r.max - r.min) : (value - r.min) / (r.max - r.min);
}

// The fused score of one merged row.
double
Score(const Fused &f, const Options &options, const Range &text, const Range &vector)
{
	double score = 0;
	if (options.method == Method::kRrf)
	{
		if (f.text_rank != 0)
			score += 1.0 / (options.k + f.text_rank);
		if (f.vector_rank != 0)
			score += 1.0 / (options.k + f.vector_rank);
		return score;
	}
	if (f.text_rank != 0)
		score += options.weight * Normalise(f.text_score, text, false);
	if (f.vector_rank != 0)
		score += (1.0 - options.weight) * Normalise(f.vector_distance, vector, true);
	return score;
}

} // namespace

const char *
Validate(const Options &options)
{
	// Both, whichever fusion reads them: an out-of-range value is a mistake
	// even where it has no effect.
	if (!(options.k > 0 && std::isfinite(options.k)))
		return "k must be a finite number above 0";
	if (!(options.weight >= 0 && options.weight <= 1))
		return "weight must be between 0 and 1";
	return nullptr;
}

bool
FusedBefore(const Fused &a, const Fused &b)
{
	if (a.score != b.score)
		return a.score > b.score;
	// Absent (0) after every rank: compare rank - 1 as unsigned.
	if (a.text_rank != b.text_rank)
		return a.text_rank - 1u < b.text_rank - 1u;
	return a.vector_rank - 1u < b.vector_rank - 1u;
}

std::size_t
Fuse(std::span<const Candidate> text, std::span<const Candidate> vector, const Options &options,
	 std::span<Fused> out)
{
	std::size_t n = 0;
	for (std::size_t i = 0; i < text.size(); i++)
		out[n++] = Fused{text[i].row, 0, static_cast<uint32_t>(i + 1), 0, text[i].value, 0};
	for (std::size_t i = 0; i < vector.size(); i++)
		out[n++] = Fused{vector[i].row, 0, 0, static_cast<uint32_t>(i + 1), 0, vector[i].value};
	std::span<Fused> rows = out.first(n);
	SortByRow(rows);
	// A row on both sides is two adjacent entries: fold the second into the first.
	std::size_t kept = 0;
	for (std::size_t i = 0; i < n; i++)
	{
		if (kept > 0 && out[kept - 1].row == out[i].row)
		{
			Fused &f = out[kept - 1];
			if (out[i].text_rank != 0)
			{
				f.text_rank = out[i].text_rank;
				f.text_score = out[i].text_score;
			}
			if (out[i].vector_rank != 0)
			{
				f.vector_rank = out[i].vector_rank;
				f.vector_distance = out[i].vector_distance;
			}
			continue;
		}
		out[kept++] = out[i];
	}
	const Range text_range = RangeOf(text);
	const Range vector_range = RangeOf(vector);
	for (std::size_t i = 0; i < kept; i++)
		out[i].score = Score(out[i], options, text_range, vector_range);
	std::sort(out.begin(), out.begin() + kept, FusedBefore);
	return kept;
}

void
SortByRow(std::span<Fused> rows)
{
	std::sort(rows.begin(), rows.end(), [](const Fused &a, const Fused &b) {
		return a.row < b.row;
	});
}

const Fused *
FindRow(std::span<const Fused> sorted_by_row, uint64_t row)
{
	auto it = std::lower_bound(sorted_by_row.begin(), sorted_by_row.end(), row,
							   [](const Fused &f, uint64_t r) { return f.row < r; });
	return it != sorted_by_row.end() && it->row == row ? &*it : nullptr;
}

} // namespace quarry::fusion

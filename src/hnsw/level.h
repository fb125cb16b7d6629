// Random levels of new nodes (Malkov & Yashunin 2018, Algorithm 1, line 4).
#pragma once

#include <algorithm>
#include <cmath>

namespace quarry::hnsw {

/// Highest layer a node may get. With m >= 2 a level above 15 has probability
/// below 2^-15 per node at m = 2 and vanishes for usual m; the cap keeps every
/// upper-layer neighbour list of a node on one index page.
inline constexpr int kMaxLevel = 15;

/// The level multiplier mL = 1 / ln(m) the paper recommends.
inline double
LevelMultiplier(int m)
{
	return 1.0 / std::log(static_cast<double>(m));
}

/// floor(-ln(u) * mL) for a uniform u in (0, 1], capped at kMaxLevel.
inline int
RandomLevel(double uniform, double level_multiplier)
{
	if (!(uniform > 0.0))
		uniform = 1e-300;
	double level = -std::log(std::min(uniform, 1.0)) * level_multiplier;
	return static_cast<int>(std::min(level, static_cast<double>(kMaxLevel)));
}

} // namespace quarry::hnsw

// The instruction-set-specific kernels behind distance.h. Internal to src/hnsw.
#pragma once

#include "hnsw/distance.h"

namespace quarry::hnsw::detail {

/// The AVX2+FMA kernels, or nullptr if the CPU or the build lacks them.
const Kernels *Avx2Kernels();

/// The AVX-512F kernels, or nullptr if the CPU or the build lacks them.
const Kernels *Avx512Kernels();

} // namespace quarry::hnsw::detail

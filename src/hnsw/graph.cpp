#include "hnsw/graph.h"

#include "hnsw/level.h"

#include <cmath>
#include <cstring>

namespace quarry::hnsw {

BuildGraph::BuildGraph(mem::BuildArena &arena, const GraphParams &params)
	: arena_(arena),
	  params_(params),
	  links_bytes_(sizeof(std::uint32_t) * (1 + 2 * static_cast<std::size_t>(params.m))),
	  record_bytes_(Level0RecordBytes(params.dims, params.m)),
	  chunk_shift_(0),
	  chunk_nodes_(1),
	  chunks_(mem::BuildAllocator<unsigned char *>(arena)),
	  upper_(mem::BuildAllocator<std::uint32_t *>(arena)),
	  labels_(mem::BuildAllocator<std::uint64_t>(arena)),
	  levels_(mem::BuildAllocator<std::uint8_t>(arena)),
	  duplicate_of_(mem::BuildAllocator<std::uint32_t>(arena)),
	  next_duplicate_(mem::BuildAllocator<std::uint32_t>(arena))
{
	while ((static_cast<std::size_t>(chunk_nodes_) * 2) * record_bytes_ <= kChunkBytes && chunk_shift_ < 20)
	{
		chunk_nodes_ *= 2;
		chunk_shift_++;
	}
}

void
BuildGraph::MarkDuplicate(std::uint32_t id, std::uint32_t primary)
{
	duplicate_of_[id] = primary;
	next_duplicate_[id] = next_duplicate_[primary];
	next_duplicate_[primary] = id;
	levels_[id] = 0; // no upper layers (its upper block stays unused)
}

std::size_t
BuildGraph::NextNodeBytes(int level) const
{
	std::size_t bytes = sizeof(std::uint64_t) + sizeof(std::uint32_t *) + 1 + 2 * sizeof(std::uint32_t);
	if ((size_ & (chunk_nodes_ - 1)) == 0)
		bytes += static_cast<std::size_t>(chunk_nodes_) * record_bytes_;
	bytes += static_cast<std::size_t>(level) * UpperLevelBytes(params_.m);
	return bytes;
}

std::uint32_t
BuildGraph::Append(std::span<const float> vector, std::uint64_t label, int level)
{
	const std::uint32_t id = size_;
	if ((id & (chunk_nodes_ - 1)) == 0)
	{
		std::size_t bytes = static_cast<std::size_t>(chunk_nodes_) * record_bytes_;
		chunks_.push_back(static_cast<unsigned char *>(arena_.Allocate(bytes, 64)));
		memory_bytes_ += bytes;
	}
	std::uint32_t *upper = nullptr;
	if (level > 0)
	{
		std::size_t bytes = static_cast<std::size_t>(level) * UpperLevelBytes(params_.m);
		upper = static_cast<std::uint32_t *>(arena_.Allocate(bytes, alignof(std::uint32_t)));
		std::memset(upper, 0, bytes);
		memory_bytes_ += bytes;
	}
	upper_.push_back(upper);
	labels_.push_back(label);
	levels_.push_back(static_cast<std::uint8_t>(level));
	duplicate_of_.push_back(kInvalidNode);
	next_duplicate_.push_back(kInvalidNode);
	memory_bytes_ += sizeof(std::uint64_t) + sizeof(std::uint32_t *) + 1 + 2 * sizeof(std::uint32_t);

	unsigned char *record = Record(id);
	std::memset(record, 0, links_bytes_);
	std::memcpy(record + links_bytes_, vector.data(), vector.size_bytes());
	size_ = id + 1;
	return id;
}

double
BuildGraph::EstimateBytesPerNode(const GraphParams &params)
{
	// Expected number of upper layers per node: sum over l >= 1 of
	// P(level >= l) = sum (1/m)^l = 1 / (m - 1).
	double upper_levels = 1.0 / (params.m - 1);
	return static_cast<double>(Level0RecordBytes(params.dims, params.m)) +
		   upper_levels * static_cast<double>(UpperLevelBytes(params.m)) + sizeof(std::uint64_t) +
		   sizeof(std::uint32_t *) + 1 + 2 * sizeof(std::uint32_t) + sizeof(std::uint16_t);
}

} // namespace quarry::hnsw

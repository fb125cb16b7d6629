#include "memory/scan_arena.h"

#include <algorithm>

namespace quarry::mem {

namespace {

void *
HeapAllocate(void *, std::size_t bytes)
{
	return ::operator new(bytes, std::align_val_t{alignof(std::max_align_t)}, std::nothrow);
}

void
HeapRelease(void *, void *block)
{
	::operator delete(block, std::align_val_t{alignof(std::max_align_t)});
}

std::size_t
RoundUp(std::size_t n, std::size_t to)
{
	return (n + to - 1) / to * to;
}

} // namespace

BlockSource
HeapBlockSource()
{
	BlockSource s;
	s.allocate = HeapAllocate;
	s.release = HeapRelease;
	return s;
}

ScanArena::ScanArena(BlockSource source, std::size_t first_block, std::size_t max_retained)
	: source_(source), max_retained_(std::max(max_retained, first_block))
{
	first_ = NewBlock(std::max<std::size_t>(first_block, 256));
	first_->next = nullptr;
	UseBlock(first_);
	next_size_ = first_->size * 2;
	detail::NoteScanArenaCreated();
}

ScanArena::~ScanArena()
{
	ReleaseAll(nullptr);
}

ScanArena::Block *
ScanArena::NewBlock(std::size_t usable)
{
	usable = RoundUp(usable, alignof(std::max_align_t));
	void *raw = source_.allocate(source_.state, sizeof(Block) + usable);
	if (raw == nullptr)
		throw std::bad_alloc();
	auto *b = static_cast<Block *>(raw);
	b->next = nullptr;
	b->size = usable;
	reserved_ += usable;
	blocks_++;
	detail::NoteScanBlock();
	detail::NoteScanFootprint(reserved_);
	return b;
}

void
ScanArena::UseBlock(Block *b)
{
	current_ = b;
	cur_ = b->data();
	end_ = b->data() + b->size;
}

void *
ScanArena::AllocateSlow(std::size_t bytes, std::size_t align)
{
	// Allocate() already counted this call; the retry below must not count twice.
	detail::scan_allocations--;
	if (bytes > kMaxBlock * 4)
		throw std::bad_alloc();
	std::size_t need = bytes + align;
	std::size_t size = std::max(next_size_, need);
	Block *b = NewBlock(size);
	used_before_current_ += static_cast<std::size_t>(cur_ - current_->data());
	b->next = current_->next;
	current_->next = b;
	UseBlock(b);
	next_size_ = std::min(size * 2, kMaxBlock);
	return Allocate(bytes, align);
}

void
ScanArena::ReleaseAll(Block *keep)
{
	Block *b = first_;
	while (b != nullptr)
	{
		Block *next = b->next;
		if (b != keep)
		{
			reserved_ -= b->size;
			blocks_--;
			source_.release(source_.state, b);
		}
		b = next;
	}
}

void
ScanArena::Reset()
{
	detail::NoteScanArenaReset();
	std::size_t used = bytes_used();
	bool grew = first_->next != nullptr;
	if (!grew)
	{
		UseBlock(first_);
		used_before_current_ = 0;
		return;
	}
	// The last pass outgrew the kept block: give every block back and keep one
	// that holds the whole pass, so the same pass again needs no new block.
	// If that block cannot be had, keep the old first block instead.
	std::size_t target = std::min(RoundUp(used + used / 8, 4096), max_retained_);
	Block *kept = nullptr;
	if (target > first_->size)
	{
		try
		{
			kept = NewBlock(target);
		}
		catch (const std::bad_alloc &)
		{
			kept = nullptr;
		}
	}
	if (kept != nullptr)
	{
		ReleaseAll(nullptr);
		first_ = kept;
	}
	else
	{
		ReleaseAll(first_);
		first_->next = nullptr;
	}
	UseBlock(first_);
	used_before_current_ = 0;
	next_size_ = std::min(first_->size * 2, kMaxBlock);
}

} // namespace quarry::mem

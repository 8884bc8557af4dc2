namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>What a journal says about one chunk. A copy: the journal's own record is never shared.</summary>
internal sealed class JournalChunk
{
    public int Chunk;
    public long FirstIndex;
    public int Count;
    public DateTimeOffset SubmittedAt;
    public string Hash = "";
    public string? JobId;
    public IReadOnlyList<string>? TaskIds;
    public string? FailureReason;

    /// <summary>
    /// The fence of the process that sent this create (<see cref="CreateReconciler.FenceAsync"/>): its own for a
    /// process's live submit; for a submit read from a journal, the last fence journaled before it. Journal order, not
    /// the clocks of two processes, says which fence was taken before the create: a fence taken after it would name
    /// the very job a reconcile looks for (a resume on a clock set back picked such a fence by time and sent a second
    /// create). Null when no fence was taken before it.
    /// </summary>
    public JobFence? Fence;

    /// <summary>When this process sent the create, on its monotonic clock (<see cref="TimeProvider.GetTimestamp"/>);
    /// 0 for a send read from a journal, whose time only another process's wall clock recorded.</summary>
    public long SentTimestamp;

    /// <summary>Delivered indices counted against this chunk's input range (the journal's bookkeeping).</summary>
    public int DeliveredInRange;

    public JournalChunk Copy() => (JournalChunk)MemberwiseClone();
}

/// <summary>
/// The journal's in-memory state, with one owner: every read and write goes through this class under one lock, so
/// the stages that submit, watch and acknowledge from many tasks never touch a shared collection directly.
/// </summary>
/// <remarks>
/// Memory stays flat with the size of the run: delivered input indices are a bitmap in blocks of 4096 (512 bytes a
/// block), and a block whose every bit is set is retired to one bit. A chunk whose input range is fully delivered is
/// retired too: its task ids (the bulk of a chunk's record) are dropped, and only what a resume checks (the hash,
/// range and job id) stays. A chunk's input range is [its first index, the next chunk's first index): targets the
/// chunker rejected in between are delivered too, so the range fills exactly when the chunk is done.
/// </remarks>
internal sealed class JournalState
{
    private const int BlockBits = 12;
    private const int BlockSize = 1 << BlockBits;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, JournalChunk> _chunks = [];
    private readonly Dictionary<long, ulong[]> _partialBlocks = [];
    private readonly HashSet<string> _canceledByUs = new(StringComparer.Ordinal);
    private readonly List<JobFence> _fences = [];
    private readonly Dictionary<int, IReadOnlyList<long>> _retries = [];
    private readonly Dictionary<int, long> _spent = [];
    // Counts held as long: the same dictionary type as _spent, so a native AOT app links no second instantiation.
    private readonly Dictionary<int, long> _cuts = [];
    private ulong[] _fullBlocks = new ulong[4];
    // The highest input chunk any line names (submit or cut).
    private int _maxChunk = -1;

    public int? ChunkSize { get; set; }

    /// <summary>
    /// The highest input chunk (retries excluded) whose job exists or may exist: created, or submitted without a
    /// recorded answer; -1 if none. Chunks refused for credits or whose create failed for good made no job.
    /// </summary>
    public int MaxChunkWithJob
    {
        get
        {
            lock (_lock)
            {
                int max = -1;
                foreach (JournalChunk chunk in _chunks.Values)
                {
                    if (chunk.Chunk > max && (chunk.JobId is not null || chunk.FailureReason is null))
                    {
                        max = chunk.Chunk;
                    }
                }

                return max;
            }
        }
    }

    /// <summary>Chunks whose task ids were dropped because every input of their range was delivered.</summary>
    public int RetiredChunks { get; private set; }

    public bool TryGetChunk(int chunk, out JournalChunk? copy)
    {
        lock (_lock)
        {
            copy = _chunks.TryGetValue(chunk, out JournalChunk? found) ? found.Copy() : null;
            return copy is not null;
        }
    }

    /// <summary>The estimated credits a chunk's created job spent (a <c>spend</c> entry).</summary>
    public void Spent(int chunk, long credits)
    {
        lock (_lock)
        {
            _spent[chunk] = credits;
        }
    }

    /// <summary>A submitted chunk that was refused for credits made no job: it reads as never sent.</summary>
    public void Unsent(int chunk)
    {
        lock (_lock)
        {
            _chunks.Remove(chunk);
        }
    }

    /// <summary>
    /// What the jobs the journal records as created spent, each target's charge counted once: every created job's
    /// <c>spend</c> entry (or, for a job whose spend line a crash cut off, its estimate at <paramref name="costPerTask"/>),
    /// less, for each journaled <c>retry</c>, the tasks it resubmits at their first job's price. Those tasks were canceled
    /// by this run's own interrupt, and a canceled task is never charged (only the retry's own job pays for them), so
    /// counting both jobs in full would charge one target once per interrupt.
    /// </summary>
    public long SpentSoFar(long costPerTask)
    {
        lock (_lock)
        {
            long total = 0;
            foreach (JournalChunk chunk in _chunks.Values)
            {
                if (chunk.JobId is not null)
                {
                    total += _spent.TryGetValue(chunk.Chunk, out long spent) ? spent : chunk.Count * costPerTask;
                }
            }

            foreach ((int retry, IReadOnlyList<long> indices) in _retries)
            {
                // A retry is only recorded after its first job was watched to the end, so that job exists; the check
                // keeps a hand-edited or odd journal from taking off what was never added.
                int parent = InterruptRetry.ParentIndex(retry);
                if (_chunks.TryGetValue(parent, out JournalChunk? first) && first.JobId is not null)
                {
                    total -= indices.Count * CostPerTaskOfLocked(first, costPerTask);
                }
            }

            return total;
        }
    }

    /// <summary>
    /// The estimated credits one task of chunk <paramref name="chunk"/>'s job cost: its <c>spend</c> over its targets,
    /// or <paramref name="costPerTask"/> when the journal has no spend for it.
    /// </summary>
    public long CostPerTaskOf(int chunk, long costPerTask)
    {
        lock (_lock)
        {
            return _chunks.TryGetValue(chunk, out JournalChunk? record) ? CostPerTaskOfLocked(record, costPerTask) : costPerTask;
        }
    }

    private long CostPerTaskOfLocked(JournalChunk chunk, long costPerTask) =>
        _spent.TryGetValue(chunk.Chunk, out long spent) && chunk.Count > 0 ? spent / chunk.Count : costPerTask;

    /// <summary>What a resume starts from, for its one log line: chunks by state, and input indices already delivered.</summary>
    public (int Chunks, int WithJob, int Failed, int Unanswered, long Delivered) Summary()
    {
        lock (_lock)
        {
            int withJob = 0, failed = 0;
            foreach (JournalChunk chunk in _chunks.Values)
            {
                withJob += chunk.JobId is not null ? 1 : 0;
                failed += chunk.JobId is null && chunk.FailureReason is not null ? 1 : 0;
            }

            long delivered = 0;
            foreach (ulong word in _fullBlocks)
            {
                delivered += (long)System.Numerics.BitOperations.PopCount(word) * BlockSize;
            }

            foreach (ulong[] bits in _partialBlocks.Values)
            {
                foreach (ulong word in bits)
                {
                    delivered += System.Numerics.BitOperations.PopCount(word);
                }
            }

            return (_chunks.Count, withJob, failed, _chunks.Count - withJob - failed, delivered);
        }
    }

    /// <summary>Every job id the journal names, retired chunks included.</summary>
    public List<string> JobIds()
    {
        lock (_lock)
        {
            var ids = new List<string>(_chunks.Count);
            foreach (JournalChunk chunk in _chunks.Values)
            {
                if (chunk.JobId is { } id)
                {
                    ids.Add(id);
                }
            }

            return ids;
        }
    }

    public void Submitted(JournalChunk chunk)
    {
        lock (_lock)
        {
            JournalChunk record = chunk.Copy();
            // Any fence journaled before this submit was taken before its create, so any of them is safe; the last is
            // the sending process's own (or, if that process had none, the newest earlier one).
            record.Fence ??= _fences.Count > 0 ? _fences[^1] : null;
            if (_chunks.TryGetValue(chunk.Chunk, out JournalChunk? earlier))
            {
                record.DeliveredInRange = earlier.DeliveredInRange;
            }

            _chunks[chunk.Chunk] = record;
            _maxChunk = Math.Max(_maxChunk, chunk.Chunk);
            if (chunk.Chunk > 0 && _chunks.TryGetValue(chunk.Chunk - 1, out JournalChunk? previous))
            {
                TryRetire(previous, record);
            }
        }
    }

    public void Created(int chunk, string? jobId, IReadOnlyList<string>? taskIds, string? reason)
    {
        lock (_lock)
        {
            if (_chunks.TryGetValue(chunk, out JournalChunk? record))
            {
                record.JobId = jobId;
                record.TaskIds = taskIds;
                record.FailureReason = reason;
            }
        }
    }

    /// <summary>Records that input chunk <paramref name="chunk"/> was cut after <paramref name="count"/> targets because
    /// the input paused (<see cref="RunOptions.PartialJobDelay"/>).</summary>
    public void Cut(int chunk, int count)
    {
        lock (_lock)
        {
            _cuts[chunk] = count;
            _maxChunk = Math.Max(_maxChunk, chunk);
        }
    }

    /// <summary>The highest input chunk the journal names (submitted or cut), -1 if none: up to it, a resume must cut
    /// its chunks where they were cut, never where its own input happens to pause.</summary>
    public int LastJournaledChunk
    {
        get
        {
            lock (_lock)
            {
                return _maxChunk;
            }
        }
    }

    /// <summary>The journaled size of a chunk cut early, or 0 (it was full, or the input's last).</summary>
    public int CutOf(int chunk)
    {
        lock (_lock)
        {
            return _cuts.TryGetValue(chunk, out long count) ? (int)count : 0;
        }
    }

    /// <summary>Records the fence a process of this run took before its first create.</summary>
    public void Fenced(JobFence fence)
    {
        lock (_lock)
        {
            _fences.Add(fence);
        }
    }

    /// <summary>Records that this run (or an earlier process of it) canceled the job on its own interrupt.</summary>
    public void CanceledByUs(string jobId)
    {
        lock (_lock)
        {
            _canceledByUs.Add(jobId);
        }
    }

    public bool WasCanceledByUs(string jobId)
    {
        lock (_lock)
        {
            return _canceledByUs.Contains(jobId);
        }
    }

    public void Retry(int chunk, IReadOnlyList<long> indices)
    {
        lock (_lock)
        {
            _retries[chunk] = indices;
        }
    }

    public IReadOnlyList<long>? RetryOf(int chunk)
    {
        lock (_lock)
        {
            return _retries.GetValueOrDefault(chunk);
        }
    }

    public bool IsKnownChunk(int chunk)
    {
        lock (_lock)
        {
            return _chunks.ContainsKey(chunk);
        }
    }

    public bool IsDelivered(long index)
    {
        lock (_lock)
        {
            return IsSet(index);
        }
    }

    public void Delivered(long index)
    {
        lock (_lock)
        {
            if (Set(index))
            {
                RetireChunkOf(index);
            }
        }
    }

    private bool IsSet(long index)
    {
        long block = index >> BlockBits;
        if (IsFull(block))
        {
            return true;
        }

        return _partialBlocks.TryGetValue(block, out ulong[]? bits) && (bits[(index & (BlockSize - 1)) >> 6] & (1UL << (int)(index & 63))) != 0;
    }

    /// <summary>Sets the bit; false when it was already set.</summary>
    private bool Set(long index)
    {
        long block = index >> BlockBits;
        if (index < 0 || IsFull(block))
        {
            return false;
        }

        if (!_partialBlocks.TryGetValue(block, out ulong[]? bits))
        {
            bits = new ulong[BlockSize / 64];
            _partialBlocks[block] = bits;
        }

        ref ulong slot = ref bits[(index & (BlockSize - 1)) >> 6];
        ulong mask = 1UL << (int)(index & 63);
        if ((slot & mask) != 0)
        {
            return false;
        }

        slot |= mask;
        foreach (ulong word in bits)
        {
            if (word != ulong.MaxValue)
            {
                return true;
            }
        }

        _partialBlocks.Remove(block);
        if ((block >> 6) >= _fullBlocks.Length)
        {
            Array.Resize(ref _fullBlocks, (int)Math.Max(_fullBlocks.Length * 2, (block >> 6) + 1));
        }

        _fullBlocks[block >> 6] |= 1UL << (int)(block & 63);
        return true;
    }

    private bool IsFull(long block) => (block >> 6) < _fullBlocks.Length && (_fullBlocks[block >> 6] & (1UL << (int)(block & 63))) != 0;

    /// <summary>Drops the task ids of the chunk holding <paramref name="index"/> once its whole input range is delivered.</summary>
    private void RetireChunkOf(long index)
    {
        // A chunk's first index is at least chunk × size (rejected targets only push it later), so the owner is at
        // or below that estimate; rejected targets are rare, so the walk down is short.
        int size = ChunkSize ?? 0;
        if (size <= 0 || _maxChunk < 0)
        {
            return;
        }

        if (OwnerOf(index, (int)Math.Min(index / size, _maxChunk)) is not { } owner)
        {
            return;
        }

        owner.DeliveredInRange++;
        if (_chunks.TryGetValue(owner.Chunk + 1, out JournalChunk? next))
        {
            TryRetire(owner, next);
        }
    }

    /// <summary>The journaled chunk whose range holds <paramref name="index"/>: the last one starting at or before it.</summary>
    private JournalChunk? OwnerOf(long index, int estimate)
    {
        // Full chunks: the owner is at the estimate or a little below (rejected targets push a chunk's start later).
        for (int c = estimate, tries = 0; c >= 0 && tries < 4; c--, tries++)
        {
            if (_chunks.TryGetValue(c, out JournalChunk? chunk) && chunk.FirstIndex <= index)
            {
                if (!_chunks.TryGetValue(c + 1, out JournalChunk? next) || next.FirstIndex > index)
                {
                    return chunk;
                }

                break;
            }
        }

        // Chunks cut early (RunOptions.PartialJobDelay) start before chunk × size, so the owner can lie far above the
        // estimate: a binary search over the chunk numbers, whose first indices grow with them.
        int lo = 0, hi = _maxChunk;
        JournalChunk? found = null;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) / 2);
            int at = mid;
            JournalChunk? probe = null;
            while (at >= lo && !_chunks.TryGetValue(at, out probe))
            {
                at--; // a chunk refused for credits left a gap
            }

            if (probe is null)
            {
                lo = mid + 1;
            }
            else if (probe.FirstIndex <= index)
            {
                found = probe;
                lo = mid + 1;
            }
            else
            {
                hi = at - 1;
            }
        }

        return found;
    }

    /// <summary>
    /// Retires <paramref name="owner"/> when its range up to <paramref name="next"/> is delivered. The count is only a
    /// trigger (an index delivered before its own chunk was journaled is counted against the one before); the bitmap
    /// decides.
    /// </summary>
    private void TryRetire(JournalChunk owner, JournalChunk next)
    {
        if (owner.TaskIds is null || owner.DeliveredInRange < next.FirstIndex - owner.FirstIndex)
        {
            return;
        }

        for (long i = owner.FirstIndex; i < next.FirstIndex; i++)
        {
            if (!IsSet(i))
            {
                return;
            }
        }

        owner.TaskIds = null;
        RetiredChunks++;
    }
}

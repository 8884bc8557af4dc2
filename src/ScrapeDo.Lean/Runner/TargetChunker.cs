using System.Runtime.CompilerServices;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>One input item: its position, its text (URL or params JSON) and, for plugin runs, its params.</summary>
internal readonly record struct RunItem(long Index, string Target, PluginParams? Params);

/// <summary>One job's worth of input: its position in the run, its items, and their targets as sent.</summary>
internal sealed class TargetChunk(int index, List<RunItem> items, string[] targets, string hash, bool cutEarly = false)
{
    public int Index { get; } = index;

    public List<RunItem> Items { get; } = items;

    /// <summary>The target text of each item, in order (URLs, or params JSON for plugin runs).</summary>
    public string[] Targets { get; } = targets;

    /// <summary>The targets' hash that recognises this chunk in a journal (empty when the run has no journal).</summary>
    public string Hash { get; } = hash;

    public long FirstIndex => Items[0].Index;

    /// <summary>A chunk that resubmits tasks an interrupt canceled (<see cref="InterruptRetry.RetryIndex"/>: negative).</summary>
    public bool IsRetry => Index < 0;

    public long LastIndex => Items[^1].Index;

    /// <summary>Cut before it was full because the input paused (<see cref="RunOptions.PartialJobDelay"/>): a resume
    /// must cut it at the same place, so the cut is journaled.</summary>
    public bool CutEarly { get; } = cutEarly;
}

/// <summary>Where the chunker cuts: full jobs of <see cref="Size"/>, a partly filled one after <see cref="Linger"/> of
/// a paused input, and, on resume, at each cut the journal recorded (<see cref="RecordedCut"/>).</summary>
internal sealed class ChunkCuts(int size, TimeSpan linger, TimeProvider time, JournalState? journal)
{
    public int Size { get; } = size;

    public TimeSpan Linger { get; } = linger;

    public TimeProvider Time { get; } = time;

    /// <summary>The journaled size of chunk <paramref name="chunk"/> if an earlier process cut it early, else null.</summary>
    public int? RecordedCut(int chunk) => journal?.CutOf(chunk) is > 0 and var count ? count : null;

    /// <summary>Whether chunk <paramref name="chunk"/> may be cut where the input pauses: not one the journal already
    /// names (a resume must cut those where the first process did), and not when the delay is infinite.</summary>
    public bool MayLinger(int chunk) => Linger != Timeout.InfiniteTimeSpan && chunk > (journal?.LastJournaledChunk ?? -1);
}

/// <summary>
/// The first stage: reads the input lazily, turns away invalid URLs (and plugin parameter sets that lack a
/// parameter their plugin requires) with one <c>failed</c> outcome each, and cuts the rest into chunks of at most
/// <c>size</c> targets, one chunk per job.
/// </summary>
internal static class TargetChunker
{
    public static async IAsyncEnumerable<TargetChunk> ChunkAsync(IAsyncEnumerable<RunItem> items, ChunkCuts cuts, bool hashed, string? pluginKey,
        Func<TaskOutcome, ValueTask> reject, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        int chunkIndex = 0;
        int limit = cuts.RecordedCut(0) ?? cuts.Size;
        bool mayLinger = cuts.MayLinger(0);
        var batch = new List<RunItem>(limit);
        long batchStarted = 0;
        string[]? required = pluginKey is null ? null : PluginKeys.RequiredParameters(pluginKey);
        IAsyncEnumerator<RunItem> source = items.GetAsyncEnumerator(cancellationToken);
        Task<bool>? pending = null;
        try
        {
            while (true)
            {
                ValueTask<bool> next = source.MoveNextAsync();
                bool more;
                if (!next.IsCompleted && batch.Count > 0 && mayLinger)
                {
                    // The input paused with a job partly filled: the job goes out once its first target has waited
                    // PartialJobDelay, rather than when it is full (a trickle would otherwise wait for 1,000 targets).
                    pending = next.AsTask();
                    TimeSpan left = cuts.Linger - cuts.Time.GetElapsedTime(batchStarted);
                    if (left <= TimeSpan.Zero || !await ArrivesWithinAsync(pending, left, cuts.Time, cancellationToken).ConfigureAwait(false))
                    {
                        yield return Chunk(chunkIndex++, batch, hashed, cutEarly: true);
                        limit = cuts.RecordedCut(chunkIndex) ?? cuts.Size;
                        mayLinger = cuts.MayLinger(chunkIndex);
                        batch = new List<RunItem>(limit);
                    }

                    more = await pending.ConfigureAwait(false);
                    pending = null;
                }
                else
                {
                    more = await next.ConfigureAwait(false);
                }

                if (!more)
                {
                    break;
                }

                RunItem item = source.Current;
                if (item.Params is null && RequestValidator.TargetProblem(item.Target) is { } problem)
                {
                    await reject(OutcomeDelivery.Failed(item, $"Target {problem}", jobId: null)).ConfigureAwait(false);
                    continue;
                }

                if (required is not null && item.Params?.MissingParameter(required) is { } missing)
                {
                    // Sent, it would make the server refuse the whole job: every other set in the chunk would fail with it.
                    await reject(OutcomeDelivery.Failed(item, $"Plugin parameter '{missing}' is required by {pluginKey} and is missing or empty; this parameter set was not sent.", jobId: null)).ConfigureAwait(false);
                    continue;
                }

                if (batch.Count == 0)
                {
                    batchStarted = cuts.Time.GetTimestamp();
                }

                batch.Add(item);
                if (batch.Count == limit)
                {
                    yield return Chunk(chunkIndex++, batch, hashed, cutEarly: false);
                    limit = cuts.RecordedCut(chunkIndex) ?? cuts.Size;
                    mayLinger = cuts.MayLinger(chunkIndex);
                    batch = new List<RunItem>(limit);
                }
            }
        }
        finally
        {
            if (pending is { IsCompleted: false })
            {
                // Left while the source is still reading (a cancel, or the run stopped at this chunk): disposing an
                // enumerator mid-read is refused, and the read's outcome must still be observed.
                _ = DisposeWhenReadEndsAsync(pending, source);
            }
            else
            {
                _ = pending?.Exception;
                await source.DisposeAsync().ConfigureAwait(false);
            }
        }

        if (batch.Count > 0)
        {
            yield return Chunk(chunkIndex, batch, hashed, cutEarly: false);
        }
    }

    private static async Task DisposeWhenReadEndsAsync(Task<bool> pending, IAsyncEnumerator<RunItem> source)
    {
        try
        {
            await pending.ConfigureAwait(false);
            await source.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The run is over: nobody reads what the source says now, and its failure has nowhere to go.
        }
    }

    private static async Task<bool> ArrivesWithinAsync(Task<bool> pending, TimeSpan wait, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            // As a plain Task: the generic WaitAsync of a Task<bool> is code of its own in a native AOT app.
            await ((Task)pending).WaitAsync(wait, time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static TargetChunk Chunk(int index, List<RunItem> items, bool hashed, bool cutEarly)
    {
        string[] targets = new string[items.Count];
        for (int i = 0; i < targets.Length; i++)
        {
            targets[i] = items[i].Target;
        }

        // Only a journal needs the hash (to recognise the chunk on resume); it is computed once here.
        return new TargetChunk(index, items, targets, hashed ? RunJournal.HashTargets(targets) : string.Empty, cutEarly);
    }
}

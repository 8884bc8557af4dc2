using System.Collections.Concurrent;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// Resubmits what this run's own interrupt canceled. When a run is abandoned and cancels its server jobs, the
/// journal records each such cancel as ours (<c>cancel</c>). On resume, a task of such a job that reports
/// <c>canceled</c> is not delivered as canceled: its input is held back and, once the job is watched to the end, the
/// held inputs go to a retry chunk with a job of their own (journaled <c>retry</c> with its exact inputs first, so a
/// crash resumes the same retry). Tasks that succeeded before the cancel are delivered as usual and never resubmitted;
/// a job canceled by the user or the server is not in the journal as ours, so its tasks stay <c>canceled</c>.
/// </summary>
internal sealed class InterruptRetry(RunJournal? journal)
{
    private readonly ConcurrentDictionary<string, ConcurrentBag<long>> _held = new(StringComparer.Ordinal);
    /// <summary>True when <paramref name="outcome"/> is a task our own interrupt canceled: it is held back for a retry.</summary>
    public bool TryHold(TaskOutcome outcome)
    {
        if (journal is null || outcome.Status != OutcomeStatus.Canceled || outcome.JobId is not { } jobId || !journal.State.WasCanceledByUs(jobId))
        {
            return false;
        }

        _held.GetOrAdd(jobId, _ => []).Add(outcome.InputIndex);
        return true;
    }

    /// <summary>
    /// The retry chunk for the inputs of <paramref name="chunk"/> held back from job <paramref name="jobId"/>, or null;
    /// and how many inputs this call newly journaled as resubmitted (0 when the journal already held the retry), so the
    /// credit budget moves their estimate from the canceled job to the retry exactly once.
    /// A retry the journal already records keeps exactly its journaled inputs (some may be delivered by now).
    /// </summary>
    public async Task<(TargetChunk? Retry, int RecordedNow)> TakeRetryAsync(TargetChunk chunk, string jobId)
    {
        if (journal is null)
        {
            return (null, 0);
        }

        int index = RetryIndex(chunk.Index);
        IReadOnlyList<long>? indices = journal.State.RetryOf(index);
        int recordedNow = 0;
        if (indices is null)
        {
            if (!_held.TryRemove(jobId, out ConcurrentBag<long>? held) || held.IsEmpty)
            {
                return (null, 0);
            }

            long[] sorted = [.. held];
            Array.Sort(sorted);
            await journal.RecordRetryAsync(index, sorted).ConfigureAwait(false);
            indices = sorted;
            recordedNow = sorted.Length;
        }
        else
        {
            _held.TryRemove(jobId, out _);
        }

        var wanted = new HashSet<long>(indices);
        List<RunItem> items = chunk.Items.FindAll(i => wanted.Contains(i.Index));
        if (items.Count == 0)
        {
            return (null, recordedNow);
        }

        string[] targets = [.. items.Select(i => i.Target)];
        return (new TargetChunk(index, items, targets, RunJournal.HashTargets(targets)), recordedNow);
    }

    /// <summary>
    /// The journal index of the retry of chunk <paramref name="chunk"/>: chunker chunks are 0, 1, 2…; retry generation
    /// g ≥ 1 of chunk c is −((g &lt;&lt; 24) | c) − 1, so retries never collide with chunker chunks or each other.
    /// </summary>
    public static int RetryIndex(int chunk)
    {
        int generation = 0;
        int original = chunk;
        if (chunk < 0)
        {
            int v = -chunk - 1;
            generation = v >> 24;
            original = v & 0xFFFFFF;
        }

        if (original > 0xFFFFFF || generation >= 127)
        {
            throw new InvalidOperationException($"Job {original} cannot be resubmitted again.");
        }

        return -(((generation + 1) << 24) | original) - 1;
    }

    /// <summary>
    /// The chunk whose job retry chunk <paramref name="retry"/> resubmits tasks of: the inverse of
    /// <see cref="RetryIndex"/> (a chunker chunk for generation 1, the previous retry for later ones).
    /// </summary>
    public static int ParentIndex(int retry)
    {
        if (retry >= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(retry), retry, "Only a retry chunk (a negative index) has a parent.");
        }

        int v = -retry - 1;
        int generation = v >> 24;
        int original = v & 0xFFFFFF;
        return generation <= 1 ? original : -(((generation - 1) << 24) | original) - 1;
    }
}

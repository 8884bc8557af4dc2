namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// The server jobs this run has open, so an abandoned run can cancel them on exit. A job enters the moment its id is
/// known (a create's answer, an adoption, a journal) and leaves once all its tasks are delivered. Creates still in
/// flight are tracked too: one that answers after the run was canceled still registers its job, in time to be canceled.
/// </summary>
internal sealed class OpenJobs
{
    private static readonly TimeSpan CancelDeadline = TimeSpan.FromSeconds(5);
    private readonly HashSet<string> _open = new(StringComparer.Ordinal);
    private readonly ConcurrentTaskSet _creates = new();

    public void Add(string jobId)
    {
        lock (_open)
        {
            _open.Add(jobId);
        }
    }

    public void Remove(string jobId)
    {
        lock (_open)
        {
            _open.Remove(jobId);
        }
    }

    /// <summary>The jobs open right now.</summary>
    public string[] Snapshot()
    {
        lock (_open)
        {
            return [.. _open];
        }
    }

    /// <summary>Tracks a create that registers its job (<see cref="Add"/>) when it answers.</summary>
    public void TrackCreate(Task create) => _creates.Track(create);

    /// <summary>Waits, at most <paramref name="deadline"/>, for creates still in flight to answer (or fail).</summary>
    public async Task WhenCreatesAnsweredAsync(TimeSpan deadline)
    {
        try
        {
            await _creates.WhenAllAsync().WaitAsync(deadline).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A create that has not answered by now is left to the journal: a resume reconciles it.
        }
    }

    /// <summary>Cancels every open job, best effort, within a short deadline of its own.</summary>
    public Task CancelAllAsync(ScrapeDoClient client)
    {
        string[] open;
        lock (_open)
        {
            open = [.. _open];
        }

        return Task.WhenAll(open.Select(id => CancelAsync(client, id)));
    }

    /// <summary>Cancels one job, best effort, and forgets it.</summary>
    public async Task CancelAsync(ScrapeDoClient client, string jobId)
    {
        // The run's own token may be canceled by now: these best-effort cancels get their own short deadline.
        using var deadline = new CancellationTokenSource(CancelDeadline);
        try
        {
            await client.CancelJobAsync(jobId, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ScrapeDoException or OperationCanceledException or ObjectDisposedException)
        {
            // 406 (already finished) or unreachable: nothing more to do; the journal still allows a resume.
        }

        Remove(jobId);
    }
}

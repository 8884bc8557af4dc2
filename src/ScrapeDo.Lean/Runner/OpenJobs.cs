namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// The server jobs this run has open, so an abandoned run can cancel them on exit. A job enters the moment its id is
/// known and leaves once all its tasks are delivered.
/// </summary>
internal sealed class OpenJobs
{
    private readonly HashSet<string> _open = new(StringComparer.Ordinal);

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

    /// <summary>Cancels every open job, best effort, within a short deadline of its own.</summary>
    public async Task CancelAllAsync(ScrapeDoClient client)
    {
        string[] open;
        lock (_open)
        {
            open = [.. _open];
        }

        // The run's own token is canceled by now: these best-effort cancels get their own short deadline.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await Task.WhenAll(open.Select(async id =>
        {
            try
            {
                await client.CancelJobAsync(id, deadline.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ScrapeDoException or OperationCanceledException or ObjectDisposedException)
            {
                // 406 (already finished) or unreachable: nothing more to do; the journal still allows a resume.
            }
        })).ConfigureAwait(false);
    }
}

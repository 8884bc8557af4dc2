using System.Diagnostics;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// The fetch stage: fetches claimed tasks, at most <see cref="RunOptions.MaxConcurrentTaskFetches"/> at once across
/// the run, and turns each fetch into exactly one outcome, whatever the server answers.
/// </summary>
internal sealed class TaskFetcher : IDisposable
{
    // Bounds the "not yet terminal" re-checks of a task whose job already said it finished.
    private const int ConvergenceRounds = 9;

    private readonly ScrapeDoClient _client;
    private readonly RunOptions _options;
    private readonly OutcomeDelivery _delivery;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationToken _cancellationToken;

    public TaskFetcher(ScrapeDoClient client, RunOptions options, OutcomeDelivery delivery, CancellationToken cancellationToken)
    {
        _client = client;
        _options = options;
        _delivery = delivery;
        _slots = new SemaphoreSlim(options.MaxConcurrentTaskFetches);
        _cancellationToken = cancellationToken;
    }

    /// <summary>
    /// Waits for a fetch slot, then starts fetching the claimed task <paramref name="index"/> of <paramref name="tasks"/>;
    /// the returned task ends once its one outcome is emitted.
    /// </summary>
    public async ValueTask<Task> StartAsync(ChunkTasks tasks, int index)
    {
        // No token on the wait itself: a token makes the semaphore register it and wrap the wait in two more objects
        // per task. Cancellation stays prompt: every fetch holding a slot observes the run's token (its request, its
        // retry wait and its emit), so a canceled run frees the slots at once, and the check below stops here.
        await _slots.WaitAsync().ConfigureAwait(false);
        if (_cancellationToken.IsCancellationRequested)
        {
            _slots.Release();
            _cancellationToken.ThrowIfCancellationRequested();
        }

        return FetchAsync(tasks.Item(index), tasks.JobId, tasks.TaskId(index));
    }

    public void Dispose() => _slots.Dispose();

    /// <summary>
    /// The outcome a fetched (or webhook-pushed) terminal task stands for; with <paramref name="lease"/>, the content
    /// is the outcome's <see cref="TaskOutcome.ContentLease"/> and <paramref name="details"/> no longer hold it.
    /// </summary>
    public static TaskOutcome ToOutcome(RunItem item, TaskDetails details, DateTimeOffset now, TaskContentLease? lease = null)
    {
        OutcomeStatus status;
        string? reason = null;
        if (details.Status == ScrapeDoStatus.Success)
        {
            // Content past its ExpiresAt is still delivered when the server sent it; only a missing one is "expired".
            status = details.Content.IsEmpty && lease is null && details.ExpiresAt is { } expires && expires <= now ? OutcomeStatus.Expired : OutcomeStatus.Success;
            reason = status == OutcomeStatus.Expired ? "The content is past its ExpiresAt." : null;
        }
        else if (details.Status == ScrapeDoStatus.Canceled)
        {
            status = OutcomeStatus.Canceled;
            reason = "The task was canceled.";
        }
        else if (details.Status == ScrapeDoStatus.Error)
        {
            status = OutcomeStatus.Error;
            reason = string.IsNullOrEmpty(details.ErrorMessage) ? "The task failed on the server." : details.ErrorMessage;
        }
        else
        {
            status = OutcomeStatus.Failed;
            reason = $"The task stayed in status '{details.Status}' after its job reported it finished.";
        }

        return new TaskOutcome
        {
            InputIndex = item.Index,
            Target = item.Target,
            Status = status,
            JobId = details.JobId,
            TaskId = details.TaskId,
            StatusCode = details.StatusCode == 0 ? null : details.StatusCode,
            Reason = reason,
            Details = details,
            ContentLease = lease,
        };
    }

    // One state machine per task: fetch (with its retries), then emit. The slot is taken before this starts.
    private async Task FetchAsync(RunItem item, string jobId, string taskId)
    {
        TaskDetailsReader? reader = null;
        try
        {
            // Hands the fetch to the pool so the watcher goes straight back to dispatching (A/B on the rig: running the
            // send inline on the watcher cost more CPU per target than this hop).
            await Task.Yield();
            TaskOutcome outcome;
            // Made on the first failure only (most fetches succeed at once), counting from the start as before.
            RetryPersistence? persistence = null;
            long started = _client.TimeProvider.GetTimestamp();
            bool lease = _options.LeaseContent;
            // Reads this task's ids (and, for a URL target, its URL) into the strings the run already holds.
            reader = TaskDetailsReader.Rent(lease, jobId, taskId, item.Params is null ? item.Target : null);
            for (int round = 0; ; round++)
            {
                using Activity? activity = Telemetry.Source.StartActivity("scrapedo.task.fetch");
                try
                {
                    TaskDetails details = await _client.GetTaskAsync(jobId, taskId, reader.Info, _cancellationToken).ConfigureAwait(false);
                    activity?.SetTag("scrapedo.trace_id", details.TraceId);
                    Telemetry.ContentBytes.Add(details.Content.Length);
                    if (!details.Status.IsTerminal && round < ConvergenceRounds)
                    {
                        if (lease)
                        {
                            PooledTaskContent.Release(details);
                        }

                        // The job said terminal but the task does not yet: the two views are converging; look again shortly.
                        persistence ??= new RetryPersistence(_client.TimeProvider, _options.GiveUpAfter, _cancellationToken, started);
                        await persistence.WaitAsync(null).ConfigureAwait(false);
                        continue;
                    }

                    outcome = ToOutcome(item, details, _client.TimeProvider.GetUtcNow(), lease ? PooledTaskContent.Detach(details) : null);
                    break;
                }
                catch (ScrapeDoApiException ex) when (ex.IsGone)
                {
                    outcome = new TaskOutcome { InputIndex = item.Index, Target = item.Target, Status = OutcomeStatus.Expired, JobId = jobId, TaskId = taskId, Reason = ex.ErrorText ?? "Task content is no longer available (410)." };
                    break;
                }
                catch (ScrapeDoApiException ex) when (ex.IsUnauthorized)
                {
                    throw;
                }
                catch (ScrapeDoException ex) when (RetryPersistence.IsTransientRead(ex) && (persistence ??= new RetryPersistence(_client.TimeProvider, _options.GiveUpAfter, _cancellationToken, started)).KeepTrying)
                {
                    await persistence.WaitAsync(ex).ConfigureAwait(false);
                }
                catch (ScrapeDoException ex)
                {
                    outcome = OutcomeDelivery.Failed(item, ex.Message, jobId, taskId);
                    break;
                }
            }

            await _delivery.EmitAsync(outcome).ConfigureAwait(false);
        }
        finally
        {
            if (reader is not null)
            {
                TaskDetailsReader.Return(reader);
            }

            _slots.Release();
        }
    }
}

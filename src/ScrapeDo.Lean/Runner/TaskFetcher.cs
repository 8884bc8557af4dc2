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
    public async Task<Task> StartAsync(ChunkTasks tasks, int index)
    {
        await _slots.WaitAsync(_cancellationToken).ConfigureAwait(false);
        return FetchAsync(tasks.Item(index), tasks.JobId, tasks.TaskId(index));
    }

    public void Dispose() => _slots.Dispose();

    /// <summary>The outcome a fetched (or webhook-pushed) terminal task stands for.</summary>
    public static TaskOutcome ToOutcome(RunItem item, TaskDetails details, DateTimeOffset now)
    {
        OutcomeStatus status;
        string? reason = null;
        if (details.Status == ScrapeDoStatus.Success)
        {
            // Content past its ExpiresAt is still delivered when the server sent it; only a missing one is "expired".
            status = details.Content.IsEmpty && details.ExpiresAt is { } expires && expires <= now ? OutcomeStatus.Expired : OutcomeStatus.Success;
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
        };
    }

    private async Task FetchAsync(RunItem item, string jobId, string taskId)
    {
        try
        {
            await Task.Yield();
            TaskOutcome outcome = await FetchOutcomeAsync(item, jobId, taskId).ConfigureAwait(false);
            await _delivery.EmitAsync(outcome).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task<TaskOutcome> FetchOutcomeAsync(RunItem item, string jobId, string taskId)
    {
        var persistence = new RetryPersistence(_client.TimeProvider, _options.GiveUpAfter, _cancellationToken);
        for (int round = 0; ; round++)
        {
            using Activity? activity = Telemetry.Source.StartActivity("scrapedo.task.fetch");
            try
            {
                TaskDetails details = await _client.GetTaskAsync(jobId, taskId, _cancellationToken).ConfigureAwait(false);
                activity?.SetTag("scrapedo.trace_id", details.TraceId);
                Telemetry.ContentBytes.Add(details.Content.Length);
                if (!details.Status.IsTerminal && round < ConvergenceRounds)
                {
                    // The job said terminal but the task does not yet: the two views are converging; look again shortly.
                    await persistence.WaitAsync(null).ConfigureAwait(false);
                    continue;
                }

                return ToOutcome(item, details, _client.TimeProvider.GetUtcNow());
            }
            catch (ScrapeDoApiException ex) when (ex.IsGone)
            {
                return new TaskOutcome { InputIndex = item.Index, Target = item.Target, Status = OutcomeStatus.Expired, JobId = jobId, TaskId = taskId, Reason = ex.ErrorText ?? "Task content is no longer available (410)." };
            }
            catch (ScrapeDoApiException ex) when (ex.IsUnauthorized)
            {
                throw;
            }
            catch (ScrapeDoException ex) when (RetryPersistence.IsTransientRead(ex) && persistence.KeepTrying)
            {
                await persistence.WaitAsync(ex).ConfigureAwait(false);
            }
            catch (ScrapeDoException ex)
            {
                return OutcomeDelivery.Failed(item, ex.Message, jobId, taskId);
            }
        }
    }
}

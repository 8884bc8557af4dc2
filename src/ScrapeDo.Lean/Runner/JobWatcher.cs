using ScrapeDo.Lean.Internal.Polling;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// The watch stage: polls one job until each of its tasks is claimed, hands each newly finished task on (canceled
/// ones straight to delivery, the rest to the <see cref="TaskFetcher"/>), and leaves the webhook intake a way in.
/// </summary>
internal sealed class JobWatcher(ScrapeDoClient client, RunOptions options, OutcomeDelivery delivery, TaskFetcher fetcher,
    WebhookIntake? webhooks, CancellationToken cancellationToken)
{
    private readonly TimeProvider _time = client.TimeProvider;

    /// <summary>Watches job <paramref name="jobId"/> of <paramref name="items"/> until every item has its outcome.</summary>
    public async Task WatchAsync(string jobId, IReadOnlyList<string> taskIds, List<RunItem> items)
    {
        var tasks = new ChunkTasks(jobId, taskIds, items);
        tasks.ClaimAlreadyDelivered(delivery.WasDelivered);
        webhooks?.Register(tasks);
        try
        {
            await PollAsync(tasks).ConfigureAwait(false);
        }
        finally
        {
            webhooks?.Unregister(tasks);
        }

        // A webhook delivery that claimed a task may still be handing its outcome over; the chunk ends after it.
        await tasks.WhenSideDeliveriesDoneAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task PollAsync(ChunkTasks tasks)
    {
        string jobId = tasks.JobId;
        var fetches = new List<Task>(tasks.Remaining);
        var finished = new List<FinishedTask>();
        var interval = new PollInterval(options.MinPollInterval, options.MaxPollInterval, Random.Shared.NextDouble);
        var persistence = new RetryPersistence(_time, options.GiveUpAfter, cancellationToken);
        if (tasks.Remaining > 0)
        {
            await Task.Delay(options.FirstPollDelay, _time, cancellationToken).ConfigureAwait(false);
        }

        while (tasks.Remaining > 0)
        {
            JobDetails job;
            try
            {
                using (Telemetry.Source.StartActivity("scrapedo.poll"))
                {
                    job = await client.GetJobAsync(jobId, cancellationToken).ConfigureAwait(false);
                }

                persistence.Reset();
            }
            catch (ScrapeDoApiException ex) when (ex.IsNotFound)
            {
                await delivery.FailUnclaimedAsync(tasks, $"Job {jobId} no longer exists (404).").ConfigureAwait(false);
                break;
            }
            catch (ScrapeDoException ex) when (RetryPersistence.IsTransient(ex) && ex is not ScrapeDoApiException { IsUnauthorized: true })
            {
                if (!persistence.KeepTrying)
                {
                    await delivery.FailUnclaimedAsync(tasks, $"Polling job {jobId} kept failing: {ex.Message}").ConfigureAwait(false);
                    break;
                }

                await Task.Delay(interval.Next(0, (ex as ScrapeDoApiException)?.RetryAfter), _time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            int newlyTerminal = await DispatchAsync(job, tasks, finished, fetches).ConfigureAwait(false);
            if (tasks.Remaining == 0)
            {
                break;
            }

            await Task.Delay(interval.Next(newlyTerminal), _time, cancellationToken).ConfigureAwait(false);
        }

        await Task.WhenAll(fetches).ConfigureAwait(false);
    }

    /// <summary>Claims and hands on each task the snapshot shows newly finished; returns how many it took.</summary>
    private async Task<int> DispatchAsync(JobDetails job, ChunkTasks tasks, List<FinishedTask> finished, List<Task> fetches)
    {
        finished.Clear();
        SnapshotDiff.FindFinished(job.Tasks, tasks, finished);
        int taken = 0;
        foreach (FinishedTask task in finished)
        {
            if (!tasks.TryClaim(task.Index))
            {
                continue;
            }

            taken++;
            if (task.Status == ScrapeDoStatus.Canceled)
            {
                // Nothing to fetch for a canceled task: its outcome is known from the job.
                await delivery.EmitAsync(OutcomeDelivery.Canceled(tasks.Item(task.Index), tasks.JobId, tasks.TaskId(task.Index))).ConfigureAwait(false);
            }
            else
            {
                fetches.Add(await fetcher.StartAsync(tasks, task.Index).ConfigureAwait(false));
            }
        }

        return taken;
    }
}

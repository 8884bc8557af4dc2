using ScrapeDo.Lean.Internal.Json;
using ScrapeDo.Lean.Internal.Polling;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// The watch stage: polls one job until each of its tasks is claimed, hands each newly finished task on (canceled
/// ones straight to delivery, the rest to the <see cref="TaskFetcher"/>), and leaves the webhook intake a way in.
/// </summary>
/// <remarks>
/// A watch always ends, and a bad answer costs at most this job: the loop stops when every task is claimed, when the
/// job itself reports a terminal status (tasks the snapshot still shows unfinished or omits are then fetched once,
/// directly), or at <see cref="RunOptions.JobDeadline"/>. Poll failures are handled like fetch failures: what may
/// pass is retried for <see cref="RunOptions.GiveUpAfter"/>, the rest becomes outcomes for this job's undelivered
/// items only. Whenever the runner gives up on a job that may still run, the job is canceled on the server so it
/// stops billing.
/// </remarks>
internal sealed class JobWatcher(ScrapeDoClient client, RunOptions options, OutcomeDelivery delivery, TaskFetcher fetcher,
    WebhookIntake? webhooks, OpenJobs openJobs, CancellationToken cancellationToken)
{
    private readonly TimeProvider _time = client.TimeProvider;

    /// <summary>Watches job <paramref name="jobId"/> of <paramref name="items"/> until every item has its outcome.</summary>
    public async Task WatchAsync(string jobId, IReadOnlyList<string> taskIds, List<RunItem> items)
    {
        var tasks = new ChunkTasks(jobId, taskIds, items);
        tasks.ClaimAlreadyDelivered(delivery.WasDelivered);
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
        var fetches = new List<Task>(tasks.Remaining);
        var finished = new List<FinishedTask>();
        var interval = new PollInterval(options.MinPollInterval, options.MaxPollInterval, Random.Shared.NextDouble);
        var watch = new WatchClock(_time, options);
        if (tasks.Remaining > 0)
        {
            await Task.Delay(options.FirstPollDelay, _time, cancellationToken).ConfigureAwait(false);
        }

        var persistence = new RetryPersistence(_time, options.GiveUpAfter, cancellationToken);
        // Null until the first snapshot: that one is read in full (it pairs tasks with targets by URL), every later
        // one only as a diff against the table.
        PollDiff? diff = null;
        try
        {
            while (tasks.Remaining > 0)
            {
                if (watch.PastDeadline)
                {
                    await GiveUpAsync(tasks, $"Job {tasks.JobId} did not finish within the job deadline ({options.JobDeadline}); it was canceled on the server.").ConfigureAwait(false);
                    break;
                }

                PollResult poll = await PollOnceAsync(tasks, diff, watch, persistence).ConfigureAwait(false);
                if (!poll.HasSnapshot)
                {
                    if (poll.Ended is { } end)
                    {
                        await EndAsync(tasks, end).ConfigureAwait(false);
                        break;
                    }

                    // After a failure, a Retry-After may be hours (or past a timer's range): the wait ends by the job's
                    // deadline and by the moment failures would give up, whichever comes first; the loop then decides. A
                    // 404 in the grace after the create is no failure and waits the poll interval.
                    TimeSpan wait = interval.Next(0, poll.RetryAfter);
                    if (poll.Failed)
                    {
                        wait = persistence.Bound(wait);
                    }

                    await Task.Delay(wait < watch.UntilDeadline ? wait : watch.UntilDeadline, _time, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                List<FinishedTask> newlyFinished;
                if (poll.Full is { } job)
                {
                    // The first snapshot settles which task is which target; webhooks can reach the table only after it.
                    tasks.TryAlignByUrl(job.Tasks);
                    webhooks?.Register(tasks);
                    finished.Clear();
                    SnapshotDiff.FindFinished(job.Tasks, tasks, finished);
                    newlyFinished = finished;
                    diff = new PollDiff(tasks);
                }
                else
                {
                    newlyFinished = diff!.Finished;
                }

                int newlyTerminal = await DispatchAsync(newlyFinished, tasks, fetches).ConfigureAwait(false);
                if (tasks.Remaining > 0 && poll.JobStatus.IsTerminal)
                {
                    // The job is over but the snapshot still shows some of its tasks unfinished or leaves them out: their
                    // own view is the authority. Each is fetched once, directly; the fetch ends in one outcome whatever it finds.
                    await FetchLeftoversAsync(tasks, fetches).ConfigureAwait(false);
                }

                if (tasks.Remaining == 0)
                {
                    break;
                }

                await Task.Delay(interval.Next(newlyTerminal), _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            // Canceled or failed: the fetches this watch started still hold fetcher slots and outcomes, and the run
            // disposes the fetcher once its watches are done, so they end first. The watch's own failure is the one
            // reported; theirs (the same cancellation, mostly) are not.
            await Task.WhenAll(fetches).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }
        finally
        {
            // The diff holds the last body as its memo, in a pooled buffer.
            diff?.Dispose();
        }

        await Task.WhenAll(fetches).ConfigureAwait(false);
    }

    /// <summary>One GET of the job, classified: a snapshot, a wait-and-retry, or the end of this watch.</summary>
    private async Task<PollResult> PollOnceAsync(ChunkTasks tasks, PollDiff? diff, WatchClock watch, RetryPersistence persistence)
    {
        string jobId = tasks.JobId;
        try
        {
            PollResult result;
            using (Telemetry.Source.StartActivity("scrapedo.poll"))
            {
                if (diff is null)
                {
                    JobDetails job = await client.GetJobAsync(jobId, JobDetailsReader.For(tasks), cancellationToken).ConfigureAwait(false);
                    result = new PollResult(true, job.Status, job, null, null);
                }
                else
                {
                    ScrapeDoStatus status = await client.PollJobAsync(jobId, diff, cancellationToken).ConfigureAwait(false);
                    result = new PollResult(true, status, null, null, null);
                }
            }

            persistence.Reset();
            return result;
        }
        catch (ScrapeDoApiException ex) when (ex.IsNotFound && watch.InNotFoundGrace)
        {
            // Read-after-write lag: a job that was just created may not be readable by id yet on every replica.
            return new PollResult(false, default, null, null, null);
        }
        catch (ScrapeDoApiException ex) when (ex.IsNotFound)
        {
            return new PollResult(false, default, null, new WatchEnd(OutcomeStatus.Failed, $"Job {jobId} no longer exists (404).", CancelOnServer: false), null);
        }
        catch (ScrapeDoApiException ex) when (ex.IsGone)
        {
            return new PollResult(false, default, null, new WatchEnd(OutcomeStatus.Expired, ex.ErrorText ?? $"Job {jobId} is past its retention (410).", CancelOnServer: false), null);
        }
        catch (ScrapeDoApiException ex) when (ex.IsUnauthorized)
        {
            throw;
        }
        catch (ScrapeDoException ex) when (RetryPersistence.IsTransientRead(ex))
        {
            if (!persistence.KeepTrying)
            {
                return new PollResult(false, default, null, new WatchEnd(OutcomeStatus.Failed, $"Polling job {jobId} kept failing: {ex.Message}", CancelOnServer: true), null);
            }

            return new PollResult(false, default, null, null, (ex as ScrapeDoApiException)?.RetryAfter, Failed: true);
        }
        catch (ScrapeDoException ex)
        {
            return new PollResult(false, default, null, new WatchEnd(OutcomeStatus.Failed, $"Polling job {jobId} failed: {ex.Message}", CancelOnServer: true), null);
        }
    }

    private async Task EndAsync(ChunkTasks tasks, WatchEnd end)
    {
        if (end.CancelOnServer)
        {
            await GiveUpAsync(tasks, end.Reason).ConfigureAwait(false);
        }
        else
        {
            await delivery.FailUnclaimedAsync(tasks, end.Reason, end.Status).ConfigureAwait(false);
        }
    }

    /// <summary>Stops a job the runner no longer watches (so it stops billing), then ends its undelivered items.</summary>
    private async Task GiveUpAsync(ChunkTasks tasks, string reason)
    {
        await openJobs.CancelAsync(client, tasks.JobId).ConfigureAwait(false);
        await delivery.FailUnclaimedAsync(tasks, reason, OutcomeStatus.Failed).ConfigureAwait(false);
    }

    /// <summary>Claims and hands on each task the snapshot shows newly finished; returns how many it took.</summary>
    private async Task<int> DispatchAsync(List<FinishedTask> finished, ChunkTasks tasks, List<Task> fetches)
    {
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

    private async Task FetchLeftoversAsync(ChunkTasks tasks, List<Task> fetches)
    {
        for (int i = 0; i < tasks.Count; i++)
        {
            if (tasks.TryClaim(i))
            {
                fetches.Add(await fetcher.StartAsync(tasks, i).ConfigureAwait(false));
            }
        }
    }

    /// <summary>
    /// What one poll came to: a snapshot (the job's status; the full details on the first poll only, the diff holds
    /// what finished on later ones), nothing yet (wait, floored by Retry-After), or the end of the watch.
    /// </summary>
    private readonly record struct PollResult(bool HasSnapshot, ScrapeDoStatus JobStatus, JobDetails? Full, WatchEnd? Ended, TimeSpan? RetryAfter, bool Failed = false);

    /// <summary>How a watch ends early: the outcome its undelivered items get, and whether the job may still be running.</summary>
    private readonly record struct WatchEnd(OutcomeStatus Status, string Reason, bool CancelOnServer);

    /// <summary>The two time limits of one watch, both counted from its start.</summary>
    private readonly struct WatchClock(TimeProvider time, RunOptions options)
    {
        private readonly long _start = time.GetTimestamp();

        public bool PastDeadline => options.JobDeadline != Timeout.InfiniteTimeSpan && time.GetElapsedTime(_start) >= options.JobDeadline;

        public bool InNotFoundGrace => time.GetElapsedTime(_start) < options.NotFoundGrace;

        /// <summary>What is left of the job deadline (never negative; a timer's longest wait when there is none).</summary>
        public TimeSpan UntilDeadline => options.JobDeadline == Timeout.InfiniteTimeSpan
            ? TimerLimit.Max
            : TimerLimit.Clamp(options.JobDeadline - time.GetElapsedTime(_start));
    }
}

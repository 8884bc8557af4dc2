using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// The fetch stage: fetches claimed tasks, at most <see cref="RunOptions.MaxConcurrentTaskFetches"/> at once across
/// the run (one worker each), and turns each fetch into exactly one outcome, whatever the server answers.
/// </summary>
internal sealed class TaskFetcher : IDisposable
{
    // Bounds the "not yet terminal" re-checks of a task whose job already said it finished.
    private const int ConvergenceRounds = 9;

    private readonly ScrapeDoClient _client;
    private readonly RunOptions _options;
    private readonly OutcomeDelivery _delivery;
    private readonly Channel<FetchGroup> _queue;
    private readonly CancellationToken _cancellationToken;
    private int _workersStarted;

    public TaskFetcher(ScrapeDoClient client, RunOptions options, OutcomeDelivery delivery, CancellationToken cancellationToken)
    {
        _client = client;
        _options = options;
        _delivery = delivery;
        // Holds chunks with queued fetches, each at most once (its queued positions stay in the chunk), so it never
        // grows past the jobs in flight: a queue of every task position grew to the whole backlog of finished tasks
        // in every run (about 50 bytes a task on the fan-out rig). Never full, so a writer never waits.
        _queue = Channel.CreateBounded<FetchGroup>(new BoundedChannelOptions(int.MaxValue) { SingleReader = false, SingleWriter = false });
        _cancellationToken = cancellationToken;
    }

    /// <summary>
    /// Queues the claimed task <paramref name="index"/> of <paramref name="tasks"/> for one of the run's
    /// <see cref="RunOptions.MaxConcurrentTaskFetches"/> fetch workers. The returned tasks, awaited together, end once
    /// every fetch queued for <paramref name="tasks"/> so far has emitted its one outcome (they fail as a fetch failed).
    /// </summary>
    /// <remarks>
    /// Long-lived workers instead of one async method per task: a fetch then costs no state machine, no task, no
    /// semaphore wait node and no thread-pool hop of its own (about 300 bytes a task on the fan-out rig).
    /// </remarks>
    public ValueTask<Task> StartAsync(ChunkTasks tasks, int index)
    {
        _cancellationToken.ThrowIfCancellationRequested();
        StartWorkers();
        Task group = tasks.Fetches.Started(index, out bool wasIdle);
        if (wasIdle && !_queue.Writer.TryWrite(tasks.Fetches))
        {
            // Disposed: no worker will take it. Not reachable from the run (it disposes the fetcher after every
            // watch, and every watch after its fetches), but a queued fetch must never be left without its end.
            EndQueued(tasks.Fetches, new ObjectDisposedException(nameof(TaskFetcher)));
        }

        if (_cancellationToken.IsCancellationRequested)
        {
            // The workers may already have stopped: nothing queued may be left without its end.
            DrainCanceled();
        }

        return new ValueTask<Task>(group);
    }

    /// <summary>No more fetches: idle workers stop.</summary>
    public void Dispose() => _queue.Writer.TryComplete();

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

    private void StartWorkers()
    {
        if (Volatile.Read(ref _workersStarted) != 0 || Interlocked.Exchange(ref _workersStarted, 1) != 0)
        {
            return;
        }

        // Not in the context of whichever chunk came first: each fetch runs in its own chunk's context (FetchStarter).
        using (ExecutionContext.SuppressFlow())
        {
            for (int i = 0; i < _options.MaxConcurrentTaskFetches; i++)
            {
                _ = Task.Run(WorkAsync);
            }
        }
    }

    /// <summary>One fetch worker: takes queued tasks one at a time until the run ends.</summary>
    private async Task WorkAsync()
    {
        ChannelReader<FetchGroup> queue = _queue.Reader;
        var starter = new FetchStarter(this);
        try
        {
            while (await queue.WaitToReadAsync(_cancellationToken).ConfigureAwait(false))
            {
                while (queue.TryRead(out FetchGroup? group))
                {
                    if (!group.TryTake(out int index, out bool more))
                    {
                        continue;
                    }

                    if (more && !_queue.Writer.TryWrite(group))
                    {
                        // The chunk has more queued, but the fetcher was disposed meanwhile: end the rest here.
                        EndQueued(group, new ObjectDisposedException(nameof(TaskFetcher)));
                    }

                    Exception? error = null;
                    try
                    {
                        _cancellationToken.ThrowIfCancellationRequested();
                        await starter.Start(group.Tasks, index).ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        // The chunk's watcher sees it, as it saw a failed fetch task before.
                        error = ex;
                    }

                    group.Ended(error);
                }
            }
        }
        catch (OperationCanceledException) when (_cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            DrainCanceled();
        }
    }

    /// <summary>Ends every fetch still queued in <paramref name="group"/> with <paramref name="reason"/>, unstarted.</summary>
    private static void EndQueued(FetchGroup group, Exception reason)
    {
        while (group.TryTake(out _, out _))
        {
            group.Ended(reason);
        }
    }

    /// <summary>Ends, as canceled, every queued fetch no worker will take (the run was canceled).</summary>
    private void DrainCanceled()
    {
        if (!_cancellationToken.IsCancellationRequested && !_queue.Reader.Completion.IsCompleted)
        {
            return;
        }

        while (_queue.Reader.TryRead(out FetchGroup? group))
        {
            EndQueued(group, new OperationCanceledException(_cancellationToken));
        }
    }

    /// <summary>
    /// Starts one fetch in its chunk's execution context, with one reusable state object per worker (so the fetch's
    /// activity is a child of its job's, as when the watcher started each fetch itself).
    /// </summary>
    private sealed class FetchStarter(TaskFetcher fetcher)
    {
        private static readonly ContextCallback StartInContext = static state => ((FetchStarter)state!).StartHere();
        private ChunkTasks? _tasks;
        private int _index;
        private ValueTask _started;

        public ValueTask Start(ChunkTasks tasks, int index)
        {
            (_tasks, _index) = (tasks, index);
            if (tasks.Context is { } context)
            {
                ExecutionContext.Run(context, StartInContext, this);
            }
            else
            {
                StartHere();
            }

            ValueTask started = _started;
            (_tasks, _started) = (null, default);
            return started;
        }

        private void StartHere() => _started = fetcher.FetchAsync(_tasks!.Item(_index), _tasks.JobId, _tasks.TaskId(_index));
    }

    // One fetch (with its retries), then its emit; runs on a worker, one at a time per worker, so its state machine
    // comes from the pool and goes back when the worker has awaited it.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FetchAsync(RunItem item, string jobId, string taskId)
    {
        TaskOutcome outcome;
        // Made on the first failure only (most fetches succeed at once), counting from the start as before.
        RetryPersistence? persistence = null;
        long started = _client.TimeProvider.GetTimestamp();
        bool lease = _options.LeaseContent;
        // Reads this task's ids (and, for a URL target, its URL) into the strings the run already holds.
        TaskDetailsReader reader = TaskDetailsReader.Rent(lease, jobId, taskId, item.Params is null ? item.Target : null);
        try
        {
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
        }
        finally
        {
            TaskDetailsReader.Return(reader);
        }

        await _delivery.EmitAsync(outcome).ConfigureAwait(false);
    }
}

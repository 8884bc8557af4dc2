using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using ScrapeDo.Lean.Internal.Polling;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>One input item: its position, its text (URL or params JSON) and, for plugin runs, its params.</summary>
internal readonly record struct RunItem(long Index, string Target, PluginParams? Params);

/// <summary>
/// The moving parts of one run: a producer that chunks the input and opens jobs, one lifecycle task per job
/// (create or reattach, poll, dispatch fetches), bounded fetchers, and the outcome channel the consumer reads.
/// Every item reaches the channel exactly once: each task index is claimed atomically by exactly one path (poll then
/// fetch, poll then canceled, the webhook fast path, or the job's failure path), and every path ends in one outcome.
/// </summary>
internal sealed class RunSession : IAsyncDisposable
{
    // Bounds the "not yet terminal" re-checks of a task whose job already said it finished.
    private const int ConvergenceRounds = 9;
    private static readonly TimeSpan ReconcileSettle = TimeSpan.FromMilliseconds(500);

    private readonly ScrapeDoClient _client;
    private readonly RunOptions _options;
    private readonly CreateJobRequest _template;
    private readonly string? _pluginKey;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _cts;
    private readonly Channel<TaskOutcome> _outcomes;
    private readonly SemaphoreSlim _fetchSlots;
    private readonly ConcurrentTaskSet _work = new();
    private readonly HashSet<string> _claimedJobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _openJobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (ChunkState Chunk, int Index)> _byTaskId = new(StringComparer.Ordinal);
    private Task? _webhookReader;
    private readonly long _startTimestamp;
    private readonly long _requestsAtStart;
    private SemaphoreSlim? _jobSlots;
    private RunJournal? _journal;
    private Task? _producer;
    private long _submitted;
    private long _delivered;
    private long _failed;
    private int _jobsInFlight;
    private long _lastProgress;
    private bool _completed;

    public RunSession(ScrapeDoClient client, RunOptions options, CreateJobRequest template, string? pluginKey, CancellationToken cancellationToken)
    {
        _client = client;
        _options = options;
        _template = template;
        _pluginKey = pluginKey;
        _time = client.TimeProvider;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _outcomes = Channel.CreateBounded<TaskOutcome>(new BoundedChannelOptions(options.MaxBufferedOutcomes)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        _fetchSlots = new SemaphoreSlim(options.MaxConcurrentTaskFetches);
        _startTimestamp = _time.GetTimestamp();
        _requestsAtStart = client.RequestsSent;
    }

    private CancellationToken Token => _cts.Token;

    public async Task StartAsync(IAsyncEnumerable<RunItem> items)
    {
        int jobs = _options.MaxJobsInFlight ?? await DefaultJobsInFlightAsync().ConfigureAwait(false);
        _jobSlots = new SemaphoreSlim(jobs);
        if (_options.JournalPath is { } path)
        {
            _journal = await RunJournal.OpenAsync(path, _options.Resume, _options.MaxTargetsPerJob, Token).ConfigureAwait(false);
        }

        if (_options.WebhookDeliveries is { } deliveries)
        {
            _webhookReader = Task.Run(() => ReadWebhooksAsync(deliveries));
        }

        _producer = Task.Run(() => ProduceAsync(items));
    }

    public IAsyncEnumerable<TaskOutcome> ReadAllAsync() => _outcomes.Reader.ReadAllAsync(Token);

    public async Task AcknowledgeAsync(TaskOutcome outcome)
    {
        long delivered = Interlocked.Increment(ref _delivered);
        if (outcome.Kind != OutcomeKind.Success)
        {
            Interlocked.Increment(ref _failed);
        }

        Telemetry.Outcomes.Add(1, new KeyValuePair<string, object?>("outcome", outcome.Status));
        if (_journal is not null)
        {
            // Not the run's token: this also runs while a canceled run is being disposed, and the mark must land.
            await _journal.RecordDeliveredAsync(outcome.InputIndex, CancellationToken.None).ConfigureAwait(false);
        }

        ReportProgress(force: false, delivered);
    }

    public async Task CompleteAsync()
    {
        if (_producer is not null)
        {
            await _producer.ConfigureAwait(false);
        }

        _completed = true;
        ReportProgress(force: true, Interlocked.Read(ref _delivered));
    }

    public async ValueTask DisposeAsync()
    {
        bool abandoned = !_completed;
        await _cts.CancelAsync().ConfigureAwait(false);
        try
        {
            if (_producer is not null)
            {
                await _producer.ConfigureAwait(false);
            }
        }
        catch
        {
            // The producer's failure was already surfaced through the channel, or the run was abandoned.
        }

        await _work.WhenAllAsync().ConfigureAwait(false);
        if (_webhookReader is not null)
        {
            await _webhookReader.ConfigureAwait(false);
        }

        if (abandoned && _options.CancelJobsOnCancellation)
        {
            await CancelOpenJobsAsync().ConfigureAwait(false);
        }

        if (_journal is not null)
        {
            await _journal.DisposeAsync().ConfigureAwait(false);
        }

        _cts.Dispose();
        _fetchSlots.Dispose();
        _jobSlots?.Dispose();
    }

    private async Task<int> DefaultJobsInFlightAsync()
    {
        try
        {
            AccountInfo me = await _client.GetAccountAsync(Token).ConfigureAwait(false);
            return Math.Clamp(me.TotalConcurrency, 2, 16);
        }
        catch (ScrapeDoApiException ex) when (ex.IsUnauthorized)
        {
            throw;
        }
        catch (ScrapeDoException)
        {
            return 2;
        }
    }

    private async Task ProduceAsync(IAsyncEnumerable<RunItem> items)
    {
        try
        {
            int chunkIndex = 0;
            var batch = new List<RunItem>(_options.MaxTargetsPerJob);
            await foreach (RunItem item in items.WithCancellation(Token).ConfigureAwait(false))
            {
                if (item.Params is null && RequestValidator.TargetProblem(item.Target) is { } problem)
                {
                    await EmitAsync(Failed(item, $"Target {problem}", jobId: null)).ConfigureAwait(false);
                    continue;
                }

                batch.Add(item);
                if (batch.Count == _options.MaxTargetsPerJob)
                {
                    await StartChunkAsync(chunkIndex++, batch).ConfigureAwait(false);
                    batch = new List<RunItem>(_options.MaxTargetsPerJob);
                }
            }

            if (batch.Count > 0)
            {
                await StartChunkAsync(chunkIndex, batch).ConfigureAwait(false);
            }

            await _work.WhenAllAsync().ConfigureAwait(false);
            _outcomes.Writer.TryComplete();
        }
        catch (OperationCanceledException) when (Token.IsCancellationRequested)
        {
            _outcomes.Writer.TryComplete(new OperationCanceledException(Token));
        }
        catch (Exception ex)
        {
            _outcomes.Writer.TryComplete(ex);
            await _cts.CancelAsync().ConfigureAwait(false);
        }
    }

    private async Task StartChunkAsync(int chunkIndex, List<RunItem> items)
    {
        string[] targets = new string[items.Count];
        for (int i = 0; i < targets.Length; i++)
        {
            targets[i] = items[i].Target;
        }

        // Only a journal needs the hash (to recognise the chunk on resume); it is computed once here.
        string hash = _journal is null ? string.Empty : RunJournal.HashTargets(targets);
        if (_journal is not null && _journal.Chunks.TryGetValue(chunkIndex, out JournalChunk? recorded))
        {
            if (recorded.Hash != hash || recorded.FirstIndex != items[0].Index || recorded.Count != items.Count)
            {
                throw new InvalidOperationException($"The input differs from the journal at job {chunkIndex} (targets {items[0].Index}..{items[^1].Index}); resume with the same input and settings.");
            }

            if (items.TrueForAll(i => _journal.Delivered.Contains(i.Index)))
            {
                return;
            }
        }

        await _jobSlots!.WaitAsync(Token).ConfigureAwait(false);
        Interlocked.Increment(ref _jobsInFlight);
        _work.Track(Task.Run(async () =>
        {
            try
            {
                await ChunkLifecycleAsync(chunkIndex, items, targets, hash).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (Token.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                // Fatal for the run (refused token, journal on other input, a bug): stop everything and say why.
                _outcomes.Writer.TryComplete(ex);
                await _cts.CancelAsync().ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _jobsInFlight);
                _jobSlots.Release();
            }
        }));
    }

    private async Task ChunkLifecycleAsync(int chunkIndex, List<RunItem> items, string[] targets, string hash)
    {
        using Activity? activity = Telemetry.Source.StartActivity("scrapedo.job");
        activity?.SetTag("scrapedo.chunk", chunkIndex);
        activity?.SetTag("scrapedo.targets", items.Count);
        (string? jobId, IReadOnlyList<string>? taskIds, string? failure) = await EnsureJobAsync(chunkIndex, items, targets, hash).ConfigureAwait(false);
        if (jobId is null || taskIds is null)
        {
            foreach (RunItem item in items)
            {
                await EmitAsync(Failed(item, failure ?? "The job could not be created.", null)).ConfigureAwait(false);
            }

            return;
        }

        activity?.SetTag("scrapedo.job_id", jobId);
        if (taskIds.Count != items.Count)
        {
            foreach (RunItem item in items)
            {
                await EmitAsync(Failed(item, $"Job {jobId} has {taskIds.Count} tasks for {items.Count} targets; results cannot be matched to targets.", jobId)).ConfigureAwait(false);
            }

            return;
        }

        Interlocked.Add(ref _submitted, items.Count);
        lock (_openJobs)
        {
            _openJobs[jobId] = true;
        }

        await PollAndFetchAsync(jobId, taskIds, items).ConfigureAwait(false);
        lock (_openJobs)
        {
            _openJobs.Remove(jobId);
        }
    }

    private async Task<(string? JobId, IReadOnlyList<string>? TaskIds, string? Failure)> EnsureJobAsync(int chunkIndex, List<RunItem> items, string[] targets, string hash)
    {
        JournalChunk? chunk = null;
        if (_journal is not null && _journal.Chunks.TryGetValue(chunkIndex, out chunk))
        {
            if (chunk.JobId is not null)
            {
                Claim(chunk.JobId);
                return (chunk.JobId, chunk.TaskIds ?? [], null);
            }

            if (chunk.FailureReason is not null)
            {
                return (null, null, chunk.FailureReason);
            }

            // Submitted before a crash with no recorded answer: the job may exist. Look before sending again.
            if (await ReconcileAsync(targets, chunk.SubmittedAt).ConfigureAwait(false) is { } found)
            {
                await RecordCreatedAsync(chunk, found.JobId, found.TaskIds).ConfigureAwait(false);
                return (found.JobId, found.TaskIds, null);
            }
        }

        CreateJobRequest request = _pluginKey is null
            ? _template.WithTargets(targets)
            : _template.WithPlugin(new PluginRequest(_pluginKey, items.ConvertAll(i => i.Params!)));
        var persistence = new Persistence(this);
        for (int round = 0; ; round++)
        {
            chunk = new JournalChunk { Chunk = chunkIndex, FirstIndex = items[0].Index, Count = items.Count, SubmittedAt = _time.GetUtcNow(), Hash = hash };
            if (_journal is not null)
            {
                await _journal.RecordSubmitAsync(chunk, Token).ConfigureAwait(false);
            }

            try
            {
                CreateJobResponse created = await _client.CreateJobAsync(request, Token).ConfigureAwait(false);
                Telemetry.JobsCreated.Add(1);
                await RecordCreatedAsync(chunk, created.JobId, created.TaskIds).ConfigureAwait(false);
                return (created.JobId, created.TaskIds, null);
            }
            catch (ScrapeDoException ex) when (ex.CreateOutcomeUnknown && persistence.KeepTrying)
            {
                if (await ReconcileAsync(targets, chunk.SubmittedAt).ConfigureAwait(false) is { } found)
                {
                    await RecordCreatedAsync(chunk, found.JobId, found.TaskIds).ConfigureAwait(false);
                    return (found.JobId, found.TaskIds, null);
                }
            }
            catch (ScrapeDoApiException ex) when (ex.IsUnauthorized)
            {
                throw;
            }
            catch (ScrapeDoException ex) when (IsTransient(ex) && persistence.KeepTrying)
            {
                await persistence.WaitAsync(ex).ConfigureAwait(false);
            }
            catch (ArgumentException ex)
            {
                return await FailChunkAsync(chunk, $"The job was refused before sending: {ex.Message}").ConfigureAwait(false);
            }
            catch (ScrapeDoException ex) when (!ex.CreateOutcomeUnknown)
            {
                return await FailChunkAsync(chunk, ex.Message).ConfigureAwait(false);
            }
        }
    }

    private async Task<(string?, IReadOnlyList<string>?, string?)> FailChunkAsync(JournalChunk chunk, string reason)
    {
        chunk.FailureReason = reason;
        if (_journal is not null)
        {
            await _journal.RecordCreatedAsync(chunk, Token).ConfigureAwait(false);
        }

        return (null, null, reason);
    }

    private async Task RecordCreatedAsync(JournalChunk chunk, string jobId, IReadOnlyList<string> taskIds)
    {
        Claim(jobId);
        chunk.JobId = jobId;
        chunk.TaskIds = taskIds;
        if (_journal is not null)
        {
            await _journal.RecordCreatedAsync(chunk, Token).ConfigureAwait(false);
        }
    }

    private void Claim(string jobId)
    {
        lock (_claimedJobs)
        {
            _claimedJobs.Add(jobId);
        }
    }

    /// <summary>
    /// Looks for a job this run may have created at <paramref name="submittedAt"/>: one that started since then (less
    /// the clock-skew allowance), is not already claimed by this run, and has exactly these targets in this order
    /// (plugin jobs, whose task URLs the server builds, are matched on task count). Only when the listing completes
    /// without a match is the job taken as not created; a listing that fails is retried, never read as "absent".
    /// </summary>
    private async Task<(string JobId, IReadOnlyList<string> TaskIds)?> ReconcileAsync(string[] targets, DateTimeOffset submittedAt)
    {
        await Task.Delay(ReconcileSettle, _time, Token).ConfigureAwait(false);
        var query = new ListJobsQuery { PageSize = ListJobsQuery.MaxPageSize, StartFrom = submittedAt - _options.ReconcileClockSkew, Sort = JobSortOrder.StartTimeDescending };
        var persistence = new Persistence(this);
        while (true)
        {
            try
            {
                await foreach (JobDetails job in _client.ListAllJobsAsync(query, Token).ConfigureAwait(false))
                {
                    if (Matches(job, targets))
                    {
                        lock (_claimedJobs)
                        {
                            if (!_claimedJobs.Add(job.JobId))
                            {
                                continue;
                            }
                        }

                        return (job.JobId, job.TaskIds.Count > 0 ? job.TaskIds : job.Tasks.Select(t => t.TaskId).ToArray());
                    }
                }

                return null;
            }
            catch (ScrapeDoException ex) when (persistence.KeepTrying && ex is not ScrapeDoApiException { IsUnauthorized: true })
            {
                // A listing that fails proves nothing: wait and list again, never assume the job is absent.
                await persistence.WaitAsync(ex).ConfigureAwait(false);
            }
        }
    }

    private bool Matches(JobDetails job, string[] targets)
    {
        if (job.Tasks.Count != targets.Length && job.TaskIds.Count != targets.Length)
        {
            return false;
        }

        if (_pluginKey is not null)
        {
            return true;
        }

        if (job.Tasks.Count != targets.Length)
        {
            return false;
        }

        for (int i = 0; i < targets.Length; i++)
        {
            if (!string.Equals(job.Tasks[i].Url, targets[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    private async Task PollAndFetchAsync(string jobId, IReadOnlyList<string> taskIds, List<RunItem> items)
    {
        int count = items.Count;
        var chunk = new ChunkState(jobId, taskIds, items);
        for (int i = 0; i < count; i++)
        {
            if (_journal is not null && _journal.Delivered.Contains(items[i].Index))
            {
                chunk.TryClaim(i);
            }
            else if (_options.WebhookDeliveries is not null)
            {
                _byTaskId[taskIds[i]] = (chunk, i);
            }
        }

        try
        {
            await PollChunkAsync(chunk).ConfigureAwait(false);
        }
        finally
        {
            if (_options.WebhookDeliveries is not null)
            {
                foreach (string taskId in taskIds)
                {
                    _byTaskId.TryRemove(taskId, out _);
                }
            }
        }

        // A webhook delivery that claimed a task may still be handing its outcome over; the chunk ends after it.
        while (chunk.SideDeliveriesInProgress > 0)
        {
            await Task.Delay(1, Token).ConfigureAwait(false);
        }
    }

    private async Task PollChunkAsync(ChunkState chunk)
    {
        string jobId = chunk.JobId;
        IReadOnlyList<string> taskIds = chunk.TaskIds;
        List<RunItem> items = chunk.Items;
        int count = items.Count;
        var fetches = new List<Task>(chunk.Remaining);
        var interval = new PollInterval(_options.MinPollInterval, _options.MaxPollInterval, Random.Shared.NextDouble);
        var persistence = new Persistence(this);
        if (chunk.Remaining > 0)
        {
            await Task.Delay(_options.FirstPollDelay, _time, Token).ConfigureAwait(false);
        }

        while (chunk.Remaining > 0)
        {
            JobDetails job;
            try
            {
                using (Telemetry.Source.StartActivity("scrapedo.poll"))
                {
                    job = await _client.GetJobAsync(jobId, Token).ConfigureAwait(false);
                }

                persistence.Reset();
            }
            catch (ScrapeDoApiException ex) when (ex.IsNotFound)
            {
                await FailUnclaimedAsync(chunk, $"Job {jobId} no longer exists (404).").ConfigureAwait(false);
                break;
            }
            catch (ScrapeDoException ex) when (IsTransient(ex) && ex is not ScrapeDoApiException { IsUnauthorized: true })
            {
                if (!persistence.KeepTrying)
                {
                    await FailUnclaimedAsync(chunk, $"Polling job {jobId} kept failing: {ex.Message}").ConfigureAwait(false);
                    break;
                }

                await Task.Delay(interval.Next(0, (ex as ScrapeDoApiException)?.RetryAfter), _time, Token).ConfigureAwait(false);
                continue;
            }

            int newlyTerminal = 0;
            bool aligned = job.Tasks.Count == count;
            // Built only when the snapshot's order differs from TaskIDs, once per poll.
            Dictionary<string, int>? positions = null;
            for (int i = 0; i < count; i++)
            {
                if (chunk.IsClaimed(i))
                {
                    continue;
                }

                TaskSummary? summary = null;
                if (aligned && job.Tasks[i].TaskId == taskIds[i])
                {
                    summary = job.Tasks[i];
                }
                else
                {
                    positions ??= Index(job.Tasks);
                    summary = positions.TryGetValue(taskIds[i], out int at) ? job.Tasks[at] : null;
                }

                if (summary is null || !summary.Status.IsTerminal || !chunk.TryClaim(i))
                {
                    continue;
                }

                newlyTerminal++;
                RunItem item = items[i];
                if (summary.Status == ScrapeDoStatus.Canceled)
                {
                    // Nothing to fetch for a canceled task: its outcome is known from the job.
                    await EmitAsync(Canceled(item, jobId, taskIds[i])).ConfigureAwait(false);
                }
                else
                {
                    await _fetchSlots.WaitAsync(Token).ConfigureAwait(false);
                    fetches.Add(FetchAsync(item, jobId, taskIds[i]));
                }
            }

            if (chunk.Remaining == 0)
            {
                break;
            }

            await Task.Delay(interval.Next(newlyTerminal), _time, Token).ConfigureAwait(false);
        }

        await Task.WhenAll(fetches).ConfigureAwait(false);
    }

    private async Task ReadWebhooksAsync(System.Threading.Channels.ChannelReader<TaskDetails> deliveries)
    {
        try
        {
            await foreach (TaskDetails task in deliveries.ReadAllAsync(Token).ConfigureAwait(false))
            {
                if (!task.Status.IsTerminal || !_byTaskId.TryGetValue(task.TaskId, out var entry) || entry.Chunk.JobId != task.JobId)
                {
                    // Not a task of this run (or not finished): a stray or forged delivery changes nothing.
                    continue;
                }

                ChunkState chunk = entry.Chunk;
                chunk.BeginSideDelivery();
                try
                {
                    if (!chunk.TryClaim(entry.Index))
                    {
                        continue;
                    }

                    RunItem item = chunk.Items[entry.Index];
                    await EmitAsync(task.Status == ScrapeDoStatus.Canceled ? Canceled(item, task.JobId, task.TaskId) : ToOutcome(item, task)).ConfigureAwait(false);
                }
                finally
                {
                    chunk.EndSideDelivery();
                }
            }
        }
        catch (OperationCanceledException) when (Token.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The deliveries source failed: webhooks are only a fast path, polling still delivers every task.
        }
    }

    private static TaskOutcome Canceled(RunItem item, string jobId, string taskId) =>
        new() { InputIndex = item.Index, Target = item.Target, Kind = OutcomeKind.Canceled, JobId = jobId, TaskId = taskId, Reason = "The task was canceled." };

    private static Dictionary<string, int> Index(IReadOnlyList<TaskSummary> tasks)
    {
        var map = new Dictionary<string, int>(tasks.Count, StringComparer.Ordinal);
        for (int i = 0; i < tasks.Count; i++)
        {
            map[tasks[i].TaskId] = i;
        }

        return map;
    }

    /// <summary>Fetches one task (its fetch slot already taken) and always ends in exactly one outcome.</summary>
    private async Task FetchAsync(RunItem item, string jobId, string taskId)
    {
        try
        {
            await Task.Yield();
            TaskOutcome outcome = await FetchOutcomeAsync(item, jobId, taskId).ConfigureAwait(false);
            await EmitAsync(outcome).ConfigureAwait(false);
        }
        finally
        {
            _fetchSlots.Release();
        }
    }

    private async Task<TaskOutcome> FetchOutcomeAsync(RunItem item, string jobId, string taskId)
    {
        var persistence = new Persistence(this);
        for (int round = 0; ; round++)
        {
            using Activity? activity = Telemetry.Source.StartActivity("scrapedo.task.fetch");
            try
            {
                TaskDetails details = await _client.GetTaskAsync(jobId, taskId, Token).ConfigureAwait(false);
                activity?.SetTag("scrapedo.trace_id", details.TraceId);
                Telemetry.ContentBytes.Add(details.Content.Length);
                if (!details.Status.IsTerminal && round < ConvergenceRounds)
                {
                    // The job said terminal but the task does not yet: the two views are converging; look again shortly.
                    await persistence.WaitAsync(null).ConfigureAwait(false);
                    continue;
                }

                return ToOutcome(item, details);
            }
            catch (ScrapeDoApiException ex) when (ex.IsGone)
            {
                return new TaskOutcome { InputIndex = item.Index, Target = item.Target, Kind = OutcomeKind.Expired, JobId = jobId, TaskId = taskId, Reason = ex.ErrorText ?? "Task content is no longer available (410)." };
            }
            catch (ScrapeDoApiException ex) when (ex.IsUnauthorized)
            {
                throw;
            }
            catch (ScrapeDoException ex) when (IsTransient(ex) && persistence.KeepTrying)
            {
                await persistence.WaitAsync(ex).ConfigureAwait(false);
            }
            catch (ScrapeDoException ex)
            {
                return Failed(item, ex.Message, jobId, taskId);
            }
        }
    }

    private TaskOutcome ToOutcome(RunItem item, TaskDetails details)
    {
        OutcomeKind kind;
        string? reason = null;
        if (details.Status == ScrapeDoStatus.Success)
        {
            // Content past its ExpiresAt is still delivered when the server sent it; only a missing one is "expired".
            kind = details.Content.IsEmpty && details.ExpiresAt is { } expires && expires <= _time.GetUtcNow() ? OutcomeKind.Expired : OutcomeKind.Success;
            reason = kind == OutcomeKind.Expired ? "The content is past its ExpiresAt." : null;
        }
        else if (details.Status == ScrapeDoStatus.Canceled)
        {
            kind = OutcomeKind.Canceled;
            reason = "The task was canceled.";
        }
        else if (details.Status == ScrapeDoStatus.Error)
        {
            kind = OutcomeKind.Error;
            reason = string.IsNullOrEmpty(details.ErrorMessage) ? "The task failed on the server." : details.ErrorMessage;
        }
        else
        {
            kind = OutcomeKind.Failed;
            reason = $"The task stayed in status '{details.Status}' after its job reported it finished.";
        }

        return new TaskOutcome
        {
            InputIndex = item.Index,
            Target = item.Target,
            Kind = kind,
            JobId = details.JobId,
            TaskId = details.TaskId,
            StatusCode = details.StatusCode == 0 ? null : details.StatusCode,
            Reason = reason,
            Details = details,
        };
    }

    private async Task FailUnclaimedAsync(ChunkState chunk, string reason)
    {
        for (int i = 0; i < chunk.Items.Count; i++)
        {
            if (chunk.TryClaim(i))
            {
                await EmitAsync(Failed(chunk.Items[i], reason, chunk.JobId)).ConfigureAwait(false);
            }
        }
    }

    private async Task EmitAsync(TaskOutcome outcome)
    {
        if (_journal is not null && _journal.Delivered.Contains(outcome.InputIndex))
        {
            return;
        }

        await _outcomes.Writer.WriteAsync(outcome, Token).ConfigureAwait(false);
    }

    private static TaskOutcome Failed(RunItem item, string reason, string? jobId, string? taskId = null) =>
        new() { InputIndex = item.Index, Target = item.Target, Kind = OutcomeKind.Failed, JobId = jobId, TaskId = taskId, Reason = reason };

    private static bool IsTransient(ScrapeDoException ex) => ex switch
    {
        ScrapeDoApiException api => !api.IsMalformedResponse && (api.IsRateLimited || api.IsServerError || (int)api.StatusCode == 408),
        ScrapeDoTimeoutException or ScrapeDoTransportException => true,
        _ => false,
    };

    /// <summary>
    /// Keeps one operation going through transient failures: waits grow from 0.5 s to 30 s (jittered, floored by
    /// Retry-After), and the operation gives up only after failing continuously for <see cref="RunOptions.GiveUpAfter"/>.
    /// Time, not a count, decides, so a long 429 storm slows the run down instead of failing targets.
    /// </summary>
    private sealed class Persistence(RunSession session)
    {
        private long _since = session._time.GetTimestamp();
        private int _round;

        public bool KeepTrying => session._time.GetElapsedTime(_since) < session._options.GiveUpAfter;

        public void Reset()
        {
            _since = session._time.GetTimestamp();
            _round = 0;
        }

        public Task WaitAsync(ScrapeDoException? failure)
        {
            TimeSpan wait;
            if ((failure as ScrapeDoApiException)?.RetryAfter is { } told)
            {
                // The server said when to come back: do that (spread by up to 20 % so a crowd does not return at once)
                // rather than compounding our own backoff on top of its instruction.
                wait = told * (1 + 0.2 * Random.Shared.NextDouble());
            }
            else
            {
                double seconds = Math.Min(30, 0.5 * Math.Pow(2, Math.Min(_round++, 10)));
                wait = TimeSpan.FromSeconds(seconds * (0.8 + 0.4 * Random.Shared.NextDouble()));
            }

            return Task.Delay(wait, session._time, session.Token);
        }
    }

    private async Task CancelOpenJobsAsync()
    {
        string[] open;
        lock (_openJobs)
        {
            open = [.. _openJobs.Keys];
        }

        // The run's own token is canceled by now: these best-effort cancels get their own short deadline.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await Task.WhenAll(open.Select(async id =>
        {
            try
            {
                await _client.CancelJobAsync(id, deadline.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ScrapeDoException or OperationCanceledException or ObjectDisposedException)
            {
                // 406 (already finished) or unreachable: nothing more to do; the journal still allows a resume.
            }
        })).ConfigureAwait(false);
    }

    private void ReportProgress(bool force, long delivered)
    {
        if (_options.Progress is null)
        {
            return;
        }

        long now = _time.GetTimestamp();
        long last = Interlocked.Read(ref _lastProgress);
        if (!force && _time.GetElapsedTime(last, now) < TimeSpan.FromMilliseconds(100) && last != 0)
        {
            return;
        }

        Interlocked.Exchange(ref _lastProgress, now);
        _options.Progress.Report(new RunProgress(Interlocked.Read(ref _submitted), delivered, Interlocked.Read(ref _failed), Volatile.Read(ref _jobsInFlight),
            _time.GetElapsedTime(_startTimestamp), _client.RequestsSent - _requestsAtStart));
    }
}

/// <summary>
/// A job's tasks and who has taken each one. Claims are atomic so the poller and the webhook fast path can race:
/// the first to claim a task delivers it, the other skips it.
/// </summary>
internal sealed class ChunkState(string jobId, IReadOnlyList<string> taskIds, List<RunItem> items)
{
    private readonly int[] _claimed = new int[items.Count];
    private int _remaining = items.Count;
    private int _sideDeliveries;

    public string JobId { get; } = jobId;

    public IReadOnlyList<string> TaskIds { get; } = taskIds;

    public List<RunItem> Items { get; } = items;

    public int Remaining => Volatile.Read(ref _remaining);

    public int SideDeliveriesInProgress => Volatile.Read(ref _sideDeliveries);

    public bool IsClaimed(int index) => Volatile.Read(ref _claimed[index]) != 0;

    public bool TryClaim(int index)
    {
        if (Interlocked.Exchange(ref _claimed[index], 1) != 0)
        {
            return false;
        }

        Interlocked.Decrement(ref _remaining);
        return true;
    }

    public void BeginSideDelivery() => Interlocked.Increment(ref _sideDeliveries);

    public void EndSideDelivery() => Interlocked.Decrement(ref _sideDeliveries);
}

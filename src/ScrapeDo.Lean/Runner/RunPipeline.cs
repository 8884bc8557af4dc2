using System.Diagnostics;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// One run, wired as stages through which data flows one way:
/// <code>
/// targets → TargetChunker → JobSubmitter (+ CreateReconciler, RunJournal) → JobWatcher (SnapshotDiff, WebhookIntake)
///         → TaskFetcher → OutcomeDelivery → consumer
/// </code>
/// This class starts the stages, runs one lifecycle per chunk (job, then watch) under the jobs-in-flight limit, and
/// on the way out cancels the server jobs of an abandoned run. The exactly-once rule lives in <see cref="OutcomeDelivery"/>.
/// </summary>
internal sealed class RunPipeline : IAsyncDisposable
{
    private static readonly TimeSpan CreateAnswerGrace = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ProducerGrace = TimeSpan.FromSeconds(1); // named in Log.TargetSourceAbandoned
    private readonly ScrapeDoClient _client;
    private readonly RunOptions _options;
    private readonly CreateJobRequest _template;
    private readonly string? _pluginKey;
    private readonly CancellationTokenSource _cts;
    private readonly CancellationToken _callerToken;
    private readonly ConcurrentTaskSet _work = new();
    private readonly OpenJobs _openJobs = new();
    private readonly ProgressReporter _progress;
    private readonly Microsoft.Extensions.Logging.ILogger _log;
    private RunJournal? _journal;
    private OutcomeDelivery _delivery = null!;
    private JobSubmitter _submitter = null!;
    private TaskFetcher? _fetcher;
    private JobWatcher _watcher = null!;
    private SemaphoreSlim? _jobSlots;
    private CreditBudget _budget = null!;
    private Task? _webhookReader;
    private Task? _producer;
    private bool _completed;

    // Whether this run cleared and holds RunOptions.Credits (released when the run is disposed).
    private bool _creditsClaimed;

    public RunPipeline(ScrapeDoClient client, RunOptions options, CreateJobRequest template, string? pluginKey, CancellationToken cancellationToken)
    {
        _client = client;
        _options = options;
        _template = template;
        _pluginKey = pluginKey;
        _callerToken = cancellationToken;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _progress = new ProgressReporter(client, options.Progress);
        _log = client.LoggerFactory.CreateLogger(Log.RunnerCategory);
    }

    private CancellationToken Token => _cts.Token;

    public async Task StartAsync(IAsyncEnumerable<RunItem> items)
    {
        if (_options.Credits is { } credits)
        {
            credits.BeginRun();
            _creditsClaimed = true;
        }

        // One /api/v1/me read serves both the default jobs in flight and the credits-before figure of the report.
        AccountInfo? account = _options.MaxJobsInFlight is null || _options.Credits is not null ? await CreditBudget.TryReadAccountAsync(_client, Token).ConfigureAwait(false) : null;
        int jobs = _options.MaxJobsInFlight ?? (account is null ? 2 : Math.Clamp(account.TotalConcurrency, 2, 16));
        _jobSlots = new SemaphoreSlim(jobs);
        if (_options.JournalPath is { } path)
        {
            _journal = await RunJournal.OpenAsync(path, _options.Resume, _options.MaxTargetsPerJob, RunJournal.FingerprintOptions(_template, _pluginKey), Token).ConfigureAwait(false);
            _journal.Logger = _log;
            var recorded = _journal.State.Summary();
            if (recorded.Chunks > 0)
            {
                Log.ResumeSummary(_log, recorded.Chunks, recorded.WithJob, recorded.Failed, recorded.Unanswered, (int)Math.Min(recorded.Delivered, int.MaxValue));
            }
        }

        _budget = new CreditBudget(_client, _options, _template, _pluginKey, _journal);
        _progress.Budget = _budget;
        if (_options.Credits is not null)
        {
            _budget.Usage.AccountCreditsBefore = account?.AvailableCredits;
        }

        _delivery = new OutcomeDelivery(_options.MaxBufferedOutcomes, _journal, _progress, checkTaskUrls: _pluginKey is null, Token);
        var reconciler = new CreateReconciler(_client, _options, _pluginKey, Token, _log);
        ClaimJournaledJobs(reconciler);
        // The fence is taken just before this process's first create (JobSubmitter), so no job that exists then is ever
        // taken for one of its creates, and journaled so a resume can say the same of the creates this process sends
        // and never hears back from. A resume that only reattaches to journaled jobs never lists at all.
        _submitter = new JobSubmitter(_client, _options, _template, _pluginKey, _journal, reconciler, _openJobs, _log, Token, _budget);
        _fetcher = new TaskFetcher(_client, _options, _delivery, Token);
        WebhookIntake? webhooks = null;
        if (_options.WebhookDeliveries is { } deliveries)
        {
            webhooks = new WebhookIntake(_delivery, _client.TimeProvider, _log, Token, _options.LeaseContent);
            _webhookReader = Task.Run(() => webhooks.ReadAsync(deliveries));
        }

        _watcher = new JobWatcher(_client, _options, _delivery, _fetcher, webhooks, _openJobs, Token);
        _producer = Task.Run(() => ProduceAsync(items));
    }

    /// <summary>
    /// Every job the journal names is this run's before any chunk starts, so no reconcile (of an earlier chunk whose
    /// create answer was lost) can adopt a later chunk's journaled job.
    /// </summary>
    private void ClaimJournaledJobs(CreateReconciler reconciler)
    {
        if (_journal is null)
        {
            return;
        }

        foreach (string jobId in _journal.State.JobIds())
        {
            reconciler.Claim(jobId);
        }
    }

    public Task AcknowledgeAsync(TaskOutcome outcome) => _delivery.AcknowledgeAsync(outcome);

    /// <summary>The delivery stage, for the runner's group acknowledgement.</summary>
    public OutcomeDelivery Delivery => _delivery;

    public async Task CompleteAsync()
    {
        if (_producer is not null)
        {
            await _producer.ConfigureAwait(false);
        }

        _completed = true;
        if (_options.Credits is not null)
        {
            try
            {
                await _budget.ReadCreditsAfterAsync(Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_callerToken.IsCancellationRequested)
            {
                // Every stage waits on the run's own linked token; what reaches the caller names the caller's.
                throw new OperationCanceledException(_callerToken);
            }
        }

        _progress.ReportFinal(_log);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await DisposeStagesAsync().ConfigureAwait(false);
        }
        finally
        {
            if (_creditsClaimed)
            {
                _options.Credits!.EndRun();
            }
        }
    }

    private async ValueTask DisposeStagesAsync()
    {
        bool abandoned = !_completed;
        bool producerEnded = true;
        await _cts.CancelAsync().ConfigureAwait(false);
        try
        {
            if (_producer is not null)
            {
                // A target source that ignores the token (a blocking read of a pipe, a queue read without it) would hold
                // the end of the run, and the cancel of its server jobs, until it answers. It gets a moment, then is left:
                // whatever it answers later goes nowhere (ScrapeDoRunner.Items), and the token source it still watches
                // is disposed when it ends. Real time, as the other teardown deadlines (OpenJobs): a run's end never
                // waits for a test's clock.
                await _producer.WaitAsync(ProducerGrace).ConfigureAwait(false);
            }
        }
        catch (TimeoutException)
        {
            producerEnded = false;
            Log.TargetSourceAbandoned(_log);
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

        // No stage writes any more: what the consumer did not take is never handed out.
        _delivery?.DisposeUndelivered();

        if (abandoned)
        {
            // A create in flight at cancel registers (and journals) its job when it answers; give it a moment to.
            await _openJobs.WhenCreatesAnsweredAsync(CreateAnswerGrace).ConfigureAwait(false);
            if (_options.CancelJobsOnCancellation && await JournalOwnCancelsAsync().ConfigureAwait(false))
            {
                await _openJobs.CancelAllAsync(_client).ConfigureAwait(false);
            }
        }

        if (_journal is not null)
        {
            await _journal.DisposeAsync().ConfigureAwait(false);
        }

        if (producerEnded)
        {
            _cts.Dispose();
        }
        else
        {
            _ = _producer!.ContinueWith(static (_, cts) => ((CancellationTokenSource)cts!).Dispose(), _cts, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        _fetcher?.Dispose();
        _jobSlots?.Dispose();
    }

    /// <summary>
    /// Journals the cancels this interrupt is about to send as ours, so a resume resubmits what they stop
    /// (<see cref="InterruptRetry"/>). If that cannot be journaled the jobs are left running: a resume collects them.
    /// </summary>
    private async Task<bool> JournalOwnCancelsAsync()
    {
        if (_journal is null)
        {
            return true;
        }

        try
        {
            await _journal.RecordCanceledByUsAsync(_openJobs.Snapshot()).ConfigureAwait(false);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private async Task ProduceAsync(IAsyncEnumerable<RunItem> items)
    {
        try
        {
            int chunks = 0;
            var cuts = new ChunkCuts(_options.MaxTargetsPerJob, _options.PartialJobDelay, _client.TimeProvider, _journal?.State);
            await foreach (TargetChunk chunk in TargetChunker.ChunkAsync(items, cuts, hashed: _journal is not null, _pluginKey, _delivery.EmitAsync, Token).ConfigureAwait(false))
            {
                chunks++;
                if (_submitter.IsAlreadyDone(chunk))
                {
                    continue;
                }

                if (chunk.CutEarly && _journal is not null)
                {
                    // Before the chunk's submit, and whether or not credits let it start: any later chunk's lines must
                    // find this cut in the journal, or a resume would cut this chunk elsewhere and misalign them all.
                    await _journal.RecordCutAsync(chunk, Token).ConfigureAwait(false);
                }

                if (_budget.TryReserve(chunk))
                {
                    await StartChunkAsync(chunk).ConfigureAwait(false);
                }
            }

            await _work.WhenAllAsync().ConfigureAwait(false);
            // Chunks end quietly when the run is canceled; the consumer must still learn the run did not finish.
            Token.ThrowIfCancellationRequested();
            int journaled = _journal?.State.MaxChunkWithJob ?? -1;
            if (journaled >= chunks)
            {
                // A shorter input than the journaled run's: the jobs of its missing chunks exist (and were paid for),
                // but no target of this input stands for them, so their results would be dropped without a word.
                throw new InvalidOperationException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"The input ended after {chunks} job(s) of targets, but the journal records jobs up to job {journaled + 1}: a resume must read the same input (this one cannot deliver the results of the journaled jobs past its end)."));
            }

            _delivery.Complete();
        }
        catch (OperationCanceledException) when (Token.IsCancellationRequested)
        {
            // Named for the caller's token when the caller canceled (the consumer's read then throws it as it is).
            _delivery.Complete(new OperationCanceledException(_callerToken.IsCancellationRequested ? _callerToken : Token));
        }
        catch (Exception ex)
        {
            _delivery.Complete(ex);
            await _cts.CancelAsync().ConfigureAwait(false);
        }
    }

    private async Task StartChunkAsync(TargetChunk chunk)
    {
        await _jobSlots!.WaitAsync(Token).ConfigureAwait(false);
        _progress.JobStarted();
        _work.Track(Task.Run(async () =>
        {
            try
            {
                await ChunkLifecycleAsync(chunk).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (Token.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                // Fatal for the run (refused token, journal on other input, a bug): stop everything and say why.
                _delivery.Complete(ex);
                await _cts.CancelAsync().ConfigureAwait(false);
            }
            finally
            {
                _progress.JobEnded();
                _jobSlots.Release();
            }
        }));
    }

    /// <summary>One chunk from job to last outcome: get its job, then watch it until every item is delivered.</summary>
    private async Task ChunkLifecycleAsync(TargetChunk chunk)
    {
        using Activity? activity = Telemetry.Source.StartActivity("scrapedo.job");
        activity?.SetTag("scrapedo.chunk", chunk.Index);
        activity?.SetTag("scrapedo.targets", chunk.Items.Count);
        JobAssignment job = await _submitter.EnsureJobAsync(chunk).ConfigureAwait(false);
        if (job.JobId is null)
        {
            _budget.Release(chunk.Index);
        }
        else if (await _budget.ConfirmAsync(chunk.Index).ConfigureAwait(false) && chunk.IsRetry)
        {
            // A retry whose job this process made (a reservation was confirmed): counted here and not when taken, so a
            // retry an earlier process already created is reattached without counting its targets again.
            _progress.Resubmitted(chunk.Items.Count);
        }

        if (job.NotSent)
        {
            // Out of credits: no record for these targets; the run ends resumable.
            _budget.CountRemaining(chunk);
            return;
        }

        if (job.JobId is not { } jobId || job.TaskIds is not { } taskIds)
        {
            _progress.NotCreated(chunk.Items.Count);
            await FailAllAsync(chunk, job.Failure ?? "The job could not be created.", null).ConfigureAwait(false);
            return;
        }

        activity?.SetTag("scrapedo.job_id", jobId);
        if (taskIds.Count != chunk.Items.Count)
        {
            // A job whose tasks cannot be matched to its targets is of no use: stop it billing.
            await _openJobs.CancelAsync(_client, jobId).ConfigureAwait(false);
            await FailAllAsync(chunk, $"Job {jobId} has {taskIds.Count} tasks for {chunk.Items.Count} targets; results cannot be matched to targets.", jobId).ConfigureAwait(false);
            return;
        }

        if (!chunk.IsRetry)
        {
            // A retry's targets were counted in the job an interrupt canceled; they are in Resubmitted instead.
            _progress.Submitted(chunk.Items.Count);
        }

        await _watcher.WatchAsync(jobId, taskIds, chunk.Items).ConfigureAwait(false);
        _openJobs.Remove(jobId);
        (TargetChunk? retry, int recordedNow) = await _delivery.Retry.TakeRetryAsync(chunk, jobId).ConfigureAwait(false);
        if (recordedNow > 0)
        {
            _budget.MoveToRetry(chunk.Index, recordedNow);
        }

        if (retry is not null)
        {
            // Tasks an earlier interrupt of this run canceled: their inputs get a job of their own, checked against the
            // budget like any create. Within a budget the run kept from the start it always fits (it costs what
            // MoveToRetry took off), but a resume may bring a lower budget than the run that created the canceled job,
            // or the first had none: then the retry waits, its targets remaining, for a resume with a higher one.
            if (_budget.TryReserve(retry))
            {
                await ChunkLifecycleAsync(retry).ConfigureAwait(false);
            }
        }
    }

    private async Task FailAllAsync(TargetChunk chunk, string reason, string? jobId)
    {
        foreach (RunItem item in chunk.Items)
        {
            await _delivery.EmitAsync(OutcomeDelivery.Failed(item, reason, jobId)).ConfigureAwait(false);
        }
    }
}

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>The job a chunk ended up with, or why it has none.</summary>
internal readonly record struct JobAssignment(string? JobId, IReadOnlyList<string>? TaskIds, string? Failure, bool NotSent = false)
{
    /// <summary>Refused for credits before any job was made: the chunk gets no outcome and a resume sends it.</summary>
    public static JobAssignment Unsent(string reason) => new(null, null, reason, NotSent: true);

    public static JobAssignment Of(string jobId, IReadOnlyList<string> taskIds) => new(jobId, taskIds, null);

    public static JobAssignment Failed(string reason) => new(null, null, reason);
}

/// <summary>
/// The jobs stage: gives each chunk its server job, exactly one. It reattaches the job a journal recorded, reconciles
/// a create whose answer was lost (<see cref="CreateReconciler"/>) before sending again, and journals every create
/// as <c>submit</c> before it is sent and <c>created</c> once its answer is known. A job is registered in
/// <see cref="OpenJobs"/> the moment its id is known.
/// </summary>
internal sealed class JobSubmitter(ScrapeDoClient client, RunOptions options, CreateJobRequest template, string? pluginKey,
    RunJournal? journal, CreateReconciler reconciler, OpenJobs openJobs, Microsoft.Extensions.Logging.ILogger log, CancellationToken cancellationToken, CreditBudget? budget = null)
{
    private readonly TimeProvider _time = client.TimeProvider;

    /// <summary>
    /// Checks a chunk against the journal of the run being resumed: true when every item was already delivered
    /// (nothing to do); throws when the journal recorded different input for this chunk.
    /// </summary>
    public bool IsAlreadyDone(TargetChunk chunk)
    {
        if (journal is null || !journal.TryGetChunk(chunk.Index, out JournalChunk? recorded))
        {
            return false;
        }

        if (recorded!.Hash != chunk.Hash || recorded.FirstIndex != chunk.FirstIndex || recorded.Count != chunk.Items.Count)
        {
            throw new InvalidOperationException($"The input differs from the journal at job {chunk.Index} (targets {chunk.FirstIndex}..{chunk.LastIndex}); resume with the same input and settings.");
        }

        return chunk.Items.TrueForAll(i => journal.IsDelivered(i.Index));
    }

    public async Task<JobAssignment> EnsureJobAsync(TargetChunk chunk)
    {
        if (journal is not null && journal.TryGetChunk(chunk.Index, out JournalChunk? recorded))
        {
            if (recorded!.JobId is not null)
            {
                reconciler.Claim(recorded.JobId);
                openJobs.Add(recorded.JobId);
                return JobAssignment.Of(recorded.JobId, recorded.TaskIds ?? []);
            }

            if (recorded.FailureReason is not null)
            {
                return JobAssignment.Failed(recorded.FailureReason);
            }

            // Submitted before a crash with no recorded answer: the job may exist. Reconcile it (SendClock decides how
            // much of the window the journaled send already used) before sending again.
            if (await SettleAsync(chunk, recorded, sentByEarlierProcess: true).ConfigureAwait(false) is { } settled)
            {
                return settled;
            }
        }

        return await SubmitAsync(chunk).ConfigureAwait(false);
    }

    private async Task<JobAssignment> SubmitAsync(TargetChunk chunk)
    {
        CreateJobRequest request = pluginKey is null
            ? template.WithTargets(chunk.Targets)
            : template.WithPlugin(new PluginRequest(pluginKey, chunk.Items.ConvertAll(i => i.Params!)));
        var persistence = new RetryPersistence(_time, options.GiveUpAfter, cancellationToken);
        while (true)
        {
            if (budget is { IsOutOfCredits: true })
            {
                return await UnsentAsync(chunk).ConfigureAwait(false);
            }

            // Once per process, before its first create (and journaled ahead of that create's submit line).
            await reconciler.EnsureFenceAsync(journal is null ? null : fence => journal.RecordFenceAsync(fence, cancellationToken)).ConfigureAwait(false);
            var entry = new JournalChunk { Chunk = chunk.Index, FirstIndex = chunk.FirstIndex, Count = chunk.Items.Count, SubmittedAt = _time.GetUtcNow(), SentTimestamp = _time.GetTimestamp(), Hash = chunk.Hash, Fence = reconciler.Fence };
            if (journal is not null)
            {
                // Cancellable: a submit that is not journaled is never sent.
                await journal.RecordSubmitAsync(entry, cancellationToken).ConfigureAwait(false);
            }

            try
            {
                return await CreateAsync(request, entry).ConfigureAwait(false);
            }
            catch (ScrapeDoException ex) when (ex.CreateOutcomeUnknown)
            {
                if (await SettleAsync(chunk, entry, sentByEarlierProcess: false).ConfigureAwait(false) is { } settled)
                {
                    return settled;
                }

                // The window proved the create made nothing: sending again bills nothing twice.
                if (!persistence.KeepTrying)
                {
                    return await RecordFailedAsync(entry, ex.Message).ConfigureAwait(false);
                }
            }
            catch (ScrapeDoApiException ex) when (ex.IsUnauthorized)
            {
                throw;
            }
            catch (ScrapeDoApiException ex) when (budget is not null && Credits.OutOfCredits.Matches(ex))
            {
                budget.MarkOutOfCredits();
                return await UnsentAsync(chunk).ConfigureAwait(false);
            }
            catch (ScrapeDoException ex) when (RetryPersistence.IsTransient(ex) && persistence.KeepTrying)
            {
                // A 429 whose text does not name credits may still be exhausted credits: ask once, never retry a storm.
                if (budget is not null && ex is ScrapeDoApiException { IsRateLimited: true }
                    && await budget.AccountCannotAffordAsync(chunk.Items.Count, cancellationToken).ConfigureAwait(false))
                {
                    budget.MarkOutOfCredits();
                    return await UnsentAsync(chunk).ConfigureAwait(false);
                }

                await persistence.WaitAsync(ex).ConfigureAwait(false);
            }
            catch (ArgumentException ex)
            {
                return await RecordFailedAsync(entry, $"The job was refused before sending: {ex.Message}").ConfigureAwait(false);
            }
            catch (ScrapeDoException ex)
            {
                return await RecordFailedAsync(entry, ex.Message).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Sends the create without the run's token, so a create in flight when the run is canceled still learns its job
    /// id: it registers the job (to be canceled on exit) and journals it, while the chunk itself stops waiting at once.
    /// </summary>
    private Task<JobAssignment> CreateAsync(CreateJobRequest request, JournalChunk entry)
    {
        Task<JobAssignment> create = SendAsync();
        openJobs.TrackCreate(create);
        return create.WaitAsync(cancellationToken);

        async Task<JobAssignment> SendAsync()
        {
            CreateJobResponse created = await client.CreateJobAsync(request, CancellationToken.None).ConfigureAwait(false);
            Telemetry.JobsCreated.Add(1);
            return await RecordCreatedAsync(entry, created.JobId, created.TaskIds).ConfigureAwait(false);
        }
    }

    /// <summary>Reconciles a create whose answer was lost; null when the window proved no job was made.</summary>
    private async Task<JobAssignment?> SettleAsync(TargetChunk chunk, JournalChunk entry, bool sentByEarlierProcess)
    {
        ReconcileDecision decision;
        try
        {
            decision = await reconciler.ReconcileAsync(chunk, entry.SubmittedAt, entry.Fence, sentByEarlierProcess ? null : entry.SentTimestamp).ConfigureAwait(false);
        }
        catch (ScrapeDoException ex) when (ex is not ScrapeDoApiException { IsUnauthorized: true })
        {
            // The listing kept failing for GiveUpAfter: the job may or may not exist, so neither adopt nor resend.
            // This chunk fails (not the run), and nothing is journaled, so a resume looks again.
            return JobAssignment.Failed($"Whether the job was created could not be confirmed; the job listing kept failing: {ex.Message}");
        }

        if (decision.Verdict == ReconcileVerdict.Adopt)
        {
            Log.ReconcileFound(log, chunk.Index, decision.JobId!, decision.TaskIds!.Count);
        }
        else if (decision.Verdict != ReconcileVerdict.Unresolvable)
        {
            Log.ReconcileResubmitted(log, chunk.Index, entry.SubmittedAt);
        }

        return decision.Verdict switch
        {
            ReconcileVerdict.Adopt => await RecordCreatedAsync(entry, decision.JobId!, decision.TaskIds!).ConfigureAwait(false),
            ReconcileVerdict.Unresolvable => await RecordFailedAsync(entry, decision.Reason!).ConfigureAwait(false),
            _ => null,
        };
    }

    /// <summary>The API refused the create for credits, so no job exists: the journal forgets the submit.</summary>
    private async Task<JobAssignment> UnsentAsync(TargetChunk chunk)
    {
        if (journal is not null && journal.TryGetChunk(chunk.Index, out _))
        {
            await journal.RecordUnsentAsync(chunk.Index).ConfigureAwait(false);
        }

        return JobAssignment.Unsent("The account's credits are exhausted.");
    }

    private async Task<JobAssignment> RecordFailedAsync(JournalChunk entry, string reason)
    {
        entry.FailureReason = reason;
        if (journal is not null)
        {
            await journal.RecordCreatedAsync(entry, CancellationToken.None).ConfigureAwait(false);
        }

        return JobAssignment.Failed(reason);
    }

    private async Task<JobAssignment> RecordCreatedAsync(JournalChunk entry, string jobId, IReadOnlyList<string> taskIds)
    {
        // Registered before anything else can fail or be canceled, so an abandoned run cancels this job.
        openJobs.Add(jobId);
        reconciler.Claim(jobId);
        entry.JobId = jobId;
        entry.TaskIds = taskIds;
        if (journal is not null)
        {
            // Never the run's token: once a job exists, the journal must learn it, or a resume would look for it again.
            await journal.RecordCreatedAsync(entry, CancellationToken.None).ConfigureAwait(false);
        }

        return JobAssignment.Of(jobId, taskIds);
    }
}

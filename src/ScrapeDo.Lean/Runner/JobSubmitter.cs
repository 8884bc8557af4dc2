namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>The job a chunk ended up with, or why it has none.</summary>
internal readonly record struct JobAssignment(string? JobId, IReadOnlyList<string>? TaskIds, string? Failure)
{
    public static JobAssignment Of(string jobId, IReadOnlyList<string> taskIds) => new(jobId, taskIds, null);

    public static JobAssignment Failed(string reason) => new(null, null, reason);
}

/// <summary>
/// The jobs stage: gives each chunk its server job, exactly one. It reattaches the job a journal recorded, reconciles
/// a create whose answer was lost (<see cref="CreateReconciler"/>) before sending again, and journals every create
/// as <c>submit</c> before it is sent and <c>created</c> once its answer is known.
/// </summary>
internal sealed class JobSubmitter(ScrapeDoClient client, RunOptions options, CreateJobRequest template, string? pluginKey,
    RunJournal? journal, CreateReconciler reconciler, CancellationToken cancellationToken)
{
    private readonly TimeProvider _time = client.TimeProvider;

    /// <summary>
    /// Checks a chunk against the journal of the run being resumed: true when every item was already delivered
    /// (nothing to do); throws when the journal recorded different input for this chunk.
    /// </summary>
    public bool IsAlreadyDone(TargetChunk chunk)
    {
        if (journal is null || !journal.Chunks.TryGetValue(chunk.Index, out JournalChunk? recorded))
        {
            return false;
        }

        if (recorded.Hash != chunk.Hash || recorded.FirstIndex != chunk.FirstIndex || recorded.Count != chunk.Items.Count)
        {
            throw new InvalidOperationException($"The input differs from the journal at job {chunk.Index} (targets {chunk.FirstIndex}..{chunk.LastIndex}); resume with the same input and settings.");
        }

        return chunk.Items.TrueForAll(i => journal.Delivered.Contains(i.Index));
    }

    public async Task<JobAssignment> EnsureJobAsync(TargetChunk chunk)
    {
        if (journal is not null && journal.Chunks.TryGetValue(chunk.Index, out JournalChunk? recorded))
        {
            if (recorded.JobId is not null)
            {
                reconciler.Claim(recorded.JobId);
                return JobAssignment.Of(recorded.JobId, recorded.TaskIds ?? []);
            }

            if (recorded.FailureReason is not null)
            {
                return JobAssignment.Failed(recorded.FailureReason);
            }

            // Submitted before a crash with no recorded answer: the job may exist. Look before sending again.
            if (await reconciler.ReconcileAsync(chunk.Targets, recorded.SubmittedAt).ConfigureAwait(false) is { } found)
            {
                return await RecordCreatedAsync(recorded, found.JobId, found.TaskIds).ConfigureAwait(false);
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
            var entry = new JournalChunk { Chunk = chunk.Index, FirstIndex = chunk.FirstIndex, Count = chunk.Items.Count, SubmittedAt = _time.GetUtcNow(), Hash = chunk.Hash };
            if (journal is not null)
            {
                await journal.RecordSubmitAsync(entry, cancellationToken).ConfigureAwait(false);
            }

            try
            {
                CreateJobResponse created = await client.CreateJobAsync(request, cancellationToken).ConfigureAwait(false);
                Telemetry.JobsCreated.Add(1);
                return await RecordCreatedAsync(entry, created.JobId, created.TaskIds).ConfigureAwait(false);
            }
            catch (ScrapeDoException ex) when (ex.CreateOutcomeUnknown && persistence.KeepTrying)
            {
                if (await reconciler.ReconcileAsync(chunk.Targets, entry.SubmittedAt).ConfigureAwait(false) is { } found)
                {
                    return await RecordCreatedAsync(entry, found.JobId, found.TaskIds).ConfigureAwait(false);
                }
            }
            catch (ScrapeDoApiException ex) when (ex.IsUnauthorized)
            {
                throw;
            }
            catch (ScrapeDoException ex) when (RetryPersistence.IsTransient(ex) && persistence.KeepTrying)
            {
                await persistence.WaitAsync(ex).ConfigureAwait(false);
            }
            catch (ArgumentException ex)
            {
                return await RecordFailedAsync(entry, $"The job was refused before sending: {ex.Message}").ConfigureAwait(false);
            }
            catch (ScrapeDoException ex) when (!ex.CreateOutcomeUnknown)
            {
                return await RecordFailedAsync(entry, ex.Message).ConfigureAwait(false);
            }
        }
    }

    private async Task<JobAssignment> RecordFailedAsync(JournalChunk entry, string reason)
    {
        entry.FailureReason = reason;
        if (journal is not null)
        {
            await journal.RecordCreatedAsync(entry, cancellationToken).ConfigureAwait(false);
        }

        return JobAssignment.Failed(reason);
    }

    private async Task<JobAssignment> RecordCreatedAsync(JournalChunk entry, string jobId, IReadOnlyList<string> taskIds)
    {
        reconciler.Claim(jobId);
        entry.JobId = jobId;
        entry.TaskIds = taskIds;
        if (journal is not null)
        {
            await journal.RecordCreatedAsync(entry, cancellationToken).ConfigureAwait(false);
        }

        return JobAssignment.Of(jobId, taskIds);
    }
}

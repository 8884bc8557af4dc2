using System.Threading.Channels;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// The last stage: the bounded outcome channel the consumer reads, and the acknowledgement that marks an outcome
/// delivered in the journal once the consumer has taken it.
/// </summary>
/// <remarks>
/// Exactly once. Every input index is claimed by exactly one path and every path ends in exactly one
/// <see cref="EmitAsync"/>:
/// <list type="bullet">
/// <item>an invalid target: the chunker emits <c>failed</c> and never puts it in a chunk;</item>
/// <item>a chunk whose job cannot be created (or matched): every item is emitted <c>failed</c>, none reaches a task table;</item>
/// <item>a task of a job: whoever wins <see cref="ChunkTasks.TryClaim"/> — the watcher (then <c>canceled</c>, or one
/// fetch that always ends in one outcome), the webhook intake, or a failure path — emits it; the losers skip it.</item>
/// </list>
/// On resume, indices the journal records as delivered are claimed up front and filtered here again, so a path that
/// still produces one (a chunk that fails as a whole) does not hand it out twice. An outcome is journaled
/// <c>done</c> only in <see cref="AcknowledgeAsync(TaskOutcome)"/>, after the consumer took it (or, with a sink flush, in <see cref="AcknowledgeAsync(IReadOnlyList{TaskOutcome})"/> after the sink was flushed).
/// </remarks>
internal sealed class OutcomeDelivery
{
    private readonly Channel<TaskOutcome> _outcomes;
    private readonly RunJournal? _journal;
    private readonly ProgressReporter _progress;
    private readonly bool _checkTaskUrls;
    private readonly CancellationToken _cancellationToken;

    /// <param name="capacity">Outcomes buffered for the consumer.</param>
    /// <param name="journal">The run's journal, if any.</param>
    /// <param name="progress">Counts what the consumer took.</param>
    /// <param name="checkTaskUrls">True for URL runs: a fetched task must report the URL of the target it is labelled with.</param>
    /// <param name="cancellationToken">The run's token.</param>
    public OutcomeDelivery(int capacity, RunJournal? journal, ProgressReporter progress, bool checkTaskUrls, CancellationToken cancellationToken)
    {
        Retry = new InterruptRetry(journal);
        _checkTaskUrls = checkTaskUrls;
        _outcomes = Channel.CreateBounded<TaskOutcome>(new BoundedChannelOptions(capacity)
        {
            // A slow consumer slows the fetchers instead of growing memory.
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        _journal = journal;
        _progress = progress;
        _cancellationToken = cancellationToken;
    }

    /// <summary>Holds back tasks an earlier interrupt of this run canceled, for resubmission.</summary>
    public InterruptRetry Retry { get; }

    /// <summary>Every outcome as it comes (the stage tests' reader; the runner reads with <see cref="TryRead"/> and
    /// <see cref="WaitToReadAsync"/>, which let it check the caller's token before each outcome).</summary>
    public IAsyncEnumerable<TaskOutcome> ReadAllAsync() => _outcomes.Reader.ReadAllAsync(_cancellationToken);

    /// <summary>Takes the next buffered outcome, if any.</summary>
    public bool TryRead([System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out TaskOutcome outcome) => _outcomes.Reader.TryRead(out outcome);

    /// <summary>Waits for an outcome; false once every outcome was read and the stages completed.</summary>
    /// <param name="callerToken">The consumer's token, not the run's: a fatal error completes the channel with itself
    /// and then cancels the run, and a wait on the run's token could see the cancel before the error.</param>
    public ValueTask<bool> WaitToReadAsync(CancellationToken callerToken) => _outcomes.Reader.WaitToReadAsync(callerToken);

    /// <summary>Whether an earlier process already delivered this input index.</summary>
    public bool WasDelivered(long inputIndex) => _journal is not null && _journal.IsDelivered(inputIndex);

    /// <summary>Hands one outcome to the consumer (waits while the channel is full).</summary>
    public ValueTask EmitAsync(TaskOutcome outcome)
    {
        if (WasDelivered(outcome.InputIndex) || Retry.TryHold(outcome))
        {
            // Never handed out: its pooled content goes back here.
            outcome.ContentLease?.Dispose();
            return ValueTask.CompletedTask;
        }

        outcome = Attributed(outcome);
        return outcome.ContentLease is null ? _outcomes.Writer.WriteAsync(outcome, _cancellationToken) : WriteLeasedAsync(outcome);
    }

    private async ValueTask WriteLeasedAsync(TaskOutcome outcome)
    {
        try
        {
            await _outcomes.Writer.WriteAsync(outcome, _cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Not written (the run stopped, the channel completed): nobody else will see this lease.
            outcome.ContentLease!.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The enumeration is over: outcomes still buffered will never be handed out, so their leases are returned.
    /// Called once no stage writes any more.
    /// </summary>
    public void DisposeUndelivered()
    {
        // Closed first, so a fetch that outlived the run (its watcher stopped on cancellation) fails its write and
        // returns its lease itself instead of leaving it in the buffer.
        _outcomes.Writer.TryComplete();
        while (_outcomes.Reader.TryRead(out TaskOutcome? outcome))
        {
            outcome.ContentLease?.Dispose();
        }
    }

    /// <summary>
    /// The last check before a result reaches the consumer: tasks are matched to targets by position, which the
    /// reference only infers, so a task that reports another URL than its target's never has its content labelled
    /// with that target. It becomes a <c>failed</c> outcome for the target instead, which keeps one outcome per
    /// target (re-labelling it by URL here could give one target two outcomes and another none). Jobs adopted by
    /// reconcile are aligned by URL before any task is claimed (<see cref="TargetUrls.Align"/>).
    /// </summary>
    private TaskOutcome Attributed(TaskOutcome outcome)
    {
        if (!_checkTaskUrls || outcome.Details?.Url is not { Length: > 0 } reported || TargetUrls.Same(outcome.Target, reported))
        {
            return outcome;
        }

        // The content is not this target's: it is never handed out.
        outcome.ContentLease?.Dispose();
        return new TaskOutcome
        {
            InputIndex = outcome.InputIndex,
            Target = outcome.Target,
            Status = OutcomeStatus.Failed,
            JobId = outcome.JobId,
            TaskId = outcome.TaskId,
            Reason = $"Task {outcome.TaskId} of job {outcome.JobId} reports URL '{reported}', not this target; its result is not attributed to this target.",
        };
    }

    /// <summary>Records that the consumer took <paramref name="outcome"/>: counted, then journaled <c>done</c>.</summary>
    public async Task AcknowledgeAsync(TaskOutcome outcome)
    {
        Telemetry.Outcomes.Add(1, new KeyValuePair<string, object?>("outcome", outcome.StatusText));
        if (_journal is not null)
        {
            // Not the run's token: this also runs while a canceled run is being disposed, and the mark must land.
            await _journal.RecordDeliveredAsync(outcome.InputIndex, CancellationToken.None).ConfigureAwait(false);
        }

        _progress.Delivered(outcome);
    }

    /// <summary>True when an outcome is ready for the consumer right now.</summary>
    public bool HasReady => _outcomes.Reader.TryPeek(out _);

    /// <summary>
    /// Records that the consumer's sink durably holds <paramref name="outcomes"/>: journaled <c>done</c> with one
    /// write, then counted. Called only after the sink was flushed.
    /// </summary>
    public async Task AcknowledgeAsync(IReadOnlyList<TaskOutcome> outcomes)
    {
        if (outcomes.Count == 0)
        {
            return;
        }

        if (_journal is not null)
        {
            var indices = new long[outcomes.Count];
            for (int i = 0; i < indices.Length; i++)
            {
                indices[i] = outcomes[i].InputIndex;
            }

            await _journal.RecordDeliveredAsync(indices, CancellationToken.None).ConfigureAwait(false);
        }

        foreach (TaskOutcome outcome in outcomes)
        {
            Telemetry.Outcomes.Add(1, new KeyValuePair<string, object?>("outcome", outcome.StatusText));
            _progress.Delivered(outcome);
        }
    }

    /// <summary>No more outcomes: the consumer's enumeration ends, with <paramref name="error"/> if one is given.</summary>
    public void Complete(Exception? error = null) => _outcomes.Writer.TryComplete(error);

    public static TaskOutcome Failed(RunItem item, string reason, string? jobId, string? taskId = null) =>
        new() { InputIndex = item.Index, Target = item.Target, Status = OutcomeStatus.Failed, JobId = jobId, TaskId = taskId, Reason = reason };

    public static TaskOutcome Canceled(RunItem item, string jobId, string taskId) =>
        new() { InputIndex = item.Index, Target = item.Target, Status = OutcomeStatus.Canceled, JobId = jobId, TaskId = taskId, Reason = "The task was canceled." };

    /// <summary>Emits <c>failed</c> for every task of <paramref name="tasks"/> no other path has claimed.</summary>
    public async Task FailUnclaimedAsync(ChunkTasks tasks, string reason, OutcomeStatus status = OutcomeStatus.Failed)
    {
        for (int i = 0; i < tasks.Count; i++)
        {
            if (tasks.TryClaim(i))
            {
                RunItem item = tasks.Item(i);
                await EmitAsync(new TaskOutcome { InputIndex = item.Index, Target = item.Target, Status = status, JobId = tasks.JobId, TaskId = tasks.TaskId(i), Reason = reason }).ConfigureAwait(false);
            }
        }
    }
}

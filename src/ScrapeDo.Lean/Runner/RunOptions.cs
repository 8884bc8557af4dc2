using ScrapeDo.Lean.Credits;
using ScrapeDo.Lean.Internal;

namespace ScrapeDo.Lean;

/// <summary>Settings of a <see cref="ScrapeDoRunner"/> run. Defaults suit a large list on a paid plan.</summary>
public sealed class RunOptions
{
    /// <summary>Targets per job, 1 to 1000 (default 1000).</summary>
    public int MaxTargetsPerJob { get; init; } = CreateJobRequest.MaxTargetsPerJob;

    /// <summary>
    /// How long the first target of a job that is not yet full may wait for the rest (default 1 s): when the input has
    /// no target ready and the job's first target arrived this long ago, the job goes out as it is. A source that
    /// pauses or trickles (a channel a service feeds, a pipe) gets its targets sent within about this delay, instead of
    /// nothing until <see cref="MaxTargetsPerJob"/> targets arrive or the input ends. A job is billed per target, not
    /// per job: a smaller job costs requests, not credits. An input that always has its next target ready (a list, a
    /// file) is never cut. <see cref="Timeout.InfiniteTimeSpan"/>: only full jobs and the input's last one. With a
    /// journal, a cut is journaled, and a resume cuts the jobs the journal names where they were cut, wherever its own
    /// input pauses.
    /// </summary>
    public TimeSpan PartialJobDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Jobs submitted but not yet fully delivered. Null (default) asks <c>/api/v1/me</c> once and uses the account's
    /// <c>TotalConcurrency</c> clamped to 2–16: more jobs than slots only queue on the server, fewer can leave slots
    /// idle while one job's last tasks finish.
    /// </summary>
    public int? MaxJobsInFlight { get; init; }

    /// <summary>Task fetches running at once across all jobs (default 16).</summary>
    public int MaxConcurrentTaskFetches { get; init; } = 16;

    /// <summary>
    /// Outcomes fetched but not yet taken by the consumer (default 32). With <see cref="MaxConcurrentTaskFetches"/>
    /// this bounds how many task contents are in memory: a slow consumer slows fetching instead of growing memory.
    /// </summary>
    public int MaxBufferedOutcomes { get; init; } = 32;

    /// <summary>Wait before a new job's first poll (default 250 ms).</summary>
    public TimeSpan FirstPollDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Shortest poll interval (default 250 ms).</summary>
    public TimeSpan MinPollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Longest poll interval (default 30 s).</summary>
    public TimeSpan MaxPollInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Path of the append-only journal that makes the run resumable (null: no journal). See <see cref="Resume"/>.
    /// </summary>
    public string? JournalPath { get; init; }

    /// <summary>
    /// Continue the run recorded in <see cref="JournalPath"/>: jobs it created are reattached, never created again,
    /// and only outcomes it did not record as delivered are delivered. Without it an existing non-empty journal is
    /// refused, so two different runs are never mixed. Needs <see cref="JournalPath"/>.
    /// </summary>
    public bool Resume { get; init; }

    /// <summary>
    /// Makes the consumer's sink durable (flushes its file, stdout, content files). When set, an outcome is journaled
    /// as delivered only after this returns for a point after the consumer handled it: the runner gathers the outcomes
    /// the consumer took, calls this, then journals them together (group commit; at most
    /// <see cref="MaxUnflushedOutcomes"/> are pending). If it throws, nothing pending is journaled, the exception ends
    /// the enumeration, and a resume delivers those outcomes again. The outcome in the consumer's hands when the
    /// enumeration stops early (a <c>break</c>, an exception, a cancellation) is never journaled: the runner cannot
    /// tell whether it reached the sink, so a resume delivers it again (recognise it by
    /// <see cref="TaskOutcome.InputIndex"/>, as the CLI does by its output). Null (default): an outcome counts as
    /// delivered once the consumer asks for the next one or stops the enumeration.
    /// </summary>
    public Func<CancellationToken, ValueTask>? FlushSink { get; init; }

    /// <summary>With <see cref="FlushSink"/>: outcomes taken but not yet flushed and journaled (default 256, at least 1); fewer
    /// when the run is idle (pending outcomes are flushed whenever no further outcome is ready).</summary>
    public int MaxUnflushedOutcomes { get; init; } = 256;

    /// <summary>
    /// Hand each task's content to the consumer as a pooled <see cref="TaskOutcome.ContentLease"/> instead of a new
    /// array per task inside <see cref="TaskOutcome.Details"/> (default false). For consumers that stream contents to
    /// a sink: write <see cref="TaskContentLease.Memory"/> out, then dispose the lease (<c>using</c>) so its buffer is
    /// reused. <see cref="TaskOutcome.Details"/> keeps everything else, with an empty <see cref="TaskDetails.Content"/>.
    /// A lease that is not disposed is reclaimed by the garbage collector (never returned to the pool, so never
    /// handed out twice); delivery, the journal and exactly-once are the same as without leases.
    /// </summary>
    public bool LeaseContent { get; init; }

    /// <summary>On cancellation, cancel the server jobs that still run (default true).</summary>
    public bool CancelJobsOnCancellation { get; init; } = true;

    /// <summary>
    /// How long one operation (a create, a job's polls, a task fetch) may keep failing transiently — 429, 5xx, network
    /// errors, timeouts, after the client's own retries — before its targets are reported <see cref="OutcomeStatus.Failed"/>.
    /// Waits between attempts grow from 0.5 s to 30 s and honour <c>Retry-After</c>. Default 10 minutes.
    /// </summary>
    public TimeSpan GiveUpAfter { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How far back before a create to look when reconciling an ambiguous create (default 5 min, for clock skew
    /// between this machine and the API's; 0 to 1 day).
    /// </summary>
    public TimeSpan ReconcileClockSkew { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long after sending a create whose answer was lost (a timeout, a dropped connection, a 5xx) the runner keeps
    /// looking for its job in the listing before it concludes that no job was made and sends the create again
    /// (default 60 s). The listing is read at growing intervals (0.5 s, 1.5 s, 3.5 s, … after the send) and a job found
    /// at any look is adopted at once; only a lost create that truly made nothing waits the whole window.
    /// </summary>
    /// <remarks>
    /// "Not listed yet" is not "not created": a create can commit after its answer was lost, and a listing behind
    /// load balancers can lag behind its writes. Sending again too early bills the targets twice. 60 s is twice the
    /// client's default 30 s attempt timeout, so a create that was still committing when its attempt timed out has
    /// had as long again to appear, and it is ample for listing lag; it costs a minute only on the rare create that
    /// failed without a trace.
    /// Shorter windows trade that safety for speed. A resumed run counts the window from the journaled send time only
    /// when that was longer ago than the window plus <see cref="ReconcileClockSkew"/> (the time was read on another
    /// process's clock, perhaps another host's); a resume sooner after the crash waits a full window of its own before
    /// it calls such a create absent (at most one window more per unanswered create).
    /// </remarks>
    public TimeSpan ReconcileWindow { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The longest the runner watches one job (default 6 h; <see cref="Timeout.InfiniteTimeSpan"/> for no limit). A job
    /// still unfinished then is canceled on the server and its undelivered targets end <c>failed</c>, so a server that
    /// never finishes a job cannot make a run poll forever. The default is far above what a 1,000-task job needs even on
    /// the smallest plan; lower it when targets have a deadline of their own.
    /// </summary>
    public TimeSpan JobDeadline { get; init; } = TimeSpan.FromHours(6);

    /// <summary>
    /// How long a 404 on reading a job is taken as read-after-write lag rather than as "no such job", counted from the
    /// start of the job's watch (default 30 s). A job that was just created may not yet be readable by id on every
    /// replica; giving up on it at once would leave it running and billing while its targets are reported failed.
    /// </summary>
    public TimeSpan NotFoundGrace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Tasks pushed by webhooks (for example <see cref="ScrapeDoWebhookReceiver.Deliveries"/>), used as a fast path:
    /// a terminal task that arrives here is delivered without a fetch. Polling goes on as the safety net, and each
    /// task is delivered once, whichever way reaches it first. Deliveries for tasks this run does not own, or for a
    /// task already delivered, are ignored. Set the job template's <c>WebhookUrl</c> and <c>WebhookHeaders</c> to match.
    /// </summary>
    public System.Threading.Channels.ChannelReader<TaskDetails>? WebhookDeliveries { get; init; }

    /// <summary>Receives a snapshot after every outcome (throttled to one per 100 ms, plus the last).</summary>
    public IProgress<RunProgress>? Progress { get; init; }

    /// <summary>
    /// The most credits the run may spend, by the <see cref="CreditTable"/> estimate (null: no limit). A job whose
    /// estimated cost would take the run past it is not created: submitting stops there, jobs already running finish
    /// and are delivered, the remaining targets get no outcome and <see cref="Credits"/> reports
    /// <see cref="CreditStop.Budget"/>. With a journal, a resumed run counts what the run already spent.
    /// The budget is checked per job, so a smaller <see cref="MaxTargetsPerJob"/> stops closer to it.
    /// </summary>
    public long? MaxCredits { get; init; }

    /// <summary>Prices for the estimate and the budget (null: <see cref="ScrapeDo.Lean.Credits.CreditTable.Default"/>).</summary>
    public CreditTable? CreditTable { get; init; }

    /// <summary>Receives the run's credit report (spend, account credits before and after, why it stopped); optional.</summary>
    public CreditUsage? Credits { get; init; }

    private static readonly TimeSpan MaxReconcileClockSkew = TimeSpan.FromDays(1);

    internal void Validate()
    {
        if (MaxCredits is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxCredits), MaxCredits, "MaxCredits must not be negative.");
        }

        CreditTable?.Validate();

        if (MaxTargetsPerJob is < 1 or > CreateJobRequest.MaxTargetsPerJob)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxTargetsPerJob), MaxTargetsPerJob, "MaxTargetsPerJob must be 1 to 1000.");
        }

        if (PartialJobDelay <= TimeSpan.Zero && PartialJobDelay != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(PartialJobDelay), PartialJobDelay, "PartialJobDelay must be positive, or Timeout.InfiniteTimeSpan for full jobs only.");
        }

        TimerLimit.ThrowIfTooLong(PartialJobDelay, nameof(PartialJobDelay), "PartialJobDelay");

        if (MaxJobsInFlight is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxJobsInFlight), MaxJobsInFlight, "MaxJobsInFlight must be at least 1.");
        }

        if (MaxConcurrentTaskFetches < 1 || MaxBufferedOutcomes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrentTaskFetches), "MaxConcurrentTaskFetches and MaxBufferedOutcomes must be at least 1.");
        }

        if (ReconcileWindow < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ReconcileWindow), ReconcileWindow, "ReconcileWindow must not be negative.");
        }

        if (JobDeadline <= TimeSpan.Zero && JobDeadline != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(JobDeadline), JobDeadline, "JobDeadline must be positive, or Timeout.InfiniteTimeSpan for no limit.");
        }

        if (NotFoundGrace < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(NotFoundGrace), NotFoundGrace, "NotFoundGrace must not be negative.");
        }

        if (GiveUpAfter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(GiveUpAfter), GiveUpAfter, "GiveUpAfter must not be negative.");
        }

        if (MinPollInterval <= TimeSpan.Zero || MaxPollInterval < MinPollInterval || FirstPollDelay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MinPollInterval), "Poll intervals must satisfy 0 < MinPollInterval <= MaxPollInterval and FirstPollDelay >= 0.");
        }

        TimerLimit.ThrowIfTooLong(MaxPollInterval, nameof(MaxPollInterval), "MaxPollInterval");
        TimerLimit.ThrowIfTooLong(FirstPollDelay, nameof(FirstPollDelay), "FirstPollDelay");

        // Negative would start the listing after the create, so a lost create's job could never be found and its
        // targets would be sent (and billed) again; past a day it is no longer skew.
        if (ReconcileClockSkew < TimeSpan.Zero || ReconcileClockSkew > MaxReconcileClockSkew)
        {
            throw new ArgumentOutOfRangeException(nameof(ReconcileClockSkew), ReconcileClockSkew, "ReconcileClockSkew must be from 0 to 1 day.");
        }

        if (MaxUnflushedOutcomes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxUnflushedOutcomes), MaxUnflushedOutcomes, "MaxUnflushedOutcomes must be at least 1.");
        }

        // A resume without its journal would quietly start the run afresh and create (and bill) every job again.
        if (Resume && JournalPath is null)
        {
            throw new ArgumentException("Resume needs JournalPath: the journal of the run to continue.", nameof(Resume));
        }
    }
}

/// <summary>A progress snapshot of a run.</summary>
/// <param name="Submitted">Targets in jobs created so far (reattached jobs included), each once: a target put in a new
/// job after an interrupt canceled its task is counted in <see cref="RunProgress.Resubmitted"/>, not again here.</param>
/// <param name="Delivered">Outcomes handed to the consumer.</param>
/// <param name="Failed">Delivered outcomes other than success.</param>
/// <param name="JobsInFlight">Jobs not yet fully delivered.</param>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="HttpRequests">HTTP requests the client sent during the run.</param>
public readonly record struct RunProgress(long Submitted, long Delivered, long Failed, int JobsInFlight, TimeSpan Elapsed, long HttpRequests)
{
    /// <summary>
    /// Targets this process put in a new job because an earlier interrupt of the same run (journaled) canceled their
    /// tasks; tasks canceled by the user or the server are not resubmitted. Counted when this process creates that job:
    /// a resubmission an earlier process already created is reattached and not counted again, so a target counts at
    /// most once per process and the figure never exceeds the run's targets.
    /// </summary>
    public long Resubmitted { get; init; }

    /// <summary>
    /// Targets whose job could not be created (the create was refused before sending or by the API, or kept failing);
    /// each got a <see cref="OutcomeStatus.Failed"/> outcome. They are not in <see cref="Submitted"/>.
    /// </summary>
    public long NotCreated { get; init; }

    /// <summary>Estimated credits of the jobs created so far (a resumed run's earlier jobs included).</summary>
    public long EstimatedCreditsSpent { get; init; }

    /// <summary>Outcomes per second so far.</summary>
    public double Rate => Elapsed > TimeSpan.Zero ? Delivered / Elapsed.TotalSeconds : 0;

    /// <summary>HTTP requests per delivered outcome so far.</summary>
    public double RequestsPerTarget => Delivered > 0 ? (double)HttpRequests / Delivered : 0;
}

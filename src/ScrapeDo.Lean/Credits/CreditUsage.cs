namespace ScrapeDo.Lean.Credits;

/// <summary>Why a run stopped submitting before its input was done.</summary>
public enum CreditStop
{
    /// <summary>The run was not stopped for credits.</summary>
    None,

    /// <summary>The next job would have taken the run past <see cref="RunOptions.MaxCredits"/>.</summary>
    Budget,

    /// <summary>The API answered that the account's credits are exhausted.</summary>
    OutOfCredits,
}

/// <summary>
/// The credit side of a run, filled in by the runner as it goes (pass one in <see cref="RunOptions.Credits"/> and read
/// it during or after the run). Thread-safe to read.
/// </summary>
/// <remarks>
/// It reports one run: a run clears it when it starts, so it holds the last run's figures until the next run with the
/// same options starts, and a run stopped at the budget does not stop the next one. Runs that overlap need one each
/// (<see cref="RunOptions"/> with a <see cref="CreditUsage"/> of their own): a run that starts while another still
/// fills the same one throws <see cref="InvalidOperationException"/> rather than mixing their figures and stops.
/// </remarks>
public sealed class CreditUsage
{
    private int _inRun;
    private long _estimatedSpent;
    private long _actualSpent;
    private long _actualReported;
    private long _remaining;
    private int _stop;

    /// <summary>Estimated credits of every job created for this run, a resumed run's earlier jobs included.</summary>
    public long EstimatedSpent => Interlocked.Read(ref _estimatedSpent);

    /// <summary>
    /// The part of <see cref="EstimatedSpent"/> that a resumed run's journal already held when the run started (0 for a
    /// run without a journal or a fresh one), so a report can tell this process's spend from the earlier ones'.
    /// </summary>
    public long EstimatedSpentBeforeResume { get; internal set; }

    /// <summary>
    /// Credits the delivered tasks reported in their <c>Scrape.do-Request-Cost</c> metadata, or null when no task
    /// carried a cost.
    /// </summary>
    public long? ActualSpent => Interlocked.Read(ref _actualReported) > 0 ? Interlocked.Read(ref _actualSpent) : null;

    /// <summary>The account's <c>AvaliableCredits</c> when the run started (null when <c>/api/v1/me</c> failed).</summary>
    public long? AccountCreditsBefore { get; internal set; }

    /// <summary>The account's <c>AvaliableCredits</c> when the run ended (null when not read).</summary>
    public long? AccountCreditsAfter { get; internal set; }

    /// <summary>Why submitting stopped early, if it did.</summary>
    public CreditStop StopReason => (CreditStop)Volatile.Read(ref _stop);

    /// <summary>True when submitting stopped early; the run is then resumable with the same journal.</summary>
    public bool Stopped => StopReason != CreditStop.None;

    /// <summary>Targets that got no outcome because submitting stopped; a resume submits them.</summary>
    public long TargetsRemaining => Interlocked.Read(ref _remaining);

    /// <summary>Credits one task of this run costs by the table (0 until the run starts).</summary>
    public int CreditsPerTask { get; internal set; }

    /// <summary>
    /// Estimated credits the remaining targets need: a resume whose budget is at least
    /// <see cref="EstimatedSpent"/> plus this sends them all.
    /// </summary>
    public long EstimatedToFinish => TargetsRemaining * CreditsPerTask;

    /// <summary>Claims this report for a run that is starting and clears the previous run's figures.</summary>
    internal void BeginRun()
    {
        if (Interlocked.CompareExchange(ref _inRun, 1, 0) != 0)
        {
            throw new InvalidOperationException("RunOptions.Credits is being filled by a run that has not ended; give each run that overlaps another RunOptions with a CreditUsage of its own.");
        }

        Interlocked.Exchange(ref _estimatedSpent, 0);
        Interlocked.Exchange(ref _actualSpent, 0);
        Interlocked.Exchange(ref _actualReported, 0);
        Interlocked.Exchange(ref _remaining, 0);
        Interlocked.Exchange(ref _stop, (int)CreditStop.None);
        EstimatedSpentBeforeResume = 0;
        AccountCreditsBefore = null;
        AccountCreditsAfter = null;
        CreditsPerTask = 0;
    }

    /// <summary>The run has ended; its figures stay for the caller to read.</summary>
    internal void EndRun() => Volatile.Write(ref _inRun, 0);

    internal void AddEstimated(long credits) => Interlocked.Add(ref _estimatedSpent, credits);

    internal void AddActual(long credits)
    {
        Interlocked.Add(ref _actualSpent, credits);
        Interlocked.Increment(ref _actualReported);
    }

    internal void AddRemaining(long targets) => Interlocked.Add(ref _remaining, targets);

    /// <summary>Records the first reason only.</summary>
    internal bool Stop(CreditStop reason) => Interlocked.CompareExchange(ref _stop, (int)reason, (int)CreditStop.None) == (int)CreditStop.None;
}

/// <summary>What a run would cost, from <see cref="ScrapeDoRunner.EstimateAsync(IAsyncEnumerable{string}, CreateJobRequest?, CancellationToken)"/>.</summary>
/// <param name="Targets">Targets that would be sent (invalid URLs are not).</param>
/// <param name="CreditsPerTask">Credits one successful task costs by the table.</param>
/// <param name="EstimatedCredits">Credits if every task succeeds (failed tasks are not charged).</param>
/// <param name="AvailableCredits">The account's <c>AvaliableCredits</c>, null when <c>/api/v1/me</c> could not be read.</param>
/// <param name="FreeSlots">Free async slots now, null when unknown.</param>
/// <param name="TotalSlots">The plan's async slots, null when unknown.</param>
/// <param name="RoughDuration">Targets over slots times an assumed task time (<see cref="AssumedTaskTime"/>); a rough guide only.</param>
public sealed record RunEstimate(long Targets, int CreditsPerTask, long EstimatedCredits, long? AvailableCredits, int? FreeSlots, int? TotalSlots, TimeSpan RoughDuration)
{
    /// <summary>
    /// With <see cref="RunOptions.MaxCredits"/> set: the targets the run would send before the budget stops it (whole
    /// jobs of <see cref="RunOptions.MaxTargetsPerJob"/>, as the run checks it); null without a budget.
    /// </summary>
    public long? TargetsWithinBudget { get; init; }

    /// <summary>With <see cref="RunOptions.MaxCredits"/> set: the estimated credits of <see cref="TargetsWithinBudget"/>; null without a budget.</summary>
    public long? CreditsWithinBudget { get; init; }

    /// <summary>True when the account has fewer credits than the estimate.</summary>
    public bool ExceedsAvailable => AvailableCredits is long available && EstimatedCredits > available;

    /// <summary>
    /// The time one task is assumed to take for the duration guess: 5 s plain, 15 s with Render (inferred, not
    /// published; real times vary with the target).
    /// </summary>
    public static TimeSpan AssumedTaskTime(bool render) => TimeSpan.FromSeconds(render ? 15 : 5);
}

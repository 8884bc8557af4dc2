namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>The run's counters and the throttled <see cref="RunProgress"/> reports built from them.</summary>
internal sealed class ProgressReporter(ScrapeDoClient client, IProgress<RunProgress>? progress)
{
    private static readonly TimeSpan Throttle = TimeSpan.FromMilliseconds(100);
    private readonly TimeProvider _time = client.TimeProvider;
    private readonly long _startTimestamp = client.TimeProvider.GetTimestamp();
    private readonly long _requestsAtStart = client.RequestsSent;
    private long _submitted;
    private long _delivered;
    private long _failed;
    private long _resubmitted;
    private long _notCreated;
    private int _jobsInFlight;
    private long _lastReport;

    /// <summary>The run's credits, for the spend in each report.</summary>
    public CreditBudget? Budget { get; set; }

    public void JobStarted() => Interlocked.Increment(ref _jobsInFlight);

    public void JobEnded() => Interlocked.Decrement(ref _jobsInFlight);

    public void Submitted(int targets) => Interlocked.Add(ref _submitted, targets);

    /// <summary>Counts targets whose job could not be created.</summary>
    public void NotCreated(int targets) => Interlocked.Add(ref _notCreated, targets);

    /// <summary>Counts targets submitted again because an earlier interrupt of the run canceled their tasks.</summary>
    public void Resubmitted(int targets) => Interlocked.Add(ref _resubmitted, targets);

    /// <summary>Counts an outcome the consumer took and reports (throttled).</summary>
    public void Delivered(TaskOutcome outcome)
    {
        Budget?.CountDelivered(outcome);
        long delivered = Interlocked.Increment(ref _delivered);
        if (outcome.Status != OutcomeStatus.Success)
        {
            Interlocked.Increment(ref _failed);
        }

        Report(force: false, delivered);
    }

    /// <summary>The last report of a run, never throttled, and its one summary log line (Debug).</summary>
    public void ReportFinal(Microsoft.Extensions.Logging.ILogger log)
    {
        long delivered = Interlocked.Read(ref _delivered);
        Report(force: true, delivered);
        Log.RunCompleted(log, delivered, Interlocked.Read(ref _failed), client.RequestsSent - _requestsAtStart);
    }

    private void Report(bool force, long delivered)
    {
        if (progress is null)
        {
            return;
        }

        long now = _time.GetTimestamp();
        long last = Interlocked.Read(ref _lastReport);
        if (!force && last != 0 && _time.GetElapsedTime(last, now) < Throttle)
        {
            return;
        }

        Interlocked.Exchange(ref _lastReport, now);
        progress.Report(new RunProgress(Interlocked.Read(ref _submitted), delivered, Interlocked.Read(ref _failed), Volatile.Read(ref _jobsInFlight),
            _time.GetElapsedTime(_startTimestamp), client.RequestsSent - _requestsAtStart)
        {
            Resubmitted = Interlocked.Read(ref _resubmitted),
            NotCreated = Interlocked.Read(ref _notCreated),
            EstimatedCreditsSpent = Budget?.Usage.EstimatedSpent ?? 0,
        });
    }
}

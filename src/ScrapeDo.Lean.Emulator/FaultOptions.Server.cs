namespace ScrapeDo.Lean.Emulator;

/// <summary>The GET endpoints a fault may hit.</summary>
[Flags]
public enum EmulatorGets
{
    /// <summary>No GET endpoint.</summary>
    None = 0,

    /// <summary><c>GET /api/v1/me</c>.</summary>
    Account = 1,

    /// <summary><c>GET /api/v1/jobs</c>.</summary>
    ListJobs = 2,

    /// <summary><c>GET /api/v1/jobs/{id}</c>.</summary>
    GetJob = 4,

    /// <summary><c>GET /api/v1/jobs/{id}/{task}</c>.</summary>
    GetTask = 8,

    /// <summary>Every GET endpoint.</summary>
    All = Account | ListJobs | GetJob | GetTask,
}

/// <summary>
/// Faults of a server that is late, slow or inconsistent rather than down (issue 10): creates that commit and then
/// fail or answer late, a listing that lags, reads that 404 just after a create, snapshots that omit a task or
/// report an unknown status, 200s with a non-JSON body, and another client on the same token creating look-alike
/// jobs. All are off by default and drawn from their own seeded generator, so switching them on leaves the draws
/// of the per-request faults above unchanged.
/// </summary>
public sealed partial class FaultOptions
{
    /// <summary>
    /// Share of creates that create (and start) the job, then answer an error from
    /// <see cref="CommitThenErrorStatuses"/> instead of its id: the job exists and is billed, the client cannot know it.
    /// </summary>
    public double CommitThenErrorShare { get; init; }

    /// <summary>Statuses of <see cref="CommitThenErrorShare"/> answers, drawn evenly (default 500, 502, 504).</summary>
    public IReadOnlyList<int> CommitThenErrorStatuses { get; init; } = [500, 502, 504];

    /// <summary>Share of creates that create the job at once but answer only after <see cref="CommitThenSlowDelay"/>.</summary>
    public double CommitThenSlowShare { get; init; }

    /// <summary>Delay of <see cref="CommitThenSlowShare"/> answers; set it above the client's attempt timeout (default 5 s).</summary>
    public TimeSpan CommitThenSlowDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A new job appears in <c>GET /api/v1/jobs</c> only this long after it was created (default 0).</summary>
    public TimeSpan ListLag { get; init; }

    /// <summary>Reads of a job or its tasks by id answer 404 until this long after the job was created (default 0).</summary>
    public TimeSpan NotFoundAfterCreate { get; init; }

    /// <summary>When set, <c>GET /api/v1/jobs/{id}</c> answers 410 once the job is older than this (default null: never).</summary>
    public TimeSpan? JobGoneAfter { get; init; }

    /// <summary>Share of jobs whose <c>GET /api/v1/jobs/{id}</c> snapshot leaves one task out of <c>Tasks</c>, always the same one.</summary>
    public double SnapshotOmitTaskShare { get; init; }

    /// <summary>Share of jobs whose snapshot reports one task, always the same one, with <see cref="SnapshotUnknownStatus"/>.</summary>
    public double SnapshotUnknownStatusShare { get; init; }

    /// <summary>The status string of <see cref="SnapshotUnknownStatusShare"/> (default <c>suspended</c>, which no client knows).</summary>
    public string SnapshotUnknownStatus { get; init; } = "suspended";

    /// <summary>Share of jobs whose snapshot writes the job's and every task's status in upper case (<c>SUCCESS</c>).</summary>
    public double SnapshotUpperCaseShare { get; init; }

    /// <summary>Share of GETs (on <see cref="NonJsonOn"/>) answered 200 with an HTML body.</summary>
    public double NonJsonShare { get; init; }

    /// <summary>The GET endpoints <see cref="NonJsonShare"/> applies to (default all).</summary>
    public EmulatorGets NonJsonOn { get; init; } = EmulatorGets.All;

    /// <summary>Most non-JSON answers injected in all (default 0: no limit).</summary>
    public int NonJsonLimit { get; init; }

    /// <summary>
    /// Share of creates after which another client on the same token creates a look-alike job
    /// <see cref="ForeignTwinDelay"/> later: the same targets in the same order, or for a plugin job the same plugin
    /// and task count with other params (so other task URLs). It is billed to the same account and listed with ours.
    /// </summary>
    public double ForeignTwinShare { get; init; }

    /// <summary>How long after the create its foreign twin is created (default 20 ms).</summary>
    public TimeSpan ForeignTwinDelay { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Share of jobs whose <c>TaskIDs</c> (in the create answer, snapshots and listings) are in a different order
    /// than the targets; each entry of <c>Tasks</c> still carries its own <c>URL</c>.
    /// </summary>
    public double ShuffledTaskIdsShare { get; init; }

    /// <summary>
    /// Answers as a server that marshals a number or flag it has not set as an explicit <c>null</c> (a pointer field,
    /// another language): every answer member that would read 0 or false is written as null instead (a pending
    /// task's <c>StatusCode</c>, <c>Base64EncodedContent</c>, <c>Canceled</c>, <c>LimitConcurrency</c>, an empty
    /// listing's <c>TotalPages</c>, a spent account's <c>AvaliableCredits</c>). The spec treats those members as
    /// nullable (async-api.md §8.1); the Go server is not known to do this. Webhook bodies are not affected.
    /// </summary>
    public bool NullZeroValues { get; init; }

    /// <summary>True when any fault of a late, slow or inconsistent server is on.</summary>
    internal bool AnyServerFault =>
        CommitThenErrorShare + CommitThenSlowShare + SnapshotOmitTaskShare + SnapshotUnknownStatusShare + SnapshotUpperCaseShare + NonJsonShare + ForeignTwinShare + ShuffledTaskIdsShare > 0
        || ListLag > TimeSpan.Zero || NotFoundAfterCreate > TimeSpan.Zero || JobGoneAfter is not null || NullZeroValues;

    private void ValidateServerFaults()
    {
        EmulatorOptions.CheckShare(CommitThenErrorShare, nameof(CommitThenErrorShare));
        EmulatorOptions.CheckShare(CommitThenSlowShare, nameof(CommitThenSlowShare));
        EmulatorOptions.CheckShare(SnapshotOmitTaskShare, nameof(SnapshotOmitTaskShare));
        EmulatorOptions.CheckShare(SnapshotUnknownStatusShare, nameof(SnapshotUnknownStatusShare));
        EmulatorOptions.CheckShare(SnapshotUpperCaseShare, nameof(SnapshotUpperCaseShare));
        EmulatorOptions.CheckShare(NonJsonShare, nameof(NonJsonShare));
        EmulatorOptions.CheckShare(ForeignTwinShare, nameof(ForeignTwinShare));
        EmulatorOptions.CheckShare(ShuffledTaskIdsShare, nameof(ShuffledTaskIdsShare));
        if (CommitThenErrorShare + CommitThenSlowShare > 1)
        {
            throw new ArgumentException("CommitThenErrorShare and CommitThenSlowShare add up to more than 1.");
        }

        if (CommitThenErrorStatuses.Count == 0 || CommitThenErrorStatuses.Any(s => s is < 500 or > 599))
        {
            throw new ArgumentException("CommitThenErrorStatuses needs at least one status, each 500-599.", nameof(CommitThenErrorStatuses));
        }

        if (CommitThenSlowDelay < TimeSpan.Zero || ListLag < TimeSpan.Zero || NotFoundAfterCreate < TimeSpan.Zero || JobGoneAfter < TimeSpan.Zero || ForeignTwinDelay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ListLag), "Fault delays must not be negative.");
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(SnapshotUnknownStatus, nameof(SnapshotUnknownStatus));
        ArgumentOutOfRangeException.ThrowIfNegative(NonJsonLimit, nameof(NonJsonLimit));
    }
}

using System.Globalization;
using ScrapeDo.Lean.Credits;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// The run's credits: prices each chunk by the <see cref="CreditTable"/>, reserves a chunk's estimated cost before its
/// create and refuses the chunk when that would pass <see cref="RunOptions.MaxCredits"/>, confirms the cost (journaled
/// as <c>spend</c>) once the job exists and releases it when none was made, and stops all further creates when the API
/// says the credits are exhausted. A resumed run starts from the spend its journal records.
/// </summary>
internal sealed class CreditBudget
{
    private const string RequestCostKey = "Scrape.do-Request-Cost";
    private readonly ScrapeDoClient _client;
    private readonly RunJournal? _journal;
    private readonly long? _max;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, long> _reserved = [];
    private long _committed;

    public CreditBudget(ScrapeDoClient client, RunOptions options, CreateJobRequest template, string? pluginKey, RunJournal? journal)
    {
        _client = client;
        _journal = journal;
        _max = options.MaxCredits;
        Usage = options.Credits ?? new CreditUsage();
        CostPerTask = (options.CreditTable ?? CreditTable.Default).CostPerTask(template, pluginKey);
        Usage.CreditsPerTask = CostPerTask;
        if (journal is not null)
        {
            long before = journal.State.SpentSoFar(CostPerTask);
            _committed = before;
            Usage.EstimatedSpentBeforeResume = before;
            Usage.AddEstimated(before);
        }
    }

    public CreditUsage Usage { get; }

    /// <summary>
    /// How far a budget reaches, by the same rule <see cref="TryReserve"/> applies: whole jobs of
    /// <paramref name="perJob"/> targets in input order, stopping at the first that would pass <paramref name="max"/>.
    /// </summary>
    public static (long Targets, long Credits) Reach(long targets, int perJob, int perTask, long max)
    {
        long jobCost = (long)perJob * perTask;
        long fullJobs = targets / perJob;
        long fitting = jobCost == 0 ? fullJobs : Math.Min(fullJobs, max / jobCost);
        long covered = fitting * perJob, credits = fitting * jobCost;
        long last = targets % perJob;
        if (fitting == fullJobs && last > 0 && credits + (last * perTask) <= max)
        {
            covered += last;
            credits += last * perTask;
        }

        return (covered, credits);
    }

    public int CostPerTask { get; }

    public bool IsOutOfCredits => Usage.StopReason == CreditStop.OutOfCredits;

    /// <summary>
    /// Called in input order before a chunk starts: true to go on. A chunk that needs a create reserves its estimated
    /// cost; once one chunk is refused (budget or credits), every later chunk is too, and its targets count as remaining.
    /// </summary>
    public bool TryReserve(TargetChunk chunk)
    {
        if (_journal is not null && _journal.TryGetChunk(chunk.Index, out JournalChunk? recorded) && recorded is not null && (recorded.JobId is not null || recorded.FailureReason is not null))
        {
            // Its job exists (already counted) or it failed for good: no create, no cost.
            return true;
        }

        long cost = (long)chunk.Items.Count * CostPerTask;
        lock (_lock)
        {
            if (!Usage.Stopped && !(_max is long max && _committed + cost > max))
            {
                _committed += cost;
                _reserved[chunk.Index] = cost;
                return true;
            }
        }

        Usage.Stop(CreditStop.Budget);
        CountRemaining(chunk);
        return false;
    }

    /// <summary>
    /// <paramref name="tasks"/> tasks of chunk <paramref name="parent"/>'s job, canceled by this run's own interrupt,
    /// were just journaled for a retry: a canceled task is never charged, so their estimate leaves that job (the retry
    /// pays for them once it is created). <see cref="JournalState.SpentSoFar"/> applies the same rule on resume.
    /// </summary>
    public void MoveToRetry(int parent, int tasks)
    {
        long perTask = _journal?.State.CostPerTaskOf(parent, CostPerTask) ?? CostPerTask;
        long moved = tasks * perTask;
        lock (_lock)
        {
            _committed -= moved;
        }

        Usage.AddEstimated(-moved);
    }

    /// <summary>
    /// The chunk's job exists: its reservation becomes spend, journaled so a resume counts it. False when the chunk
    /// had no reservation (its job was already in the journal, so this process did not create it).
    /// </summary>
    public async Task<bool> ConfirmAsync(int chunk)
    {
        long cost;
        lock (_lock)
        {
            if (!_reserved.Remove(chunk, out cost))
            {
                return false;
            }
        }

        Usage.AddEstimated(cost);
        if (chunk >= 0)
        {
            // A retry's targets were counted when their first job was created (this process or an earlier one); a
            // counter cannot take them off that job as MoveToRetry does for the run's figure, so it counts them there once.
            Telemetry.CreditsSpent.Add(cost);
        }
        if (_journal is not null)
        {
            await _journal.RecordSpendAsync(chunk, cost).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>The chunk made no job: its reservation is free again.</summary>
    public void Release(int chunk)
    {
        lock (_lock)
        {
            if (_reserved.Remove(chunk, out long cost))
            {
                _committed -= cost;
            }
        }
    }

    public void MarkOutOfCredits() => Usage.Stop(CreditStop.OutOfCredits);

    /// <summary>Targets of a chunk that got no outcome because submitting stopped.</summary>
    public void CountRemaining(TargetChunk chunk)
    {
        long remaining = 0;
        foreach (RunItem item in chunk.Items)
        {
            if (_journal is null || !_journal.IsDelivered(item.Index))
            {
                remaining++;
            }
        }

        Usage.AddRemaining(remaining);
    }

    /// <summary>
    /// After a 429 on create whose text does not name credits: true when <c>/api/v1/me</c> shows the account cannot
    /// pay for the job, so the refusal is taken as "out of credits" rather than retried for minutes.
    /// </summary>
    public async Task<bool> AccountCannotAffordAsync(int targets, CancellationToken cancellationToken)
    {
        try
        {
            AccountInfo me = await _client.GetAccountAsync(cancellationToken).ConfigureAwait(false);
            return me.AvailableCredits < (long)targets * CostPerTask;
        }
        catch (ScrapeDoException)
        {
            return false;
        }
    }

    /// <summary>Adds a delivered task's reported cost, when its metadata carries one.</summary>
    public void CountDelivered(TaskOutcome outcome)
    {
        if (outcome.Details?.ScrapeDoMetadata is { } metadata
            && metadata.TryGetValue(RequestCostKey, out string? text)
            && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long cost))
        {
            Usage.AddActual(cost);
        }
    }

    /// <summary>Reads the account's credits after the run for the report; a failure leaves the figure unknown.</summary>
    public async Task ReadCreditsAfterAsync(CancellationToken cancellationToken) =>
        Usage.AccountCreditsAfter = (await TryReadAccountAsync(_client, cancellationToken).ConfigureAwait(false))?.AvailableCredits;

    /// <summary>
    /// The account for figures a run can do without (default jobs in flight, credits before and after): null when
    /// <c>/api/v1/me</c> failed, except that a refused token is thrown, since nothing else would work either.
    /// </summary>
    public static async Task<AccountInfo?> TryReadAccountAsync(ScrapeDoClient client, CancellationToken cancellationToken)
    {
        try
        {
            return await client.GetAccountAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ScrapeDoApiException ex) when (ex.IsUnauthorized)
        {
            throw;
        }
        catch (ScrapeDoException)
        {
            return null;
        }
    }
}

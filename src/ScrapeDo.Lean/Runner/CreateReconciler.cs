namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>What a look at the job listing concluded about one create whose answer never arrived.</summary>
internal readonly record struct ReconcileDecision(JobDetails? Adopt)
{
    public static readonly ReconcileDecision Absent = new(null);
}

/// <summary>
/// Answers "did the create we sent (and lost the answer of) make a job?" by reading the job listing, and owns the
/// set of job ids this run has claimed, so one server job is never adopted by two chunks.
/// <see cref="Decide"/> is the pure decision over a listing; <see cref="ReconcileAsync"/> does the listing I/O.
/// </summary>
internal sealed class CreateReconciler(ScrapeDoClient client, RunOptions options, bool plugin, CancellationToken cancellationToken)
{
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(500);
    private readonly HashSet<string> _claimed = new(StringComparer.Ordinal);

    /// <summary>Marks <paramref name="jobId"/> as this run's, so no reconcile adopts it for another chunk.</summary>
    public void Claim(string jobId)
    {
        lock (_claimed)
        {
            _claimed.Add(jobId);
        }
    }

    /// <summary>
    /// Looks for a job this run may have created at <paramref name="submittedAt"/>: one that started since then (less
    /// the clock-skew allowance), is not already claimed by this run, and has exactly these targets in this order.
    /// Only when the listing completes without a match is the job taken as not created; a listing that fails is
    /// retried, never read as "absent". An adopted job is claimed before this returns.
    /// </summary>
    public async Task<(string JobId, IReadOnlyList<string> TaskIds)?> ReconcileAsync(string[] targets, DateTimeOffset submittedAt)
    {
        TimeProvider time = client.TimeProvider;
        await Task.Delay(Settle, time, cancellationToken).ConfigureAwait(false);
        var query = new ListJobsQuery { PageSize = ListJobsQuery.MaxPageSize, StartFrom = submittedAt - options.ReconcileClockSkew, Sort = JobSortOrder.StartTimeDescending };
        var persistence = new RetryPersistence(time, options.GiveUpAfter, cancellationToken);
        while (true)
        {
            try
            {
                // Only jobs that could be ours are kept, so a long listing costs no memory.
                var candidates = new List<JobDetails>();
                await foreach (JobDetails job in client.ListAllJobsAsync(query, cancellationToken).ConfigureAwait(false))
                {
                    if (IsCandidate(job, targets, plugin))
                    {
                        candidates.Add(job);
                    }
                }

                JobDetails? found;
                lock (_claimed)
                {
                    found = Decide(candidates, targets, plugin, _claimed.Contains).Adopt;
                    if (found is not null)
                    {
                        _claimed.Add(found.JobId);
                    }
                }

                return found is null ? null : (found.JobId, TaskIdsOf(found));
            }
            catch (ScrapeDoException ex) when (persistence.KeepTrying && ex is not ScrapeDoApiException { IsUnauthorized: true })
            {
                // A listing that fails proves nothing: wait and list again, never assume the job is absent.
                await persistence.WaitAsync(ex).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The decision over a listing (newest first): adopt the first job that matches the targets and is not claimed
    /// by this run; with none, the create is taken as absent. Plugin jobs, whose task URLs the server builds, are
    /// matched on their task count.
    /// </summary>
    public static ReconcileDecision Decide(IEnumerable<JobDetails> listing, string[] targets, bool plugin, Func<string, bool> isClaimed)
    {
        foreach (JobDetails job in listing)
        {
            if (IsCandidate(job, targets, plugin) && !isClaimed(job.JobId))
            {
                return new ReconcileDecision(job);
            }
        }

        return ReconcileDecision.Absent;
    }

    private static bool IsCandidate(JobDetails job, string[] targets, bool plugin)
    {
        if (job.Tasks.Count != targets.Length && job.TaskIds.Count != targets.Length)
        {
            return false;
        }

        if (plugin)
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

    private static IReadOnlyList<string> TaskIdsOf(JobDetails job) => job.TaskIds.Count > 0 ? job.TaskIds : job.Tasks.Select(t => t.TaskId).ToArray();
}

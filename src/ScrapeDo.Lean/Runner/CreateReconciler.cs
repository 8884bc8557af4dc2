using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>What one look at the job listing concluded about a create whose answer never arrived.</summary>
internal enum ReconcileVerdict
{
    /// <summary>The job is in the listing: adopt it.</summary>
    Adopt,

    /// <summary>Not proven either way yet (not listed, or not told apart from look-alikes): look again later.</summary>
    Wait,

    /// <summary>A listing taken after the settle window shows no such job: it was not created.</summary>
    Absent,

    /// <summary>After the window, jobs that might be ours are still not told apart from others: neither adopt nor resend.</summary>
    Unresolvable,
}

/// <summary>
/// The jobs that existed before this process sent its first create (<see cref="CreateReconciler.FenceAsync"/>): none of
/// them can be the job of a create it sent afterwards, however alike their targets.
/// </summary>
/// <param name="TakenAt">When the listing ended (this process's clock); the fence speaks for creates sent after it.</param>
/// <param name="NewestStart">The newest job's StartTime then (the server's clock), null when there was none.</param>
/// <param name="JobIds">The jobs that started within <see cref="Margin"/> of the newest, known by id.</param>
internal sealed record JobFence(DateTimeOffset TakenAt, DateTimeOffset? NewestStart, IReadOnlySet<string> JobIds)
{
    /// <summary>
    /// Jobs that started this much before the newest one are older than any job a later create makes, even where the
    /// servers' clocks differ a little; the ones closer to it are excluded by id instead, never by time, so a job of
    /// ours whose StartTime reads a little early (a second-precision stamp, another replica's clock) stays adoptable.
    /// </summary>
    public static readonly TimeSpan Margin = TimeSpan.FromSeconds(2);

    /// <summary>Whether <paramref name="job"/> existed before the fence.</summary>
    public bool Excludes(JobDetails job) =>
        JobIds.Contains(job.JobId) || (NewestStart is { } newest && job.StartTime is { } start && start < newest - Margin);
}

/// <summary>A reconcile decision; for <see cref="ReconcileVerdict.Adopt"/> the job and its task ids in target order.</summary>
internal readonly record struct ReconcileDecision(ReconcileVerdict Verdict, string? JobId = null, IReadOnlyList<string>? TaskIds = null, string? Reason = null);

/// <summary>
/// Answers "did the create we sent, whose answer was lost, make a job?" from the job listing, and owns the set of job
/// ids this run has claimed, so one server job is never adopted by two chunks.
/// </summary>
/// <remarks>
/// "Not listed yet" is not "not created": a create can commit after its answer was lost, and a listing can lag.
/// So the listing is read at growing intervals from the submit time (0.5 s, 1.5 s, 3.5 s, … after it) and only a
/// listing that starts after <see cref="RunOptions.ReconcileWindow"/> has passed can prove absence. The window counts
/// from the submit, as far as this process can vouch for the time since (<see cref="SendClock"/>): a resume soon after
/// a crash waits a window of its own rather than trust another process's clock.
/// <see cref="Decide"/> is the pure decision over one listing; <see cref="ReconcileAsync"/> does the listing I/O.
/// </remarks>
internal sealed class CreateReconciler(ScrapeDoClient client, RunOptions options, string? pluginKey, CancellationToken cancellationToken, Microsoft.Extensions.Logging.ILogger? log = null)
{
    private static readonly TimeSpan FirstLook = TimeSpan.FromMilliseconds(500);
    private const int FencePageSize = 10;
    private readonly HashSet<string> _claimed = new(StringComparer.Ordinal);
    private JobFence? _fence;
    private readonly Lock _fenceLock = new();
    private Task? _fencing;

    /// <summary>The fence this process took, if any (for tests and the journal).</summary>
    public JobFence? Fence => Volatile.Read(ref _fence);

    /// <summary>
    /// Takes the fence once, for every submit of this process to await before its first create, and hands it to
    /// <paramref name="record"/> (the journal) before any of them goes on. A failure (a refused token, cancellation)
    /// is every caller's.
    /// </summary>
    public Task EnsureFenceAsync(Func<JobFence, Task>? record)
    {
        lock (_fenceLock)
        {
            return _fencing ??= FenceAndRecordAsync(record);
        }
    }

    private async Task FenceAndRecordAsync(Func<JobFence, Task>? record)
    {
        await FenceAsync().ConfigureAwait(false);
        if (record is not null && Fence is { } fence)
        {
            await record(fence).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Lists the jobs that exist now, before this process sends its first create, so a create whose answer is lost can
    /// never be matched to one of them: another run's job with the same targets (the run before this one, say) looks
    /// exactly like ours in the listing, and adopting it would deliver another run's results (made with other options,
    /// perhaps) while our own job, created and billed, went unread. Two reads: the newest job, then the jobs that
    /// started within <see cref="JobFence.Margin"/> of it (usually a handful). A listing that keeps failing is retried
    /// as any read for up to <see cref="RunOptions.GiveUpAfter"/>; one the server refuses, or that keeps failing that
    /// long, leaves the process without a fence (as before there was one), logged as 1107, rather than failing targets
    /// that need no listing at all (a create whose answer comes back).
    /// </summary>
    public async Task FenceAsync()
    {
        TimeProvider time = client.TimeProvider;
        var persistence = new RetryPersistence(time, options.GiveUpAfter, cancellationToken);
        while (true)
        {
            try
            {
                var ids = new HashSet<string>(StringComparer.Ordinal);
                DateTimeOffset? newestStart = null;
                JobStampsPage newest = await client.ListJobStampsPageAsync(new ListJobsQuery { PageSize = 1, Sort = JobSortOrder.StartTimeDescending }, cancellationToken).ConfigureAwait(false);
                foreach (JobStamp job in newest.Jobs)
                {
                    ids.Add(job.JobId);
                    newestStart = job.StartTime;
                }

                if (newestStart is { } start)
                {
                    // Pages of a few jobs: each can list 1,000 tasks, and a page is read whole (about 110 KB a job), so
                    // a busy account costs a few more requests rather than one buffer of megabytes.
                    var recent = new ListJobsQuery { PageSize = FencePageSize, StartFrom = start - JobFence.Margin, Sort = JobSortOrder.StartTimeDescending };
                    await foreach (JobStamp job in client.ListJobStampsAsync(recent, cancellationToken).ConfigureAwait(false))
                    {
                        ids.Add(job.JobId);
                    }
                }

                Volatile.Write(ref _fence, new JobFence(time.GetUtcNow(), newestStart, ids));
                return;
            }
            catch (ScrapeDoException ex) when (persistence.KeepTrying && RetryPersistence.IsTransientRead(ex))
            {
                await persistence.WaitAsync(ex).ConfigureAwait(false);
            }
            catch (ScrapeDoException ex) when (ex is not ScrapeDoApiException { IsUnauthorized: true })
            {
                if (log is not null)
                {
                    Log.JobFenceUnavailable(log, ex.Message);
                }

                return;
            }
        }
    }

    /// <summary>Marks <paramref name="jobId"/> as this run's, so no reconcile adopts it for another chunk.</summary>
    public void Claim(string jobId)
    {
        lock (_claimed)
        {
            _claimed.Add(jobId);
        }
    }

    /// <summary>
    /// Looks until the listing decides (adopt, absent or unresolvable) for a create of <paramref name="chunk"/> sent at
    /// <paramref name="submittedAt"/>. A listing that fails proves nothing and is retried. An adopted job is claimed
    /// before this returns.
    /// </summary>
    /// <param name="chunk">The chunk whose create's answer was lost.</param>
    /// <param name="submittedAt">When the create was sent.</param>
    /// <param name="fence">The fence of the process that sent it (<see cref="JournalChunk.Fence"/>): jobs it names existed
    /// before the create and are never adopted. Null when none was taken.</param>
    /// <param name="sentTimestamp">When this process sent the create, on its monotonic clock; null for a send a resumed
    /// run read from its journal, timed by another process's clock (see <see cref="SendClock"/>).</param>
    public async Task<ReconcileDecision> ReconcileAsync(TargetChunk chunk, DateTimeOffset submittedAt, JobFence? fence, long? sentTimestamp = null)
    {
        TimeProvider time = client.TimeProvider;
        var sinceSend = new SendClock(time, submittedAt, sentTimestamp, trustedAfter: options.ReconcileWindow + options.ReconcileClockSkew);
        string?[] expected = ExpectedUrls(chunk);
        var query = new ListJobsQuery { PageSize = ListJobsQuery.MaxPageSize, StartFrom = submittedAt - options.ReconcileClockSkew, Sort = JobSortOrder.StartTimeDescending };
        var persistence = new RetryPersistence(time, options.GiveUpAfter, cancellationToken);
        TimeSpan nextLook = FirstLook;
        while (true)
        {
            TimeSpan wait = Min(Min(nextLook, options.ReconcileWindow) - sinceSend.Elapsed, options.ReconcileWindow);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
            }

            // Decided before the listing starts: only a listing begun after the window can prove absence.
            bool windowOver = sinceSend.Elapsed >= options.ReconcileWindow;
            ReconcileDecision decision;
            try
            {
                decision = await LookAsync(query, expected, submittedAt, fence, windowOver).ConfigureAwait(false);
                persistence.Reset();
            }
            catch (ScrapeDoException ex) when (persistence.KeepTrying && ex is not ScrapeDoApiException { IsUnauthorized: true })
            {
                await persistence.WaitAsync(ex).ConfigureAwait(false);
                continue;
            }

            if (decision.Verdict != ReconcileVerdict.Wait)
            {
                return decision;
            }

            nextLook = nextLook + nextLook + FirstLook;
        }
    }

    private async Task<ReconcileDecision> LookAsync(ListJobsQuery query, string?[] expected, DateTimeOffset submittedAt, JobFence? fence, bool windowOver)
    {
        // Only jobs with the right task count are kept, so a long listing costs no memory.
        var candidates = new List<JobDetails>();
        await foreach (JobDetails job in client.ListAllJobsAsync(query, cancellationToken).ConfigureAwait(false))
        {
            if (TaskCount(job) == expected.Length && fence?.Excludes(job) != true)
            {
                candidates.Add(job);
            }
        }

        lock (_claimed)
        {
            ReconcileDecision decision = Decide(candidates, expected, submittedAt, windowOver, _claimed.Contains);
            if (decision.Verdict == ReconcileVerdict.Adopt)
            {
                _claimed.Add(decision.JobId!);
            }

            return decision;
        }
    }

    /// <summary>
    /// The decision over one listing. A job is ours only if its task URLs are exactly the expected ones (in any order;
    /// its task ids are then aligned to the targets by URL) and it is not claimed by this run. Of several such jobs
    /// (another client may have sent the same targets), the one that started closest to <paramref name="submittedAt"/>
    /// is taken. A job with complete task URLs that differ is not ours. A job that matches only on task count
    /// (a plugin whose task URL we cannot predict, or a listing without task URLs) is never adopted: it keeps the
    /// decision waiting and, once the window is over, makes it unresolvable rather than risk a second job.
    /// </summary>
    /// <param name="listing">Jobs that started since the submit (less the clock-skew allowance).</param>
    /// <param name="expected">The URL each target's task should report; null where it is not known.</param>
    /// <param name="submittedAt">When the create was sent.</param>
    /// <param name="windowOver">Whether the listing started after the settle window.</param>
    /// <param name="isClaimed">Whether this run already owns a job id.</param>
    public static ReconcileDecision Decide(IEnumerable<JobDetails> listing, string?[] expected, DateTimeOffset submittedAt, bool windowOver, Func<string, bool> isClaimed)
    {
        bool urlsKnown = Array.TrueForAll(expected, u => u is not null);
        string[]? bestIds = null;
        JobDetails? best = null;
        List<string>? lookAlikes = null;
        foreach (JobDetails job in listing)
        {
            if (isClaimed(job.JobId) || TaskCount(job) != expected.Length)
            {
                continue;
            }

            if (!urlsKnown || !HasAllUrls(job, expected.Length))
            {
                // Nothing tells this job apart from ours (a plugin URL we cannot predict, or a listing without task URLs).
                (lookAlikes ??= []).Add(job.JobId);
            }
            else if (TargetUrls.Align(job.Tasks, expected!) is { } ids && (best is null || Distance(job, submittedAt) < Distance(best, submittedAt)))
            {
                (best, bestIds) = (job, ids);
            }
        }

        if (best is not null)
        {
            return new ReconcileDecision(ReconcileVerdict.Adopt, best.JobId, bestIds);
        }

        if (lookAlikes is not null)
        {
            return windowOver
                ? new ReconcileDecision(ReconcileVerdict.Unresolvable, Reason: $"The create's answer was lost and job(s) {string.Join(", ", lookAlikes)} cannot be told apart from ours by task URL; not adopting another job's results and not creating a second job.")
                : new ReconcileDecision(ReconcileVerdict.Wait);
        }

        return new ReconcileDecision(windowOver ? ReconcileVerdict.Absent : ReconcileVerdict.Wait);
    }

    /// <summary>The URL each target's task should report: the target itself, or for a plugin what the server builds.</summary>
    private string?[] ExpectedUrls(TargetChunk chunk)
    {
        if (pluginKey is null)
        {
            return chunk.Targets;
        }

        var urls = new string?[chunk.Items.Count];
        for (int i = 0; i < urls.Length; i++)
        {
            urls[i] = TargetUrls.ForPlugin(pluginKey, chunk.Items[i].Params!);
        }

        return urls;
    }

    private static bool HasAllUrls(JobDetails job, int count)
    {
        if (job.Tasks.Count != count)
        {
            return false;
        }

        foreach (TaskSummary task in job.Tasks)
        {
            if (string.IsNullOrEmpty(task.Url))
            {
                return false;
            }
        }

        return true;
    }

    private static int TaskCount(JobDetails job) => Math.Max(job.Tasks.Count, job.TaskIds.Count);

    private static TimeSpan Distance(JobDetails job, DateTimeOffset submittedAt) => job.StartTime is { } start ? (start - submittedAt).Duration() : TimeSpan.MaxValue;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>
    /// How long ago a create was sent, as far as this process can vouch for it. The wall clock says when it was sent, but
    /// a clock stepped forward would end the settle window early, and a listing taken too soon calls a job that lists
    /// late "absent" and bills it twice. So the wall clock's reading is capped by what this process measured itself on
    /// a monotonic timer: for its own send, the time since it sent; for a send read from the journal (another process's
    /// clock), the time since it began to reconcile, unless the wall clock already says more than the window plus the
    /// clock-skew allowance (clocks that far apart are outside what the reconcile assumes anyway). A clock set back
    /// makes the reading smaller, which only waits longer.
    /// </summary>
    private readonly struct SendClock
    {
        private readonly TimeProvider _time;
        private readonly DateTimeOffset _sent;
        private readonly long _start;
        private readonly TimeSpan _atStart;

        public SendClock(TimeProvider time, DateTimeOffset sent, long? sentTimestamp, TimeSpan trustedAfter)
        {
            _time = time;
            _sent = sent;
            if (sentTimestamp is { } own)
            {
                _start = own;
                _atStart = TimeSpan.Zero;
            }
            else
            {
                _start = time.GetTimestamp();
                TimeSpan wall = time.GetUtcNow() - sent;
                _atStart = wall >= trustedAfter ? wall : TimeSpan.Zero;
            }
        }

        public TimeSpan Elapsed => Min(_time.GetUtcNow() - _sent, _atStart + _time.GetElapsedTime(_start));
    }
}

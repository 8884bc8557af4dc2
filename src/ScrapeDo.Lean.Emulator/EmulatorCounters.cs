using System.Text.Json;

namespace ScrapeDo.Lean.Emulator;

/// <summary>What the emulator has seen, for tests and benchmarks. Read at any time; values only grow (except in-flight).</summary>
public sealed class EmulatorCounters
{
    internal long CreateRequests;
    internal long GetJobRequests;
    internal long GetTaskRequests;
    internal long ListRequests;
    internal long CancelRequests;
    internal long MeRequests;
    internal long UnauthorizedRequests;
    internal long BadRequests;
    internal long JobsCreated;
    internal long TasksCreated;
    internal long TasksCompleted;
    internal long InjectedRateLimits;
    internal long InjectedServerErrors;
    internal long InjectedDrops;
    internal long InjectedTruncations;
    internal long InjectedSlow;
    internal long RateLimited;
    internal long InFlight;
    internal long MaxInFlight;
    internal long MaxRunningTasks;
    internal long WebhookAttempts;
    internal long WebhookDelivered;
    internal long WebhookFailed;
    internal long ForeignJobsCreated;
    internal long InjectedCommitThenErrors;
    internal long InjectedCommitThenSlows;
    internal long InjectedNotFound;
    internal long InjectedGone;
    internal long InjectedNonJsons;

    /// <summary>API requests of every kind, answered or faulted.</summary>
    public long TotalRequests => CreateRequests + GetJobRequests + GetTaskRequests + ListRequests + CancelRequests + MeRequests;

    /// <summary><c>POST /api/v1/jobs</c> requests.</summary>
    public long Creates => Interlocked.Read(ref CreateRequests);

    /// <summary><c>GET /api/v1/jobs/{id}</c> requests.</summary>
    public long JobPolls => Interlocked.Read(ref GetJobRequests);

    /// <summary><c>GET /api/v1/jobs/{id}/{task}</c> requests.</summary>
    public long TaskFetches => Interlocked.Read(ref GetTaskRequests);

    /// <summary><c>GET /api/v1/jobs</c> requests.</summary>
    public long Lists => Interlocked.Read(ref ListRequests);

    /// <summary><c>DELETE /api/v1/jobs/{id}</c> requests.</summary>
    public long Cancels => Interlocked.Read(ref CancelRequests);

    /// <summary><c>GET /api/v1/me</c> requests.</summary>
    public long AccountRequests => Interlocked.Read(ref MeRequests);

    /// <summary>Requests refused with 401.</summary>
    public long Unauthorized => Interlocked.Read(ref UnauthorizedRequests);

    /// <summary>Requests refused with 400.</summary>
    public long Rejected => Interlocked.Read(ref BadRequests);

    /// <summary>Jobs that exist because of a create.</summary>
    public long Jobs => Interlocked.Read(ref JobsCreated);

    /// <summary>Tasks created across all jobs.</summary>
    public long Tasks => Interlocked.Read(ref TasksCreated);

    /// <summary>Tasks that reached a terminal status.</summary>
    public long CompletedTasks => Interlocked.Read(ref TasksCompleted);

    /// <summary>Injected 429s (fault share) plus rate-limit 429s.</summary>
    public long Injected429 => Interlocked.Read(ref InjectedRateLimits) + Interlocked.Read(ref RateLimited);

    /// <summary>Injected 5xx answers.</summary>
    public long Injected5xx => Interlocked.Read(ref InjectedServerErrors);

    /// <summary>Connections dropped on purpose.</summary>
    public long InjectedDropCount => Interlocked.Read(ref InjectedDrops);

    /// <summary>Bodies truncated on purpose.</summary>
    public long InjectedTruncationCount => Interlocked.Read(ref InjectedTruncations);

    /// <summary>Answers slowed on purpose.</summary>
    public long InjectedSlowCount => Interlocked.Read(ref InjectedSlow);

    /// <summary>Most API requests being handled at once.</summary>
    public long MaxConcurrentRequests => Interlocked.Read(ref MaxInFlight);

    /// <summary>Most tasks running at once for any one account (never above its plan's concurrency).</summary>
    public long MaxConcurrentTasks => Interlocked.Read(ref MaxRunningTasks);

    /// <summary>Webhook POSTs attempted.</summary>
    public long WebhookAttemptCount => Interlocked.Read(ref WebhookAttempts);

    /// <summary>Tasks whose webhook was delivered.</summary>
    public long WebhookDeliveredCount => Interlocked.Read(ref WebhookDelivered);

    /// <summary>Tasks whose webhook delivery failed for good.</summary>
    public long WebhookFailedCount => Interlocked.Read(ref WebhookFailed);

    /// <summary>Look-alike jobs created by the emulated foreign client (not counted in <see cref="Jobs"/>).</summary>
    public long ForeignJobs => Interlocked.Read(ref ForeignJobsCreated);

    /// <summary>Creates that created their job and then answered an error.</summary>
    public long CommitThenErrorCount => Interlocked.Read(ref InjectedCommitThenErrors);

    /// <summary>Creates that created their job and then answered late.</summary>
    public long CommitThenSlowCount => Interlocked.Read(ref InjectedCommitThenSlows);

    /// <summary>Reads of a just-created job or task answered 404.</summary>
    public long NotFoundAfterCreateCount => Interlocked.Read(ref InjectedNotFound);

    /// <summary>Reads of a job answered 410 by <see cref="FaultOptions.JobGoneAfter"/>.</summary>
    public long JobGoneCount => Interlocked.Read(ref InjectedGone);

    /// <summary>GETs answered 200 with a body that is not JSON.</summary>
    public long NonJsonCount => Interlocked.Read(ref InjectedNonJsons);

    /// <summary>Writes the counters for <c>GET /_emulator/stats</c>.</summary>
    internal void WriteJson(Utf8JsonWriter w, int maxFetchesOfAnyTask)
    {
        EmulatorCounters c = this;
        w.WriteStartObject();
        w.WriteNumber("Creates", c.Creates);
        w.WriteNumber("JobPolls", c.JobPolls);
        w.WriteNumber("TaskFetches", c.TaskFetches);
        w.WriteNumber("Lists", c.Lists);
        w.WriteNumber("Cancels", c.Cancels);
        w.WriteNumber("AccountRequests", c.AccountRequests);
        w.WriteNumber("Unauthorized", c.Unauthorized);
        w.WriteNumber("Rejected", c.Rejected);
        w.WriteNumber("Jobs", c.Jobs);
        w.WriteNumber("Tasks", c.Tasks);
        w.WriteNumber("CompletedTasks", c.CompletedTasks);
        w.WriteNumber("Injected429", c.Injected429);
        w.WriteNumber("Injected5xx", c.Injected5xx);
        w.WriteNumber("InjectedDrops", c.InjectedDropCount);
        w.WriteNumber("InjectedTruncations", c.InjectedTruncationCount);
        w.WriteNumber("InjectedSlow", c.InjectedSlowCount);
        w.WriteNumber("MaxConcurrentRequests", c.MaxConcurrentRequests);
        w.WriteNumber("MaxConcurrentTasks", c.MaxConcurrentTasks);
        w.WriteNumber("MaxFetchesOfAnyTask", maxFetchesOfAnyTask);
        w.WriteNumber("WebhookAttempts", c.WebhookAttemptCount);
        w.WriteNumber("WebhookDelivered", c.WebhookDeliveredCount);
        w.WriteNumber("WebhookFailed", c.WebhookFailedCount);
        w.WriteNumber("ForeignJobs", c.ForeignJobs);
        w.WriteNumber("CommitThenErrors", c.CommitThenErrorCount);
        w.WriteNumber("CommitThenSlows", c.CommitThenSlowCount);
        w.WriteNumber("NotFoundAfterCreate", c.NotFoundAfterCreateCount);
        w.WriteNumber("JobGone", c.JobGoneCount);
        w.WriteNumber("NonJson", c.NonJsonCount);
        w.WriteEndObject();
    }

    internal static void RaiseMax(ref long max, long value)
    {
        long current;
        while (value > (current = Interlocked.Read(ref max)) && Interlocked.CompareExchange(ref max, value, current) != current)
        {
        }
    }
}

using System.Text.Json;

namespace ScrapeDo.Lean.Emulator.Internal;

internal enum TaskPhase
{
    Queuing,
    Queued,
    Pending,
    Rotating,
    Success,
    Error,
    Canceled,
}

internal static class TaskPhaseNames
{
    public static string Wire(TaskPhase phase) => phase switch
    {
        TaskPhase.Queuing => "queuing",
        TaskPhase.Queued => "queued",
        TaskPhase.Pending => "pending",
        TaskPhase.Rotating => "rotating",
        TaskPhase.Success => "success",
        TaskPhase.Error => "error",
        _ => "canceled",
    };

    public static bool IsTerminal(TaskPhase phase) => phase >= TaskPhase.Success;

    public static bool TryParse(string value, out TaskPhase phase)
    {
        foreach (TaskPhase p in Enum.GetValues<TaskPhase>())
        {
            if (Wire(p) == value)
            {
                phase = p;
                return true;
            }
        }

        phase = default;
        return false;
    }
}

/// <summary>One task. Its phase and times change under the owning account's lock and are read without it.</summary>
internal sealed class TaskState(JobState job, string taskId, string url, int index, JsonElement? pluginParams)
{
    private int _phase = (int)TaskPhase.Queuing;
    private int _fetches;

    public JobState Job { get; } = job;
    public string TaskId { get; } = taskId;
    public string Url { get; } = url;
    public int Index { get; } = index;
    public JsonElement? PluginParams { get; } = pluginParams;

    public TaskPhase Phase
    {
        get => (TaskPhase)Volatile.Read(ref _phase);
        set => Volatile.Write(ref _phase, (int)value);
    }

    public DateTimeOffset? StartTime { get; set; }
    public DateTimeOffset? EndTime { get; set; }
    public DateTimeOffset UpdateTime { get; set; }
    public int StatusCode { get; set; }
    public string? ErrorMessage { get; set; }
    public string TraceId { get; } = Guid.NewGuid().ToString("N");
    public ITimer? Timer { get; set; }
    public int Generation { get; set; }

    public string? WebhookStatus { get; set; }
    public DateTimeOffset? WebhookRequestTime { get; set; }

    public int Fetches => Volatile.Read(ref _fetches);

    public void CountFetch() => Interlocked.Increment(ref _fetches);
}

/// <summary>A job and the counts its aggregate status is derived from.</summary>
internal sealed class JobState
{
    public JobState(AccountState account, string jobId, DateTimeOffset created, DateTimeOffset expiresAt, JobRequest request)
    {
        Account = account;
        JobId = jobId;
        Created = created;
        ExpiresAt = expiresAt;
        Request = request;
    }

    public AccountState Account { get; }
    public string JobId { get; }
    public DateTimeOffset Created { get; }
    public DateTimeOffset ExpiresAt { get; }
    public JobRequest Request { get; }
    public TaskState[] Tasks { get; set; } = [];
    public Dictionary<string, TaskState> TasksById { get; } = new(StringComparer.Ordinal);
    public bool Canceled { get; set; }
    public DateTimeOffset? EndTime { get; set; }

    // Injected by FaultInjector.ShapeNewJob: created by another client, and how this job's snapshots misbehave.
    public bool Foreign { get; init; }
    public int OmittedTask { get; set; } = -1;
    public int UnknownStatusTask { get; set; } = -1;
    public string? UnknownStatus { get; set; }
    public bool UpperCaseStatuses { get; set; }
    public int[]? TaskIdOrder { get; set; }

    // Maintained under the account lock.
    public int Started;
    public int Running;
    public int Terminal;
    public int Succeeded;

    public string Status(JobStatusRule rule)
    {
        int total = Tasks.Length;
        if (Volatile.Read(ref Terminal) >= total)
        {
            if (Canceled)
            {
                return "canceled";
            }

            int ok = Volatile.Read(ref Succeeded);
            return rule == JobStatusRule.SuccessIfAnyTaskSucceeded ? (ok > 0 ? "success" : "error") : (ok == total ? "success" : "error");
        }

        if (Volatile.Read(ref Running) > 0 || Volatile.Read(ref Started) > 0)
        {
            return "pending";
        }

        return Tasks.Length > 0 && Tasks[0].Phase == TaskPhase.Queuing ? "queuing" : "queued";
    }

    public bool IsTerminal => Volatile.Read(ref Terminal) >= Tasks.Length;
}

/// <summary>A token's account: its queue of waiting tasks and its running slots.</summary>
internal sealed class AccountState(EmulatorAccount account)
{
    public object Lock { get; } = new();
    public string Token { get; } = account.Token;
    public int TotalConcurrency { get; } = account.ConcurrencyOverride ?? EmulatorPlans.ConcurrencyOf(account.Plan);
    public long Credits = account.Credits;
    public Queue<TaskState> Waiting { get; } = new();
    public int Running;
    public List<JobState> Jobs { get; } = [];

    // Per-second token bucket for the optional request-rate limit.
    public long RateWindowStart;
    public int RateWindowCount;
}

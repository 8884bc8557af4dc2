using ScrapeDo.Lean.Internal;

namespace ScrapeDo.Lean.Emulator;

/// <summary>The async plans and their concurrency (async-api.md §12.1).</summary>
public static class EmulatorPlans
{
    /// <summary>Plan names and their async <c>TotalConcurrency</c>.</summary>
    public static IReadOnlyDictionary<string, int> Concurrency { get; } = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase)
    {
        ["free"] = 2,
        ["hobby"] = 2,
        ["pro"] = 5,
        ["business"] = 12,
        ["advanced"] = 60,
    };

    /// <summary>Throws unless <paramref name="plan"/> is a known plan name.</summary>
    public static int ConcurrencyOf(string plan) =>
        Concurrency.TryGetValue(plan, out int slots)
            ? slots
            : throw new ArgumentException($"Unknown plan '{plan}'; use one of: {string.Join(", ", Concurrency.Keys)}.", nameof(plan));
}

/// <summary>An account the emulator accepts: its token, plan and credits.</summary>
/// <param name="Token">The <c>X-Token</c> value.</param>
/// <param name="Plan">A name from <see cref="EmulatorPlans"/>.</param>
/// <param name="Credits">Starting credits.</param>
/// <param name="ConcurrencyOverride">Async slots instead of the plan's, for throughput work.</param>
public sealed record EmulatorAccount(string Token, string Plan = "pro", long Credits = 10_000_000, int? ConcurrencyOverride = null)
{
    /// <summary>Hides the token.</summary>
    public override string ToString() => $"EmulatorAccount {{ Plan = {Plan}, Credits = {Credits} }}";
}

/// <summary>Settings of a <see cref="ScrapeDoEmulator"/>. Everything is off or neutral by default.</summary>
public sealed class EmulatorOptions
{
    /// <summary>The token accepted when no account is configured.</summary>
    public const string DefaultToken = "emulator-token";

    /// <summary>Prices tasks are billed by (null: <see cref="ScrapeDo.Lean.Credits.CreditTable.Default"/>, the same table the runner estimates with).</summary>
    public ScrapeDo.Lean.Credits.CreditTable? CreditTable { get; init; }

    /// <summary>Loopback port to listen on; 0 picks a free port.</summary>
    public int Port { get; init; }

    /// <summary>
    /// Serve HTTPS (HTTP/1.1 and HTTP/2, negotiated by ALPN) with a self-signed certificate made in memory at start-up,
    /// as the real service is HTTPS. Clients trust it by pinning <see cref="ScrapeDoEmulator.ServerCertificate"/> through
    /// <see cref="ScrapeDoClientOptions.TrustedServerCertificate"/>. Default false: plain HTTP/1.1 on loopback.
    /// </summary>
    public bool Https { get; init; }

    /// <summary>Accepted accounts. Default: one <c>pro</c> account with <see cref="DefaultToken"/>.</summary>
    public IReadOnlyList<EmulatorAccount> Accounts { get; init; } = [new EmulatorAccount(DefaultToken)];

    /// <summary>Seed of contents, outcomes and faults: the same seed gives the same run.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Shortest time a task spends running (default 0: tasks finish as soon as they get a slot).</summary>
    public TimeSpan TaskLatencyMin { get; init; }

    /// <summary>Longest time a task spends running; a task's latency is drawn per URL between min and max.</summary>
    public TimeSpan TaskLatencyMax { get; init; }

    /// <summary>Share (0–1) of URL tasks that end in <c>error</c>, chosen deterministically per URL and seed.</summary>
    public double TaskErrorShare { get; init; }

    /// <summary>Share (0–1) of tasks that pass through <c>rotating</c> before finishing (needs a latency above 0).</summary>
    public double TaskRotateShare { get; init; }

    /// <summary>Size in bytes of generated HTML (and of binary content before base64). Default 2 KiB.</summary>
    public int ContentBytes { get; init; } = 2048;

    /// <summary>Target path endings served as binary (base64 content).</summary>
    public IReadOnlyList<string> BinarySuffixes { get; init; } = [".png", ".jpg", ".jpeg", ".gif", ".pdf", ".zip", ".bin"];

    /// <summary>How long task content stays available after job creation (default 72 h).</summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromHours(72);

    /// <summary>Clock of the emulator (timestamps, latencies, expiry, webhook delays).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>When true a job whose tasks all ended with any error reports <c>error</c>; see <see cref="JobStatusRule"/>.</summary>
    public JobStatusRule JobStatusRule { get; init; } = JobStatusRule.SuccessIfAnyTaskSucceeded;

    /// <summary>Accepted range of <c>Timeout</c> in ms (unpublished for async; default the sync API's 5000–120000).</summary>
    public (int Min, int Max) TimeoutRange { get; init; } = (JobOptionBounds.TimeoutMinMs, JobOptionBounds.TimeoutMaxMs);

    /// <summary>Accepted range of <c>RetryTimeout</c> in ms (unpublished for async; default the sync API's 5000–55000).</summary>
    public (int Min, int Max) RetryTimeoutRange { get; init; } = (JobOptionBounds.RetryTimeoutMinMs, JobOptionBounds.RetryTimeoutMaxMs);

    /// <summary>Injected failures; all off by default.</summary>
    public FaultOptions Faults { get; init; } = new();

    /// <summary>Webhook delivery behaviour.</summary>
    public WebhookOptions Webhooks { get; init; } = new();

    internal void Validate()
    {
        if (Port is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(Port), Port, "Port must be 0-65535.");
        }

        if (Accounts.Count == 0)
        {
            throw new ArgumentException("At least one account is needed.", nameof(Accounts));
        }

        foreach (EmulatorAccount account in Accounts)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(account.Token, nameof(Accounts));
            _ = EmulatorPlans.ConcurrencyOf(account.Plan);
        }

        if (TaskLatencyMin < TimeSpan.Zero || TaskLatencyMax < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(TaskLatencyMin), "Task latencies must not be negative.");
        }

        if (ContentBytes is < 0 or > 256 * 1024 * 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(ContentBytes), ContentBytes, "ContentBytes must be 0 to 256 MiB.");
        }

        CheckShare(TaskErrorShare, nameof(TaskErrorShare));
        CheckShare(TaskRotateShare, nameof(TaskRotateShare));
        Faults.Validate();
    }

    internal static void CheckShare(double value, string name)
    {
        if (value is < 0 or > 1 || double.IsNaN(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} is a share between 0 and 1.");
        }
    }
}

/// <summary>How a job's status is derived once every task is terminal.</summary>
public enum JobStatusRule
{
    /// <summary><c>success</c> when at least one task succeeded, otherwise <c>error</c> (async-api.md §7 recommendation).</summary>
    SuccessIfAnyTaskSucceeded,

    /// <summary><c>success</c> only when every task succeeded, otherwise <c>error</c>.</summary>
    SuccessIfAllTasksSucceeded,
}

/// <summary>
/// Failures injected into API responses, each a share (0–1) of requests drawn from a seeded generator.
/// 429 and 5xx answers are decided before a request is processed, so a create answered that way created no job.
/// Dropped connections and truncated bodies happen after processing: a create that fails that way did create
/// its job, which is exactly the ambiguity a client must reconcile. The faults of a server that is late, slow or
/// inconsistent (commit then fail, list lag, ...) are in FaultOptions.Server.cs.
/// </summary>
public sealed partial class FaultOptions
{
    /// <summary>Share answered 429 with <c>Retry-After</c>.</summary>
    public double RateLimitShare { get; init; }

    /// <summary>Seconds sent in <c>Retry-After</c> with injected 429s.</summary>
    public int RetryAfterSeconds { get; init; } = 1;

    /// <summary>Share answered 500, 502 or 503.</summary>
    public double ServerErrorShare { get; init; }

    /// <summary>Share whose connection is dropped before any response byte.</summary>
    public double DropShare { get; init; }

    /// <summary>Share whose body is cut off halfway (declared length not reached, then the connection is aborted).</summary>
    public double TruncateShare { get; init; }

    /// <summary>Share answered only after <see cref="SlowDelay"/>.</summary>
    public double SlowShare { get; init; }

    /// <summary>Delay of slow answers (default 5 s).</summary>
    public TimeSpan SlowDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Requests per second allowed per token before 429 (0 = unlimited).</summary>
    public int RequestsPerSecondPerToken { get; init; }

    /// <summary>Seed of the fault generator (default: the emulator seed).</summary>
    public int? Seed { get; init; }

    /// <summary>True when any fault is on.</summary>
    public bool Any => AnyPerRequest || AnyServerFault;

    // The faults drawn for every request, before it is processed.
    internal bool AnyPerRequest => RateLimitShare + ServerErrorShare + DropShare + TruncateShare + SlowShare > 0 || RequestsPerSecondPerToken > 0;

    internal void Validate()
    {
        EmulatorOptions.CheckShare(RateLimitShare, nameof(RateLimitShare));
        EmulatorOptions.CheckShare(ServerErrorShare, nameof(ServerErrorShare));
        EmulatorOptions.CheckShare(DropShare, nameof(DropShare));
        EmulatorOptions.CheckShare(TruncateShare, nameof(TruncateShare));
        EmulatorOptions.CheckShare(SlowShare, nameof(SlowShare));
        if (RateLimitShare + ServerErrorShare + DropShare + TruncateShare + SlowShare > 1)
        {
            throw new ArgumentException("Fault shares add up to more than 1.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(RequestsPerSecondPerToken);
        ArgumentOutOfRangeException.ThrowIfNegative(RetryAfterSeconds);
        ValidateServerFaults();
    }
}

/// <summary>
/// Webhook delivery: one POST of the task details per terminal task, transport failures and 5xx retried along
/// <see cref="RetryLadder"/>, a 404/410 retried once after <see cref="GoneRetryDelay"/>, then <c>failed</c>.
/// </summary>
public sealed class WebhookOptions
{
    /// <summary>Waits before each retry of a transport failure or 5xx (default 0.5 s, 2 s, 8 s).</summary>
    public IReadOnlyList<TimeSpan> RetryLadder { get; init; } = [TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(8)];

    /// <summary>Wait before the single retry after a 404/410 (the real service waits about an hour).</summary>
    public TimeSpan GoneRetryDelay { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Time allowed for one delivery attempt.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ScrapeDo.Lean.Hosting;

/// <summary>Thresholds of the Scrape.do health check (<c>AddHealthChecks().AddScrapeDo()</c>).</summary>
public sealed class ScrapeDoHealthCheckOptions
{
    /// <summary>
    /// Degraded when the account's remaining credits fall below this (default 0: never degraded on credits).
    /// </summary>
    public long MinimumCredits { get; set; }

    /// <summary>
    /// Degraded once checks have seen no free async slot for at least this long (default 5 minutes); a full account
    /// for a moment is normal under load, a full account for minutes means jobs queue. <see cref="Timeout.InfiniteTimeSpan"/>
    /// turns this off.
    /// </summary>
    public TimeSpan NoFreeSlotTolerance { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long one answer of <c>/api/v1/me</c> (or its failure) serves the checks that follow (default 5 s); checks
    /// that run while a call is under way share it. A health endpoint is often open to anyone: without this, each
    /// request to it would cost a token-bearing API call, counted against the account's rate limit.
    /// <see cref="TimeSpan.Zero"/>: every check makes its own call unless one is under way.
    /// </summary>
    public TimeSpan ReuseResultFor { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Calls <c>GET /api/v1/me</c> (through <see cref="AccountProbe"/>): Unhealthy when the token is refused or the API
/// cannot be reached, Degraded when it answers 429, when no async slot has been free for
/// <see cref="ScrapeDoHealthCheckOptions.NoFreeSlotTolerance"/> or credits are under
/// <see cref="ScrapeDoHealthCheckOptions.MinimumCredits"/>, Healthy otherwise.
/// </summary>
internal sealed class ScrapeDoHealthCheck(AccountProbe probe, ScrapeDoHealthCheckOptions options, NoFreeSlotTracker tracker) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        (AccountInfo? found, ScrapeDoException? failure, DateTimeOffset at, _) = await probe.GetAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        if (failure is ScrapeDoApiException refused && (refused.IsUnauthorized || (int)refused.StatusCode == 403))
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"Scrape.do refused the API token (HTTP {(int)refused.StatusCode}).");
        }

        if (failure is ScrapeDoApiException { StatusCode: System.Net.HttpStatusCode.TooManyRequests } limited)
        {
            // The API answered and took the token: the account is rate limited (or out of credits), which a liveness
            // probe must not read as a dead service to restart.
            return HealthCheckResult.Degraded("Scrape.do answered HTTP 429 (rate limited or out of credits).", limited);
        }

        if (found is not { } account)
        {
            // The exception message is already scrubbed of the token.
            return new HealthCheckResult(context.Registration.FailureStatus, "The Scrape.do API could not be reached or answered with an error.", failure);
        }

        var data = new Dictionary<string, object>
        {
            ["availableCredits"] = account.AvailableCredits,
            ["freeConcurrency"] = account.FreeConcurrency,
            ["totalConcurrency"] = account.TotalConcurrency,
            ["activeJobs"] = account.ActiveJobs,
        };

        // Timed by the answer, not the check: an answer served again is the same observation.
        TimeSpan? full = tracker.Observe(account.FreeConcurrency <= 0, at);
        if (full is { } fullFor && options.NoFreeSlotTolerance != Timeout.InfiniteTimeSpan && fullFor >= options.NoFreeSlotTolerance)
        {
            return HealthCheckResult.Degraded($"No async slot has been free for {fullFor.TotalSeconds:0} s ({account.TotalConcurrency} in use).", data: data);
        }

        if (account.AvailableCredits < options.MinimumCredits)
        {
            return HealthCheckResult.Degraded($"Credits are low: {account.AvailableCredits} left, floor {options.MinimumCredits}.", data: data);
        }

        return HealthCheckResult.Healthy($"{account.FreeConcurrency} of {account.TotalConcurrency} async slots free, {account.AvailableCredits} credits.", data);
    }
}

/// <summary>
/// The account call of one check registration and client: checks that run while it is under way share it, and its
/// answer (or failure) serves the checks of the next <see cref="ScrapeDoHealthCheckOptions.ReuseResultFor"/>, timed on
/// the monotonic clock (a wall clock set back must not keep an old answer). Sent once, outside the client's retry
/// budget (<see cref="ScrapeDoClient.ProbeAccountAsync"/>): probes through an outage must not spend the retries of the
/// application's own calls. No single check's token cancels it, as others may wait on it; it gives up after
/// <paramref name="callTimeout"/> (the check's own timeout), so a connection that never answers is not shared by every
/// later check.
/// </summary>
internal sealed class AccountProbe(ScrapeDoClient client, TimeSpan reuseFor, TimeSpan callTimeout)
{
    private readonly Lock _gate = new();
    private Task<Result>? _current;

    /// <summary>An answer (<see cref="Account"/>) or a failure, when it came (<see cref="At"/>, for the no-free-slot
    /// tracker) and its monotonic time stamp (<see cref="Stamp"/>, for the reuse window).</summary>
    public readonly record struct Result(AccountInfo? Account, ScrapeDoException? Failure, DateTimeOffset At, long Stamp);

    /// <summary>The call under way, the last answer while it is fresh, or a new call.</summary>
    public Task<Result> GetAsync()
    {
        lock (_gate)
        {
            bool reuse = _current is { } current
                && (!current.IsCompleted || (current.IsCompletedSuccessfully && client.TimeProvider.GetElapsedTime(current.Result.Stamp) < reuseFor));
            if (!reuse)
            {
                _current = CallAsync();
            }

            return _current!;
        }
    }

    private async Task<Result> CallAsync()
    {
        // Off the caller's thread and lock: the call starts after GetAsync has stored its task.
        await Task.Yield();
        using var giveUp = new CancellationTokenSource(Timeout.InfiniteTimeSpan, client.TimeProvider);
        giveUp.CancelAfter(callTimeout);
        try
        {
            AccountInfo account = await client.ProbeAccountAsync(giveUp.Token).ConfigureAwait(false);
            return new Result(account, null, client.TimeProvider.GetUtcNow(), client.TimeProvider.GetTimestamp());
        }
        catch (ScrapeDoException ex)
        {
            return new Result(null, ex, client.TimeProvider.GetUtcNow(), client.TimeProvider.GetTimestamp());
        }
        catch (OperationCanceledException ex) when (giveUp.IsCancellationRequested)
        {
            var late = new ScrapeDoTimeoutException($"Scrape.do GetAccount did not answer within the health check's timeout of {callTimeout.TotalSeconds:0.###} s.", ScrapeDoOperation.GetAccount, callTimeout, null, null, 1, ex);
            return new Result(null, late, client.TimeProvider.GetUtcNow(), client.TimeProvider.GetTimestamp());
        }
    }
}

/// <summary>Remembers since when checks have seen the account with no free slot (one per registration).</summary>
internal sealed class NoFreeSlotTracker
{
    private readonly Lock _gate = new();
    private DateTimeOffset? _fullSince;

    /// <summary>Records one observation; returns how long the account has been full, or null when a slot is free.</summary>
    public TimeSpan? Observe(bool full, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (!full)
            {
                _fullSince = null;
                return null;
            }

            _fullSince ??= now;
            return now - _fullSince.Value;
        }
    }
}

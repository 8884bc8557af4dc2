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
}

/// <summary>
/// Calls <c>GET /api/v1/me</c>: Unhealthy when the token is refused or the API cannot be reached, Degraded when no async
/// slot has been free for <see cref="ScrapeDoHealthCheckOptions.NoFreeSlotTolerance"/> or credits are under
/// <see cref="ScrapeDoHealthCheckOptions.MinimumCredits"/>, Healthy otherwise.
/// </summary>
internal sealed class ScrapeDoHealthCheck(ScrapeDoClient client, ScrapeDoHealthCheckOptions options, NoFreeSlotTracker tracker) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        AccountInfo account;
        try
        {
            account = await client.GetAccountAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ScrapeDoApiException ex) when (ex.IsUnauthorized || (int)ex.StatusCode == 403)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"Scrape.do refused the API token (HTTP {(int)ex.StatusCode}).");
        }
        catch (ScrapeDoException ex)
        {
            // The exception message is already scrubbed of the token.
            return new HealthCheckResult(context.Registration.FailureStatus, "The Scrape.do API could not be reached or answered with an error.", ex);
        }

        var data = new Dictionary<string, object>
        {
            ["availableCredits"] = account.AvailableCredits,
            ["freeConcurrency"] = account.FreeConcurrency,
            ["totalConcurrency"] = account.TotalConcurrency,
            ["activeJobs"] = account.ActiveJobs,
        };

        DateTimeOffset now = client.TimeProvider.GetUtcNow();
        TimeSpan? full = tracker.Observe(account.FreeConcurrency <= 0, now);
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

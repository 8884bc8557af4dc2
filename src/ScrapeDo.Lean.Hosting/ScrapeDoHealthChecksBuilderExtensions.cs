using Microsoft.Extensions.Diagnostics.HealthChecks;
using ScrapeDo.Lean;
using ScrapeDo.Lean.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the Scrape.do health check.</summary>
public static class ScrapeDoHealthChecksBuilderExtensions
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Adds a check of the Scrape.do account through the registered <see cref="ScrapeDoClient"/> (see
    /// <c>AddScrapeDo</c>): Unhealthy (or <paramref name="failureStatus"/>) when the token is refused or the API is
    /// unreachable; Degraded when it answers 429, when no async slot has been free for
    /// <see cref="ScrapeDoHealthCheckOptions.NoFreeSlotTolerance"/> or credits are under
    /// <see cref="ScrapeDoHealthCheckOptions.MinimumCredits"/>; Healthy otherwise. Checks close together share one
    /// call (<see cref="ScrapeDoHealthCheckOptions.ReuseResultFor"/>), sent once, outside the client's retry budget.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name (default <c>scrapedo</c>).</param>
    /// <param name="configure">Sets the thresholds.</param>
    /// <param name="failureStatus">Status reported on failure (default Unhealthy).</param>
    /// <param name="tags">Tags to filter checks by.</param>
    /// <param name="timeout">
    /// Time allowed for the check (default 10 s): a probe of an unreachable API then reports failure in time for a
    /// readiness probe, instead of after the client's retries and per-attempt timeouts (minutes with the defaults).
    /// <see cref="Timeout.InfiniteTimeSpan"/> lets the client's own limits decide.
    /// </param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddScrapeDo(
        this IHealthChecksBuilder builder,
        string name = "scrapedo",
        Action<ScrapeDoHealthCheckOptions>? configure = null,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null,
        TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var options = new ScrapeDoHealthCheckOptions();
        configure?.Invoke(options);
        if (options.NoFreeSlotTolerance < TimeSpan.Zero && options.NoFreeSlotTolerance != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(configure), options.NoFreeSlotTolerance, "ScrapeDoHealthCheckOptions.NoFreeSlotTolerance must be zero or more, or Timeout.InfiniteTimeSpan to turn it off.");
        }

        if (options.MinimumCredits < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(configure), options.MinimumCredits, "ScrapeDoHealthCheckOptions.MinimumCredits must not be negative.");
        }

        if (options.ReuseResultFor < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(configure), options.ReuseResultFor, "ScrapeDoHealthCheckOptions.ReuseResultFor must be zero or more.");
        }

        // One tracker per registration ("no free slot for N minutes" spans several checks), and one probe per
        // registration and client, so checks close together share one API call: keyed by the client, since two
        // providers built from one collection (a test host, a rebuilt container) each have their own.
        var tracker = new NoFreeSlotTracker();
        var probes = new System.Runtime.CompilerServices.ConditionalWeakTable<ScrapeDoClient, AccountProbe>();
        TimeSpan checkTimeout = timeout ?? DefaultTimeout;
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new ScrapeDoHealthCheck(
                probes.GetValue(sp.GetRequiredService<ScrapeDoClient>(), client => new AccountProbe(client, options.ReuseResultFor, checkTimeout)),
                options,
                tracker),
            failureStatus,
            tags,
            checkTimeout));
    }
}

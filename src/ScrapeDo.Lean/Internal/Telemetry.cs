using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ScrapeDo.Lean.Internal;

/// <summary>
/// <see cref="ActivitySource"/> and <see cref="Meter"/> named <c>ScrapeDo.Lean</c>; OpenTelemetry (or dotnet-counters)
/// picks them up by name, with no dependency here. Instruments cost nothing while nobody listens.
/// </summary>
internal static class Telemetry
{
    public const string Name = "ScrapeDo.Lean";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);
    public static readonly Counter<long> Requests = Meter.CreateCounter<long>("scrapedo.http.requests", description: "HTTP attempts sent to the API.");
    public static readonly Counter<long> Retries = Meter.CreateCounter<long>("scrapedo.http.retries", description: "Retries scheduled.");
    public static readonly Counter<long> RateLimited = Meter.CreateCounter<long>("scrapedo.http.rate_limited", description: "HTTP 429 answers.");
    public static readonly Counter<long> JobsCreated = Meter.CreateCounter<long>("scrapedo.jobs.created", description: "Jobs created by runs.");
    public static readonly Counter<long> Outcomes = Meter.CreateCounter<long>("scrapedo.tasks.outcomes", description: "Task outcomes delivered, by outcome.");
    public static readonly Counter<long> CreditsSpent = Meter.CreateCounter<long>("scrapedo.credits.spent", description: "Estimated credits of the jobs runs created (by the credit table).");
    public static readonly Counter<long> ContentBytes = Meter.CreateCounter<long>("scrapedo.tasks.content_bytes", unit: "By", description: "Task content bytes fetched.");
}

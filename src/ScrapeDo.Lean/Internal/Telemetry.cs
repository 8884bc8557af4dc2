using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ScrapeDo.Lean.Internal;

/// <summary>
/// The <see cref="ActivitySource"/> and <see cref="Meter"/> named in <see cref="ScrapeDoTelemetry"/>; OpenTelemetry (or
/// dotnet-counters) picks them up by name, with no dependency here. Instruments cost nothing while nobody listens.
/// </summary>
internal static class Telemetry
{
    public const string Name = ScrapeDoTelemetry.ActivitySourceName;

    public static readonly ActivitySource Source = new(ScrapeDoTelemetry.ActivitySourceName);
    public static readonly Meter Meter = new(ScrapeDoTelemetry.MeterName);
    public static readonly Counter<long> Requests = Meter.CreateCounter<long>(ScrapeDoTelemetry.RequestsInstrument, description: "HTTP attempts sent to the API.");
    public static readonly Counter<long> Retries = Meter.CreateCounter<long>(ScrapeDoTelemetry.RetriesInstrument, description: "Retries scheduled.");
    public static readonly Counter<long> RateLimited = Meter.CreateCounter<long>(ScrapeDoTelemetry.RateLimitedInstrument, description: "HTTP 429 answers.");
    public static readonly Counter<long> JobsCreated = Meter.CreateCounter<long>(ScrapeDoTelemetry.JobsCreatedInstrument, description: "Jobs created by runs.");
    public static readonly Counter<long> Outcomes = Meter.CreateCounter<long>(ScrapeDoTelemetry.OutcomesInstrument, description: "Task outcomes delivered, by outcome.");
    public static readonly Counter<long> CreditsSpent = Meter.CreateCounter<long>(ScrapeDoTelemetry.CreditsSpentInstrument, description: "Estimated credits of the jobs runs created (by the credit table).");
    public static readonly Counter<long> ContentBytes = Meter.CreateCounter<long>(ScrapeDoTelemetry.ContentBytesInstrument, unit: "By", description: "Task content bytes fetched.");
}

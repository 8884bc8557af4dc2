namespace ScrapeDo.Lean;

/// <summary>
/// Names under which ScrapeDo.Lean publishes traces and metrics through <see cref="System.Diagnostics.ActivitySource"/>
/// and <see cref="System.Diagnostics.Metrics.Meter"/>, so OpenTelemetry can subscribe without this library depending
/// on it: <c>tracing.AddSource(ScrapeDoTelemetry.ActivitySourceName)</c> and
/// <c>metrics.AddMeter(ScrapeDoTelemetry.MeterName)</c>.
/// </summary>
public static class ScrapeDoTelemetry
{
    /// <summary>Name of the <see cref="System.Diagnostics.ActivitySource"/> (spans <c>scrapedo.job</c>, <c>scrapedo.poll</c>, <c>scrapedo.task.fetch</c>).</summary>
    public const string ActivitySourceName = "ScrapeDo.Lean";

    /// <summary>Name of the <see cref="System.Diagnostics.Metrics.Meter"/> (instruments <c>scrapedo.*</c>).</summary>
    public const string MeterName = "ScrapeDo.Lean";

    /// <summary>Counter of HTTP attempts sent to the API, retries included.</summary>
    public const string RequestsInstrument = "scrapedo.http.requests";

    /// <summary>Counter of retries scheduled.</summary>
    public const string RetriesInstrument = "scrapedo.http.retries";

    /// <summary>Counter of HTTP 429 answers.</summary>
    public const string RateLimitedInstrument = "scrapedo.http.rate_limited";

    /// <summary>Counter of jobs created by runs.</summary>
    public const string JobsCreatedInstrument = "scrapedo.jobs.created";

    /// <summary>Counter of task outcomes delivered by runs, tagged <c>outcome</c>.</summary>
    public const string OutcomesInstrument = "scrapedo.tasks.outcomes";

    /// <summary>Counter: estimated credits of the jobs runs created, by the credit table.</summary>
    public const string CreditsSpentInstrument = "scrapedo.credits.spent";

    /// <summary>Counter of task content bytes fetched (unit <c>By</c>).</summary>
    public const string ContentBytesInstrument = "scrapedo.tasks.content_bytes";
}

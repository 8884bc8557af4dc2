using Microsoft.Extensions.Logging;

namespace ScrapeDo.Lean.Internal;

/// <summary>
/// Every log line of the library, source-generated so a disabled level costs one <c>IsEnabled</c> check and no
/// allocation. Event ids are stable (dashboards and alerts key on them): 1000–1099 the HTTP client, 1100–1199 the
/// runner, 1200–1299 webhooks (logged by the ASP.NET Core endpoint). Nothing here is logged per successful call at Information or above, and no message
/// carries the token (exception messages are scrubbed by the pipeline before they get here).
/// </summary>
internal static partial class Log
{
    /// <summary>Category of the client's logger.</summary>
    public const string ClientCategory = "ScrapeDo.Lean.ScrapeDoClient";

    /// <summary>Category of the runner's logger.</summary>
    public const string RunnerCategory = "ScrapeDo.Lean.ScrapeDoRunner";

    // ---- HTTP client (ApiPipeline) ----

    [LoggerMessage(EventId = 1001, EventName = "RetryScheduled", Level = LogLevel.Information,
        Message = "Scrape.do {Operation} attempt {Attempt} failed ({Reason}); retrying in {DelayMs} ms")]
    public static partial void RetryScheduled(ILogger logger, ScrapeDoOperation operation, int attempt, string reason, long delayMs);

    [LoggerMessage(EventId = 1002, EventName = "RateLimited", Level = LogLevel.Warning,
        Message = "Scrape.do {Operation} was rate-limited (HTTP 429) on attempt {Attempt}; Retry-After {RetryAfterMs} ms (-1: none sent)")]
    public static partial void RateLimited(ILogger logger, ScrapeDoOperation operation, int attempt, long retryAfterMs);

    [LoggerMessage(EventId = 1003, EventName = "CreateOutcomeUnknown", Level = LogLevel.Warning,
        Message = "Scrape.do CreateJob failed after {Attempts} attempt(s) and it is unknown whether the job was created; reconcile (list recent jobs) before resubmitting")]
    public static partial void CreateOutcomeUnknown(ILogger logger, int attempts, Exception exception);

    // ---- Runner (to be wired by the runner; see the hosting report) ----

    [LoggerMessage(EventId = 1101, EventName = "ReconcileFound", Level = LogLevel.Information,
        Message = "Job for chunk {Chunk} found by reconciliation as {JobId} ({TaskCount} tasks); not resubmitted")]
    public static partial void ReconcileFound(ILogger logger, int chunk, string jobId, int taskCount);

    [LoggerMessage(EventId = 1102, EventName = "ReconcileResubmitted", Level = LogLevel.Warning,
        Message = "No job for chunk {Chunk} found by reconciliation (submitted at {SubmittedAt:o}); submitting it again")]
    public static partial void ReconcileResubmitted(ILogger logger, int chunk, DateTimeOffset submittedAt);

    [LoggerMessage(EventId = 1103, EventName = "ResumeSummary", Level = LogLevel.Information,
        Message = "Resuming run from journal: {Chunks} chunk(s) recorded ({JobsCreated} with a job, {Failed} failed, {Unanswered} submitted without an answer), {Delivered} outcome(s) already delivered")]
    public static partial void ResumeSummary(ILogger logger, int chunks, int jobsCreated, int failed, int unanswered, int delivered);

    [LoggerMessage(EventId = 1104, EventName = "JournalFailed", Level = LogLevel.Error,
        Message = "Writing the run journal failed ({Operation}); the run stops because it could no longer be resumed safely")]
    public static partial void JournalFailed(ILogger logger, string operation, Exception exception);

    [LoggerMessage(EventId = 1105, EventName = "WebhookSourceFailed", Level = LogLevel.Warning,
        Message = "The webhook deliveries source failed; polling continues to deliver every task")]
    public static partial void WebhookSourceFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1107, EventName = "JobFenceUnavailable", Level = LogLevel.Warning,
        Message = "The jobs that existed before this run could not be listed ({Reason}); a create whose answer is lost may be matched to an earlier job with the same targets")]
    public static partial void JobFenceUnavailable(ILogger logger, string reason);

    [LoggerMessage(EventId = 1108, EventName = "TargetSourceAbandoned", Level = LogLevel.Warning,
        Message = "The run's target source did not stop within 1 s of the cancellation (it does not observe the token); the run ends without waiting for it, and what it returns later is dropped")]
    public static partial void TargetSourceAbandoned(ILogger logger);

    [LoggerMessage(EventId = 1106, EventName = "RunCompleted", Level = LogLevel.Debug,
        Message = "Run completed: {Delivered} outcome(s), {Failed} failed, {HttpRequests} HTTP request(s)")]
    public static partial void RunCompleted(ILogger logger, long delivered, long failed, long httpRequests);
}

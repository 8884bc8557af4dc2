using System.Net;

namespace ScrapeDo.Lean;

/// <summary>What the client was doing when a call failed.</summary>
public enum ScrapeDoOperation
{
    /// <summary><c>POST /api/v1/jobs</c>.</summary>
    CreateJob,
    /// <summary><c>GET /api/v1/jobs/{jobID}</c>.</summary>
    GetJob,
    /// <summary><c>GET /api/v1/jobs/{jobID}/{taskID}</c>.</summary>
    GetTask,
    /// <summary><c>DELETE /api/v1/jobs/{jobID}</c>.</summary>
    CancelJob,
    /// <summary><c>GET /api/v1/jobs</c>.</summary>
    ListJobs,
    /// <summary><c>GET /api/v1/me</c>.</summary>
    GetAccount,
}

/// <summary>
/// Base of every failure the client reports (except caller cancellation, which stays
/// <see cref="OperationCanceledException"/>). Messages never contain the API token.
/// </summary>
public class ScrapeDoException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ScrapeDoException(string message, ScrapeDoOperation operation, string? jobId, string? taskId, int attempts, Exception? innerException = null)
        : base(message, innerException)
    {
        Operation = operation;
        JobId = jobId;
        TaskId = taskId;
        Attempts = attempts;
    }

    /// <summary>The call that failed.</summary>
    public ScrapeDoOperation Operation { get; }

    /// <summary>The job the call was about, if any.</summary>
    public string? JobId { get; }

    /// <summary>The task the call was about, if any.</summary>
    public string? TaskId { get; }

    /// <summary>How many attempts were made before giving up.</summary>
    public int Attempts { get; }

    /// <summary>
    /// True for a create-job call that may or may not have created a (billed) job: the request may have reached
    /// the server, but no answer proves either way. Reconcile (for example by listing recent jobs) before
    /// submitting the same targets again.
    /// </summary>
    public bool CreateOutcomeUnknown { get; init; }
}

/// <summary>The API answered with a non-success status, or with a body that could not be understood.</summary>
public sealed class ScrapeDoApiException : ScrapeDoException
{
    /// <summary>Creates the exception.</summary>
    public ScrapeDoApiException(string message, ScrapeDoOperation operation, HttpStatusCode statusCode, int? errorCode, string? errorText,
        TimeSpan? retryAfter, string? bodyExcerpt, string? jobId, string? taskId, int attempts, Exception? innerException = null)
        : base(message, operation, jobId, taskId, attempts, innerException)
    {
        StatusCode = statusCode;
        ErrorCode = errorCode;
        ErrorText = errorText;
        RetryAfter = retryAfter;
        BodyExcerpt = bodyExcerpt;
    }

    /// <summary>The HTTP status of the response (200 when a success response had an unreadable body).</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The API's <c>Code</c> field, when the body was the documented error object.</summary>
    public int? ErrorCode { get; }

    /// <summary>The API's <c>Error</c> text, when the body was the documented error object (control characters, CR and
    /// LF among them, replaced by spaces).</summary>
    public string? ErrorText { get; }

    /// <summary>The server's <c>Retry-After</c> hint, if it sent one.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>The first bytes of the response body as text (at most 512 characters), for diagnostics.</summary>
    public string? BodyExcerpt { get; }

    /// <summary>True when the response was 2xx but its body was malformed, truncated or too large.</summary>
    public bool IsMalformedResponse => (int)StatusCode is >= 200 and < 300;

    /// <summary>400: the request was invalid.</summary>
    public bool IsBadRequest => StatusCode == HttpStatusCode.BadRequest;

    /// <summary>401: the token is missing or invalid.</summary>
    public bool IsUnauthorized => StatusCode == HttpStatusCode.Unauthorized;

    /// <summary>404: the job or task does not exist (or belongs to another token).</summary>
    public bool IsNotFound => StatusCode == HttpStatusCode.NotFound;

    /// <summary>406: a cancel was refused because the job already finished.</summary>
    public bool IsNotAcceptable => StatusCode == HttpStatusCode.NotAcceptable;

    /// <summary>410: the task's content is past its retention and no longer available.</summary>
    public bool IsGone => StatusCode == HttpStatusCode.Gone;

    /// <summary>429: rate limited.</summary>
    public bool IsRateLimited => StatusCode == HttpStatusCode.TooManyRequests;

    /// <summary>Any 5xx status.</summary>
    public bool IsServerError => (int)StatusCode >= 500;
}

/// <summary>An attempt exceeded <see cref="ScrapeDoClientOptions.AttemptTimeout"/> (after any allowed retries).</summary>
public sealed class ScrapeDoTimeoutException : ScrapeDoException
{
    /// <summary>Creates the exception.</summary>
    public ScrapeDoTimeoutException(string message, ScrapeDoOperation operation, TimeSpan attemptTimeout, string? jobId, string? taskId, int attempts, Exception? innerException = null)
        : base(message, operation, jobId, taskId, attempts, innerException)
    {
        AttemptTimeout = attemptTimeout;
    }

    /// <summary>The per-attempt limit that was exceeded.</summary>
    public TimeSpan AttemptTimeout { get; }
}

/// <summary>
/// The request could not be completed at the network level (refused, reset, dropped, TLS failure), or the HTTP handler
/// refused it before anything was sent (its message then says "could not be sent"; the inner exception is the
/// handler's).
/// </summary>
public sealed class ScrapeDoTransportException : ScrapeDoException
{
    /// <summary>Creates the exception.</summary>
    public ScrapeDoTransportException(string message, ScrapeDoOperation operation, string? jobId, string? taskId, int attempts, Exception? innerException = null)
        : base(message, operation, jobId, taskId, attempts, innerException)
    {
    }

    /// <summary>The handler refused the request before sending it: trying again is refused again, so no retry rule
    /// (the client's or the runner's) takes it for a passing failure.</summary>
    internal bool RefusedBeforeSending { get; init; }
}

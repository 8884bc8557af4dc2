using System.Text.Json;
using System.Text.Json.Serialization;

namespace ScrapeDo.Lean;

/// <summary>Answer of <c>POST /api/v1/jobs</c>.</summary>
public sealed class CreateJobResponse : IJsonOnDeserialized
{
    /// <summary>The new job's id.</summary>
    [JsonPropertyName("JobID")]
    public string JobId { get; init; } = null!;

    /// <summary>Confirmation text.</summary>
    [JsonPropertyName("Message")]
    public string? Message { get; init; }

    /// <summary>One task id per target or plugin parameter set, in the same order.</summary>
    [JsonPropertyName("TaskIDs")]
    public IReadOnlyList<string> TaskIds { get; init => field = value ?? []; } = [];

    void IJsonOnDeserialized.OnDeserialized() => ResponseChecks.RequireId(JobId, "JobID");
}

/// <summary>A task as listed inside a job (<c>Tasks[]</c>).</summary>
public sealed class TaskSummary : IJsonOnDeserialized
{
    /// <summary>The task id.</summary>
    [JsonPropertyName("TaskID")]
    public string TaskId { get; init; } = null!;

    /// <summary>The target URL.</summary>
    [JsonPropertyName("URL")]
    public string? Url { get; init; }

    /// <summary>The task's status.</summary>
    [JsonPropertyName("Status")]
    public ScrapeDoStatus Status { get; init; }

    void IJsonOnDeserialized.OnDeserialized() => ResponseChecks.RequireId(TaskId, "TaskID");
}

/// <summary>A job with the status of each of its tasks (get job, list jobs).</summary>
public class JobDetails : IJsonOnDeserialized
{
    /// <summary>The job id.</summary>
    [JsonPropertyName("JobID")]
    public string JobId { get; init; } = null!;

    /// <summary>All task ids of the job.</summary>
    [JsonPropertyName("TaskIDs")]
    public IReadOnlyList<string> TaskIds { get; init => field = value ?? []; } = [];

    /// <summary>The job's aggregate status.</summary>
    [JsonPropertyName("Status")]
    public ScrapeDoStatus Status { get; init; }

    /// <summary>When the job started.</summary>
    [JsonPropertyName("StartTime")]
    public DateTimeOffset? StartTime { get; init; }

    /// <summary>When the job finished; null while it runs.</summary>
    [JsonPropertyName("EndTime")]
    public DateTimeOffset? EndTime { get; init; }

    /// <summary>Concurrency slots this job holds now.</summary>
    [JsonPropertyName("AcquiredConcurrency")]
    public int AcquiredConcurrency { get; init; }

    /// <summary>Per-job concurrency cap; 0 means no per-job limit.</summary>
    [JsonPropertyName("LimitConcurrency")]
    public int LimitConcurrency { get; init; }

    /// <summary>True once the job was canceled.</summary>
    [JsonPropertyName("Canceled")]
    public bool Canceled { get; init; }

    /// <summary>Each task's id, URL and status.</summary>
    [JsonPropertyName("Tasks")]
    public IReadOnlyList<TaskSummary> Tasks { get; init => field = value ?? []; } = [];

    void IJsonOnDeserialized.OnDeserialized() => ResponseChecks.RequireId(JobId, "JobID");
}

/// <summary>
/// Answer of <c>DELETE /api/v1/jobs/{jobID}</c>: the job after the cancel. Some deployments add
/// <see cref="Error"/>/<see cref="Code"/> when the cancel was not fully accepted.
/// </summary>
public sealed class CancelJobResponse : JobDetails
{
    /// <summary>An error text sent alongside a 200, if any.</summary>
    [JsonPropertyName("Error")]
    public string? Error { get; init; }

    /// <summary>An error code sent alongside a 200, if any.</summary>
    [JsonPropertyName("Code")]
    public int? Code { get; init; }
}

/// <summary>A task with its scraped content (get task, webhook body).</summary>
public sealed class TaskDetails : IJsonOnDeserialized
{
    /// <summary>The task id.</summary>
    [JsonPropertyName("TaskID")]
    public string TaskId { get; init; } = null!;

    /// <summary>The job id.</summary>
    [JsonPropertyName("JobID")]
    public string JobId { get; init; } = null!;

    /// <summary>The target URL (for plugin tasks, the URL the plugin used).</summary>
    [JsonPropertyName("URL")]
    public string? Url { get; init; }

    /// <summary>The task's status.</summary>
    [JsonPropertyName("Status")]
    public ScrapeDoStatus Status { get; init; }

    /// <summary>When processing began.</summary>
    [JsonPropertyName("StartTime")]
    public DateTimeOffset? StartTime { get; init; }

    /// <summary>When the task reached a terminal status.</summary>
    [JsonPropertyName("EndTime")]
    public DateTimeOffset? EndTime { get; init; }

    /// <summary>When the stored content stops being available.</summary>
    [JsonPropertyName("ExpiresAt")]
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>Last status change.</summary>
    [JsonPropertyName("UpdateTime")]
    public DateTimeOffset? UpdateTime { get; init; }

    /// <summary>True when <see cref="Content"/> is base64 (binary targets); decode before use.</summary>
    [JsonPropertyName("Base64EncodedContent")]
    public bool Base64EncodedContent { get; init; }

    /// <summary>HTTP status returned by the target; 0 before completion.</summary>
    [JsonPropertyName("StatusCode")]
    public int StatusCode { get; init; }

    /// <summary>The target's response headers.</summary>
    [JsonPropertyName("ResponseHeaders")]
    public IReadOnlyDictionary<string, string>? ResponseHeaders { get; init; }

    /// <summary>Scrape.do metadata (the wire key is <c>Scrape.do</c>, with a dot).</summary>
    [JsonPropertyName("Scrape.do")]
    public IReadOnlyDictionary<string, string>? ScrapeDoMetadata { get; init; }

    /// <summary>The page body as returned (base64 when <see cref="Base64EncodedContent"/>); empty until success.</summary>
    [JsonPropertyName("Content")]
    public TaskContent Content { get; init => field = value ?? TaskContent.Empty; } = TaskContent.Empty;

    /// <summary>Failure reason when the status is <c>error</c>.</summary>
    [JsonPropertyName("ErrorMessage")]
    public string? ErrorMessage { get; init; }

    /// <summary>Request trace identifier.</summary>
    [JsonPropertyName("TraceID")]
    public string? TraceId { get; init; }

    /// <summary>Webhook target copied from the job.</summary>
    [JsonPropertyName("WebhookURL")]
    public string? WebhookUrl { get; init; }

    /// <summary>Webhook delivery state.</summary>
    [JsonPropertyName("WebhookStatus")]
    public WebhookDeliveryStatus? WebhookStatus { get; init; }

    /// <summary>Time of the last webhook delivery attempt.</summary>
    [JsonPropertyName("WebhookRequestTime")]
    public DateTimeOffset? WebhookRequestTime { get; init; }

    /// <summary>The content as returned by the API (base64 text for binary targets).</summary>
    public string GetContentText() => Content.ToString();

    /// <summary>The content's bytes, base64-decoded when <see cref="Base64EncodedContent"/> is set.</summary>
    /// <exception cref="FormatException">The content is flagged base64 but is not valid base64.</exception>
    public byte[] GetContentBytes() => Content.GetBytes(Base64EncodedContent);

    /// <summary>Writes the content's (decoded) bytes to <paramref name="destination"/> without an intermediate copy.</summary>
    /// <param name="destination">Where the bytes go.</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    /// <returns>The number of bytes written.</returns>
    public ValueTask<long> CopyContentToAsync(Stream destination, CancellationToken cancellationToken = default) =>
        Content.CopyToAsync(destination, Base64EncodedContent, cancellationToken);

    internal TaskDetails WithoutContent() => new()
    {
        TaskId = TaskId, JobId = JobId, Url = Url, Status = Status, StartTime = StartTime, EndTime = EndTime, ExpiresAt = ExpiresAt,
        UpdateTime = UpdateTime, Base64EncodedContent = Base64EncodedContent, StatusCode = StatusCode, ResponseHeaders = ResponseHeaders,
        ScrapeDoMetadata = ScrapeDoMetadata, ErrorMessage = ErrorMessage, TraceId = TraceId, WebhookUrl = WebhookUrl,
        WebhookStatus = WebhookStatus, WebhookRequestTime = WebhookRequestTime,
    };

    void IJsonOnDeserialized.OnDeserialized()
    {
        ResponseChecks.RequireId(TaskId, "TaskID");
        ResponseChecks.RequireId(JobId, "JobID");
    }
}

/// <summary>One page of <c>GET /api/v1/jobs</c>.</summary>
public sealed class JobListPage
{
    /// <summary>The jobs on this page.</summary>
    [JsonPropertyName("Jobs")]
    public IReadOnlyList<JobDetails> Jobs { get; init => field = value ?? []; } = [];

    /// <summary>Total jobs matching the query.</summary>
    [JsonPropertyName("TotalCount")]
    public int TotalCount { get; init; }

    /// <summary>Effective page size.</summary>
    [JsonPropertyName("PageSize")]
    public int PageSize { get; init; }

    /// <summary>1-based page number.</summary>
    [JsonPropertyName("PageNumber")]
    public int PageNumber { get; init; }

    /// <summary>Number of pages.</summary>
    [JsonPropertyName("TotalPages")]
    public int TotalPages { get; init; }
}

/// <summary>Answer of <c>GET /api/v1/me</c>: async account and concurrency.</summary>
public sealed class AccountInfo
{
    /// <summary>Jobs not yet terminal.</summary>
    [JsonPropertyName("ActiveJobs")]
    public int ActiveJobs { get; init; }

    /// <summary>Remaining credits (the wire name is misspelled <c>AvaliableCredits</c>).</summary>
    [JsonPropertyName("AvaliableCredits")]
    public long AvailableCredits { get; init; }

    /// <summary>Async slots free now.</summary>
    [JsonPropertyName("FreeConcurrency")]
    public int FreeConcurrency { get; init; }

    /// <summary>Async concurrency of the plan.</summary>
    [JsonPropertyName("TotalConcurrency")]
    public int TotalConcurrency { get; init; }
}

/// <summary>The documented error body <c>{"Error": "...", "Code": N}</c>.</summary>
internal sealed class ApiErrorBody
{
    [JsonPropertyName("Error")]
    public string? Error { get; init; }

    [JsonPropertyName("Code")]
    public int? Code { get; init; }
}

internal static class ResponseChecks
{
    // Ids are checked here rather than with C# `required` members: for those, System.Text.Json allocates a tracking
    // bitmap per object (about 100 bytes per task summary on a 1000-task poll, measured), and an explicit null or empty
    // id must be caught anyway.
    public static void RequireId(string? value, string wireName)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new JsonException($"The response has no {wireName}.");
        }
    }
}

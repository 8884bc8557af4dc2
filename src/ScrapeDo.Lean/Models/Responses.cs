using System.Text.Json;
using System.Text.Json.Serialization;

namespace ScrapeDo.Lean;

/// <summary>Answer of <c>POST /api/v1/jobs</c>.</summary>
public sealed class CreateJobResponse : IJsonOnDeserialized
{
    /// <summary>The new job's id.</summary>
    [JsonInclude]
    [JsonPropertyName("JobID")]
    public string JobId { get; internal set; } = null!;

    /// <summary>Confirmation text.</summary>
    [JsonInclude]
    [JsonPropertyName("Message")]
    public string? Message { get; internal set; }

    /// <summary>One task id per target or plugin parameter set, in the same order.</summary>
    [JsonInclude]
    [JsonPropertyName("TaskIDs")]
    public IReadOnlyList<string> TaskIds { get; internal set => field = value ?? []; } = [];

    void IJsonOnDeserialized.OnDeserialized() => ResponseChecks.RequireId(JobId, "JobID");
}

/// <summary>A task as listed inside a job (<c>Tasks[]</c>).</summary>
public sealed class TaskSummary : IJsonOnDeserialized
{
    /// <summary>The task id.</summary>
    [JsonInclude]
    [JsonPropertyName("TaskID")]
    public string TaskId { get; internal set; } = null!;

    /// <summary>The target URL.</summary>
    [JsonInclude]
    [JsonPropertyName("URL")]
    public string? Url { get; internal set; }

    /// <summary>The task's status.</summary>
    [JsonInclude]
    [JsonPropertyName("Status")]
    public ScrapeDoStatus Status { get; internal set; }

    void IJsonOnDeserialized.OnDeserialized() => ResponseChecks.RequireId(TaskId, "TaskID");
}

/// <summary>A job with the status of each of its tasks (get job, list jobs).</summary>
public class JobDetails : IJsonOnDeserialized
{
    /// <summary>The job id.</summary>
    [JsonInclude]
    [JsonPropertyName("JobID")]
    public string JobId { get; internal set; } = null!;

    /// <summary>All task ids of the job.</summary>
    [JsonInclude]
    [JsonPropertyName("TaskIDs")]
    public IReadOnlyList<string> TaskIds { get; internal set => field = value ?? []; } = [];

    /// <summary>The job's aggregate status.</summary>
    [JsonInclude]
    [JsonPropertyName("Status")]
    public ScrapeDoStatus Status { get; internal set; }

    /// <summary>When the job started.</summary>
    [JsonInclude]
    [JsonPropertyName("StartTime")]
    public DateTimeOffset? StartTime { get; internal set; }

    /// <summary>When the job finished; null while it runs.</summary>
    [JsonInclude]
    [JsonPropertyName("EndTime")]
    public DateTimeOffset? EndTime { get; internal set; }

    /// <summary>Concurrency slots this job holds now.</summary>
    [JsonInclude]
    [JsonPropertyName("AcquiredConcurrency")]
    [JsonConverter(typeof(Internal.Json.NullAsZeroInt32Converter))]
    public int AcquiredConcurrency { get; internal set; }

    /// <summary>Per-job concurrency cap; 0 means no per-job limit.</summary>
    [JsonInclude]
    [JsonPropertyName("LimitConcurrency")]
    [JsonConverter(typeof(Internal.Json.NullAsZeroInt32Converter))]
    public int LimitConcurrency { get; internal set; }

    /// <summary>True once the job was canceled.</summary>
    [JsonInclude]
    [JsonPropertyName("Canceled")]
    [JsonConverter(typeof(Internal.Json.NullAsFalseConverter))]
    public bool Canceled { get; internal set; }

    /// <summary>Each task's id, URL and status.</summary>
    [JsonInclude]
    [JsonPropertyName("Tasks")]
    public IReadOnlyList<TaskSummary> Tasks { get; internal set => field = value ?? []; } = [];

    void IJsonOnDeserialized.OnDeserialized() => ResponseChecks.RequireId(JobId, "JobID");
}

/// <summary>
/// Answer of <c>DELETE /api/v1/jobs/{jobID}</c>: the job after the cancel. Some deployments add
/// <see cref="Error"/>/<see cref="Code"/> when the cancel was not fully accepted.
/// </summary>
public sealed class CancelJobResponse : JobDetails
{
    /// <summary>An error text sent alongside a 200, if any.</summary>
    [JsonInclude]
    [JsonPropertyName("Error")]
    public string? Error { get; internal set; }

    /// <summary>An error code sent alongside a 200, if any.</summary>
    [JsonInclude]
    [JsonPropertyName("Code")]
    public int? Code { get; internal set; }
}

/// <summary>A task with its scraped content (get task, webhook body).</summary>
public sealed class TaskDetails : IJsonOnDeserialized
{
    /// <summary>The task id.</summary>
    [JsonInclude]
    [JsonPropertyName("TaskID")]
    public string TaskId { get; internal set; } = null!;

    /// <summary>The job id.</summary>
    [JsonInclude]
    [JsonPropertyName("JobID")]
    public string JobId { get; internal set; } = null!;

    /// <summary>The target URL (for plugin tasks, the URL the plugin used).</summary>
    [JsonInclude]
    [JsonPropertyName("URL")]
    public string? Url { get; internal set; }

    /// <summary>The task's status.</summary>
    [JsonInclude]
    [JsonPropertyName("Status")]
    public ScrapeDoStatus Status { get; internal set; }

    /// <summary>When processing began.</summary>
    [JsonInclude]
    [JsonPropertyName("StartTime")]
    public DateTimeOffset? StartTime { get; internal set; }

    /// <summary>When the task reached a terminal status.</summary>
    [JsonInclude]
    [JsonPropertyName("EndTime")]
    public DateTimeOffset? EndTime { get; internal set; }

    /// <summary>When the stored content stops being available.</summary>
    [JsonInclude]
    [JsonPropertyName("ExpiresAt")]
    public DateTimeOffset? ExpiresAt { get; internal set; }

    /// <summary>Last status change.</summary>
    [JsonInclude]
    [JsonPropertyName("UpdateTime")]
    public DateTimeOffset? UpdateTime { get; internal set; }

    /// <summary>True when <see cref="Content"/> is base64 (binary targets); decode before use.</summary>
    [JsonInclude]
    [JsonPropertyName("Base64EncodedContent")]
    [JsonConverter(typeof(Internal.Json.NullAsFalseConverter))]
    public bool Base64EncodedContent { get; internal set; }

    /// <summary>HTTP status returned by the target; 0 before completion.</summary>
    [JsonInclude]
    [JsonPropertyName("StatusCode")]
    [JsonConverter(typeof(Internal.Json.NullAsZeroInt32Converter))]
    public int StatusCode { get; internal set; }

    /// <summary>The target's response headers, read-only: a small map may be one instance shared by several tasks and is
    /// not always a <see cref="Dictionary{TKey, TValue}"/>, so use it through this interface.</summary>
    [JsonInclude]
    [JsonPropertyName("ResponseHeaders")]
    public IReadOnlyDictionary<string, string>? ResponseHeaders { get; internal set; }

    /// <summary>Scrape.do metadata (the wire key is <c>Scrape.do</c>, with a dot), read-only like
    /// <see cref="ResponseHeaders"/>.</summary>
    [JsonInclude]
    [JsonPropertyName("Scrape.do")]
    public IReadOnlyDictionary<string, string>? ScrapeDoMetadata { get; internal set; }

    /// <summary>The page body as returned (base64 when <see cref="Base64EncodedContent"/>); empty until success.</summary>
    [JsonInclude]
    [JsonPropertyName("Content")]
    public TaskContent Content { get; internal set => field = value ?? TaskContent.Empty; } = TaskContent.Empty;

    /// <summary>Failure reason when the status is <c>error</c>.</summary>
    [JsonInclude]
    [JsonPropertyName("ErrorMessage")]
    public string? ErrorMessage { get; internal set; }

    /// <summary>Request trace identifier.</summary>
    [JsonInclude]
    [JsonPropertyName("TraceID")]
    public string? TraceId { get; internal set; }

    /// <summary>Webhook target copied from the job.</summary>
    [JsonInclude]
    [JsonPropertyName("WebhookURL")]
    public string? WebhookUrl { get; internal set; }

    /// <summary>Webhook delivery state.</summary>
    [JsonInclude]
    [JsonPropertyName("WebhookStatus")]
    public WebhookDeliveryStatus? WebhookStatus { get; internal set; }

    /// <summary>Time of the last webhook delivery attempt.</summary>
    [JsonInclude]
    [JsonPropertyName("WebhookRequestTime")]
    public DateTimeOffset? WebhookRequestTime { get; internal set; }

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
    [JsonInclude]
    [JsonPropertyName("Jobs")]
    public IReadOnlyList<JobDetails> Jobs { get; internal set => field = value ?? []; } = [];

    /// <summary>Total jobs matching the query.</summary>
    [JsonInclude]
    [JsonPropertyName("TotalCount")]
    [JsonConverter(typeof(Internal.Json.NullAsZeroInt32Converter))]
    public int TotalCount { get; internal set; }

    /// <summary>Effective page size.</summary>
    [JsonInclude]
    [JsonPropertyName("PageSize")]
    [JsonConverter(typeof(Internal.Json.NullAsZeroInt32Converter))]
    public int PageSize { get; internal set; }

    /// <summary>1-based page number.</summary>
    [JsonInclude]
    [JsonPropertyName("PageNumber")]
    [JsonConverter(typeof(Internal.Json.NullAsZeroInt32Converter))]
    public int PageNumber { get; internal set; }

    /// <summary>Number of pages.</summary>
    [JsonInclude]
    [JsonPropertyName("TotalPages")]
    [JsonConverter(typeof(Internal.Json.NullAsZeroInt32Converter))]
    public int TotalPages { get; internal set; }
}

/// <summary>Answer of <c>GET /api/v1/me</c>: async account and concurrency.</summary>
public sealed class AccountInfo
{
    /// <summary>Jobs not yet terminal.</summary>
    [JsonInclude]
    [JsonPropertyName("ActiveJobs")]
    [JsonConverter(typeof(Internal.Json.NullAsZeroInt32Converter))]
    public int ActiveJobs { get; internal set; }

    /// <summary>Remaining credits (the wire name is misspelled <c>AvaliableCredits</c>).</summary>
    [JsonInclude]
    [JsonPropertyName("AvaliableCredits")]
    [JsonConverter(typeof(Internal.Json.NullAsZeroInt64Converter))]
    public long AvailableCredits { get; internal set; }

    /// <summary>Async slots free now.</summary>
    [JsonInclude]
    [JsonPropertyName("FreeConcurrency")]
    [JsonConverter(typeof(Internal.Json.NullAsZeroInt32Converter))]
    public int FreeConcurrency { get; internal set; }

    /// <summary>Async concurrency of the plan.</summary>
    [JsonInclude]
    [JsonPropertyName("TotalConcurrency")]
    [JsonConverter(typeof(Internal.Json.NullAsZeroInt32Converter))]
    public int TotalConcurrency { get; internal set; }
}

/// <summary>The documented error body <c>{"Error": "...", "Code": N}</c>.</summary>
internal sealed class ApiErrorBody
{
    [JsonInclude]
    [JsonPropertyName("Error")]
    public string? Error { get; internal set; }

    [JsonInclude]
    [JsonPropertyName("Code")]
    public int? Code { get; internal set; }
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

using System.Text.Json.Serialization;
using Refit;

namespace ScrapeDo.Lean.Benchmarks;

// The peers' own models, as a user of HttpClient/Refit/Flurl would write them: plain classes, strings for statuses,
// the Content as a string. None of ScrapeDo.Lean's types are used by a peer column.
public sealed class PeerTaskSummary
{
    public string TaskID { get; set; } = "";
    public string? URL { get; set; }
    public string? Status { get; set; }
}

public sealed class PeerJob
{
    public string JobID { get; set; } = "";
    public List<string>? TaskIDs { get; set; }
    public string? Status { get; set; }
    public DateTimeOffset? StartTime { get; set; }
    public DateTimeOffset? EndTime { get; set; }
    public int AcquiredConcurrency { get; set; }
    public int LimitConcurrency { get; set; }
    public bool Canceled { get; set; }
    public List<PeerTaskSummary>? Tasks { get; set; }
}

public sealed class PeerTask
{
    public string TaskID { get; set; } = "";
    public string JobID { get; set; } = "";
    public string? URL { get; set; }
    public string? Status { get; set; }
    public DateTimeOffset? StartTime { get; set; }
    public DateTimeOffset? EndTime { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset? UpdateTime { get; set; }
    public bool Base64EncodedContent { get; set; }
    public int StatusCode { get; set; }
    public Dictionary<string, string>? ResponseHeaders { get; set; }

    [JsonPropertyName("Scrape.do")]
    [Newtonsoft.Json.JsonProperty("Scrape.do")]
    public Dictionary<string, string>? ScrapeDo { get; set; }

    public string? Content { get; set; }
    public string? ErrorMessage { get; set; }
    public string? TraceID { get; set; }
}

public sealed class PeerCreateRequest
{
    public List<string> Targets { get; set; } = [];
}

public sealed class PeerCreateResponse
{
    public string JobID { get; set; } = "";
    public string? Message { get; set; }
    public List<string>? TaskIDs { get; set; }
}

[Headers("Accept: application/json")]
public interface IPeerScrapeDoApi
{
    [Get("/api/v1/jobs/{jobId}")]
    Task<PeerJob> GetJob(string jobId, [Header("X-Token")] string token);

    [Get("/api/v1/jobs/{jobId}/{taskId}")]
    Task<PeerTask> GetTask(string jobId, string taskId, [Header("X-Token")] string token);

    [Post("/api/v1/jobs")]
    Task<PeerCreateResponse> CreateJob([Body] PeerCreateRequest request, [Header("X-Token")] string token);
}

// Size probe, the reference: the same job as ../Lean (create a job, poll it until done, fetch each task) with a raw
// HttpClient and a System.Text.Json source-generated context, as a careful hand-written app would do it.
// Published native AOT by .ci/size-probe; not meant to be run in CI.
using System.Net.Http.Json;
using System.Text.Json.Serialization;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: sizeprobe-raw BASE_URL URL...   (token in SCRAPEDO_TOKEN)");
    return 2;
}

using var http = new HttpClient { BaseAddress = new Uri(args[0]) };
http.DefaultRequestHeaders.Add("X-Token", Environment.GetEnvironmentVariable("SCRAPEDO_TOKEN"));
using HttpResponseMessage created = await http.PostAsJsonAsync("api/v1/jobs", new RawCreate { Targets = args[1..] }, RawJson.Default.RawCreate);
created.EnsureSuccessStatusCode();
RawCreated job = (await created.Content.ReadFromJsonAsync(RawJson.Default.RawCreated))!;
RawJob state;
do
{
    await Task.Delay(TimeSpan.FromSeconds(1));
    state = (await http.GetFromJsonAsync($"api/v1/jobs/{job.JobId}", RawJson.Default.RawJob))!;
}
while (state.Status is "queued" or "pending" or "running");

int failed = 0;
foreach (RawSummary summary in state.Tasks)
{
    RawTask task = (await http.GetFromJsonAsync($"api/v1/jobs/{job.JobId}/{summary.TaskId}", RawJson.Default.RawTask))!;
    failed += task.Status == "success" ? 0 : 1;
    Console.WriteLine($"{task.Status} {task.Url} {task.Content?.Length ?? 0}");
}

return failed == 0 ? 0 : 1;

internal sealed class RawCreate
{
    public string[] Targets { get; set; } = [];
}

internal sealed class RawCreated
{
    [JsonPropertyName("JobID")] public string JobId { get; set; } = "";
    [JsonPropertyName("TaskIDs")] public List<string> TaskIds { get; set; } = [];
}

internal sealed class RawJob
{
    [JsonPropertyName("JobID")] public string JobId { get; set; } = "";
    public string Status { get; set; } = "";
    public List<RawSummary> Tasks { get; set; } = [];
}

internal sealed class RawSummary
{
    [JsonPropertyName("TaskID")] public string TaskId { get; set; } = "";
    public string Status { get; set; } = "";
}

internal sealed class RawTask
{
    [JsonPropertyName("TaskID")] public string TaskId { get; set; } = "";
    [JsonPropertyName("URL")] public string? Url { get; set; }
    public string Status { get; set; } = "";
    public int StatusCode { get; set; }
    public string? Content { get; set; }
    public DateTimeOffset? EndTime { get; set; }
}

[JsonSerializable(typeof(RawCreate))]
[JsonSerializable(typeof(RawCreated))]
[JsonSerializable(typeof(RawJob))]
[JsonSerializable(typeof(RawTask))]
internal sealed partial class RawJson : JsonSerializerContext;

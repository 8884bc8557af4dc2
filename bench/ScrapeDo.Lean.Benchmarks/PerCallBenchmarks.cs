using System.Net.Http.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Flurl.Http;
using ScrapeDo.Lean.Benchmarks.Rig;

namespace ScrapeDo.Lean.Benchmarks;

/// <summary>
/// One API call each, all clients against the same canned server, which runs in its own process (pinned to the other
/// core where possible, see <see cref="Pinning"/>), so the time and allocated bytes of a row are the client's alone.
/// The floor is raw HttpClient reading the body into a pooled buffer without parsing; every other column parses into
/// its own models. Plain HTTP/1.1 here; <see cref="TlsPerCallBenchmarks"/> has the HTTPS rows.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class PerCallBenchmarks : PerCallBase
{
    // ---- get job, 2 tasks
    [Benchmark(Baseline = true), BenchmarkCategory("GetJob2")] public Task<int> Floor_GetJob2() => FloorAsync(HttpMethod.Get, _smallJob, null);
    [Benchmark, BenchmarkCategory("GetJob2")] public Task<JobDetails> Lean_GetJob2() => _lean.GetJobAsync(CannedServer.SmallJob);
    [Benchmark, BenchmarkCategory("GetJob2")] public Task<PeerJob?> Naive_GetJob2() => _naive.GetFromJsonAsync<PeerJob>($"api/v1/jobs/{CannedServer.SmallJob}");
    [Benchmark, BenchmarkCategory("GetJob2")] public Task<PeerJob> Refit_GetJob2() => _refit.GetJob(CannedServer.SmallJob, CannedServer.Token);
    [Benchmark, BenchmarkCategory("GetJob2")] public Task<PeerJob> Flurl_GetJob2() => _flurl.Request("api/v1/jobs", CannedServer.SmallJob).GetJsonAsync<PeerJob>();

    // ---- get job, 1000 tasks
    [Benchmark(Baseline = true), BenchmarkCategory("GetJob1000")] public Task<int> Floor_GetJob1000() => FloorAsync(HttpMethod.Get, _bigJob, null);
    [Benchmark, BenchmarkCategory("GetJob1000")] public Task<JobDetails> Lean_GetJob1000() => _lean.GetJobAsync(CannedServer.BigJob);
    [Benchmark, BenchmarkCategory("GetJob1000")] public Task<PeerJob?> Naive_GetJob1000() => _naive.GetFromJsonAsync<PeerJob>($"api/v1/jobs/{CannedServer.BigJob}");
    [Benchmark, BenchmarkCategory("GetJob1000")] public Task<PeerJob> Refit_GetJob1000() => _refit.GetJob(CannedServer.BigJob, CannedServer.Token);
    [Benchmark, BenchmarkCategory("GetJob1000")] public Task<PeerJob> Flurl_GetJob1000() => _flurl.Request("api/v1/jobs", CannedServer.BigJob).GetJsonAsync<PeerJob>();

    // ---- get task, 10 KB HTML
    [Benchmark(Baseline = true), BenchmarkCategory("GetTaskHtml10K")] public Task<int> Floor_GetTaskHtml10K() => FloorAsync(HttpMethod.Get, _htmlTask, null);
    [Benchmark, BenchmarkCategory("GetTaskHtml10K")] public Task<TaskDetails> Lean_GetTaskHtml10K() => _lean.GetTaskAsync(CannedServer.SmallJob, CannedServer.HtmlTask);
    [Benchmark, BenchmarkCategory("GetTaskHtml10K")] public Task<int> LeanLeased_GetTaskHtml10K() => LeasedAsync(CannedServer.HtmlTask);
    [Benchmark, BenchmarkCategory("GetTaskHtml10K")] public Task<PeerTask?> Naive_GetTaskHtml10K() => _naive.GetFromJsonAsync<PeerTask>($"api/v1/jobs/{CannedServer.SmallJob}/{CannedServer.HtmlTask}");
    [Benchmark, BenchmarkCategory("GetTaskHtml10K")] public Task<PeerTask> Refit_GetTaskHtml10K() => _refit.GetTask(CannedServer.SmallJob, CannedServer.HtmlTask, CannedServer.Token);
    [Benchmark, BenchmarkCategory("GetTaskHtml10K")] public Task<PeerTask> Flurl_GetTaskHtml10K() => _flurl.Request("api/v1/jobs", CannedServer.SmallJob, CannedServer.HtmlTask).GetJsonAsync<PeerTask>();

    // ---- get task, 1 MB of base64 content
    [Benchmark(Baseline = true), BenchmarkCategory("GetTask1MBase64")] public Task<int> Floor_GetTask1MBase64() => FloorAsync(HttpMethod.Get, _b64Task, null);
    [Benchmark, BenchmarkCategory("GetTask1MBase64")] public Task<TaskDetails> Lean_GetTask1MBase64() => _lean.GetTaskAsync(CannedServer.SmallJob, CannedServer.Base64Task);
    [Benchmark, BenchmarkCategory("GetTask1MBase64")] public Task<int> LeanLeased_GetTask1MBase64() => LeasedAsync(CannedServer.Base64Task);
    [Benchmark, BenchmarkCategory("GetTask1MBase64")] public Task<PeerTask?> Naive_GetTask1MBase64() => _naive.GetFromJsonAsync<PeerTask>($"api/v1/jobs/{CannedServer.SmallJob}/{CannedServer.Base64Task}");
    [Benchmark, BenchmarkCategory("GetTask1MBase64")] public Task<PeerTask> Refit_GetTask1MBase64() => _refit.GetTask(CannedServer.SmallJob, CannedServer.Base64Task, CannedServer.Token);
    [Benchmark, BenchmarkCategory("GetTask1MBase64")] public Task<PeerTask> Flurl_GetTask1MBase64() => _flurl.Request("api/v1/jobs", CannedServer.SmallJob, CannedServer.Base64Task).GetJsonAsync<PeerTask>();

    // ---- create job, 1 target
    [Benchmark(Baseline = true), BenchmarkCategory("Create1")] public Task<int> Floor_Create1() => FloorAsync(HttpMethod.Post, _jobs, _floorCreate1);
    [Benchmark, BenchmarkCategory("Create1")] public Task<CreateJobResponse> Lean_Create1() => _lean.CreateJobAsync(_create1);
    [Benchmark, BenchmarkCategory("Create1")] public Task<PeerCreateResponse?> Naive_Create1() => NaivePostAsync(_peerCreate1);
    [Benchmark, BenchmarkCategory("Create1")] public Task<PeerCreateResponse> Refit_Create1() => _refit.CreateJob(_peerCreate1, CannedServer.Token);
    [Benchmark, BenchmarkCategory("Create1")] public Task<PeerCreateResponse> Flurl_Create1() => _flurl.Request("api/v1/jobs").PostJsonAsync(_peerCreate1).ReceiveJson<PeerCreateResponse>();

    // ---- create job, 1000 targets
    [Benchmark(Baseline = true), BenchmarkCategory("Create1000")] public Task<int> Floor_Create1000() => FloorAsync(HttpMethod.Post, _jobs, _floorCreate1000);
    [Benchmark, BenchmarkCategory("Create1000")] public Task<CreateJobResponse> Lean_Create1000() => _lean.CreateJobAsync(_create1000);
    [Benchmark, BenchmarkCategory("Create1000")] public Task<PeerCreateResponse?> Naive_Create1000() => NaivePostAsync(_peerCreate1000);
    [Benchmark, BenchmarkCategory("Create1000")] public Task<PeerCreateResponse> Refit_Create1000() => _refit.CreateJob(_peerCreate1000, CannedServer.Token);
    [Benchmark, BenchmarkCategory("Create1000")] public Task<PeerCreateResponse> Flurl_Create1000() => _flurl.Request("api/v1/jobs").PostJsonAsync(_peerCreate1000).ReceiveJson<PeerCreateResponse>();

    // ScrapeDo.Lean's per-call lease: the same GET, the content in a pooled buffer given back before the call returns
    // (a consumer that writes each content out and drops it). Not a peer: Lean's own variant, beside its plain row.
    private async Task<int> LeasedAsync(string taskId)
    {
        using LeasedTask task = await _lean.GetLeasedTaskAsync(CannedServer.SmallJob, taskId);
        return task.Content?.Length ?? 0;
    }
}

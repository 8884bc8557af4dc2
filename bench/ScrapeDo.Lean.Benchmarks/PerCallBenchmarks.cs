using System.Buffers;
using System.Net.Http.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Flurl.Http;
using Refit;

namespace ScrapeDo.Lean.Benchmarks;

/// <summary>
/// One API call each, all clients against the same loopback Kestrel serving canned bodies. The floor is raw
/// HttpClient reading the body into a pooled buffer without parsing; every other column parses into its own models.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class PerCallBenchmarks
{
    private CannedServer _server = null!;
    private HttpClient _http = null!;
    private HttpClient _naive = null!;
    private ScrapeDoClient _lean = null!;
    private IPeerScrapeDoApi _refit = null!;
    private IFlurlClient _flurl = null!;
    private Uri _smallJob = null!, _bigJob = null!, _htmlTask = null!, _b64Task = null!, _jobs = null!;
    private CreateJobRequest _create1 = null!, _create1000 = null!;
    private PeerCreateRequest _peerCreate1 = null!, _peerCreate1000 = null!;
    private byte[] _floorCreate1 = null!, _floorCreate1000 = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _server = await CannedServer.StartAsync();
        // Every column gets the same kind of transport: one SocketsHttpHandler, no redirects, no cookies.
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = _server.BaseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        // The naive user: one HttpClient with the token as a default header, GetFromJsonAsync with a URL string.
        _naive = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = _server.BaseAddress };
        _naive.DefaultRequestHeaders.Add("X-Token", CannedServer.Token);
        _lean = new ScrapeDoClient(new ScrapeDoClientOptions { Token = CannedServer.Token, BaseAddress = _server.BaseAddress });
        _refit = RestService.For<IPeerScrapeDoApi>(new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = _server.BaseAddress });
        _flurl = new FlurlClient(new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = _server.BaseAddress })
            .WithHeader("X-Token", CannedServer.Token);
        _smallJob = new Uri(_server.BaseAddress, "api/v1/jobs/" + CannedServer.SmallJob);
        _bigJob = new Uri(_server.BaseAddress, "api/v1/jobs/" + CannedServer.BigJob);
        _htmlTask = new Uri(_server.BaseAddress, $"api/v1/jobs/{CannedServer.SmallJob}/{CannedServer.HtmlTask}");
        _b64Task = new Uri(_server.BaseAddress, $"api/v1/jobs/{CannedServer.SmallJob}/{CannedServer.Base64Task}");
        _jobs = new Uri(_server.BaseAddress, "api/v1/jobs");
        string[] targets = Enumerable.Range(0, 1000).Select(i => $"https://site.example/products/{i}").ToArray();
        _create1 = new CreateJobRequest { Targets = targets[..1] };
        _create1000 = new CreateJobRequest { Targets = targets };
        _peerCreate1 = new PeerCreateRequest { Targets = [.. targets[..1]] };
        _peerCreate1000 = new PeerCreateRequest { Targets = [.. targets] };
        _floorCreate1 = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(_peerCreate1);
        _floorCreate1000 = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(_peerCreate1000);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _lean.Dispose();
        _http.Dispose();
        _naive.Dispose();
        _flurl.Dispose();
        await _server.DisposeAsync();
    }

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
    [Benchmark, BenchmarkCategory("GetTaskHtml10K")] public Task<PeerTask?> Naive_GetTaskHtml10K() => _naive.GetFromJsonAsync<PeerTask>($"api/v1/jobs/{CannedServer.SmallJob}/{CannedServer.HtmlTask}");
    [Benchmark, BenchmarkCategory("GetTaskHtml10K")] public Task<PeerTask> Refit_GetTaskHtml10K() => _refit.GetTask(CannedServer.SmallJob, CannedServer.HtmlTask, CannedServer.Token);
    [Benchmark, BenchmarkCategory("GetTaskHtml10K")] public Task<PeerTask> Flurl_GetTaskHtml10K() => _flurl.Request("api/v1/jobs", CannedServer.SmallJob, CannedServer.HtmlTask).GetJsonAsync<PeerTask>();

    // ---- get task, 1 MB of base64 content
    [Benchmark(Baseline = true), BenchmarkCategory("GetTask1MBase64")] public Task<int> Floor_GetTask1MBase64() => FloorAsync(HttpMethod.Get, _b64Task, null);
    [Benchmark, BenchmarkCategory("GetTask1MBase64")] public Task<TaskDetails> Lean_GetTask1MBase64() => _lean.GetTaskAsync(CannedServer.SmallJob, CannedServer.Base64Task);
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

    private async Task<int> FloorAsync(HttpMethod method, Uri uri, byte[]? body)
    {
        using var request = new HttpRequestMessage(method, uri);
        request.Headers.TryAddWithoutValidation("X-Token", CannedServer.Token);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        }

        using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using Stream stream = await response.Content.ReadAsStreamAsync();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int total = 0, n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                total += n;
            }

            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<PeerCreateResponse?> NaivePostAsync(PeerCreateRequest body)
    {
        using HttpResponseMessage response = await _naive.PostAsJsonAsync("api/v1/jobs", body);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<PeerCreateResponse>();
    }
}

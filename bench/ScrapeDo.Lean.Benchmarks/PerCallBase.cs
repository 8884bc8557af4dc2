using System.Buffers;
using System.Net.Http.Json;
using BenchmarkDotNet.Attributes;
using Flurl.Http;
using Refit;
using ScrapeDo.Lean.Benchmarks.Rig;

namespace ScrapeDo.Lean.Benchmarks;

/// <summary>
/// Set-up shared by the per-call suites: the canned server in its own process over <see cref="Transport"/>, and every
/// column's client on the same kind of transport (<see cref="BenchTransport"/>).
/// </summary>
public abstract class PerCallBase
{
    protected ServerProcess _server = null!;
    protected HttpClient _http = null!;
    protected HttpClient _naive = null!;
    protected ScrapeDoClient _lean = null!;
    protected IPeerScrapeDoApi _refit = null!;
    protected IFlurlClient _flurl = null!;
    protected Uri _smallJob = null!, _bigJob = null!, _htmlTask = null!, _b64Task = null!, _jobs = null!;
    protected CreateJobRequest _create1 = null!, _create1000 = null!;
    protected PeerCreateRequest _peerCreate1 = null!, _peerCreate1000 = null!;
    protected byte[] _floorCreate1 = null!, _floorCreate1000 = null!;
    private Version _version = System.Net.HttpVersion.Version11;

    /// <summary>The transport of this run (<see cref="BenchTransport"/> names); plain HTTP unless a suite sets it.</summary>
    public virtual string Transport { get; set; } = BenchTransport.Http;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _server = await ServerProcess.StartAsync(ServerKind.Canned, BenchTransport.IsHttps(Transport));
        _version = BenchTransport.VersionOf(Transport);
        Uri b = _server.BaseAddress;
        System.Security.Cryptography.X509Certificates.X509Certificate2? pin = _server.Certificate;
        _http = new HttpClient(BenchTransport.Handler(pin)) { BaseAddress = b, Timeout = Timeout.InfiniteTimeSpan };
        // The naive user: one HttpClient with the token as a default header, GetFromJsonAsync with a URL string.
        _naive = BenchTransport.PeerClient(b, pin, _version);
        _naive.DefaultRequestHeaders.Add("X-Token", CannedServer.Token);
        _lean = BenchTransport.Lean(b, CannedServer.Token, pin, _version);
        _refit = RestService.For<IPeerScrapeDoApi>(BenchTransport.PeerClient(b, pin, _version));
        _flurl = new FlurlClient(BenchTransport.PeerClient(b, pin, _version)).WithHeader("X-Token", CannedServer.Token);
        _smallJob = new Uri(b, "api/v1/jobs/" + CannedServer.SmallJob);
        _bigJob = new Uri(b, "api/v1/jobs/" + CannedServer.BigJob);
        _htmlTask = new Uri(b, $"api/v1/jobs/{CannedServer.SmallJob}/{CannedServer.HtmlTask}");
        _b64Task = new Uri(b, $"api/v1/jobs/{CannedServer.SmallJob}/{CannedServer.Base64Task}");
        _jobs = new Uri(b, "api/v1/jobs");
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
        if (!_server.StoppedCleanly)
        {
            throw new InvalidOperationException($"the canned server process did not stop cleanly ({_server.StopTime.TotalSeconds:0.0} s)");
        }
    }

    /// <summary>The floor: a request built per call on a cached <see cref="Uri"/>, body read into a pooled buffer, unparsed.</summary>
    protected async Task<int> FloorAsync(HttpMethod method, Uri uri, byte[]? body)
    {
        using var request = new HttpRequestMessage(method, uri) { Version = _version, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        request.Headers.TryAddWithoutValidation("X-Token", CannedServer.Token);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        }

        return await DrainAsync(_http, request);
    }

    /// <summary>Sends <paramref name="request"/> and reads the body into a pooled buffer without parsing it: the floor's work.</summary>
    public static async Task<int> DrainAsync(HttpClient http, HttpRequestMessage request)
    {
        using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
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

    protected async Task<PeerCreateResponse?> NaivePostAsync(PeerCreateRequest body)
    {
        using HttpResponseMessage response = await _naive.PostAsJsonAsync("api/v1/jobs", body);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<PeerCreateResponse>();
    }
}

/// <summary>
/// The HTTPS rows (issue 13): get job (2 tasks) and get task (10 KB HTML) over TLS with HTTP/1.1 and with HTTP/2,
/// against the canned server in its own process serving an in-memory certificate that every column pins.
/// </summary>
[MemoryDiagnoser]
[BenchmarkDotNet.Attributes.GroupBenchmarksBy(BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByCategory, BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class TlsPerCallBenchmarks : PerCallBase
{
    /// <inheritdoc/>
    [Params(BenchTransport.Https11, BenchTransport.Https2)]
    public override string Transport { get; set; } = BenchTransport.Https11;

    [Benchmark(Baseline = true), BenchmarkCategory("GetJob2")] public Task<int> Floor_GetJob2() => FloorAsync(HttpMethod.Get, _smallJob, null);
    [Benchmark, BenchmarkCategory("GetJob2")] public Task<JobDetails> Lean_GetJob2() => _lean.GetJobAsync(CannedServer.SmallJob);
    [Benchmark, BenchmarkCategory("GetJob2")] public Task<PeerJob?> Naive_GetJob2() => _naive.GetFromJsonAsync<PeerJob>($"api/v1/jobs/{CannedServer.SmallJob}");
    [Benchmark, BenchmarkCategory("GetJob2")] public Task<PeerJob> Refit_GetJob2() => _refit.GetJob(CannedServer.SmallJob, CannedServer.Token);
    [Benchmark, BenchmarkCategory("GetJob2")] public Task<PeerJob> Flurl_GetJob2() => _flurl.Request("api/v1/jobs", CannedServer.SmallJob).GetJsonAsync<PeerJob>();

    [Benchmark(Baseline = true), BenchmarkCategory("GetTaskHtml10K")] public Task<int> Floor_GetTaskHtml10K() => FloorAsync(HttpMethod.Get, _htmlTask, null);
    [Benchmark, BenchmarkCategory("GetTaskHtml10K")] public Task<TaskDetails> Lean_GetTaskHtml10K() => _lean.GetTaskAsync(CannedServer.SmallJob, CannedServer.HtmlTask);
    [Benchmark, BenchmarkCategory("GetTaskHtml10K")] public Task<PeerTask?> Naive_GetTaskHtml10K() => _naive.GetFromJsonAsync<PeerTask>($"api/v1/jobs/{CannedServer.SmallJob}/{CannedServer.HtmlTask}");
    [Benchmark, BenchmarkCategory("GetTaskHtml10K")] public Task<PeerTask> Refit_GetTaskHtml10K() => _refit.GetTask(CannedServer.SmallJob, CannedServer.HtmlTask, CannedServer.Token);
    [Benchmark, BenchmarkCategory("GetTaskHtml10K")] public Task<PeerTask> Flurl_GetTaskHtml10K() => _flurl.Request("api/v1/jobs", CannedServer.SmallJob, CannedServer.HtmlTask).GetJsonAsync<PeerTask>();
}

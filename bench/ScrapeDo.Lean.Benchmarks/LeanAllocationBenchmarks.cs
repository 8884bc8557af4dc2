using System.Buffers;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.Benchmarks;

/// <summary>
/// Issue 14, target 3 (GetJob2 allocated at most floor + 1 KB): the raw-HttpClient floor against the client on the
/// same canned loopback server, and the get-job parse alone, generated reader against the hand-written one the client
/// uses. Allocated bytes are the figure here (stable on a shared box); times are only indicative.
/// Run: dotnet run -c Release --project bench/ScrapeDo.Lean.Benchmarks -- --filter '*LeanAllocation*' --inProcess
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class LeanAllocationBenchmarks
{
    private CannedServer _server = null!;
    private HttpClient _http = null!;
    private ScrapeDoClient _lean = null!;
    private Uri _smallJob = null!;
    private byte[] _job2 = null!, _job1000 = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _server = await CannedServer.StartAsync();
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = _server.BaseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _lean = new ScrapeDoClient(new ScrapeDoClientOptions { Token = CannedServer.Token, BaseAddress = _server.BaseAddress });
        _smallJob = new Uri(_server.BaseAddress, "api/v1/jobs/" + CannedServer.SmallJob);
        _job2 = CannedServer.JobBody(2);
        _job1000 = CannedServer.JobBody(1000);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _lean.Dispose();
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("GetJob2")]
    public async Task<int> Floor_GetJob2()
    {
        // The same floor as PerCallBenchmarks: raw HttpClient, body read into a pooled buffer, not parsed.
        using var request = new HttpRequestMessage(HttpMethod.Get, _smallJob);
        request.Headers.TryAddWithoutValidation("X-Token", CannedServer.Token);
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

    [Benchmark, BenchmarkCategory("GetJob2")] public Task<JobDetails> Lean_GetJob2() => _lean.GetJobAsync(CannedServer.SmallJob);

    [Benchmark(Baseline = true), BenchmarkCategory("ParseJob2")] public JobDetails Generated_ParseJob2() => System.Text.Json.JsonSerializer.Deserialize(_job2, ScrapeDoJsonContext.Default.JobDetails)!;

    [Benchmark, BenchmarkCategory("ParseJob2")] public JobDetails Reader_ParseJob2() => System.Text.Json.JsonSerializer.Deserialize(_job2, JobDetailsReader.TypeInfo)!;

    [Benchmark(Baseline = true), BenchmarkCategory("ParseJob1000")] public JobDetails Generated_ParseJob1000() => System.Text.Json.JsonSerializer.Deserialize(_job1000, ScrapeDoJsonContext.Default.JobDetails)!;

    [Benchmark, BenchmarkCategory("ParseJob1000")] public JobDetails Reader_ParseJob1000() => System.Text.Json.JsonSerializer.Deserialize(_job1000, JobDetailsReader.TypeInfo)!;
}

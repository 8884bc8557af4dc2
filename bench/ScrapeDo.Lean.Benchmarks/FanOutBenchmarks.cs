using System.Net.Http.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.Benchmarks;

/// <summary>
/// 10,000 targets end to end against the emulator (in its own process, zero task latency): the runner, the raw floor
/// (<see cref="Rig.FloorLoop"/>) and the loop most people write (create, poll every second, fetch every task). Results
/// are per target (OperationsPerInvoke); the interleaved CPU-time comparison is <c>--fanout-ratio</c>.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 3)]
public class FanOutBenchmarks
{
    public const int Targets = 10_000;

    private Rig.ServerProcess _emulator = null!;
    private ScrapeDoClient _client = null!;
    private HttpClient _http = null!;
    private HttpClient _floor = null!;
    private string[] _urls = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _emulator = await Rig.ServerProcess.StartAsync(Rig.ServerKind.Emulator, https: false, contentBytes: 2048);
        _client = new ScrapeDoClient(new ScrapeDoClientOptions { Token = EmulatorOptions.DefaultToken, BaseAddress = _emulator.BaseAddress });
        _http = new HttpClient { BaseAddress = _emulator.BaseAddress };
        _http.DefaultRequestHeaders.Add("X-Token", EmulatorOptions.DefaultToken);
        _floor = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        _urls = Enumerable.Range(0, Targets).Select(i => $"https://site.example/products/{i}").ToArray();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _client.Dispose();
        _http.Dispose();
        _floor.Dispose();
        await _emulator.DisposeAsync();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Targets)]
    public Task<int> Floor_Loop() => Rig.FloorLoop.RunAsync(_floor, _emulator.BaseAddress, EmulatorOptions.DefaultToken, _urls, System.Net.HttpVersion.Version11);

    [Benchmark(OperationsPerInvoke = Targets)]
    public async Task<int> Lean_Runner()
    {
        int count = 0;
        await foreach (TaskOutcome outcome in new ScrapeDoRunner(_client).RunAsync(_urls))
        {
            count += outcome.Status == OutcomeStatus.Success ? 1 : 0;
        }

        return count;
    }

    [Benchmark(OperationsPerInvoke = Targets)]
    public Task<int> Naive_Loop() => NaiveLoop.RunAsync(_http, _urls, TimeSpan.FromSeconds(1));
}

/// <summary>The straightforward loop: per 1000 targets create a job, poll it every second, then fetch every task
/// (16 at a time, the runner's default fetch concurrency, so the comparison is not about parallelism).</summary>
public static class NaiveLoop
{
    public static async Task<int> RunAsync(HttpClient http, string[] urls, TimeSpan pollEvery)
    {
        int ok = 0;
        for (int start = 0; start < urls.Length; start += 1000)
        {
            var created = await (await http.PostAsJsonAsync("api/v1/jobs", new PeerCreateRequest { Targets = [.. urls.Skip(start).Take(1000)] })).Content.ReadFromJsonAsync<PeerCreateResponse>();
            PeerJob? job;
            do
            {
                await Task.Delay(pollEvery);
                job = await http.GetFromJsonAsync<PeerJob>($"api/v1/jobs/{created!.JobID}");
            }
            while (job!.Status is not ("success" or "error" or "canceled"));

            using var gate = new SemaphoreSlim(16);
            var fetched = await Task.WhenAll(created.TaskIDs!.Select(async id =>
            {
                await gate.WaitAsync();
                try
                {
                    return await http.GetFromJsonAsync<PeerTask>($"api/v1/jobs/{created.JobID}/{id}");
                }
                finally
                {
                    gate.Release();
                }
            }));
            ok += fetched.Count(t => t!.Status == "success");
        }

        return ok;
    }
}

using System.Net.Http.Json;
using BenchmarkDotNet.Attributes;

namespace ScrapeDo.Lean.Benchmarks;

/// <summary>Fetching a task with 10 MB of base64 content and writing the decoded bytes to a file.</summary>
[MemoryDiagnoser]
public class LargeContentBenchmarks
{
    private Rig.ServerProcess _server = null!;
    private ScrapeDoClient _lean = null!;
    private HttpClient _http = null!;
    private string _file = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _server = await Rig.ServerProcess.StartAsync(Rig.ServerKind.Canned);
        _lean = new ScrapeDoClient(new ScrapeDoClientOptions { Token = CannedServer.Token, BaseAddress = _server.BaseAddress });
        _http = new HttpClient { BaseAddress = _server.BaseAddress };
        _http.DefaultRequestHeaders.Add("X-Token", CannedServer.Token);
        _file = Path.GetTempFileName();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _lean.Dispose();
        _http.Dispose();
        File.Delete(_file);
        await _server.DisposeAsync();
    }

    [Benchmark(Baseline = true)]
    public async Task<long> Lean_ToFile()
    {
        TaskDetails task = await _lean.GetTaskAsync(CannedServer.SmallJob, CannedServer.LargeTask);
        await using var file = new FileStream(_file, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous);
        return await task.CopyContentToAsync(file);
    }

    /// <summary>The same with the content in a pooled lease (<see cref="ScrapeDoClient.GetLeasedTaskAsync"/>) instead of a fresh array.</summary>
    [Benchmark]
    public async Task<long> LeanLeased_ToFile()
    {
        using LeasedTask task = await _lean.GetLeasedTaskAsync(CannedServer.SmallJob, CannedServer.LargeTask);
        await using var file = new FileStream(_file, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous);
        return await task.CopyContentToAsync(file);
    }

    [Benchmark]
    public async Task<long> Naive_ToFile()
    {
        PeerTask? task = await _http.GetFromJsonAsync<PeerTask>($"api/v1/jobs/{CannedServer.SmallJob}/{CannedServer.LargeTask}");
        byte[] bytes = Convert.FromBase64String(task!.Content!);
        await File.WriteAllBytesAsync(_file, bytes);
        return bytes.Length;
    }
}

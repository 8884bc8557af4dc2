using System.Text.Json;
using BenchmarkDotNet.Attributes;
using ScrapeDo.Lean.Emulator;
using ScrapeDo.Lean.Internal.Json;
using ScrapeDo.Lean.Internal.Runner;

namespace ScrapeDo.Lean.Benchmarks;

/// <summary>
/// The parse a fan-out pays once per target, without HTTP: one task body exactly as the emulator serves it on the
/// fan-out rig (2 KB escaped HTML content, two header maps, UUID ids), read by the source-generated
/// <see cref="TaskDetails"/> reader (what <see cref="ScrapeDoClient.GetTaskAsync(string, string, CancellationToken)"/>
/// uses) and by the runner's own reader, which also knows the task's ids and URL and reuses the run's strings for them.
/// Run: dotnet run -c Release --project bench/ScrapeDo.Lean.Benchmarks -- --filter '*RunnerTaskRead*'
/// </summary>
[MemoryDiagnoser]
public class RunnerTaskReadBenchmarks
{
    private byte[] _body = [];
    private string _jobId = "";
    private string _taskId = "";
    private string _url = "";

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [Benchmark(Baseline = true)]
    public int Generated_ReadTask2K() => JsonSerializer.Deserialize(_body, ScrapeDoJsonContext.Default.TaskDetails)!.Content.Length;

    [Benchmark]
    public int Runner_ReadTask2K()
    {
        TaskDetailsReader reader = TaskDetailsReader.Rent(pooled: false, _jobId, _taskId, _url);
        try
        {
            return JsonSerializer.Deserialize(_body, reader.Info)!.Content.Length;
        }
        finally
        {
            TaskDetailsReader.Return(reader);
        }
    }

    private async Task SetupAsync()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Accounts = [new EmulatorAccount(EmulatorOptions.DefaultToken, "advanced")] });
        using var client = new ScrapeDoClient(new ScrapeDoClientOptions { Token = EmulatorOptions.DefaultToken, BaseAddress = emulator.BaseAddress });
        // As the rig's targets are built, so the URL has the same shape and length.
        string url = "https://site.example/products/4711";
        CreateJobResponse job = await client.CreateJobAsync(new CreateJobRequest { Targets = [url] });
        while (!(await client.GetJobAsync(job.JobId)).Status.IsTerminal)
        {
            await Task.Delay(50);
        }

        using var http = new HttpClient { BaseAddress = emulator.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/v1/jobs/{job.JobId}/{job.TaskIds[0]}");
        request.Headers.Add("X-Token", EmulatorOptions.DefaultToken);
        using HttpResponseMessage response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        _body = await response.Content.ReadAsByteArrayAsync();
        // Copies, so the reader meets the run's own strings, not the ones this setup happened to read.
        (_jobId, _taskId, _url) = (new string(job.JobId.AsSpan()), new string(job.TaskIds[0].AsSpan()), new string(url.AsSpan()));
        if (Runner_ReadTask2K() != Generated_ReadTask2K() || Generated_ReadTask2K() == 0)
        {
            throw new InvalidOperationException("the two readers disagree on the emulator's task body");
        }

        // The row measures the runner's path only if the body's ids and URL are taken as the run's own strings.
        TaskDetailsReader reader = TaskDetailsReader.Rent(pooled: false, _jobId, _taskId, _url);
        TaskDetails read = JsonSerializer.Deserialize(_body, reader.Info)!;
        TaskDetailsReader.Return(reader);
        if (!ReferenceEquals(read.JobId, _jobId) || !ReferenceEquals(read.TaskId, _taskId) || !ReferenceEquals(read.Url, _url))
        {
            throw new InvalidOperationException("the runner's reader did not reuse the expected id and URL strings: the emulator's body spells them otherwise");
        }
    }
}

using System.Diagnostics;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using ScrapeDo.Lean;
using ScrapeDo.Lean.Benchmarks;
using ScrapeDo.Lean.Emulator;

// Modes (docs/benchmarks.md):
//   --ci              a few minutes: short job over the headline rows, Markdown + full JSON exports
//   --fanout-report   the measuring harness: 10,000 targets through the runner and the naive loop, printing
//                     wall time, requests per target, allocated bytes per target and peak memory
//   anything else     BenchmarkDotNet's own arguments, e.g. --filter '*' for the full suites
if (args.Contains("--fanout-report"))
{
    await FanOutReport.RunAsync();
    return;
}

IConfig config = DefaultConfig.Instance
    .AddExporter(MarkdownExporter.GitHub)
    .AddExporter(JsonExporter.Full);
if (args.Contains("--ci"))
{
    config = config.AddJob(Job.ShortRun.WithIterationCount(5).WithWarmupCount(2));
    args = ["--filter", "*PerCallBenchmarks*GetJob2*", "*PerCallBenchmarks*GetTask1MBase64*", "*PoolingBenchmarks*", "*SerializationBenchmarks*"];
}

BenchmarkSwitcher.FromAssembly(typeof(PerCallBenchmarks).Assembly).Run(args, config);

internal static class FanOutReport
{
    public static async Task RunAsync()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { ContentBytes = 2048, Accounts = [new EmulatorAccount(EmulatorOptions.DefaultToken, "advanced")] });
        string[] urls = Enumerable.Range(0, FanOutBenchmarks.Targets).Select(i => $"https://site.example/products/{i}").ToArray();
        using var client = new ScrapeDoClient(new ScrapeDoClientOptions { Token = EmulatorOptions.DefaultToken, BaseAddress = emulator.BaseAddress });

        // Warm-up run so JIT and connection set-up are not counted.
        await foreach (var _ in new ScrapeDoRunner(client).RunAsync(urls.Take(1000)))
        {
        }

        await MeasureAsync("ScrapeDo.Lean runner", emulator, async () =>
        {
            int ok = 0;
            await foreach (TaskOutcome o in new ScrapeDoRunner(client).RunAsync(urls))
            {
                ok += o.Kind == OutcomeKind.Success ? 1 : 0;
            }

            return ok;
        });

        using var http = new HttpClient { BaseAddress = emulator.BaseAddress };
        http.DefaultRequestHeaders.Add("X-Token", EmulatorOptions.DefaultToken);
        await MeasureAsync("naive loop (create, poll every 1 s, fetch every task)", emulator, () => NaiveLoop.RunAsync(http, urls, TimeSpan.FromSeconds(1)));
    }

    private static async Task MeasureAsync(string name, ScrapeDoEmulator emulator, Func<Task<int>> run)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long requestsBefore = emulator.Counters.TotalRequests;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        long peakHeap = 0;
        using var sampling = new CancellationTokenSource();
        Task sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
                await Task.Delay(5);
            }
        });
        var clock = Stopwatch.StartNew();
        int ok = await run();
        clock.Stop();
        await sampling.CancelAsync();
        await sampler;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        long requests = emulator.Counters.TotalRequests - requestsBefore;
        int n = FanOutBenchmarks.Targets;
        Console.WriteLine($"{name}: {ok}/{n} success, wall {clock.Elapsed.TotalSeconds:0.00} s, {requests} requests = {(double)requests / n:0.0000} per target, " +
            $"allocated {allocated / n:N0} B per target (whole process, emulator included), peak managed heap {peakHeap / (1024 * 1024.0):0.0} MiB");
    }
}

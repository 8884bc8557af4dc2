using System.Diagnostics;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using ScrapeDo.Lean;
using ScrapeDo.Lean.Benchmarks;
using ScrapeDo.Lean.Benchmarks.Rig;
using ScrapeDo.Lean.Emulator;

// Modes (docs/benchmarks.md):
//   --serve KIND      the out-of-process server of the rig (started by the benchmarks themselves, never by hand)
//   --suite           the full per-call, TLS, serialization and large-content suites with the resolving job
//   --fanout-ratio    the fan-out harness: runner vs raw floor (vs the CLI) in interleaved rounds, emulator out of process;
//                     --runner-app PATH adds the runner alone in a fresh process (bench/ScrapeDo.Lean.RunnerProbe) to read the CLI against;
//                     --round-start collect|none: a full collection before each round (the default) or none;
//                     --isolated: runner, lease, floor and control each in a process of its own (--fanout-worker), rounds still interleaved
//                     --warmups N (3) --max-warmups M (20): at least N warm-up runs of each, more until the JIT has settled
//                     --tier-up-runs N (100; 0 = none): after the first warm-up, N runs of 10 targets of each in-process
//                     contender, so code called once per run is fully compiled before the measured rounds
//                     --gen0-budget-mib N (with --isolated): the GC's gen0 budget fixed for every contender's process alike;
//                     every report names the page-fault cost it measured and computes issue 14's target 5 for each runner row
//   --percall-ratio   the per-call and parse rows by CPU time per call: interleaved rounds, paired ratios Lean/peer (Rig/PerCallRatio.cs)
//   --report          tables and SVG charts from BenchmarkDotNet's JSON exports and the fan-out harness's JSON
//   --ci              a few minutes: short job over the headline rows (allocation gate), a small out-of-process fan-out
//                     (requests/target gate), and a clean start/stop of the rig; time ratios printed, never gated
//   --fanout-report   the older in-process harness (wall time, requests, allocated, peak memory)
//   anything else     BenchmarkDotNet's own arguments, e.g. --filter '*'
if (args.Contains("--serve"))
{
    return await ServeMode.RunAsync(args);
}

if (args.Contains("--report"))
{
    string? Opt(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    return await Report.RunAsync(Opt("--run1") ?? "BenchmarkDotNet.Artifacts", Opt("--run2"), Opt("--fanout"), Opt("--docs"));
}

// A fan-out worker's arguments come from the rig itself; everything else is checked before any process starts.
if (!args.Contains("--fanout-worker") && RigArgs.Problem(args) is { } problem)
{
    Console.Error.WriteLine(problem);
    return 2;
}

// Every measuring mode measures steady state: the pinned client sees one CPU, where the runtime stretches the tiering
// delay (100 ms, x10 on one CPU, restarted by every new tier-0 method), and a profile showed ScrapeDo.Lean's own code
// still at tier 0 after seconds of calls while the peers and the raw floor ran on the framework's precompiled code.
// No delay: same code, optimised sooner. The CLI the fan-out harness starts is a fresh process a user would run, so it
// gets the runtime's defaults (FanOutRatio removes the variable again for it).
if (Environment.GetEnvironmentVariable(Pinning.SteadyStateVariable) is null)
{
    Environment.SetEnvironmentVariable(Pinning.SteadyStateVariable, "0");
    Environment.SetEnvironmentVariable(Pinning.SteadyStateSetByRig, "1");
}

// Everything else measures: run pinned to the client core (the server processes go to the other one).
if (Pinning.RelaunchPinned(args) is int pinnedExit)
{
    return pinnedExit;
}

// A fan-out worker speaks a line protocol on its standard output: nothing else may be printed there.
if (args.Contains("--fanout-worker"))
{
    return await FanOutWorker.ServeAsync(args);
}

// BenchmarkDotNet's child processes inherit this and use it to start the server process (see ServerProcess).
Environment.SetEnvironmentVariable(ServerProcess.HostVariable, typeof(PerCallBenchmarks).Assembly.Location);
Console.WriteLine($"placement: {Pinning.Describe()}; tiering delay {(Environment.GetEnvironmentVariable(Pinning.SteadyStateVariable) is { } delay ? delay + " ms (steady state)" : "runtime default")}");

// A count the rig divides by (targets, rounds, a batch's length) takes min 1: 0 would make every figure NaN.
int Arg(string name, int fallback, int min = 0)
{
    int at = Array.IndexOf(args, name);
    if (at < 0 || at + 1 >= args.Length)
    {
        return fallback;
    }

    // NumberStyles.None: digits only, so a sign, a space or a fraction is refused here rather than deep in a run.
    if (int.TryParse(args[at + 1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int value) && value >= min)
    {
        return value;
    }

    Console.Error.WriteLine($"{name} takes a whole number, {min} or more, not '{args[at + 1]}'.");
    Environment.Exit(2);
    return fallback;
}

string? StringArg(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
FanOutRatio.RoundStart RoundStartArg()
{
    switch (StringArg("--round-start"))
    {
        case null or "collect":
            return FanOutRatio.RoundStart.Collect;
        case "none":
            return FanOutRatio.RoundStart.None;
        case string other:
            Console.Error.WriteLine($"--round-start must be collect or none, not '{other}'.");
            Environment.Exit(2);
            return default;
    }
}

if (args.Contains("--fanout-report"))
{
    await FanOutReport.RunAsync(Arg("--targets", FanOutBenchmarks.Targets, min: 1), Arg("--content-bytes", 2048), naive: !args.Contains("--no-naive"), StringArg("--external"));
    return 0;
}

if (args.Contains("--gc-trace"))
{
    return await GcTrace.RunAsync(Arg, StringArg);
}

if (args.Contains("--throughput"))
{
    await ThroughputReport.RunAsync();
    return 0;
}

if (args.Contains("--fanout-ratio"))
{
    // Checked here, in the parent too, so a bad value is refused before any child starts.
    FanOutRatio.RoundStart roundStart = RoundStartArg();
    if (Arg("--gen0-budget-mib", 0) != 0 && !args.Contains("--isolated"))
    {
        Console.Error.WriteLine("--gen0-budget-mib needs --isolated: only a contender in a process of its own can start with its own GC settings.");
        return 2;
    }

    if (Arg("--processes", 1) is int processes and > 1)
    {
        return await FanOutProcesses.RunAsync(args, processes, StringArg("--out") ?? "BenchmarkDotNet.Artifacts");
    }

    string? cli = StringArg("--cli") is "none" ? null : StringArg("--cli") ?? CliLocator.Find();
    string[] transports = (StringArg("--transports") ?? $"{BenchTransport.Http},{BenchTransport.Https11},{BenchTransport.Https2}").Split(',');
    await FanOutRatio.RunAsync(new FanOutRatio.Settings(Arg("--targets", 10_000, min: 1), Arg("--rounds", 5, min: 1), Arg("--content-bytes", 2048), transports, cli, StringArg("--out") ?? "BenchmarkDotNet.Artifacts", Arg("--warmups", 3), StringArg("--only")?.Split(','), StringArg("--runner-app"), roundStart, args.Contains("--isolated"), Arg("--max-warmups", 20), Arg("--gen0-budget-mib", 0) * 1024L * 1024, Arg("--tier-up-runs", FanOutRatio.Settings.DefaultTierUpRuns)));
    return 0;
}

if (args.Contains("--percall-ratio"))
{
    string[] List(string name, string fallback) => (StringArg(name) ?? fallback).Split(',', StringSplitOptions.RemoveEmptyEntries);
    await PerCallRatio.RunAsync(new PerCallRatio.Settings(Arg("--rounds", 21, min: 1), Arg("--batch-ms", 20, min: 1), List("--filter", ""), List("--suites", "percall,tls,parse,body,poll"), Arg("--margin-pct", 3) / 100.0, !args.Contains("--no-control"), StringArg("--peers")?.Split(','), StringArg("--out") ?? "BenchmarkDotNet.Artifacts", StringArg("--only")), "bench --percall-ratio " + string.Join(' ', args.Where(a => a != "--percall-ratio")));
    return 0;
}

IConfig config = DefaultConfig.Instance
    .AddExporter(MarkdownExporter.GitHub)
    .AddExporter(JsonExporter.Full);
bool ci = args.Contains("--ci");
if (ci)
{
    config = config.AddJob(Job.ShortRun.WithIterationCount(5).WithWarmupCount(2));
    args = ["--filter", "*.PerCallBenchmarks.*GetJob2*", "*.PerCallBenchmarks.*GetTask1MBase64*", "*SerializationBenchmarks*ParseJob*"];
}
else if (args.Contains("--suite"))
{
    // Enough iterations that a row's 99.9 % error margin can get under 5 % of its mean, so a 10 % difference between
    // two rows of one run is resolved (the report says which rows got there on the day). Iterations of 250 ms rather
    // than 500 ms keep one pass of the 76 rows near a quarter of an hour, so the rig can run it twice for the spread.
    config = config.AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(15).WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(250)));
    // A --filter of the caller narrows the suite (BenchmarkDotNet refuses two --filter options).
    string[] rest = args.Where(a => a != "--suite").ToArray();
    args = rest.Contains("--filter") || rest.Contains("-f")
        ? rest
        : ["--filter", "*.PerCallBenchmarks.*", "*.TlsPerCallBenchmarks.*", "*.SerializationBenchmarks.*", "*.LargeContentBenchmarks.*", .. rest];
}

var summaries = BenchmarkSwitcher.FromAssembly(typeof(PerCallBenchmarks).Assembly).Run(args, config);
if (!ci)
{
    return 0;
}

int failures = AllocationGate.Check(summaries, Path.Combine(AppContext.BaseDirectory, "allocation-baseline.json"));
failures += await RigGate.CheckAsync();
Console.WriteLine(failures == 0 ? "bench --ci: passed" : $"bench --ci: FAILED ({failures} gate(s))");
return failures == 0 ? 0 : 1;

internal static class FanOutReport
{
    public static async Task RunAsync(int targets, int contentBytes, bool naive, string? external)
    {
        Console.WriteLine($"{targets} targets, {contentBytes} B contents, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        // With --external the emulator runs in another process (scrapedo emulator), so this process holds only the client.
        await using ScrapeDoEmulator? emulator = external is null
            ? await ScrapeDoEmulator.StartAsync(new EmulatorOptions { ContentBytes = contentBytes, Accounts = [new EmulatorAccount(EmulatorOptions.DefaultToken, "advanced")] })
            : null;
        Uri baseAddress = emulator?.BaseAddress ?? new Uri(external!);
        string[] urls = Enumerable.Range(0, targets).Select(i => $"https://site.example/products/{i}").ToArray();
        using var client = new ScrapeDoClient(new ScrapeDoClientOptions { Token = EmulatorOptions.DefaultToken, BaseAddress = baseAddress });

        // Warm-up run so JIT and connection set-up are not counted.
        await foreach (var _ in new ScrapeDoRunner(client).RunAsync(urls.Take(1000)))
        {
        }

        await MeasureAsync("ScrapeDo.Lean runner", emulator, targets, async () =>
        {
            int ok = 0;
            await foreach (TaskOutcome o in new ScrapeDoRunner(client).RunAsync(urls))
            {
                ok += o.Status == OutcomeStatus.Success ? 1 : 0;
            }

            return ok;
        });

        if (!naive)
        {
            return;
        }

        using var http = new HttpClient { BaseAddress = baseAddress };
        http.DefaultRequestHeaders.Add("X-Token", EmulatorOptions.DefaultToken);
        await MeasureAsync("naive loop (create, poll every 1 s, fetch every task)", emulator, targets, () => NaiveLoop.RunAsync(http, urls, TimeSpan.FromSeconds(1)));
    }

    private static async Task MeasureAsync(string name, ScrapeDoEmulator? emulator, int n, Func<Task<int>> run)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long requestsBefore = emulator?.Counters.TotalRequests ?? 0;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        long peakHeap = 0, peakLive = 0;
        using var sampling = new CancellationTokenSource();
        Task sampler = Task.Run(async () =>
        {
            for (int tick = 0; !sampling.IsCancellationRequested; tick++)
            {
                peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
                if (tick % 50 == 0)
                {
                    // Every 250 ms a full collection measures what is really held (live objects), garbage excluded.
                    peakLive = Math.Max(peakLive, GC.GetTotalMemory(forceFullCollection: true));
                }

                await Task.Delay(5);
            }
        });
        var clock = Stopwatch.StartNew();
        int ok = await run();
        clock.Stop();
        await sampling.CancelAsync();
        await sampler;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        long requests = emulator is null ? -1 : emulator.Counters.TotalRequests - requestsBefore;
        Console.WriteLine($"{name}: {ok}/{n} success, wall {clock.Elapsed.TotalSeconds:0.00} s, {requests} requests = {(double)requests / n:0.0000} per target, " +
            $"allocated {allocated / n:N0} B per target ({(emulator is null ? "client process only" : "whole process, emulator included")}), peak managed heap {peakHeap / (1024 * 1024.0):0.0} MiB, peak live managed memory {peakLive / (1024 * 1024.0):0.0} MiB");
    }
}

/// <summary>
/// Fails the CI mode when a ScrapeDo.Lean row allocates more than its committed baseline (+2 % or +64 B, or the row's own slack, whichever is
/// larger). Allocated bytes are near-deterministic, unlike times on a shared 2-core box, so they make a usable gate.
/// Refresh bench/ScrapeDo.Lean.Benchmarks/allocation-baseline.json only in a commit that says why.
/// </summary>
internal static class AllocationGate
{
    public static int Check(IEnumerable<BenchmarkDotNet.Reports.Summary> summaries, string baselinePath)
    {
        using var baseline = System.Text.Json.JsonDocument.Parse(File.ReadAllText(baselinePath));
        int failures = 0;
        foreach (var report in summaries.SelectMany(s => s.Reports))
        {
            string name = report.BenchmarkCase.Descriptor.WorkloadMethod.Name + report.BenchmarkCase.Parameters.DisplayInfo;
            // Lean_ rows and Lean's own variants (LeanLeased_): a lease that fell back to a fresh array shows here.
            if (!name.StartsWith("Lean", StringComparison.Ordinal) || name.IndexOf('_', StringComparison.Ordinal) < 0 || report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) is not long allocated)
            {
                continue;
            }

            if (!baseline.RootElement.TryGetProperty(name, out var expected))
            {
                Console.WriteLine($"allocation gate: {name} has no baseline ({allocated} B); add it to {Path.GetFileName(baselinePath)}");
                continue;
            }

            // A number, or { "bytes": N, "slackBytes": S } for a row whose allocation moves by more than 64 B from run
            // to run (S replaces the 64 B; the 2 % still applies when larger).
            (long bytes, long slack) = expected.ValueKind == System.Text.Json.JsonValueKind.Object
                ? (expected.GetProperty("bytes").GetInt64(), expected.GetProperty("slackBytes").GetInt64())
                : (expected.GetInt64(), 64L);
            long limit = Math.Max(bytes + slack, (long)(bytes * 1.02));
            bool ok = allocated <= limit;
            failures += ok ? 0 : 1;
            Console.WriteLine($"allocation gate: {name}: {allocated} B (baseline {bytes} B, limit {limit} B) {(ok ? "ok" : "REGRESSION")}");
        }

        return failures == 0 ? 0 : 1;
    }
}

/// <summary>
/// Quick loop: is the emulator ever the bottleneck? Requests per second the client sends to a trivial canned server
/// (the most it can send) versus to the emulator, 32 concurrent callers for 5 s each, same process, same 2 cores.
/// </summary>
internal static class ThroughputReport
{
    public static async Task RunAsync()
    {
        Console.WriteLine($"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, 32 concurrent callers, 5 s per row");
        await using (var canned = await CannedServer.StartAsync())
        {
            using var client = new ScrapeDoClient(new ScrapeDoClientOptions { Token = CannedServer.Token, BaseAddress = canned.BaseAddress });
            await MeasureAsync("client -> canned server, get job (2 tasks)", () => client.GetJobAsync(CannedServer.SmallJob));
        }

        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Accounts = [new EmulatorAccount(EmulatorOptions.DefaultToken, "advanced")] });
        using var lean = new ScrapeDoClient(new ScrapeDoClientOptions { Token = EmulatorOptions.DefaultToken, BaseAddress = emulator.BaseAddress });
        var job = await lean.CreateJobAsync(new CreateJobRequest { Targets = ["https://a.example/1", "https://a.example/2"] });
        await MeasureAsync("client -> emulator, get job (2 tasks)", () => lean.GetJobAsync(job.JobId));
        await MeasureAsync("client -> emulator, account (/me)", () => lean.GetAccountAsync());
        await MeasureAsync("client -> emulator, get task (2 KB page)", () => lean.GetTaskAsync(job.JobId, job.TaskIds[0]));

        // Again at the end, with every path tiered up, so the two servers are compared on equal terms.
        await using var cannedAgain = await CannedServer.StartAsync();
        using var again = new ScrapeDoClient(new ScrapeDoClientOptions { Token = CannedServer.Token, BaseAddress = cannedAgain.BaseAddress });
        await MeasureAsync("client -> canned server, get job (2 tasks), measured last", () => again.GetJobAsync(CannedServer.SmallJob));
    }

    private static async Task MeasureAsync<T>(string name, Func<Task<T>> call)
    {
        for (int i = 0; i < 200; i++)
        {
            await call();
        }

        long count = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(5))
            {
                await call();
                Interlocked.Increment(ref count);
            }
        }));
        Console.WriteLine($"{name}: {count / clock.Elapsed.TotalSeconds:N0} requests/s");
    }
}

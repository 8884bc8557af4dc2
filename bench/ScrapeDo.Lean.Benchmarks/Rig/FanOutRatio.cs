using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.Benchmarks.Rig;

/// <summary>
/// <c>--fanout-ratio</c>: <see cref="ScrapeDoRunner"/> against the raw <see cref="FloorLoop"/> (and the <c>scrapedo</c>
/// CLI end to end), in interleaved rounds over the same targets, against one emulator in its own process. Reports
/// medians of client CPU µs per target, allocated bytes per target (this process; the CLI's are not visible from here)
/// and requests per target, with ratios to the floor of the same transport.
/// </summary>
public static class FanOutRatio
{
    /// <summary>Options of one harness run; <see cref="Only"/> keeps just the named contenders (<c>runner</c>,
    /// <c>lease</c>, <c>floor</c>, <c>control</c>, <c>cli</c>, <c>app</c>), e.g. to profile one of them alone.
    /// <see cref="RunnerApp"/> is a <c>runner-probe</c> binary (bench/ScrapeDo.Lean.RunnerProbe): the runner alone in a
    /// fresh process per round, built as the CLI is, so the CLI's row can be read against a runner that pays the same
    /// start-up and JIT. <see cref="Gen0Budget"/>, when not 0, is the GC's gen0 budget in bytes for every contender's
    /// process alike (<c>DOTNET_GCgen0size</c>; only with <see cref="Isolated"/>, where each contender has a process
    /// of its own): a way to compare the contenders' own work on a machine whose page faults are dear, reported
    /// beside the runtime's default, never instead of it. <see cref="TierUpRuns"/> small runs of each in-process
    /// contender follow its first warm-up (<see cref="TierUpAsync"/>; 0: none).</summary>
    public sealed record Settings(int Targets, int Rounds, int ContentBytes, string[] Transports, string? Cli, string OutputDirectory, int Warmups = 3, string[]? Only = null, string? RunnerApp = null, RoundStart Start = RoundStart.Collect, bool Isolated = false, int MaxWarmups = 0, long Gen0Budget = 0, int TierUpRuns = 0)
    {
        /// <summary>Targets of each tier-up run: one small job, so a run costs little beyond the code it calls once.</summary>
        public const int TierUpTargets = 10;

        /// <summary>Tier-up runs in flight at once: each waits about 250 ms for its job's first poll.</summary>
        public const int TierUpParallel = 8;

        /// <summary>The tier-up runs the rig makes by default (<c>--tier-up-runs</c>): past the 30 calls after which the
        /// runtime recompiles a method with instrumentation and the 30 after which it compiles it fully, with room.</summary>
        public const int DefaultTierUpRuns = 100;

        /// <summary>
        /// The share of a warm-up run's CPU that its JIT compiles may still take for the in-process contenders to count
        /// as settled. Tiering goes on well past 3 warm-ups on the project VM: with 3, the first measured rounds compiled
        /// 200–400 methods in 100–280 ms each, about a third of a round's CPU, and the runner (more methods called once
        /// per job) twice what the floor compiled; after about 10 warm-ups a round compiles 0–50 methods in 0–50 ms.
        /// </summary>
        public const double SettledJitShare = 0.03;
    }

    /// <summary>What happens in this process before an in-process contender's measured round.</summary>
    public enum RoundStart
    {
        /// <summary>A full blocking collection (twice, around the finalizers), so no round pays for another's garbage.
        /// After it the GC sizes its free memory anew, and a contender that then allocates more than it kept first
        /// touches fresh pages (on the project VM 11–16 µs each): with contenders of different allocation volumes in
        /// turn, those page faults land mostly on the heaviest allocator (docs/benchmarks.md, the session of 2026-12-06 20:26 UTC).</summary>
        Collect,

        /// <summary>Nothing, before any contender (the CLI's and the probe's rounds too, so the next in-process round
        /// does not start on a freshly collected heap): rounds follow each other as the work of one long-running
        /// process would, with the GC collecting when its own budget says. A round may then pay for collecting the previous contender's garbage;
        /// the GC pause column bounds that (pauses cost in proportion to what survives, not to the garbage).</summary>
        None,
    }

    /// <summary>One measured run of one contender.</summary>
    /// <remarks><see cref="Gen1Collections"/> counts the round's collections of gen1 or older; <see cref="Gen1MiB"/> and
    /// <see cref="CommittedMiB"/> are gen1's size and the GC's committed memory after the last collection before the
    /// round ended: with the page faults, how a contender's process keeps or gives back its memory between collections
    /// (docs/benchmarks.md, 2026-12-07; <see cref="GcTrace"/> shows it collection by collection).</remarks>
    public sealed record Sample(double CpuUsPerTarget, double AllocatedBytesPerTarget, double RequestsPerTarget, double WallSeconds, int Succeeded, double SwitchesPerTarget = double.NaN, double WorkItemsPerTarget = double.NaN, double GcPauseUsPerTarget = double.NaN, int GarbageCollections = -1, double PageFaultsPerTarget = double.NaN, double JitMs = double.NaN, int JitMethods = -1, int Gen1Collections = -1, double Gen1MiB = double.NaN, double CommittedMiB = double.NaN);

    /// <summary>All rounds of one contender over one transport, with medians.</summary>
    public sealed record Row(string Transport, string Name, List<Sample> Samples)
    {
        public double CpuUsPerTarget => Median(Samples.Select(s => s.CpuUsPerTarget));

        public double AllocatedBytesPerTarget => Median(Samples.Select(s => s.AllocatedBytesPerTarget));

        public double RequestsPerTarget => Median(Samples.Select(s => s.RequestsPerTarget));

        public double WallSeconds => Median(Samples.Select(s => s.WallSeconds));

        /// <summary>Context switches of the client process per target (voluntary and involuntary; NaN for the CLI):
        /// how often its threads slept and woke, steadier than CPU time on a shared machine.</summary>
        public double SwitchesPerTarget => Median(Samples.Select(s => s.SwitchesPerTarget));

        /// <summary>Thread-pool work items this process completed per target (NaN for the CLI): each is a hand-off
        /// between threads, which on a shared core costs wake-ups and spinning; a count, so it does not swing with the
        /// machine as CPU time does.</summary>
        public double WorkItemsPerTarget => Median(Samples.Select(s => s.WorkItemsPerTarget));

        /// <summary>Time this process spent paused for garbage collections per target, a mean over the rounds (NaN for
        /// the CLI). A mean, not a median: each round starts after a full collection, so a contender collects about
        /// once every few rounds (how often depends on what it allocates and on the GC's own gen0 budget, which moved
        /// 5–43 MB between rounds of one process), and a median would read as zero the cost that a mean spreads over
        /// the rounds as a long run spreads it over its targets.</summary>
        public double GcPauseUsPerTarget => Samples.Count == 0 ? double.NaN : Samples.Average(s => s.GcPauseUsPerTarget);

        /// <summary>Minor page faults of this process per target, a mean over the rounds as for GC pauses (NaN for the
        /// CLI and off Linux): first touches of memory the process had not used or had given back, a fresh gen0 region
        /// after a collection among them. On the project VM each costs 10–16 µs (docs/benchmarks.md), so a few tenths
        /// per target are microseconds of CPU.</summary>
        public double PageFaultsPerTarget => Samples.Count == 0 ? double.NaN : Samples.Average(s => s.PageFaultsPerTarget);

        /// <summary>Collections of gen1 (or older) per round, a mean (NaN for the CLI).</summary>
        public double Gen1CollectionsPerRound => Samples.Count == 0 || Samples[0].Gen1Collections < 0 ? double.NaN : Samples.Average(s => s.Gen1Collections);

        /// <summary>Gen1's size after the last collection of each round, a median in MiB (NaN for the CLI).</summary>
        public double Gen1MiB => Median(Samples.Select(s => s.Gen1MiB));

        /// <summary>The GC's committed memory after the last collection of each round, a median in MiB (NaN for the CLI).</summary>
        public double CommittedMiB => Median(Samples.Select(s => s.CommittedMiB));

        public double CpuSpread => Samples.Count < 2 ? 0 : (Samples.Max(s => s.CpuUsPerTarget) - Samples.Min(s => s.CpuUsPerTarget)) / CpuUsPerTarget;
    }

    /// <summary>The harness result, as written to <c>fanout-ratio.json</c>.</summary>
    /// <remarks><see cref="PageFaultUs"/> is <see cref="PageFaultCost.MeasureMicroseconds"/> on the client core at the
    /// start of the run; <see cref="Gen0Budget"/> is <see cref="Settings.Gen0Budget"/> (0: the runtime's own), <see cref="TierUpRuns"/> is <see cref="Settings.TierUpRuns"/>.</remarks>
    public sealed record Result(string Date, string Machine, string Placement, int Targets, int Rounds, int ContentBytes, List<Row> Rows, bool ServersStoppedCleanly, double CliStartupCpuMs, double RunnerAppStartupCpuMs = double.NaN, RoundStart Start = RoundStart.Collect, bool Isolated = false, double PageFaultUs = double.NaN, long Gen0Budget = 0, int TierUpRuns = 0);

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        // The round start by name in the JSON; earlier files, without it, read as the default.
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    /// <summary>Runs the harness and writes <c>fanout-ratio.json</c> and <c>fanout-ratio.md</c>.</summary>
    public static async Task<Result> RunAsync(Settings settings)
    {
        if (settings.Gen0Budget != 0 && !settings.Isolated)
        {
            throw new ArgumentException("a gen0 budget needs the contenders in processes of their own (--isolated)");
        }

        double pageFaultUs = PageFaultCost.MeasureMicroseconds();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fan-out ratio: {settings.Targets} targets x {settings.Rounds} rounds after {(settings.MaxWarmups > settings.Warmups ? $"{settings.Warmups}-{settings.MaxWarmups} warm-up runs (until the JIT settles)" : $"{settings.Warmups} warm-up runs")}{(settings.TierUpRuns > 0 ? $" and {settings.TierUpRuns} tier-up runs of {Settings.TierUpTargets} targets" : "")}, {settings.ContentBytes} B contents, rounds start with: {Describe(settings.Start)}, {DescribePlacement(settings.Isolated)}, {DescribeGc(settings.Gen0Budget)}, {Pinning.Describe()}; a page fault costs {pageFaultUs:0.00} us here"));
        string[] urls = Urls(settings.Targets);
        var rows = new List<Row>();
        bool clean = true;
        double cliStartup = double.NaN, appStartup = double.NaN;
        foreach (string transport in settings.Transports)
        {
            bool https = BenchTransport.IsHttps(transport);
            Version version = BenchTransport.VersionOf(transport);
            ServerProcess server = await ServerProcess.StartAsync(ServerKind.Emulator, https, settings.ContentBytes);
            var workers = new Dictionary<Row, FanOutWorker.Handle>();
            try
            {
                using var client = BenchTransport.Lean(server.BaseAddress, EmulatorOptions.DefaultToken, server.Certificate, version);
                using var http = new HttpClient(BenchTransport.Handler(server.Certificate)) { Timeout = Timeout.InfiniteTimeSpan };
                var runner = new Row(transport, "ScrapeDo.Lean runner", []);
                var leased = new Row(transport, "ScrapeDo.Lean runner (lease)", []);
                var floor = new Row(transport, "floor (raw HttpClient)", []);
                var control = new Row(transport, ControlName, []);
                Row? cli = settings.Cli is not null && !https ? new Row(transport, "scrapedo run (CLI, end to end)", []) : null;
                Row? app = settings.RunnerApp is not null && !https ? new Row(transport, "runner-probe (runner alone, fresh process)", []) : null;
                string? input = null;
                if (cli is not null || app is not null)
                {
                    input = Path.Combine(Path.GetTempPath(), $"scrapedo-bench-{Environment.ProcessId}.txt");
                    await File.WriteAllLinesAsync(input, urls);
                }

                var contenders = new List<(Row Row, Func<Task<int>> Run, bool InProcess)>
                {
                    (runner, () => RunRunnerAsync(client, urls), true),
                    (leased, () => RunLeasedAsync(client, urls), true),
                    (floor, () => FloorLoop.RunAsync(http, server.BaseAddress, EmulatorOptions.DefaultToken, urls, version), true),
                    (control, () => FloorLoop.RunAsync(http, server.BaseAddress, EmulatorOptions.DefaultToken, urls, version, arrayPerBody: true), true),
                };
                // The same contenders on a few targets, for the tier-up runs (in-process contenders only: the CLI and the
                // probe start a fresh process, and so a fresh JIT, every round).
                string[] few = Urls(Settings.TierUpTargets);
                var small = new Dictionary<Row, Func<Task<int>>>
                {
                    [runner] = () => RunRunnerAsync(client, few),
                    [leased] = () => RunLeasedAsync(client, few),
                    [floor] = () => FloorLoop.RunAsync(http, server.BaseAddress, EmulatorOptions.DefaultToken, few, version),
                    [control] = () => FloorLoop.RunAsync(http, server.BaseAddress, EmulatorOptions.DefaultToken, few, version, arrayPerBody: true),
                };
                if (cli is not null)
                {
                    contenders.Add((cli, () => RunCliAsync(settings.Cli!, server.BaseAddress, input!), false));
                }

                if (app is not null)
                {
                    contenders.Add((app, () => RunAppAsync(settings.RunnerApp!, server.BaseAddress, input!), false));
                }

                if (settings.Only is { Length: > 0 } only)
                {
                    contenders.RemoveAll(c => !only.Contains(c.Row == runner ? "runner" : c.Row == leased ? "lease" : c.Row == floor ? "floor" : c.Row == control ? "control" : c.Row == app ? "app" : "cli"));
                }

                if (settings.Isolated)
                {
                    foreach ((Row row, string name) in new[] { (runner, "runner"), (leased, "lease"), (floor, "floor"), (control, "control") })
                    {
                        if (contenders.Any(c => c.Row == row))
                        {
                            workers[row] = await FanOutWorker.Handle.StartAsync(name, server, transport, settings.Targets, settings.Gen0Budget);
                        }
                    }
                }

                if (cli is not null)
                {
                    cliStartup = await StartupCpuMsAsync(server, input!, urls[0], one => RunCliAsync(settings.Cli!, server.BaseAddress, one), "scrapedo run");
                }

                if (app is not null)
                {
                    appStartup = await StartupCpuMsAsync(server, input!, urls[0], one => RunAppAsync(settings.RunnerApp!, server.BaseAddress, one), "runner-probe");
                }

                // Warm-up, not counted: full-size runs of each, so tiered JIT (whose background compiles count as CPU of
                // this process), the thread pool and the GC budgets have settled. On the project machine the first
                // counted rounds still cost up to 4x the later ones after 1,000 or even 2 x 10,000 warm-up targets: the
                // JIT, mostly (see SettledJitShare). Past settings.Warmups, the warm-ups go on, for every contender alike,
                // until the last one of each in-process contender spent at most that share of its CPU compiling, or
                // settings.MaxWarmups is reached, which the output says.
                int warmups = 0;
                bool settled = false;
                while (warmups < settings.Warmups || (!settled && warmups < settings.MaxWarmups))
                {
                    settled = true;
                    foreach (var (row, run, inProcess) in contenders)
                    {
                        Sample? warm = workers.TryGetValue(row, out FanOutWorker.Handle? worker) ? await worker.MeasureAsync(collectFirst: false)
                            : inProcess ? await MeasureSelfAsync(settings.Targets, run, collectFirst: false)
                            : null;
                        settled &= warm is null || warm.JitMs <= warm.CpuUsPerTarget * settings.Targets / 1000 * Settings.SettledJitShare;
                    }

                    warmups++;
                    if (warmups == 1 && settings.TierUpRuns > 0)
                    {
                        await TierUpAllAsync(transport, settings.TierUpRuns, contenders.Where(c => c.InProcess).Select(c => c.Row), workers, small);
                    }
                }

                if (settings.MaxWarmups > settings.Warmups)
                {
                    Console.WriteLine($"  {transport}: {warmups} warm-up runs of each contender{(settled ? ", the JIT settled" : $"; the JIT had not settled after {settings.MaxWarmups}, measuring anyway")}");
                }

                for (int round = 0; round < settings.Rounds; round++)
                {
                    // Rotate who goes first, so neither side always runs on a warmer or cooler machine.
                    for (int k = 0; k < contenders.Count; k++)
                    {
                        var (row, run, inProcess) = contenders[(k + round) % contenders.Count];
                        bool collectFirst = settings.Start == RoundStart.Collect;
                        Sample sample = workers.TryGetValue(row, out FanOutWorker.Handle? worker)
                            ? await CountingRequestsAsync(server, settings.Targets, () => worker.MeasureAsync(collectFirst))
                            : await MeasureAsync(server, settings.Targets, run, inProcess, collectFirst);
                        row.Samples.Add(sample);
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"  {transport} round {round + 1}: {row.Name}: {sample.CpuUsPerTarget:0.0} us CPU/target, {sample.SwitchesPerTarget:0.00} switches/target, {sample.WorkItemsPerTarget:0.00} work items/target, {sample.GarbageCollections} GCs ({sample.Gen1Collections} gen1+) paused {sample.GcPauseUsPerTarget:0.00} us/target, gen1 {sample.Gen1MiB:0.0} MiB, committed {sample.CommittedMiB:0.0} MiB, {sample.PageFaultsPerTarget:0.000} page faults/target, JIT {sample.JitMethods} methods in {sample.JitMs:0.0} ms, {sample.AllocatedBytesPerTarget:N0} B/target, {sample.RequestsPerTarget:0.0000} req/target, wall {sample.WallSeconds:0.00} s, {sample.Succeeded} ok"));
                    }
                }

                rows.AddRange(contenders.Select(c => c.Row).OrderBy(r => r == runner ? 0 : r == leased ? 1 : r == floor ? 2 : r == control ? 3 : r == app ? 4 : 5));
                if (input is not null)
                {
                    File.Delete(input);
                }
            }
            finally
            {
                foreach (FanOutWorker.Handle worker in workers.Values)
                {
                    await worker.DisposeAsync();
                }

                await server.DisposeAsync();
                clean &= server.StoppedCleanly;
                Console.WriteLine($"  {transport}: emulator process stopped {(server.StoppedCleanly ? "cleanly" : "NOT cleanly")} in {server.StopTime.TotalSeconds:0.00} s");
            }
        }

        var result = new Result(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture), Machine(), Pinning.Describe(), settings.Targets, settings.Rounds, settings.ContentBytes, rows, clean, cliStartup, appStartup, settings.Start, settings.Isolated, pageFaultUs, settings.Gen0Budget, settings.TierUpRuns);
        Directory.CreateDirectory(settings.OutputDirectory);
        string json = Path.Combine(settings.OutputDirectory, "fanout-ratio.json");
        await File.WriteAllTextAsync(json, JsonSerializer.Serialize(result, Json));
        string markdown = Markdown(result);
        await File.WriteAllTextAsync(Path.Combine(settings.OutputDirectory, "fanout-ratio.md"), markdown);
        Console.WriteLine();
        Console.WriteLine(markdown);
        Console.WriteLine($"written: {json}");
        return result;
    }

    /// <summary>The Markdown table of a result: medians and ratios to the floor of the same transport.</summary>
    public static string Markdown(Result r)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{r.Targets:N0} targets × {r.Rounds} interleaved rounds, {r.ContentBytes:N0} B contents, {r.Date}; {(r.TierUpRuns > 0 ? $"{r.TierUpRuns} tier-up runs of {Settings.TierUpTargets} targets" : "no tier-up runs")} after the first warm-up; rounds start with: {Describe(r.Start)}; {DescribePlacement(r.Isolated)}; {DescribeGc(r.Gen0Budget)}; {r.Placement}; a page fault costs {r.PageFaultUs:0.00} µs here.");
        sb.AppendLine();
        sb.AppendLine("| Transport | Contender | CPU µs/target (median) | × floor | × floor, paired | Spread (max−min)/median | Allocated B/target | × floor | Context switches/target | Thread-pool work items/target | GC pause µs/target (mean) | Gen1 collections/round (mean) | Gen1 MiB (median) | Committed MiB (median) | Page faults/target (mean) | µs/target in page faults | Requests/target | Wall s |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (Row row in r.Rows)
        {
            Row floor = r.Rows.FirstOrDefault(x => x.Transport == row.Transport && x.Name.StartsWith("floor", StringComparison.Ordinal)) ?? row;
            // Allocation and context switches of another process are not visible from here.
            bool cli = row.Name.Contains("CLI", StringComparison.Ordinal) || row.Name.StartsWith("runner-probe", StringComparison.Ordinal);
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {row.Transport} | {row.Name} | {row.CpuUsPerTarget:0.0} | {row.CpuUsPerTarget / floor.CpuUsPerTarget:0.00} | {PairedRatio(row, floor):0.00} | {row.CpuSpread:P0} | {(cli ? "–" : row.AllocatedBytesPerTarget.ToString("N0", CultureInfo.InvariantCulture))} | {(cli ? "–" : (row.AllocatedBytesPerTarget / floor.AllocatedBytesPerTarget).ToString("0.00", CultureInfo.InvariantCulture))} | {(cli ? "–" : row.SwitchesPerTarget.ToString("0.00", CultureInfo.InvariantCulture))} | {(cli ? "–" : row.WorkItemsPerTarget.ToString("0.00", CultureInfo.InvariantCulture))} | {(cli ? "–" : row.GcPauseUsPerTarget.ToString("0.00", CultureInfo.InvariantCulture))} | {(cli ? "–" : row.Gen1CollectionsPerRound.ToString("0.0", CultureInfo.InvariantCulture))} | {(cli ? "–" : row.Gen1MiB.ToString("0.0", CultureInfo.InvariantCulture))} | {(cli ? "–" : row.CommittedMiB.ToString("0.0", CultureInfo.InvariantCulture))} | {(cli ? "–" : row.PageFaultsPerTarget.ToString("0.000", CultureInfo.InvariantCulture))} | {(cli ? "–" : (row.PageFaultsPerTarget * r.PageFaultUs).ToString("0.0", CultureInfo.InvariantCulture))} | {row.RequestsPerTarget:0.0000} | {row.WallSeconds:0.00} |"));
        }

        sb.AppendLine();
        foreach (Row row in r.Rows.Where(x => FanOutTarget.AppliesTo(x.Name)))
        {
            Row? floor = r.Rows.FirstOrDefault(x => x.Transport == row.Transport && x.Name.StartsWith("floor", StringComparison.Ordinal));
            if (floor is not null)
            {
                sb.AppendLine(FanOutTarget.Verdict(row.Transport, row.Name, PairedRatio(row, floor), row.AllocatedBytesPerTarget, floor.AllocatedBytesPerTarget, r.ContentBytes));
            }
        }

        Row? runner = r.Rows.FirstOrDefault(x => x.Transport == BenchTransport.Http && x.Name.Contains("runner", StringComparison.Ordinal));
        Row? cliRow = r.Rows.FirstOrDefault(x => x.Name.Contains("CLI", StringComparison.Ordinal));
        Row? appRow = r.Rows.FirstOrDefault(x => x.Name.StartsWith("runner-probe", StringComparison.Ordinal));
        double cliMarginal = cliRow is null ? double.NaN : cliRow.CpuUsPerTarget - (r.CliStartupCpuMs * 1000 / r.Targets);
        double appMarginal = appRow is null ? double.NaN : appRow.CpuUsPerTarget - (r.RunnerAppStartupCpuMs * 1000 / r.Targets);
        if (runner is not null && cliRow is not null)
        {
            sb.AppendLine();
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"CLI end to end against the runner (same transport): {cliRow.CpuUsPerTarget / runner.CpuUsPerTarget:0.00}× CPU per target. A 1-target `scrapedo run` costs {r.CliStartupCpuMs:0} ms of CPU (start-up, JIT, one create/poll/fetch); without it the CLI spends {cliMarginal:0.0} µs per target, {cliMarginal / runner.CpuUsPerTarget:0.00}× the runner."));
        }

        if (appRow is not null)
        {
            sb.AppendLine();
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"The runner alone in a fresh process (`runner-probe`): a 1-target run costs {r.RunnerAppStartupCpuMs:0} ms of CPU; without it {appMarginal:0.0} µs per target{(runner is null ? "" : string.Create(CultureInfo.InvariantCulture, $", {appMarginal / runner.CpuUsPerTarget:0.00}× the warm in-process runner"))}."));
            if (cliRow is not null)
            {
                sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"CLI against the runner when both start fresh (start-up subtracted from each): {cliMarginal / appMarginal:0.00}× CPU per target; paired per round, start-up included: {Median(cliRow.Samples.Zip(appRow.Samples, (c, a) => c.CpuUsPerTarget / a.CpuUsPerTarget)):0.00}×."));
            }
        }

        return sb.ToString();
    }

    /// <summary>
    /// The median over rounds of this row's CPU per target divided by the floor's in the same round: neighbours in time
    /// share the machine's state (load from other processes, caches), so this is the steadier ratio on a shared box.
    /// </summary>
    public static double PairedRatio(Row row, Row floor) =>
        Median(row.Samples.Zip(floor.Samples, (a, b) => a.CpuUsPerTarget / b.CpuUsPerTarget));

    internal static string Machine() =>
        $"{RuntimeInformation.OSDescription}, {Environment.ProcessorCount} logical cores, {RuntimeInformation.FrameworkDescription}";

    internal static async Task<int> RunRunnerAsync(ScrapeDoClient client, string[] urls)
    {
        int ok = 0;
        await foreach (TaskOutcome outcome in new ScrapeDoRunner(client).RunAsync(urls))
        {
            ok += outcome.Status == OutcomeStatus.Success ? 1 : 0;
        }

        return ok;
    }

    /// <summary>The runner with <see cref="RunOptions.LeaseContent"/>: each content is read from its lease (the sink a
    /// streaming consumer would write to, here a checksum over the bytes) and the lease disposed.</summary>
    internal static async Task<int> RunLeasedAsync(ScrapeDoClient client, string[] urls)
    {
        int ok = 0;
        long sum = 0;
        await foreach (TaskOutcome outcome in new ScrapeDoRunner(client, new RunOptions { LeaseContent = true }).RunAsync(urls))
        {
            using TaskContentLease? lease = outcome.ContentLease;
            if (outcome.Status == OutcomeStatus.Success && lease is not null)
            {
                ok++;
                sum += lease.Span[^1];
            }
        }

        GC.KeepAlive(sum);
        return ok;
    }

    /// <summary>The control contender's row name: the floor that hands every task body out as an array of its own.</summary>
    public const string ControlName = "control: floor, each body in a new array";

    /// <summary>How a gen0 budget setting reads in reports.</summary>
    public static string DescribeGc(long gen0Budget) =>
        gen0Budget == 0 ? "the GC's own gen0 budget" : string.Create(CultureInfo.InvariantCulture, $"gen0 budget fixed at {gen0Budget / (1024.0 * 1024):0.#} MiB for every contender (DOTNET_GCgen0size)");

    /// <summary>How <paramref name="start"/> is named on the command line and in reports.</summary>
    public static string Describe(RoundStart start) => start == RoundStart.None ? "none (no induced collection)" : "collect (a full collection)";

    /// <summary>The harness's target URLs.</summary>
    internal static string[] Urls(int targets) => Enumerable.Range(0, targets).Select(i => $"https://site.example/products/{i}").ToArray();

    /// <summary>How <paramref name="isolated"/> places the contenders, in reports.</summary>
    public static string DescribePlacement(bool isolated) => isolated ? "each contender in its own process" : "all contenders in one process";

    private static Task<Sample> MeasureAsync(ServerProcess server, int targets, Func<Task<int>> run, bool inProcess, bool collectFirst = true) =>
        CountingRequestsAsync(server, targets, () => inProcess ? MeasureSelfAsync(targets, run, collectFirst) : MeasureChildAsync(targets, run, collectFirst));

    /// <summary><paramref name="measure"/>'s sample with the requests the server saw meanwhile.</summary>
    private static async Task<Sample> CountingRequestsAsync(ServerProcess server, int targets, Func<Task<Sample>> measure)
    {
        ServerCounters before = await server.CountersAsync();
        Sample sample = await measure();
        ServerCounters served = await server.CountersAsync() - before;
        return sample with { RequestsPerTarget = (double)served.Total / targets };
    }

    /// <summary>Tier-up runs (<see cref="TierUpAsync"/>) of each in-process contender, in its worker or here, and what
    /// they compiled, printed.</summary>
    private static async Task TierUpAllAsync(string transport, int runs, IEnumerable<Row> rows, Dictionary<Row, FanOutWorker.Handle> workers, Dictionary<Row, Func<Task<int>>> small)
    {
        var compiled = new List<string>();
        foreach (Row row in rows)
        {
            TierUp t = workers.TryGetValue(row, out FanOutWorker.Handle? worker) ? await worker.TierUpAsync(runs) : await TierUpAsync(runs, small[row]);
            compiled.Add(string.Create(CultureInfo.InvariantCulture, $"{row.Name} {t.JitMethods} methods in {t.JitMs:0} ms ({t.Seconds:0.0} s)"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {transport}: tier-up after the first warm-up, {runs} runs of {Settings.TierUpTargets} targets each, {Settings.TierUpParallel} at a time: {string.Join("; ", compiled)}"));
    }

    /// <summary>What a contender's tier-up runs compiled, and how long they took.</summary>
    public sealed record TierUp(double JitMs, long JitMethods, double Seconds);

    /// <summary>
    /// <paramref name="runs"/> small runs of <paramref name="smallRun"/> (<see cref="Settings.TierUpTargets"/> targets each,
    /// <see cref="Settings.TierUpParallel"/> at a time, each through <see cref="MeasureSelfAsync"/> as a round is), so
    /// that code called once per run (a run's set-up and teardown, and the harness's measuring) is fully compiled before
    /// the measured rounds. The runtime recompiles a method after 30 calls with instrumentation and after 30 more for
    /// good; 1–2 calls a round left such code compiling well into the measured rounds (up to 75 ms in one round of the
    /// runner's, 30 rounds in; docs/benchmarks.md, the session of 2026-12-07 23:42 UTC), a start-up cost that full-size warm-ups take a minute
    /// each to pay off. Per-target code is compiled during the first full warm-up, before this, on a full run's profile.
    /// </summary>
    internal static async Task<TierUp> TierUpAsync(int runs, Func<Task<int>> smallRun)
    {
        TimeSpan jit0 = JitInfo.GetCompilationTime();
        long methods0 = JitInfo.GetCompiledMethodCount();
        var clock = Stopwatch.StartNew();
        int started = 0;
        async Task LaneAsync()
        {
            while (Interlocked.Increment(ref started) <= runs)
            {
                Sample sample = await MeasureSelfAsync(Settings.TierUpTargets, smallRun, collectFirst: false);
                if (sample.Succeeded != Settings.TierUpTargets)
                {
                    throw new InvalidOperationException($"a tier-up run succeeded for {sample.Succeeded} of {Settings.TierUpTargets} targets");
                }

                // As a worker answers each round: that code too is called once a round.
                _ = JsonSerializer.Serialize(sample, Json);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Settings.TierUpParallel).Select(_ => LaneAsync()));
        return new TierUp((JitInfo.GetCompilationTime() - jit0).TotalMilliseconds, JitInfo.GetCompiledMethodCount() - methods0, clock.Elapsed.TotalSeconds);
    }

    /// <summary>A run of a child process (the CLI, the runner probe): its CPU once it has been waited for.</summary>
    private static async Task<Sample> MeasureChildAsync(int targets, Func<Task<int>> run, bool collectFirst)
    {
        if (collectFirst)
        {
            CollectAll();
        }

        TimeSpan children0 = ChildrenCpu();
        var clock = Stopwatch.StartNew();
        int ok = await run();
        clock.Stop();
        TimeSpan cpu = ChildrenCpu() - children0;
        return new Sample(cpu.TotalMicroseconds / targets, double.NaN, double.NaN, clock.Elapsed.TotalSeconds, ok);
    }

    private static void CollectAll()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>One run of <paramref name="run"/> in this process, measured from inside it (requests per target are left
    /// NaN: the server counts them).</summary>
    internal static async Task<Sample> MeasureSelfAsync(int targets, Func<Task<int>> run, bool collectFirst)
    {
        if (collectFirst)
        {
            CollectAll();
        }

        using var self = Process.GetCurrentProcess();
        TimeSpan cpu0 = self.TotalProcessorTime;
        long allocated0 = GC.GetTotalAllocatedBytes(precise: true);
        RUsage? usage0 = Usage();
        long workItems0 = ThreadPool.CompletedWorkItemCount;
        int collections0 = GC.CollectionCount(0);
        int olderCollections0 = GC.CollectionCount(1);
        TimeSpan paused0 = GC.GetTotalPauseDuration();
        TimeSpan jit0 = JitInfo.GetCompilationTime();
        long jitMethods0 = JitInfo.GetCompiledMethodCount();
        var clock = Stopwatch.StartNew();
        int ok = await run();
        clock.Stop();
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated0;
        RUsage? usage1 = Usage();
        long switches = usage0 is { } a && usage1 is { } b ? b.NvCsw + b.NIvCsw - (a.NvCsw + a.NIvCsw) : -1;
        long faults = usage0 is { } c && usage1 is { } d ? d.MinFlt - c.MinFlt : -1;
        long workItems = ThreadPool.CompletedWorkItemCount - workItems0;
        int collections = GC.CollectionCount(0) - collections0;
        int olderCollections = GC.CollectionCount(1) - olderCollections0;
        GCMemoryInfo heap = GC.GetGCMemoryInfo(GCKind.Any);
        TimeSpan paused = GC.GetTotalPauseDuration() - paused0;
        TimeSpan jit = JitInfo.GetCompilationTime() - jit0;
        long jitMethods = JitInfo.GetCompiledMethodCount() - jitMethods0;
        self.Refresh();
        TimeSpan cpu = self.TotalProcessorTime - cpu0;
        return new Sample(cpu.TotalMicroseconds / targets, (double)allocated / targets, double.NaN, clock.Elapsed.TotalSeconds, ok, switches >= 0 ? (double)switches / targets : double.NaN, (double)workItems / targets, paused.TotalMicroseconds / targets, collections, faults >= 0 ? (double)faults / targets : double.NaN, jit.TotalMilliseconds, (int)jitMethods, olderCollections, heap.GenerationInfo[1].SizeAfterBytes / 1048576.0, heap.TotalCommittedBytes / 1048576.0);
    }

    /// <summary>What a 1-target run of a process contender costs (process start, JIT, one create/poll/fetch), median
    /// of 3, to read its per-target CPU against.</summary>
    private static async Task<double> StartupCpuMsAsync(ServerProcess server, string input, string url, Func<string, Task<int>> run, string name)
    {
        string one = input + ".one";
        await File.WriteAllLinesAsync(one, [url]);
        var startups = new List<double>();
        for (int i = 0; i < 3; i++)
        {
            Sample s = await MeasureAsync(server, 1, () => run(one), inProcess: false);
            startups.Add(s.CpuUsPerTarget / 1000);
        }

        File.Delete(one);
        double median = Median(startups);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name} with 1 target: {median:0} ms CPU (median of 3)"));
        return median;
    }

    /// <summary>
    /// <c>scrapedo run INPUT -o OUT -q</c> against the emulator process; CPU is read from <c>getrusage(RUSAGE_CHILDREN)</c>,
    /// which counts the CLI once it has been waited for (the emulator, also a child, is still running then).
    /// </summary>
    private static async Task<int> RunCliAsync(string cli, Uri baseAddress, string input)
    {
        string output = Path.ChangeExtension(input, ".jsonl");
        await RunProcessAsync(cli, ["run", input, "-o", output, "-q"], baseAddress);
        int ok = 0;
        foreach (string line in File.ReadLines(output))
        {
            ok += line.Contains("\"status\":\"success\"", StringComparison.Ordinal) ? 1 : 0;
        }

        File.Delete(output);
        return ok;
    }

    /// <summary><c>runner-probe INPUT</c>, measured as the CLI is; it prints "N of M succeeded".</summary>
    private static async Task<int> RunAppAsync(string app, Uri baseAddress, string input)
    {
        string stdout = await RunProcessAsync(app, [input], baseAddress);
        return int.Parse(stdout.AsSpan(0, stdout.IndexOf(' ', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
    }

    private static async Task<string> RunProcessAsync(string path, string[] arguments, Uri baseAddress)
    {
        var info = new ProcessStartInfo(path) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        if (Environment.GetEnvironmentVariable(Pinning.SteadyStateSetByRig) == "1")
        {
            // A user's process starts with the runtime's defaults; only the in-process contenders are measured warm.
            info.Environment.Remove(Pinning.SteadyStateVariable);
        }

        info.Environment["SCRAPEDO_BASE_URL"] = baseAddress.ToString();
        info.Environment["SCRAPEDO_TOKEN"] = EmulatorOptions.DefaultToken;
        using Process process = Process.Start(info)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        string error = await stderr;
        string output = await stdout;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(path)} exited {process.ExitCode}: {error.Trim()}");
        }

        return output;
    }

    private static TimeSpan ChildrenCpu()
    {
        if (!OperatingSystem.IsLinux() || getrusage(-1, out RUsage usage) != 0)
        {
            return TimeSpan.Zero;
        }

        return TimeSpan.FromMicroseconds((usage.UserSeconds * 1_000_000.0) + usage.UserMicroseconds + (usage.SystemSeconds * 1_000_000.0) + usage.SystemMicroseconds);
    }

    /// <summary>This process's resource usage (context switches, page faults), or null off Linux.</summary>
    private static RUsage? Usage() => OperatingSystem.IsLinux() && getrusage(0, out RUsage usage) == 0 ? usage : null;

    /// <summary>This process's minor page faults so far, or -1 off Linux.</summary>
    internal static long MinorFaults() => Usage() is { } usage ? usage.MinFlt : -1;

    internal static double Median(IEnumerable<double> values)
    {
        double[] v = values.Where(x => !double.IsNaN(x)).Order().ToArray();
        return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[(v.Length / 2) - 1] + v[v.Length / 2]) / 2;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrusage(int who, out RUsage usage);

    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        public long MaxRss, IxRss, IdRss, IsRss, MinFlt, MajFlt, NSwap, InBlock, OuBlock, MsgSnd, MsgRcv, NSignals, NvCsw, NIvCsw;
    }
}

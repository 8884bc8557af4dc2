using System.Diagnostics;
using System.Globalization;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using ScrapeDo.Lean.Internal.Json;
using ScrapeDo.Lean.Internal.Runner;

namespace ScrapeDo.Lean.Benchmarks.Rig;

/// <summary>
/// <c>--percall-ratio</c>: the per-call and parsing rows of <see cref="PerCallBenchmarks"/>, <see cref="TlsPerCallBenchmarks"/>
/// and <see cref="SerializationBenchmarks"/> (the same methods, found by their <c>[Benchmark]</c> attributes and
/// categories, on the same canned server in its own process), measured by CPU time rather than by BenchmarkDotNet's
/// wall-clock iterations, which this shared 2-vCPU VM cannot resolve.
/// <para>
/// For each operation: a warm-up, then many rounds; in each round every contender runs one batch of N calls (N chosen so
/// a batch takes about <see cref="Settings.BatchMs"/>), in a new seeded random order each round, after a
/// full collection so each batch starts on an empty young generation and pays for its own collections. A batch records
/// CPU time per call (process CPU for calls over HTTP, whose continuations run on pool threads; the calling thread's CPU
/// for in-memory parses), wall time per call and allocated bytes per call. The ratio of ScrapeDo.Lean to each peer is
/// taken per round (neighbours in time share the machine's state, so the paired ratio cancels most of the drift that
/// makes the unpaired medians wander), and reported as median and p25–p75 over the rounds. An A/A control (ScrapeDo.Lean
/// against a second copy of itself, in the same rotation) shows the resolution of the day on every operation.
/// </para>
/// <para>
/// Usage: <c>dotnet run -c Release --project bench/ScrapeDo.Lean.Benchmarks -- --percall-ratio [--suites percall,tls,parse,body,poll]
/// [--filter http/Create1000,parse[2]/] [--peers Naive,Refit] [--rounds 21] [--batch-ms 20] [--margin-pct 3] [--no-control]
/// [--only Lean] [--out DIR]</c>; the whole set takes about 3 minutes on the project VM. The client is re-launched under
/// <c>taskset</c> on core 0 (the canned server on core 1) with <c>DOTNET_TC_CallCountingDelayMs=0</c> (see Program.cs):
/// on one CPU the runtime otherwise kept ScrapeDo.Lean's code at tier 0 for the whole run. <c>--only NAME</c> runs one
/// contender alone, for <c>perf record</c> with <c>DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0</c>.
/// </para>
/// Verdict at margin m: <b>ahead</b> when the median paired ratio is at most 1 − m and its p75 is under 1; <b>behind</b>
/// when the median is at least 1 + m and its p25 is over 1; <b>level</b> otherwise.
/// </summary>
public static class PerCallRatio
{
    /// <summary>Options of one harness run.</summary>
    /// <param name="Rounds">Interleaved rounds per operation.</param>
    /// <param name="BatchMs">Target wall time of one batch (N calls of one contender); N is at least 1.</param>
    /// <param name="Filter">Substrings; an operation runs when its name (e.g. <c>http/GetJob2</c>, <c>parse/ParseJob[2]</c>) contains one.</param>
    /// <param name="Suites">Any of <c>percall</c>, <c>tls</c>, <c>parse</c> (job, task and create bodies in memory, and the 10 MB escaped-HTML task buffered, streamed and through the webhook receiver), <c>body</c> (Create1000's validation and body writing, no HTTP), <c>poll</c> (the runner's 1,000-task re-poll against the raw read).</param>
    /// <param name="Margin">Verdict margin (0.03 = 3 %).</param>
    /// <param name="Control">Adds the A/A control row (ScrapeDo.Lean against itself) to every operation.</param>
    /// <param name="Peers">Contender names to run besides Lean (and the floor); null for all.</param>
    /// <param name="OutputDirectory">Where <c>percall-ratio.json</c> and <c>.md</c> go.</param>
    /// <param name="Only">Profiling: run only this contender (no ratios), e.g. under <c>perf record</c>.</param>
    public sealed record Settings(int Rounds, int BatchMs, string[] Filter, string[] Suites, double Margin, bool Control, string[]? Peers, string OutputDirectory, string? Only = null);

    /// <summary>One batch of one contender: per-call figures.</summary>
    public sealed record Sample(double CpuUs, double WallUs, double AllocatedBytes);

    /// <summary>All rounds of one contender on one operation.</summary>
    public sealed record Row(string Name, List<Sample> Samples)
    {
        public double CpuUs => Quantile(Samples.Select(s => s.CpuUs), 0.5);

        public double CpuP25 => Quantile(Samples.Select(s => s.CpuUs), 0.25);

        public double CpuP75 => Quantile(Samples.Select(s => s.CpuUs), 0.75);

        public double WallUs => Quantile(Samples.Select(s => s.WallUs), 0.5);

        public double AllocatedBytes => Quantile(Samples.Select(s => s.AllocatedBytes), 0.5);
    }

    /// <summary>Lean against one peer on one operation, from the per-round ratios.</summary>
    public sealed record Pair(string Peer, double Median, double P25, double P75, int LeanLower, int Rounds, string Verdict);

    /// <summary>One operation: its contenders and Lean's paired ratios.</summary>
    public sealed record Operation(string Name, string CpuClock, int CallsPerBatch, List<Row> Rows, List<Pair> Pairs, int WarmupPasses, bool Settled);

    /// <summary>The harness result, as written to <c>percall-ratio.json</c>.</summary>
    public sealed record Result(string Date, string Machine, string Placement, string Command, int Rounds, int BatchMs, double Margin, List<Operation> Operations, bool ServersStoppedCleanly);

    private sealed record Contender(string Name, Func<object> Call, bool Async);

    // ValidateOnly is a component of Lean's own call (body suite), shown for the split, never a peer to be ahead of.
    // Leased is Lean's own per-call lease (GetLeasedTaskAsync): paired with Lean for the A/B, never counted as a peer
    // Lean is behind or heavier than.
    private const string Lean = "Lean", Control = "Lean (A/A control)", ValidateOnly = "Lean validation only (component)", Leased = "LeanLeased";

    /// <summary>Runs the harness and writes <c>percall-ratio.json</c> and <c>percall-ratio.md</c>.</summary>
    public static async Task<Result> RunAsync(Settings settings, string command)
    {
        Console.WriteLine($"per-call ratio: {settings.Rounds} rounds, batches of ~{settings.BatchMs} ms, margin {settings.Margin:P0}, {Pinning.Describe()}");
        var operations = new List<Operation>();
        bool clean = true;
        if (settings.Suites.Contains("percall"))
        {
            clean &= await RunSuiteAsync(new PerCallBenchmarks(), "http", settings, operations);
        }

        if (settings.Suites.Contains("tls"))
        {
            foreach (string transport in new[] { BenchTransport.Https11, BenchTransport.Https2 })
            {
                clean &= await RunSuiteAsync(new TlsPerCallBenchmarks { Transport = transport }, transport, settings, operations);
            }
        }

        if (settings.Suites.Contains("parse"))
        {
            foreach (int tasks in new[] { 2, 1000, 10000 })
            {
                var suite = new SerializationBenchmarks { Tasks = tasks };
                suite.Setup();
                byte[] job = CannedServer.JobBody(tasks);
                byte[] task = CannedServer.TaskBody(tasks * 1024, base64: true), htmlTask = CannedServer.TaskBody(tasks * 1024, base64: false);
                // What ScrapeDoClient.GetJobAsync and GetTaskAsync really parse with (the suite's Lean_ rows use the
                // generated context, kept here as LeanSourceGen).
                var extra = new Dictionary<string, Contender>
                {
                    ["ParseJob"] = new Contender(Lean, () => JsonSerializer.Deserialize(job, JobDetailsReader.TypeInfo)!, false),
                    ["ParseTask"] = new Contender(Lean, () => JsonSerializer.Deserialize(task, TaskDetailsReader.TypeInfo)!, false),
                    ["ParseHtmlTask"] = new Contender(Lean, () => JsonSerializer.Deserialize(htmlTask, TaskDetailsReader.TypeInfo)!, false),
                };
                await MeasureOperationsAsync(suite, $"parse[{tasks}]", settings, operations, extra, renameLean: "LeanSourceGen");
                string createName = $"parse[{tasks}]/ParseCreate";
                if (tasks <= 1000 && (settings.Filter.Length == 0 || settings.Filter.Any(f => createName.Contains(f, StringComparison.OrdinalIgnoreCase))))
                {
                    // The create answer (Create1000's parse), as the client reads it (the generated reader), against
                    // reflection STJ and Newtonsoft into the peer model. A hand-written reader was tried here
                    // (2026-11-29): 0.978x the generated one's CPU at 1,000 ids, 104 KB instead of 113 KB; the time is
                    // in materialising 1,000 id strings, so it was not kept.
                    byte[] create = CannedServer.CreateBody(tasks);
                    var newtonsoft = global::Newtonsoft.Json.JsonSerializer.CreateDefault();
                    List<Contender> contenders =
                    [
                        new(Lean, () => JsonSerializer.Deserialize(create, ScrapeDoJsonContext.Default.CreateJobResponse)!, false),
                        new("ReflectionStj", () => JsonSerializer.Deserialize<PeerCreateResponse>(create)!, false),
                        new("Newtonsoft", () =>
                        {
                            using var reader = new global::Newtonsoft.Json.JsonTextReader(new StreamReader(new MemoryStream(create)));
                            return newtonsoft.Deserialize<PeerCreateResponse>(reader)!;
                        }, false),
                    ];
                    await MeasureWithControlAsync(createName, contenders, settings, operations);
                }
            }
        }

        if (settings.Suites.Contains("parse"))
        {
            // Issue 14 target 2 on its other two paths: a 10 MB task of JSON-escaped HTML read from a stream (a
            // response without a length) and through the webhook receiver (its size limit, then the same streamed
            // read), each against the reflection serializer streaming the same bytes into the peer model.
            var html = new EscapedHtmlBenchmarks();
            html.Setup();
            byte[] task = CannedServer.TaskBody(10 * 1024 * 1024, base64: false);
            var receiver = new ScrapeDoWebhookReceiver(ScrapeDoWebhookReceiver.NewSecret());
            // The webhook row also has the receiver's leased parse (the content in a pooled buffer, given back at once).
            var streamedRows = new (string Name, Contender Lean, Contender? Leased)[]
            {
                ("parse/Task10MBStreamed", new Contender(Lean, () => html.Lean_Streamed(), true), null),
                ("parse/Task10MBWebhook", new Contender(Lean, () => receiver.ParseAsync(new MemoryStream(task, writable: false)).AsTask(), true),
                    new Contender(Leased, () => ParseLeasedAsync(receiver, task), true)),
            };
            foreach ((string name, Contender lean, Contender? leased) in streamedRows)
            {
                if (settings.Filter.Length > 0 && !settings.Filter.Any(f => name.Contains(f, StringComparison.OrdinalIgnoreCase)))
                {
                    continue;
                }

                List<Contender> contenders = [lean, new("ReflectionStj", () => html.Stj_Streamed(), true)];
                if (leased is not null)
                {
                    contenders.Add(leased);
                }

                await MeasureWithControlAsync(name, contenders, settings, operations);
            }
        }

        if (settings.Suites.Contains("poll") && (settings.Filter.Length == 0 || settings.Filter.Any(f => "poll/Poll1000".Contains(f, StringComparison.OrdinalIgnoreCase))))
        {
            // Issue 14 target 4: the runner's re-poll of a 1,000-task job against the raw read of the same body. The
            // floor is listed as a peer here so that the paired ratio Lean/floor is the target's figure ("behind" is
            // expected: the question is by how much). Lean polls the job whose body alternates 10 tasks apart.
            var poll = new PollDiffBenchmarks();
            await poll.SetupAsync();
            try
            {
                List<Contender> contenders =
                [
                    new(Lean, () => poll.PollDiff_Poll1000_10Changed(), true),
                    new("RawFloor", () => poll.Floor_Poll1000(), true),
                    new("LeanUnchangedBody", () => poll.PollDiff_Poll1000(), true),
                    new("GetJobAsyncThenDiff", () => poll.GetJobAsync_then_diff_Poll1000(), true),
                ];
                await MeasureWithControlAsync("poll/Poll1000", contenders, settings, operations);
            }
            finally
            {
                await poll.CleanupAsync();
            }
        }

        if (settings.Suites.Contains("body") && (settings.Filter.Length == 0 || settings.Filter.Any(f => "body/CreateBody1000".Contains(f, StringComparison.OrdinalIgnoreCase))))
        {
            // Create1000's client-side work without HTTP (CreateBodyBenchmarks): validate + write the body, against an
            // STJ source-generated serialize of the same targets; the validation alone as a third row.
            var body = new CreateBodyBenchmarks();
            body.Setup();
            object done = new();
            List<Contender> contenders =
            [
                new(Lean, () => { body.Lean_Create1000(); return done; }, false),
                new("StjSourceGen", () => { body.Stj_SourceGen_Create1000(); return done; }, false),
                new(ValidateOnly, () => { body.Lean_Validate1000(); return done; }, false),
            ];
            if (settings.Control && settings.Only is null)
            {
                contenders.Add(contenders[0] with { Name = Control });
            }

            contenders.RemoveAll(c => settings.Only is { } only && !c.Name.Equals(only, StringComparison.OrdinalIgnoreCase));
            operations.Add(await MeasureAsync("body/CreateBody1000", contenders, settings));
        }

        var result = new Result(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture), Machine(), Pinning.Describe(), command, settings.Rounds, settings.BatchMs, settings.Margin, operations, clean);
        Directory.CreateDirectory(settings.OutputDirectory);
        string json = Path.Combine(settings.OutputDirectory, "percall-ratio.json");
        await File.WriteAllTextAsync(json, JsonSerializer.Serialize(result, FanOutRatio.Json));
        string markdown = Markdown(result);
        await File.WriteAllTextAsync(Path.Combine(settings.OutputDirectory, "percall-ratio.md"), markdown);
        Console.WriteLine();
        Console.WriteLine(markdown);
        Console.WriteLine($"written: {json}");
        return result;
    }

    /// <summary>OS, CPU model and the machine's CPU count (this pinned process sees one), runtime.</summary>
    private static string Machine()
    {
        string cpu = "unknown CPU";
        int cpus = Environment.ProcessorCount;
        if (File.Exists("/proc/cpuinfo"))
        {
            string[] lines = File.ReadAllLines("/proc/cpuinfo");
            cpu = lines.FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
            cpus = lines.Count(l => l.StartsWith("processor", StringComparison.Ordinal));
        }

        return $"{RuntimeInformation.OSDescription}, {cpu}, {cpus} vCPUs, {RuntimeInformation.FrameworkDescription}";
    }

    private static async Task<bool> RunSuiteAsync(PerCallBase suite, string prefix, Settings settings, List<Operation> operations)
    {
        await suite.SetupAsync();
        bool clean = true;
        try
        {
            await MeasureOperationsAsync(suite, prefix, settings, operations, null, null);
        }
        finally
        {
            try
            {
                await suite.CleanupAsync();
            }
            catch (InvalidOperationException e)
            {
                Console.WriteLine($"  {prefix}: {e.Message}");
                clean = false;
            }
        }

        return clean;
    }

    private static async Task MeasureOperationsAsync(object suite, string prefix, Settings settings, List<Operation> operations, Dictionary<string, Contender>? extra, string? renameLean)
    {
        foreach (var group in Contenders(suite).GroupBy(c => c.Category))
        {
            string name = $"{prefix}/{group.Key}";
            if (settings.Filter.Length > 0 && !settings.Filter.Any(f => name.Contains(f, StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            var contenders = new List<Contender>();
            foreach (var (_, c) in group)
            {
                Contender named = c.Name == Lean && renameLean is not null && extra?.ContainsKey(group.Key) == true ? c with { Name = renameLean } : c;
                if (named.Name == Lean || named.Name == "Floor" || settings.Peers is null || settings.Peers.Contains(named.Name, StringComparer.OrdinalIgnoreCase))
                {
                    contenders.Add(named);
                }
            }

            if (extra?.TryGetValue(group.Key, out Contender? added) == true)
            {
                contenders.Insert(0, added);
            }

            if (settings.Only is { } only)
            {
                // Profiling mode: one contender alone, so a profiler attached to the whole process sees only its work.
                contenders.RemoveAll(c => !c.Name.Equals(only, StringComparison.OrdinalIgnoreCase));
                if (contenders.Count == 0)
                {
                    continue;
                }
            }
            else if (settings.Control)
            {
                contenders.Add(contenders.First(c => c.Name == Lean) with { Name = Control });
            }

            operations.Add(await MeasureAsync(name, contenders, settings));
        }
    }

    private static async Task<int> ParseLeasedAsync(ScrapeDoWebhookReceiver receiver, byte[] body)
    {
        using LeasedTask task = await receiver.ParseLeasedAsync(new MemoryStream(body, writable: false));
        return task.Content?.Length ?? 0;
    }

    /// <summary>Every <c>[Benchmark]</c> method of the suite as (category, contender), the contender named by the method's prefix.</summary>
    private static IEnumerable<(string Category, Contender Contender)> Contenders(object suite)
    {
        foreach (MethodInfo m in suite.GetType().GetMethods(BindingFlags.Public | BindingFlags.Instance))
        {
            if (m.GetCustomAttribute<BenchmarkAttribute>() is null || m.GetParameters().Length != 0)
            {
                continue;
            }

            string category = m.GetCustomAttribute<BenchmarkCategoryAttribute>()?.Categories[0] ?? m.Name;
            // A compiled delegate, not MethodInfo.Invoke: the call costs a few ns, the same for every contender.
            var call = Expression.Lambda<Func<object>>(Expression.Convert(Expression.Call(Expression.Constant(suite), m), typeof(object))).Compile();
            yield return (category, new Contender(m.Name[..m.Name.IndexOf('_', StringComparison.Ordinal)], call, typeof(Task).IsAssignableFrom(m.ReturnType)));
        }
    }

    private static async Task<Operation> MeasureAsync(string name, List<Contender> contenders, Settings settings)
    {
        bool async = contenders.Any(c => c.Async);
        // Warm-up: passes over every contender (at least 60 calls, or 5 batches' worth of time, each), until a pass
        // compiled no method and no contender's CPU per call moved more than 10 % from the pass before (at most 12
        // passes; the report says when that was not reached), so tiered JIT (with PGO) has promoted the hot paths. A first version warmed up for a fixed two passes and measured ParseJob[2] at
        // 10 µs right after start-up against 0.9 µs later in the same kind of run. The slowest contender's CPU per call
        // then sets N for everyone.
        double[] previous = new double[contenders.Count];
        double slowestUs = 0;
        int passes = 0;
        long lastPassJitted = 0;
        bool settled = false;
        while (!settled && passes < 12)
        {
            settled = passes++ >= 2;
            long jitted0 = System.Runtime.JitInfo.GetCompiledMethodCount();
            for (int k = 0; k < contenders.Count; k++)
            {
                Contender c = contenders[k];
                var clock = Stopwatch.StartNew();
                long cpu0 = CpuNs(c.Async);
                int calls = 0;
                while (calls < 60 || clock.Elapsed.TotalMilliseconds < settings.BatchMs * 5)
                {
                    await CallAsync(c);
                    calls++;
                    if (clock.Elapsed.TotalSeconds > 0.5 && calls >= 3)
                    {
                        break;
                    }
                }

                double us = (CpuNs(c.Async) - cpu0) / 1000.0 / calls;
                settled &= Math.Abs(us - previous[k]) <= 0.10 * previous[k];
                previous[k] = us;
            }

            slowestUs = previous.Max();
            // Steady only when a whole pass compiled nothing (tier-up finished for every contender's code).
            lastPassJitted = System.Runtime.JitInfo.GetCompiledMethodCount() - jitted0;
            settled &= lastPassJitted == 0;
        }

        int n = Math.Max(1, (int)(settings.BatchMs * 1000 / slowestUs));
        var rows = contenders.Select(c => new Row(c.Name, [])).ToList();
        // A fresh order each round (seeded, so runs repeat): a plain rotation keeps every contender behind the same
        // neighbour, and a neighbour's after-effects (the GC's tuned budgets after 3 MB/call of large objects, caches)
        // then land on one contender every round. The first run showed exactly that: Lean against its own A/A copy
        // at 1.37 on GetTask1MBase64 with rotation.
        var random = new Random(14);
        int[] order = Enumerable.Range(0, contenders.Count).ToArray();
        for (int round = 0; round < settings.Rounds; round++)
        {
            random.Shuffle(order);
            foreach (int i in order)
            {
                rows[i].Samples.Add(await BatchAsync(contenders[i], n));
            }
        }

        Row? leanRow = rows.FirstOrDefault(r => r.Name == Lean);
        var pairs = new List<Pair>();
        foreach (Row peer in rows.Where(r => leanRow is not null && r != leanRow && r.Name is not "Floor" and not ValidateOnly))
        {
            double[] ratios = leanRow!.Samples.Zip(peer.Samples, (a, b) => a.CpuUs / b.CpuUs).ToArray();
            double median = Quantile(ratios, 0.5), p25 = Quantile(ratios, 0.25), p75 = Quantile(ratios, 0.75);
            string verdict = median <= 1 - settings.Margin && p75 < 1 ? "ahead"
                : median >= 1 + settings.Margin && p25 > 1 ? "behind"
                : "level";
            pairs.Add(new Pair(peer.Name, median, p25, p75, ratios.Count(r => r < 1), ratios.Length, verdict));
        }

        var op = new Operation(name, async ? "process" : "thread", n, rows, pairs, passes, settled);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name}: N={n}, warm-up {passes} passes{(settled ? "" : $" (NOT settled: {lastPassJitted} methods compiled in the last)")}, ") + string.Join(", ", rows.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Name} {r.CpuUs:0.0} us"))) +
            "; Lean/peer " + string.Join(", ", pairs.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Peer} {p.Median:0.000} [{p.P25:0.000}-{p.P75:0.000}] {p.Verdict}"))));
        return op;
    }

    private static async ValueTask CallAsync(Contender c)
    {
        object result = c.Call();
        if (c.Async)
        {
            await (Task)result;
        }
    }

    /// <summary>
    /// Measures one operation whose first contender is Lean: with <c>--only</c> just that contender, otherwise with the
    /// A/A control added when asked for.
    /// </summary>
    private static async Task MeasureWithControlAsync(string name, List<Contender> contenders, Settings settings, List<Operation> operations)
    {
        if (settings.Only is { } only)
        {
            contenders.RemoveAll(c => !c.Name.Equals(only, StringComparison.OrdinalIgnoreCase));
        }
        else if (settings.Control)
        {
            contenders.Add(contenders[0] with { Name = Control });
        }

        if (contenders.Count > 0)
        {
            operations.Add(await MeasureAsync(name, contenders, settings));
        }
    }

    private static async Task<Sample> BatchAsync(Contender c, int n)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long allocated0 = GC.GetTotalAllocatedBytes(precise: true);
        long wall0 = Stopwatch.GetTimestamp();
        long cpu0 = CpuNs(c.Async);
        if (c.Async)
        {
            for (int i = 0; i < n; i++)
            {
                await (Task)c.Call();
            }
        }
        else
        {
            for (int i = 0; i < n; i++)
            {
                GC.KeepAlive(c.Call());
            }
        }

        // For a synchronous batch the await above never ran, so this is still the thread that called CpuNs.
        long cpu = CpuNs(c.Async) - cpu0;
        double wallUs = Stopwatch.GetElapsedTime(wall0).TotalMicroseconds;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated0;
        return new Sample(cpu / 1000.0 / n, wallUs / n, (double)allocated / n);
    }

    /// <summary>CPU time in ns: the whole process's (<c>CLOCK_PROCESS_CPUTIME_ID</c>) or the calling thread's (<c>CLOCK_THREAD_CPUTIME_ID</c>).</summary>
    private static long CpuNs(bool process)
    {
        if (OperatingSystem.IsLinux() && clock_gettime(process ? 2 : 3, out TimeSpec t) == 0)
        {
            return (t.Seconds * 1_000_000_000L) + t.Nanoseconds;
        }

        using var self = Process.GetCurrentProcess();
        return (long)(self.TotalProcessorTime.TotalMicroseconds * 1000);
    }

    /// <summary>The Markdown tables of a result.</summary>
    public static string Markdown(Result r)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{r.Date}; {r.Machine}; {r.Placement}.");
        sb.AppendLine(CultureInfo.InvariantCulture, $"`{r.Command}`: {r.Rounds} interleaved rounds per operation, batches of ~{r.BatchMs} ms (N calls), a new seeded random order each round, full GC before each batch. CPU = process CPU time per call over HTTP, calling thread's CPU time per call for in-memory parses. Verdict margin {r.Margin:P0}.");
        sb.AppendLine();
        sb.AppendLine("| Operation | N | Contender | CPU µs/call median [p25–p75] | Wall µs/call | Allocated B/call | Lean/peer CPU, paired median [p25–p75] | Lean lower | Verdict |");
        sb.AppendLine("|---|---:|---|---:|---:|---:|---:|---:|---|");
        foreach (Operation op in r.Operations)
        {
            foreach (Row row in op.Rows)
            {
                Pair? p = op.Pairs.FirstOrDefault(x => x.Peer == row.Name);
                string pair = p is null ? "–" : string.Create(CultureInfo.InvariantCulture, $"{p.Median:0.000} [{p.P25:0.000}–{p.P75:0.000}]");
                string wins = p is null ? "–" : $"{p.LeanLower}/{p.Rounds}";
                // Lean against its own leased variant is an A/B of the two calls, not a ranking against a peer.
                string verdict = p is null ? (row.Name == Lean ? "(reference)" : "–") : p.Peer == Leased ? $"Lean's variant ({p.Verdict})" : p.Verdict;
                sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {op.Name} | {op.CallsPerBatch} | {row.Name} | {Us(row.CpuUs)} [{Us(row.CpuP25)}–{Us(row.CpuP75)}] | {Us(row.WallUs)} | {row.AllocatedBytes:N0} | {pair} | {wins} | {verdict} |"));
            }
        }

        var unsettled = r.Operations.Where(o => !o.Settled).Select(o => o.Name).ToList();
        sb.AppendLine();
        sb.AppendLine($"Warm-up not settled (JIT still compiling or CPU/call still moving >10 % after 12 passes): {(unsettled.Count == 0 ? "none" : string.Join(", ", unsettled))}.");
        var behind = r.Operations.SelectMany(o => o.Pairs.Where(p => p.Verdict == "behind" && p.Peer is not Control and not Leased).Select(p => $"{o.Name} vs {p.Peer} ({p.Median:0.000})")).ToList();
        var heavier = r.Operations.Where(o => o.Rows.Any(l => l.Name == Lean)).SelectMany(o => o.Rows.Where(x => x.Name is not Lean and not Control and not "Floor" and not ValidateOnly and not Leased && x.AllocatedBytes < o.Rows.First(l => l.Name == Lean).AllocatedBytes).Select(x => $"{o.Name} vs {x.Name}")).ToList();
        var controls = r.Operations.SelectMany(o => o.Pairs.Where(p => p.Peer == Control)).ToList();
        if (controls.Count > 0)
        {
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"A/A control (Lean against itself): median paired ratio {controls.Min(c => c.Median):0.000}–{controls.Max(c => c.Median):0.000} over the operations; widest p25–p75 {controls.Max(c => c.P75 - c.P25):0.000}; verdicts other than level: {controls.Count(c => c.Verdict != "level")}."));
        }

        sb.AppendLine($"Lean behind on CPU: {(behind.Count == 0 ? "none" : string.Join("; ", behind))}.");
        sb.AppendLine($"Canned server processes stopped cleanly: {(r.ServersStoppedCleanly ? "yes" : "NO")}.");
        sb.AppendLine($"Lean not the lowest allocation: {(heavier.Count == 0 ? "none" : string.Join("; ", heavier))}.");
        return sb.ToString();
    }

    private static string Us(double us) => us >= 1000 ? (us / 1000).ToString("0.00' ms'", CultureInfo.InvariantCulture) : us.ToString(us >= 100 ? "0" : "0.00", CultureInfo.InvariantCulture);

    private static double Quantile(IEnumerable<double> values, double q)
    {
        double[] v = values.Where(x => !double.IsNaN(x)).Order().ToArray();
        if (v.Length == 0)
        {
            return double.NaN;
        }

        double position = q * (v.Length - 1);
        int lower = (int)Math.Floor(position);
        int upper = Math.Min(lower + 1, v.Length - 1);
        return v[lower] + ((v[upper] - v[lower]) * (position - lower));
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int clock_gettime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}

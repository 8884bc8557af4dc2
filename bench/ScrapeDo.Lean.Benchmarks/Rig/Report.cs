using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ScrapeDo.Lean.Benchmarks.Rig;

/// <summary>
/// <c>--report --run1 DIR [--run2 DIR] [--fanout FILE] [--docs DIR]</c>: reads BenchmarkDotNet's full JSON exports
/// (and the fan-out harness's JSON) and writes the Markdown tables of docs/benchmarks.md (<c>tables.md</c> next to run
/// 1) and the SVG charts (into <c>--docs</c>). A row "resolves 10 %" when its 99.9 % confidence margin is at most 5 %
/// of its mean: two such rows 10 % apart have disjoint intervals.
/// </summary>
public static class Report
{
    private static readonly string[] Clients = ["Lean", "Naive", "Refit", "Flurl", "ReflectionStj", "Newtonsoft"];

    /// <summary>One benchmark row of an export.</summary>
    public sealed record Row(string Suite, string Method, string Parameters, double Mean, double Margin, double StdDev, long? Allocated)
    {
        public string Client => Method.Split('_')[0];

        public string Operation => Method.Contains('_', StringComparison.Ordinal) ? Method[(Method.IndexOf('_', StringComparison.Ordinal) + 1)..] : Method;

        public string Group => Parameters.Length == 0 ? Operation : $"{Operation} [{Parameters}]";

        public bool Resolves10 => Margin <= Mean * 0.05;
    }

    public static async Task<int> RunAsync(string run1, string? run2, string? fanout, string? docs)
    {
        List<Row> first = Load(run1);
        List<Row> second = run2 is null ? [] : Load(run2);
        var md = new StringBuilder();
        foreach (IGrouping<string, Row> suite in first.GroupBy(r => r.Suite))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"### {suite.Key}");
            md.AppendLine();
            md.AppendLine("| Method | Params | Mean | Error (99.9 %) | StdDev | Resolves 10 % | × base | Allocated | × base | Run 2 mean | Run-to-run |");
            md.AppendLine("|---|---|---:|---:|---:|:-:|---:|---:|---:|---:|---:|");
            foreach (Row r in suite)
            {
                Row? b = Baseline(suite, r);
                Row? again = second.FirstOrDefault(x => x.Suite == r.Suite && x.Method == r.Method && x.Parameters == r.Parameters);
                md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {r.Method} | {r.Parameters} | {Time(r.Mean)} | ±{r.Margin / r.Mean:P1} | {r.StdDev / r.Mean:P1} | {(r.Resolves10 ? "yes" : "no")} | {Ratio(r.Mean, b?.Mean)} | {Bytes(r.Allocated)} | {Ratio(r.Allocated, b?.Allocated)} | {(again is null ? "–" : Time(again.Mean))} | {(again is null ? "–" : $"{(again.Mean - r.Mean) / r.Mean:+0%;-0%;0%}")} |"));
            }

            md.AppendLine();
        }

        if (second.Count > 0)
        {
            md.AppendLine("### Run-to-run spread of the time column (run 2 against run 1, same rows)");
            md.AppendLine();
            md.AppendLine("| Suite | Rows | Median \\|Δ\\| | Largest \\|Δ\\| | Rows resolving 10 % (run 1 / run 2) |");
            md.AppendLine("|---|---:|---:|---|---:|");
            foreach (IGrouping<string, Row> suite in first.GroupBy(r => r.Suite))
            {
                var pairs = suite.Select(r => (r, again: second.FirstOrDefault(x => x.Suite == r.Suite && x.Method == r.Method && x.Parameters == r.Parameters)))
                    .Where(p => p.again is not null).Select(p => (p.r, delta: Math.Abs(p.again!.Mean - p.r.Mean) / p.r.Mean, p.again)).ToList();
                if (pairs.Count == 0)
                {
                    continue;
                }

                double[] deltas = pairs.Select(p => p.delta).Order().ToArray();
                var worst = pairs.MaxBy(p => p.delta);
                md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {suite.Key} | {pairs.Count} | {deltas[deltas.Length / 2]:P0} | {worst.delta:P0} ({worst.r.Method} {worst.r.Parameters}) | {pairs.Count(p => p.r.Resolves10)} / {pairs.Count(p => p.again!.Resolves10)} |"));
            }

            md.AppendLine();
        }

        md.AppendLine("### ScrapeDo.Lean slower or heavier than a peer (run 1, same suite, same parameters)");
        md.AppendLine();
        foreach (string line in Behind(first))
        {
            md.AppendLine(line);
        }

        string tables = Path.Combine(run1, "tables.md");
        await File.WriteAllTextAsync(tables, md.ToString());
        Console.WriteLine(md.ToString());
        Console.WriteLine($"written: {tables}");

        if (docs is not null)
        {
            Directory.CreateDirectory(docs);
            string date = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            List<Row> perCall = first.Where(r => r.Suite is "PerCallBenchmarks" or "TlsPerCallBenchmarks").ToList();
            await WriteChartAsync(docs, "bench-percall-time.svg", "Per-call time, ratio to the raw HttpClient floor", $"BenchmarkDotNet mean, lower is better; canned server in its own process; {date}", "× floor (log scale)", perCall, r => r.Mean);
            await WriteChartAsync(docs, "bench-percall-alloc.svg", "Per-call allocated bytes, ratio to the floor", $"BenchmarkDotNet MemoryDiagnoser, client process only, lower is better; {date}", "× floor (log scale)", perCall, r => r.Allocated ?? double.NaN);
            if (fanout is not null && File.Exists(fanout))
            {
                await WriteFanOutChartAsync(docs, fanout);
            }
        }

        return 0;
    }

    /// <summary>Every group where a ScrapeDo.Lean row has a higher mean or more allocated bytes than a peer.</summary>
    public static IEnumerable<string> Behind(IReadOnlyList<Row> rows)
    {
        foreach (Row lean in rows.Where(r => r.Client == "Lean"))
        {
            foreach (Row peer in rows.Where(r => r.Suite == lean.Suite && r.Group == lean.Group && r.Client != "Lean" && r.Client != "Floor" && Clients.Contains(r.Client)))
            {
                if (lean.Mean > peer.Mean)
                {
                    bool resolved = lean.Mean - peer.Mean > lean.Margin + peer.Margin;
                    yield return string.Create(CultureInfo.InvariantCulture,
                        $"- {lean.Suite} {lean.Group}: time {lean.Mean / peer.Mean:0.00}× {peer.Client} ({Time(lean.Mean)} vs {Time(peer.Mean)}; {(resolved ? "outside" : "within")} the two error margins)");
                }

                if (lean.Allocated > peer.Allocated)
                {
                    yield return string.Create(CultureInfo.InvariantCulture,
                        $"- {lean.Suite} {lean.Group}: allocated {(double)lean.Allocated / peer.Allocated!.Value:0.00}× {peer.Client} ({Bytes(lean.Allocated)} vs {Bytes(peer.Allocated)})");
                }
            }
        }
    }

    /// <summary>Loads every <c>*-report-full.json</c> under <paramref name="directory"/> (or its <c>results</c>).</summary>
    public static List<Row> Load(string directory)
    {
        var rows = new List<Row>();
        foreach (string file in Directory.EnumerateFiles(directory, "*-report-full.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(file));
            foreach (JsonElement b in doc.RootElement.GetProperty("Benchmarks").EnumerateArray())
            {
                if (!b.TryGetProperty("Statistics", out JsonElement s) || s.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                long? allocated = b.TryGetProperty("Memory", out JsonElement m) && m.ValueKind == JsonValueKind.Object ? m.GetProperty("BytesAllocatedPerOperation").GetInt64() : null;
                rows.Add(new Row(b.GetProperty("Type").GetString()!, b.GetProperty("Method").GetString()!, b.GetProperty("Parameters").GetString() ?? "",
                    s.GetProperty("Mean").GetDouble(), NumberOrNaN(s.GetProperty("ConfidenceInterval").GetProperty("Margin")), s.GetProperty("StandardDeviation").GetDouble(), allocated));
            }
        }

        return rows;
    }

    // BenchmarkDotNet writes an empty string where a statistic is undefined (one iteration, e.g. a dry job).
    private static double NumberOrNaN(JsonElement e) => e.ValueKind == JsonValueKind.Number ? e.GetDouble() : double.NaN;

    private static Row? Baseline(IEnumerable<Row> suite, Row r) =>
        suite.FirstOrDefault(x => x.Group == r.Group && x.Client == "Floor") ?? suite.FirstOrDefault(x => x.Group == r.Group && x.Client == "Lean");

    private static async Task WriteChartAsync(string docs, string name, string title, string subtitle, string axis, List<Row> rows, Func<Row, double> value)
    {
        var groups = new List<SvgBarChart.Group>();
        foreach (IGrouping<(string, string), Row> g in rows.GroupBy(r => (r.Suite, r.Group)))
        {
            Row? floor = g.FirstOrDefault(r => r.Client == "Floor");
            if (floor is null)
            {
                continue;
            }

            var bars = g.Where(r => r.Client != "Floor").Select(r => new SvgBarChart.Bar(r.Client == "Lean" ? "ScrapeDo.Lean" : r.Client, value(r) / value(floor))).ToList();
            string transport = g.Key.Item1 == "PerCallBenchmarks" ? "http" : floor.Parameters.Replace("Transport=", "", StringComparison.Ordinal);
            groups.Add(new SvgBarChart.Group($"{floor.Operation} · {transport}", bars));
        }

        if (groups.Count > 0)
        {
            await File.WriteAllTextAsync(Path.Combine(docs, name), SvgBarChart.Render(title, subtitle, axis, groups, logScale: true));
            Console.WriteLine($"written: {Path.Combine(docs, name)}");
        }
    }

    private static async Task WriteFanOutChartAsync(string docs, string file)
    {
        FanOutRatio.Result result = JsonSerializer.Deserialize<FanOutRatio.Result>(await File.ReadAllTextAsync(file), FanOutRatio.Json)!;
        var groups = new List<SvgBarChart.Group>();
        foreach (IGrouping<string, FanOutRatio.Row> t in result.Rows.GroupBy(r => r.Transport))
        {
            FanOutRatio.Row floor = t.First(r => r.Name.StartsWith("floor", StringComparison.Ordinal));
            var bars = new List<SvgBarChart.Bar>();
            foreach (FanOutRatio.Row r in t.Where(r => r != floor))
            {
                bool cli = r.Name.Contains("CLI", StringComparison.Ordinal);
                string who = cli ? "CLI" : r.Name == FanOutRatio.ControlName ? "control" : "runner";
                bars.Add(new SvgBarChart.Bar($"{who}: CPU/target", r.CpuUsPerTarget / floor.CpuUsPerTarget));
                if (!cli)
                {
                    bars.Add(new SvgBarChart.Bar($"{who}: allocated/target", r.AllocatedBytesPerTarget / floor.AllocatedBytesPerTarget));
                }
            }

            groups.Add(new SvgBarChart.Group($"fan-out · {t.Key}", bars));
        }

        string subtitle = string.Create(CultureInfo.InvariantCulture, $"{result.Targets:N0} targets × {result.Rounds} interleaved rounds, medians, emulator in its own process; {result.Date}");
        await File.WriteAllTextAsync(Path.Combine(docs, "bench-fanout.svg"), SvgBarChart.Render("Fan-out, ratio to the raw HttpClient floor", subtitle, "× floor", groups, logScale: false));
        Console.WriteLine($"written: {Path.Combine(docs, "bench-fanout.svg")}");
    }

    private static string Ratio(double? value, double? baseline) =>
        value is null || baseline is null || baseline == 0 ? "–" : (value.Value / baseline.Value).ToString("0.00", CultureInfo.InvariantCulture);

    private static string Time(double ns) => ns switch
    {
        >= 1e6 => (ns / 1e6).ToString("N2", CultureInfo.InvariantCulture) + " ms",
        >= 1e3 => (ns / 1e3).ToString("N1", CultureInfo.InvariantCulture) + " µs",
        _ => ns.ToString("N1", CultureInfo.InvariantCulture) + " ns",
    };

    private static string Bytes(long? b) => b is null ? "–" : b.Value.ToString("N0", CultureInfo.InvariantCulture) + " B";
}

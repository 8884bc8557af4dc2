using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Text.Json;

namespace ScrapeDo.Lean.Benchmarks.Rig;

/// <summary>
/// <c>--gc-trace</c>: every collection of a few fan-out rounds, per contender, with the GC's own view of it — the gen0
/// budget it set (<c>FinalYoungestDesired</c>), what it promoted, its committed memory and the page faults taken since
/// the collection before. A diagnostic beside the fan-out rig, never a measurement: the runtime's event listener runs in
/// the worker while it traces. Written to find out why one contender's process faults more than another's
/// (docs/benchmarks.md, the session of 2026-12-07 05:14 UTC).
/// </summary>
/// <remarks>
/// <c>--gc-trace [--contenders runner,lease,floor] [--transport https-h2] [--targets 10000] [--warmups 10] [--rounds 3]
/// [--gen0-budget-mib N]</c>: one server process and one worker per contender (as with <c>--isolated</c>), the warm-ups
/// untraced, then the traced rounds interleaved across contenders.
/// </remarks>
public static class GcTrace
{
    /// <summary>One collection as the trace saw it.</summary>
    public sealed record Collection(int Index, int Generation, int Reason, double Gen0BudgetMiB, double PromotedGen0KiB, double PromotedGen1KiB, double CommittedMiB, long FaultsSincePrevious, double PauseMs);

    /// <summary>One traced round: its sample and its collections.</summary>
    public sealed record Round(FanOutRatio.Sample Sample, IReadOnlyList<Collection> Collections);

    /// <summary>The harness side.</summary>
    /// <param name="intArg">The bench tool's number option reader (name, default, minimum), which refuses bad values.</param>
    /// <param name="stringArg">The bench tool's option reader (null when the option is absent).</param>
    public static async Task<int> RunAsync(Func<string, int, int, int> intArg, Func<string, string?> stringArg)
    {
        string[] contenders = (stringArg("--contenders") ?? "runner,lease,floor").Split(',', StringSplitOptions.RemoveEmptyEntries);
        string transport = stringArg("--transport") ?? BenchTransport.Https2;
        int targets = intArg("--targets", 10_000, 1);
        int warmups = intArg("--warmups", 10, 0);
        int rounds = intArg("--rounds", 3, 1);
        long gen0Budget = intArg("--gen0-budget-mib", 0, 0) * 1024L * 1024;
        if (Array.Find(contenders, c => !FanOutWorker.Contenders.Contains(c)) is { } unknown)
        {
            Console.Error.WriteLine($"--contenders takes {string.Join(", ", FanOutWorker.Contenders)}, not '{unknown}'.");
            return 2;
        }

        if (transport is not (BenchTransport.Http or BenchTransport.Https11 or BenchTransport.Https2))
        {
            Console.Error.WriteLine($"--transport takes {BenchTransport.Http}, {BenchTransport.Https11} or {BenchTransport.Https2}, not '{transport}'.");
            return 2;
        }

        bool https = transport != BenchTransport.Http;
        await using ServerProcess server = await ServerProcess.StartAsync(ServerKind.Emulator, https);
        var workers = new FanOutWorker.Handle[contenders.Length];
        try
        {
            for (int i = 0; i < contenders.Length; i++)
            {
                workers[i] = await FanOutWorker.Handle.StartAsync(contenders[i], server, transport, targets, gen0Budget);
            }

            for (int w = 0; w < warmups; w++)
            {
                foreach (FanOutWorker.Handle worker in workers)
                {
                    await worker.MeasureAsync(collectFirst: false);
                }
            }

            Console.WriteLine($"{transport}, {targets:N0} targets, {warmups} untraced warm-ups, then {rounds} traced rounds per contender; {FanOutRatio.DescribeGc(gen0Budget)}");
            Console.WriteLine("contender | round | GC | gen | reason | gen0 budget MiB | promoted gen0 KiB | promoted gen1 KiB | committed MiB | faults since previous | pause ms");
            for (int r = 1; r <= rounds; r++)
            {
                for (int i = 0; i < workers.Length; i++)
                {
                    Round round = await workers[i].TraceAsync();
                    foreach (Collection c in round.Collections)
                    {
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{contenders[i]} | {r} | {c.Index} | {c.Generation} | {c.Reason} | {c.Gen0BudgetMiB:0.0} | {c.PromotedGen0KiB:N0} | {c.PromotedGen1KiB:N0} | {c.CommittedMiB:0.0} | {c.FaultsSincePrevious} | {c.PauseMs:0.00}"));
                    }

                    FanOutRatio.Sample s = round.Sample;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{contenders[i]} | {r} | round: {s.CpuUsPerTarget:0.0} us CPU/target, {s.GarbageCollections} GCs, {s.PageFaultsPerTarget:0.000} page faults/target, {s.AllocatedBytesPerTarget:N0} B/target"));
                }
            }
        }
        finally
        {
            foreach (FanOutWorker.Handle? worker in workers)
            {
                if (worker is not null)
                {
                    await worker.DisposeAsync();
                }
            }
        }

        return 0;
    }

    /// <summary>The worker side: one round with the runtime's GC events recorded.</summary>
    public static async Task<Round> TraceRoundAsync(int targets, Func<Task<int>> run)
    {
        using var listener = new Listener();
        // The listener's session starts asynchronously: a collection at the very start of the round could be missed.
        await listener.Enabled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        FanOutRatio.Sample sample = await FanOutRatio.MeasureSelfAsync(targets, run, collectFirst: false);
        // Events arrive on the listener's thread a little after the collection they describe.
        await Task.Delay(500);
        return new Round(sample, listener.Collections());
    }

    /// <summary>Listens to the runtime's GC events (keyword 0x1, informational) in this process.</summary>
    private sealed class Listener : EventListener
    {
        private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
        private readonly ConcurrentQueue<Collection> _collections = new();
        // The first collection of a round counts from the listener's start, a few milliseconds before the round.
        private long _faultsAtPrevious = FanOutRatio.MinorFaults();
        private int _index = -1;
        private int _generation;
        private int _reason;
        private double _committed;
        private long _faultsSincePrevious;
        private double _pauseMs;
        private double _budget = double.NaN;
        private DateTime _started;

        // Set from OnEventSourceCreated, which the base constructor already calls for the sources that exist (C# runs
        // this class's field initializers before that constructor, so the field is there by then).
        public TaskCompletionSource Enabled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IReadOnlyList<Collection> Collections() => [.. _collections];

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == RuntimeSource)
            {
                EnableEvents(eventSource, EventLevel.Informational, (EventKeywords)0x1);
                Enabled.TrySetResult();
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            switch (e.EventName)
            {
                case "GCStart_V2":
                    _index = Convert.ToInt32(Payload(e, "Count"), CultureInfo.InvariantCulture);
                    _generation = Convert.ToInt32(Payload(e, "Depth"), CultureInfo.InvariantCulture);
                    _reason = Convert.ToInt32(Payload(e, "Reason"), CultureInfo.InvariantCulture);
                    _started = e.TimeStamp;
                    _budget = double.NaN;
                    break;
                case "GCGlobalHeapHistory_V4" or "GCGlobalHeapHistory_V3" or "GCGlobalHeapHistory_V2":
                    _budget = Convert.ToDouble(Payload(e, "FinalYoungestDesired"), CultureInfo.InvariantCulture) / 1048576;
                    break;
                case "GCEnd_V1":
                    long faults = FanOutRatio.MinorFaults();
                    _committed = GC.GetGCMemoryInfo(GCKind.Any).TotalCommittedBytes / 1048576.0;
                    _faultsSincePrevious = faults - _faultsAtPrevious;
                    _faultsAtPrevious = faults;
                    _pauseMs = (e.TimeStamp - _started).TotalMilliseconds;
                    break;
                case "GCHeapStats_V2" or "GCHeapStats_V1":
                    // The runtime writes the heap's statistics after the collection's end: the last event of each.
                    double promoted0 = Convert.ToDouble(Payload(e, "TotalPromotedSize0"), CultureInfo.InvariantCulture) / 1024;
                    double promoted1 = Convert.ToDouble(Payload(e, "TotalPromotedSize1"), CultureInfo.InvariantCulture) / 1024;
                    _collections.Enqueue(new Collection(_index, _generation, _reason, _budget, promoted0, promoted1, _committed, _faultsSincePrevious, _pauseMs));
                    break;
            }
        }

        private static object? Payload(EventWrittenEventArgs e, string name)
        {
            int at = e.PayloadNames?.IndexOf(name) ?? -1;
            return at >= 0 ? e.Payload![at] : null;
        }
    }
}

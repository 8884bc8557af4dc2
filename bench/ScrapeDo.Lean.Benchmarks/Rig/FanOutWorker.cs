using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.Benchmarks.Rig;

/// <summary>
/// <c>--fanout-ratio --isolated</c>: each in-process contender (runner, lease, floor) runs in a process of its own that
/// lives for the whole transport, so its heap, GC budgets and thread pool settle on its own work only, while the rounds
/// stay interleaved and paired in time. In one shared process a contender's round starts on a heap sized by whoever ran
/// before it, and the page faults of re-growing it (11–16 µs each on the project VM) land on the heaviest allocator
/// (docs/benchmarks.md, the session of 2026-12-06 20:26 UTC).
/// </summary>
/// <remarks>
/// The worker inherits the harness's placement (the client core) and steady-state tiering. Protocol, one line each way:
/// the worker (<c>--contender runner|lease|floor|control</c>) says <c>ready</c>; then <c>measure collect|none</c> runs the targets and answers one
/// <see cref="FanOutRatio.Sample"/> as JSON (this process's CPU, allocation, switches, work items, GC pauses, page
/// faults and JIT compiles; requests are counted by the harness at the server), for a warm-up as for a measured round;
/// <c>tierup N</c> makes N small runs (<see cref="FanOutRatio.TierUpAsync"/>) and answers a <see cref="FanOutRatio.TierUp"/>;
/// <c>trace</c> runs one such round with the runtime's GC events recorded (<see cref="GcTrace"/>);
/// <c>exit</c> or the end of input ends it.
/// </remarks>
public static class FanOutWorker
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The contenders a worker can run, as named on the command line.</summary>
    public static readonly string[] Contenders = ["runner", "lease", "floor", "control"];

    /// <summary>The worker side (<c>--fanout-worker</c>).</summary>
    public static async Task<int> ServeAsync(string[] args)
    {
        string Arg(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"--fanout-worker needs {name}");
        string contender = Arg("--contender");
        var baseAddress = new Uri(Arg("--base"));
        string transport = Arg("--transport");
        int targets = int.Parse(Arg("--targets"), CultureInfo.InvariantCulture);
        string certificateText = Arg("--certificate");
        using X509Certificate2? certificate = certificateText == "-" ? null : X509CertificateLoader.LoadCertificate(Convert.FromBase64String(certificateText));
        Version version = BenchTransport.VersionOf(transport);
        string[] urls = FanOutRatio.Urls(targets);
        string[] few = FanOutRatio.Urls(FanOutRatio.Settings.TierUpTargets);
        using var client = BenchTransport.Lean(baseAddress, EmulatorOptions.DefaultToken, certificate, version);
        using var http = new HttpClient(BenchTransport.Handler(certificate)) { Timeout = Timeout.InfiniteTimeSpan };
        Func<string[], Task<int>> runOn = contender switch
        {
            "runner" => targetUrls => FanOutRatio.RunRunnerAsync(client, targetUrls),
            "lease" => targetUrls => FanOutRatio.RunLeasedAsync(client, targetUrls),
            "floor" => targetUrls => FloorLoop.RunAsync(http, baseAddress, EmulatorOptions.DefaultToken, targetUrls, version),
            "control" => targetUrls => FloorLoop.RunAsync(http, baseAddress, EmulatorOptions.DefaultToken, targetUrls, version, arrayPerBody: true),
            _ => throw new ArgumentException($"--contender must be one of {string.Join(", ", Contenders)}, not '{contender}'"),
        };
        Func<Task<int>> run = () => runOn(urls);

        Console.WriteLine("ready");
        while (Console.ReadLine() is { } command && command != "exit")
        {
            if (command.StartsWith("measure ", StringComparison.Ordinal))
            {
                FanOutRatio.Sample sample = await FanOutRatio.MeasureSelfAsync(targets, run, collectFirst: command == "measure collect");
                Console.WriteLine(JsonSerializer.Serialize(sample, FanOutRatio.Json).ReplaceLineEndings(" "));
            }
            else if (command.StartsWith("tierup ", StringComparison.Ordinal) && int.TryParse(command.AsSpan("tierup ".Length), NumberStyles.None, CultureInfo.InvariantCulture, out int runs))
            {
                FanOutRatio.TierUp tierUp = await FanOutRatio.TierUpAsync(runs, () => runOn(few));
                Console.WriteLine(JsonSerializer.Serialize(tierUp, FanOutRatio.Json).ReplaceLineEndings(" "));
            }
            else if (command == "trace")
            {
                GcTrace.Round round = await GcTrace.TraceRoundAsync(targets, run);
                Console.WriteLine(JsonSerializer.Serialize(round, FanOutRatio.Json).ReplaceLineEndings(" "));
            }
            else
            {
                Console.WriteLine($"error unknown command '{command}'");
            }
        }

        return 0;
    }

    /// <summary>The harness's handle on one worker process.</summary>
    public sealed class Handle : IAsyncDisposable
    {
        private readonly Process _process;

        private Handle(Process process) => _process = process;

        /// <summary>Starts a worker for <paramref name="contender"/> against <paramref name="server"/> and waits until it
        /// is ready; a <paramref name="gen0Budget"/> other than 0 fixes its GC's gen0 budget (bytes).</summary>
        public static async Task<Handle> StartAsync(string contender, ServerProcess server, string transport, int targets, long gen0Budget = 0)
        {
            (string file, List<string> arguments) = ServerProcess.HostCommand();
            arguments.AddRange(["--fanout-worker", "--contender", contender, "--base", server.BaseAddress.ToString(), "--transport", transport,
                "--targets", targets.ToString(CultureInfo.InvariantCulture),
                "--certificate", server.Certificate is { } c ? Convert.ToBase64String(c.RawData) : "-"]);
            var info = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
            if (gen0Budget != 0)
            {
                // The runtime reads its GC settings from the environment in hexadecimal.
                info.Environment["DOTNET_GCgen0size"] = string.Create(CultureInfo.InvariantCulture, $"0x{gen0Budget:X}");
            }

            foreach (string a in arguments)
            {
                info.ArgumentList.Add(a);
            }

            Process process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
            var handle = new Handle(process);
            using var timeout = new CancellationTokenSource(StartTimeout);
            string? line = await process.StandardOutput.ReadLineAsync(timeout.Token);
            if (line != "ready")
            {
                await handle.DisposeAsync();
                throw new InvalidOperationException($"fan-out worker ({contender}) failed to start: '{line}'");
            }

            return handle;
        }

        /// <summary>One measured round, measured by the worker itself.</summary>
        public async Task<FanOutRatio.Sample> MeasureAsync(bool collectFirst) =>
            JsonSerializer.Deserialize<FanOutRatio.Sample>(await CallAsync(collectFirst ? "measure collect" : "measure none"), FanOutRatio.Json)
            ?? throw new InvalidOperationException("fan-out worker answered null");

        /// <summary>The worker's tier-up runs (<see cref="FanOutRatio.TierUpAsync"/>).</summary>
        public async Task<FanOutRatio.TierUp> TierUpAsync(int runs) =>
            JsonSerializer.Deserialize<FanOutRatio.TierUp>(await CallAsync(string.Create(CultureInfo.InvariantCulture, $"tierup {runs}")), FanOutRatio.Json)
            ?? throw new InvalidOperationException("fan-out worker answered null");

        /// <summary>One round with the worker's GC events recorded (<see cref="GcTrace"/>).</summary>
        public async Task<GcTrace.Round> TraceAsync() =>
            JsonSerializer.Deserialize<GcTrace.Round>(await CallAsync("trace"), FanOutRatio.Json)
            ?? throw new InvalidOperationException("fan-out worker answered null");

        /// <inheritdoc/>
        public async ValueTask DisposeAsync()
        {
            try
            {
                if (!_process.HasExited)
                {
                    await _process.StandardInput.WriteLineAsync("exit");
                    await _process.StandardInput.FlushAsync();
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    await _process.WaitForExitAsync(timeout.Token);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException)
            {
                _process.Kill(entireProcessTree: true);
            }
            finally
            {
                _process.Dispose();
            }
        }

        private async Task<string> CallAsync(string command)
        {
            await _process.StandardInput.WriteLineAsync(command);
            await _process.StandardInput.FlushAsync();
            return await _process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException($"fan-out worker exited (code {(_process.HasExited ? _process.ExitCode : -1)})");
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;

namespace ScrapeDo.Lean.Benchmarks.Rig;

/// <summary>What the out-of-process server serves.</summary>
public enum ServerKind
{
    /// <summary><see cref="CannedServer"/>: pre-encoded bodies, so per-call rows measure the client, not the server.</summary>
    Canned,

    /// <summary>The ScrapeDo.Lean emulator (advanced plan, zero task latency), for fan-out.</summary>
    Emulator,
}

/// <summary>
/// A benchmark server in its own process: this benchmark executable re-launched with <c>--serve</c>
/// (<see cref="ServeMode"/>), pinned to <see cref="Pinning.ServerCore"/> with <c>taskset</c> when that is possible.
/// Keeping Kestrel out of the measured process is what makes client CPU time and allocated bytes the client's own.
/// The child speaks a line protocol on stdin/stdout: it prints <c>ready URL CERT</c> once, answers <c>counters</c>,
/// and stops on <c>stop</c> or end of input (so it also stops when this process dies).
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    /// <summary>Environment variable through which the benchmark host tells BenchmarkDotNet's child processes
    /// (which inherit it) how to start the server: the host's own apphost or dll.</summary>
    public const string HostVariable = "SCRAPEDO_BENCH_SERVER_HOST";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    private readonly Process _process;
    private readonly SemaphoreSlim _protocol = new(1, 1);

    private ServerProcess(Process process, Uri baseAddress, X509Certificate2? certificate, string pinnedTo)
    {
        _process = process;
        BaseAddress = baseAddress;
        Certificate = certificate;
        PinnedTo = pinnedTo;
        ProcessId = process.Id;
    }

    /// <summary>The server's address, e.g. <c>https://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The server's in-memory certificate (public part only), to pin; null for plain HTTP.</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>How the server was placed: "core 1 (taskset)" or why it was not pinned.</summary>
    public string PinnedTo { get; }

    /// <summary>Process id of the server.</summary>
    public int ProcessId { get; }

    /// <summary>True once <see cref="DisposeAsync"/> saw the server exit by itself with code 0 after <c>stop</c>.</summary>
    public bool StoppedCleanly { get; private set; }

    /// <summary>How long the stop took (from <c>stop</c> to exit).</summary>
    public TimeSpan StopTime { get; private set; }

    /// <summary>Starts a server process and waits until it listens.</summary>
    public static async Task<ServerProcess> StartAsync(ServerKind kind, bool https = false, int contentBytes = 2048)
    {
        (string file, List<string> arguments) = HostCommand();
        arguments.AddRange(["--serve", kind == ServerKind.Canned ? "canned" : "emulator", "--content-bytes", contentBytes.ToString(CultureInfo.InvariantCulture)]);
        if (https)
        {
            arguments.Add("--https");
        }

        string pinnedTo = Pinning.WrapServer(ref file, arguments);
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        foreach (string a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        // The server is a plain process: no tiered-PGO surprises from the host's settings leak in.
        info.Environment.Remove("DOTNET_TieredPGO");
        Process process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        using var timeout = new CancellationTokenSource(StartTimeout);
        string? line;
        try
        {
            line = await process.StandardOutput.ReadLineAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"benchmark server did not start within {StartTimeout.TotalSeconds} s");
        }

        string[] parts = line?.Split(' ') ?? [];
        if (parts.Length != 3 || parts[0] != "ready")
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"benchmark server failed to start: '{line}'");
        }

        X509Certificate2? certificate = parts[2] == "-" ? null : X509CertificateLoader.LoadCertificate(Convert.FromBase64String(parts[2]));
        return new ServerProcess(process, new Uri(parts[1]), certificate, pinnedTo);
    }

    /// <summary>The emulator's request counters (total, creates, job polls, task fetches); zeros for the canned server.</summary>
    public async Task<ServerCounters> CountersAsync()
    {
        await _protocol.WaitAsync();
        try
        {
            await _process.StandardInput.WriteLineAsync("counters");
            await _process.StandardInput.FlushAsync();
            string line = await _process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("benchmark server exited");
            long[] v = line.Split(' ').Skip(1).Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            return new ServerCounters(v[0], v[1], v[2], v[3]);
        }
        finally
        {
            _protocol.Release();
        }
    }

    /// <summary>Stops the server: <c>stop</c>, then a bounded wait; killed (and not clean) if it does not exit.</summary>
    public async ValueTask DisposeAsync()
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await _process.StandardInput.WriteLineAsync("stop");
            await _process.StandardInput.FlushAsync();
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // Already gone: the exit code below tells whether that was clean.
        }

        using var timeout = new CancellationTokenSource(StopTimeout);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
            StoppedCleanly = _process.ExitCode == 0;
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            StoppedCleanly = false;
        }

        StopTime = clock.Elapsed;
        _process.Dispose();
        _protocol.Dispose();
    }

    /// <summary>How to run this benchmark program again: the host's apphost, else <c>dotnet</c> with its dll.</summary>
    internal static (string File, List<string> Arguments) HostCommand()
    {
        // BenchmarkDotNet runs benchmarks from a generated project whose folder has no runtimeconfig for this assembly,
        // so the host publishes its own location and the children inherit it.
        string dll = Environment.GetEnvironmentVariable(HostVariable) is { Length: > 0 } published ? published : typeof(ServerProcess).Assembly.Location;
        string apphost = Path.ChangeExtension(dll, null);
        if (File.Exists(apphost) && !OperatingSystem.IsWindows())
        {
            return (apphost, []);
        }

        if (OperatingSystem.IsWindows() && File.Exists(apphost + ".exe"))
        {
            return (apphost + ".exe", []);
        }

        return ("dotnet", ["exec", dll]);
    }
}

/// <summary>Request counts read from the emulator process.</summary>
public readonly record struct ServerCounters(long Total, long Creates, long Polls, long Fetches)
{
    /// <summary>Difference of two readings.</summary>
    public static ServerCounters operator -(ServerCounters a, ServerCounters b) =>
        new(a.Total - b.Total, a.Creates - b.Creates, a.Polls - b.Polls, a.Fetches - b.Fetches);
}

/// <summary>
/// Core placement: the measured process on core 0, the server on core 1, with <c>taskset</c>. Fallback (no taskset, or
/// fewer than 2 cores): nothing is pinned and both share the scheduler, which the output says.
/// </summary>
public static class Pinning
{
    /// <summary>Set in a process that was re-launched under <c>taskset -c 0</c>, so it does not re-launch again.</summary>
    public const string PinnedVariable = "SCRAPEDO_BENCH_PINNED";

    /// <summary>The runtime's tiering delay; the rig sets it to 0 in the processes it measures (see Program.cs).</summary>
    public const string SteadyStateVariable = "DOTNET_TC_CallCountingDelayMs";

    /// <summary>Set when the rig, not the user, set <see cref="SteadyStateVariable"/>.</summary>
    public const string SteadyStateSetByRig = "SCRAPEDO_BENCH_STEADY_STATE";

    /// <summary>The core of the measured (client) process.</summary>
    public const int ClientCore = 0;

    /// <summary>The core of the server process.</summary>
    public const int ServerCore = 1;

    // A process re-launched under taskset sees one CPU; the one that launched it already checked there were two.
    private static readonly Lazy<int> Cpus = new(() => Environment.GetEnvironmentVariable(PinnedVariable) == "1" ? 2 : Environment.ProcessorCount);

    private static readonly Lazy<string?> Taskset = new(() =>
        OperatingSystem.IsLinux() && Cpus.Value >= 2
            ? new[] { "/usr/bin/taskset", "/bin/taskset", "/usr/local/bin/taskset" }.FirstOrDefault(File.Exists)
            : null);

    /// <summary>True when pinning is possible here.</summary>
    public static bool Available => Taskset.Value is not null;

    /// <summary>One line saying how this run is placed, for the report header.</summary>
    public static string Describe() => Available
        ? $"client pinned to core {ClientCore}, server process to core {ServerCore} (taskset)"
        : $"not pinned ({(!OperatingSystem.IsLinux() ? "not Linux" : Cpus.Value < 2 ? $"{Cpus.Value} core(s) available" : "taskset not found")}): client and server share the cores";

    /// <summary>
    /// When pinning is possible and this process is not pinned yet, runs this same command again under
    /// <c>taskset -c 0</c> (so every thread, and BenchmarkDotNet's child processes, inherit core 0) and returns its exit
    /// code; otherwise returns null and the caller goes on in this process.
    /// </summary>
    public static int? RelaunchPinned(string[] args)
    {
        if (!Available || Environment.GetEnvironmentVariable(PinnedVariable) == "1" || Environment.ProcessPath is not { } self)
        {
            return null;
        }

        var info = new ProcessStartInfo(Taskset.Value!) { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(ClientCore.ToString(CultureInfo.InvariantCulture));
        info.ArgumentList.Add(self);
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.ArgumentList.Add(typeof(Pinning).Assembly.Location);
        }

        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment[PinnedVariable] = "1";
        using Process child = Process.Start(info)!;
        child.WaitForExit();
        return child.ExitCode;
    }

    /// <summary>Prefixes a server command with <c>taskset -c 1</c> when possible; returns how it was placed.</summary>
    internal static string WrapServer(ref string file, List<string> arguments)
    {
        if (!Available)
        {
            return "not pinned";
        }

        arguments.InsertRange(0, ["-c", ServerCore.ToString(CultureInfo.InvariantCulture), file]);
        file = Taskset.Value!;
        return $"core {ServerCore} (taskset)";
    }
}

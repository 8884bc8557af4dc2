using System.Globalization;

namespace ScrapeDo.Lean.Benchmarks.Rig;

/// <summary>
/// The rig's part of <c>--ci</c>: both server kinds start in their own process, answer, and stop cleanly (plain and
/// HTTPS), and a small fan-out (1,000 targets, one round) stays at most <see cref="MaxRequestsPerTarget"/> requests per
/// target. The CPU ratio to the floor is printed, never gated: times on a shared CI box are not a verdict.
/// </summary>
internal static class RigGate
{
    public const double MaxRequestsPerTarget = 1.05;

    public static async Task<int> CheckAsync()
    {
        int failures = 0;
        foreach (bool https in new[] { false, true })
        {
            ServerProcess server = await ServerProcess.StartAsync(ServerKind.Canned, https);
            int status;
            using (var http = new HttpClient(BenchTransport.Handler(server.Certificate)) { BaseAddress = server.BaseAddress })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/jobs/" + CannedServer.SmallJob)
                {
                    Version = https ? System.Net.HttpVersion.Version20 : System.Net.HttpVersion.Version11,
                    VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                };
                using HttpResponseMessage response = await http.SendAsync(request);
                status = (int)response.StatusCode;
            }

            await server.DisposeAsync();
            bool ok = status == 200 && server.StoppedCleanly;
            failures += ok ? 0 : 1;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"rig gate: canned server ({(https ? "https, h2" : "http")}) in process {server.ProcessId} on {server.PinnedTo}: answered {status}, stopped {(server.StoppedCleanly ? "cleanly" : "NOT cleanly")} in {server.StopTime.TotalSeconds:0.00} s {(ok ? "ok" : "FAILED")}"));
        }

        FanOutRatio.Result result = await FanOutRatio.RunAsync(new FanOutRatio.Settings(1000, 1, 2048, [BenchTransport.Http], null, Path.Combine("BenchmarkDotNet.Artifacts", "ci"), Warmups: 1));
        foreach (FanOutRatio.Row row in result.Rows)
        {
            bool ok = row.RequestsPerTarget <= MaxRequestsPerTarget && row.Samples.All(s => s.Succeeded == result.Targets);
            failures += ok || !row.Name.Contains("runner", StringComparison.Ordinal) ? 0 : 1;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"rig gate: fan-out {row.Name}: {row.RequestsPerTarget:0.0000} requests/target (limit {MaxRequestsPerTarget}), {row.Samples[0].Succeeded}/{result.Targets} succeeded {(ok ? "ok" : "FAILED")}"));
        }

        FanOutRatio.Row runner = result.Rows.First(r => r.Name.Contains("runner", StringComparison.Ordinal));
        FanOutRatio.Row floor = result.Rows.First(r => r.Name.StartsWith("floor", StringComparison.Ordinal));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rig info (not gated): runner CPU {runner.CpuUsPerTarget:0.0} us/target = {runner.CpuUsPerTarget / floor.CpuUsPerTarget:0.00}x floor; allocated {runner.AllocatedBytesPerTarget:N0} B/target = {runner.AllocatedBytesPerTarget / floor.AllocatedBytesPerTarget:0.00}x floor"));
        failures += result.ServersStoppedCleanly ? 0 : 1;
        Console.WriteLine($"rig gate: emulator process stopped {(result.ServersStoppedCleanly ? "cleanly ok" : "NOT cleanly FAILED")}");
        return failures;
    }
}

using System.Globalization;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.Benchmarks.Rig;

/// <summary>
/// <c>--serve canned|emulator [--https] [--content-bytes N]</c>: the server side of <see cref="ServerProcess"/>.
/// Prints <c>ready URL CERT</c> (CERT is the base64 DER of the public certificate, or <c>-</c>), answers
/// <c>counters</c>, and stops cleanly on <c>stop</c> or end of input.
/// </summary>
internal static class ServeMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        string kind = args[Array.IndexOf(args, "--serve") + 1];
        bool https = args.Contains("--https");
        int contentBytes = Array.IndexOf(args, "--content-bytes") is int i and >= 0 ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : 2048;

        CannedServer? canned = null;
        ScrapeDoEmulator? emulator = null;
        try
        {
            Uri address;
            System.Security.Cryptography.X509Certificates.X509Certificate2? certificate;
            if (kind == "canned")
            {
                canned = await CannedServer.StartAsync(https);
                (address, certificate) = (canned.BaseAddress, canned.Certificate);
            }
            else
            {
                emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
                {
                    Https = https,
                    ContentBytes = contentBytes,
                    Accounts = [new EmulatorAccount(EmulatorOptions.DefaultToken, "advanced", 1_000_000_000_000L)],
                    // Expired jobs are swept on their own clock; a benchmark run never reaches that.
                    Retention = TimeSpan.FromHours(72),
                });
                (address, certificate) = (emulator.BaseAddress, emulator.ServerCertificate);
            }

            string cert = certificate is null ? "-" : Convert.ToBase64String(certificate.RawData);
            Console.Out.WriteLine($"ready {address} {cert}");
            Console.Out.Flush();

            while (await Console.In.ReadLineAsync() is { } line)
            {
                if (line == "stop")
                {
                    break;
                }

                if (line == "counters")
                {
                    EmulatorCounters? c = emulator?.Counters;
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"counters {c?.TotalRequests ?? 0} {c?.Creates ?? 0} {c?.JobPolls ?? 0} {c?.TaskFetches ?? 0}"));
                    Console.Out.Flush();
                }
            }

            return 0;
        }
        finally
        {
            if (canned is not null)
            {
                await canned.DisposeAsync();
            }

            if (emulator is not null)
            {
                await emulator.DisposeAsync();
            }
        }
    }
}

using System.CommandLine;
using System.Globalization;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.Cli;

/// <summary><c>scrapedo emulator</c>: the local Async API in the foreground until Ctrl-C.</summary>
internal static class EmulatorCommand
{
    public static Command Build(CliConsole console)
    {
        // Every value is checked as the command line is parsed (CliValidation), so a bad one is a usage line naming the
        // flag and its range, never the emulator's option property that would refuse it later.
        var port = CliValidation.Int("--port", "Loopback port, 0-65535 (default 5080; 0 picks a free one).", min: 0, max: 65535);
        var token = new Option<string?>("--token") { Description = $"Accepted token (default {EmulatorOptions.DefaultToken})." };
        var plan = CliValidation.OneOf("--plan", "free, hobby, pro, business or advanced (async slots 2, 2, 5, 12, 60; default pro).", [.. EmulatorPlans.Concurrency.Keys]);
        var latency = new Option<string?>("--latency-ms") { Description = "Task latency in ms, N or MIN-MAX (default 0)." };
        var seed = CliValidation.Int("--seed", "Seed of contents, outcomes and faults (default 1).", min: int.MinValue);
        var errorShare = Share("--error-share", "Share of tasks ending in error, 0-1.");
        var rotateShare = Share("--rotate-share", "Share of tasks passing through rotating, 0-1.");
        var contentBytes = CliValidation.Int("--content-bytes", "Size of generated content in bytes, 0-268435456 (default 2048).", min: 0, max: MaxContentBytes);
        var retention = CliValidation.Number("--retention-hours", "Hours task content stays available (default 72).", min: 0, max: MaxRetentionHours);
        var f429 = Share("--fault-429", "Share of requests answered 429 with Retry-After, 0-1.");
        var f5xx = Share("--fault-5xx", "Share answered 500/502/503, 0-1.");
        var fDrop = Share("--fault-drop", "Share whose connection is dropped, 0-1.");
        var fTruncate = Share("--fault-truncate", "Share whose body is cut off, 0-1.");
        var fSlow = Share("--fault-slow", "Share answered slowly, 0-1.");
        var slowMs = CliValidation.Int("--slow-ms", "Delay of slow answers in ms (default 5000).", min: 0);
        var rate = CliValidation.Int("--rate-limit", "Requests per second per token before 429 (0 = none).", min: 0);
        var credits = CliValidation.Long("--credits", "The account's starting credits, 0 or more (default 10000000); tasks are billed by the credit table.", min: 0);
        var creditTable = new Option<string?>("--credit-table") { Description = "JSON file with the prices tasks are billed by (same shape as run --credit-table)." };
        var command = new Command("emulator", """
            Run the local Scrape.do Async API emulator on 127.0.0.1 until Ctrl-C.

            Examples:
              scrapedo emulator
              scrapedo emulator --port 5080 --token dev --plan business --latency-ms 50-400
              scrapedo emulator --fault-429 0.05 --fault-5xx 0.05 --seed 7
            Then: SCRAPEDO_BASE_URL=http://127.0.0.1:5080 SCRAPEDO_TOKEN=dev scrapedo run urls.txt
            URL conventions: ?emulate=error fails a task, ?emulate=rotate makes it rotate, emulate-status=NNN sets the
            target status, emulate-latency=MS its latency; paths ending .png/.jpg/.jpeg/.gif/.pdf/.zip/.bin come back base64.
            """)
        {
            port, token, plan, latency, seed, errorShare, rotateShare, contentBytes, retention, f429, f5xx, fDrop, fTruncate, fSlow, slowMs, rate, credits, creditTable,
        };
        command.SetAction((parse, ct) => CliApp.Guard(console, async () =>
        {
            (TimeSpan min, TimeSpan max) = Latency(parse.GetValue(latency));
            string acceptedToken = parse.GetValue(token) ?? EmulatorOptions.DefaultToken;
            string planName = parse.GetValue(plan) ?? "pro";

            if ((parse.GetValue(f429) ?? 0) + (parse.GetValue(f5xx) ?? 0) + (parse.GetValue(fDrop) ?? 0) + (parse.GetValue(fTruncate) ?? 0) + (parse.GetValue(fSlow) ?? 0) > 1)
            {
                throw new CliException("--fault-429, --fault-5xx, --fault-drop, --fault-truncate and --fault-slow are shares of the same requests: together they must be at most 1.");
            }

            if (string.IsNullOrWhiteSpace(acceptedToken))
            {
                throw new CliException("--token is empty; give the token the emulator should accept, or leave --token out for the default.");
            }

            EmulatorOptions options;
            try
            {
                options = new EmulatorOptions
                {
                    Port = parse.GetValue(port) ?? DefaultPort,
                    Accounts = [new EmulatorAccount(acceptedToken, planName, parse.GetValue(credits) ?? DefaultCredits)],
                    CreditTable = parse.GetValue(creditTable) is { } table ? CostOptions.LoadTable(table) : null,
                    Seed = parse.GetValue(seed) ?? 1,
                    TaskLatencyMin = min,
                    TaskLatencyMax = max,
                    TaskErrorShare = parse.GetValue(errorShare) ?? 0,
                    TaskRotateShare = parse.GetValue(rotateShare) ?? 0,
                    ContentBytes = parse.GetValue(contentBytes) ?? 2048,
                    Retention = TimeSpan.FromHours(parse.GetValue(retention) ?? 72),
                    Faults = new FaultOptions
                    {
                        RateLimitShare = parse.GetValue(f429) ?? 0,
                        ServerErrorShare = parse.GetValue(f5xx) ?? 0,
                        DropShare = parse.GetValue(fDrop) ?? 0,
                        TruncateShare = parse.GetValue(fTruncate) ?? 0,
                        SlowShare = parse.GetValue(fSlow) ?? 0,
                        SlowDelay = TimeSpan.FromMilliseconds(parse.GetValue(slowMs) ?? 5000),
                        RequestsPerSecondPerToken = parse.GetValue(rate) ?? 0,
                    },
                };
                await using ScrapeDoEmulator emulator = await ScrapeDoEmulator.StartAsync(options, ct).ConfigureAwait(false);
                // The emulator's token is a local test value, chosen by the user; printing it is what makes it usable.
                console.Error.WriteLine($"scrapedo emulator listening on {emulator.BaseAddress} (plan {planName}, token '{acceptedToken}'). Ctrl-C stops it.");
                console.Error.WriteLine($"  try: SCRAPEDO_BASE_URL={emulator.BaseAddress.ToString().TrimEnd('/')} SCRAPEDO_TOKEN={acceptedToken} scrapedo account");
                await emulator.RunUntilCanceledAsync(ct).ConfigureAwait(false);
                console.Error.WriteLine($"scrapedo emulator stopped after {emulator.Counters.TotalRequests} requests, {emulator.Counters.Jobs} jobs.");
            }
            catch (IOException ex)
            {
                throw new CliException($"cannot listen on 127.0.0.1:{parse.GetValue(port) ?? DefaultPort}: {ex.Message}");
            }

            return ExitCodes.Success;
        }, CancellationToken.None));
        return command;
    }

    private const int DefaultPort = 5080;
    private const int MaxContentBytes = 256 * 1024 * 1024;

    private const long DefaultCredits = 10_000_000;

    // A day: far past any test, and far from the TimeSpan overflow of a typo like 99999999999999999999.
    private const double MaxLatencyMs = 24 * 60 * 60 * 1000;

    // Ten years: far past any test, and far from the TimeSpan overflow a typo like 1e300 would otherwise hit.
    private const double MaxRetentionHours = 24 * 365 * 10;

    private static Option<double?> Share(string name, string description) => CliValidation.Number(name, description, min: 0, max: 1);

    private static (TimeSpan, TimeSpan) Latency(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return (TimeSpan.Zero, TimeSpan.Zero);
        }

        string[] parts = text.Split('-', 2);
        if (!double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double a)
            || (parts.Length == 2 && !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
        {
            throw new CliException($"--latency-ms '{text}' is not N or MIN-MAX (milliseconds).");
        }

        double b = parts.Length == 2 ? double.Parse(parts[1], CultureInfo.InvariantCulture) : a;
        if (!double.IsFinite(a) || !double.IsFinite(b) || a < 0 || b < a)
        {
            throw new CliException($"--latency-ms '{text}' must satisfy 0 <= MIN <= MAX.");
        }

        if (b > MaxLatencyMs)
        {
            throw new CliException(string.Create(CultureInfo.InvariantCulture, $"--latency-ms '{text}': at most {MaxLatencyMs} ms (a day)."));
        }

        return (TimeSpan.FromMilliseconds(a), TimeSpan.FromMilliseconds(b));
    }
}

using System.CommandLine;
using System.Globalization;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.Cli;

/// <summary><c>scrapedo emulator</c>: the local Async API in the foreground until Ctrl-C.</summary>
internal static class EmulatorCommand
{
    public static Command Build(CliConsole console)
    {
        var port = new Option<int>("--port") { Description = "Loopback port (default 5080; 0 picks a free one).", DefaultValueFactory = _ => 5080 };
        var token = new Option<string?>("--token") { Description = $"Accepted token (default {EmulatorOptions.DefaultToken})." };
        var plan = new Option<string>("--plan") { Description = "free, hobby, pro, business or advanced (async slots 2, 2, 5, 12, 60).", DefaultValueFactory = _ => "pro" };
        var latency = new Option<string?>("--latency-ms") { Description = "Task latency in ms, N or MIN-MAX (default 0)." };
        var seed = new Option<int>("--seed") { Description = "Seed of contents, outcomes and faults.", DefaultValueFactory = _ => 1 };
        var errorShare = new Option<double>("--error-share") { Description = "Share of tasks ending in error, 0-1." };
        var rotateShare = new Option<double>("--rotate-share") { Description = "Share of tasks passing through rotating, 0-1." };
        var contentBytes = new Option<int>("--content-bytes") { Description = "Size of generated content (default 2048).", DefaultValueFactory = _ => 2048 };
        var retention = new Option<double>("--retention-hours") { Description = "Hours task content stays available (default 72).", DefaultValueFactory = _ => 72 };
        var f429 = new Option<double>("--fault-429") { Description = "Share of requests answered 429 with Retry-After." };
        var f5xx = new Option<double>("--fault-5xx") { Description = "Share answered 500/502/503." };
        var fDrop = new Option<double>("--fault-drop") { Description = "Share whose connection is dropped." };
        var fTruncate = new Option<double>("--fault-truncate") { Description = "Share whose body is cut off." };
        var fSlow = new Option<double>("--fault-slow") { Description = "Share answered slowly." };
        var slowMs = new Option<int>("--slow-ms") { Description = "Delay of slow answers (default 5000).", DefaultValueFactory = _ => 5000 };
        var rate = new Option<int>("--rate-limit") { Description = "Requests per second per token before 429 (0 = none)." };
        var credits = new Option<long>("--credits") { Description = "The account's starting credits (default 10000000); tasks are billed by the credit table.", DefaultValueFactory = _ => 10_000_000 };
        var creditTable = new Option<string?>("--credit-table") { Description = "JSON file with the prices tasks are billed by (same shape as run --credit-table)." };
        var command = new Command("emulator", """
            Run the local Scrape.do Async API emulator on 127.0.0.1 until Ctrl-C.

            Examples:
              scrapedo emulator
              scrapedo emulator --port 5080 --token dev --plan business --latency-ms 50-400
              scrapedo emulator --fault-429 0.05 --fault-5xx 0.05 --seed 7
            Then: SCRAPEDO_BASE_URL=http://127.0.0.1:5080 SCRAPEDO_TOKEN=dev scrapedo run urls.txt
            URL conventions: ?emulate=error fails a task, ?emulate=rotate makes it rotate, emulate-status=NNN sets the
            target status, emulate-latency=MS its latency; paths ending .png/.jpg/.pdf/.zip/.bin come back base64.
            """)
        {
            port, token, plan, latency, seed, errorShare, rotateShare, contentBytes, retention, f429, f5xx, fDrop, fTruncate, fSlow, slowMs, rate, credits, creditTable,
        };
        command.SetAction((parse, ct) => CliApp.Guard(console, async () =>
        {
            (TimeSpan min, TimeSpan max) = Latency(parse.GetValue(latency));
            string acceptedToken = parse.GetValue(token) ?? EmulatorOptions.DefaultToken;
            string planName = parse.GetValue(plan)!;
            if (parse.GetValue(credits) < 0)
            {
                throw new CliException("--credits must be 0 or more.");
            }

            EmulatorOptions options;
            try
            {
                options = new EmulatorOptions
                {
                    Port = parse.GetValue(port),
                    Accounts = [new EmulatorAccount(acceptedToken, planName, parse.GetValue(credits))],
                    CreditTable = parse.GetValue(creditTable) is { } table ? CostOptions.LoadTable(table) : null,
                    Seed = parse.GetValue(seed),
                    TaskLatencyMin = min,
                    TaskLatencyMax = max,
                    TaskErrorShare = parse.GetValue(errorShare),
                    TaskRotateShare = parse.GetValue(rotateShare),
                    ContentBytes = parse.GetValue(contentBytes),
                    Retention = TimeSpan.FromHours(parse.GetValue(retention)),
                    Faults = new FaultOptions
                    {
                        RateLimitShare = parse.GetValue(f429),
                        ServerErrorShare = parse.GetValue(f5xx),
                        DropShare = parse.GetValue(fDrop),
                        TruncateShare = parse.GetValue(fTruncate),
                        SlowShare = parse.GetValue(fSlow),
                        SlowDelay = TimeSpan.FromMilliseconds(parse.GetValue(slowMs)),
                        RequestsPerSecondPerToken = parse.GetValue(rate),
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
                throw new CliException($"cannot listen on 127.0.0.1:{parse.GetValue(port)}: {ex.Message}");
            }

            return ExitCodes.Success;
        }, CancellationToken.None));
        return command;
    }

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
        if (a < 0 || b < a)
        {
            throw new CliException($"--latency-ms '{text}' must satisfy 0 <= MIN <= MAX.");
        }

        return (TimeSpan.FromMilliseconds(a), TimeSpan.FromMilliseconds(b));
    }
}

// The runner with nothing after it: reads the targets file named by its one argument, runs them against
// SCRAPEDO_BASE_URL with SCRAPEDO_TOKEN (the CLI's variables) through ScrapeDoRunner with its defaults, takes each
// outcome and drops it, and prints how many succeeded. What `scrapedo run` adds on top of this (reading input
// lines, writing JSON lines, the progress line, the preflight call) is the CLI's own cost.
using ScrapeDo.Lean;

if (args.Length != 1 || Environment.GetEnvironmentVariable("SCRAPEDO_BASE_URL") is not { Length: > 0 } baseUrl)
{
    Console.Error.WriteLine("usage: SCRAPEDO_BASE_URL=URL SCRAPEDO_TOKEN=TOKEN runner-probe TARGETS_FILE");
    return 2;
}

using var client = new ScrapeDoClient(new ScrapeDoClientOptions
{
    Token = Environment.GetEnvironmentVariable("SCRAPEDO_TOKEN"),
    BaseAddress = new Uri(baseUrl),
});
int succeeded = 0, total = 0;
await foreach (TaskOutcome outcome in new ScrapeDoRunner(client).RunAsync(File.ReadLines(args[0])))
{
    total++;
    succeeded += outcome.Status == OutcomeStatus.Success ? 1 : 0;
}

Console.WriteLine($"{succeeded} of {total} succeeded");
return succeeded == total ? 0 : 1;

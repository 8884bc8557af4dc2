// Size probe: the smallest real app built on ScrapeDo.Lean's client and runner. Scrapes the URLs given after the
// base address and prints one line per outcome. Published native AOT by .ci/size-probe; not meant to be run in CI.
using ScrapeDo.Lean;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: sizeprobe-lean BASE_URL URL...   (token in SCRAPEDO_TOKEN)");
    return 2;
}

using var client = new ScrapeDoClient(new ScrapeDoClientOptions
{
    Token = Environment.GetEnvironmentVariable("SCRAPEDO_TOKEN"),
    BaseAddress = new Uri(args[0]),
});
int failed = 0;
await foreach (TaskOutcome outcome in new ScrapeDoRunner(client).RunAsync(args[1..]))
{
    // Only members that outlive the runner's outcome-type rework (ToString, Details), so the probe builds on either side.
    failed += outcome.Details is { } task && task.Status == ScrapeDoStatus.Success ? 0 : 1;
    Console.WriteLine($"{outcome} {outcome.Details?.Content.Length ?? 0}");
}

return failed == 0 ? 0 : 1;

// <using-the-library>
using ScrapeDo.Lean;

using var client = new ScrapeDoClient(new ScrapeDoClientOptions
{
    Token = Environment.GetEnvironmentVariable("SCRAPEDO_TOKEN"),
    BaseAddress = Environment.GetEnvironmentVariable("SCRAPEDO_BASE_URL") is { Length: > 0 } url ? new Uri(url) : ScrapeDoClientOptions.DefaultBaseAddress,
});

// One job, by hand: create it, poll until it has finished, then fetch a task with its content.
CreateJobResponse job = await client.CreateJobAsync(new CreateJobRequest
{
    Targets = ["https://example.com/", "https://example.org/"],
    GeoCode = "us",
    Render = new RenderOptions { WaitUntil = WaitUntilEvent.NetworkIdle0, PlayWithBrowser = [BrowserAction.Click("#accept")] },
});
JobDetails details = await client.GetJobAsync(job.JobId);
while (!details.Status.IsTerminal)
{
    await Task.Delay(TimeSpan.FromSeconds(1));
    details = await client.GetJobAsync(job.JobId);
}

TaskDetails task = await client.GetTaskAsync(job.JobId, job.TaskIds[0]);
await using (FileStream file = File.Create("page.html"))
{
    await task.CopyContentToAsync(file); // base64 is decoded for binary targets
}

// Any number of targets: chunked, polled adaptively, each result exactly once, resumable through the journal.
var runner = new ScrapeDoRunner(client, new RunOptions { JournalPath = "run.journal", Resume = true });
await foreach (TaskOutcome outcome in runner.RunAsync(File.ReadLines("urls.txt"), new CreateJobRequest { Super = true }))
{
    Console.WriteLine($"{outcome.Target}: {outcome.StatusText} {outcome.StatusCode}");
}

// Plugins have typed parameter builders (the raw passthrough is PluginParams.FromJson). A journal records one input,
// so a run over other input gets a runner of its own (here without a journal).
var plugins = new ScrapeDoRunner(client);
await foreach (TaskOutcome product in plugins.RunPluginAsync(PluginKeys.AmazonProductDetail, [AmazonPlugin.ProductDetail("B0C7BKZ883", "us", "10001")]))
{
    Console.WriteLine($"{product.Target}: {product.StatusText}");
}
// </using-the-library>

// <lease-content>
// Contents straight to a sink, each from a pooled buffer instead of a fresh array per task.
var leasing = new ScrapeDoRunner(client, new RunOptions { LeaseContent = true });
await using FileStream sink = File.Create("contents.bin");
await foreach (TaskOutcome outcome in leasing.RunAsync(File.ReadLines("urls.txt")))
{
    using TaskContentLease? content = outcome.ContentLease; // null when the task returned no content
    if (content is not null)
    {
        await sink.WriteAsync(content.Memory); // the bytes of TaskContent.Utf8: UTF-8, base64 when Base64EncodedContent
    }
}
// </lease-content>

// <leased-task>
// One task at a time, the same way: the content in a pooled buffer, given back when the LeasedTask is disposed.
using (LeasedTask leased = await client.GetLeasedTaskAsync(job.JobId, job.TaskIds[1]))
{
    await using FileStream file = File.Create("page2.html");
    await leased.CopyContentToAsync(file); // base64 is decoded for binary targets, as with TaskDetails
}
// </leased-task>

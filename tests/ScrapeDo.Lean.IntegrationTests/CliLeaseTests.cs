using System.Text;
using System.Text.Json;
using ScrapeDo.Lean.Cli;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.IntegrationTests;

/// <summary>
/// <c>scrapedo run</c> takes each content as a <see cref="TaskContentLease"/> (a record copies the bytes out, so a
/// fresh array per task would only be garbage): its records and content files hold exactly what the API returned, and
/// every lease goes back to the pool, whether the run succeeds, writes files or meets a full disk. In the lease
/// collection because <see cref="TaskContentLease.Outstanding"/> counts process-wide.
/// </summary>
[Collection(nameof(LeaseCounting))]
public sealed class CliLeaseTests : IDisposable
{
    // Past the 85,000-byte large-object threshold: the size where a fresh array per task costs the most.
    private const int PageBytes = 100_000;

    private readonly string _dir = Directory.CreateTempSubdirectory("scrapedo-cli-lease-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Input(int pages)
    {
        var lines = new StringBuilder();
        for (int i = 0; i < pages; i++)
        {
            lines.Append(i % 4 == 1 ? $"https://a.example/{i}.png\n" : i % 4 == 2 ? $"https://a.example/{i}?emulate=error\n" : $"https://a.example/{i}\n");
        }

        string path = Path.Combine(_dir, "urls.txt");
        File.WriteAllText(path, lines.ToString());
        return path;
    }

    private static string[] Connection(ScrapeDoEmulator emulator) => ["--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken, "--quiet"];

    [Fact]
    public async Task Records_hold_the_api_content_byte_for_byte_and_every_lease_is_returned()
    {
        long before = TaskContentLease.Outstanding, created = TaskContentLease.Created;
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { ContentBytes = PageBytes });
        string output = Path.Combine(_dir, "out.jsonl");

        CliResult result = await CliHarness.RunAsync(["run", Input(12), "-o", output, .. Connection(emulator)]);

        Assert.Equal(ExitCodes.SomeFailed, result.ExitCode);
        Assert.Equal(before, TaskContentLease.Outstanding);
        // One lease per content: the records were written from leases, not from a fresh array per task.
        Assert.Equal(9, TaskContentLease.Created - created);
        using var client = Support.Client(emulator);
        string[] lines = File.ReadAllLines(output);
        Assert.Equal(12, lines.Length);
        int withContent = 0;
        foreach (string line in lines)
        {
            using var record = JsonDocument.Parse(line);
            JsonElement root = record.RootElement;
            TaskDetails details = await client.GetTaskAsync(root.GetProperty("jobId").GetString()!, root.GetProperty("taskId").GetString()!, Support.Timeout());
            if (details.Content.IsEmpty)
            {
                Assert.Equal(JsonValueKind.Null, root.GetProperty("content").ValueKind);
                continue;
            }

            withContent++;
            Assert.Equal(details.Content.ToString(), root.GetProperty("content").GetString());
            Assert.Equal(details.Base64EncodedContent, root.GetProperty("base64").GetBoolean());
        }

        Assert.Equal(9, withContent);
    }

    [Fact]
    public async Task Content_files_are_byte_exact_and_every_lease_is_returned()
    {
        long before = TaskContentLease.Outstanding;
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { ContentBytes = PageBytes });
        string output = Path.Combine(_dir, "out.jsonl");
        string contentDir = Path.Combine(_dir, "content");

        CliResult result = await CliHarness.RunAsync(["run", Input(8), "-o", output, "--content-dir", contentDir, .. Connection(emulator)]);

        Assert.Equal(ExitCodes.SomeFailed, result.ExitCode);
        Assert.Equal(before, TaskContentLease.Outstanding);
        using var client = Support.Client(emulator);
        var files = new List<string>();
        foreach (string line in File.ReadAllLines(output))
        {
            using var record = JsonDocument.Parse(line);
            JsonElement root = record.RootElement;
            if (root.GetProperty("contentFile").GetString() is not { } file)
            {
                continue;
            }

            files.Add(file);
            TaskDetails details = await client.GetTaskAsync(root.GetProperty("jobId").GetString()!, root.GetProperty("taskId").GetString()!, Support.Timeout());
            Assert.Equal(details.GetContentBytes(), await File.ReadAllBytesAsync(file));
        }

        Assert.Equal(6, files.Count);
        Assert.Equal(2, files.Count(f => f.EndsWith(".png", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_sink_that_fails_returns_every_lease_it_did_not_write()
    {
        if (!File.Exists("/dev/full"))
        {
            return; // Linux only: /dev/full fails every write with ENOSPC.
        }

        long before = TaskContentLease.Outstanding;
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { ContentBytes = PageBytes });

        CliResult result = await CliHarness.RunAsync(["run", Input(12), "-o", "/dev/full", .. Connection(emulator)]);

        Assert.Equal(ExitCodes.Fatal, result.ExitCode);
        Assert.StartsWith("scrapedo: error: writing --output '/dev/full' failed: No space left on device", result.Error.Trim(), StringComparison.Ordinal);
        Assert.Equal(before, TaskContentLease.Outstanding);
    }
}

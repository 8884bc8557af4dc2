using System.Text.Json;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.IntegrationTests;

/// <summary>
/// Resumes from a journal written by the runner before it was split into stages (commit c503391: a 250-target run,
/// 100 per job, abandoned after 120 outcomes). The journal format must keep reading such files.
/// </summary>
public class JournalFixtureTests
{
    private const int Targets = 250;
    private static readonly string[] Urls = Support.Urls(Targets, "https://fixture.example/page");
    private static readonly RunOptions Options = new() { MaxTargetsPerJob = 100, Resume = true, CancelJobsOnCancellation = false, FirstPollDelay = TimeSpan.FromMilliseconds(20), MinPollInterval = TimeSpan.FromMilliseconds(20), MaxPollInterval = TimeSpan.FromMilliseconds(200) };

    private static string[] FixtureLines() => File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "journal-before-split.jsonl"));

    [Fact]
    public async Task A_journal_written_before_the_split_resumes_with_one_outcome_per_undelivered_target_and_no_new_job()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        using var client = Support.Client(emulator);
        string[] lines = FixtureLines();
        // The fixture's jobs lived on an emulator that is gone: recreate each journaled job with the same targets on
        // this one and point the journal at it (ids only; every other byte stays as the old runner wrote it).
        var jobOfChunk = new Dictionary<int, string>();
        var rewritten = new List<string>();
        foreach (string line in lines)
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            JsonElement e = doc.RootElement;
            if (e.GetProperty("t").GetString() != "created")
            {
                rewritten.Add(line);
                continue;
            }

            int chunk = e.GetProperty("c").GetInt32();
            string[] oldTasks = e.GetProperty("tasks").EnumerateArray().Select(t => t.GetString()!).ToArray();
            CreateJobResponse created = await client.CreateJobAsync(new CreateJobRequest { Targets = Urls.Skip(chunk * 100).Take(oldTasks.Length).ToArray() }, Support.Timeout());
            string text = line.Replace(e.GetProperty("job").GetString()!, created.JobId, StringComparison.Ordinal);
            for (int i = 0; i < oldTasks.Length; i++)
            {
                text = text.Replace(oldTasks[i], created.TaskIds[i], StringComparison.Ordinal);
            }

            jobOfChunk[chunk] = created.JobId;
            rewritten.Add(text);
        }

        var done = lines.Where(l => l.Contains("\"t\":\"done\"", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("x").GetInt64()).ToHashSet();
        Assert.Equal(120, done.Count);
        Assert.Equal(3, jobOfChunk.Count);
        string journal = Path.Combine(Path.GetTempPath(), $"scrapedo-fixture-{Guid.NewGuid():N}.jsonl");
        try
        {
            // A crash also tore the last line.
            await File.WriteAllTextAsync(journal, string.Join('\n', rewritten) + "\n{\"t\":\"done\",\"x\":");
            var outcomes = new List<TaskOutcome>();
            await foreach (TaskOutcome o in new ScrapeDoRunner(client, WithJournal(journal)).RunAsync(Urls, cancellationToken: Support.Timeout()))
            {
                outcomes.Add(o);
            }

            Assert.Equal(Enumerable.Range(0, Targets).Select(i => (long)i).Where(i => !done.Contains(i)), outcomes.Select(o => o.InputIndex).Order());
            Assert.All(outcomes, o => Assert.Equal(OutcomeStatus.Success, o.Status));
            Assert.All(outcomes, o => Assert.Equal(Urls[o.InputIndex], o.Target));
            Assert.All(outcomes, o => Assert.Equal(jobOfChunk[(int)(o.InputIndex / 100)], o.JobId));
            Assert.Equal(3, emulator.Counters.Jobs);

            // Resumed to the end: a further resume has nothing left to do.
            await foreach (TaskOutcome o in new ScrapeDoRunner(client, WithJournal(journal)).RunAsync(Urls, cancellationToken: Support.Timeout()))
            {
                Assert.Fail($"Unexpected outcome {o}");
            }
        }
        finally
        {
            File.Delete(journal);
        }
    }

    private static RunOptions WithJournal(string journal) => new()
    {
        MaxTargetsPerJob = Options.MaxTargetsPerJob,
        Resume = true,
        JournalPath = journal,
        CancelJobsOnCancellation = false,
        FirstPollDelay = Options.FirstPollDelay,
        MinPollInterval = Options.MinPollInterval,
        MaxPollInterval = Options.MaxPollInterval,
    };
}

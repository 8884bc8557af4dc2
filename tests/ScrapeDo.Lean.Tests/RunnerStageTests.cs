using System.Text.Json;
using ScrapeDo.Lean.Internal.Runner;

namespace ScrapeDo.Lean.Tests;

/// <summary>The runner's stages that can be tested alone: the snapshot diff, the reconcile decision, the acknowledgement.</summary>
public class RunnerStageTests
{
    private static List<RunItem> Items(int count) => Enumerable.Range(0, count).Select(i => new RunItem(i, $"https://site.example/{i}", null)).ToList();

    private static TaskSummary Summary(string id, string status, string? url = null) => new() { TaskId = id, Status = status, Url = url };

    private static ChunkTasks Table(int count) => new("job-1", Enumerable.Range(0, count).Select(i => $"t{i}").ToArray(), Items(count));

    [Fact]
    public void Snapshot_diff_names_each_unclaimed_finished_task_once_with_its_status()
    {
        ChunkTasks tasks = Table(5);
        Assert.True(tasks.TryClaim(1));
        var found = new List<FinishedTask>();

        SnapshotDiff.FindFinished([Summary("t0", "success"), Summary("t1", "success"), Summary("t2", "pending"), Summary("t3", "canceled"), Summary("t4", "error")], tasks, found);

        Assert.Equal([new FinishedTask(0, ScrapeDoStatus.Success), new FinishedTask(3, ScrapeDoStatus.Canceled), new FinishedTask(4, ScrapeDoStatus.Error)], found);
        Assert.Equal(4, tasks.Remaining); // the diff takes no claims
    }

    [Fact]
    public void Snapshot_diff_matches_tasks_by_id_when_the_snapshot_is_reordered_or_short()
    {
        ChunkTasks tasks = Table(4);
        var found = new List<FinishedTask>();

        // Reordered, one task missing, one foreign task: positions come from the ids, never from the order.
        SnapshotDiff.FindFinished([Summary("t3", "success"), Summary("x9", "success"), Summary("t0", "error"), Summary("t2", "queued")], tasks, found);

        Assert.Equal([new FinishedTask(0, ScrapeDoStatus.Error), new FinishedTask(3, ScrapeDoStatus.Success)], found);
    }

    [Fact]
    public void Snapshot_diff_of_an_unchanged_snapshot_after_claims_is_empty()
    {
        ChunkTasks tasks = Table(3);
        TaskSummary[] snapshot = [Summary("t0", "success"), Summary("t1", "success"), Summary("t2", "success")];
        var found = new List<FinishedTask>();
        SnapshotDiff.FindFinished(snapshot, tasks, found);
        foreach (FinishedTask f in found)
        {
            Assert.True(tasks.TryClaim(f.Index));
        }

        found.Clear();
        SnapshotDiff.FindFinished(snapshot, tasks, found);

        Assert.Empty(found);
        Assert.Equal(0, tasks.Remaining);
    }

    private static JobDetails Job(string id, params string[] urls) => new()
    {
        JobId = id,
        TaskIds = urls.Select((_, i) => $"{id}-t{i}").ToArray(),
        Tasks = urls.Select((u, i) => Summary($"{id}-t{i}", "queued", u)).ToArray(),
    };

    [Fact]
    public void Reconcile_adopts_the_first_unclaimed_job_with_exactly_these_targets_in_order()
    {
        string[] targets = ["https://a.example/1", "https://a.example/2"];
        JobDetails[] listing =
        [
            Job("other-order", "https://a.example/2", "https://a.example/1"),
            Job("fewer", "https://a.example/1"),
            Job("claimed", targets),
            Job("ours", targets),
            Job("older-twin", targets),
        ];

        ReconcileDecision decision = CreateReconciler.Decide(listing, targets, plugin: false, isClaimed: id => id == "claimed");

        Assert.Equal("ours", decision.Adopt?.JobId);
    }

    [Fact]
    public void Reconcile_reads_a_listing_without_a_match_as_absent()
    {
        string[] targets = ["https://a.example/1"];
        Assert.Null(CreateReconciler.Decide([Job("j", "https://b.example/1"), Job("k", "https://a.example/1")], targets, plugin: false, id => id == "k").Adopt);
        Assert.Null(CreateReconciler.Decide([], targets, plugin: false, _ => false).Adopt);
    }

    [Fact]
    public async Task Acknowledgement_journals_done_in_the_order_the_consumer_takes_outcomes_and_never_on_emit()
    {
        string path = Path.Combine(Path.GetTempPath(), $"scrapedo-ack-{Guid.NewGuid():N}.jsonl");
        try
        {
            using var client = TestSupport.Client(new RichardSzalay.MockHttp.MockHttpMessageHandler());
            await using (RunJournal journal = await RunJournal.OpenAsync(path, resume: false, chunkSize: 10, TestSupport.Timeout()))
            {
                var delivery = new OutcomeDelivery(8, journal, new ProgressReporter(client, null), TestSupport.Timeout());
                List<RunItem> items = Items(3);
                foreach (RunItem item in items)
                {
                    await delivery.EmitAsync(OutcomeDelivery.Failed(item, "x", null));
                }

                delivery.Complete();
                Assert.Empty(DoneMarks(path)); // emitted is not delivered

                var taken = new List<TaskOutcome>();
                await foreach (TaskOutcome o in delivery.ReadAllAsync())
                {
                    taken.Add(o);
                }

                foreach (TaskOutcome o in new[] { taken[2], taken[0], taken[1] })
                {
                    await delivery.AcknowledgeAsync(o);
                }
            }

            Assert.Equal([2L, 0L, 1L], DoneMarks(path));

            // On resume, what was acknowledged is never handed out again.
            await using RunJournal resumed = await RunJournal.OpenAsync(path, resume: true, chunkSize: 10, TestSupport.Timeout());
            var again = new OutcomeDelivery(8, resumed, new ProgressReporter(client, null), TestSupport.Timeout());
            Assert.True(again.WasDelivered(1));
            await again.EmitAsync(OutcomeDelivery.Failed(new RunItem(1, "https://site.example/1", null), "x", null));
            await again.EmitAsync(OutcomeDelivery.Failed(new RunItem(3, "https://site.example/3", null), "x", null));
            again.Complete();
            var second = new List<long>();
            await foreach (TaskOutcome o in again.ReadAllAsync())
            {
                second.Add(o.InputIndex);
            }

            Assert.Equal([3L], second);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static List<long> DoneMarks(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var marks = new List<long>();
        while (reader.ReadLine() is { } line)
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            if (doc.RootElement.GetProperty("t").GetString() == "done")
            {
                marks.Add(doc.RootElement.GetProperty("x").GetInt64());
            }
        }

        return marks;
    }
}

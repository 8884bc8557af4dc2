using RichardSzalay.MockHttp;
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

    [Fact]
    public void The_task_table_re_pairs_tasks_with_targets_by_the_url_each_task_reports()
    {
        ChunkTasks tasks = Table(3);
        // The job listed its tasks (and TaskIDs) in another order than the targets.
        TaskSummary[] snapshot = [Summary("t0", "queued", "https://site.example/2"), Summary("t1", "queued", "https://site.example/0"), Summary("t2", "queued", "https://site.example/1")];

        Assert.True(tasks.TryAlignByUrl(snapshot));

        Assert.Equal(["t1", "t2", "t0"], tasks.TaskIds);
        Assert.Equal(2, tasks.IndexOf("t0"));
        Assert.False(tasks.TryAlignByUrl(snapshot)); // already paired
    }

    [Fact]
    public void The_task_table_keeps_its_pairing_when_the_snapshot_cannot_prove_another()
    {
        ChunkTasks tasks = Table(3);
        Assert.False(tasks.TryAlignByUrl([Summary("t0", "queued", "https://site.example/2"), Summary("t1", "queued", "https://site.example/0")])); // a task left out
        Assert.False(tasks.TryAlignByUrl([Summary("t0", "queued", "https://site.example/2"), Summary("x", "queued", "https://site.example/0"), Summary("t2", "queued", "https://site.example/1")])); // not this job's tasks
        Assert.False(tasks.TryAlignByUrl([Summary("t0", "queued", "https://site.example/2"), Summary("t1", "queued", "https://other.example/"), Summary("t2", "queued", "https://site.example/1")])); // another URL
        Assert.Equal(["t0", "t1", "t2"], tasks.TaskIds);
    }

    private static readonly DateTimeOffset Sent = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    private static JobDetails Job(string id, double startedSecondsAfterSend, params string?[] urls) => new()
    {
        JobId = id,
        StartTime = Sent.AddSeconds(startedSecondsAfterSend),
        TaskIds = urls.Select((_, i) => $"{id}-t{i}").ToArray(),
        Tasks = urls.Select((u, i) => Summary($"{id}-t{i}", "queued", u)).ToArray(),
    };

    private static ReconcileDecision Decide(IEnumerable<JobDetails> listing, string?[] expected, bool windowOver = false, string? claimed = null) =>
        CreateReconciler.Decide(listing, expected, Sent, windowOver, id => id == claimed);

    [Fact]
    public void Reconcile_adopts_the_unclaimed_job_with_these_task_urls_that_started_closest_to_the_send()
    {
        string[] targets = ["https://a.example/1", "https://a.example/2"];
        JobDetails[] listing =
        [
            Job("foreign-twin", 0.05, targets),        // another client's job with the same targets, a little later
            Job("fewer", 0.01, "https://a.example/1"),
            Job("claimed", 0.0, targets),             // another chunk's job
            Job("ours", 0.02, targets[1], targets[0]), // tasks listed in another order: still ours, aligned by URL
            Job("old-run", -120, targets),
        ];

        ReconcileDecision decision = Decide(listing, targets, claimed: "claimed");

        Assert.Equal(ReconcileVerdict.Adopt, decision.Verdict);
        Assert.Equal("ours", decision.JobId);
        Assert.Equal(["ours-t1", "ours-t0"], decision.TaskIds);
    }

    [Fact]
    public void Reconcile_proves_absence_only_with_a_listing_taken_after_the_window()
    {
        string[] targets = ["https://a.example/1"];
        JobDetails[] listing = [Job("other", 0.1, "https://b.example/1")];

        Assert.Equal(ReconcileVerdict.Wait, Decide(listing, targets).Verdict);
        Assert.Equal(ReconcileVerdict.Absent, Decide(listing, targets, windowOver: true).Verdict);
        Assert.Equal(ReconcileVerdict.Absent, Decide([Job("claimed", 0.1, targets)], targets, windowOver: true, claimed: "claimed").Verdict);
    }

    [Fact]
    public void Reconcile_never_adopts_a_job_it_cannot_tell_apart_and_never_calls_it_absent()
    {
        // A plugin whose task URL we cannot predict: a job with the right task count may be ours or another client's.
        string?[] unknown = [null, null];
        JobDetails[] listing = [Job("lookalike", 0.1, "https://x.example/a", "https://x.example/b")];
        Assert.Equal(ReconcileVerdict.Wait, Decide(listing, unknown).Verdict);
        ReconcileDecision after = Decide(listing, unknown, windowOver: true);
        Assert.Equal(ReconcileVerdict.Unresolvable, after.Verdict);
        Assert.Contains("lookalike", after.Reason);

        // A listing that leaves out task URLs tells nothing either.
        string[] targets = ["https://a.example/1", "https://a.example/2"];
        Assert.Equal(ReconcileVerdict.Unresolvable, Decide([Job("no-urls", 0.1, null, null)], targets, windowOver: true).Verdict);
    }

    [Fact]
    public void Plugin_jobs_are_matched_on_the_task_urls_the_server_builds_from_the_params()
    {
        PluginParams mine = AmazonPlugin.ProductDetail("B0C7BKZ883", "us", "10001");
        PluginParams theirs = AmazonPlugin.ProductDetail("B0C7BKZ883-foreign", "us", "10001");
        string? url = TargetUrls.ForPlugin(PluginKeys.AmazonProductDetail, mine);
        Assert.Equal("https://www.amazon.com/dp/B0C7BKZ883", url);
        Assert.Null(TargetUrls.ForPlugin("some/unknown-plugin", mine));

        JobDetails[] listing = [Job("foreign", 0.01, TargetUrls.ForPlugin(PluginKeys.AmazonProductDetail, theirs)), Job("ours", 0.02, url)];
        ReconcileDecision decision = Decide(listing, [url]);
        Assert.Equal("ours", decision.JobId);
        Assert.Equal(ReconcileVerdict.Absent, Decide(listing[..1], [url], windowOver: true).Verdict);
    }

    [Fact]
    public void Task_urls_compare_as_the_same_target_across_harmless_rewrites_only()
    {
        Assert.True(TargetUrls.Same("https://Site.Example/a%20b?q=1#frag", "https://site.example/a b?q=1"));
        Assert.True(TargetUrls.Same("https://site.example", "https://site.example:443/"));
        Assert.False(TargetUrls.Same("https://site.example/1", "https://site.example/2"));
        Assert.False(TargetUrls.Same("https://site.example/a?x=1", "https://site.example/a?x=2"));
    }

    [Fact]
    public async Task A_task_that_reports_another_url_than_its_target_is_never_labelled_with_that_target()
    {
        using var client = TestSupport.Client(new RichardSzalay.MockHttp.MockHttpMessageHandler());
        var delivery = new OutcomeDelivery(4, null, new ProgressReporter(client, null), checkTaskUrls: true, TestSupport.Timeout());
        RunItem item = new(0, "https://site.example/0", null);
        await delivery.EmitAsync(new TaskOutcome { InputIndex = 0, Target = item.Target, Status = OutcomeStatus.Success, JobId = "j", TaskId = "t", Details = new TaskDetails { TaskId = "t", JobId = "j", Url = "https://site.example/7", Status = "success" } });
        await delivery.EmitAsync(new TaskOutcome { InputIndex = 1, Target = "https://site.example/1", Status = OutcomeStatus.Success, JobId = "j", TaskId = "u", Details = new TaskDetails { TaskId = "u", JobId = "j", Url = "https://site.example/1", Status = "success" } });
        delivery.Complete();
        var outcomes = new List<TaskOutcome>();
        await foreach (TaskOutcome o in delivery.ReadAllAsync())
        {
            outcomes.Add(o);
        }

        Assert.Equal(OutcomeStatus.Failed, outcomes[0].Status);
        Assert.Null(outcomes[0].Details);
        Assert.Contains("https://site.example/7", outcomes[0].Reason);
        Assert.Equal(OutcomeStatus.Success, outcomes[1].Status);
    }

    /// <summary>Runs one reconcile against a scripted listing on fake time; returns the decision and when each listing was read.</summary>
    private static async Task<(ReconcileDecision Decision, List<TimeSpan> Looks)> ReconcileOnFakeTimeAsync(Func<int, string> listingForLook)
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Sent);
        var looks = new List<TimeSpan>();
        var mock = new RichardSzalay.MockHttp.MockHttpMessageHandler();
        mock.When(TestSupport.Base + "api/v1/jobs").Respond(_ =>
        {
            looks.Add(time.GetUtcNow() - Sent);
            return new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StringContent(listingForLook(looks.Count), System.Text.Encoding.UTF8, "application/json") };
        });
        using var client = TestSupport.Client(mock, time);
        var options = new RunOptions { ReconcileWindow = TimeSpan.FromSeconds(10) };
        var reconciler = new CreateReconciler(client, options, pluginKey: null, TestSupport.Timeout());
        List<RunItem> items = Items(1);
        var chunk = new TargetChunk(0, items, [items[0].Target], "");

        ReconcileDecision decision = await TestSupport.DriveAsync(time, reconciler.ReconcileAsync(chunk, Sent, reconciler.Fence, sentTimestamp: time.GetTimestamp()), TimeSpan.FromMilliseconds(100));
        return (decision, looks);
    }

    private const string EmptyListing = """{"Jobs":[],"TotalCount":0,"PageSize":100,"PageNumber":1,"TotalPages":0}""";

    [Fact]
    public async Task Reconcile_looks_at_growing_intervals_and_calls_a_create_absent_only_after_the_window()
    {
        (ReconcileDecision decision, List<TimeSpan> looks) = await ReconcileOnFakeTimeAsync(_ => EmptyListing);

        Assert.Equal(ReconcileVerdict.Absent, decision.Verdict);
        // The driver moves the fake clock in 100 ms steps whether or not the reconcile has set its next timer yet, so
        // on a loaded machine a look can come one step late (seen in CI: 0.6 s); never early, never more than a step.
        double[] schedule = [0.5, 1.5, 3.5, 7.5, 10.0];
        Assert.Equal(schedule.Length, looks.Count);
        for (int i = 0; i < schedule.Length; i++)
        {
            Assert.InRange(looks[i].TotalSeconds, schedule[i], schedule[i] + 0.1 + 1e-9);
        }
    }

    [Fact]
    public async Task Reconcile_adopts_a_job_that_lists_late_at_the_first_look_that_shows_it()
    {
        string job = $$"""{"Jobs":[{"JobID":"late","TaskIDs":["a"],"Status":"queued","StartTime":"{{Sent.AddSeconds(2.5):O}}","Tasks":[{"TaskID":"a","URL":"https://site.example/0","Status":"queued"}]}],"TotalCount":1,"PageSize":100,"PageNumber":1,"TotalPages":1}""";
        (ReconcileDecision decision, List<TimeSpan> looks) = await ReconcileOnFakeTimeAsync(look => look >= 3 ? job : EmptyListing);

        Assert.Equal(ReconcileVerdict.Adopt, decision.Verdict);
        Assert.Equal("late", decision.JobId);
        Assert.Equal(["a"], decision.TaskIds);
        Assert.Equal(3, looks.Count);
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
                var delivery = new OutcomeDelivery(8, journal, new ProgressReporter(client, null), checkTaskUrls: false, TestSupport.Timeout());
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
            var again = new OutcomeDelivery(8, resumed, new ProgressReporter(client, null), checkTaskUrls: false, TestSupport.Timeout());
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

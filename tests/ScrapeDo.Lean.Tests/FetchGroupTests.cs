using ScrapeDo.Lean.Internal.Runner;

namespace ScrapeDo.Lean.Tests;

/// <summary>The fetch queue of one chunk: positions in order, and tasks that end only when the last fetch ended.</summary>
public class FetchGroupTests
{
    private static FetchGroup Group(int count)
    {
        var items = Enumerable.Range(0, count).Select(i => new RunItem(i, $"https://a.example/{i}", null)).ToList();
        return new ChunkTasks("job", items.Select(i => $"task-{i.Index}").ToArray(), items).Fetches;
    }

    [Fact]
    public async Task A_fetch_started_after_the_fetcher_is_disposed_still_ends()
    {
        using var client = TestSupport.Client(new RichardSzalay.MockHttp.MockHttpMessageHandler());
        var delivery = new OutcomeDelivery(4, null, new ProgressReporter(client, null), checkTaskUrls: true, TestSupport.Timeout());
        var fetcher = new TaskFetcher(client, new RunOptions(), delivery, CancellationToken.None);
        var items = new List<RunItem> { new(0, "https://a.example/0", null) };
        var tasks = new ChunkTasks("job", ["task-0"], items);
        fetcher.Dispose();

        Assert.True(tasks.TryClaim(0));
        Task fetch = await fetcher.StartAsync(tasks, 0);

        // Not reachable from a run (it disposes the fetcher last), but nothing queued may be left without its end.
        await Assert.ThrowsAsync<ObjectDisposedException>(() => fetch.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Positions_come_out_in_order_and_the_first_queued_says_offer_the_group()
    {
        FetchGroup group = Group(3);
        group.Started(2, out bool firstIdle);
        group.Started(0, out bool secondIdle);
        Assert.True(firstIdle);
        Assert.False(secondIdle);

        Assert.True(group.TryTake(out int a, out bool more));
        Assert.Equal((2, true), (a, more));
        Assert.True(group.TryTake(out int b, out more));
        Assert.Equal((0, false), (b, more));
        Assert.False(group.TryTake(out _, out _));

        // Empty again: the next position must be offered again.
        group.Started(1, out bool idleAgain);
        Assert.True(idleAgain);
    }

    [Fact]
    public async Task The_stretch_task_ends_after_the_last_fetch_with_the_first_real_failure()
    {
        FetchGroup group = Group(3);
        Task first = group.Started(0, out _);
        Task second = group.Started(1, out _);
        Assert.Same(Task.CompletedTask, second);

        Task third = group.Started(2, out _);
        Assert.Same(Task.CompletedTask, third);

        group.Ended(new OperationCanceledException());
        group.Ended(new InvalidOperationException("boom"));
        Assert.False(first.IsCompleted);
        group.Ended(null);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => first);
        Assert.Equal("boom", error.Message);
    }

    [Fact]
    public async Task A_new_stretch_gets_a_new_task_and_cancellation_alone_cancels_it()
    {
        FetchGroup group = Group(2);
        Task first = group.Started(0, out _);
        group.Ended(null);
        await first;

        Task second = group.Started(1, out _);
        Assert.NotSame(first, second);
        Assert.False(second.IsCompleted);
        group.Ended(new OperationCanceledException());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
        Assert.True(second.IsCanceled);
    }
}

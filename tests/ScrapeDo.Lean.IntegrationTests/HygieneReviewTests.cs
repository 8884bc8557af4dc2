using System.Collections.Concurrent;
using System.Text;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.IntegrationTests;

/// <summary>
/// A single-threaded SynchronizationContext as a UI thread or a legacy ASP.NET request has: what is posted to it runs
/// only when its thread pumps. A thread blocked in GetResult() never pumps, so a continuation posted here deadlocks.
/// <see cref="Release"/> hands queued and later posts to the thread pool so a deadlocked test can end.
/// </summary>
internal sealed class BlockedThreadContext : SynchronizationContext
{
    private readonly ConcurrentQueue<(SendOrPostCallback Callback, object? State)> _queue = new();
    private volatile bool _released;
    private int _posts;

    public int Posts => Volatile.Read(ref _posts);

    public override void Post(SendOrPostCallback d, object? state)
    {
        Interlocked.Increment(ref _posts);
        if (_released)
        {
            ThreadPool.QueueUserWorkItem(_ => d(state));
            return;
        }

        _queue.Enqueue((d, state));
    }

    public override void Send(SendOrPostCallback d, object? state) => d(state);

    public void Release()
    {
        _released = true;
        while (_queue.TryDequeue(out var item))
        {
            var (callback, state) = item;
            ThreadPool.QueueUserWorkItem(_ => callback(state));
        }
    }

    /// <summary>Runs <paramref name="body"/> on a new thread that has this context installed; true when it ended within the time.</summary>
    public static (bool Finished, int Posts, Exception? Error) RunBlocking(Action body, TimeSpan within)
    {
        var context = new BlockedThreadContext();
        Exception? error = null;
        var thread = new Thread(() =>
        {
            SynchronizationContext.SetSynchronizationContext(context);
            try
            {
                body();
            }
            catch (Exception ex)
            {
                error = ex;
            }
        })
        { IsBackground = true };
        thread.Start();
        bool finished = thread.Join(within);
        int posts = context.Posts;
        if (!finished)
        {
            context.Release();
            thread.Join(TimeSpan.FromSeconds(30));
        }

        return (finished, posts, error);
    }
}

/// <summary>Library hygiene as a service embedding the runner sees it, from a review (session 20): a consumer on a
/// single-threaded context, blocking inputs, trickling inputs, WithCancellation, one client shared by many callers.
/// Tests marked "expected sound" passed before any change and guard what was checked.</summary>
public sealed class HygieneReviewTests
{
    private static readonly RunOptions Fast = new()
    {
        MaxJobsInFlight = 2,
        FirstPollDelay = TimeSpan.FromMilliseconds(20),
        MinPollInterval = TimeSpan.FromMilliseconds(20),
        MaxPollInterval = TimeSpan.FromMilliseconds(200),
    };

    /// <summary>
    /// Before the fix: ScrapeDoRunner.RunCoreAsync: <c>await using var session = new RunPipeline(...)</c> awaits the session's
    /// DisposeAsync without ConfigureAwait(false). A consumer on a single-threaded context that stops early and
    /// disposes the enumerator synchronously deadlocks: the continuation after DisposeAsync is posted to its
    /// blocked thread.
    /// </summary>
    [Fact]
    public async Task Stopping_a_run_early_on_a_single_threaded_context_does_not_post_back_to_it()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions());
        using var client = Support.Client(emulator);
        var runner = new ScrapeDoRunner(client, Fast);
        string[] urls = Support.Urls(20);

        var (finished, posts, error) = BlockedThreadContext.RunBlocking(() =>
        {
            IAsyncEnumerator<TaskOutcome> e = runner.RunAsync(urls).GetAsyncEnumerator();
            Assert.True(e.MoveNextAsync().AsTask().GetAwaiter().GetResult());
            // The consumer has what it needed and stops (what `break` in a sync wrapper does).
            e.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }, TimeSpan.FromSeconds(20));

        Assert.Null(error);
        Assert.True(finished && posts == 0, $"finished={finished}, continuations posted to the caller's context={posts}");
    }

    /// <summary>The client's own calls, blocked on from a single-threaded context: expected sound.</summary>
    [Fact]
    public async Task Client_calls_blocked_on_from_a_single_threaded_context_do_not_deadlock()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions());
        using var client = Support.Client(emulator);

        var (finished, posts, error) = BlockedThreadContext.RunBlocking(() =>
        {
            client.GetAccountAsync().GetAwaiter().GetResult();
            CreateJobResponse job = client.CreateJobAsync(new CreateJobRequest { Targets = ["https://site.example/a"] }).GetAwaiter().GetResult();
            client.GetJobAsync(job.JobId).GetAwaiter().GetResult();
            client.ListJobsAsync().GetAwaiter().GetResult();
            IAsyncEnumerator<JobDetails> all = client.ListAllJobsAsync().GetAsyncEnumerator();
            while (all.MoveNextAsync().AsTask().GetAwaiter().GetResult())
            {
            }

            all.DisposeAsync().AsTask().GetAwaiter().GetResult();
            var receiver = new ScrapeDoWebhookReceiver(ScrapeDoWebhookReceiver.NewSecret());
            receiver.ParseAsync(new MemoryStream(Encoding.UTF8.GetBytes("""{"JobID":"j","TaskID":"t","Status":"success","Content":"x"}"""))).AsTask().GetAwaiter().GetResult();
        }, TimeSpan.FromSeconds(30));

        Assert.Null(error);
        Assert.True(finished && posts == 0, $"finished={finished}, posts={posts}");
    }

    /// <summary>WithCancellation's token (not the parameter) stops a run and a listing: expected sound.</summary>
    [Fact]
    public async Task WithCancellation_stops_a_run_and_a_job_listing()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { TaskLatencyMin = TimeSpan.FromSeconds(30), TaskLatencyMax = TimeSpan.FromSeconds(30) });
        using var client = Support.Client(emulator);
        var runner = new ScrapeDoRunner(client, Fast);

        using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(500)))
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            {
                await foreach (TaskOutcome _ in runner.RunAsync(Support.Urls(5)).WithCancellation(cts.Token))
                {
                }
            });
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(15), $"took {started.Elapsed}");
        }

        using (var cts = new CancellationTokenSource())
        {
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            {
                await foreach (JobDetails _ in client.ListAllJobsAsync().WithCancellation(cts.Token))
                {
                }
            });
        }
    }

    /// <summary>One client shared by many concurrent callers: every answer is its own call's. Expected sound.</summary>
    [Fact]
    public async Task One_client_shared_by_many_concurrent_callers_answers_each_call_with_its_own_job()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Accounts = [new EmulatorAccount(EmulatorOptions.DefaultToken, "advanced")] });
        using var client = Support.Client(emulator);
        CreateJobResponse[] jobs = await Task.WhenAll(Enumerable.Range(0, 24).Select(i =>
            client.CreateJobAsync(new CreateJobRequest { Targets = [$"https://site.example/{i}/a", $"https://site.example/{i}/b"] }, Support.Timeout())));
        Assert.Equal(24, jobs.Select(j => j.JobId).Distinct().Count());

        await Parallel.ForEachAsync(Enumerable.Range(0, 480), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            CreateJobResponse job = jobs[i % jobs.Length];
            JobDetails details = await client.GetJobAsync(job.JobId, Support.Timeout());
            Assert.Equal(job.JobId, details.JobId);
            Assert.Equal(job.TaskIds, details.TaskIds);
        });
    }

    /// <summary>
    /// Before the fix: RunAsync(IEnumerable) documents its token as "stops the run promptly". The input is read on the producer task
    /// (RunPipeline.ProduceAsync over ScrapeDoRunner.ToAsync, which takes no token), and the run's DisposeAsync awaits
    /// that producer: with a lazy input that blocks (a BlockingCollection's consuming enumerable, File.ReadLines on a
    /// pipe), a canceled run never ends until the input yields again.
    /// </summary>
    [Fact]
    public async Task Canceling_a_run_over_a_blocking_lazy_input_ends_it_promptly()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions());
        using var client = Support.Client(emulator);
        var runner = new ScrapeDoRunner(client, Fast);
        using var input = new System.Collections.Concurrent.BlockingCollection<string>();
        input.Add("https://site.example/first");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1)); // the service shuts down a second in

        Task<Exception?> run = Task.Run(() => Record.ExceptionAsync(async () =>
        {
            await foreach (TaskOutcome _ in runner.RunAsync(input.GetConsumingEnumerable(), cancellationToken: cts.Token))
            {
            }
        }));

        Task first = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(30)));
        bool ended = first == run;
        input.CompleteAdding(); // let a hung run end
        Assert.True(ended, "the canceled run had not ended 30 s later (waiting on the blocked input)");
        Assert.IsAssignableFrom<OperationCanceledException>(await run);
    }

    /// <summary>
    /// Before the fix: TargetChunker yields a chunk only when it holds MaxTargetsPerJob targets or the input ends; nothing flushes a
    /// partial chunk after a while. A service that feeds a long-lived channel (the WorkerSample does, and leaves it open
    /// unless Worker:StopWhenDone) gets no job, and no outcome, for its first 999 URLs.
    /// </summary>
    [Fact]
    public async Task Targets_trickling_in_through_an_open_channel_are_scraped_without_waiting_for_1000()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions());
        using var client = Support.Client(emulator);
        var runner = new ScrapeDoRunner(client, Fast);
        var urls = System.Threading.Channels.Channel.CreateUnbounded<string>();
        foreach (string url in Support.Urls(3))
        {
            await urls.Writer.WriteAsync(url);
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var outcomes = new List<TaskOutcome>();
        try
        {
            await foreach (TaskOutcome outcome in runner.RunAsync(urls.Reader.ReadAllAsync(cts.Token), cancellationToken: cts.Token))
            {
                outcomes.Add(outcome);
                if (outcomes.Count == 3)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        Assert.True(outcomes.Count == 3, $"{outcomes.Count} of 3 outcomes after 20 s; jobs created: {emulator.Counters.Jobs}");
    }
}
